//! The input shapes of the mutations, as the contract names them, and their
//! validation into the domain's commands (`domain::commands`): the edge
//! where GraphQL input becomes a well-formed value, once, before any SQL
//! runs (NFC text within its limits, upper-case codes, decoded ids, ordered
//! dates). The use-case functions in `store` take only commands.

use async_graphql::{ID, InputObject};
use serde::Serialize;

use crate::domain::commands::{self as cmd, Award, Contact, Module};
use crate::domain::enums::*;
use crate::domain::ids::{self, Kind};
use crate::domain::text::{self, limits};
use crate::error::AppError;
use crate::graphql::date::{Date, naive};

/// An award won by a community.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct AwardInput {
    /// The year it was won (Gregorian).
    pub year: i32,
    /// The award's category.
    pub category: AwardCategory,
    /// The award's title, if it has one.
    pub title: Option<String>,
}

/// Contact details of a community (personal data: needs `communities:pii`).
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct ContactInput {
    /// The contact person's name.
    pub name: String,
    /// A phone number.
    pub phone: Option<String>,
    /// An email address.
    pub email: Option<String>,
}

/// A new community.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct CreateCommunityInput {
    /// A unique code, letters, digits, `-` and `_`.
    pub code: String,
    /// The Thai name.
    pub name_th: String,
    /// The English name.
    pub name_en: Option<String>,
    /// The province's ISO 3166-2 code, e.g. `TH-57`.
    pub province_code: String,
    /// The district (amphoe).
    pub district: Option<String>,
    /// The subdistrict (tambon).
    pub subdistrict: Option<String>,
    /// The village number (moo).
    pub village_no: Option<i32>,
    /// How many households.
    pub households: Option<i32>,
    /// A description.
    pub description: Option<String>,
    /// Contact details (needs `communities:pii`).
    pub contact: Option<ContactInput>,
    /// Awards won.
    pub awards: Option<Vec<AwardInput>>,
}

/// Changes to a community; absent fields stay as they are.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct UpdateCommunityInput {
    /// The community's id.
    pub id: ID,
    /// The version the change is based on; a stale one fails with `CONFLICT`.
    pub expected_version: i32,
    /// The Thai name.
    pub name_th: Option<String>,
    /// The English name.
    pub name_en: Option<String>,
    /// The district.
    pub district: Option<String>,
    /// The subdistrict.
    pub subdistrict: Option<String>,
    /// The village number.
    pub village_no: Option<i32>,
    /// How many households.
    pub households: Option<i32>,
    /// A description.
    pub description: Option<String>,
    /// Contact details (needs `communities:pii`).
    pub contact: Option<ContactInput>,
    /// Awards won: replaces the whole list.
    pub awards: Option<Vec<AwardInput>>,
}

/// CDD's tourism classification of a community.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct ClassifyCommunityInput {
    /// The community's id.
    pub id: ID,
    /// The version the change is based on.
    pub expected_version: i32,
    /// The tier; null clears the classification.
    pub tier: Option<TourismTier>,
}

/// A party of a new MOU.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct MouPartyInput {
    /// The organisation's code.
    pub organization_code: String,
    /// Its role.
    pub role: PartyRole,
}

/// A new MOU. The caller's organisation must be one of the parties.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct CreateMouInput {
    /// A unique code.
    pub code: String,
    /// The Thai title.
    pub title_th: String,
    /// The English title.
    pub title_en: Option<String>,
    /// What the MOU is for.
    pub purpose: Option<String>,
    /// When it starts.
    pub starts_on: Option<Date>,
    /// When it ends.
    pub ends_on: Option<Date>,
    /// The parties, in order; exactly one LEAD.
    pub parties: Vec<MouPartyInput>,
}

/// Changes to an MOU.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct UpdateMouInput {
    /// The MOU's id.
    pub id: ID,
    /// The version the change is based on.
    pub expected_version: i32,
    /// The Thai title.
    pub title_th: Option<String>,
    /// The English title.
    pub title_en: Option<String>,
    /// What the MOU is for.
    pub purpose: Option<String>,
    /// A status move: DRAFT → NEGOTIATING or SIGNED → TERMINATED.
    pub status: Option<MouStatus>,
    /// When it starts.
    pub starts_on: Option<Date>,
    /// When it ends.
    pub ends_on: Option<Date>,
}

/// The caller's organisation signs an MOU.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct SignMouInput {
    /// The MOU's id.
    pub id: ID,
    /// The version the signature is based on.
    pub expected_version: i32,
}

/// A new commitment under an MOU.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct CreateCommitmentInput {
    /// The MOU's id.
    pub mou_id: ID,
    /// What is owed.
    pub description: String,
    /// The code of the party that owes it.
    pub owner_code: String,
    /// When it is due.
    pub due_on: Option<Date>,
}

/// Changes to a commitment.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct UpdateCommitmentInput {
    /// The commitment's id.
    pub id: ID,
    /// The version the change is based on.
    pub expected_version: i32,
    /// What is owed.
    pub description: Option<String>,
    /// OPEN → DONE | DROPPED, DONE → OPEN.
    pub status: Option<CommitmentStatus>,
    /// When it is due.
    pub due_on: Option<Date>,
}

/// A new programme. The caller's organisation becomes its lead.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct CreateProgrammeInput {
    /// A unique code.
    pub code: String,
    /// The Thai name.
    pub name_th: String,
    /// The English name.
    pub name_en: Option<String>,
    /// The theme.
    pub theme: ProgrammeTheme,
    /// The MOU it runs under; the caller and partners must be its parties.
    pub mou_id: Option<ID>,
    /// Partner organisations' codes.
    pub partner_codes: Option<Vec<String>>,
    /// The tiers that may be nominated; empty for any.
    pub target_tiers: Option<Vec<TourismTier>>,
    /// The most ENROLLED, IN_PROGRESS and COMPLETED enrolments.
    pub capacity: Option<i32>,
    /// When it starts.
    pub starts_on: Option<Date>,
    /// When it ends.
    pub ends_on: Option<Date>,
    /// Curricula it uses.
    pub curriculum_ids: Option<Vec<ID>>,
}

/// Changes to a programme.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct UpdateProgrammeInput {
    /// The programme's id.
    pub id: ID,
    /// The version the change is based on.
    pub expected_version: i32,
    /// The Thai name.
    pub name_th: Option<String>,
    /// The English name.
    pub name_en: Option<String>,
    /// PLANNED → OPEN | CLOSED, OPEN → CLOSED.
    pub status: Option<ProgrammeStatus>,
    /// Partner organisations' codes (lead only): replaces the list.
    pub partner_codes: Option<Vec<String>>,
    /// The tiers that may be nominated: replaces the list.
    pub target_tiers: Option<Vec<TourismTier>>,
    /// The most ENROLLED, IN_PROGRESS and COMPLETED enrolments.
    pub capacity: Option<i32>,
    /// When it starts.
    pub starts_on: Option<Date>,
    /// When it ends.
    pub ends_on: Option<Date>,
    /// Curricula it uses: replaces the list.
    pub curriculum_ids: Option<Vec<ID>>,
}

/// One module of a curriculum; modules are numbered in the order given.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct CurriculumModuleInput {
    /// The module's title.
    pub title: String,
    /// Teaching hours.
    pub hours: Option<f64>,
    /// Learning objectives.
    pub objectives: Option<String>,
}

/// A new curriculum. The caller's organisation becomes its owner.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct CreateCurriculumInput {
    /// A unique code.
    pub code: String,
    /// The Thai title.
    pub title_th: String,
    /// The English title.
    pub title_en: Option<String>,
    /// CORE or ALTERNATIVE.
    pub kind: CurriculumKind,
    /// Its focus areas.
    pub focus_areas: Vec<FocusArea>,
    /// Contributing organisations' codes.
    pub contributor_codes: Option<Vec<String>>,
    /// Its modules, in order.
    pub modules: Option<Vec<CurriculumModuleInput>>,
    /// Award-winning communities it takes as models.
    pub model_community_ids: Option<Vec<ID>>,
}

/// Changes to a curriculum.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct UpdateCurriculumInput {
    /// The curriculum's id.
    pub id: ID,
    /// The version the change is based on.
    pub expected_version: i32,
    /// The Thai title.
    pub title_th: Option<String>,
    /// The English title.
    pub title_en: Option<String>,
    /// DRAFT → PROPOSED → APPROVED → RETIRED (PROPOSED may go back to DRAFT).
    pub status: Option<CurriculumStatus>,
    /// Its focus areas: replaces the list.
    pub focus_areas: Option<Vec<FocusArea>>,
    /// Contributing organisations' codes: replaces the list.
    pub contributor_codes: Option<Vec<String>>,
    /// Its modules: replaces the list.
    pub modules: Option<Vec<CurriculumModuleInput>>,
    /// Model communities: replaces the list.
    pub model_community_ids: Option<Vec<ID>>,
}

/// Nominates a community into an OPEN programme.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct NominateCommunityInput {
    /// The programme's id.
    pub programme_id: ID,
    /// The community's id.
    pub community_id: ID,
    /// The curriculum it will follow, one of the programme's.
    pub curriculum_id: Option<ID>,
    /// A note kept in the enrolment's history.
    pub note: Option<String>,
}

/// Moves an enrolment to another status.
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct TransitionEnrolmentInput {
    /// The enrolment's id.
    pub id: ID,
    /// The version the move is based on.
    pub expected_version: i32,
    /// The new status.
    pub to: EnrolmentStatus,
    /// A note kept in the enrolment's history.
    pub note: Option<String>,
}

// ------------------------------------------------------------------ validation into commands

/// A text field that may be cleared: absent stays, blank clears.
fn clearable(field: &str, value: Option<&str>, max: usize) -> Result<Option<Option<String>>, AppError> {
    value.map(|v| text::optional(field, Some(v), max)).transpose()
}

/// A required text field that may be absent.
fn replaced(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, AppError> {
    value.map(|v| text::required(field, v, max)).transpose()
}

impl ContactInput {
    fn parse(&self) -> Result<Contact, AppError> {
        Contact::parse(&self.name, self.phone.as_deref(), self.email.as_deref())
    }
}

fn awards(list: &[AwardInput]) -> Result<Vec<Award>, AppError> {
    Award::list(list.iter().map(|a| Award::parse(a.year, a.category, a.title.as_deref())).collect::<Result<_, _>>()?)
}

impl CreateCommunityInput {
    /// Validates the input into a [`cmd::NewCommunity`].
    pub fn parse(&self) -> Result<cmd::NewCommunity, AppError> {
        Ok(cmd::NewCommunity {
            code: text::code("code", &self.code)?,
            name_th: text::required("nameTh", &self.name_th, limits::NAME)?,
            name_en: text::optional("nameEn", self.name_en.as_deref(), limits::NAME)?,
            province_code: self.province_code.trim().to_uppercase(),
            district: text::optional("district", self.district.as_deref(), limits::PLACE)?,
            subdistrict: text::optional("subdistrict", self.subdistrict.as_deref(), limits::PLACE)?,
            village_no: text::non_negative("villageNo", self.village_no)?,
            households: text::non_negative("households", self.households)?,
            description: text::optional("description", self.description.as_deref(), limits::LONG)?,
            contact: self.contact.as_ref().map(ContactInput::parse).transpose()?,
            awards: awards(self.awards.as_deref().unwrap_or_default())?,
            tier: None,
        })
    }
}

impl UpdateCommunityInput {
    /// Validates the input into [`cmd::CommunityChanges`].
    pub fn parse(&self) -> Result<cmd::CommunityChanges, AppError> {
        Ok(cmd::CommunityChanges {
            id: ids::decode(Kind::Community, &self.id, "id")?,
            expected_version: Some(self.expected_version),
            name_th: replaced("nameTh", self.name_th.as_deref(), limits::NAME)?,
            name_en: clearable("nameEn", self.name_en.as_deref(), limits::NAME)?,
            province_code: None,
            district: clearable("district", self.district.as_deref(), limits::PLACE)?,
            subdistrict: clearable("subdistrict", self.subdistrict.as_deref(), limits::PLACE)?,
            village_no: text::non_negative("villageNo", self.village_no)?.map(Some),
            households: text::non_negative("households", self.households)?.map(Some),
            description: clearable("description", self.description.as_deref(), limits::LONG)?,
            contact: self.contact.as_ref().map(ContactInput::parse).transpose()?,
            awards: self.awards.as_deref().map(awards).transpose()?,
            tier: None,
        })
    }
}

impl ClassifyCommunityInput {
    /// Validates the input into a [`cmd::Classification`].
    pub fn parse(&self) -> Result<cmd::Classification, AppError> {
        Ok(cmd::Classification {
            id: ids::decode(Kind::Community, &self.id, "id")?,
            expected_version: Some(self.expected_version),
            tier: self.tier,
        })
    }
}

impl CreateMouInput {
    /// Validates the input into a [`cmd::NewMou`].
    pub fn parse(&self) -> Result<cmd::NewMou, AppError> {
        let code = text::code("code", &self.code)?;
        let title_th = text::required("titleTh", &self.title_th, limits::NAME)?;
        let title_en = text::optional("titleEn", self.title_en.as_deref(), limits::NAME)?;
        let purpose = text::optional("purpose", self.purpose.as_deref(), limits::LONG)?;
        text::ordered_dates(naive(self.starts_on), naive(self.ends_on))?;
        let parties: Vec<cmd::MouParty> = self
            .parties
            .iter()
            .map(|p| cmd::MouParty { organization_code: p.organization_code.trim().to_uppercase(), role: p.role })
            .collect();
        cmd::NewMou::check_parties(&parties)?;
        Ok(cmd::NewMou {
            code,
            title_th,
            title_en,
            purpose,
            starts_on: naive(self.starts_on),
            ends_on: naive(self.ends_on),
            parties,
        })
    }
}

impl UpdateMouInput {
    /// Validates the input into [`cmd::MouChanges`].
    pub fn parse(&self) -> Result<cmd::MouChanges, AppError> {
        Ok(cmd::MouChanges {
            id: ids::decode(Kind::Mou, &self.id, "id")?,
            expected_version: Some(self.expected_version),
            title_th: replaced("titleTh", self.title_th.as_deref(), limits::NAME)?,
            title_en: clearable("titleEn", self.title_en.as_deref(), limits::NAME)?,
            purpose: clearable("purpose", self.purpose.as_deref(), limits::LONG)?,
            status: self.status,
            starts_on: naive(self.starts_on),
            ends_on: naive(self.ends_on),
        })
    }
}

impl SignMouInput {
    /// Validates the input into a [`cmd::Signature`].
    pub fn parse(&self) -> Result<cmd::Signature, AppError> {
        Ok(cmd::Signature {
            mou_id: ids::decode(Kind::Mou, &self.id, "id")?,
            expected_version: Some(self.expected_version),
        })
    }
}

impl CreateCommitmentInput {
    /// Validates the input into a [`cmd::NewCommitment`].
    pub fn parse(&self) -> Result<cmd::NewCommitment, AppError> {
        Ok(cmd::NewCommitment {
            mou_id: ids::decode(Kind::Mou, &self.mou_id, "mouId")?,
            description: text::required("description", &self.description, limits::NOTE)?,
            owner_code: self.owner_code.trim().to_uppercase(),
            due_on: naive(self.due_on),
        })
    }
}

impl UpdateCommitmentInput {
    /// Validates the input into [`cmd::CommitmentChanges`].
    pub fn parse(&self) -> Result<cmd::CommitmentChanges, AppError> {
        Ok(cmd::CommitmentChanges {
            id: ids::decode(Kind::Commitment, &self.id, "id")?,
            expected_version: Some(self.expected_version),
            description: replaced("description", self.description.as_deref(), limits::NOTE)?,
            status: self.status,
            due_on: naive(self.due_on),
        })
    }
}

fn curriculum_ids(ids: Option<&[ID]>) -> Result<Option<Vec<i64>>, AppError> {
    ids.map(|ids| cmd::id_list(ids, Kind::Curriculum, "curriculumIds", 50)).transpose()
}

impl CreateProgrammeInput {
    /// Validates the input into a [`cmd::NewProgramme`].
    pub fn parse(&self) -> Result<cmd::NewProgramme, AppError> {
        let code = text::code("code", &self.code)?;
        let name_th = text::required("nameTh", &self.name_th, limits::NAME)?;
        let name_en = text::optional("nameEn", self.name_en.as_deref(), limits::NAME)?;
        let capacity = text::non_negative("capacity", self.capacity)?;
        text::ordered_dates(naive(self.starts_on), naive(self.ends_on))?;
        Ok(cmd::NewProgramme {
            code,
            name_th,
            name_en,
            theme: self.theme,
            mou_id: self.mou_id.as_ref().map(|id| ids::decode(Kind::Mou, id, "mouId")).transpose()?,
            partner_codes: cmd::org_codes(self.partner_codes.as_deref().unwrap_or_default()),
            target_tiers: self.target_tiers.clone().unwrap_or_default(),
            capacity,
            starts_on: naive(self.starts_on),
            ends_on: naive(self.ends_on),
            curriculum_ids: curriculum_ids(self.curriculum_ids.as_deref())?.unwrap_or_default(),
        })
    }
}

impl UpdateProgrammeInput {
    /// Validates the input into [`cmd::ProgrammeChanges`].
    pub fn parse(&self) -> Result<cmd::ProgrammeChanges, AppError> {
        Ok(cmd::ProgrammeChanges {
            id: ids::decode(Kind::Programme, &self.id, "id")?,
            expected_version: Some(self.expected_version),
            name_th: replaced("nameTh", self.name_th.as_deref(), limits::NAME)?,
            name_en: clearable("nameEn", self.name_en.as_deref(), limits::NAME)?,
            status: self.status,
            partner_codes: self.partner_codes.as_deref().map(cmd::org_codes),
            target_tiers: self.target_tiers.clone(),
            capacity: text::non_negative("capacity", self.capacity)?,
            starts_on: naive(self.starts_on),
            ends_on: naive(self.ends_on),
            curriculum_ids: curriculum_ids(self.curriculum_ids.as_deref())?,
        })
    }
}

fn modules(list: &[CurriculumModuleInput]) -> Result<Vec<Module>, AppError> {
    Module::list(
        list.iter().map(|m| Module::parse(&m.title, m.hours, m.objectives.as_deref())).collect::<Result<_, _>>()?,
    )
}

fn model_ids(ids: Option<&[ID]>) -> Result<Option<Vec<i64>>, AppError> {
    ids.map(|ids| cmd::id_list(ids, Kind::Community, "modelCommunityIds", 200)).transpose()
}

impl CreateCurriculumInput {
    /// Validates the input into a [`cmd::NewCurriculum`].
    pub fn parse(&self) -> Result<cmd::NewCurriculum, AppError> {
        Ok(cmd::NewCurriculum {
            code: text::code("code", &self.code)?,
            title_th: text::required("titleTh", &self.title_th, limits::NAME)?,
            title_en: text::optional("titleEn", self.title_en.as_deref(), limits::NAME)?,
            kind: self.kind,
            focus_areas: cmd::focus_areas(self.focus_areas.clone())?,
            contributor_codes: cmd::org_codes(self.contributor_codes.as_deref().unwrap_or_default()),
            modules: modules(self.modules.as_deref().unwrap_or_default())?,
            model_community_ids: model_ids(self.model_community_ids.as_deref())?.unwrap_or_default(),
        })
    }
}

impl UpdateCurriculumInput {
    /// Validates the input into [`cmd::CurriculumChanges`].
    pub fn parse(&self) -> Result<cmd::CurriculumChanges, AppError> {
        Ok(cmd::CurriculumChanges {
            id: ids::decode(Kind::Curriculum, &self.id, "id")?,
            expected_version: Some(self.expected_version),
            title_th: replaced("titleTh", self.title_th.as_deref(), limits::NAME)?,
            title_en: clearable("titleEn", self.title_en.as_deref(), limits::NAME)?,
            status: self.status,
            focus_areas: self.focus_areas.clone().map(cmd::focus_areas).transpose()?,
            contributor_codes: self.contributor_codes.as_deref().map(cmd::org_codes),
            modules: self.modules.as_deref().map(modules).transpose()?,
            model_community_ids: model_ids(self.model_community_ids.as_deref())?,
        })
    }
}

impl NominateCommunityInput {
    /// Validates the input into a [`cmd::Nomination`].
    pub fn parse(&self) -> Result<cmd::Nomination, AppError> {
        Ok(cmd::Nomination {
            programme_id: ids::decode(Kind::Programme, &self.programme_id, "programmeId")?,
            community_id: ids::decode(Kind::Community, &self.community_id, "communityId")?,
            curriculum_id: self
                .curriculum_id
                .as_ref()
                .map(|id| ids::decode(Kind::Curriculum, id, "curriculumId"))
                .transpose()?,
            note: text::optional("note", self.note.as_deref(), limits::NOTE)?,
        })
    }
}

impl TransitionEnrolmentInput {
    /// Validates the input into a [`cmd::EnrolmentMove`].
    pub fn parse(&self) -> Result<cmd::EnrolmentMove, AppError> {
        Ok(cmd::EnrolmentMove {
            id: ids::decode(Kind::Enrolment, &self.id, "id")?,
            expected_version: Some(self.expected_version),
            to: self.to,
            note: text::optional("note", self.note.as_deref(), limits::NOTE)?,
        })
    }
}
