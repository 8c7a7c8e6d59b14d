//! Thai text that reads right: names ordered with the `thai` collation
//! (see [`crate::collation`]) and a search key per searchable record.
//!
//! - `communities.search_text` and `mous.search_text` hold the record's names
//!   and code folded the way users type them (the API computes it on every
//!   write and fills rows that lack it at start-up: lowercase, NFD, without
//!   tone marks and other diacritics). Search is a substring match on it.
//! - On PostgreSQL a trigram index (`pg_trgm`) serves that substring match,
//!   so a search does not scan every community. It is kept without GIN's
//!   pending list (`fastupdate = off`): a write updates it at once, so a
//!   search never has to scan a list of recent writes first (after a bulk
//!   load that list made the planner prefer a table scan).
//! - The name index orders by `name_th COLLATE thai`, the order `orderBy:
//!   NAME` reads in.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An advisory lock taken while creating the extension: services migrating
/// different schemas of one database at once would otherwise race on it.
const EXTENSION_LOCK: i64 = 0x5054_5247; // "PTRG"

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        for table in ["communities", "mous"] {
            manager.alter_table(Table::alter().table(table).add_column(text_null("search_text")).to_owned()).await?;
        }
        manager.drop_index(Index::drop().name("ix_communities_name_th_id").table("communities").to_owned()).await?;
        if postgres {
            db.execute_unprepared("CREATE COLLATION IF NOT EXISTS thai (provider = icu, locale = 'th-TH')").await?;
            // The migration runs in a transaction on PostgreSQL, so the lock
            // is held until it commits.
            db.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({EXTENSION_LOCK})")).await?;
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public").await?;
            let schema = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT n.nspname AS schema FROM pg_extension e \
                     JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
                ))
                .await?
                .ok_or_else(|| DbErr::Migration("pg_trgm is not installed".into()))?
                .try_get::<String>("", "schema")?;
            db.execute_unprepared(&format!(
                "CREATE INDEX ix_communities_search_trgm ON communities \
                 USING gin (search_text \"{schema}\".gin_trgm_ops) WITH (fastupdate = off)"
            ))
            .await?;
        }
        db.execute_unprepared("CREATE INDEX ix_communities_name_thai ON communities (name_th COLLATE thai, id)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS ix_communities_name_thai").await?;
        db.execute_unprepared("DROP INDEX IF EXISTS ix_communities_search_trgm").await?;
        manager.create_index(crate::util::index("communities", &["name_th", "id"])).await?;
        for table in ["communities", "mous"] {
            manager.alter_table(Table::alter().table(table).drop_column("search_text").to_owned()).await?;
        }
        Ok(())
    }
}
