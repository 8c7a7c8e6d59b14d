//! The change feed's inbox. On PostgreSQL a write transaction no longer
//! takes the feed's global lock: it commits its event into
//! `change_event_inbox`, and the sequencer (one at a time, under an advisory
//! lock) moves committed inbox rows into `change_events`, numbering them
//! after the last id there. `change_events.id` stays the feed position, so
//! cursors partners already hold stay valid. SQLite, whose writers are
//! serialised, keeps writing `change_events` directly; the table exists
//! there too so both engines have one schema.

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
                    .table("change_event_inbox")
                    .col(id())
                    .col(timestamp_with_time_zone("at"))
                    .col(string_len("operation", 20))
                    .col(string_len("entity_type", 40))
                    .col(big_integer("entity_id"))
                    .col(reference("actor_org_id"))
                    .col(string_len("subject", 200))
                    .col(text("changed_fields"))
                    .to_owned(),
            ],
            vec![],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["change_event_inbox"]).await
    }
}
