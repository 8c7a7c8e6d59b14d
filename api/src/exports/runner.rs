//! Running one export: every page at one snapshot, and the change feed's
//! position at that snapshot, so a partner loads the export and then
//! follows `changes(after: export.cursor)` with nothing missed and nothing
//! repeated.
//!
//! ## The snapshot
//!
//! The runner opens a connection of its own (a pool of exactly one,
//! never closed for idleness or age: [`connect::connect_single`]), starts a
//! transaction on it with raw SQL, and builds a [`Store`] on it. Each page
//! runs through the schema with that store and loaders on it in the
//! request's data (async-graphql looks up request data before schema
//! data, so resolvers' `ctx.store()` and loaders read the snapshot), so
//! every page and every nested read sees the same committed state.
//!
//! - **PostgreSQL**: `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`; the
//!   snapshot is taken by the transaction's first statement. At the end
//!   the runner checks that `now()` (the transaction's start time) is what
//!   it read at the start, so a connection silently replaced meanwhile
//!   fails the export instead of mixing snapshots.
//! - **SQLite**: `BEGIN`; in WAL mode the first read fixes the snapshot
//!   (writers go on committing). At the end `COMMIT` fails if the
//!   transaction is no longer open.
//!
//! ## The feed position at the snapshot
//!
//! The cursor must be the position `p` such that an event is at or before
//! `p` exactly when its write is visible in the snapshot.
//!
//! - **SQLite** serialises writers (`BEGIN IMMEDIATE`) and an event takes
//!   its id inside its write's transaction. So the events visible in the
//!   snapshot are exactly those of the visible writes, and they are the ids
//!   up to `max(change_events.id)` read in the snapshot (the first read).
//! - **PostgreSQL** writers commit their event into `change_event_inbox`;
//!   the sequencer's passes move committed inbox rows into `change_events`
//!   with the next ids, one pass at a time, each whole. The runner runs a
//!   pass, then starts the snapshot and reads, in it, the inbox's count and
//!   `max(change_events.id)`. If the inbox is empty in the snapshot, every
//!   write visible in it has its event in `change_events` (it was in the
//!   inbox in the same transaction, and the pass that moved it is visible
//!   too, or the row would still be in the inbox), at an id up to that
//!   max; and every event up to the max was moved by a visible pass, which
//!   only moved rows of writes committed before it, so visible too. Later
//!   passes number after the max. If the inbox is not empty, the
//!   positions its rows will get are unknown, so the runner rolls back,
//!   runs another pass and tries again (up to [`SNAPSHOT_TRIES`] times,
//!   then the export fails with the retryable code `BUSY`).

use std::collections::BTreeSet;

use async_graphql::{Request, ServerError, Value as ConstValue, Variables};
use entity::export;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Map, Value};
use tracing::Instrument;

use super::rewrite::{self, AFTER_VAR, FIRST_VAR, Items, PAGE_KEY, PAGE_SIZE, Plan};
use super::{CHUNK_BYTES, Context};
use crate::domain::access::{Actor, Scope};
use crate::domain::enums::ExportFormat;
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::governance::pii_log::RequestMeta;
use crate::store::loaders::Loaders;
use crate::store::{Store, connect, exports as store};

/// How many times the runner tries for a snapshot with an empty feed inbox.
pub const SNAPSHOT_TRIES: u32 = 100;

/// Why an export failed, as its `error` shows it.
#[derive(Debug)]
pub struct Failure {
    /// The `error.code`.
    pub code: String,
    /// The `error.message`, written for the client.
    pub message: String,
}

impl Failure {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Failure { code: code.to_owned(), message: message.into() }
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        if let AppError::Internal(cause) | AppError::Unavailable(cause) = &e {
            tracing::error!(code = e.code(), cause = %cause, "export failed");
        }
        Failure::new(e.code(), e.message())
    }
}

impl From<sea_orm::DbErr> for Failure {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::from(e).into()
    }
}

/// How a run ended without failing.
enum Ended {
    /// Written whole.
    Completed { objects: u64, bytes: u64 },
    /// It stopped running meanwhile (canceled, or failed by the janitor).
    Stopped,
}

/// The variables of a page: the caller's, with the page size and cursor.
pub fn page_variables(variables: &Map<String, Value>, first: u64, after: Option<&str>) -> Variables {
    let mut variables = variables.clone();
    variables.insert(FIRST_VAR.to_owned(), Value::from(first));
    variables.insert(AFTER_VAR.to_owned(), after.map_or(Value::Null, Value::from));
    Variables::from_json(Value::Object(variables))
}

/// The caller's variables, stored as JSON text.
pub fn stored_variables(text: Option<&str>) -> Map<String, Value> {
    match text.map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(map))) => map,
        _ => Map::new(),
    }
}

/// A page's first error, as the export's failure: its code and message,
/// with where it happened.
pub fn failure_of(error: &ServerError) -> Failure {
    let code = match error.extensions.as_ref().and_then(|e| e.get("code")) {
        Some(async_graphql::Value::String(code)) => code.clone(),
        Some(async_graphql::Value::Enum(code)) => code.to_string(),
        _ => "BAD_USER_INPUT".to_owned(),
    };
    let path: Vec<String> = error
        .path
        .iter()
        .map(|p| match p {
            async_graphql::PathSegment::Field(name) => name.clone(),
            async_graphql::PathSegment::Index(n) => n.to_string(),
        })
        .collect();
    let message =
        if path.is_empty() { error.message.clone() } else { format!("{} (at {})", error.message, path.join(".")) };
    Failure { code, message }
}

/// Runs `export` (claimed by this replica) to its end, and records how it ended.
pub async fn run(context: &Context, export: export::Model) {
    let id = export.id;
    let span = tracing::info_span!("export", export_id = id, org_id = export.organization_id);
    async move {
        tracing::info!(format = %export.format, "export started");
        let started = std::time::Instant::now();
        let outcome = write(context, &export).await;
        let exports = &context.exports;
        let cleanup = match outcome {
            Ok(Ended::Completed { objects, bytes }) => {
                exports.count("completed");
                tracing::info!(objects, bytes, seconds = started.elapsed().as_secs_f64(), "export completed");
                false
            }
            Ok(Ended::Stopped) => {
                tracing::info!("export stopped: canceled or interrupted");
                true
            }
            Err(failure) => {
                exports.count("failed");
                tracing::warn!(code = %failure.code, "export failed");
                if let Err(e) = store::fail(&context.store, id, &failure.code, &failure.message).await {
                    tracing::error!(code = e.code(), "recording an export's failure failed");
                }
                true
            }
        };
        // Nothing partial stays downloadable (and the janitor deletes
        // whatever this misses).
        if cleanup && let Err(e) = store::delete_chunks(&context.store, id).await {
            tracing::warn!(code = e.code(), "deleting a stopped export's data failed");
        }
    }
    .instrument(span)
    .await
}

/// The caller, as the export runs: its organisation, subject and the scopes
/// of the token that started it.
async fn actor_of(context: &Context, export: &export::Model) -> Result<Actor, Failure> {
    let org = context.orgs.get(export.organization_id).await?.ok_or_else(|| AppError::internal("no organisation"))?;
    let scopes: BTreeSet<Scope> = export.scopes.split_whitespace().filter_map(Scope::parse).collect();
    Ok(Actor {
        org_id: export.organization_id,
        org_code: org.code,
        subject: export.subject.clone(),
        scopes,
        expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
        issuer: "exports".into(),
    })
}

async fn write(context: &Context, export: &export::Model) -> Result<Ended, Failure> {
    let actor = actor_of(context, export).await?;
    let plan = rewrite::plan(&export.query, export.operation_name.as_deref(), export.format)?;
    let variables = stored_variables(export.variables.as_deref());
    if !store::heartbeat(&context.store, export.id, 0, 0).await? {
        return Ok(Ended::Stopped);
    }
    let snapshot = Snapshot::open(context).await?;
    let written = pages(context, export, &actor, &plan, &variables, &snapshot).await;
    let closed = snapshot.close().await;
    let (objects, bytes, mut buffer, seq) = match written? {
        Some(progress) => progress,
        None => return Ok(Ended::Stopped),
    };
    let position = closed?;
    if !buffer.is_empty() {
        store::write_chunk(&context.store, export.id, seq, std::mem::take(&mut buffer)).await?;
    }
    let ttl = chrono::Duration::from_std(context.exports.settings.ttl).unwrap_or_else(|_| chrono::Duration::days(7));
    let expires_at = crate::store::now() + ttl;
    match store::complete(&context.store, export.id, objects, bytes, position, expires_at).await? {
        true => Ok(Ended::Completed { objects, bytes }),
        false => Ok(Ended::Stopped),
    }
}

/// Writes every page; returns the objects and bytes written, what is left
/// to store and its chunk number (`None`: the export stopped running).
async fn pages(
    context: &Context,
    export: &export::Model,
    actor: &Actor,
    plan: &Plan,
    variables: &Map<String, Value>,
    snapshot: &Snapshot,
) -> Result<Option<(u64, u64, Vec<u8>, i32)>, Failure> {
    let settings = &context.exports.settings;
    let meta = RequestMeta {
        request_id: format!("export-{}", ids::encode(Kind::Export, export.id)),
        operation: plan.operation_name.clone(),
        via: "export",
        contacts: Default::default(),
    };
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK_BYTES + 64 * 1024);
    if let Some(columns) = &plan.columns {
        super::csv::record(&mut buffer, columns.iter().map(String::as_str));
    }
    let (mut objects, mut stored, mut seq) = (0u64, 0u64, 0i32);
    let mut after: Option<String> = None;
    loop {
        let mut request = Request::new(plan.text.as_str())
            .variables(page_variables(variables, PAGE_SIZE, after.as_deref()))
            .data(actor.clone())
            .data(Loaders::new(&snapshot.store.db, context.batch_window))
            .data(snapshot.store.clone())
            .data(meta.clone());
        if let Some(name) = &plan.operation_name {
            request = request.operation_name(name.as_str());
        }
        let response = context.schema.execute(request).await;
        context.pii.record_collected(actor, &meta);
        if let Some(error) = response.errors.first() {
            return Err(failure_of(error));
        }
        // The answer stays an async-graphql value: its objects keep the
        // selection's order when written (a serde_json map would sort them).
        let data = response.data;
        let root = field(&data, &plan.root_key);
        let nodes: Vec<&ConstValue> = match &plan.items {
            Items::Nodes(key) => list(root.and_then(|r| field(r, key))),
            Items::Edges(edges, node) => {
                list(root.and_then(|r| field(r, edges))).into_iter().filter_map(|edge| field(edge, node)).collect()
            }
        };
        for node in nodes {
            match (&plan.columns, export.format) {
                (Some(columns), ExportFormat::Csv) => super::csv::row(&mut buffer, columns, node),
                _ => {
                    serde_json::to_writer(&mut buffer, node).map_err(AppError::internal)?;
                    buffer.push(b'\n');
                }
            }
            objects += 1;
        }
        if stored + buffer.len() as u64 > settings.max_bytes || objects > settings.max_objects {
            return Err(Failure::new(
                "EXPORT_TOO_LARGE",
                format!(
                    "the export is past its limit of {} bytes or {} objects: export less (a filter, fewer fields)",
                    settings.max_bytes, settings.max_objects
                ),
            ));
        }
        if buffer.len() >= CHUNK_BYTES {
            stored += buffer.len() as u64;
            store::write_chunk(&context.store, export.id, seq, std::mem::take(&mut buffer)).await?;
            buffer.reserve(CHUNK_BYTES + 64 * 1024);
            seq += 1;
        }
        // Progress, and whether to go on (a cancel or the janitor stops it).
        if !store::heartbeat(&context.store, export.id, objects, stored + buffer.len() as u64).await? {
            return Ok(None);
        }
        let page = root.and_then(|r| field(r, PAGE_KEY));
        match (page.and_then(|p| field(p, "hasNextPage")), page.and_then(|p| field(p, "endCursor"))) {
            (Some(ConstValue::Boolean(true)), Some(ConstValue::String(cursor))) => after = Some(cursor.clone()),
            _ => break,
        }
    }
    let bytes = stored + buffer.len() as u64;
    Ok(Some((objects, bytes, buffer, seq)))
}

/// The items of a list value (none for anything else).
fn list(value: Option<&ConstValue>) -> Vec<&ConstValue> {
    match value {
        Some(ConstValue::List(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

/// The field `key` of an object value.
fn field<'a>(value: &'a ConstValue, key: &str) -> Option<&'a ConstValue> {
    match value {
        ConstValue::Object(map) => map.get(key),
        _ => None,
    }
}

/// One transaction on a connection of its own, and the feed position at it.
struct Snapshot {
    store: Store,
    db: DatabaseConnection,
    /// The feed position at the snapshot.
    position: i64,
    /// PostgreSQL: `now()` as the transaction read it at the start.
    started: Option<String>,
}

impl Snapshot {
    async fn open(context: &Context) -> Result<Snapshot, Failure> {
        let db = connect::connect_single(&context.database).await?;
        let opened = match db.get_database_backend() {
            DbBackend::Postgres => Snapshot::open_postgres(context, &db).await,
            _ => Snapshot::open_sqlite(&db).await,
        };
        match opened {
            Ok((position, started)) => {
                let store = Store { db: db.clone(), statements: Default::default(), feed: context.store.feed.clone() };
                Ok(Snapshot { store, db, position, started })
            }
            Err(e) => {
                let _ = db.close().await;
                Err(e)
            }
        }
    }

    async fn open_sqlite(db: &DatabaseConnection) -> Result<(i64, Option<String>), Failure> {
        db.execute_unprepared("BEGIN").await?;
        // The first read fixes the snapshot, and reads its feed position.
        Ok((crate::feed::sequencer::head(db).await?, None))
    }

    async fn open_postgres(context: &Context, db: &DatabaseConnection) -> Result<(i64, Option<String>), Failure> {
        for attempt in 0..SNAPSHOT_TRIES {
            crate::feed::sequencer::pass(&context.store.db).await?;
            db.execute_unprepared("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
            let row = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT (SELECT count(*) FROM change_event_inbox) AS pending, \
                            (SELECT coalesce(max(id), 0) FROM change_events) AS head, \
                            now()::text AS started",
                ))
                .await?
                .ok_or_else(|| AppError::internal("no row"))?;
            let pending: i64 = row.try_get("", "pending")?;
            if pending == 0 {
                return Ok((row.try_get("", "head")?, Some(row.try_get("", "started")?)));
            }
            db.execute_unprepared("ROLLBACK").await?;
            tokio::time::sleep(std::time::Duration::from_millis(5 + u64::from(attempt.min(20)) * 5)).await;
        }
        Err(Failure::new(
            "BUSY",
            "the change feed was too busy to fix the export's position in it; start the export again",
        ))
    }

    /// Ends the transaction and closes the connection; the feed position,
    /// unless the snapshot was lost on the way.
    async fn close(self) -> Result<i64, Failure> {
        let lost = || Failure::new("SNAPSHOT_LOST", "the export's database snapshot was lost; start it again");
        let checked = match &self.started {
            Some(started) => {
                let now = self
                    .db
                    .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT now()::text AS started"))
                    .await
                    .ok()
                    .flatten()
                    .and_then(|row| row.try_get::<String>("", "started").ok());
                let same = now.as_ref() == Some(started);
                let ended = self.db.execute_unprepared("COMMIT").await.is_ok();
                same && ended
            }
            // SQLite: COMMIT fails when no transaction is open.
            None => self.db.execute_unprepared("COMMIT").await.is_ok(),
        };
        let _ = self.db.close().await;
        if checked { Ok(self.position) } else { Err(lost()) }
    }
}
