//! `idempotency_keys`: A create request's idempotency key, kept so retries return the first result.

use sea_orm::entity::prelude::*;

/// A create request's idempotency key, kept so retries return the first result.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub operation: String,
    pub fingerprint: String,
    pub entity_type: String,
    pub entity_id: i64,
    pub created_at: DateTimeUtc,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
