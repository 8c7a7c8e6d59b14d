//! Database access. Resolvers call these functions; they hold every query.
//!
//! Writes run in one transaction each, together with their change event
//! (and idempotency key), so a mutation commits whole or not at all.

pub mod aggregates;
pub mod budget;
pub mod changes;
pub mod communities;
pub mod connect;
pub mod curricula;
pub mod enrolments;
pub mod exports;
pub mod idempotency;
pub mod keyset;
pub mod loaders;
pub mod mous;
pub mod nested;
pub mod organizations;
pub mod pii_log;
pub mod prepared;
pub mod programmes;
pub mod rules;
pub mod search;
pub mod snapshots;
pub mod stats;
pub mod trusted_documents;
pub mod versioned;
pub mod webhooks;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, PrimaryKeyTrait,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::error::{AppError, AppResult};

/// The database handle the service shares across requests.
#[derive(Clone, Debug)]
pub struct Store {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// How many SQL statements this process has run (tests assert on
    /// differences; metrics can export it).
    pub statements: Arc<AtomicU64>,
    /// The change feed's in-process signals.
    pub feed: Arc<crate::feed::Signals>,
}

impl Store {
    /// Wraps a connected pool and starts counting its statements.
    pub fn new(mut db: DatabaseConnection) -> Self {
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        Store { db, statements, feed: crate::feed::Signals::new() }
    }

    /// A handle for background work (the feed, webhook delivery): its own
    /// small pool, so it never takes connections requests wait for, and its
    /// statements are not counted with the requests'. It shares this
    /// store's feed signals.
    pub async fn background(&self, settings: &connect::DbSettings) -> Result<Store, sea_orm::DbErr> {
        let mut settings = settings.clone();
        settings.max_connections = if self.backend() == DbBackend::Postgres { 4 } else { 2 };
        let db = connect::connect(&settings).await?;
        Ok(Store { db, statements: Arc::new(AtomicU64::new(0)), feed: self.feed.clone() })
    }

    /// Commits a write transaction that recorded change events, and wakes
    /// the feed (its sequencer, and then live readers).
    pub async fn commit(&self, tx: DatabaseTransaction) -> AppResult<()> {
        tx.commit().await?;
        self.feed.nudge();
        Ok(())
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so that
    /// concurrent writers queue on the busy timeout instead of failing when a
    /// read inside the transaction is followed by a write.
    pub async fn begin_write(&self) -> AppResult<DatabaseTransaction> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        Ok(self.db.begin_with_options(options).await?)
    }

    /// Which engine this is.
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }
}

/// The current time, truncated to microseconds (what PostgreSQL keeps), so a
/// value read back equals the value written and cursors round-trip.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Reads record `id` of `E` inside `tx`, then commits: a mutation returns
/// the row as it wrote it, not as a later writer may already have left it.
pub async fn commit_returning<E>(store: &Store, tx: DatabaseTransaction, id: i64) -> AppResult<E::Model>
where
    E: EntityTrait,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = i64>,
{
    let model = E::find_by_id(id).one(&tx).await?.ok_or_else(|| AppError::internal("the written row is missing"))?;
    store.commit(tx).await?;
    Ok(model)
}

/// Checks that each of `wanted` (distinct ids of `kind`, given in `field`) names a stored record.
pub async fn existing_ids<E, C>(
    conn: &C,
    wanted: &[i64],
    kind: crate::domain::ids::Kind,
    field: &str,
) -> AppResult<Vec<i64>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    use sea_orm::sea_query::{Alias, Expr, IntoIden};
    use sea_orm::{ExprTrait, QueryFilter};
    let found =
        E::find().filter(Expr::col(Alias::new("id").into_iden()).is_in(wanted.iter().copied())).all(conn).await?;
    if found.len() != wanted.len() {
        return Err(AppError::bad_input(field, format!("unknown {} id", kind.name())));
    }
    Ok(wanted.to_vec())
}

/// Locks the row `id` of `table` for the rest of the transaction, and says
/// whether it exists (PostgreSQL: `SELECT ... FOR UPDATE`, a row lock that
/// writes no new row version; SQLite: the write lock, which `BEGIN IMMEDIATE`
/// already holds). Used where a rule reads other rows before writing
/// (capacity, signatures).
pub async fn lock_row<C: ConnectionTrait>(conn: &C, table: &str, id: i64) -> AppResult<bool> {
    let backend = conn.get_database_backend();
    let lock = if backend == DbBackend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT id FROM {table} WHERE id = {id}{lock}");
    Ok(conn.query_one_raw(sea_orm::Statement::from_string(backend, sql)).await?.is_some())
}
