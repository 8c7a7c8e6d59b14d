//! The change log: one event per committed change, written in the same
//! transaction as the change itself. It is the audit trail and the feed
//! partners sync from.

use entity::change_event;
use sea_orm::{ConnectionTrait, DbBackend};

use super::now;
use crate::domain::access::Actor;
use crate::domain::enums::ChangeOperation;
use crate::domain::ids::Kind;
use crate::error::AppResult;

/// Records that `actor` applied `operation` to record `id` of `kind`,
/// changing `fields` (GraphQL field names).
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    operation: ChangeOperation,
    kind: Kind,
    id: i64,
    fields: &[&str],
) -> AppResult<()> {
    let mut fields: Vec<&str> = fields.to_vec();
    fields.sort_unstable();
    fields.dedup();
    let subject: String = actor.subject.chars().take(200).collect();
    insert(conn, operation, kind.name(), id, actor.org_id, &subject, &fields.join(" ")).await?;
    Ok(())
}

/// Like [`record`] for many records of `kind` that `actor` changed in the
/// same way, in one statement per 500 events (the import's batches).
pub async fn record_many<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    operation: ChangeOperation,
    kind: Kind,
    ids: &[i64],
    fields: &[&str],
) -> AppResult<()> {
    let mut fields: Vec<&str> = fields.to_vec();
    fields.sort_unstable();
    fields.dedup();
    let fields = fields.join(" ");
    let subject: String = actor.subject.chars().take(200).collect();
    for chunk in ids.chunks(500) {
        let rows =
            chunk.iter().map(|id| (operation, kind.name(), *id, actor.org_id, subject.as_str(), fields.as_str()));
        insert_rows(conn, rows).await?;
    }
    Ok(())
}

/// Inserts one event row.
///
/// The feed is read in id order, so ids must become visible in commit
/// order. SQLite serialises writers (`BEGIN IMMEDIATE`), so the event takes
/// its id, its feed position, here. On PostgreSQL a sequence value is taken
/// before its transaction commits, so a later id could commit first and a
/// reader would skip the earlier one; the event therefore goes into the
/// inbox, and the feed's sequencer numbers it once it has committed (see
/// [`crate::feed::sequencer`]). No writer waits for another.
pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    operation: ChangeOperation,
    entity_type: &str,
    entity_id: i64,
    actor_org_id: i64,
    subject: &str,
    changed_fields: &str,
) -> Result<(), sea_orm::DbErr> {
    insert_rows(conn, [(operation, entity_type, entity_id, actor_org_id, subject, changed_fields)]).await
}

/// One event: operation, record type, record id, actor's organisation,
/// subject, changed fields.
type EventRow<'a> = (ChangeOperation, &'a str, i64, i64, &'a str, &'a str);

/// Inserts events in one statement, into the table [`insert`] explains.
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
        ["at", "operation", "entity_type", "entity_id", "actor_org_id", "subject", "changed_fields"].map(Alias::new),
    );
    for (operation, entity_type, entity_id, actor_org_id, subject, changed_fields) in rows {
        statement
            .values([
                at.into(),
                operation.as_str().into(),
                entity_type.into(),
                entity_id.into(),
                actor_org_id.into(),
                subject.into(),
                changed_fields.into(),
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
