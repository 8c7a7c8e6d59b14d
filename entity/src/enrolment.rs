//! `enrolments`: One community in one programme.

use sea_orm::entity::prelude::*;

use crate::vocabulary::EnrolmentStatus;

/// One community in one programme.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enrolments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub community_id: i64,
    pub programme_id: i64,
    pub curriculum_id: Option<i64>,
    pub status: EnrolmentStatus,
    pub nominated_by: i64,
    pub nominated_at: DateTimeUtc,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
