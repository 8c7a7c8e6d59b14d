//! What each write asks for, already validated: the arguments of the
//! use-case functions in `store`.
//!
//! Every edge builds these values with the parsers of [`super::text`] and
//! [`super::ids`] (the GraphQL inputs in `graphql/inputs.rs`, the CSV rows of
//! `import.rs`, the demo data of `demo.rs`), so a command that exists is well
//! formed: text is NFC, trimmed and within its limits, codes are upper-case,
//! ids are decoded. Rules that need the database (a province exists, the
//! caller may write this row, the status move is allowed) are checked by the
//! use-case function itself, the same for every edge.
//!
//! `expected_version` is the client's optimistic-concurrency check; `None`
//! (the import and the demo seed, inside their own transaction) applies the
//! change to the row as it is.

use chrono::NaiveDate;
use serde::Serialize;

use super::enums::{
    AwardCategory, CommitmentStatus, CurriculumKind, CurriculumStatus, EnrolmentStatus, FocusArea, MouStatus,
    PartyRole, ProgrammeStatus, ProgrammeTheme, TourismTier,
};
use super::text::{self, limits};
use crate::error::AppError;

/// A contact person of a community (personal data).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// The person's name.
    pub name: String,
    /// A phone number.
    pub phone: Option<String>,
    /// An email address.
    pub email: Option<String>,
}

impl Contact {
    /// Validates a contact (`contact.name` is required).
    pub fn parse(name: &str, phone: Option<&str>, email: Option<&str>) -> Result<Contact, AppError> {
        Ok(Contact {
            name: text::required("contact.name", name, limits::CONTACT_NAME)?,
            phone: text::optional("contact.phone", phone, limits::PHONE)?,
            email: text::email("contact.email", email)?,
        })
    }
}

/// A Model Community Enterprise award.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Award {
    /// The year it was won (Gregorian).
    pub year: i32,
    /// Its category.
    pub category: AwardCategory,
    /// Its title.
    pub title: Option<String>,
}

impl Award {
    /// Validates an award (years 1950–2100).
    pub fn parse(year: i32, category: AwardCategory, title: Option<&str>) -> Result<Award, AppError> {
        if !(1950..=2100).contains(&year) {
            return Err(AppError::bad_input("awards.year", "year must be between 1950 and 2100"));
        }
        Ok(Award { year, category, title: text::optional("awards.title", title, limits::NAME)? })
    }

    /// Checks the length of a list of awards.
    pub fn list(awards: Vec<Award>) -> Result<Vec<Award>, AppError> {
        if awards.len() > 50 {
            return Err(AppError::bad_input("awards", "at most 50 awards"));
        }
        Ok(awards)
    }
}

/// A new community.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewCommunity {
    pub code: String,
    pub name_th: String,
    pub name_en: Option<String>,
    /// An ISO 3166-2 code, upper-cased; that it is a Thai province is checked on write.
    pub province_code: String,
    pub district: Option<String>,
    pub subdistrict: Option<String>,
    pub village_no: Option<i32>,
    pub households: Option<i32>,
    pub description: Option<String>,
    /// Needs `communities:pii`.
    pub contact: Option<Contact>,
    pub awards: Vec<Award>,
    /// CDD's tier, set at creation (needs `communities:classify`); the API
    /// classifies separately, the import and the demo data in one go.
    pub tier: Option<TourismTier>,
}

/// Changes to a community; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CommunityChanges {
    pub id: i64,
    pub expected_version: Option<i32>,
    pub name_th: Option<String>,
    pub name_en: Option<Option<String>>,
    /// The API does not move communities; the import may.
    pub province_code: Option<String>,
    pub district: Option<Option<String>>,
    pub subdistrict: Option<Option<String>>,
    pub village_no: Option<Option<i32>>,
    pub households: Option<Option<i32>>,
    pub description: Option<Option<String>>,
    /// Needs `communities:pii`.
    pub contact: Option<Contact>,
    pub awards: Option<Vec<Award>>,
    /// A new tier when it differs (needs `communities:classify`); the API
    /// classifies with [`Classification`] instead, the import in one go.
    pub tier: Option<Option<TourismTier>>,
}

/// CDD's classification of a community (`None` clears it).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Classification {
    pub id: i64,
    pub expected_version: Option<i32>,
    pub tier: Option<TourismTier>,
}

/// A party of a new MOU.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MouParty {
    /// The organisation's code, upper-cased.
    pub organization_code: String,
    pub role: PartyRole,
}

/// A new MOU (DRAFT).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewMou {
    pub code: String,
    pub title_th: String,
    pub title_en: Option<String>,
    pub purpose: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// 1–20 distinct organisations, exactly one LEAD.
    pub parties: Vec<MouParty>,
}

impl NewMou {
    /// Checks the party list: 1 to 20, each organisation once, exactly one LEAD.
    pub fn check_parties(parties: &[MouParty]) -> Result<(), AppError> {
        if parties.is_empty() || parties.len() > 20 {
            return Err(AppError::bad_input("parties", "an MOU has 1 to 20 parties"));
        }
        let mut codes: Vec<&str> = parties.iter().map(|p| p.organization_code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        if codes.len() != parties.len() {
            return Err(AppError::bad_input("parties", "an organisation may be listed only once"));
        }
        if parties.iter().filter(|p| p.role == PartyRole::Lead).count() != 1 {
            return Err(AppError::bad_input("parties", "an MOU has exactly one LEAD party"));
        }
        Ok(())
    }
}

/// Changes to an MOU's terms, or a status move.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MouChanges {
    pub id: i64,
    pub expected_version: Option<i32>,
    pub title_th: Option<String>,
    pub title_en: Option<Option<String>>,
    pub purpose: Option<Option<String>>,
    pub status: Option<MouStatus>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
}

/// A party's signature on a NEGOTIATING MOU.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Signature {
    pub mou_id: i64,
    pub expected_version: Option<i32>,
}

/// A new commitment under an MOU.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewCommitment {
    pub mou_id: i64,
    pub description: String,
    /// The owing party's code, upper-cased.
    pub owner_code: String,
    pub due_on: Option<NaiveDate>,
}

/// Changes to a commitment.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CommitmentChanges {
    pub id: i64,
    pub expected_version: Option<i32>,
    pub description: Option<String>,
    pub status: Option<CommitmentStatus>,
    pub due_on: Option<NaiveDate>,
}

/// A new programme (PLANNED); the caller's organisation leads it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewProgramme {
    pub code: String,
    pub name_th: String,
    pub name_en: Option<String>,
    pub theme: ProgrammeTheme,
    pub mou_id: Option<i64>,
    /// Partner organisations' codes, upper-cased.
    pub partner_codes: Vec<String>,
    pub target_tiers: Vec<TourismTier>,
    pub capacity: Option<i32>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// At most 50 curriculum ids, decoded, sorted, distinct.
    pub curriculum_ids: Vec<i64>,
}

/// Changes to a programme.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProgrammeChanges {
    pub id: i64,
    pub expected_version: Option<i32>,
    pub name_th: Option<String>,
    pub name_en: Option<Option<String>>,
    pub status: Option<ProgrammeStatus>,
    pub partner_codes: Option<Vec<String>>,
    pub target_tiers: Option<Vec<TourismTier>>,
    pub capacity: Option<i32>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub curriculum_ids: Option<Vec<i64>>,
}

/// One module of a curriculum.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Module {
    pub title: String,
    pub hours: Option<f64>,
    pub objectives: Option<String>,
}

impl Module {
    /// Validates a module (hours between 0 and 10,000).
    pub fn parse(title: &str, hours: Option<f64>, objectives: Option<&str>) -> Result<Module, AppError> {
        if let Some(h) = hours
            && !(h.is_finite() && (0.0..=10_000.0).contains(&h))
        {
            return Err(AppError::bad_input("modules.hours", "hours must be between 0 and 10000"));
        }
        Ok(Module {
            title: text::required("modules.title", title, limits::NAME)?,
            hours,
            objectives: text::optional("modules.objectives", objectives, limits::LONG)?,
        })
    }

    /// Checks the length of a module list.
    pub fn list(modules: Vec<Module>) -> Result<Vec<Module>, AppError> {
        if modules.len() > 100 {
            return Err(AppError::bad_input("modules", "at most 100 modules"));
        }
        Ok(modules)
    }
}

/// Checks that a curriculum has at least one focus area.
pub fn focus_areas(areas: Vec<FocusArea>) -> Result<Vec<FocusArea>, AppError> {
    if areas.is_empty() {
        return Err(AppError::bad_input("focusAreas", "a curriculum has at least one focus area"));
    }
    Ok(areas)
}

/// A new curriculum (DRAFT); the caller's organisation owns it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewCurriculum {
    pub code: String,
    pub title_th: String,
    pub title_en: Option<String>,
    pub kind: CurriculumKind,
    pub focus_areas: Vec<FocusArea>,
    pub contributor_codes: Vec<String>,
    pub modules: Vec<Module>,
    /// At most 200 community ids, decoded, sorted, distinct.
    pub model_community_ids: Vec<i64>,
}

/// Changes to a curriculum.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CurriculumChanges {
    pub id: i64,
    pub expected_version: Option<i32>,
    pub title_th: Option<String>,
    pub title_en: Option<Option<String>>,
    pub status: Option<CurriculumStatus>,
    pub focus_areas: Option<Vec<FocusArea>>,
    pub contributor_codes: Option<Vec<String>>,
    pub modules: Option<Vec<Module>>,
    pub model_community_ids: Option<Vec<i64>>,
}

/// A nomination of a community into an OPEN programme.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Nomination {
    pub programme_id: i64,
    pub community_id: i64,
    pub curriculum_id: Option<i64>,
    pub note: Option<String>,
}

/// A move of an enrolment along its lifecycle.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EnrolmentMove {
    pub id: i64,
    pub expected_version: Option<i32>,
    pub to: EnrolmentStatus,
    pub note: Option<String>,
}

/// Upper-cases and trims organisation codes.
pub fn org_codes(codes: &[String]) -> Vec<String> {
    codes.iter().map(|c| c.trim().to_uppercase()).collect()
}

/// Decodes, sorts and de-duplicates ids of `kind` given in `field`, at most `max` of them.
pub fn id_list(ids: &[impl AsRef<str>], kind: super::ids::Kind, field: &str, max: usize) -> Result<Vec<i64>, AppError> {
    let mut wanted =
        ids.iter().map(|id| super::ids::decode(kind, id.as_ref(), field)).collect::<Result<Vec<_>, _>>()?;
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.len() > max {
        return Err(AppError::bad_input(field, format!("at most {max} ids")));
    }
    Ok(wanted)
}
