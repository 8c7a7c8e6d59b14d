//! The change log: one event per committed change, written in the same
//! transaction as the change itself. It is the audit trail and the feed
//! partners sync from.

use entity::change_event;
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, ExprTrait};

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

/// Inserts one event row, stamped with the writing transaction's id on
/// PostgreSQL (the feed's commit order; see [`visible_prefix`]).
pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    operation: ChangeOperation,
    entity_type: &str,
    entity_id: i64,
    actor_org_id: i64,
    subject: &str,
    changed_fields: &str,
) -> Result<(), sea_orm::DbErr> {
    use change_event::Column as C;
    let backend = conn.get_database_backend();
    let txid: SimpleExpr = match backend {
        DbBackend::Postgres => Expr::cust("pg_current_xact_id()::text::bigint"),
        _ => Expr::val(0i64),
    };
    let statement = Query::insert()
        .into_table(change_event::Entity)
        .columns([
            C::At,
            C::Operation,
            C::EntityType,
            C::EntityId,
            C::ActorOrgId,
            C::Subject,
            C::ChangedFields,
            C::Txid,
        ])
        .values_panic([
            now().into(),
            operation.as_str().into(),
            entity_type.into(),
            entity_id.into(),
            actor_org_id.into(),
            subject.into(),
            changed_fields.into(),
            txid,
        ])
        .to_owned();
    conn.execute_raw(backend.build(&statement)).await?;
    Ok(())
}

/// On PostgreSQL, the events whose transactions have all ended: those
/// older than the oldest transaction still running. Every event a later
/// commit can add sorts after them in `(txid, id)` order, so a consumer that
/// reads this prefix never misses an event and never sees one twice.
/// On SQLite, writers are serialised, so every committed event qualifies.
pub fn visible_prefix(backend: DbBackend) -> Option<SimpleExpr> {
    match backend {
        DbBackend::Postgres => Some(
            Expr::col(change_event::Column::Txid)
                .lt(Expr::cust("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")),
        ),
        _ => None,
    }
}

/// Events `actor` may read: of record types whose read scope it holds, and
/// for MOUs and commitments only those of MOUs it may see.
pub fn readable(actor: &Actor) -> sea_orm::Condition {
    use crate::domain::access::Scope;
    use entity::commitment;
    use sea_orm::sea_query::Query;
    use sea_orm::{ColumnTrait, Condition};

    let kind = |k: Kind| change_event::Column::EntityType.eq(k.name());
    let mut any = Condition::any().add(kind(Kind::Organization));
    for (k, scope) in [
        (Kind::Community, Scope::CommunitiesRead),
        (Kind::Programme, Scope::ProgrammesRead),
        (Kind::Curriculum, Scope::CurriculaRead),
        (Kind::Enrolment, Scope::EnrolmentsRead),
    ] {
        if actor.has(scope) {
            any = any.add(kind(k));
        }
    }
    if actor.has(Scope::MousRead) {
        let visible_mous = || {
            Query::select()
                .column(entity::mou::Column::Id)
                .from(entity::mou::Entity)
                .cond_where(super::mous::visible(actor))
                .to_owned()
        };
        any = any
            .add(Condition::all().add(kind(Kind::Mou)).add(change_event::Column::EntityId.in_subquery(visible_mous())))
            .add(
                Condition::all().add(kind(Kind::Commitment)).add(
                    change_event::Column::EntityId.in_subquery(
                        Query::select()
                            .column(commitment::Column::Id)
                            .from(commitment::Entity)
                            .and_where(commitment::Column::MouId.in_subquery(visible_mous()))
                            .to_owned(),
                    ),
                ),
            );
    }
    any
}

/// The keyset of the change feed: commit order, `(txid, id)`.
pub const SORT: super::keyset::SortKey = super::keyset::SortKey {
    tag: "change.commit",
    column: "txid",
    value: super::keyset::SortValue::Int,
    descending: false,
};

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
    if let Some(prefix) = visible_prefix(store.backend()) {
        select = select.filter(prefix);
    }
    if let Some((kind, id)) = entity {
        select = select
            .filter(change_event::Column::EntityType.eq(kind.name()))
            .filter(change_event::Column::EntityId.eq(id));
    }
    if let Some(types) = entity_types {
        for t in types {
            if Kind::from_name(t).is_none() {
                return Err(crate::error::AppError::bad_input("entityTypes", format!("unknown entity type {t}")));
            }
        }
        select = select.filter(change_event::Column::EntityType.is_in(types.iter().cloned()));
    }
    super::keyset::window(args, SORT)?.fetch(&store.db, select, |e| Some(e.txid.to_string()), |e| e.id).await
}
