//! `communities`: A community in CDD's network.

use sea_orm::entity::prelude::*;

use crate::vocabulary::TourismTier;

/// A community in CDD's network.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "communities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name_th: String,
    pub name_en: Option<String>,
    pub province_code: String,
    pub district: Option<String>,
    pub subdistrict: Option<String>,
    pub village_no: Option<i32>,
    pub households: Option<i32>,
    pub description: Option<String>,
    pub tourism_tier: Option<TourismTier>,
    pub tier_assessed_by: Option<i64>,
    pub tier_assessed_at: Option<DateTimeUtc>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    /// The names and code folded for search (`api::domain::search_key`).
    pub search_text: Option<String>,
    pub created_by: i64,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are resolved by the API's batch loaders, not through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
