//! `enrolment_transitions`: One step of an enrolment's status history.

use sea_orm::entity::prelude::*;

use crate::vocabulary::EnrolmentStatus;

/// One step of an enrolment's status history.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enrolment_transitions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub enrolment_id: i64,
    pub from_status: Option<EnrolmentStatus>,
    pub to_status: EnrolmentStatus,
    pub at: DateTimeUtc,
    pub by_org: i64,
    pub note: Option<String>,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
