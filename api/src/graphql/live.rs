//! Live subscriptions (GraphQL over WebSocket, `graphql-transport-ws`):
//! the change feed pushed to frontends as it grows.
//!
//! `changes(after:)` streams the events after the cursor that the caller
//! may read (the same rules as the `changes` query), then keeps streaming as
//! new events get their feed position. Backlog and live events come from
//! one loop that reads the feed after the last event sent, so there is no
//! seam: nothing is skipped or sent twice between the two.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::{Context, Result, Subscription};
use entity::change_event;
use futures_util::Stream;

use super::changes::ChangeEvent;
use super::context::Ctx;
use crate::domain::access::{self, Actor};
use crate::error::AppError;
use crate::store::keyset::{self, PageArgs};
use crate::store::{Store, budget, changes};

/// Events read from the feed at a time.
const PAGE: i32 = 100;
/// How often a stream re-reads the feed when nothing woke it.
const POLL: Duration = Duration::from_secs(1);

/// Open live subscriptions per organisation in this process.
#[derive(Debug, Default)]
pub struct Registry {
    open: Mutex<HashMap<i64, usize>>,
    /// Most per organisation.
    pub per_org: usize,
    /// Budget points per event sent.
    pub event_cost: f64,
}

/// One open subscription; closing it (dropping the stream) frees its place.
pub struct Slot {
    registry: Arc<Registry>,
    org: i64,
}

impl Registry {
    /// A registry with these limits.
    pub fn new(per_org: usize, event_cost: f64) -> Arc<Registry> {
        Arc::new(Registry { open: Mutex::new(HashMap::new()), per_org, event_cost })
    }

    fn acquire(self: &Arc<Self>, org: i64) -> Result<Slot, AppError> {
        let mut open = self.open.lock().map_err(|_| AppError::internal("subscription registry poisoned"))?;
        let count = open.entry(org).or_default();
        if *count >= self.per_org {
            return Err(AppError::bad_input(
                "changes",
                format!("an organisation may hold at most {} live subscriptions open; close one first", self.per_org),
            ));
        }
        *count += 1;
        Ok(Slot { registry: self.clone(), org })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.registry.open.lock()
            && let Some(count) = open.get_mut(&self.org)
        {
            *count = count.saturating_sub(1);
        }
    }
}

struct State {
    store: Store,
    actor: Actor,
    types: Option<Vec<String>>,
    after: i64,
    buffer: VecDeque<change_event::Model>,
    head: tokio::sync::watch::Receiver<i64>,
    budget: Option<budget::Budget>,
    cost: f64,
    _slot: Slot,
}

impl State {
    /// The next event the caller may read, waiting for one if needed.
    async fn next(&mut self) -> Result<change_event::Model, AppError> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                self.charge().await?;
                self.after = event.id;
                return Ok(event);
            }
            let args = PageArgs {
                first: Some(PAGE),
                after: Some(keyset::encode_cursor(&changes::SORT, None, self.after)),
                ..Default::default()
            };
            let page = changes::page(&self.store, &self.actor, &args, self.types.as_deref(), None).await?;
            if page.rows.is_empty() {
                tokio::select! {
                    _ = self.head.changed() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
                continue;
            }
            self.buffer.extend(page.rows.into_iter().map(|(_, e)| e));
        }
    }

    /// Spends the per-event cost; waits for the budget to refill when it is out.
    async fn charge(&self) -> Result<(), AppError> {
        let Some(budget) = self.budget else { return Ok(()) };
        if self.cost <= 0.0 {
            return Ok(());
        }
        loop {
            match budget::spend(&self.store, budget, self.actor.org_id, self.cost).await? {
                budget::Spend::Spent { .. } => return Ok(()),
                budget::Spend::Exhausted { retry_after, .. } => {
                    tokio::time::sleep(Duration::from_secs_f64(retry_after.clamp(0.05, 60.0))).await;
                }
            }
        }
    }
}

/// The root of live subscriptions.
#[derive(Default)]
pub struct Subscription;

/// Live subscriptions, over WebSocket at `/graphql/ws` (`graphql-transport-ws`).
#[Subscription]
impl Subscription {
    /// Committed changes after a cursor, in feed order, then each new one as
    /// it is committed (`changes:read`; only records the caller may read).
    /// Each event costs budget points; an organisation may hold a limited
    /// number open at once.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cursor of the last event already read; omit to start with the next new event.")]
        after: Option<String>,
        #[graphql(desc = "Only events of these record types (GraphQL type names, e.g. \"Enrolment\").")]
        entity_types: Option<Vec<String>>,
    ) -> Result<impl Stream<Item = Result<ChangeEvent>> + use<>> {
        let actor = ctx.actor()?.clone();
        access::may_read_feed(&actor)?;
        let store = ctx.store()?.clone();
        if let Some(types) = &entity_types {
            changes::check_entity_types(types)?;
        }
        let after = match after {
            Some(cursor) => changes::position(&cursor, "after")?,
            None => crate::feed::sequencer::head(&store.db).await.map_err(AppError::from)?,
        };
        let registry =
            ctx.data_opt::<Arc<Registry>>().ok_or_else(|| AppError::internal("subscription registry missing"))?;
        let limits = ctx.data_opt::<Arc<super::limits::Limits>>();
        let state = State {
            head: store.feed.watch(),
            budget: limits.and_then(|l| l.budget),
            cost: registry.event_cost,
            _slot: registry.acquire(actor.org_id)?,
            store,
            actor,
            types: entity_types,
            after,
            buffer: VecDeque::new(),
        };
        Ok(futures_util::stream::unfold(state, |mut state| async move {
            let item = state.next().await.map(ChangeEvent::new).map_err(async_graphql::Error::from);
            Some((item, state))
        }))
    }
}
