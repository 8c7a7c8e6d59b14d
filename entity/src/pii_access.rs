//! `pii_access_log`: A response that returned communities' contacts, and who received it.

use sea_orm::entity::prelude::*;

/// A response that returned communities' contacts, and who received it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pii_access_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub organization_id: i64,
    pub subject: String,
    pub request_id: String,
    pub operation_name: Option<String>,
    pub via: String,
    /// The communities' ids between spaces: " 12 45 78 ".
    pub community_ids: String,
    pub community_count: i32,
    /// Every request of the entry between spaces (NULL for one: `request_id`).
    pub request_ids: Option<String>,
    pub request_count: i32,
    /// The last request's time (NULL for one: `at`).
    pub last_at: Option<DateTimeUtc>,
}

/// Relations are resolved by the API, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
