//! The audit trail's values: each change event (and its inbox row) gets the
//! before and after value of every field it changed, as JSON text. Events
//! recorded before this migration have none (NULL).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["change_events", "change_event_inbox"] {
            manager.alter_table(Table::alter().table(table).add_column(text_null("diff")).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["change_events", "change_event_inbox"] {
            manager.alter_table(Table::alter().table(table).drop_column("diff").to_owned()).await?;
        }
        Ok(())
    }
}
