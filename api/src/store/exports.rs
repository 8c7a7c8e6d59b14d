//! Exports and their stored results. An export belongs to one
//! organisation: every read here is scoped to it, and another
//! organisation's export is not found.
//!
//! Status moves are single `UPDATE ... WHERE status = ...` statements, so a
//! runner, a cancel and the janitor never overwrite each other's outcome:
//! whichever moves first wins, and the others see zero rows changed.
//!
//! Results are stored in `export_chunks`, about 1 MiB each, in order. They
//! are a copy of records, not records: the chunks of an export that failed,
//! was canceled or expired are deleted (the export's row stays).

use chrono::{DateTime, Utc};
use entity::export;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Statement, Value,
};

use super::keyset::{self, Page, PageArgs, SortKey};
use super::{Store, now};
use crate::domain::access::Actor;
use crate::domain::enums::{ExportFormat, ExportStatus};
use crate::error::AppResult;

/// The keyset of an organisation's exports (creation order).
pub const SORT: SortKey = SortKey::by_id("export.id");

/// The statuses of an export that still runs (at most one per organisation).
const LIVE: [ExportStatus; 2] = [ExportStatus::Queued, ExportStatus::Running];

/// What a caller asks to export, validated.
#[derive(Clone, Debug)]
pub struct NewExport {
    /// The document's text, as sent.
    pub query: String,
    /// The variables, as JSON text.
    pub variables: Option<String>,
    /// The operation to run, when the document has several.
    pub operation_name: Option<String>,
    /// The file format.
    pub format: ExportFormat,
}

/// The scopes the runner reads with: those of the token that started it.
fn scopes_text(actor: &Actor) -> String {
    actor.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

/// The organisation's export that is queued or running, if any.
pub async fn live(store: &Store, org_id: i64) -> AppResult<Option<export::Model>> {
    Ok(export::Entity::find()
        .filter(export::Column::OrganizationId.eq(org_id))
        .filter(export::Column::Status.is_in(LIVE))
        .one(&store.db)
        .await?)
}

/// Queues an export for `actor`'s organisation. `Err` holds the id of the
/// export already queued or running (the partial unique index decides,
/// so two concurrent starts on different replicas cannot both queue).
pub async fn create(store: &Store, actor: &Actor, new: NewExport) -> AppResult<Result<export::Model, i64>> {
    let at = now();
    let row = export::ActiveModel {
        organization_id: Set(actor.org_id),
        subject: Set(actor.subject.chars().take(200).collect()),
        scopes: Set(scopes_text(actor)),
        status: Set(ExportStatus::Queued),
        format: Set(new.format),
        query: Set(new.query),
        variables: Set(new.variables),
        operation_name: Set(new.operation_name),
        object_count: Set(0),
        byte_size: Set(0),
        feed_position: Set(None),
        error_code: Set(None),
        error_message: Set(None),
        created_at: Set(at),
        started_at: Set(None),
        heartbeat_at: Set(at),
        completed_at: Set(None),
        expires_at: Set(None),
        ..Default::default()
    };
    match row.insert(&store.db).await {
        Ok(model) => Ok(Ok(model)),
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            match live(store, actor.org_id).await? {
                Some(running) => Ok(Err(running.id)),
                // It finished between the insert and this read: say so as a conflict.
                None => Err(crate::error::AppError::conflict("another export was starting; try again")),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// The organisation's export `id`, if it has one.
pub async fn get_own(store: &Store, org_id: i64, id: i64) -> AppResult<Option<export::Model>> {
    Ok(export::Entity::find_by_id(id).filter(export::Column::OrganizationId.eq(org_id)).one(&store.db).await?)
}

/// Export `id`, whoever's (for the runner).
pub async fn get(store: &Store, id: i64) -> AppResult<Option<export::Model>> {
    Ok(export::Entity::find_by_id(id).one(&store.db).await?)
}

/// The organisation's exports (unordered, unpaged).
pub fn own(org_id: i64) -> Select<export::Entity> {
    export::Entity::find().filter(export::Column::OrganizationId.eq(org_id))
}

/// A page of the organisation's exports, in creation order.
pub async fn page(store: &Store, org_id: i64, args: &PageArgs) -> AppResult<Page<export::Model>> {
    keyset::window(args, SORT)?.fetch(&store.db, own(org_id), |_| None, |m| m.id).await
}

/// Cancels the organisation's export `id` if it is queued or running;
/// returns whether it did (the runner stops at its next page).
pub async fn cancel(store: &Store, org_id: i64, id: i64) -> AppResult<bool> {
    let result = export::Entity::update_many()
        .col_expr(export::Column::Status, Expr::value(ExportStatus::Canceled.as_str()))
        .col_expr(export::Column::CompletedAt, Expr::value(now()))
        .filter(export::Column::Id.eq(id))
        .filter(export::Column::OrganizationId.eq(org_id))
        .filter(export::Column::Status.is_in(LIVE))
        .exec(&store.db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Takes the oldest queued export for this replica to run: it becomes
/// RUNNING here and nowhere else (the `UPDATE` only moves a row still
/// QUEUED, so of two replicas claiming one row, one wins).
pub async fn claim_next(store: &Store) -> AppResult<Option<export::Model>> {
    let queued: Vec<i64> = export::Entity::find()
        .select_only()
        .column(export::Column::Id)
        .filter(export::Column::Status.eq(ExportStatus::Queued))
        .order_by_asc(export::Column::Id)
        .limit(5)
        .into_tuple()
        .all(&store.db)
        .await?;
    for id in queued {
        let at = now();
        let result = export::Entity::update_many()
            .col_expr(export::Column::Status, Expr::value(ExportStatus::Running.as_str()))
            .col_expr(export::Column::StartedAt, Expr::value(at))
            .col_expr(export::Column::HeartbeatAt, Expr::value(at))
            .filter(export::Column::Id.eq(id))
            .filter(export::Column::Status.eq(ExportStatus::Queued))
            .exec(&store.db)
            .await?;
        if result.rows_affected == 1 {
            return get(store, id).await;
        }
    }
    Ok(None)
}

/// Records progress of a running export; `false` when it no longer runs
/// (canceled, or failed by the janitor): the runner then stops.
pub async fn heartbeat(store: &Store, id: i64, objects: u64, bytes: u64) -> AppResult<bool> {
    let result = export::Entity::update_many()
        .col_expr(export::Column::HeartbeatAt, Expr::value(now()))
        .col_expr(export::Column::ObjectCount, Expr::value(objects as i64))
        .col_expr(export::Column::ByteSize, Expr::value(bytes as i64))
        .filter(export::Column::Id.eq(id))
        .filter(export::Column::Status.eq(ExportStatus::Running))
        .exec(&store.db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Marks a running export completed, downloadable until `expires_at`;
/// `false` when it no longer ran (canceled meanwhile).
pub async fn complete(
    store: &Store,
    id: i64,
    objects: u64,
    bytes: u64,
    feed_position: i64,
    expires_at: DateTime<Utc>,
) -> AppResult<bool> {
    let result = export::Entity::update_many()
        .col_expr(export::Column::Status, Expr::value(ExportStatus::Completed.as_str()))
        .col_expr(export::Column::CompletedAt, Expr::value(now()))
        .col_expr(export::Column::HeartbeatAt, Expr::value(now()))
        .col_expr(export::Column::ExpiresAt, Expr::value(expires_at))
        .col_expr(export::Column::ObjectCount, Expr::value(objects as i64))
        .col_expr(export::Column::ByteSize, Expr::value(bytes as i64))
        .col_expr(export::Column::FeedPosition, Expr::value(feed_position))
        .filter(export::Column::Id.eq(id))
        .filter(export::Column::Status.eq(ExportStatus::Running))
        .exec(&store.db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Marks a queued or running export failed with `code` and a message for
/// the client; `false` when it had already ended.
pub async fn fail(store: &Store, id: i64, code: &str, message: &str) -> AppResult<bool> {
    let result = export::Entity::update_many()
        .col_expr(export::Column::Status, Expr::value(ExportStatus::Failed.as_str()))
        .col_expr(export::Column::CompletedAt, Expr::value(now()))
        .col_expr(export::Column::ErrorCode, Expr::value(code))
        .col_expr(export::Column::ErrorMessage, Expr::value(message))
        .filter(export::Column::Id.eq(id))
        .filter(export::Column::Status.is_in(LIVE))
        .exec(&store.db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Fails every queued or running export whose runner has not reported since
/// `before` (its replica stopped): `INTERRUPTED`. Returns how many.
pub async fn interrupt_stale(store: &Store, before: DateTime<Utc>) -> AppResult<u64> {
    let result = export::Entity::update_many()
        .col_expr(export::Column::Status, Expr::value(ExportStatus::Failed.as_str()))
        .col_expr(export::Column::CompletedAt, Expr::value(now()))
        .col_expr(export::Column::ErrorCode, Expr::value("INTERRUPTED"))
        .col_expr(export::Column::ErrorMessage, Expr::value("the replica running this export stopped; start it again"))
        .filter(export::Column::Status.is_in(LIVE))
        .filter(export::Column::HeartbeatAt.lt(before))
        .exec(&store.db)
        .await?;
    Ok(result.rows_affected)
}

/// Marks completed exports past their expiry `EXPIRED`, and deletes the
/// stored data of every export that cannot be downloaded (expired, failed,
/// canceled). Returns how many exports expired now.
pub async fn expire(store: &Store) -> AppResult<u64> {
    let expired = export::Entity::update_many()
        .col_expr(export::Column::Status, Expr::value(ExportStatus::Expired.as_str()))
        .filter(export::Column::Status.eq(ExportStatus::Completed))
        .filter(export::Column::ExpiresAt.lt(now()))
        .exec(&store.db)
        .await?;
    store
        .db
        .execute_unprepared(
            "DELETE FROM export_chunks WHERE export_id IN \
             (SELECT id FROM exports WHERE status IN ('EXPIRED', 'FAILED', 'CANCELED'))",
        )
        .await?;
    Ok(expired.rows_affected)
}

fn placeholders(backend: DbBackend, n: usize) -> Vec<String> {
    (1..=n).map(|i| if backend == DbBackend::Postgres { format!("${i}") } else { format!("?{i}") }).collect()
}

/// Stores chunk `seq` of export `id`.
pub async fn write_chunk(store: &Store, id: i64, seq: i32, data: Vec<u8>) -> AppResult<()> {
    let backend = store.backend();
    let p = placeholders(backend, 3);
    let sql = format!("INSERT INTO export_chunks (export_id, seq, data) VALUES ({}, {}, {})", p[0], p[1], p[2]);
    let values: Vec<Value> = vec![id.into(), seq.into(), data.into()];
    store.db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    Ok(())
}

/// Deletes the stored data of export `id`.
pub async fn delete_chunks(store: &Store, id: i64) -> AppResult<()> {
    let backend = store.backend();
    let sql = format!("DELETE FROM export_chunks WHERE export_id = {}", placeholders(backend, 1)[0]);
    store.db.execute_raw(Statement::from_sql_and_values(backend, sql, [id.into()])).await?;
    Ok(())
}

/// Chunk `seq` of export `id`, if stored.
pub async fn chunk(store: &Store, id: i64, seq: i32) -> AppResult<Option<Vec<u8>>> {
    let backend = store.backend();
    let p = placeholders(backend, 2);
    let sql = format!("SELECT data FROM export_chunks WHERE export_id = {} AND seq = {}", p[0], p[1]);
    let row = store.db.query_one_raw(Statement::from_sql_and_values(backend, sql, [id.into(), seq.into()])).await?;
    Ok(match row {
        Some(row) => Some(row.try_get::<Vec<u8>>("", "data")?),
        None => None,
    })
}
