//! `trusted_documents`: An operation an organisation registered, by the SHA-256 of its text.

use sea_orm::entity::prelude::*;

/// An operation an organisation registered, by the SHA-256 of its text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "trusted_documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub sha256: String,
    pub body: String,
    pub operation_names: String,
    pub registered_at: DateTimeUtc,
    pub registered_by: String,
    pub removed_at: Option<DateTimeUtc>,
    pub removed_by: Option<String>,
}

/// Relations are resolved by the API, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
