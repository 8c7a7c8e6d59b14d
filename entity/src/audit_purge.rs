//! `audit_purges`: A purge of log entries past their retention.

use sea_orm::entity::prelude::*;

/// A purge of log entries past their retention.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_purges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub log: String,
    pub cutoff: DateTimeUtc,
    pub deleted: i64,
}

/// Relations are resolved by the API, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
