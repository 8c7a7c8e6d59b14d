//! The delivery worker. Each serving process runs one; replicas share the
//! work through leases on subscription rows (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), so a normal run sends each event once, and a crashed
//! replica's leases expire and another replica carries on.
//!
//! A subscription is worked on by one worker at a time and its events go out
//! one by one in feed order: event n+1 is sent only after event n was
//! answered 2xx (at least once, in order). A failure schedules the same event
//! again after an exponential backoff with jitter; after the retry horizon
//! the subscription is paused as `FAILING` with the reason.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use entity::{webhook_delivery, webhook_subscription};
use sea_orm::ActiveValue::Set;
use tokio::sync::Semaphore;

use super::{payload, signing, target};
use crate::auth::OrgDirectory;
use crate::config::WebhookSettings;
use crate::domain::access::Actor;
use crate::graphql::AppSchema;
use crate::store::keyset::{PageArgs, encode_cursor};
use crate::store::{Store, changes, now, webhooks as store};

/// Most bytes of an answer read (the rest is dropped with the connection).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Characters of an answer kept in the delivery log.
const EXCERPT_CHARS: usize = 256;
/// Events read from the feed at a time for one subscription.
const FEED_PAGE: i32 = 50;
/// Most events sent for one subscription per lease before others get a turn.
const EVENTS_PER_LEASE: usize = 500;
/// How often the worker looks for due work when nothing woke it.
const IDLE_TICK: Duration = Duration::from_millis(500);

/// The delivery worker of one process.
#[derive(Clone)]
pub struct Dispatcher {
    store: Store,
    schema: AppSchema,
    settings: Arc<WebhookSettings>,
    client: reqwest::Client,
    orgs: Arc<OrgDirectory>,
    policy: target::Policy,
    owner: Arc<String>,
    slots: Arc<Semaphore>,
}

impl Dispatcher {
    /// A worker with its own HTTP client: no redirects, the configured
    /// timeouts, and a resolver that connects to allowed addresses only.
    pub fn new(
        store: Store,
        schema: AppSchema,
        orgs: Arc<OrgDirectory>,
        settings: Arc<WebhookSettings>,
    ) -> Result<Dispatcher, String> {
        let policy = if settings.allow_loopback { target::Policy::AllowLoopback } else { target::Policy::PublicHttps };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve and connect for us, past the address check.
            .no_proxy()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .dns_resolver(Arc::new(target::PublicOnly(policy)))
            .user_agent(concat!("partner-records-webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(4)
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        let owner = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Ok(Dispatcher {
            slots: Arc::new(Semaphore::new(settings.max_concurrent)),
            store,
            schema,
            settings,
            client,
            orgs,
            policy,
            owner: Arc::new(owner),
        })
    }

    /// Runs forever: claims due subscriptions while slots are free and
    /// works each in its own task.
    pub async fn run(self) {
        let mut head = self.store.feed.watch();
        loop {
            let free = self.slots.available_permits();
            let known_head = *head.borrow_and_update();
            if free > 0 && known_head > 0 {
                match store::claim(
                    &self.store,
                    &self.owner,
                    known_head,
                    free as u64,
                    chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::seconds(60)),
                )
                .await
                {
                    Ok(claimed) => {
                        for sub in claimed {
                            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                                let _ = store::release(&self.store, sub.id, &self.owner).await;
                                continue;
                            };
                            let worker = self.clone();
                            tokio::spawn(async move {
                                worker.work(sub).await;
                                drop(permit);
                            });
                        }
                    }
                    Err(e) => tracing::warn!(code = e.code(), "claiming webhook subscriptions failed"),
                }
            }
            tokio::select! {
                _ = head.changed() => {}
                _ = tokio::time::sleep(IDLE_TICK) => {}
            }
        }
    }

    /// Sends a leased subscription's due events in order, until it is
    /// caught up, an attempt fails, or its turn is over.
    async fn work(&self, sub: webhook_subscription::Model) {
        let id = sub.id;
        if let Err(e) = self.deliver_due(sub).await {
            tracing::warn!(subscription = id, code = e.code(), "webhook delivery stopped: {}", e.message());
            let _ = store::release(&self.store, id, &self.owner).await;
        }
    }

    async fn deliver_due(&self, sub: webhook_subscription::Model) -> crate::error::AppResult<()> {
        let actor = self.actor_of(&sub).await?;
        let lease = chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::seconds(60));
        let types: Option<Vec<String>> =
            sub.entity_types.as_ref().map(|t| t.split_whitespace().map(str::to_owned).collect());
        let ops: Option<Vec<String>> =
            sub.operations.as_ref().map(|t| t.split_whitespace().map(str::to_owned).collect());
        if crate::domain::access::may_read_feed(&actor).is_err() {
            // Its scopes read no event (checked at write time; kept for safety).
            let head = *self.store.feed.head.borrow();
            store::advance(&self.store, sub.id, &self.owner, head, false, lease).await?;
            return store::release(&self.store, sub.id, &self.owner).await;
        }
        let mut cursor = sub.cursor_position;
        let mut persisted = cursor;
        let mut sent = 0;
        let mut first_attempt = sub.attempt;
        let mut failing_since = if sub.attempt > 0 { sub.failing_since } else { None };
        loop {
            // Every position up to this head had committed before the page
            // below was read.
            let head = *self.store.feed.head.borrow();
            let args = PageArgs {
                first: Some(FEED_PAGE),
                after: Some(encode_cursor(&changes::SORT, None, cursor)),
                ..Default::default()
            };
            let page = changes::page(&self.store, &actor, &args, types.as_deref(), None).await?;
            if page.rows.is_empty() {
                // Events the rules or filters skip still move the cursor, so
                // they are not read again; then give the lease back.
                if head > cursor {
                    store::advance(&self.store, sub.id, &self.owner, head, false, lease).await?;
                }
                return store::release(&self.store, sub.id, &self.owner).await;
            }
            for (_, event) in page.rows {
                if ops.as_ref().is_some_and(|ops| !ops.iter().any(|o| o == event.operation.as_str())) {
                    cursor = event.id;
                    continue;
                }
                let attempt = first_attempt + 1;
                first_attempt = 0;
                let (succeeded, entry) = self.attempt(&sub, &actor, &event, attempt).await;
                if !succeeded {
                    if let Err(e) = store::log_attempt(&self.store, entry).await {
                        tracing::warn!(code = e.code(), "logging a webhook attempt failed");
                    }
                    if cursor > persisted {
                        store::advance(&self.store, sub.id, &self.owner, cursor, false, lease).await?;
                    }
                    return self.schedule_retry(&sub, attempt, failing_since).await;
                }
                cursor = event.id;
                if !store::delivered(&self.store, entry, sub.id, &self.owner, cursor, lease).await? {
                    // The lease went to another replica meanwhile.
                    return Ok(());
                }
                persisted = cursor;
                sent += 1;
                failing_since = None;
                if sent >= EVENTS_PER_LEASE {
                    return store::release(&self.store, sub.id, &self.owner).await;
                }
            }
            // A page the filters skipped moves the cursor (and renews the
            // lease) too, so a long run of skipped events is not read again.
            if cursor > persisted {
                if !store::advance(&self.store, sub.id, &self.owner, cursor, false, lease).await? {
                    return Ok(());
                }
                persisted = cursor;
            }
        }
    }

    /// The subscription's organisation with its stored scopes.
    async fn actor_of(&self, sub: &webhook_subscription::Model) -> crate::error::AppResult<Actor> {
        Ok(Actor {
            org_id: sub.organization_id,
            org_code: self.org_code(sub.organization_id).await,
            subject: format!("webhook:{}", sub.id),
            scopes: store::scopes(sub).into_iter().collect(),
            expires_at: Utc::now() + chrono::Duration::hours(1),
            issuer: "webhooks".into(),
        })
    }

    /// An organisation's code, from the process's directory (cached).
    async fn org_code(&self, id: i64) -> String {
        self.orgs.get(id).await.ok().flatten().map(|o| o.code).unwrap_or_default()
    }

    /// One POST of one event: whether it was answered 2xx, and its entry
    /// for the delivery log.
    async fn attempt(
        &self,
        sub: &webhook_subscription::Model,
        actor: &Actor,
        event: &entity::change_event::Model,
        attempt: i32,
    ) -> (bool, webhook_delivery::ActiveModel) {
        let actor_code = self.org_code(event.actor_org_id).await;
        let message_id = format!("msg_{}_{}", sub.id, event.id);
        let body = payload::body(&self.schema, &self.store, actor, event, &actor_code, &message_id).await;
        let timestamp = Utc::now().timestamp();
        let mut secrets = vec![sub.secret.as_str()];
        if let (Some(previous), Some(until)) = (&sub.previous_secret, sub.previous_secret_expires_at)
            && until > Utc::now()
        {
            secrets.push(previous.as_str());
        }
        let signature = signing::header(&secrets, &message_id, timestamp, &body);
        let started = Instant::now();
        // The URL was checked when it was written; the policy may have
        // tightened since (an IP literal never goes through the resolver).
        if let Err(reason) = target::parse(&sub.url, self.policy) {
            return (false, entry(sub, event, &message_id, attempt, None, None, Some(reason), 0));
        }
        let sent = self
            .client
            .post(&sub.url)
            .header("content-type", "application/json")
            .header("webhook-id", &message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let (status, excerpt, error) = match sent {
            Ok(response) => {
                let status = response.status();
                let excerpt = read_excerpt(response).await;
                (Some(status), excerpt, None)
            }
            Err(e) => (None, None, Some(describe(&e))),
        };
        let latency = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
        let entry =
            entry(sub, event, &message_id, attempt, status.map(|s| i32::from(s.as_u16())), excerpt, error, latency);
        (status.is_some_and(|s| s.is_success()), entry)
    }

    async fn schedule_retry(
        &self,
        sub: &webhook_subscription::Model,
        attempt: i32,
        failing_since: Option<chrono::DateTime<Utc>>,
    ) -> crate::error::AppResult<()> {
        let at = now();
        let since = failing_since.unwrap_or(at);
        let horizon = chrono::Duration::from_std(self.settings.horizon).unwrap_or(chrono::Duration::days(3));
        let give_up = (at - since >= horizon).then(|| {
            format!(
                "deliveries failed from {} for longer than the retry horizon ({} s); fix the endpoint, then set it active or replay",
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                horizon.num_seconds()
            )
        });
        let delay = backoff(attempt, self.settings.retry_base, self.settings.retry_max);
        let next = at + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::seconds(60));
        let mut failed_sub = sub.clone();
        failed_sub.failing_since = Some(since);
        store::failed(&self.store, &failed_sub, &self.owner, next, give_up).await
    }
}

/// The delivery-log entry of one attempt.
#[allow(clippy::too_many_arguments)]
fn entry(
    sub: &webhook_subscription::Model,
    event: &entity::change_event::Model,
    message_id: &str,
    attempt: i32,
    status: Option<i32>,
    excerpt: Option<String>,
    error: Option<String>,
    latency_ms: i32,
) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        subscription_id: Set(sub.id),
        event_id: Set(event.id),
        message_id: Set(message_id.to_owned()),
        attempt: Set(attempt),
        at: Set(now()),
        status_code: Set(status),
        latency_ms: Set(latency_ms),
        response_excerpt: Set(excerpt),
        error: Set(error),
        succeeded: Set(status.is_some_and(|s| (200..300).contains(&s))),
        ..Default::default()
    }
}

/// The delay before attempt `attempt + 1`: `base * 2^(attempt-1)`, capped at
/// `max`, then scaled by a random factor in [0.5, 1.0] (jitter), so
/// subscriptions that failed together do not retry together.
pub fn backoff(attempt: i32, base: Duration, max: Duration) -> Duration {
    let exponent = attempt.saturating_sub(1).clamp(0, 30) as u32;
    let full = base.saturating_mul(2u32.saturating_pow(exponent)).min(max);
    let jitter: f64 = 0.5 + rand::random::<f64>() * 0.5;
    full.mul_f64(jitter)
}

async fn read_excerpt(response: reqwest::Response) -> Option<String> {
    let mut response = response;
    let mut buffer: Vec<u8> = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        buffer.extend_from_slice(&chunk);
        if buffer.len() >= MAX_RESPONSE_BYTES {
            break;
        }
    }
    let text = String::from_utf8_lossy(&buffer);
    let excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
    (!excerpt.trim().is_empty()).then_some(excerpt)
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else if error.is_redirect() {
        "redirect (not followed)".into()
    } else {
        "request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let base = Duration::from_secs(5);
        let max = Duration::from_secs(3600);
        for attempt in 1..20 {
            let d = backoff(attempt, base, max);
            let full = base.saturating_mul(2u32.pow((attempt - 1) as u32)).min(max);
            assert!(d >= full.mul_f64(0.5) && d <= full, "attempt {attempt}: {d:?}");
        }
    }
}
