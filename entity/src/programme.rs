//! `programmes`: A programme run under an MOU or alone.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{ProgrammeStatus, ProgrammeTheme};

/// A programme run under an MOU or alone.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "programmes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name_th: String,
    pub name_en: Option<String>,
    pub theme: ProgrammeTheme,
    pub status: ProgrammeStatus,
    pub mou_id: Option<i64>,
    pub lead_id: i64,
    pub target_tiers: String,
    pub capacity: Option<i32>,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
