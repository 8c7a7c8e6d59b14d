//! The `Node` interface and `node`/`nodes`: any record by its global id,
//! under the same scopes and row rules as everywhere else.

use async_graphql::{Context, ID, Interface, Object, Result};

use super::communities::{self, Community};
use super::context::Ctx;
use super::curricula::{self, Curriculum};
use super::enrolments::{self, Enrolment};
use super::mous::{self, Commitment, Mou};
use super::organizations::Organization;
use super::programmes::{self, Programme};
use crate::domain::ids::{self, Kind};
use crate::error::{AppError, AppResult};

/// Anything with a stable, opaque, globally unique id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The record's global id."))]
pub enum Node {
    /// A partner organisation.
    Organization(Organization),
    /// A community.
    Community(Community),
    /// An MOU.
    Mou(Mou),
    /// A commitment under an MOU.
    Commitment(Commitment),
    /// A programme.
    Programme(Programme),
    /// A curriculum.
    Curriculum(Curriculum),
    /// An enrolment.
    Enrolment(Enrolment),
    /// A webhook subscription of the caller's organisation.
    WebhookSubscription(super::webhooks::WebhookSubscription),
    /// An export of the caller's organisation.
    Export(super::exports::Export),
}

/// The most ids `nodes` takes at once.
pub const MAX_NODES: usize = 100;

/// Loads record `id` of `kind` if the caller may see it. A missing scope is
/// `FORBIDDEN`; a record the caller may not see is `None`, like a missing one.
pub async fn load(ctx: &Context<'_>, kind: Kind, id: i64) -> AppResult<Option<Node>> {
    Ok(match kind {
        Kind::Organization => {
            ctx.actor()?;
            let directory = ctx.data_opt::<std::sync::Arc<crate::auth::OrgDirectory>>();
            let directory = directory.ok_or_else(|| AppError::internal("directory missing"))?;
            directory.get(id).await?.map(|o| Node::Organization(Organization(o)))
        }
        Kind::Community => communities::load(ctx, id).await?.map(Node::Community),
        Kind::Mou => mous::load(ctx, id).await?.map(Node::Mou),
        Kind::Commitment => mous::load_commitment(ctx, id).await?.map(Node::Commitment),
        Kind::Programme => programmes::load(ctx, id).await?.map(Node::Programme),
        Kind::Curriculum => curricula::load(ctx, id).await?.map(Node::Curriculum),
        Kind::Enrolment => enrolments::load(ctx, id).await?.map(Node::Enrolment),
        Kind::WebhookSubscription => super::webhooks::load(ctx, id).await?.map(Node::WebhookSubscription),
        Kind::Export => super::exports::load(ctx, id).await?.map(Node::Export),
    })
}

/// `node` and `nodes`.
#[derive(Default)]
pub struct NodeQuery;

/// `node` and `nodes`.
#[Object]
impl NodeQuery {
    /// Any record by its global id; null if there is none the caller may see.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        match ids::decode_any(&id) {
            Some((kind, n)) => Ok(load(ctx, kind, n).await?),
            None => Err(AppError::bad_input("id", "not a valid id").into()),
        }
    }

    /// Records by global id, in the order asked (at most 100); null for each
    /// id with no record the caller may see.
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Node>>> {
        ctx.actor()?;
        if ids.len() > MAX_NODES {
            return Err(AppError::bad_input("ids", format!("at most {MAX_NODES} ids")).into());
        }
        let mut out = Vec::with_capacity(ids.len());
        // Each load goes through a batch loader, so all of these resolve in
        // one query per record type.
        let futures = ids.iter().map(|id| async move {
            match ids::decode_any(id) {
                Some((kind, n)) => load(ctx, kind, n).await,
                None => Err(AppError::bad_input("ids", "not a valid id")),
            }
        });
        for result in futures_util::future::join_all(futures).await {
            out.push(result?);
        }
        Ok(out)
    }
}
