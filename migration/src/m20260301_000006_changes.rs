//! The change log (audit trail and sync feed) and stored idempotency keys.

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
                {
                    let mut events = Table::create();
                    events.table("change_events").col(id());
                    event_columns(&mut events);
                    events.foreign_key(&mut fk("change_events", "actor_org_id", "organizations")).to_owned()
                },
                Table::create()
                    .table("idempotency_keys")
                    .col(reference("organization_id"))
                    .col(string_len("key", 200))
                    .col(string_len("operation", 60))
                    .col(string_len("fingerprint", 64))
                    .col(string_len("entity_type", 40))
                    .col(big_integer("entity_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("organization_id").col("key"))
                    .foreign_key(&mut fk("idempotency_keys", "organization_id", "organizations"))
                    .to_owned(),
            ],
            vec![
                index("change_events", &["entity_type", "entity_id", "id"]),
                index("idempotency_keys", &["created_at"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["idempotency_keys", "change_events"]).await
    }
}
