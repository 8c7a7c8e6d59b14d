//! `change_events`: One committed change to a record.

use sea_orm::entity::prelude::*;

use crate::vocabulary::ChangeOperation;

/// One committed change to a record.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "change_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub operation: ChangeOperation,
    pub entity_type: String,
    pub entity_id: i64,
    pub actor_org_id: i64,
    pub subject: String,
    pub changed_fields: String,
    pub diff: Option<String>,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
