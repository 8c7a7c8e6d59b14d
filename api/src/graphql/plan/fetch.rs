//! Reads a plan's rows, each statement reading only the columns its fields
//! name, decoded by position. A root page has the resolvers' filter,
//! ordering and cursors (`store::communities`, `store::keyset`); a nested
//! level of enrolments is read for all its parents at once, with the rows'
//! programmes and visible MOUs joined in (the MOU row rule is the MOU list's
//! SQL, `store::rules::visible_mous`).
//!
//! On PostgreSQL a nested page is a `LATERAL` subquery with its own
//! `ORDER BY id LIMIT n + 1` (an index range scan per parent), and a root
//! page whose rows have one nested level is read together with it, in one
//! statement. SQLite has no `LATERAL`: there each level is a statement, the
//! nested pages cut from one `ROW_NUMBER() OVER (PARTITION BY community_id)`
//! and, unless they read times or dates, handed back one row per parent
//! with its enrolments aggregated by SQLite as JSON (a fifth of the rows
//! and values through the driver's worker thread). One statement with a
//! correlated `IN (… LIMIT n + 1)` per parent instead cost SQLite 25% more
//! CPU per W1 request.
//!
//! The page sizes are written into the SQL (`store::prepared`), so
//! PostgreSQL keeps one generic plan per statement instead of planning it
//! again on every execution.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::{community, enrolment, mou, programme};
use sea_orm::sea_query::{Alias, Condition, Expr, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, ExprTrait, JoinType, QueryFilter, QueryOrder, QueryResult, QuerySelect,
    QueryTrait,
};

use super::fields;
use super::select::{LevelColumns, Plan, Source, Table};
use crate::domain::access::Actor;
use crate::error::{AppError, AppResult};
use crate::store::keyset::{self, Page, SortValue, Window};
use crate::store::{Store, communities, enrolments, prepared, rules};

/// A row of a nested level of enrolments: the values its fields read, in
/// the order of the level's [`LevelColumns`].
pub struct NestedRow {
    pub id: i64,
    /// Its programme was found (always, when joined: it is a foreign key).
    pub programme: bool,
    /// Its programme has an MOU the caller may see.
    pub mou: bool,
    pub values: Values,
}

/// A row of a root page: the values its fields read, in the order of the
/// level's [`LevelColumns`].
pub struct Row {
    pub id: i64,
    pub values: Values,
}

/// A row's values as their fields' JSON, one after another in one buffer.
pub struct Values {
    json: Vec<u8>,
    /// Where each value ends in `json`.
    ends: Vec<usize>,
}

impl Values {
    /// The values of `level`'s columns, read from `row` from `offset` on.
    fn read(row: &QueryResult, offset: usize, level: &LevelColumns) -> AppResult<Values> {
        let mut values = Values { json: Vec::with_capacity(32 * level.columns.len()), ends: Vec::new() };
        values.ends.reserve_exact(level.columns.len());
        for (i, (_, column)) in level.columns.iter().enumerate() {
            fields::write_json(row, offset + i, column.decode, &mut values.json)?;
            values.ends.push(values.json.len());
        }
        Ok(values)
    }

    /// The values of `level`'s columns from SQLite's JSON of them
    /// ([`aggregated`]); `None` if one does not fit its column.
    fn from_json(json: &[serde_json::Value], level: &LevelColumns) -> Option<Values> {
        let mut values = Values { json: Vec::with_capacity(32 * level.columns.len()), ends: Vec::new() };
        if json.len() != level.columns.len() {
            return None;
        }
        for (value, (_, column)) in json.iter().zip(&level.columns) {
            fields::write_from_json(value, column.decode, &mut values.json)?;
            values.ends.push(values.json.len());
        }
        Some(values)
    }

    fn get(&self, i: usize) -> Option<&[u8]> {
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        self.json.get(start..*self.ends.get(i)?)
    }

    /// Writes value `i` to `out` (`None`: there is no such value).
    pub fn write(&self, out: &mut Vec<u8>, i: usize) -> Option<()> {
        out.extend_from_slice(self.get(i)?);
        Some(())
    }

    /// Whether value `i` is null.
    pub fn is_null(&self, i: usize) -> Option<bool> {
        Some(self.get(i)? == b"null")
    }
}

/// The rows of one connection of a plan.
pub enum Rows {
    Communities(Page<Row>),
    /// Pages by parent id (every parent has one, perhaps empty).
    Enrolments(HashMap<i64, Page<NestedRow>>),
}

/// Reads every connection of `plan`, parents before children.
pub async fn fetch(store: &Store, actor: &Actor, plan: &Plan) -> AppResult<Vec<Rows>> {
    let db = &store.db;
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let mut out: Vec<Option<Rows>> = plan.sources.iter().map(|_| None).collect();
    for (index, source) in plan.sources.iter().enumerate() {
        if out[index].is_some() {
            continue; // read with its parent
        }
        match source {
            Source::Communities { filter, window, columns } => {
                let root = Root { filter, window, level: columns };
                let children: Vec<usize> = plan
                    .sources
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| matches!(s, Source::CommunityEnrolments { parent, .. } if *parent == index))
                    .map(|(child, _)| child)
                    .collect();
                if let ([child], true) = (children.as_slice(), postgres)
                    && let Source::CommunityEnrolments { filter, window, columns, .. } = &plan.sources[*child]
                    && window.limit() > 0
                {
                    let nested = Nested { filter, window, level: columns };
                    let (page, pages) = communities_with_enrolments(db, actor, &root, &nested).await?;
                    out[index] = Some(Rows::Communities(page));
                    out[*child] = Some(Rows::Enrolments(pages));
                } else {
                    out[index] = Some(Rows::Communities(community_page(db, &root).await?));
                }
            }
            Source::CommunityEnrolments { parent, filter, window, columns } => {
                let parents: BTreeSet<i64> = match out.get(*parent) {
                    Some(Some(Rows::Communities(page))) => page.rows.iter().map(|(_, row)| row.id).collect(),
                    _ => return Err(AppError::internal("a nested page planned before its parent")),
                };
                let nested = Nested { filter, window, level: columns };
                out[index] = Some(Rows::Enrolments(community_enrolments(db, actor, &parents, &nested).await?));
            }
        }
    }
    out.into_iter().map(|rows| rows.ok_or_else(|| AppError::internal("a connection was not read"))).collect()
}

/// A root page of communities to read (its window validated by the plan).
struct Root<'a> {
    filter: &'a communities::Filter,
    window: &'a Window,
    level: &'a LevelColumns,
}

/// A nested level of enrolments to read (its window validated by the plan).
struct Nested<'a> {
    filter: &'a enrolments::Filter,
    window: &'a Window,
    level: &'a LevelColumns,
}

/// The root page's statement: its id, its sort value (for cursors) and the
/// level's values (`v0`, `v1`, ...), with the resolvers' bounds, ordering and
/// limit.
fn root_select(root: &Root) -> AppResult<SelectStatement> {
    let window = root.window;
    let mut select = window.apply(communities::filtered(root.filter)?).select_only().column(community::Column::Id);
    select = select.column_as(window.key().column_expr(Some("communities")), "sort_value");
    for (i, (_, column)) in root.level.columns.iter().enumerate() {
        select = select.column_as(Expr::col((community::Entity, Alias::new(column.name))), format!("v{i}"));
    }
    Ok(select.into_query())
}

/// A root row read at `offset`: its sort value and its values.
fn root_row(row: &QueryResult, offset: usize, root: &Root) -> AppResult<(Option<String>, Row)> {
    let id = required(fields::id(row, offset)?)?;
    let sort = match root.window.key().value {
        // Only cursors read it.
        _ if !root.level.cursors => None,
        SortValue::IdOnly => None,
        SortValue::Text | SortValue::ThaiText => row.try_get_by_index::<Option<String>>(offset + 1)?,
        SortValue::Time => {
            row.try_get_by_index::<Option<DateTime<Utc>>>(offset + 1)?.as_ref().and_then(keyset::time_value)
        }
    };
    let values = Values::read(row, offset + 2, root.level)?;
    Ok((sort, Row { id, values }))
}

/// The page of root rows read (up to the limit and one more).
fn root_page(root: &Root, rows: Vec<(Option<String>, Row)>) -> Page<Row> {
    let page = root.window.page_with(rows, root.level.cursors, |(sort, _)| sort.clone(), |(_, row)| row.id);
    Page {
        rows: page.rows.into_iter().map(|(cursor, (_, row))| (cursor, row)).collect(),
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
    }
}

/// A page of communities, as `store::communities::page` reads it (the same
/// filter, ordering, bounds and cursors), reading only its level's columns.
async fn community_page(db: &DatabaseConnection, root: &Root<'_>) -> AppResult<Page<Row>> {
    let window = root.window;
    if window.limit() == 0 {
        return Ok(Page::empty());
    }
    let mut rows = Vec::new();
    for row in prepared::query_all(db, &root_select(root)?).await? {
        rows.push(root_row(&row, 0, root)?);
    }
    Ok(root_page(root, rows))
}

/// The enrolment columns a nested level reads from its rows (`e`).
fn own_columns(level: &LevelColumns) -> Vec<&'static str> {
    let mut own: Vec<&'static str> = vec!["id", "community_id"];
    if level.programme {
        own.push("programme_id");
    }
    for (table, column) in &level.columns {
        if *table == Table::Own && !own.contains(&column.name) {
            own.push(column.name);
        }
    }
    own
}

/// The filtered, bounded enrolments of a nested level, with `own_columns`.
fn enrolment_select(nested: &Nested) -> sea_orm::Select<enrolment::Entity> {
    let mut select = nested.window.bounds(enrolments::filtered(nested.filter)).select_only();
    for name in own_columns(nested.level) {
        select = select.column_as(Expr::col((enrolment::Entity, Alias::new(name))), name);
    }
    select
}

/// One parent's page of enrolments, for a `LATERAL` join on `parent.id`.
fn lateral_enrolments(nested: &Nested, parent: &Alias) -> SelectStatement {
    let window = nested.window;
    enrolment_select(nested)
        .filter(
            Expr::col((enrolment::Entity, enrolment::Column::CommunityId)).equals((parent.clone(), Alias::new("id"))),
        )
        .order_by(enrolment::Column::Id, window.read_order())
        .limit(window.limit() + 1)
        .into_query()
}

/// Adds a nested level's columns (read from `e`) and joins to `query`: the
/// enrolment's id and parent, whether its programme and a visible MOU were
/// found, then the level's values.
fn nested_columns(query: &mut SelectStatement, actor: &Actor, level: &LevelColumns) {
    let e = Alias::new("e");
    // Each column is named by its position (`n0`, `n1`, ...), so the
    // statement can be wrapped (SQLite's aggregation) without two `id`s.
    let mut n = 0usize;
    let mut column = |query: &mut SelectStatement, expr: Expr| {
        query.expr_as(expr, Alias::new(format!("n{n}")));
        n += 1;
    };
    column(query, Expr::col((e.clone(), Alias::new("id"))));
    column(query, Expr::col((e.clone(), Alias::new("community_id"))));
    if level.programme {
        column(query, Expr::col((programme::Entity, programme::Column::Id)));
        query.join(
            JoinType::LeftJoin,
            programme::Entity,
            Expr::col((programme::Entity, programme::Column::Id)).equals((e.clone(), Alias::new("programme_id"))),
        );
    } else {
        column(query, Expr::val(Option::<i64>::None));
    }
    if level.mou {
        column(query, Expr::col((mou::Entity, mou::Column::Id)));
        query.join(
            JoinType::LeftJoin,
            mou::Entity,
            Condition::all()
                .add(Expr::col((mou::Entity, mou::Column::Id)).equals((programme::Entity, programme::Column::MouId)))
                .add(rules::visible_mous(actor)),
        );
    } else {
        column(query, Expr::val(Option::<i64>::None));
    }
    for (table, c) in &level.columns {
        let name = Alias::new(c.name);
        let expr = match table {
            Table::Own => Expr::col((e.clone(), name)),
            Table::Programme => Expr::col((programme::Entity, name)),
            Table::Mou => Expr::col((mou::Entity, name)),
        };
        column(query, expr);
    }
}

/// Whether SQLite can hand a nested level's rows back aggregated as JSON
/// ([`aggregated_rows`]): every value SQLite's `json_array` writes as
/// the field's JSON after at most an id's encoding (not times and dates,
/// whose text SQLite stores in its own format).
fn aggregable(level: &LevelColumns) -> bool {
    level.columns.iter().all(|(_, c)| !matches!(c.decode, fields::Decode::Time | fields::Decode::Date))
}

/// `query` (built by [`nested_columns`]) with its rows aggregated per
/// parent: `(community_id, json_group_array(json_array(n0, n1, ...)))`.
/// One row per parent instead of one per enrolment crosses the SQLite
/// driver's worker thread, with two values instead of every column's.
fn aggregated(query: SelectStatement, level: &LevelColumns) -> SelectStatement {
    let rows = Alias::new("rows");
    let columns: Vec<String> = (0..NESTED_VALUES + level.columns.len()).map(|i| format!("\"rows\".\"n{i}\"")).collect();
    let mut outer = Query::select();
    outer
        .from_subquery(query, rows.clone())
        .column((rows.clone(), Alias::new("n1")))
        .expr(Expr::cust(format!("json_group_array(json_array({}))", columns.join(", "))))
        .group_by_col((rows, Alias::new("n1")));
    outer
}

/// The nested rows of one parent from its [`aggregated`] JSON.
fn aggregated_rows(text: &str, level: &LevelColumns) -> AppResult<Vec<NestedRow>> {
    let bad = || AppError::internal("an aggregated nested row did not have the planned shape");
    let rows: Vec<Vec<serde_json::Value>> = serde_json::from_str(text).map_err(|_| bad())?;
    rows.into_iter()
        .map(|row| {
            let id = row.first().and_then(serde_json::Value::as_i64).ok_or_else(bad)?;
            let found = |i: usize| row.get(i).is_some_and(|v| !v.is_null());
            let (programme, mou) = (level.programme && found(2), level.mou && found(3));
            let values = Values::from_json(row.get(NESTED_VALUES..).ok_or_else(bad)?, level).ok_or_else(bad)?;
            Ok(NestedRow { id, programme, mou, values })
        })
        .collect()
}

/// A nested row read at `offset` (see [`nested_columns`]) with its parent's
/// id; `None` when a parent has no enrolment (the `LEFT JOIN` found none).
fn nested_row(row: &QueryResult, offset: usize, level: &LevelColumns) -> AppResult<Option<(i64, NestedRow)>> {
    let Some(id) = fields::id(row, offset)? else { return Ok(None) };
    let parent = required(fields::id(row, offset + 1)?)?;
    let programme = level.programme && fields::id(row, offset + 2)?.is_some();
    let mou = level.mou && fields::id(row, offset + 3)?.is_some();
    let values = Values::read(row, offset + NESTED_VALUES, level)?;
    Ok(Some((parent, NestedRow { id, programme, mou, values })))
}

/// A row id that is never null (a primary or foreign key).
fn required(id: Option<i64>) -> AppResult<i64> {
    id.ok_or_else(|| AppError::internal("a key read as null"))
}

/// Where a nested row's values start: after the enrolment's id, its
/// parent, and whether its programme and a visible MOU were found.
const NESTED_VALUES: usize = 4;

/// Every parent's page, from the rows read for each (each parent's up to
/// `limit + 1` rows, in any order: they are put in read order here, by id,
/// so the statement need not sort its joined rows).
fn nested_pages(
    nested: &Nested,
    parents: impl Iterator<Item = i64>,
    mut by_parent: HashMap<i64, Vec<NestedRow>>,
) -> HashMap<i64, Page<NestedRow>> {
    let window = nested.window;
    let descending = window.read_order() == Order::Desc;
    parents
        .map(|id| {
            let mut rows = by_parent.remove(&id).unwrap_or_default();
            rows.sort_unstable_by(|a, b| if descending { b.id.cmp(&a.id) } else { a.id.cmp(&b.id) });
            (id, window.page_with(rows, nested.level.cursors, |_| None, |r| r.id))
        })
        .collect()
}

/// The enrolment pages of `parents` (communities), reading the level's columns.
async fn community_enrolments(
    db: &DatabaseConnection,
    actor: &Actor,
    parents: &BTreeSet<i64>,
    nested: &Nested<'_>,
) -> AppResult<HashMap<i64, Page<NestedRow>>> {
    let window = nested.window;
    let mut by_parent: HashMap<i64, Vec<NestedRow>> = HashMap::new();
    if window.limit() > 0 && !parents.is_empty() {
        let e = Alias::new("e");
        let mut query = Query::select();
        if db.get_database_backend() == DbBackend::Postgres {
            let parent = Alias::new("parent");
            query
                .from_as(community::Entity, parent.clone())
                .join_lateral(JoinType::InnerJoin, lateral_enrolments(nested, &parent), e.clone(), Expr::cust("TRUE"))
                .and_where(Expr::col((parent, Alias::new("id"))).is_in(parents.iter().copied()));
        } else {
            let direction = if window.read_order() == Order::Desc { "DESC" } else { "ASC" };
            let inner = enrolment_select(nested)
                .filter(enrolment::Column::CommunityId.is_in(parents.iter().copied()))
                .expr_as(
                    Expr::cust(format!("ROW_NUMBER() OVER (PARTITION BY community_id ORDER BY id {direction})")),
                    "rn",
                )
                .into_query();
            query
                .from_subquery(inner, e.clone())
                .and_where(Expr::col((e.clone(), Alias::new("rn"))).lte(window.limit() as i64 + 1));
        }
        nested_columns(&mut query, actor, nested.level);
        if db.get_database_backend() == DbBackend::Sqlite && aggregable(nested.level) {
            for row in prepared::query_all(db, &aggregated(query, nested.level)).await? {
                let parent = required(fields::id(&row, 0)?)?;
                let text: String = row.try_get_by_index(1)?;
                by_parent.insert(parent, aggregated_rows(&text, nested.level)?);
            }
            return Ok(nested_pages(nested, parents.iter().copied(), by_parent));
        }
        query
            .order_by((e.clone(), Alias::new("community_id")), Order::Asc)
            .order_by((e, Alias::new("id")), window.read_order());
        for row in prepared::query_all(db, &query).await? {
            if let Some((parent, nested_row)) = nested_row(&row, 0, nested.level)? {
                by_parent.entry(parent).or_default().push(nested_row);
            }
        }
    }
    Ok(nested_pages(nested, parents.iter().copied(), by_parent))
}

/// A root page and its rows' nested enrolment pages in one statement
/// (PostgreSQL): the root page is a subquery, each of its rows joined to
/// its `LATERAL` page of enrolments.
async fn communities_with_enrolments(
    db: &DatabaseConnection,
    actor: &Actor,
    root: &Root<'_>,
    nested: &Nested<'_>,
) -> AppResult<(Page<Row>, HashMap<i64, Page<NestedRow>>)> {
    let window = root.window;
    if window.limit() == 0 {
        return Ok((Page::empty(), HashMap::new()));
    }
    let (parent, e) = (Alias::new("parent"), Alias::new("e"));
    let mut query = Query::select();
    query
        .from_subquery(root_select(root)?, parent.clone())
        .join_lateral(JoinType::LeftJoin, lateral_enrolments(nested, &parent), e.clone(), Expr::cust("TRUE"))
        .column((parent.clone(), Alias::new("id")))
        .column((parent.clone(), Alias::new("sort_value")));
    for i in 0..root.level.columns.len() {
        query.column((parent.clone(), Alias::new(format!("v{i}"))));
    }
    nested_columns(&mut query, actor, nested.level);
    // The parents in page order (PostgreSQL keeps the root page's order
    // through the nested loop, so this sorts nothing); each parent's
    // enrolments are put in order by `nested_pages`.
    let order = window.read_order();
    query
        .order_by((parent.clone(), Alias::new("sort_value")), order.clone())
        .order_by((parent, Alias::new("id")), order);
    let offset = 2 + root.level.columns.len();
    let mut roots: Vec<(Option<String>, Row)> = Vec::new();
    let mut by_parent: HashMap<i64, Vec<NestedRow>> = HashMap::new();
    for row in prepared::query_all(db, &query).await? {
        let id = required(fields::id(&row, 0)?)?;
        if roots.last().is_none_or(|(_, last)| last.id != id) {
            roots.push(root_row(&row, 0, root)?);
        }
        if let Some((parent, nested_row)) = nested_row(&row, offset, nested.level)? {
            by_parent.entry(parent).or_default().push(nested_row);
        }
    }
    let page = root_page(root, roots);
    let pages = nested_pages(nested, page.rows.iter().map(|(_, row)| row.id), by_parent);
    Ok((page, pages))
}
