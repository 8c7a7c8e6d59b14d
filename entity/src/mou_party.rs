//! `mou_parties`: One party of an MOU, with its role and signature.

use sea_orm::entity::prelude::*;

use crate::vocabulary::PartyRole;

/// One party of an MOU, with its role and signature.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mou_parties")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub mou_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: i64,
    pub role: PartyRole,
    pub position: i32,
    pub signed_at: Option<DateTimeUtc>,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
