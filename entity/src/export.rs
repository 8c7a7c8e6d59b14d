//! `exports`: An organisation's bulk read of one connection, and where it stands.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{ExportFormat, ExportStatus};

/// An organisation's bulk read of one connection, and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "exports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub subject: String,
    pub scopes: String,
    pub status: ExportStatus,
    pub format: ExportFormat,
    pub query: String,
    pub variables: Option<String>,
    pub operation_name: Option<String>,
    pub object_count: i64,
    pub byte_size: i64,
    pub feed_position: Option<i64>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub heartbeat_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
}

/// Relations are resolved by the API, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
