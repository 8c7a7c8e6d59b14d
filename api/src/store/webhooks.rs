//! Webhook subscriptions and their delivery log. A subscription belongs to
//! one organisation: every function here is scoped to the caller's, and
//! another organisation's subscription is `NOT_FOUND`.

use chrono::{DateTime, Duration, Utc};
use entity::{webhook_delivery, webhook_subscription};
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait,
    QueryFilter, Select,
};

use super::keyset::{self, Page, PageArgs, SortKey};
use super::versioned::check_version;
use super::{Store, idempotency, now};
use crate::domain::access::{self, Actor, Scope};
use crate::domain::enums::{ChangeOperation, WebhookStatus};
use crate::domain::ids::Kind;
use crate::error::{AppError, AppResult};
use crate::webhooks::signing;

/// Most subscriptions one organisation may have.
pub const MAX_PER_ORG: u64 = 25;
/// Longest description.
pub const MAX_DESCRIPTION: usize = 500;

/// A validated subscription to write.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Draft {
    /// The endpoint (already checked against the target policy).
    pub url: String,
    /// What the partner calls it.
    pub description: Option<String>,
    /// Record types delivered (`None`: all).
    pub entity_types: Option<Vec<String>>,
    /// Operations delivered (`None`: all).
    pub operations: Option<Vec<ChangeOperation>>,
}

/// The keyset of the subscription list (creation order).
pub const SORT: SortKey = SortKey::by_id("webhook.id");
/// The keyset of the delivery log (newest first is read by walking backward).
pub const LOG_SORT: SortKey = SortKey::by_id("webhook.delivery.id");

fn join<T: AsRef<str>>(items: &Option<Vec<T>>) -> Option<String> {
    items.as_ref().map(|v| v.iter().map(|s| s.as_ref().to_owned()).collect::<Vec<_>>().join(" "))
}

/// The scopes the subscription delivers under: those of the token that wrote it.
pub fn scopes_text(actor: &Actor) -> String {
    actor.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

/// Creates a subscription that delivers events after `start` (a feed
/// position); returns it with its secret.
pub async fn create(
    store: &Store,
    actor: &Actor,
    draft: Draft,
    start: i64,
    idempotency_key: Option<&str>,
) -> AppResult<webhook_subscription::Model> {
    require_managers(actor)?;
    let input = serde_json::json!({ "draft": draft, "start": start });
    let actor_owned = actor.clone();
    let id = idempotency::create(
        store,
        actor,
        idempotency_key,
        "createWebhookSubscription",
        Kind::WebhookSubscription,
        &input,
        Box::new(move |tx| {
            Box::pin(async move {
                let count = webhook_subscription::Entity::find()
                    .filter(webhook_subscription::Column::OrganizationId.eq(actor_owned.org_id))
                    .count(tx)
                    .await?;
                if count >= MAX_PER_ORG {
                    return Err(AppError::bad_input(
                        "input",
                        format!(
                            "an organisation may have at most {MAX_PER_ORG} webhook subscriptions; pause or reuse one"
                        ),
                    ));
                }
                let at = now();
                let created = webhook_subscription::ActiveModel {
                    organization_id: Set(actor_owned.org_id),
                    url: Set(draft.url),
                    description: Set(draft.description),
                    entity_types: Set(join(&draft.entity_types)),
                    operations: Set(draft
                        .operations
                        .map(|ops| ops.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(" "))),
                    scopes: Set(scopes_text(&actor_owned)),
                    subject: Set(actor_owned.subject.chars().take(200).collect()),
                    secret: Set(signing::new_secret()),
                    previous_secret: Set(None),
                    previous_secret_expires_at: Set(None),
                    status: Set(WebhookStatus::Active),
                    paused_reason: Set(None),
                    cursor_position: Set(start),
                    next_attempt_at: Set(at),
                    attempt: Set(0),
                    failing_since: Set(None),
                    last_success_at: Set(None),
                    last_failure_at: Set(None),
                    lease_owner: Set(None),
                    lease_until: Set(None),
                    version: Set(1),
                    created_at: Set(at),
                    updated_at: Set(at),
                    ..Default::default()
                }
                .insert(tx)
                .await?;
                Ok(created.id)
            })
        }),
    )
    .await?;
    get(store, actor, id).await
}

/// Writing a subscription: `access::may_manage_webhooks`.
fn require_managers(actor: &Actor) -> AppResult<()> {
    access::may_manage_webhooks(actor)
}

/// The caller's subscription `id`.
pub async fn get(store: &Store, actor: &Actor, id: i64) -> AppResult<webhook_subscription::Model> {
    access::may_write(actor, Kind::WebhookSubscription)?;
    find_own(&store.db, actor, id).await
}

async fn find_own<C: ConnectionTrait>(conn: &C, actor: &Actor, id: i64) -> AppResult<webhook_subscription::Model> {
    webhook_subscription::Entity::find_by_id(id)
        .filter(webhook_subscription::Column::OrganizationId.eq(actor.org_id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("no WebhookSubscription with that id"))
}

/// The caller's subscriptions (unordered, unpaged).
pub fn own(actor: &Actor) -> Select<webhook_subscription::Entity> {
    webhook_subscription::Entity::find().filter(webhook_subscription::Column::OrganizationId.eq(actor.org_id))
}

/// The caller's subscriptions, in creation order.
pub async fn page(store: &Store, actor: &Actor, args: &PageArgs) -> AppResult<Page<webhook_subscription::Model>> {
    access::may_write(actor, Kind::WebhookSubscription)?;
    keyset::window(args, SORT)?.fetch(&store.db, own(actor), |_| None, |m| m.id).await
}

/// The delivery log of subscription `id` (unordered, unpaged).
pub fn log_of(id: i64) -> Select<webhook_delivery::Entity> {
    webhook_delivery::Entity::find().filter(webhook_delivery::Column::SubscriptionId.eq(id))
}

/// A page of a subscription's delivery log (the caller's own).
pub async fn deliveries(
    store: &Store,
    actor: &Actor,
    subscription: i64,
    args: &PageArgs,
) -> AppResult<Page<webhook_delivery::Model>> {
    get(store, actor, subscription).await?;
    keyset::window(args, LOG_SORT)?.fetch(&store.db, log_of(subscription), |_| None, |m| m.id).await
}

/// What an update changes (`None`: unchanged).
#[derive(Clone, Debug, Default)]
pub struct Changes {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub entity_types: Option<Option<Vec<String>>>,
    pub operations: Option<Option<Vec<ChangeOperation>>>,
    pub active: Option<bool>,
}

/// Runs `apply` on the caller's subscription `id` at `expected` version, in
/// a write transaction, raising the version.
async fn modify(
    store: &Store,
    actor: &Actor,
    id: i64,
    expected: i32,
    apply: impl FnOnce(&webhook_subscription::Model, &mut webhook_subscription::ActiveModel),
) -> AppResult<webhook_subscription::Model> {
    require_managers(actor)?;
    let tx = store.begin_write().await?;
    let current = find_own(&tx, actor, id).await?;
    check_version(Kind::WebhookSubscription, current.version, expected)?;
    let mut am = webhook_subscription::ActiveModel { id: sea_orm::ActiveValue::Unchanged(id), ..Default::default() };
    apply(&current, &mut am);
    am.scopes = Set(scopes_text(actor));
    am.subject = Set(actor.subject.chars().take(200).collect());
    am.version = Set(current.version + 1);
    am.updated_at = Set(now());
    let result = webhook_subscription::Entity::update_many()
        .set(am)
        .filter(webhook_subscription::Column::Id.eq(id))
        .filter(webhook_subscription::Column::Version.eq(expected))
        .exec(&tx)
        .await?;
    if result.rows_affected != 1 {
        return Err(AppError::conflict("WebhookSubscription was changed concurrently; reload and retry"));
    }
    let model = find_own(&tx, actor, id).await?;
    tx.commit().await?;
    store.feed.nudge();
    Ok(model)
}

/// Updates the URL, description, filters or state. Whoever updates it
/// lends it their token's scopes from then on.
pub async fn update(
    store: &Store,
    actor: &Actor,
    id: i64,
    expected: i32,
    changes: Changes,
) -> AppResult<webhook_subscription::Model> {
    modify(store, actor, id, expected, |current, am| {
        if let Some(url) = changes.url {
            am.url = Set(url);
        }
        if let Some(description) = changes.description {
            am.description = Set(description);
        }
        if let Some(types) = changes.entity_types {
            am.entity_types = Set(join(&types));
        }
        if let Some(ops) = changes.operations {
            am.operations = Set(ops.map(|ops| ops.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(" ")));
        }
        match changes.active {
            Some(true) if current.status != WebhookStatus::Active => {
                am.status = Set(WebhookStatus::Active);
                am.paused_reason = Set(None);
                am.failing_since = Set(None);
                am.attempt = Set(0);
                am.next_attempt_at = Set(now());
            }
            Some(false) if current.status == WebhookStatus::Active => {
                am.status = Set(WebhookStatus::Paused);
                am.paused_reason = Set(Some("paused by the partner".into()));
            }
            _ => {}
        }
    })
    .await
}

/// Replaces the signing secret; the old one keeps signing for `overlap`.
pub async fn rotate_secret(
    store: &Store,
    actor: &Actor,
    id: i64,
    expected: i32,
    overlap: Duration,
) -> AppResult<webhook_subscription::Model> {
    modify(store, actor, id, expected, |current, am| {
        am.secret = Set(signing::new_secret());
        if overlap > Duration::zero() {
            am.previous_secret = Set(Some(current.secret.clone()));
            am.previous_secret_expires_at = Set(Some(now() + overlap));
        } else {
            am.previous_secret = Set(None);
            am.previous_secret_expires_at = Set(None);
        }
    })
    .await
}

/// Delivers again every event after feed position `after`, in order; a
/// failing subscription becomes active.
pub async fn replay(
    store: &Store,
    actor: &Actor,
    id: i64,
    expected: i32,
    after: i64,
) -> AppResult<webhook_subscription::Model> {
    modify(store, actor, id, expected, |current, am| {
        am.cursor_position = Set(after);
        am.attempt = Set(0);
        am.failing_since = Set(None);
        am.next_attempt_at = Set(now());
        if current.status == WebhookStatus::Failing {
            am.status = Set(WebhookStatus::Active);
            am.paused_reason = Set(None);
        }
    })
    .await
}

// ------------------------------------------------------------ the delivery side

/// Leases up to `limit` active subscriptions that are due and behind the
/// feed's `head` to `owner` until `until`. Replicas skip each other's
/// locked rows, so each subscription is worked on by one replica at a time.
pub async fn claim(
    store: &Store,
    owner: &str,
    head: i64,
    limit: u64,
    lease: Duration,
) -> AppResult<Vec<webhook_subscription::Model>> {
    use webhook_subscription::Column as C;
    let at = now();
    let until = at + lease;
    let mut due = Query::select();
    due.column(C::Id)
        .from(webhook_subscription::Entity)
        .and_where(C::Status.eq(WebhookStatus::Active.as_str()))
        .and_where(C::NextAttemptAt.lte(at))
        .and_where(C::CursorPosition.lt(head))
        .and_where(C::LeaseUntil.is_null().or(C::LeaseUntil.lt(at)))
        .order_by(C::NextAttemptAt, sea_orm::Order::Asc)
        .limit(limit);
    if store.backend() == sea_orm::DbBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let result = webhook_subscription::Entity::update_many()
        .col_expr(C::LeaseOwner, Expr::value(owner))
        .col_expr(C::LeaseUntil, Expr::value(until))
        .filter(C::Id.in_subquery(due))
        .exec(&store.db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(Vec::new());
    }
    Ok(webhook_subscription::Entity::find()
        .filter(C::LeaseOwner.eq(owner))
        .filter(C::LeaseUntil.eq(until))
        .all(&store.db)
        .await?)
}

/// Records one attempt in the delivery log.
pub async fn log_attempt(store: &Store, attempt: webhook_delivery::ActiveModel) -> AppResult<()> {
    attempt.insert(&store.db).await?;
    Ok(())
}

/// After a 2xx: logs the attempt and moves the cursor to `position`, in one
/// transaction. `false` when the lease was lost (nothing is written then;
/// another replica will deliver the event again: at least once).
pub async fn delivered(
    store: &Store,
    entry: webhook_delivery::ActiveModel,
    id: i64,
    owner: &str,
    position: i64,
    lease: Duration,
) -> AppResult<bool> {
    use sea_orm::TransactionTrait;
    let tx = store.db.begin().await?;
    entry.insert(&tx).await?;
    if !advance_in(&tx, id, owner, position, true, lease).await? {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}

/// After a 2xx (or events the filters skip): moves the subscription's cursor
/// to `position` and renews the lease, if `owner` still holds it. `false`
/// when the lease was lost (another replica may deliver again: at least once).
pub async fn advance(
    store: &Store,
    id: i64,
    owner: &str,
    position: i64,
    delivered: bool,
    lease: Duration,
) -> AppResult<bool> {
    advance_in(&store.db, id, owner, position, delivered, lease).await
}

async fn advance_in<Conn: ConnectionTrait>(
    conn: &Conn,
    id: i64,
    owner: &str,
    position: i64,
    delivered: bool,
    lease: Duration,
) -> AppResult<bool> {
    use webhook_subscription::Column as C;
    let at = now();
    let mut update = webhook_subscription::Entity::update_many()
        .col_expr(C::CursorPosition, Expr::value(position))
        .col_expr(C::LeaseUntil, Expr::value(at + lease));
    if delivered {
        update = update
            .col_expr(C::Attempt, Expr::value(0))
            .col_expr(C::FailingSince, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(C::LastSuccessAt, Expr::value(at));
    }
    let result = update
        .filter(C::Id.eq(id))
        .filter(C::LeaseOwner.eq(owner))
        .filter(C::CursorPosition.lt(position))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// After a failed attempt: schedules the next one at `next`, or pauses the
/// subscription as failing when `give_up` says why.
pub async fn failed(
    store: &Store,
    sub: &webhook_subscription::Model,
    owner: &str,
    next: DateTime<Utc>,
    give_up: Option<String>,
) -> AppResult<()> {
    use webhook_subscription::Column as C;
    let at = now();
    let mut update = without_lease(webhook_subscription::Entity::update_many())
        .col_expr(C::Attempt, Expr::col(C::Attempt).add(1))
        .col_expr(C::FailingSince, Expr::value(sub.failing_since.unwrap_or(at)))
        .col_expr(C::LastFailureAt, Expr::value(at))
        .col_expr(C::NextAttemptAt, Expr::value(next));
    if let Some(reason) = give_up {
        update = update
            .col_expr(C::Status, Expr::value(WebhookStatus::Failing.as_str()))
            .col_expr(C::PausedReason, Expr::value(reason));
    }
    update.filter(C::Id.eq(sub.id)).filter(C::LeaseOwner.eq(owner)).exec(&store.db).await?;
    Ok(())
}

/// An update that also gives the lease back.
fn without_lease(
    update: sea_orm::UpdateMany<webhook_subscription::Entity>,
) -> sea_orm::UpdateMany<webhook_subscription::Entity> {
    use webhook_subscription::Column as C;
    update
        .col_expr(C::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(C::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
}

/// Gives a lease back (nothing more to send now).
pub async fn release(store: &Store, id: i64, owner: &str) -> AppResult<()> {
    use webhook_subscription::Column as C;
    without_lease(webhook_subscription::Entity::update_many())
        .filter(C::Id.eq(id))
        .filter(C::LeaseOwner.eq(owner))
        .exec(&store.db)
        .await?;
    Ok(())
}

/// Deletes delivery-log rows older than `retention` (the log is operational
/// data, not a shared record).
pub async fn purge_log(store: &Store, retention: std::time::Duration) -> AppResult<u64> {
    let oldest = now() - Duration::from_std(retention).unwrap_or(Duration::days(30));
    let result =
        webhook_delivery::Entity::delete_many().filter(webhook_delivery::Column::At.lt(oldest)).exec(&store.db).await?;
    Ok(result.rows_affected)
}

/// The stored scopes, parsed.
pub fn scopes(model: &webhook_subscription::Model) -> Vec<Scope> {
    model.scopes.split_whitespace().filter_map(Scope::parse).collect()
}
