//! `operation_policies`: Whether an organisation's requests must be registered operations.

use sea_orm::entity::prelude::*;

use crate::vocabulary::TrustedDocumentMode;

/// Whether an organisation's requests must be registered operations (no
/// row: `OFF`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "operation_policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: i64,
    pub mode: TrustedDocumentMode,
    pub updated_at: DateTimeUtc,
    pub updated_by: String,
}

/// Relations are resolved by the API, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
