//! The personal-data access log keeps identical reads of one batch in one
//! row: the same organisation, subject, operation, route and communities,
//! written within the writer's gathering window, listing every request id.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `request_id` stays the first request; `request_ids` lists them all
        // (" id1 id2 ", NULL for one), `request_count` counts them, and
        // `last_at` is the last one's time (NULL for one).
        for column in [
            text_null("request_ids"),
            integer("request_count").default(1).to_owned(),
            timestamp_with_time_zone_null("last_at"),
        ] {
            manager.alter_table(Table::alter().table("pii_access_log").add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["last_at", "request_count", "request_ids"] {
            manager.alter_table(Table::alter().table("pii_access_log").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
