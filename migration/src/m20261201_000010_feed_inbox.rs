//! The change feed's inbox. On PostgreSQL a write transaction no longer
//! takes the feed's global lock: it commits its event into
//! `change_event_inbox`, and the sequencer (one at a time, under an advisory
//! lock) moves committed inbox rows into `change_events`, numbering them
//! after the last id there. `change_events.id` stays the feed position, so
//! cursors partners already hold stay valid. SQLite, whose writers are
//! serialised, keeps writing `change_events` directly; the table exists
//! there too so both engines have one schema.

use sea_orm_migration::prelude::*;

use crate::util::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut inbox = Table::create();
        inbox.table("change_event_inbox").col(id());
        event_columns(&mut inbox);
        create_all(manager, vec![inbox.to_owned()], vec![]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, &["change_event_inbox"]).await
    }
}
