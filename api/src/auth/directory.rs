//! The partner organisations, cached in the process. Every request names
//! its organisation and most responses name a few; organisations change
//! only by operators' hands, so the directory is read from the database at
//! most once a minute (or when an unknown code or id turns up, at most
//! every 5 s) instead of on every request.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use entity::organization;
use tokio::sync::RwLock;

use crate::error::AppResult;
use crate::store::{Store, organizations};

/// How often an unknown code or id may trigger a reload.
const RELOAD_ON_MISS: Duration = Duration::from_secs(5);
/// How long a loaded directory is used before it is read again.
const MAX_AGE: Duration = Duration::from_secs(60);

#[derive(Default)]
struct State {
    by_id: HashMap<i64, organization::Model>,
    by_code: HashMap<String, i64>,
    loaded_at: Option<Instant>,
}

/// The cached directory.
pub struct OrgDirectory {
    store: Store,
    state: RwLock<State>,
}

impl OrgDirectory {
    /// An empty directory that loads on first use.
    pub fn new(store: Store) -> Self {
        OrgDirectory { store, state: RwLock::new(State::default()) }
    }

    async fn lookup<T>(&self, find: impl Fn(&State) -> Option<T>) -> AppResult<Option<T>> {
        {
            let state = self.state.read().await;
            let fresh = state.loaded_at.is_some_and(|at| at.elapsed() < MAX_AGE);
            if fresh && let Some(found) = find(&state) {
                return Ok(Some(found));
            }
            if state.loaded_at.is_some_and(|at| at.elapsed() < RELOAD_ON_MISS) {
                return Ok(find(&state));
            }
        }
        let mut state = self.state.write().await;
        if state.loaded_at.is_none_or(|at| at.elapsed() >= RELOAD_ON_MISS) {
            let all = organizations::all(&self.store).await?;
            state.by_code = all.iter().map(|o| (o.code.clone(), o.id)).collect();
            state.by_id = all.into_iter().map(|o| (o.id, o)).collect();
            state.loaded_at = Some(Instant::now());
        }
        Ok(find(&state))
    }

    /// The id of the organisation with `code`.
    pub async fn id_of(&self, code: &str) -> AppResult<Option<i64>> {
        self.lookup(|s| s.by_code.get(code).copied()).await
    }

    /// The organisation with `id`.
    pub async fn get(&self, id: i64) -> AppResult<Option<organization::Model>> {
        self.lookup(|s| s.by_id.get(&id).cloned()).await
    }
}
