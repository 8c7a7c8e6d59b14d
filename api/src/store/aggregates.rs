//! Aggregates: counts and sums of a filtered list, grouped by up to two
//! dimensions, computed by the database in one statement.
//!
//! A dimension is a SQL expression giving text (or NULL); the rows come back
//! as text keys that the GraphQL layer turns into typed values. Months and
//! quarters are of Thai time (UTC+07:00), the calendar the partners keep.
//! Enrolment figures count each community once per group (a community
//! enrolled twice in a group adds its households once).

use entity::{community, enrolment, mou, programme};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query, SelectStatement, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, QueryTrait, Select, Statement};

use super::Store;
use super::rules;
use crate::domain::access::Actor;
use crate::error::{AppError, AppResult};

/// The most groups one aggregate answers; a finer grouping is refused.
pub const MAX_GROUPS: usize = 2000;

/// Calendar grains of a date dimension.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Grain {
    /// `2026-03`.
    Month,
    /// `2026-Q1`.
    Quarter,
}

/// One group of an aggregate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    /// The group's key, one value per dimension (`None`: no value).
    pub keys: Vec<Option<String>>,
    /// How many records.
    pub count: i64,
    /// How many distinct communities (enrolments; the count elsewhere).
    pub communities: i64,
    /// The sum of the measure (households, capacity) where it is known.
    pub sum: i64,
    /// How many of the summed rows had the measure.
    pub reported: i64,
}

/// A column of `table`.
fn col(table: &str, column: &str) -> SimpleExpr {
    Expr::col((Alias::new(table), Alias::new(column)))
}

/// An id column as text.
pub fn id_text(table: &str, column: &str) -> SimpleExpr {
    Expr::cust(format!("CAST(\"{table}\".\"{column}\" AS TEXT)"))
}

/// A text column.
pub fn text(table: &str, column: &str) -> SimpleExpr {
    col(table, column)
}

/// The month or quarter of a timestamp column in Thai time (`thai_time`) or
/// of a date column.
pub fn period(backend: DbBackend, table: &str, column: &str, grain: Grain, thai_time: bool) -> SimpleExpr {
    let column = format!("\"{table}\".\"{column}\"");
    let sql = match backend {
        DbBackend::Postgres => {
            let value =
                if thai_time { format!("(({column} AT TIME ZONE 'UTC') + INTERVAL '7 hours')") } else { column };
            match grain {
                Grain::Month => format!("to_char({value}, 'YYYY-MM')"),
                Grain::Quarter => format!("to_char({value}, 'YYYY-\"Q\"Q')"),
            }
        }
        _ => {
            let shift = if thai_time { ", '+7 hours'" } else { "" };
            match grain {
                Grain::Month => format!("strftime('%Y-%m', {column}{shift})"),
                Grain::Quarter => format!(
                    "(strftime('%Y', {column}{shift}) || '-Q' || ((CAST(strftime('%m', {column}{shift}) AS INTEGER) + 2) / 3))"
                ),
            }
        }
    };
    Expr::cust(sql)
}

/// A programme's MOU id as text when `actor` may see the MOU, else NULL: MOUs
/// the caller may not see fall into one group with no MOU.
pub fn visible_mou(actor: &Actor) -> SimpleExpr {
    let visible = Query::select()
        .column((mou::Entity, mou::Column::Id))
        .from(mou::Entity)
        .cond_where(rules::visible_mous(actor))
        .to_owned();
    Expr::case(
        Expr::col((programme::Entity, programme::Column::MouId)).in_subquery(visible),
        id_text("programmes", "mou_id"),
    )
    .finally(Expr::null())
    .into()
}

/// Reads the groups of `query` (columns `k0..`, `n`, `c`, `s`, `r`).
async fn groups(store: &Store, query: &SelectStatement, dimensions: usize) -> AppResult<Vec<Group>> {
    let backend = store.backend();
    let mut query = query.clone();
    query.limit(MAX_GROUPS as u64 + 1);
    let (sql, values) = match backend {
        DbBackend::Postgres => query.build(sea_orm::sea_query::PostgresQueryBuilder),
        _ => query.build(sea_orm::sea_query::SqliteQueryBuilder),
    };
    let rows = store.db.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    if rows.len() > MAX_GROUPS {
        return Err(AppError::bad_input(
            "groupBy",
            format!("more than {MAX_GROUPS} groups: narrow the filter or group by fewer dimensions"),
        ));
    }
    rows.iter()
        .map(|row| {
            let keys = (0..dimensions)
                .map(|i| row.try_get::<Option<String>>("", &format!("k{i}")))
                .collect::<Result<_, _>>()?;
            let number =
                |name: &str| -> Result<i64, sea_orm::DbErr> { Ok(row.try_get::<Option<i64>>("", name)?.unwrap_or(0)) };
            Ok(Group {
                keys,
                count: number("n")?,
                communities: number("c")?,
                sum: number("s")?,
                reported: number("r")?,
            })
        })
        .collect()
}

/// Adds the dimensions as `k0..` and groups by them (by the output names:
/// an expression with bound values would not match itself in `GROUP BY` on
/// PostgreSQL, its values being other parameters there).
fn keyed(query: &mut SelectStatement, dimensions: &[SimpleExpr]) {
    for (i, expr) in dimensions.iter().enumerate() {
        query.expr_as(expr.clone(), Alias::new(format!("k{i}")));
    }
    query.add_group_by((0..dimensions.len()).map(|i| Expr::col(Alias::new(format!("k{i}")))));
}

/// SUM as a 64-bit integer on both engines (PostgreSQL's SUM of integers is numeric).
fn sum(expr: SimpleExpr) -> SimpleExpr {
    Func::cast_as(Func::sum(expr), Alias::new("BIGINT")).into()
}

/// Communities of `select` grouped by `dimensions`: count, and households
/// summed where known.
pub async fn communities(
    store: &Store,
    select: Select<community::Entity>,
    dimensions: &[SimpleExpr],
) -> AppResult<Vec<Group>> {
    one_level(store, select.into_query(), dimensions, col("communities", "households")).await
}

/// Rows of `query` grouped by `dimensions`: count, and `measure` summed
/// where set (each row is its own "community": `c` is the count).
async fn one_level(
    store: &Store,
    mut query: SelectStatement,
    dimensions: &[SimpleExpr],
    measure: SimpleExpr,
) -> AppResult<Vec<Group>> {
    query.clear_selects();
    keyed(&mut query, dimensions);
    query
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("c"))
        .expr_as(sum(measure.clone()), Alias::new("s"))
        .expr_as(Func::count(measure), Alias::new("r"));
    groups(store, &query, dimensions.len()).await
}

/// Enrolments of `select` grouped by `dimensions` (which may name
/// `communities` and `programmes` columns: both are joined): how many
/// enrolments, how many distinct communities, and those communities'
/// households.
pub async fn enrolments(
    store: &Store,
    select: Select<enrolment::Entity>,
    dimensions: &[SimpleExpr],
) -> AppResult<Vec<Group>> {
    let mut inner = select.into_query();
    inner.clear_selects();
    inner
        .join(
            JoinType::InnerJoin,
            community::Entity,
            Expr::col((community::Entity, community::Column::Id))
                .equals((enrolment::Entity, enrolment::Column::CommunityId)),
        )
        .join(
            JoinType::InnerJoin,
            programme::Entity,
            Expr::col((programme::Entity, programme::Column::Id))
                .equals((enrolment::Entity, enrolment::Column::ProgrammeId)),
        );
    keyed(&mut inner, dimensions);
    let (community_id, households) = (col("enrolments", "community_id"), col("communities", "households"));
    inner
        .expr_as(community_id.clone(), Alias::new("cid"))
        .expr_as(households.clone(), Alias::new("h"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .add_group_by([community_id, households]);
    // One row per (group, community); the outer query adds them up.
    let g = Alias::new("g");
    let mut outer = Query::select();
    outer.from_subquery(inner, g.clone());
    let keys: Vec<SimpleExpr> = (0..dimensions.len()).map(|i| col("g", &format!("k{i}"))).collect();
    keyed(&mut outer, &keys);
    outer
        .expr_as(sum(col("g", "n")), Alias::new("n"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("c"))
        .expr_as(sum(col("g", "h")), Alias::new("s"))
        .expr_as(Func::count(col("g", "h")), Alias::new("r"));
    groups(store, &outer, dimensions.len()).await
}

/// Programmes of `select` grouped by `dimensions`: count, and capacity
/// summed where set.
pub async fn programmes(
    store: &Store,
    select: Select<programme::Entity>,
    dimensions: &[SimpleExpr],
) -> AppResult<Vec<Group>> {
    one_level(store, select.into_query(), dimensions, col("programmes", "capacity")).await
}
