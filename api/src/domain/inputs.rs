//! The input shapes of the mutations and filters, as the contract names
//! them. The store validates them (NFC, lengths, codes, dates) before any
//! SQL runs.

use super::date::Date;
use async_graphql::{ID, InputObject};
use serde::Serialize;

use super::enums::*;

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
