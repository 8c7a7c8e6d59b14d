//! Text search and counting shared by the list queries.

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, Condition, EntityTrait, ExprTrait, PaginatorTrait, Select};

use super::Store;
use crate::domain::text::{self, limits};
use crate::error::AppResult;

/// A `LIKE` pattern matching `text` anywhere, with wildcards escaped.
pub fn contains_pattern(text: &str) -> AppResult<String> {
    let text = text::required("search", text, limits::NAME)?.to_lowercase();
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Ok(format!("%{escaped}%"))
}

/// A case-insensitive substring condition on any of `columns`.
pub fn search_condition<C: ColumnTrait>(columns: &[C], pattern: &str) -> Condition {
    columns.iter().fold(Condition::any(), |cond, col| {
        cond.add(Expr::expr(Func::lower(Expr::col(*col))).like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')))
    })
}

/// Counts a selection.
pub async fn count<E: EntityTrait>(store: &Store, select: Select<E>) -> AppResult<i64>
where
    E::Model: Sync,
{
    Ok(select.count(&store.db).await? as i64)
}
