//! Curricula: the type, its queries and mutations.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::curriculum;

use super::communities::Community;
use super::connection::{self, connection};
use super::context::{Ctx, organization, organizations};
use super::organizations::Organization;
use super::programmes::{self, Programme};
use crate::domain::enums::{self, CurriculumKind, CurriculumStatus, FocusArea};
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::graphql::inputs::{CreateCurriculumInput, UpdateCurriculumInput};
use crate::store::curricula as store;

/// A training curriculum.
#[derive(Clone)]
pub struct Curriculum(pub std::sync::Arc<curriculum::Model>);

/// One module of a curriculum.
#[derive(SimpleObject)]
pub struct CurriculumModule {
    /// Its place in the curriculum, from 1.
    pub position: i32,
    /// Its title.
    pub title: String,
    /// Teaching hours.
    pub hours: Option<f64>,
    /// Learning objectives.
    pub objectives: Option<String>,
}

/// A training curriculum.
#[Object]
impl Curriculum {
    /// The curriculum's global id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(Kind::Curriculum, self.0.id))
    }
    /// Its unique code.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Its Thai title.
    async fn title_th(&self) -> &str {
        &self.0.title_th
    }
    /// Its English title.
    async fn title_en(&self) -> Option<&str> {
        self.0.title_en.as_deref()
    }
    /// CORE or ALTERNATIVE.
    async fn kind(&self) -> CurriculumKind {
        self.0.kind
    }
    /// Where it stands.
    async fn status(&self) -> CurriculumStatus {
        self.0.status
    }
    /// Its focus areas.
    async fn focus_areas(&self) -> Result<Vec<FocusArea>> {
        Ok(enums::parse_list(&self.0.focus_areas)?)
    }
    /// The owning organisation.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Organization> {
        Ok(Organization(organization(ctx, self.0.owner_id).await?))
    }
    /// Contributing organisations.
    async fn contributors(&self, ctx: &Context<'_>) -> Result<Vec<Organization>> {
        let links = ctx.loaders()?.contributors_by_curriculum.load_one(self.0.id).await?.unwrap_or_default();
        Ok(organizations(ctx, links.iter().map(|l| l.organization_id).collect())
            .await?
            .into_iter()
            .map(Organization)
            .collect())
    }
    /// Its modules, in order.
    async fn modules(&self, ctx: &Context<'_>) -> Result<Vec<CurriculumModule>> {
        let rows = ctx.loaders()?.modules_by_curriculum.load_one(self.0.id).await?.unwrap_or_default();
        Ok(rows
            .iter()
            .map(|m| CurriculumModule {
                position: m.position,
                title: m.title.clone(),
                hours: m.hours,
                objectives: m.objectives.clone(),
            })
            .collect())
    }
    /// Award winners the curriculum takes as models: needs `communities:read` (null and FORBIDDEN without it).
    async fn model_communities(&self, ctx: &Context<'_>) -> Result<Option<Vec<Community>>> {
        ctx.reader(Kind::Community)?;
        let links = ctx.loaders()?.models_by_curriculum.load_one(self.0.id).await?.unwrap_or_default();
        let ids: Vec<i64> = links.iter().map(|l| l.community_id).collect();
        let found = ctx.loaders()?.communities.load_many(ids.iter().copied()).await?;
        Ok(Some(ids.iter().filter_map(|id| found.get(id).cloned().map(Community)).collect()))
    }
    /// Programmes that use it: needs `programmes:read` (null and FORBIDDEN without it).
    async fn programmes(&self, ctx: &Context<'_>) -> Result<Option<Vec<Programme>>> {
        let links = ctx.loaders()?.programmes_by_curriculum.load_one(self.0.id).await?.unwrap_or_default();
        programmes::load_many(ctx, links.iter().map(|l| l.programme_id)).await.map(Some)
    }
    /// Raised by one on every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

connection!(CurriculumConnection, CurriculumEdge, Curriculum, curriculum::Entity, "curricula");

/// Which curricula to list.
#[derive(InputObject, Default)]
pub struct CurriculumFilter {
    /// Curricula of any of these kinds.
    pub kinds: Option<Vec<CurriculumKind>>,
    /// Curricula in any of these statuses.
    pub statuses: Option<Vec<CurriculumStatus>>,
    /// Curricula with any of these focus areas.
    pub focus_areas: Option<Vec<FocusArea>>,
}

/// Reads a curriculum (needs `curricula:read`).
pub async fn load(ctx: &Context<'_>, id: i64) -> Result<Option<Curriculum>, AppError> {
    ctx.reader(Kind::Curriculum)?;
    Ok(ctx.loaders()?.curricula.load_one(id).await?.map(Curriculum))
}

/// Reads several curricula, in the order of `ids`.
pub async fn load_many(ctx: &Context<'_>, ids: impl IntoIterator<Item = i64>) -> Result<Vec<Curriculum>> {
    ctx.reader(Kind::Curriculum)?;
    let ids: Vec<i64> = ids.into_iter().collect();
    let found = ctx.loaders()?.curricula.load_many(ids.iter().copied()).await?;
    Ok(ids.iter().filter_map(|id| found.get(id).cloned().map(Curriculum)).collect())
}

/// Queries about curricula.
#[derive(Default)]
pub struct CurriculumQuery;

/// Queries about curricula.
#[Object]
impl CurriculumQuery {
    /// Curricula, oldest first.
    async fn curricula(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CurriculumFilter>,
    ) -> Result<CurriculumConnection> {
        ctx.reader(Kind::Curriculum)?;
        let f = filter.unwrap_or_default();
        let select =
            store::filtered(&store::Filter { kinds: f.kinds, statuses: f.statuses, focus_areas: f.focus_areas });
        let page = store::page(ctx.store()?, select.clone(), &connection::args(first, after, last, before)).await?;
        Ok(CurriculumConnection::new(page, select))
    }

    /// One curriculum, by id or code.
    async fn curriculum(&self, ctx: &Context<'_>, id: Option<ID>, code: Option<String>) -> Result<Option<Curriculum>> {
        ctx.reader(Kind::Curriculum)?;
        match (id, code) {
            (Some(id), None) => Ok(load(ctx, ids::decode(Kind::Curriculum, &id, "id")?).await?),
            (None, Some(code)) => Ok(store::by_code(ctx.store()?, &code).await?.map(|m| Curriculum(m.into()))),
            _ => Err(AppError::bad_input("id", "give either id or code").into()),
        }
    }
}

/// Mutations of curricula.
#[derive(Default)]
pub struct CurriculumMutation;

/// Mutations of curricula.
#[Object]
impl CurriculumMutation {
    /// Creates a curriculum owned by the caller's organisation (`curricula:write`).
    async fn create_curriculum(
        &self,
        ctx: &Context<'_>,
        input: CreateCurriculumInput,
        idempotency_key: Option<String>,
    ) -> Result<Curriculum> {
        let id = store::create(ctx.store()?, ctx.writer(Kind::Curriculum)?, input.parse()?, idempotency_key.as_deref())
            .await?;
        Ok(Curriculum(super::context::reload::<curriculum::Entity>(ctx, id, Kind::Curriculum).await?.into()))
    }

    /// Updates a curriculum: its owner or contributors (`curricula:write`).
    async fn update_curriculum(&self, ctx: &Context<'_>, input: UpdateCurriculumInput) -> Result<Curriculum> {
        Ok(Curriculum(store::update(ctx.store()?, ctx.writer(Kind::Curriculum)?, input.parse()?).await?.into()))
    }
}
