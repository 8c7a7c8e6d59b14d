//! Webhook subscriptions: a partner's endpoints that receive the change
//! feed as signed HTTP POSTs (`webhooks:manage`). See `docs/partner-systems.md`,
//! "Receiving changes".

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{webhook_delivery, webhook_subscription};

use super::connection::{self, connection};
use super::context::Ctx;
use crate::domain::enums::{self, ChangeOperation, WebhookStatus};
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::store::{changes, keyset, webhooks as store};
use crate::webhooks::target;

/// An endpoint of the caller's organisation that receives change events as
/// signed HTTP POSTs, in feed order, at least once.
#[derive(Clone)]
pub struct WebhookSubscription(pub Arc<webhook_subscription::Model>);

/// An endpoint of the caller's organisation that receives change events as
/// signed HTTP POSTs, in feed order, at least once.
#[Object]
impl WebhookSubscription {
    /// The subscription's global id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(Kind::WebhookSubscription, self.0.id))
    }
    /// Where events are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// What the partner calls it.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The record types delivered (GraphQL type names); null: every type.
    async fn entity_types(&self) -> Option<Vec<String>> {
        self.0.entity_types.as_ref().map(|t| t.split_whitespace().map(str::to_owned).collect())
    }
    /// The operations delivered; null: every operation.
    async fn operations(&self) -> Result<Option<Vec<ChangeOperation>>> {
        let Some(ops) = &self.0.operations else { return Ok(None) };
        Ok(Some(enums::parse_list(ops)?))
    }
    /// Whether events are being delivered.
    async fn status(&self) -> WebhookStatus {
        self.0.status
    }
    /// Why it is paused or failing.
    async fn paused_reason(&self) -> Option<&str> {
        self.0.paused_reason.as_deref()
    }
    /// The scopes events are read with: those of the token that created or
    /// last updated the subscription. An event the scopes do not cover (or
    /// an MOU the organisation may not see) is not delivered.
    async fn scopes(&self) -> Vec<String> {
        store::scopes(&self.0).into_iter().map(|s| s.as_str().to_owned()).collect()
    }
    /// Who created or last updated it (the token's `sub`).
    async fn updated_by(&self) -> &str {
        &self.0.subject
    }
    /// The feed cursor of the last event handled (delivered, or skipped by
    /// the filters); null before the first. Delivery resumes after it.
    async fn cursor(&self) -> Option<String> {
        (self.0.cursor_position > 0).then(|| keyset::encode_cursor(&changes::SORT, None, self.0.cursor_position))
    }
    /// Failed attempts at the current event since its last success.
    async fn consecutive_failures(&self) -> i32 {
        self.0.attempt
    }
    /// When the current run of failures began; null while deliveries succeed.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }
    /// When the next attempt is due (while retrying).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.attempt > 0).then_some(self.0.next_attempt_at)
    }
    /// The last 2xx answer.
    async fn last_success_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_success_at
    }
    /// The last failed attempt.
    async fn last_failure_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_failure_at
    }
    /// Until when the previous secret still signs (after a rotation); null
    /// when only the current secret signs.
    async fn previous_secret_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.previous_secret_expires_at.filter(|at| *at > Utc::now())
    }
    /// The version, for `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The delivery log, oldest first (pass `last` for the newest): one entry
    /// per attempt, kept for the configured retention.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<WebhookDeliveryConnection> {
        let actor = ctx.reader(Kind::WebhookSubscription)?;
        let args = connection::args(first, after, last, before);
        let page = store::deliveries(ctx.store()?, actor, self.0.id, &args).await?;
        Ok(WebhookDeliveryConnection::new(page, store::log_of(self.0.id)))
    }
}

/// One attempt to deliver one event.
#[derive(Clone)]
pub struct WebhookDelivery(pub Arc<webhook_delivery::Model>);

/// One attempt to deliver one event.
#[Object]
impl WebhookDelivery {
    /// The `webhook-id` header: the same for every attempt at one event, so
    /// a receiver can drop repeats.
    async fn message_id(&self) -> &str {
        &self.0.message_id
    }
    /// The feed cursor of the event.
    async fn event_cursor(&self) -> String {
        keyset::encode_cursor(&changes::SORT, None, self.0.event_id)
    }
    /// Which attempt at this event it was (1 for the first).
    async fn attempt(&self) -> i32 {
        self.0.attempt
    }
    /// When it was sent.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The HTTP status the endpoint answered; null when it did not answer.
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }
    /// Milliseconds from sending to the answer (or the failure).
    async fn latency_ms(&self) -> i32 {
        self.0.latency_ms
    }
    /// The start of the answer's body (at most 256 characters).
    async fn response_excerpt(&self) -> Option<&str> {
        self.0.response_excerpt.as_deref()
    }
    /// Why it failed without an answer (timeout, refused connection, ...).
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// Whether the endpoint answered 2xx.
    async fn succeeded(&self) -> bool {
        self.0.succeeded
    }
}

connection!(
    WebhookSubscriptionConnection,
    WebhookSubscriptionEdge,
    WebhookSubscription,
    webhook_subscription::Entity,
    "webhook subscriptions"
);
connection!(
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery,
    webhook_delivery::Entity,
    "delivery attempts"
);

/// A subscription with its signing secret: returned only when the secret is
/// made (creation, rotation). Store the secret: it is not shown again.
#[derive(SimpleObject)]
pub struct WebhookSubscriptionSecret {
    /// The subscription.
    pub subscription: WebhookSubscription,
    /// The signing secret (`whsec_...`), for verifying `webhook-signature`.
    pub secret: String,
}

/// A new webhook subscription.
#[derive(InputObject)]
pub struct CreateWebhookSubscriptionInput {
    /// The endpoint: https, on a public address.
    pub url: String,
    /// What the partner calls it (at most 500 characters).
    pub description: Option<String>,
    /// Only events of these record types (GraphQL type names); omit for all.
    pub entity_types: Option<Vec<String>>,
    /// Only these operations; omit for all.
    pub operations: Option<Vec<ChangeOperation>>,
    /// Start after this feed cursor (to catch up from a poller's position);
    /// omit to start with the next event.
    pub after: Option<String>,
}

/// A change to a webhook subscription.
#[derive(InputObject)]
pub struct UpdateWebhookSubscriptionInput {
    /// The subscription.
    pub id: ID,
    /// The version read; a stale one is `CONFLICT`.
    pub expected_version: i32,
    /// A new endpoint.
    pub url: Option<String>,
    /// A new description (null clears it).
    pub description: MaybeUndefined<String>,
    /// New record-type filter (null: every type).
    pub entity_types: MaybeUndefined<Vec<String>>,
    /// New operation filter (null: every operation).
    pub operations: MaybeUndefined<Vec<ChangeOperation>>,
    /// false pauses delivery (events wait, none is lost); true resumes it,
    /// also after the service paused it as failing.
    pub active: Option<bool>,
}

/// A secret rotation.
#[derive(InputObject)]
pub struct RotateWebhookSecretInput {
    /// The subscription.
    pub id: ID,
    /// The version read; a stale one is `CONFLICT`.
    pub expected_version: i32,
    /// How long the old secret keeps signing alongside the new one (both
    /// signatures are sent meanwhile); default 24 hours, 0 drops it at once,
    /// at most 7 days.
    pub overlap_seconds: Option<i32>,
}

/// A replay.
#[derive(InputObject)]
pub struct ReplayWebhookSubscriptionInput {
    /// The subscription.
    pub id: ID,
    /// The version read; a stale one is `CONFLICT`.
    pub expected_version: i32,
    /// Deliver every event after this feed cursor again, in order; omit to
    /// replay from the start of the feed.
    pub after: Option<String>,
}

const MAX_OVERLAP_SECS: i32 = 7 * 24 * 3600;

fn policy(ctx: &Context<'_>) -> Result<target::Policy, AppError> {
    let settings = ctx
        .data_opt::<Arc<crate::config::WebhookSettings>>()
        .ok_or_else(|| AppError::internal("webhook settings missing from the schema"))?;
    Ok(if settings.allow_loopback { target::Policy::AllowLoopback } else { target::Policy::PublicHttps })
}

async fn checked_url(ctx: &Context<'_>, url: &str) -> Result<String, AppError> {
    target::check(url, policy(ctx)?).await.map(|u| u.to_string()).map_err(|reason| AppError::bad_input("url", reason))
}

fn checked_types(types: Option<Vec<String>>) -> Result<Option<Vec<String>>, AppError> {
    let Some(mut types) = types else { return Ok(None) };
    changes::check_entity_types(&types)?;
    types.sort();
    types.dedup();
    if types.is_empty() {
        return Err(AppError::bad_input("entityTypes", "give at least one type, or omit the filter"));
    }
    Ok(Some(types))
}

fn checked_ops(ops: Option<Vec<ChangeOperation>>) -> Result<Option<Vec<ChangeOperation>>, AppError> {
    let Some(mut ops) = ops else { return Ok(None) };
    ops.sort();
    ops.dedup();
    if ops.is_empty() {
        return Err(AppError::bad_input("operations", "give at least one operation, or omit the filter"));
    }
    Ok(Some(ops))
}

fn checked_description(description: Option<String>) -> Result<Option<String>, AppError> {
    match description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()) {
        Some(d) if d.chars().count() > store::MAX_DESCRIPTION => Err(AppError::bad_input(
            "description",
            format!("description may be at most {} characters", store::MAX_DESCRIPTION),
        )),
        other => Ok(other),
    }
}

/// A feed position from a cursor given in `field`.
fn position(cursor: Option<&str>, field: &str) -> Result<Option<i64>, AppError> {
    cursor.map(|c| changes::position(c, field)).transpose()
}

/// Queries of webhook subscriptions.
#[derive(Default)]
pub struct WebhookQuery;

/// Queries of webhook subscriptions.
#[Object]
impl WebhookQuery {
    /// The caller's organisation's webhook subscriptions, oldest first
    /// (`webhooks:manage`).
    async fn webhook_subscriptions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<WebhookSubscriptionConnection> {
        let actor = ctx.reader(Kind::WebhookSubscription)?;
        let page = store::page(ctx.store()?, actor, &connection::args(first, after, last, before)).await?;
        Ok(WebhookSubscriptionConnection::new(page, store::own(actor)))
    }

    /// One of the caller's organisation's webhook subscriptions.
    async fn webhook_subscription(&self, ctx: &Context<'_>, id: ID) -> Result<Option<WebhookSubscription>> {
        let actor = ctx.reader(Kind::WebhookSubscription)?;
        let id = ids::decode(Kind::WebhookSubscription, &id, "id")?;
        match store::get(ctx.store()?, actor, id).await {
            Ok(model) => Ok(Some(WebhookSubscription(Arc::new(model)))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// Loads the caller's subscription `id` for `node` (needs `webhooks:manage`).
pub async fn load(ctx: &Context<'_>, id: i64) -> Result<Option<WebhookSubscription>, AppError> {
    let actor = ctx.reader(Kind::WebhookSubscription)?;
    match store::get(ctx.store()?, actor, id).await {
        Ok(model) => Ok(Some(WebhookSubscription(Arc::new(model)))),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Mutations of webhook subscriptions.
#[derive(Default)]
pub struct WebhookMutation;

/// Mutations of webhook subscriptions.
#[Object]
impl WebhookMutation {
    /// Creates a webhook subscription (`webhooks:manage` and `changes:read`).
    /// Its events are read with this token's scopes. The answer carries the signing secret: it is
    /// shown here and on rotation only (a retry with the same
    /// `idempotencyKey` returns the same subscription and secret).
    async fn create_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookSubscriptionInput,
        idempotency_key: Option<String>,
    ) -> Result<WebhookSubscriptionSecret> {
        let actor = ctx.reader(Kind::WebhookSubscription)?;
        let store = ctx.store()?;
        let draft = store::Draft {
            url: checked_url(ctx, &input.url).await?,
            description: checked_description(input.description)?,
            entity_types: checked_types(input.entity_types)?,
            operations: checked_ops(input.operations)?,
        };
        let start = match position(input.after.as_deref(), "after")? {
            Some(p) => p,
            None => crate::feed::sequencer::head(&store.db).await.map_err(AppError::from)?,
        };
        let model = store::create(store, actor, draft, start, idempotency_key.as_deref()).await?;
        let secret = model.secret.clone();
        Ok(WebhookSubscriptionSecret { subscription: WebhookSubscription(Arc::new(model)), secret })
    }

    /// Changes a webhook subscription's endpoint, filters or state
    /// (`webhooks:manage`); from then on its events are read with this
    /// token's scopes.
    async fn update_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        input: UpdateWebhookSubscriptionInput,
    ) -> Result<WebhookSubscription> {
        let actor = ctx.reader(Kind::WebhookSubscription)?;
        let id = ids::decode(Kind::WebhookSubscription, &input.id, "id")?;
        let url = match &input.url {
            Some(url) => Some(checked_url(ctx, url).await?),
            None => None,
        };
        let changes = store::Changes {
            url,
            description: match input.description {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(d) => Some(checked_description(Some(d))?),
            },
            entity_types: match input.entity_types {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(t) => Some(checked_types(Some(t))?),
            },
            operations: match input.operations {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(o) => Some(checked_ops(Some(o))?),
            },
            active: input.active,
        };
        let model = store::update(ctx.store()?, actor, id, input.expected_version, changes).await?;
        Ok(WebhookSubscription(Arc::new(model)))
    }

    /// Replaces the signing secret (`webhooks:manage`). During the overlap
    /// both the old and the new secret sign every delivery.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        input: RotateWebhookSecretInput,
    ) -> Result<WebhookSubscriptionSecret> {
        let actor = ctx.reader(Kind::WebhookSubscription)?;
        let id = ids::decode(Kind::WebhookSubscription, &input.id, "id")?;
        let default = ctx
            .data_opt::<Arc<crate::config::WebhookSettings>>()
            .map(|s| s.secret_overlap.as_secs() as i32)
            .unwrap_or(24 * 3600);
        let overlap = input.overlap_seconds.unwrap_or(default);
        if !(0..=MAX_OVERLAP_SECS).contains(&overlap) {
            return Err(AppError::bad_input(
                "overlapSeconds",
                format!("overlapSeconds must be 0 to {MAX_OVERLAP_SECS}"),
            )
            .into());
        }
        let model = store::rotate_secret(
            ctx.store()?,
            actor,
            id,
            input.expected_version,
            chrono::Duration::seconds(overlap.into()),
        )
        .await?;
        let secret = model.secret.clone();
        Ok(WebhookSubscriptionSecret { subscription: WebhookSubscription(Arc::new(model)), secret })
    }

    /// Delivers again, in order, every event after a cursor
    /// (`webhooks:manage`): to rebuild a partner's copy after an outage on its
    /// side. Replayed events keep their `webhook-id`.
    async fn replay_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        input: ReplayWebhookSubscriptionInput,
    ) -> Result<WebhookSubscription> {
        let actor = ctx.reader(Kind::WebhookSubscription)?;
        let id = ids::decode(Kind::WebhookSubscription, &input.id, "id")?;
        let after = position(input.after.as_deref(), "after")?.unwrap_or(0);
        let model = store::replay(ctx.store()?, actor, id, input.expected_version, after).await?;
        Ok(WebhookSubscription(Arc::new(model)))
    }
}
