//! `curriculum_modules`: One module of a curriculum, in order.

use sea_orm::entity::prelude::*;

/// One module of a curriculum, in order.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "curriculum_modules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub curriculum_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub title: String,
    pub hours: Option<f64>,
    pub objectives: Option<String>,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
