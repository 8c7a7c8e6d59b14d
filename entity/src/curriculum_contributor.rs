//! `curriculum_contributors`: An organisation contributing to a curriculum.

use sea_orm::entity::prelude::*;

/// An organisation contributing to a curriculum.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "curriculum_contributors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub curriculum_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: i64,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
