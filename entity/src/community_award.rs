//! `community_awards`: A Model Community Enterprise award won by a community.

use sea_orm::entity::prelude::*;

use crate::vocabulary::AwardCategory;

/// A Model Community Enterprise award won by a community.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "community_awards")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub community_id: i64,
    pub year: i32,
    pub category: AwardCategory,
    pub title: Option<String>,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
