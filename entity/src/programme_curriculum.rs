//! `programme_curricula`: A curriculum used by a programme.

use sea_orm::entity::prelude::*;

/// A curriculum used by a programme.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "programme_curricula")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub programme_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub curriculum_id: i64,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
