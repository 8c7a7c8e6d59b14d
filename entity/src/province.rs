//! `provinces`: A province of Thailand (ISO 3166-2:TH).

use sea_orm::entity::prelude::*;

/// A province of Thailand (ISO 3166-2:TH).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provinces")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name_th: String,
    pub name_en: String,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
