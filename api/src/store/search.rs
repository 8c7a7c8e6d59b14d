//! Text search and counting shared by the list queries.
//!
//! Searchable records keep a search key (`search_text`: their names and code
//! folded by [`search_key::fold`]); a search folds what the user typed the
//! same way and matches it as a substring of the key. On PostgreSQL a
//! trigram index (`pg_trgm`) on `communities.search_text` serves the match.

use entity::{community, mou};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select, Statement, Value,
};

use super::Store;
use crate::domain::search_key;
use crate::domain::text::{self, limits};
use crate::error::{AppError, AppResult};

/// A `LIKE` pattern matching the folded `text` anywhere, with wildcards
/// escaped.
pub fn contains_pattern(text: &str) -> AppResult<String> {
    let text = search_key::fold(&text::required("search", text, limits::NAME)?);
    if text.is_empty() {
        return Err(AppError::bad_input("search", "search has nothing to match once marks are set aside"));
    }
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Ok(format!("%{escaped}%"))
}

/// The condition that a record's search key (`column`) contains `pattern`.
pub fn matches<C: ColumnTrait>(column: C, pattern: &str) -> sea_orm::Condition {
    sea_orm::Condition::all().add(Expr::col(column).like(LikeExpr::new(pattern).escape('\\')))
}

/// A record's search key: its Thai and English names (or titles) and its
/// code (communities and MOUs).
pub fn record_key(name_th: &str, name_en: Option<&str>, code: &str) -> String {
    search_key::key([Some(name_th), name_en, Some(code)])
}

/// Counts a selection.
pub async fn count<E: EntityTrait>(store: &Store, select: Select<E>) -> AppResult<i64>
where
    E::Model: Sync,
{
    Ok(select.count(&store.db).await? as i64)
}

/// Rows filled per statement by [`backfill`].
const BACKFILL_BATCH: u64 = 500;

/// Gives every community and MOU without a search key its key (rows written
/// before the key existed, or loaded in bulk by SQL such as the benchmark's
/// generator). Runs at start-up, after the migrations; returns how many rows
/// it filled.
pub async fn backfill<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    use community::Column as C;
    use mou::Column as M;
    let filled = fill::<community::Entity, _>(db, "communities", [C::Id, C::NameTh, C::NameEn, C::Code], C::SearchText)
        .await?
        + fill::<mou::Entity, _>(db, "mous", [M::Id, M::TitleTh, M::TitleEn, M::Code], M::SearchText).await?;
    if filled > 0 && db.get_database_backend() == DbBackend::Postgres {
        // Fresh statistics on the new keys: without them PostgreSQL guesses
        // a search matches many rows and walks the list's order index
        // instead of the trigram index (50 ms instead of 0.1 ms on 100,000
        // communities, bench/search.sh).
        db.execute_unprepared("ANALYZE communities, mous").await?;
    }
    Ok(filled)
}

/// Fills the search keys of `table`'s rows that have none, a batch at a
/// time; `columns` are its id, Thai name, English name and code.
async fn fill<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    table: &str,
    columns: [E::Column; 4],
    key_column: E::Column,
) -> Result<u64, DbErr> {
    let mut filled = 0;
    loop {
        let rows: Vec<(i64, String, Option<String>, String)> = E::find()
            .select_only()
            .columns(columns)
            .filter(key_column.is_null())
            .order_by_asc(columns[0])
            .limit(BACKFILL_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        if rows.is_empty() {
            return Ok(filled);
        }
        let keys = rows.iter().map(|(id, th, en, code)| (*id, record_key(th, en.as_deref(), code)));
        filled += set_keys(db, table, keys.collect()).await?;
    }
}

/// `UPDATE table SET search_text = CASE id WHEN … END WHERE id IN (…)`: one
/// statement for a batch, on both engines.
async fn set_keys<C: ConnectionTrait>(db: &C, table: &str, keys: Vec<(i64, String)>) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = Vec::with_capacity(keys.len() * 3);
    let param = |values: &mut Vec<Value>, v: Value| {
        values.push(v);
        match backend {
            DbBackend::Postgres => format!("${}", values.len()),
            _ => "?".to_owned(),
        }
    };
    let mut cases = String::new();
    for (id, key) in &keys {
        let (id, key) = (param(&mut values, (*id).into()), param(&mut values, key.clone().into()));
        cases.push_str(&format!(" WHEN {id} THEN {key}"));
    }
    let ids: Vec<String> = keys.iter().map(|(id, _)| param(&mut values, (*id).into())).collect();
    let sql = format!("UPDATE {table} SET search_text = CASE id{cases} END WHERE id IN ({})", ids.join(", "));
    Ok(db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?.rows_affected())
}
