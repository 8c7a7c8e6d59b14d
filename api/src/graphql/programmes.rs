//! Programmes: the type, its queries and mutations.

use async_graphql::{Context, ID, InputObject, Object, Result};
use entity::programme;

use super::connection::{self, connection};
use super::context::{Ctx, organization, organizations};
use super::curricula::{self, Curriculum};
use super::enrolments::{EnrolmentConnection, EnrolmentFilter, nested_enrolment_page};
use super::mous::{self, Mou};
use super::organizations::Organization;
use crate::domain::enums::{self, ProgrammeStatus, ProgrammeTheme, TourismTier};
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::graphql::date::{Date, wrap};
use crate::graphql::inputs::{CreateProgrammeInput, UpdateProgrammeInput};
use crate::store::nested::Parent;
use crate::store::programmes as store;

/// A programme run under an MOU or alone.
#[derive(Clone)]
pub struct Programme(pub std::sync::Arc<programme::Model>);

/// A programme run under an MOU or alone.
#[Object]
impl Programme {
    /// The programme's global id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(Kind::Programme, self.0.id))
    }
    /// Its unique code.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Its Thai name.
    async fn name_th(&self) -> &str {
        &self.0.name_th
    }
    /// Its English name.
    async fn name_en(&self) -> Option<&str> {
        self.0.name_en.as_deref()
    }
    /// What it is about.
    async fn theme(&self) -> ProgrammeTheme {
        self.0.theme
    }
    /// Where it stands.
    async fn status(&self) -> ProgrammeStatus {
        self.0.status
    }
    /// The MOU it runs under (null if none, or if the caller may not see it).
    async fn mou(&self, ctx: &Context<'_>) -> Result<Option<Mou>> {
        match self.0.mou_id {
            Some(id) => Ok(mous::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The leading organisation.
    async fn lead(&self, ctx: &Context<'_>) -> Result<Organization> {
        Ok(Organization(organization(ctx, self.0.lead_id).await?))
    }
    /// The partner organisations.
    async fn partners(&self, ctx: &Context<'_>) -> Result<Vec<Organization>> {
        let links = ctx.loaders()?.partners_by_programme.load_one(self.0.id).await?.unwrap_or_default();
        Ok(organizations(ctx, links.iter().map(|l| l.organization_id).collect())
            .await?
            .into_iter()
            .map(Organization)
            .collect())
    }
    /// The tiers that may be nominated; empty: any community may be nominated.
    async fn target_tiers(&self) -> Result<Vec<TourismTier>> {
        Ok(enums::parse_list(&self.0.target_tiers)?)
    }
    /// The most ENROLLED, IN_PROGRESS and COMPLETED enrolments it takes.
    async fn capacity(&self) -> Option<i32> {
        self.0.capacity
    }
    /// When it starts.
    async fn starts_on(&self) -> Option<Date> {
        wrap(self.0.starts_on)
    }
    /// When it ends.
    async fn ends_on(&self) -> Option<Date> {
        wrap(self.0.ends_on)
    }
    /// The curricula it uses: needs `curricula:read` (null and FORBIDDEN without it).
    async fn curricula(&self, ctx: &Context<'_>) -> Result<Option<Vec<Curriculum>>> {
        ctx.reader(Kind::Curriculum)?;
        let links = ctx.loaders()?.curricula_by_programme.load_one(self.0.id).await?.unwrap_or_default();
        curricula::load_many(ctx, links.iter().map(|l| l.curriculum_id)).await.map(Some)
    }
    /// Its enrolments: needs `enrolments:read` (null and FORBIDDEN without it).
    async fn enrolments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<EnrolmentFilter>,
    ) -> Result<Option<EnrolmentConnection>> {
        nested_enrolment_page(ctx, Parent::Programme, self.0.id, filter, connection::args(first, after, last, before))
            .await
            .map(Some)
    }
    /// Raised by one on every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

connection!(ProgrammeConnection, ProgrammeEdge, Programme, programme::Entity, "programmes");

/// Which programmes to list.
#[derive(InputObject, Default)]
pub struct ProgrammeFilter {
    /// Programmes of any of these themes.
    pub themes: Option<Vec<ProgrammeTheme>>,
    /// Programmes in any of these statuses.
    pub statuses: Option<Vec<ProgrammeStatus>>,
    /// Programmes led by the organisation with this code.
    pub lead_code: Option<String>,
}

/// Reads a programme (needs `programmes:read`).
pub async fn load(ctx: &Context<'_>, id: i64) -> Result<Option<Programme>, AppError> {
    ctx.reader(Kind::Programme)?;
    Ok(ctx.loaders()?.programmes.load_one(id).await?.map(Programme))
}

/// Reads several programmes, in the order of `ids`.
pub async fn load_many(ctx: &Context<'_>, ids: impl IntoIterator<Item = i64>) -> Result<Vec<Programme>> {
    ctx.reader(Kind::Programme)?;
    let ids: Vec<i64> = ids.into_iter().collect();
    let found = ctx.loaders()?.programmes.load_many(ids.iter().copied()).await?;
    Ok(ids.iter().filter_map(|id| found.get(id).cloned().map(Programme)).collect())
}

/// Queries about programmes.
#[derive(Default)]
pub struct ProgrammeQuery;

/// Queries about programmes.
#[Object]
impl ProgrammeQuery {
    /// Programmes, oldest first.
    async fn programmes(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ProgrammeFilter>,
    ) -> Result<ProgrammeConnection> {
        ctx.reader(Kind::Programme)?;
        let f = filter.unwrap_or_default();
        let select = store::filtered(&store::Filter { themes: f.themes, statuses: f.statuses, lead_code: f.lead_code });
        let page = store::page(ctx.store()?, select.clone(), &connection::args(first, after, last, before)).await?;
        Ok(ProgrammeConnection::new(page, select))
    }

    /// One programme, by id or code.
    async fn programme(&self, ctx: &Context<'_>, id: Option<ID>, code: Option<String>) -> Result<Option<Programme>> {
        ctx.reader(Kind::Programme)?;
        match (id, code) {
            (Some(id), None) => Ok(load(ctx, ids::decode(Kind::Programme, &id, "id")?).await?),
            (None, Some(code)) => Ok(store::by_code(ctx.store()?, &code).await?.map(|m| Programme(m.into()))),
            _ => Err(AppError::bad_input("id", "give either id or code").into()),
        }
    }
}

/// Mutations of programmes.
#[derive(Default)]
pub struct ProgrammeMutation;

/// Mutations of programmes.
#[Object]
impl ProgrammeMutation {
    /// Creates a programme led by the caller's organisation (`programmes:write`).
    async fn create_programme(
        &self,
        ctx: &Context<'_>,
        input: CreateProgrammeInput,
        idempotency_key: Option<String>,
    ) -> Result<Programme> {
        let id = store::create(ctx.store()?, ctx.writer(Kind::Programme)?, input.parse()?, idempotency_key.as_deref())
            .await?;
        Ok(Programme(super::context::reload::<programme::Entity>(ctx, id, Kind::Programme).await?.into()))
    }

    /// Updates a programme: its lead or partners (`programmes:write`).
    async fn update_programme(&self, ctx: &Context<'_>, input: UpdateProgrammeInput) -> Result<Programme> {
        Ok(Programme(store::update(ctx.store()?, ctx.writer(Kind::Programme)?, input.parse()?).await?.into()))
    }
}
