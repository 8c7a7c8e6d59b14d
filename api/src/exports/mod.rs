//! Exports: large answers written in the background to a file an
//! organisation downloads (in the manner of Shopify's bulk operations).
//!
//! `startExport` checks the query ([`rewrite`]), charges [`EXPORT_COST`]
//! to the organisation's budget and queues the export in the database.
//! Every serving replica runs a worker ([`spawn`]) that claims queued
//! exports (the accepting replica is woken at once; any replica may take
//! one, so a queued export does not depend on the replica that accepted
//! it staying up) and runs up to `EXPORT_MAX_CONCURRENT` at a time
//! ([`runner`]). The runner pages the query through the service's own
//! schema as the caller, at one database snapshot, and stores the file in
//! chunks in the database, so any replica serves the download
//! (`GET /exports/{id}`, [`crate::http::exports`]).
//!
//! A janitor on every replica, at start and every minute, fails exports
//! whose runner stopped reporting (`INTERRUPTED`: its replica died) and
//! expires completed ones past `EXPORT_TTL_HOURS`, deleting their data
//! (the export's row stays: nothing shared is hard-deleted, and the file
//! was a copy of records, not a record).

pub mod csv;
pub mod rewrite;
pub mod runner;

use std::sync::Arc;
use std::time::Duration;

use prometheus::IntCounterVec;
use tokio::sync::{Notify, Semaphore};

use crate::auth::OrgDirectory;
use crate::config::{DbSettings, ExportSettings};
use crate::governance::pii_log::PiiLog;
use crate::graphql::AppSchema;
use crate::store::{Store, exports as store};

/// Budget points an export costs when it starts, whatever its size (each
/// page must also pass the usual depth and complexity limits).
pub const EXPORT_COST: f64 = 5_000.0;
/// The size of a stored chunk of an export's file.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// How often the janitor looks at most: every minute, or every half of the
/// staleness limit when that is shorter.
const JANITOR_EVERY: Duration = Duration::from_secs(60);
/// How often an idle worker looks for queued exports without being woken
/// (exports queued on another replica).
const POLL_EVERY: Duration = Duration::from_secs(2);

/// The exports of this process: settings, the worker's wake-up, metrics.
pub struct Exports {
    /// The limits and retention.
    pub settings: ExportSettings,
    /// Raised when an export is queued here.
    wake: Notify,
    /// Exports started, completed, failed and canceled (label `event`).
    pub counter: IntCounterVec,
}

impl Exports {
    /// The exports of this process, counting in `counter`.
    pub fn new(settings: ExportSettings, counter: IntCounterVec) -> Arc<Exports> {
        Arc::new(Exports { settings, wake: Notify::new(), counter })
    }

    /// An export was queued: wake this replica's worker.
    pub fn queued(&self) {
        self.count("started");
        self.wake.notify_one();
    }

    /// Counts one `event` (`started`, `completed`, `failed`, `canceled`).
    pub fn count(&self, event: &str) {
        self.counter.with_label_values(&[event]).inc();
    }
}

/// What a runner needs from the process.
#[derive(Clone)]
pub struct Context {
    /// The schema the pages run through.
    pub schema: AppSchema,
    /// A background store: claims, heartbeats, chunks.
    pub store: Store,
    /// How to open the snapshot's own connection.
    pub database: DbSettings,
    /// The batch loaders' window.
    pub batch_window: Duration,
    /// Organisation codes.
    pub orgs: Arc<OrgDirectory>,
    /// The personal-data access log.
    pub pii: Arc<PiiLog>,
    /// Settings and metrics.
    pub exports: Arc<Exports>,
}

/// Starts this replica's export worker and janitor.
pub fn spawn(context: Context) {
    tokio::spawn(janitor(context.store.clone(), context.exports.clone()));
    tokio::spawn(worker(context));
}

/// Claims queued exports and runs them, a few at a time.
async fn worker(context: Context) {
    let permits = Arc::new(Semaphore::new(context.exports.settings.max_concurrent));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else { return };
        let export = loop {
            match store::claim_next(&context.store).await {
                Ok(Some(export)) => break export,
                Ok(None) => {}
                Err(e) => tracing::warn!(code = e.code(), "claiming a queued export failed"),
            }
            tokio::select! {
                _ = context.exports.wake.notified() => {}
                _ = tokio::time::sleep(POLL_EVERY) => {}
            }
        };
        let context = context.clone();
        tokio::spawn(async move {
            runner::run(&context, export).await;
            drop(permit);
        });
    }
}

/// Fails exports whose runner stopped, and expires old ones, at start and
/// every minute.
async fn janitor(store: Store, exports: Arc<Exports>) {
    let stale_after = exports.settings.stale_after;
    let mut every = tokio::time::interval(JANITOR_EVERY.min(stale_after / 2).max(Duration::from_millis(100)));
    loop {
        every.tick().await;
        let before = crate::store::now() - chrono::Duration::from_std(stale_after).unwrap_or_default();
        match store::interrupt_stale(&store, before).await {
            Ok(0) => {}
            Ok(n) => {
                exports.counter.with_label_values(&["failed"]).inc_by(n);
                tracing::warn!(interrupted = n, "exports whose replica stopped were failed as INTERRUPTED");
            }
            Err(e) => tracing::warn!(code = e.code(), "checking for interrupted exports failed"),
        }
        match store::expire(&store).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "expired exports' data deleted"),
            Err(e) => tracing::warn!(code = e.code(), "expiring exports failed"),
        }
    }
}
