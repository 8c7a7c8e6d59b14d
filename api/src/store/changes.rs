//! The change log: one event per committed change, written in the same
//! transaction as the change itself. It is the audit trail and the feed
//! partners sync from.

use entity::change_event;
use sea_orm::{ConnectionTrait, DbBackend};

use super::now;
use super::snapshots::{self, Snapshot};
use crate::domain::access::Actor;
use crate::domain::enums::ChangeOperation;
use crate::domain::ids::Kind;
use crate::error::AppResult;

/// Records that `actor` applied `operation` to record `id` of `kind`,
/// changing `fields` (GraphQL field names), with the value of each changed
/// field before and after: `before` is the record's snapshot taken before
/// the change (`None` for a creation), the "after" is read here, inside the
/// same transaction. Fields whose values differ are recorded as changed
/// even when `fields` does not name them.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    operation: ChangeOperation,
    kind: Kind,
    id: i64,
    fields: &[&str],
    before: Option<Snapshot>,
) -> AppResult<()> {
    let after = snapshots::take(conn, kind, id).await?;
    record_snapshots(conn, actor, operation, kind, id, fields, before, after).await
}

/// Like [`record`], with the record's "after" given (built by the caller
/// from what it wrote, where reading it again would cost a query).
#[allow(clippy::too_many_arguments)]
pub async fn record_snapshots<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    operation: ChangeOperation,
    kind: Kind,
    id: i64,
    fields: &[&str],
    before: Option<Snapshot>,
    after: Snapshot,
) -> AppResult<()> {
    let (fields, diff) = diff_of(operation, fields, before.as_ref(), &after);
    let subject: String = actor.subject.chars().take(200).collect();
    let row = (operation, kind.name(), id, actor.org_id, subject.as_str(), fields.as_str(), Some(diff));
    insert_rows(conn, [row]).await?;
    Ok(())
}

/// Like [`record`] for many records of `kind` that `actor` created, in one
/// statement per 500 events (the import's batches).
pub async fn record_created<C: ConnectionTrait>(conn: &C, actor: &Actor, kind: Kind, ids: &[i64]) -> AppResult<()> {
    let subject: String = actor.subject.chars().take(200).collect();
    for chunk in ids.chunks(500) {
        let mut after = snapshots::take_many(conn, kind, chunk).await?;
        let rows: Vec<_> = chunk
            .iter()
            .map(|id| {
                let snapshot = after.remove(id).unwrap_or_default();
                let (fields, diff) = diff_of(ChangeOperation::Created, &[], None, &snapshot);
                (ChangeOperation::Created, kind.name(), *id, actor.org_id, subject.clone(), fields, Some(diff))
            })
            .collect();
        insert_rows(conn, rows.iter().map(|(o, k, i, a, s, f, d)| (*o, *k, *i, *a, s.as_str(), f.as_str(), d.clone())))
            .await?;
    }
    Ok(())
}

/// Replaces every value of `field` in the diffs of record `id`'s events
/// (committed, and on PostgreSQL still in the inbox) with `replacement`:
/// the erasure of personal data on request. The events themselves, and
/// that the field changed, stay.
pub async fn scrub<C: ConnectionTrait>(
    conn: &C,
    kind: Kind,
    id: i64,
    field: &str,
    replacement: &serde_json::Value,
) -> AppResult<()> {
    use sea_orm::{DbBackend, Statement};
    let backend = conn.get_database_backend();
    let tables: &[&str] =
        if backend == DbBackend::Postgres { &["change_events", "change_event_inbox"] } else { &["change_events"] };
    let (p1, p2) = if backend == DbBackend::Postgres { ("$1", "$2") } else { ("?1", "?2") };
    for table in tables {
        let select =
            format!("SELECT id, diff FROM {table} WHERE entity_type = {p1} AND entity_id = {p2} AND diff IS NOT NULL");
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(backend, select, [kind.name().into(), id.into()]))
            .await?;
        for row in rows {
            let event: i64 = row.try_get("", "id")?;
            let text: String = row.try_get("", "diff")?;
            let mut changes: Vec<FieldChange> = serde_json::from_str(&text).unwrap_or_default();
            let mut touched = false;
            for change in changes.iter_mut().filter(|c| c.field == field) {
                for value in [&mut change.before, &mut change.after] {
                    if !value.is_null() && value != replacement {
                        *value = replacement.clone();
                        touched = true;
                    }
                }
            }
            if touched {
                let update = format!("UPDATE {table} SET diff = {p1} WHERE id = {p2}");
                let diff = serde_json::to_string(&changes).unwrap_or_else(|_| "[]".to_owned());
                let values: [sea_orm::Value; 2] = [diff.into(), event.into()];
                conn.execute_raw(Statement::from_sql_and_values(backend, update, values)).await?;
            }
        }
    }
    Ok(())
}

/// One field's change: its name and its values before and after.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldChange {
    /// The GraphQL field.
    pub field: String,
    /// Its value before (null for a creation).
    pub before: serde_json::Value,
    /// Its value after.
    pub after: serde_json::Value,
}

/// The changed fields (space-separated; "*" for a creation) and the diff
/// (JSON: a list of [`FieldChange`] in field order) of a change.
pub fn diff_of(
    operation: ChangeOperation,
    fields: &[&str],
    before: Option<&Snapshot>,
    after: &Snapshot,
) -> (String, String) {
    let empty = Snapshot::new();
    let before = before.unwrap_or(&empty);
    let mut names: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    if operation == ChangeOperation::Created {
        names.extend(after.keys().map(String::as_str));
    } else {
        names.extend(fields.iter().copied());
        names.extend(after.iter().filter(|(k, v)| before.get(*k) != Some(*v)).map(|(k, _)| k.as_str()));
        names.extend(before.keys().filter(|k| !after.contains_key(*k)).map(String::as_str));
    }
    let changes: Vec<FieldChange> = names
        .iter()
        .map(|name| FieldChange {
            field: (*name).to_owned(),
            before: before.get(*name).cloned().unwrap_or_default(),
            after: after.get(*name).cloned().unwrap_or_default(),
        })
        .collect();
    let fields = match operation {
        ChangeOperation::Created => "*".to_owned(),
        _ => names.into_iter().collect::<Vec<_>>().join(" "),
    };
    (fields, serde_json::to_string(&changes).unwrap_or_else(|_| "[]".to_owned()))
}

/// The recorded diff of an event (empty for events recorded before diffs were).
pub fn diff(event: &change_event::Model) -> Vec<FieldChange> {
    event.diff.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default()
}

/// One event: operation, record type, record id, actor's organisation,
/// subject, changed fields, diff (JSON).
type EventRow<'a> = (ChangeOperation, &'a str, i64, i64, &'a str, &'a str, Option<String>);

/// Inserts events in one statement.
///
/// The feed is read in id order, so ids must become visible in commit
/// order. SQLite serialises writers (`BEGIN IMMEDIATE`), so the event takes
/// its id, its feed position, here. On PostgreSQL a sequence value is taken
/// before its transaction commits, so a later id could commit first and a
/// reader would skip the earlier one; the event therefore goes into the
/// inbox, and the feed's sequencer numbers it once it has committed (see
/// [`crate::feed::sequencer`]). No writer waits for another.
async fn insert_rows<'a, C: ConnectionTrait>(
    conn: &C,
    rows: impl IntoIterator<Item = EventRow<'a>>,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::{Alias, Query};
    let table = match conn.get_database_backend() {
        DbBackend::Postgres => "change_event_inbox",
        _ => "change_events",
    };
    let at = now();
    let mut statement = Query::insert();
    statement.into_table(Alias::new(table)).columns(
        ["at", "operation", "entity_type", "entity_id", "actor_org_id", "subject", "changed_fields", "diff"]
            .map(Alias::new),
    );
    for (operation, entity_type, entity_id, actor_org_id, subject, changed_fields, diff) in rows {
        statement
            .values([
                at.into(),
                operation.as_str().into(),
                entity_type.into(),
                entity_id.into(),
                actor_org_id.into(),
                subject.into(),
                changed_fields.into(),
                diff.into(),
            ])
            .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    }
    conn.execute(&statement).await?;
    Ok(())
}

/// Events `actor` may read (the read rules of `domain::access`, in SQL).
pub fn readable(actor: &Actor) -> sea_orm::Condition {
    super::rules::readable_events(actor)
}

/// The keyset of the change feed: id order, which is the order events
/// became readable in (see [`insert`]).
pub const SORT: super::keyset::SortKey = super::keyset::SortKey::by_id("change.id");

/// `BAD_USER_INPUT` unless every name is a record type of the feed.
pub fn check_entity_types(types: &[String]) -> AppResult<()> {
    match types.iter().find(|t| Kind::from_name(t).is_none_or(|k| !k.in_feed())) {
        Some(t) => Err(crate::error::AppError::bad_input("entityTypes", format!("unknown entity type {t}"))),
        None => Ok(()),
    }
}

/// The feed position a cursor given in `field` stands for.
pub fn position(cursor: &str, field: &str) -> AppResult<i64> {
    let args = super::keyset::PageArgs { after: Some(cursor.to_owned()), ..Default::default() };
    super::keyset::window(&args, SORT)
        .map_err(|_| crate::error::AppError::bad_input(field, format!("{field} is not a change-feed cursor")))
        .map(|w| w.after_id().unwrap_or(0))
}

/// A page of the feed after a cursor, optionally of some record types only.
pub async fn page(
    store: &super::Store,
    actor: &Actor,
    args: &super::keyset::PageArgs,
    entity_types: Option<&[String]>,
    entity: Option<(Kind, i64)>,
) -> AppResult<super::keyset::Page<change_event::Model>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut select = change_event::Entity::find().filter(readable(actor));
    if let Some((kind, id)) = entity {
        select = select
            .filter(change_event::Column::EntityType.eq(kind.name()))
            .filter(change_event::Column::EntityId.eq(id));
    }
    if let Some(types) = entity_types {
        check_entity_types(types)?;
        select = select.filter(change_event::Column::EntityType.is_in(types.iter().cloned()));
    }
    super::keyset::window(args, SORT)?.fetch(&store.db, select, |_| None, |e| e.id).await
}
