//! The personal-data access log (`audit:read`): who received which
//! community's contact, and when; and the purges of entries past their
//! retention. See `docs/governance.md`.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::pii_access;

use super::communities::Community;
use super::connection::{self, connection};
use super::context::{Ctx, organization};
use super::organizations::Organization;
use crate::domain::access;
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::governance::pii_log::PiiLog;
use crate::store::pii_log as store;

/// One response that returned communities' contacts: who received it,
/// through which request, when, and which communities.
#[derive(Clone)]
pub struct PiiAccess(pub Arc<pii_access::Model>);

/// One response that returned communities' contacts: who received it,
/// through which request, when, and which communities.
#[Object]
impl PiiAccess {
    /// When the response was made.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The organisation that received it.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        Ok(Organization(organization(ctx, self.0.organization_id).await?))
    }
    /// Who received it: the token's `sub` (for a webhook delivery,
    /// `webhook:<subscription>`).
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    /// The first request's `x-request-id` (for a webhook delivery, its
    /// `webhook-id`).
    async fn request_id(&self) -> &str {
        &self.0.request_id
    }
    /// Every request of the entry: identical reads (same organisation,
    /// subject, operation, route and communities) stored together share one
    /// entry, in the order they were made.
    async fn request_ids(&self) -> Vec<String> {
        match &self.0.request_ids {
            Some(ids) => ids.split_whitespace().map(str::to_owned).collect(),
            None => vec![self.0.request_id.clone()],
        }
    }
    /// How many requests the entry holds.
    async fn request_count(&self) -> i32 {
        self.0.request_count
    }
    /// When the last of them was made (`at` is the first).
    async fn last_at(&self) -> DateTime<Utc> {
        self.0.last_at.unwrap_or(self.0.at)
    }
    /// The operation's name, if it had one.
    async fn operation_name(&self) -> Option<&str> {
        self.0.operation_name.as_deref()
    }
    /// How it was returned: `graphql` (a query over HTTP), `webhook` (a
    /// delivery's record) or `subscription` (a live subscription's event).
    async fn via(&self) -> &str {
        &self.0.via
    }
    /// The global ids of the communities whose contact it returned.
    async fn community_ids(&self) -> Vec<ID> {
        store::ids_of(&self.0.community_ids).into_iter().map(|id| ID(ids::encode(Kind::Community, id))).collect()
    }
    /// The communities whose contact it returned: needs `communities:read`
    /// (null and FORBIDDEN without it).
    async fn communities(&self, ctx: &Context<'_>) -> Result<Option<Vec<Community>>> {
        ctx.reader(Kind::Community)?;
        let ids = store::ids_of(&self.0.community_ids);
        let found = ctx.loaders()?.communities.load_many(ids.iter().copied()).await?;
        Ok(Some(ids.iter().filter_map(|id| found.get(id).cloned().map(Community)).collect()))
    }
}

connection!(PiiAccessConnection, PiiAccessEdge, PiiAccess, pii_access::Entity, "personal-data reads");

/// A purge of log entries past their retention.
#[derive(SimpleObject)]
pub struct AuditPurge {
    /// When it ran.
    pub at: DateTime<Utc>,
    /// The log purged (`pii_access_log`).
    pub log: String,
    /// Entries older than this were deleted.
    pub cutoff: DateTime<Utc>,
    /// How many were deleted.
    pub deleted: i32,
}

/// The access-log root fields.
#[derive(Default)]
pub struct AuditQuery;

/// The access-log root fields.
#[Object]
impl AuditQuery {
    /// Reads of personal data made by the caller's organisation's people
    /// and systems (`audit:read`), oldest first: for one community, one
    /// subject, a period, or all. Entries are kept for the configured
    /// retention (`PII_LOG_RETENTION_DAYS`).
    #[allow(clippy::too_many_arguments)]
    async fn pii_access_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only responses that returned this community's contact.")] community_id: Option<ID>,
        #[graphql(desc = "Only reads by this subject (a token's `sub`).")] subject: Option<String>,
        #[graphql(desc = "Only reads at or after this time.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Only reads before this time.")] to: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<PiiAccessConnection> {
        let org = access::audit_log_org(ctx.actor()?)?;
        let community_id = match &community_id {
            Some(id) => Some(ids::decode(Kind::Community, id, "communityId")?),
            None => None,
        };
        let filter = store::Filter { community_id, subject, from, to };
        // This process's reads so far are stored first.
        ctx.data::<Arc<PiiLog>>()?.flush().await;
        let args = connection::args(first, after, last, before);
        let page = store::page(ctx.store()?, Some(org), &filter, &args).await?;
        Ok(PiiAccessConnection::new(page, store::select(Some(org), &filter)))
    }

    /// The purges of the personal-data access log, newest first
    /// (`audit:read`; at most `first`, default 20, at most 100).
    async fn audit_purges(&self, ctx: &Context<'_>, #[graphql(default = 20)] first: i32) -> Result<Vec<AuditPurge>> {
        access::audit_log_org(ctx.actor()?)?;
        if !(0..=100).contains(&first) {
            return Err(AppError::bad_input("first", "first must be between 0 and 100").into());
        }
        let purges = store::purges(ctx.store()?, first as u64).await?;
        Ok(purges
            .into_iter()
            .map(|p| AuditPurge {
                at: p.at,
                log: p.log,
                cutoff: p.cutoff,
                deleted: i32::try_from(p.deleted).unwrap_or(i32::MAX),
            })
            .collect())
    }
}
