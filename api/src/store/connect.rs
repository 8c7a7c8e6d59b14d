//! Opening the database: pool sizes, SQLite pragmas, timeouts, migrations.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

pub use crate::config::DbSettings;

/// Connects with the settings, applying per-engine options.
pub async fn connect(settings: &DbSettings) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(settings)).await
}

/// One connection that stays open for as long as its holder runs, for a
/// transaction that spans many statements through a `DatabaseConnection`
/// (an export's snapshot): a pool of exactly one connection, never closed
/// for idleness or age (either would end the transaction silently), that
/// waits long for its connection, since the holder's own concurrent reads
/// (batch loaders) queue on it.
pub async fn connect_single(settings: &DbSettings) -> Result<DatabaseConnection, DbErr> {
    let mut options = options(settings);
    options
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None::<Duration>)
        .max_lifetime(None::<Duration>)
        .acquire_timeout(Duration::from_secs(600));
    Database::connect(options).await
}

/// The pool options of `settings`.
fn options(settings: &DbSettings) -> ConnectOptions {
    let mut options = ConnectOptions::new(settings.url.clone());
    options
        .max_connections(settings.max_connections)
        .min_connections(1)
        .acquire_timeout(settings.acquire_timeout)
        .connect_timeout(settings.acquire_timeout)
        // Ping a pooled connection only when it has been idle a while, not
        // before every use: a ping per statement doubles the round trips.
        // A connection that broke meanwhile fails its statement, and the
        // pool replaces it (the outage test covers recovery).
        .test_before_acquire_if_idle_for(Duration::from_secs(10))
        .sqlx_logging(false);
    if settings.url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                .create_if_missing(true)
                // Names sort in Thai dictionary order (`ORDER BY name_th COLLATE thai`).
                .collation(migration::collation::THAI, migration::collation::compare)
        });
    } else {
        let statement_timeout = settings.statement_timeout.as_millis().to_string();
        let schema = settings.schema.clone();
        options.map_sqlx_postgres_opts(move |opts| {
            let opts = opts.options([("statement_timeout", statement_timeout.as_str())]);
            match &schema {
                Some(schema) => opts.options([("search_path", schema.as_str())]),
                None => opts,
            }
        });
    }
    options
}

/// Applies every pending migration, then gives rows without a search key
/// their key ([`super::search::backfill`]).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await?;
    let filled = super::search::backfill(db).await?;
    if filled > 0 {
        tracing::info!(rows = filled, "search keys filled");
    }
    Ok(())
}
