//! `commitments`: A follow-up one party owes under an MOU.

use sea_orm::entity::prelude::*;

use crate::vocabulary::CommitmentStatus;

/// A follow-up one party owes under an MOU.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "commitments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub mou_id: i64,
    pub description: String,
    pub owner_id: i64,
    pub due_on: Option<Date>,
    pub status: CommitmentStatus,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
