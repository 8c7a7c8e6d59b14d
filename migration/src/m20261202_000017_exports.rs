//! Exports: an organisation's bulk reads of one connection, run in the
//! background at one snapshot (`exports`), and their results, stored in
//! about 1 MiB chunks so any replica can serve the download
//! (`export_chunks`).
//!
//! One export per organisation may be queued or running: a partial unique
//! index on `exports (organization_id)` over those two statuses (both
//! engines support partial indexes).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_all(
            manager,
            vec![
                Table::create()
                    .table("exports")
                    .col(id())
                    .col(reference("organization_id"))
                    // Who asked, as other tables record it: the token's
                    // `sub`, and its scopes (the runner reads as them).
                    .col(string_len("subject", 200))
                    .col(text("scopes"))
                    .col(string_len("status", 20))
                    .col(string_len("format", 10))
                    .col(text("query"))
                    // JSON text; NULL: none.
                    .col(text_null("variables"))
                    .col(string_len_null("operation_name", 200))
                    .col(big_integer("object_count").default(0))
                    .col(big_integer("byte_size").default(0))
                    // The change feed's position at the export's snapshot.
                    .col(big_integer_null("feed_position"))
                    .col(string_len_null("error_code", 40))
                    .col(text_null("error_message"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("started_at"))
                    .col(timestamp_with_time_zone("heartbeat_at"))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .col(timestamp_with_time_zone_null("expires_at"))
                    .foreign_key(&mut fk("exports", "organization_id", "organizations"))
                    .to_owned(),
                Table::create()
                    .table("export_chunks")
                    .col(reference("export_id"))
                    .col(integer("seq"))
                    .col(blob("data"))
                    .primary_key(Index::create().col("export_id").col("seq"))
                    .foreign_key(&mut fk("export_chunks", "export_id", "exports"))
                    .to_owned(),
            ],
            vec![index("exports", &["organization_id", "id"]), index("exports", &["status", "heartbeat_at"])],
        )
        .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_exports_organization_id_running ON exports (organization_id) \
                 WHERE status IN ('QUEUED', 'RUNNING')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["export_chunks", "exports"]).await
    }
}
