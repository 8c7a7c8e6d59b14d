//! PostgreSQL: numbering committed events.
//!
//! Writers commit their event into `change_event_inbox` (see
//! `crate::store::changes::insert_rows`). A pass moves the committed inbox rows
//! into `change_events`, giving them the ids that follow the last one there,
//! in inbox order. Rows that commit while a pass runs are invisible to it and
//! are numbered by a later pass, after everything numbered before. So:
//! - positions are handed out by one transaction at a time (the pass holds a
//!   transaction advisory lock), each pass's positions follow the previous
//!   pass's, and a pass commits whole: a reader sees a prefix of the feed,
//!   never a gap that fills in later;
//! - no write waits for another write: the only serialised work is the pass
//!   itself, which handles up to [`BATCH`] events at a time.
//!
//! Locks and channels are keyed by the connection's schema, so services on
//! different schemas of one database (tests) never share a sequencer.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};

/// Most events moved by one pass.
pub const BATCH: i64 = 5000;

/// The advisory-lock class of a pass (with the schema's hash as the object).
pub const PASS_LOCK: i32 = 0x5046_5351; // "PFSQ"
/// The advisory-lock class of the sequencer's leadership.
pub const LEADER_LOCK: i32 = 0x5046_4c44; // "PFLD"

/// The notification channel writers use to wake the sequencer.
pub fn inbox_channel(schema: &str) -> String {
    format!("feed_inbox_{schema}")
}

/// The notification channel the sequencer announces new positions on.
pub fn advanced_channel(schema: &str) -> String {
    format!("feed_advanced_{schema}")
}

/// What one pass did.
#[derive(Clone, Debug, Default)]
pub struct Pass {
    /// Events numbered.
    pub moved: i64,
    /// The highest position after the pass (0 when the feed is empty).
    pub head: i64,
    /// For each event numbered, seconds from when it was written to now.
    pub delays: Vec<f64>,
}

/// Numbers up to [`BATCH`] committed inbox events. Safe to call from any
/// process at any time: passes never interleave.
pub async fn pass(db: &DatabaseConnection) -> Result<Pass, sea_orm::DbErr> {
    let tx = db.begin().await?;
    tx.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PASS_LOCK}, hashtext(current_schema()))")).await?;
    let rows = tx
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH moved AS ( \
                DELETE FROM change_event_inbox \
                WHERE id IN (SELECT id FROM change_event_inbox ORDER BY id LIMIT $1) \
                RETURNING id, at, operation, entity_type, entity_id, actor_org_id, subject, changed_fields, diff \
             ), base AS (SELECT COALESCE(MAX(id), 0) AS last FROM change_events) \
             INSERT INTO change_events (id, at, operation, entity_type, entity_id, actor_org_id, subject, changed_fields, diff) \
             SELECT base.last + row_number() OVER (ORDER BY moved.id), moved.at, moved.operation, \
                    moved.entity_type, moved.entity_id, moved.actor_org_id, moved.subject, moved.changed_fields, moved.diff \
             FROM moved, base \
             RETURNING id, EXTRACT(EPOCH FROM (clock_timestamp() - at))::float8 AS delay",
            [BATCH.into()],
        ))
        .await?;
    let mut result = Pass { moved: rows.len() as i64, ..Default::default() };
    for row in &rows {
        let id: i64 = row.try_get("", "id")?;
        result.head = result.head.max(id);
        result.delays.push(row.try_get::<f64>("", "delay").unwrap_or(0.0));
    }
    if result.moved > 0 {
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify('feed_advanced_' || current_schema(), $1)",
            [result.head.to_string().into()],
        ))
        .await?;
    } else {
        result.head = head(&tx).await?;
    }
    tx.commit().await?;
    Ok(result)
}

/// Numbers every committed inbox event (for command-line writers, which
/// may run while no service does).
pub async fn drain(db: &DatabaseConnection) -> Result<i64, sea_orm::DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(0);
    }
    let mut total = 0;
    loop {
        let done = pass(db).await?;
        total += done.moved;
        if done.moved < BATCH {
            return Ok(total);
        }
    }
}

/// The highest position in the feed.
pub async fn head<C: ConnectionTrait>(conn: &C) -> Result<i64, sea_orm::DbErr> {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COALESCE(MAX(id), 0) AS head FROM change_events",
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get::<i64>("", "head")?,
        None => 0,
    })
}

/// How many committed events wait for a position.
pub async fn pending<C: ConnectionTrait>(conn: &C) -> Result<i64, sea_orm::DbErr> {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM change_event_inbox",
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get::<i64>("", "n")?,
        None => 0,
    })
}
