//! The personal-data access log: one row per response that returned
//! contacts (who, through which request, when, which communities), and the
//! log of purges that removed rows past their retention.

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
                    .table("pii_access_log")
                    .col(id())
                    .col(timestamp_with_time_zone("at"))
                    .col(reference("organization_id"))
                    .col(string_len("subject", 200))
                    .col(string_len("request_id", 100))
                    .col(string_len_null("operation_name", 200))
                    // graphql, webhook or subscription.
                    .col(string_len("via", 20))
                    // The communities whose contact the response held, as
                    // " 12 45 78 " (ids between spaces), and how many.
                    .col(text("community_ids"))
                    .col(integer("community_count"))
                    .foreign_key(&mut fk("pii_access_log", "organization_id", "organizations"))
                    .to_owned(),
                Table::create()
                    .table("audit_purges")
                    .col(id())
                    .col(timestamp_with_time_zone("at"))
                    // What was purged, e.g. pii_access_log.
                    .col(string_len("log", 40))
                    // Entries older than this were deleted.
                    .col(timestamp_with_time_zone("cutoff"))
                    .col(big_integer("deleted"))
                    .to_owned(),
            ],
            vec![index("pii_access_log", &["organization_id", "at"]), index("pii_access_log", &["at"])],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["audit_purges", "pii_access_log"]).await
    }
}
