//! The closed vocabularies of the domain. The stored ones are defined with
//! the entities (`entity::vocabulary`: typed columns, and GraphQL enums
//! through the entity crate's `graphql` feature) and re-exported here, so
//! the rest of the service names them from the domain.

use async_graphql::Enum;
use sea_orm::ActiveEnum;

use crate::error::AppError;

pub use entity::vocabulary::{
    AwardCategory, ChangeOperation, CommitmentStatus, CurriculumKind, CurriculumStatus, EnrolmentStatus, ExportFormat,
    ExportStatus, FocusArea, MouStatus, OrganizationKind, PartyRole, ProgrammeStatus, ProgrammeTheme, TourismTier,
    TrustedDocumentMode, WebhookStatus,
};

/// Which way to order.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum OrderDirection {
    /// Ascending.
    #[graphql(name = "ASC")]
    Asc,
    /// Descending.
    #[graphql(name = "DESC")]
    Desc,
}

/// Parses a space-separated list of stored names (the columns that hold a
/// set of values, such as a programme's target tiers).
pub fn parse_list<T: ActiveEnum<Value = String>>(text: &str) -> Result<Vec<T>, AppError> {
    text.split_whitespace().map(|name| Ok(T::try_from_value(&name.to_owned())?)).collect()
}

/// Joins values into a space-separated stored list, sorted and without duplicates.
pub fn join_list<T: Ord + Copy>(values: &[T], as_str: fn(T) -> &'static str) -> String {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted.into_iter().map(as_str).collect::<Vec<_>>().join(" ")
}
