//! The community list filtered by tier and ordered by code (the nested read
//! the benchmark calls W1) walked every community of the tier and sorted it
//! on SQLite; an index on `(tourism_tier, code, id)` serves it in order.

use sea_orm_migration::prelude::*;

use crate::util::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(index("communities", &["tourism_tier", "code", "id"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_communities_tourism_tier_code_id").table("communities").to_owned())
            .await
    }
}
