//! Organisation codes to ids, cached: every request names its organisation,
//! and organisations change only by operators' hands.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::RwLock;

use crate::error::AppResult;
use crate::store::{Store, organizations};

/// How often an unknown code may trigger a reload.
const RELOAD_EVERY: Duration = Duration::from_secs(5);

/// The cached directory.
pub struct OrgDirectory {
    store: Store,
    state: RwLock<(HashMap<String, i64>, Option<Instant>)>,
}

impl OrgDirectory {
    /// An empty directory that loads on first use.
    pub fn new(store: Store) -> Self {
        OrgDirectory { store, state: RwLock::new((HashMap::new(), None)) }
    }

    /// The id of the organisation with `code`, reloading at most every 5 s on a miss.
    pub async fn id_of(&self, code: &str) -> AppResult<Option<i64>> {
        {
            let state = self.state.read().await;
            if let Some(id) = state.0.get(code) {
                return Ok(Some(*id));
            }
            if state.1.is_some_and(|at| at.elapsed() < RELOAD_EVERY) {
                return Ok(None);
            }
        }
        let mut state = self.state.write().await;
        if state.1.is_none_or(|at| at.elapsed() >= RELOAD_EVERY) {
            let all = organizations::all(&self.store).await?;
            state.0 = all.into_iter().map(|o| (o.code, o.id)).collect();
            state.1 = Some(Instant::now());
        }
        Ok(state.0.get(code).copied())
    }
}
