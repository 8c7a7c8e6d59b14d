//! The background tasks that keep the feed moving in a running service.
//!
//! PostgreSQL: every replica runs a candidate that waits for the
//! sequencer's leadership (a session advisory lock on a connection of its
//! own), a listener for the feed's notifications, and a loop that either
//! runs passes (the leader) or wakes the leader after local commits (the
//! others). SQLite: one loop that reads the head after each commit.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgListener};
use sea_orm::sqlx::{Connection, Executor};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio::sync::mpsc;

use super::{Signals, sequencer};
use crate::store::Store;
use crate::store::connect::DbSettings;

/// How often the leader looks for events nobody woke it for (a command-line
/// import, a lost notification).
const LEADER_TICK: Duration = Duration::from_millis(250);
/// How often a replica re-reads the head when nothing woke it.
const HEAD_TICK: Duration = Duration::from_secs(1);
/// Pause after a database error before trying again.
const RETRY: Duration = Duration::from_millis(500);

/// Starts the feed's tasks for `store`.
pub fn spawn(store: Store, settings: DbSettings) {
    match store.backend() {
        DbBackend::Postgres => {
            let leader = Arc::new(AtomicBool::new(false));
            tokio::spawn(candidate(settings, leader.clone(), store.feed.clone()));
            tokio::spawn(postgres_loop(store, leader));
        }
        _ => {
            tokio::spawn(sqlite_loop(store));
        }
    }
}

async fn sqlite_loop(store: Store) {
    let signals = store.feed.clone();
    loop {
        match sequencer::head(&store.db).await {
            Ok(head) => signals.advanced(head),
            Err(e) => tracing::warn!(error = %e, "reading the feed head failed"),
        }
        tokio::select! {
            _ = signals.committed.notified() => {}
            _ = tokio::time::sleep(HEAD_TICK) => {}
        }
    }
}

/// Waits for the sequencer's leadership and holds it while its connection lives.
async fn candidate(settings: DbSettings, leader: Arc<AtomicBool>, signals: Arc<Signals>) {
    loop {
        match hold_leadership(&settings, &leader, &signals).await {
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "feed sequencer leadership lost"),
        }
        leader.store(false, Ordering::SeqCst);
        signals.leader.set(0);
        tokio::time::sleep(RETRY).await;
    }
}

async fn hold_leadership(
    settings: &DbSettings,
    leader: &AtomicBool,
    signals: &Signals,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut options = PgConnectOptions::from_str(&settings.url)?;
    if let Some(schema) = &settings.schema {
        options = options.options([("search_path", schema.as_str())]);
    }
    let mut conn = PgConnection::connect_with(&options).await?;
    conn.execute("SET statement_timeout = 0").await?;
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1, hashtext(current_schema()))")
        .bind(sequencer::LEADER_LOCK)
        .execute(&mut conn)
        .await?;
    tracing::info!("this replica sequences the change feed");
    leader.store(true, Ordering::SeqCst);
    signals.leader.set(1);
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        conn.execute("SELECT 1").await?;
    }
}

enum Wake {
    Inbox,
    Advanced(i64),
    Reconnected,
}

/// Forwards the feed's notifications (on a pooled connection it keeps).
async fn listen(store: Store, schema: String, out: mpsc::Sender<Wake>) {
    let pool = store.db.get_postgres_connection_pool().clone();
    let inbox = sequencer::inbox_channel(&schema);
    let advanced = sequencer::advanced_channel(&schema);
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "feed listener cannot connect");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if let Err(e) = listener.listen_all([inbox.as_str(), advanced.as_str()]).await {
            tracing::warn!(error = %e, "feed listener cannot listen");
            tokio::time::sleep(RETRY).await;
            continue;
        }
        let _ = out.send(Wake::Reconnected).await;
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) if n.channel() == advanced => {
                    let _ = out.send(Wake::Advanced(n.payload().parse().unwrap_or(0))).await;
                }
                Ok(Some(_)) => {
                    let _ = out.send(Wake::Inbox).await;
                }
                // The connection dropped and was re-established: anything
                // sent meanwhile is lost, so the loop re-reads.
                Ok(None) => {
                    let _ = out.send(Wake::Reconnected).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "feed listener failed");
                    tokio::time::sleep(RETRY).await;
                    break;
                }
            }
        }
    }
}

async fn postgres_loop(store: Store, leader: Arc<AtomicBool>) {
    let schema = loop {
        match current_schema(&store).await {
            Ok(schema) => break schema,
            Err(e) => {
                tracing::warn!(error = %e, "feed: cannot read the current schema");
                tokio::time::sleep(RETRY).await;
            }
        }
    };
    let (tx, mut wakes) = mpsc::channel(64);
    tokio::spawn(listen(store.clone(), schema.clone(), tx));
    let signals = store.feed.clone();
    let inbox = sequencer::inbox_channel(&schema);
    let mut need_pass = true;
    let mut need_head = true;
    loop {
        let is_leader = leader.load(Ordering::SeqCst);
        if is_leader && need_pass {
            need_pass = false;
            loop {
                match sequencer::pass(&store.db).await {
                    Ok(done) => {
                        signals.advanced(done.head);
                        for delay in &done.delays {
                            signals.delay.observe(*delay);
                        }
                        need_head = false;
                        if done.moved < sequencer::BATCH {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "feed sequencing pass failed");
                        need_pass = true;
                        tokio::time::sleep(RETRY).await;
                        break;
                    }
                }
            }
        }
        if need_head {
            match sequencer::head(&store.db).await {
                Ok(head) => {
                    signals.advanced(head);
                    need_head = false;
                }
                Err(e) => tracing::warn!(error = %e, "reading the feed head failed"),
            }
        }
        let tick = if is_leader { LEADER_TICK } else { HEAD_TICK };
        tokio::select! {
            _ = signals.committed.notified() => {
                if leader.load(Ordering::SeqCst) {
                    need_pass = true;
                } else if let Err(e) = notify(&store, &inbox).await {
                    tracing::warn!(error = %e, "waking the feed sequencer failed");
                }
            }
            wake = wakes.recv() => match wake {
                Some(Wake::Inbox) => need_pass = true,
                Some(Wake::Advanced(head)) => signals.advanced(head),
                Some(Wake::Reconnected) => { need_pass = true; need_head = true; }
                None => tokio::time::sleep(RETRY).await,
            },
            _ = tokio::time::sleep(tick) => {
                need_pass = true;
                need_head = !leader.load(Ordering::SeqCst);
            }
        }
    }
}

async fn current_schema(store: &Store) -> Result<String, sea_orm::DbErr> {
    let row = store
        .db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT current_schema() AS s"))
        .await?
        .ok_or_else(|| sea_orm::DbErr::Custom("no current schema".into()))?;
    row.try_get::<String>("", "s")
}

async fn notify(store: &Store, channel: &str) -> Result<(), sea_orm::DbErr> {
    store
        .db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, '')",
            [channel.to_owned().into()],
        ))
        .await?;
    Ok(())
}
