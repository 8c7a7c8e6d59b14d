//! `curriculum_model_communities`: A community a curriculum takes as a model.

use sea_orm::entity::prelude::*;

/// A community a curriculum takes as a model.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "curriculum_model_communities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub curriculum_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub community_id: i64,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
