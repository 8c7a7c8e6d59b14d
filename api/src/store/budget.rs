//! Per-organisation cost budgets: a token bucket in the database, so the
//! limit is shared by every replica. Each request spends its estimated cost
//! in one atomic statement; the bucket refills continuously.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use super::Store;
use crate::error::AppResult;

pub use crate::config::Budget;

/// The outcome of spending.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Spend {
    /// Spent; this many points are left.
    Spent { remaining: f64 },
    /// Not enough points; the request may be retried after this many seconds.
    Exhausted { remaining: f64, retry_after: f64 },
}

fn now_secs() -> f64 {
    let now = chrono::Utc::now();
    now.timestamp() as f64 + f64::from(now.timestamp_subsec_micros()) / 1e6
}

/// Replaces `{n}` markers with the backend's placeholders.
fn sql(backend: DbBackend, text: &str) -> String {
    let mut out = text.to_owned();
    for n in (1..=9).rev() {
        let mark = format!("{{{n}}}");
        let placeholder = if backend == DbBackend::Postgres { format!("${n}") } else { format!("?{n}") };
        out = out.replace(&mark, &placeholder);
    }
    out
}

/// The bucket's level after refilling up to now: `{2}` now, `{3}` refill rate, `{4}` capacity.
const REFILLED: &str = "CASE WHEN cost_budgets.tokens + ({2} - cost_budgets.updated_at) * {3} > {4} \
     THEN {4} ELSE cost_budgets.tokens + ({2} - cost_budgets.updated_at) * {3} END";

/// Spends `cost` points of `org_id`'s budget, atomically.
pub async fn spend(store: &Store, budget: Budget, org_id: i64, cost: f64) -> AppResult<Spend> {
    let backend = store.backend();
    let now = now_secs();
    let values: Vec<Value> =
        vec![org_id.into(), now.into(), budget.refill_per_sec.into(), budget.capacity.into(), cost.into()];
    let upsert = sql(
        backend,
        &format!(
            "INSERT INTO cost_budgets (organization_id, tokens, updated_at) VALUES ({{1}}, {{4}} - {{5}}, {{2}}) \
             ON CONFLICT (organization_id) DO UPDATE SET tokens = ({REFILLED}) - {{5}}, updated_at = {{2}} \
             WHERE ({REFILLED}) >= {{5}} RETURNING tokens"
        ),
    );
    let row = store.db.query_one_raw(Statement::from_sql_and_values(backend, upsert, values.clone())).await?;
    if let Some(row) = row {
        let remaining: f64 = row.try_get("", "tokens").map_err(crate::error::AppError::from)?;
        return Ok(Spend::Spent { remaining });
    }
    let level = sql(backend, &format!("SELECT ({REFILLED}) AS tokens FROM cost_budgets WHERE organization_id = {{1}}"));
    let row = store.db.query_one_raw(Statement::from_sql_and_values(backend, level, values[..4].to_vec())).await?;
    let remaining: f64 = row.and_then(|r| r.try_get("", "tokens").ok()).unwrap_or(0.0);
    let retry_after = ((cost - remaining) / budget.refill_per_sec).max(0.0);
    Ok(Spend::Exhausted { remaining, retry_after })
}
