//! `curricula`: A training curriculum.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{CurriculumKind, CurriculumStatus};

/// A training curriculum.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "curricula")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub title_th: String,
    pub title_en: Option<String>,
    pub kind: CurriculumKind,
    pub status: CurriculumStatus,
    pub focus_areas: String,
    pub owner_id: i64,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
