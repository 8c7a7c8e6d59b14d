//! Enrolments: the type, its queries and mutations.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::{enrolment, enrolment_transition};

use super::communities::{self, Community};
use super::connection::Counter;
use super::connection::{self, connection};
use super::context::{Ctx, organization};
use super::curricula::{self, Curriculum};
use super::organizations::Organization;
use super::programmes::{self, Programme};
use crate::domain::enums::{EnrolmentStatus, ProgrammeTheme};
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::graphql::inputs::{NominateCommunityInput, TransitionEnrolmentInput};
use crate::store::enrolments as store;
use crate::store::keyset::{Page, PageArgs};
use crate::store::nested::{CountKey, NestedPage, PageKey, Parent, Related, RelatedRows};

/// One community in one programme.
#[derive(Clone)]
pub struct Enrolment(pub std::sync::Arc<enrolment::Model>);

/// One step of an enrolment's status history.
pub struct EnrolmentTransition(enrolment_transition::Model);

/// One step of an enrolment's status history.
#[Object]
impl EnrolmentTransition {
    /// The status before (null for the nomination).
    async fn from(&self) -> Option<EnrolmentStatus> {
        self.0.from_status
    }
    /// The status after.
    async fn to(&self) -> EnrolmentStatus {
        self.0.to_status
    }
    /// When it happened.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The organisation that made the move.
    async fn by(&self, ctx: &Context<'_>) -> Result<Organization> {
        Ok(Organization(organization(ctx, self.0.by_org).await?))
    }
    /// The note given with the move.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

/// One community in one programme.
#[Object]
impl Enrolment {
    /// The enrolment's global id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(Kind::Enrolment, self.0.id))
    }
    /// The community enrolled: needs `communities:read` (null and FORBIDDEN without it).
    async fn community(&self, ctx: &Context<'_>) -> Result<Option<Community>> {
        let community = communities::load(ctx, self.0.community_id).await?;
        Ok(Some(community.ok_or_else(|| AppError::internal("enrolment without community"))?))
    }
    /// The programme: needs `programmes:read` (null and FORBIDDEN without it).
    async fn programme(&self, ctx: &Context<'_>) -> Result<Option<Programme>> {
        let programme = programmes::load(ctx, self.0.programme_id).await?;
        Ok(Some(programme.ok_or_else(|| AppError::internal("enrolment without programme"))?))
    }
    /// The curriculum the community follows (needs `curricula:read`).
    async fn curriculum(&self, ctx: &Context<'_>) -> Result<Option<Curriculum>> {
        match self.0.curriculum_id {
            Some(id) => Ok(curricula::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// Where it stands.
    async fn status(&self) -> EnrolmentStatus {
        self.0.status
    }
    /// The organisation that nominated the community.
    async fn nominated_by(&self, ctx: &Context<'_>) -> Result<Organization> {
        Ok(Organization(organization(ctx, self.0.nominated_by).await?))
    }
    /// When it was nominated.
    async fn nominated_at(&self) -> DateTime<Utc> {
        self.0.nominated_at
    }
    /// Every status move, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<EnrolmentTransition>> {
        let rows = ctx.loaders()?.history_by_enrolment.load_one(self.0.id).await?.unwrap_or_default();
        Ok(rows.iter().cloned().map(EnrolmentTransition).collect())
    }
    /// Raised by one on every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

connection!(EnrolmentConnection, EnrolmentEdge, Enrolment, enrolment::Entity, "enrolments");

/// Which enrolments to list.
#[derive(InputObject, Default)]
pub struct EnrolmentFilter {
    /// Enrolments in any of these statuses.
    pub statuses: Option<Vec<EnrolmentStatus>>,
    /// Enrolments in this programme.
    pub programme_id: Option<ID>,
    /// Enrolments of this community.
    pub community_id: Option<ID>,
    /// Enrolments following this curriculum.
    pub curriculum_id: Option<ID>,
    /// Enrolments in programmes of any of these themes.
    pub themes: Option<Vec<ProgrammeTheme>>,
}

impl TryFrom<EnrolmentFilter> for store::Filter {
    type Error = AppError;

    fn try_from(f: EnrolmentFilter) -> Result<Self, AppError> {
        Ok(store::Filter {
            statuses: f.statuses,
            programme_id: f
                .programme_id
                .map(|id| ids::decode(Kind::Programme, &id, "filter.programmeId"))
                .transpose()?,
            community_id: f
                .community_id
                .map(|id| ids::decode(Kind::Community, &id, "filter.communityId"))
                .transpose()?,
            curriculum_id: f
                .curriculum_id
                .map(|id| ids::decode(Kind::Curriculum, &id, "filter.curriculumId"))
                .transpose()?,
            themes: f.themes,
        })
    }
}

/// A page of enrolments (needs `enrolments:read`), shared by the root
/// query and the nested `enrolments` fields.
pub async fn enrolment_page(ctx: &Context<'_>, filter: store::Filter, args: PageArgs) -> Result<EnrolmentConnection> {
    ctx.reader(Kind::Enrolment)?;
    let select = store::filtered(&filter);
    let page = store::page(ctx.store()?, select.clone(), &args).await?;
    Ok(EnrolmentConnection::new(page, select))
}

/// A nested page of enrolments (`Community.enrolments`, `Programme.enrolments`),
/// loaded in one batch for every parent of the request.
pub async fn nested_enrolment_page(
    ctx: &Context<'_>,
    parent: Parent,
    id: i64,
    filter: Option<EnrolmentFilter>,
    args: PageArgs,
) -> Result<EnrolmentConnection> {
    let actor = ctx.reader(Kind::Enrolment)?;
    let filter = store::Filter::try_from(filter.unwrap_or_default())?;
    // Refuse bad arguments here, at this field, before batching.
    crate::store::keyset::window(&args, store::SORT)?;
    // What the rows' fields will ask for, read in the pages' own batch.
    let look = ctx.look_ahead();
    let nodes = [look.field("nodes"), look.field("edges").field("node")];
    let programmes = crate::domain::access::may_read(actor, Kind::Programme).is_ok()
        && nodes.iter().any(|n| n.field("programme").exists());
    let mous = programmes
        && crate::domain::access::may_read(actor, Kind::Mou).is_ok()
        && nodes.iter().any(|n| n.field("programme").field("mou").exists());
    let related = Related { programmes, mous };
    let key = PageKey { parent, id, filter: filter.clone(), args, related };
    let loaders = ctx.loaders()?;
    let page = match loaders.nested_enrolments.load_one(key).await? {
        Some(NestedPage { page, related }) => {
            if related.first_use() {
                feed(loaders, &related).await;
            }
            page
        }
        None => Page::empty(),
    };
    Ok(EnrolmentConnection::counted_by(page, Counter::NestedEnrolments(CountKey { parent, id, filter })))
}

/// Puts what a batch of nested pages read besides into the request's
/// loaders, where the rows' `programme` and `mou` fields look first.
async fn feed(loaders: &crate::store::loaders::Loaders, related: &RelatedRows) {
    if !related.programmes.is_empty() {
        loaders.programmes.feed_many(related.programmes.iter().map(|(id, p)| (*id, p.clone()))).await;
    }
    if !related.mous.is_empty() {
        loaders.mous.feed_many(related.mous.iter().map(|(id, m)| (*id, m.clone()))).await;
        loaders.parties_by_mou.feed_many(related.parties.iter().map(|(id, p)| (*id, p.clone()))).await;
    }
}

/// Reads an enrolment (needs `enrolments:read`).
pub async fn load(ctx: &Context<'_>, id: i64) -> Result<Option<Enrolment>, AppError> {
    ctx.reader(Kind::Enrolment)?;
    Ok(ctx.loaders()?.enrolments.load_one(id).await?.map(Enrolment))
}

/// Queries about enrolments.
#[derive(Default)]
pub struct EnrolmentQuery;

/// Queries about enrolments.
#[Object]
impl EnrolmentQuery {
    /// Enrolments, oldest first.
    async fn enrolments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<EnrolmentFilter>,
    ) -> Result<EnrolmentConnection> {
        let filter = store::Filter::try_from(filter.unwrap_or_default())?;
        enrolment_page(ctx, filter, connection::args(first, after, last, before)).await
    }
}

/// Mutations of enrolments.
#[derive(Default)]
pub struct EnrolmentMutation;

/// Mutations of enrolments.
#[Object]
impl EnrolmentMutation {
    /// Nominates a community into an OPEN programme (its lead or a partner; `enrolments:write`).
    async fn nominate_community(
        &self,
        ctx: &Context<'_>,
        input: NominateCommunityInput,
        idempotency_key: Option<String>,
    ) -> Result<Enrolment> {
        let id =
            store::nominate(ctx.store()?, ctx.writer(Kind::Enrolment)?, input.parse()?, idempotency_key.as_deref())
                .await?;
        Ok(Enrolment(super::context::reload::<enrolment::Entity>(ctx, id, Kind::Enrolment).await?.into()))
    }

    /// Moves an enrolment to another status, as the lifecycle allows (`enrolments:write`).
    async fn transition_enrolment(&self, ctx: &Context<'_>, input: TransitionEnrolmentInput) -> Result<Enrolment> {
        Ok(Enrolment(
            store::transition_enrolment(ctx.store()?, ctx.writer(Kind::Enrolment)?, input.parse()?).await?.into(),
        ))
    }
}
