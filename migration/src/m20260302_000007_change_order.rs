//! Commit order for the change feed. On PostgreSQL an event's sequence id is
//! taken before its transaction commits, so ids can become visible out of
//! order; each event therefore also records its transaction id (`txid`),
//! and the feed is read in `(txid, id)` order, only up to the oldest
//! transaction still running. On SQLite, writers are serialised and `txid`
//! stays 0, so the order is the id order.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("change_events").add_column(big_integer("txid").default(0)).to_owned())
            .await?;
        manager.create_index(index("change_events", &["txid", "id"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_change_events_txid_id").table("change_events").to_owned()).await?;
        manager.alter_table(Table::alter().table("change_events").drop_column("txid").to_owned()).await
    }
}
