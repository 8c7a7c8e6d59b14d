//! `mous`: A memorandum of understanding between partners.

use sea_orm::entity::prelude::*;

use crate::vocabulary::MouStatus;

/// A memorandum of understanding between partners.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mous")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub title_th: String,
    pub title_en: Option<String>,
    pub purpose: Option<String>,
    /// The titles and code folded for search (`api::domain::search_key`).
    pub search_text: Option<String>,
    pub status: MouStatus,
    pub signed_on: Option<Date>,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub created_by: i64,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
