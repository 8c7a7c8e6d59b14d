//! Keyset (cursor) pagination shared by every connection.
//!
//! A cursor names the ordering it came from, the sort value of its row and
//! the row id; the next page starts strictly after that `(value, id)` pair,
//! so inserts and deletes elsewhere never shift or repeat rows, and a deep
//! page costs what the first one does (an index range scan).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, IntoIden, Order, SimpleExpr};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect, QueryTrait, Select};
use sea_orm::{ExprTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::store::prepared;

/// Page sizes.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The Relay arguments of a connection field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// What a sort column holds, so cursor values can be typed back.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SortValue {
    /// Text compared by code point (codes).
    Text,
    /// Thai text in Thai dictionary order (names): the column with the
    /// `thai` collation (see `migration::collation`).
    ThaiText,
    /// A timestamp.
    Time,

    /// No column: order by id alone.
    IdOnly,
}

/// One ordering of a connection: a column, then `id` as the tie-breaker.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SortKey {
    /// A stable name put in cursors, e.g. `community.name.asc`.
    pub tag: &'static str,
    /// The column (ignored for `IdOnly`).
    pub column: &'static str,
    /// What the column holds.
    pub value: SortValue,
    /// Descending instead of ascending.
    pub descending: bool,
}

impl SortKey {
    /// Ordering by id alone, ascending (creation order).
    pub const fn by_id(tag: &'static str) -> SortKey {
        SortKey { tag, column: "id", value: SortValue::IdOnly, descending: false }
    }

    /// The sort column as SQL (of `table`, when given), collated as the
    /// ordering compares it.
    pub fn column_expr(&self, table: Option<&str>) -> SimpleExpr {
        let column = match table {
            Some(table) => format!("\"{table}\".\"{}\"", self.column),
            None => format!("\"{}\"", self.column),
        };
        match self.value {
            SortValue::ThaiText => Expr::cust(format!("{column} COLLATE {}", migration::collation::THAI)),
            _ => Expr::cust(column),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct CursorData {
    /// The ordering's tag.
    o: String,
    /// The sort value (absent for `IdOnly`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    v: Option<String>,
    /// The row id.
    i: i64,
}

/// A decoded, validated cursor.
#[derive(Clone, Debug)]
struct Cursor {
    value: Option<String>,
    id: i64,
}

/// A validated page request.
#[derive(Clone, Debug)]
pub struct Window {
    key: SortKey,
    limit: u64,
    backward: bool,
    after: Option<Cursor>,
    before: Option<Cursor>,
}

/// One page of rows plus what Relay's `PageInfo` needs.
#[derive(Clone, Debug)]
pub struct Page<M> {
    /// The rows with their cursors, in order.
    pub rows: Vec<(String, M)>,
    /// More rows follow the last one.
    pub has_next_page: bool,
    /// More rows precede the first one.
    pub has_previous_page: bool,
}

impl<M> Page<M> {
    /// An empty page.
    pub fn empty() -> Self {
        Page { rows: Vec::new(), has_next_page: false, has_previous_page: false }
    }

    /// The same page with its rows shared, so resolvers hand them out
    /// without copying.
    pub fn shared(self) -> Page<std::sync::Arc<M>> {
        Page {
            rows: self.rows.into_iter().map(|(cursor, m)| (cursor, std::sync::Arc::new(m))).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
        }
    }
}

/// Encodes the cursor of a row.
pub fn encode_cursor(key: &SortKey, value: Option<String>, id: i64) -> String {
    let data = CursorData { o: key.tag.to_owned(), v: value, i: id };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&data).unwrap_or_default())
}

fn decode_cursor(key: &SortKey, text: &str, field: &str) -> AppResult<Cursor> {
    let bad = || AppError::bad_input(field, format!("{field} is not a cursor of this list and ordering"));
    if text.len() > 512 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let data: CursorData = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if data.o != key.tag || (key.value == SortValue::IdOnly) != data.v.is_none() {
        return Err(bad());
    }
    if key.value == SortValue::Time && data.v.as_deref().and_then(|v| DateTime::parse_from_rfc3339(v).ok()).is_none() {
        return Err(bad());
    }
    Ok(Cursor { value: data.v, id: data.i })
}

/// Validates Relay arguments: `first` and `last` are not both given, sizes
/// are 0..=100 (20 by default), and cursors belong to this ordering.
pub fn window(args: &PageArgs, key: SortKey) -> AppResult<Window> {
    if args.first.is_some() && args.last.is_some() {
        return Err(AppError::bad_input("first", "give first or last, not both"));
    }
    let size = |n: Option<i32>, field: &str| -> AppResult<u64> {
        match n {
            None => Ok(DEFAULT_PAGE_SIZE),
            Some(n) if n < 0 => Err(AppError::bad_input(field, format!("{field} must not be negative"))),
            Some(n) if n as u64 > MAX_PAGE_SIZE => {
                Err(AppError::bad_input(field, format!("{field} may be at most {MAX_PAGE_SIZE}")))
            }
            Some(n) => Ok(n as u64),
        }
    };
    let backward = args.last.is_some() || (args.first.is_none() && args.before.is_some() && args.after.is_none());
    let limit = if backward { size(args.last, "last")? } else { size(args.first, "first")? };
    Ok(Window {
        key,
        limit,
        backward,
        after: args.after.as_deref().map(|c| decode_cursor(&key, c, "after")).transpose()?,
        before: args.before.as_deref().map(|c| decode_cursor(&key, c, "before")).transpose()?,
    })
}

impl Window {
    /// The ordering.
    pub fn key(&self) -> SortKey {
        self.key
    }

    /// The page size asked for.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The row id of the `after` cursor, if one was given.
    pub fn after_id(&self) -> Option<i64> {
        self.after.as_ref().map(|c| c.id)
    }

    fn tuple(&self, cursor: &Cursor) -> (SimpleExpr, SimpleExpr) {
        let id = Expr::col(Alias::new("id").into_iden());
        let Some(value) = &cursor.value else {
            return (id, Expr::val(cursor.id));
        };
        let column = self.key.column_expr(None);
        let value: SimpleExpr = match self.key.value {
            SortValue::Time => {
                let at = DateTime::parse_from_rfc3339(value).map(|t| t.with_timezone(&Utc)).unwrap_or_default();
                Expr::val(at)
            }

            _ => Expr::val(value.clone()),
        };
        (Expr::tuple([column, id]), Expr::tuple([value, Expr::val(cursor.id)]))
    }

    /// Adds the cursor bounds (no ordering, no limit) to `select`.
    pub fn bounds<E: EntityTrait>(&self, mut select: Select<E>) -> Select<E> {
        let desc = self.key.descending;
        if let Some(after) = &self.after {
            let (row, cursor) = self.tuple(after);
            select = select.filter(if desc { Expr::expr(row).lt(cursor) } else { Expr::expr(row).gt(cursor) });
        }
        if let Some(before) = &self.before {
            let (row, cursor) = self.tuple(before);
            select = select.filter(if desc { Expr::expr(row).gt(cursor) } else { Expr::expr(row).lt(cursor) });
        }
        select
    }

    /// The order rows are read in: walking backward reads the reverse
    /// order, and the page is flipped afterwards.
    pub fn read_order(&self) -> Order {
        if self.key.descending != self.backward { Order::Desc } else { Order::Asc }
    }

    /// Adds the cursor bounds, the ordering and the limit (one row more
    /// than the page, to tell whether another follows) to `select`.
    pub fn apply<E: EntityTrait>(&self, select: Select<E>) -> Select<E> {
        let mut select = self.bounds(select);
        let order = self.read_order();
        if self.key.value != SortValue::IdOnly {
            select = select.order_by(self.key.column_expr(None), order.clone());
        }
        select.order_by(Expr::col(Alias::new("id").into_iden()), order).limit(self.limit + 1)
    }

    /// Runs `select` for this window; `sort_value` and `id` read a row's key.
    pub async fn fetch<E, C>(
        &self,
        conn: &C,
        select: Select<E>,
        sort_value: impl Fn(&E::Model) -> Option<String>,
        id: impl Fn(&E::Model) -> i64,
    ) -> AppResult<Page<E::Model>>
    where
        E: EntityTrait,
        C: ConnectionTrait,
    {
        if self.limit == 0 {
            return Ok(Page::empty());
        }
        // The page size is written into the SQL, so PostgreSQL can keep a
        // generic plan for the page query (see `store::prepared`).
        let statement = prepared::inline_limits(self.apply(select).build(conn.get_database_backend()));
        let rows = E::find().from_raw_sql(statement).all(conn).await?;
        Ok(self.page_from(rows, sort_value, id))
    }

    /// Builds the page from up to `limit + 1` rows read in [`Self::read_order`].
    pub fn page_from<M>(
        &self,
        rows: Vec<M>,
        sort_value: impl Fn(&M) -> Option<String>,
        id: impl Fn(&M) -> i64,
    ) -> Page<M> {
        self.page_with(rows, true, sort_value, id)
    }

    /// As [`Self::page_from`]; with `cursors` false the rows' cursors are
    /// left empty, for a planned read whose selection reads none of them
    /// (no `edges.cursor`, `startCursor` or `endCursor`).
    pub fn page_with<M>(
        &self,
        mut rows: Vec<M>,
        cursors: bool,
        sort_value: impl Fn(&M) -> Option<String>,
        id: impl Fn(&M) -> i64,
    ) -> Page<M> {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        if self.backward {
            rows.reverse();
        }
        let rows = rows
            .into_iter()
            .map(|m| {
                if !cursors {
                    return (String::new(), m);
                }
                let value = match self.key.value {
                    SortValue::IdOnly => None,
                    _ => sort_value(&m),
                };
                (encode_cursor(&self.key, value, id(&m)), m)
            })
            .collect();
        Page {
            rows,
            has_next_page: if self.backward { self.before.is_some() } else { more },
            has_previous_page: if self.backward { more } else { self.after.is_some() },
        }
    }
}

/// Formats a timestamp as a cursor value (RFC 3339 with microseconds).
pub fn time_value(at: &DateTime<Utc>) -> Option<String> {
    Some(at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}
