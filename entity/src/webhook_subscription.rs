//! `webhook_subscriptions`: A partner's webhook endpoint and its delivery state.

use sea_orm::entity::prelude::*;

use crate::vocabulary::WebhookStatus;

/// A partner's webhook endpoint and its delivery state.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub url: String,
    pub description: Option<String>,
    pub entity_types: Option<String>,
    pub operations: Option<String>,
    pub scopes: String,
    pub subject: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    pub status: WebhookStatus,
    pub paused_reason: Option<String>,
    pub cursor_position: i64,
    pub next_attempt_at: DateTimeUtc,
    pub attempt: i32,
    pub failing_since: Option<DateTimeUtc>,
    pub last_success_at: Option<DateTimeUtc>,
    pub last_failure_at: Option<DateTimeUtc>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are resolved by the API, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
