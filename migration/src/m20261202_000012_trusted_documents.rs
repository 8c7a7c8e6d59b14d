//! Trusted documents: each organisation's registered operations (by the
//! SHA-256 of their text), its mode (`off`, `log`, `enforce`), and the
//! counts of the unregistered operations it sent.

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
                    .table("trusted_documents")
                    .col(id())
                    .col(reference("organization_id"))
                    // Lower-case hex SHA-256 of `body`, as clients send it.
                    .col(string_len("sha256", 64))
                    .col(text("body"))
                    // Space-separated names of the document's operations.
                    .col(text("operation_names"))
                    .col(timestamp_with_time_zone("registered_at"))
                    .col(string_len("registered_by", 200))
                    // Removal keeps the row (and who removed it): NULL while registered.
                    .col(timestamp_with_time_zone_null("removed_at"))
                    .col(string_len_null("removed_by", 200))
                    .foreign_key(&mut fk("trusted_documents", "organization_id", "organizations"))
                    .to_owned(),
                Table::create()
                    .table("operation_policies")
                    .col(big_integer("organization_id").primary_key())
                    .col(string_len("mode", 20))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(string_len("updated_by", 200))
                    .foreign_key(&mut fk("operation_policies", "organization_id", "organizations"))
                    .to_owned(),
                Table::create()
                    .table("untrusted_operations")
                    .col(reference("organization_id"))
                    .col(string_len("sha256", 64))
                    .col(string_len("operation_name", 200))
                    .col(big_integer("count"))
                    .col(timestamp_with_time_zone("first_seen_at"))
                    .col(timestamp_with_time_zone("last_seen_at"))
                    .primary_key(Index::create().col("organization_id").col("sha256"))
                    .foreign_key(&mut fk("untrusted_operations", "organization_id", "organizations"))
                    .to_owned(),
            ],
            vec![unique("trusted_documents", &["organization_id", "sha256"])],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["untrusted_operations", "operation_policies", "trusted_documents"]).await
    }
}
