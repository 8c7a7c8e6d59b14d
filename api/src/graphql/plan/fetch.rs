//! Reads a plan's rows: one statement per connection, in plan order, each
//! reading only the columns its fields name. A root page has the
//! resolvers' filter, ordering and cursors (`store::communities`,
//! `store::keyset`); a nested level of enrolments is read for all its
//! parents at once, with the rows' programmes and visible MOUs joined in
//! (the MOU row rule is the MOU list's SQL, `store::rules::visible_mous`).

use std::collections::{BTreeSet, HashMap};

use async_graphql::Value;
use chrono::{DateTime, Utc};
use entity::{community, enrolment, mou, programme};
use sea_orm::sea_query::{Alias, Condition, Expr, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, ExprTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};

use super::fields;
use super::select::{LevelColumns, Plan, Source, Table};
use crate::domain::access::Actor;
use crate::error::{AppError, AppResult};
use crate::store::keyset::{self, Page, PageArgs, SortKey, SortValue};
use crate::store::{Store, communities, enrolments, rules};

/// A row of a nested level of enrolments: the values its fields read, in
/// the order of the level's [`LevelColumns`].
pub struct NestedRow {
    pub id: i64,
    /// Its programme was found (always, when joined: it is a foreign key).
    pub programme: bool,
    /// Its programme has an MOU the caller may see.
    pub mou: bool,
    pub values: Vec<Value>,
}

/// A row of a root page: the values its fields read, in the order of the
/// level's [`LevelColumns`].
pub struct Row {
    pub id: i64,
    pub values: Vec<Value>,
}

/// The rows of one connection of a plan.
pub enum Rows {
    Communities(Page<Row>),
    /// Pages by parent id (every parent has one, perhaps empty).
    Enrolments(HashMap<i64, Page<NestedRow>>),
}

/// Reads every connection of `plan`, parents before children.
pub async fn fetch(store: &Store, actor: &Actor, plan: &Plan) -> AppResult<Vec<Rows>> {
    let mut out: Vec<Rows> = Vec::with_capacity(plan.sources.len());
    for source in &plan.sources {
        let rows = match source {
            Source::Communities { filter, key, args, columns } => {
                Rows::Communities(community_page(&store.db, filter, *key, args, columns).await?)
            }
            Source::CommunityEnrolments { parent, filter, args, columns } => {
                let parents: BTreeSet<i64> = match out.get(*parent) {
                    Some(Rows::Communities(page)) => page.rows.iter().map(|(_, row)| row.id).collect(),
                    _ => return Err(AppError::internal("a nested page planned before its parent")),
                };
                Rows::Enrolments(community_enrolments(&store.db, actor, &parents, filter, args, columns).await?)
            }
        };
        out.push(rows);
    }
    Ok(out)
}

/// A page of communities, as `store::communities::page` reads it (the same
/// filter, ordering, bounds and cursors), reading only `level`'s columns.
async fn community_page(
    db: &DatabaseConnection,
    filter: &communities::Filter,
    key: SortKey,
    args: &PageArgs,
    level: &LevelColumns,
) -> AppResult<Page<Row>> {
    let window = keyset::window(args, key)?;
    if window.limit() == 0 {
        return Ok(Page::empty());
    }
    let mut select = window.apply(communities::filtered(filter)?).select_only().column(community::Column::Id);
    // The sort value, for cursors (`id` again when ordering by id alone).
    select = select.column_as(Expr::col((community::Entity, Alias::new(key.column))), "sort_value");
    for (_, column) in &level.columns {
        select = select.column_as(Expr::col((community::Entity, Alias::new(column.name))), column.name);
    }
    let mut rows = Vec::new();
    for row in db.query_all(&select.into_query()).await? {
        let id: i64 = row.try_get_by_index(0)?;
        let sort = match key.value {
            SortValue::IdOnly => None,
            SortValue::Text => row.try_get_by_index::<Option<String>>(1)?,
            SortValue::Time => row.try_get_by_index::<Option<DateTime<Utc>>>(1)?.as_ref().and_then(keyset::time_value),
        };
        let values = level
            .columns
            .iter()
            .enumerate()
            .map(|(i, (_, column))| fields::decode(&row, 2 + i, column.decode))
            .collect::<Result<Vec<_>, _>>()?;
        rows.push((sort, Row { id, values }));
    }
    let page = window.page_from(rows, |(sort, _)| sort.clone(), |(_, row)| row.id);
    Ok(Page {
        rows: page.rows.into_iter().map(|(cursor, (_, row))| (cursor, row)).collect(),
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
    })
}

/// The enrolment pages of `parents` (communities), reading `level`'s columns.
///
/// On PostgreSQL each parent's page is a `LATERAL` subquery with its own
/// `ORDER BY id LIMIT n + 1`, an index range scan per parent; SQLite has no
/// `LATERAL`, so there the pages are cut from one `ROW_NUMBER() OVER
/// (PARTITION BY community_id)` over all the parents' enrolments. Either
/// way the programmes and the MOUs the caller may see are joined in.
async fn community_enrolments(
    db: &DatabaseConnection,
    actor: &Actor,
    parents: &BTreeSet<i64>,
    filter: &enrolments::Filter,
    args: &PageArgs,
    level: &LevelColumns,
) -> AppResult<HashMap<i64, Page<NestedRow>>> {
    let window = keyset::window(args, enrolments::SORT)?;
    let mut by_parent: HashMap<i64, Vec<NestedRow>> = HashMap::new();
    if window.limit() > 0 && !parents.is_empty() {
        let backend = db.get_database_backend();
        let query = level_query(backend, actor, parents, filter, &window, level);
        for row in db.query_all(&query).await? {
            let id: i64 = row.try_get_by_index(0)?;
            let parent: i64 = row.try_get_by_index(1)?;
            let programme = level.programme && row.try_get_by_index::<Option<i64>>(2)?.is_some();
            let mou = level.mou && row.try_get_by_index::<Option<i64>>(3)?.is_some();
            let values = level
                .columns
                .iter()
                .enumerate()
                .map(|(i, (_, column))| fields::decode(&row, FIRST_VALUE + i, column.decode))
                .collect::<Result<Vec<_>, _>>()?;
            by_parent.entry(parent).or_default().push(NestedRow { id, programme, mou, values });
        }
    }
    Ok(parents
        .iter()
        .map(|id| {
            let rows = by_parent.remove(id).unwrap_or_default();
            (*id, window.page_from(rows, |_| None, |r| r.id))
        })
        .collect())
}

/// Where a level's values start in its rows: after the enrolment's id, its
/// parent, and whether its programme and a visible MOU were found.
const FIRST_VALUE: usize = 4;

/// The statement of one nested level (see [`community_enrolments`]).
fn level_query(
    backend: DbBackend,
    actor: &Actor,
    parents: &BTreeSet<i64>,
    filter: &enrolments::Filter,
    window: &keyset::Window,
    level: &LevelColumns,
) -> SelectStatement {
    let e = Alias::new("e");
    let order = window.read_order();
    // The enrolment columns the outer query reads from `e`.
    let mut own: Vec<&'static str> = vec!["id", "community_id"];
    if level.programme {
        own.push("programme_id");
    }
    for (table, column) in &level.columns {
        if *table == Table::Enrolment && !own.contains(&column.name) {
            own.push(column.name);
        }
    }
    let mut inner = window.bounds(enrolments::filtered(filter)).select_only();
    for name in &own {
        inner = inner.column_as(Expr::col((enrolment::Entity, Alias::new(*name))), *name);
    }
    let mut query = Query::select();
    if backend == DbBackend::Postgres {
        let parent = Alias::new("parent");
        let inner = inner
            .filter(
                Expr::col((enrolment::Entity, enrolment::Column::CommunityId))
                    .equals((parent.clone(), Alias::new("id"))),
            )
            .order_by(enrolment::Column::Id, order.clone())
            .limit(window.limit() + 1)
            .into_query();
        query
            .from_as(community::Entity, parent.clone())
            .join_lateral(JoinType::InnerJoin, inner, e.clone(), Expr::cust("TRUE"))
            .and_where(Expr::col((parent, Alias::new("id"))).is_in(parents.iter().copied()));
    } else {
        let direction = if order == Order::Desc { "DESC" } else { "ASC" };
        let inner = inner
            .filter(enrolment::Column::CommunityId.is_in(parents.iter().copied()))
            .expr_as(Expr::cust(format!("ROW_NUMBER() OVER (PARTITION BY community_id ORDER BY id {direction})")), "rn")
            .into_query();
        query
            .from_subquery(inner, e.clone())
            .and_where(Expr::col((e.clone(), Alias::new("rn"))).lte(window.limit() as i64 + 1));
    }
    query.column((e.clone(), Alias::new("id"))).column((e.clone(), Alias::new("community_id")));
    // Whether the programme and a visible MOU were found (null otherwise).
    if level.programme {
        query.column((programme::Entity, programme::Column::Id));
        query.join(
            JoinType::LeftJoin,
            programme::Entity,
            Expr::col((programme::Entity, programme::Column::Id)).equals((e.clone(), Alias::new("programme_id"))),
        );
    } else {
        query.expr(Expr::val(Option::<i64>::None));
    }
    if level.mou {
        query.column((mou::Entity, mou::Column::Id));
        query.join(
            JoinType::LeftJoin,
            mou::Entity,
            Condition::all()
                .add(Expr::col((mou::Entity, mou::Column::Id)).equals((programme::Entity, programme::Column::MouId)))
                .add(rules::visible_mous(actor)),
        );
    } else {
        query.expr(Expr::val(Option::<i64>::None));
    }
    for (table, column) in &level.columns {
        let name = Alias::new(column.name);
        match table {
            // (A nested level's own table is `e`; `Community` is a root's.)
            Table::Enrolment | Table::Community => query.column((e.clone(), name)),
            Table::Programme => query.column((programme::Entity, name)),
            Table::Mou => query.column((mou::Entity, name)),
        };
    }
    query.order_by((e.clone(), Alias::new("community_id")), Order::Asc).order_by((e, Alias::new("id")), order);
    query
}
