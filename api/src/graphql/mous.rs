//! MOUs and commitments: the types, their queries and mutations.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::{commitment, mou, mou_party};

use super::connection::{self, connection};
use super::context::{Ctx, organization};
use super::organizations::Organization;
use super::programmes::Programme;
use crate::domain::access;
use crate::domain::enums::{CommitmentStatus, MouStatus, PartyRole};
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::graphql::date::{Date, wrap};
use crate::graphql::inputs::{
    CreateCommitmentInput, CreateMouInput, SignMouInput, UpdateCommitmentInput, UpdateMouInput,
};
use crate::store::mous as store;

/// A memorandum of understanding between partners.
#[derive(Clone)]
pub struct Mou(pub std::sync::Arc<mou::Model>);

/// One party of an MOU.
pub struct MouParty(mou_party::Model);

/// One party of an MOU.
#[Object]
impl MouParty {
    /// The party.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        Ok(Organization(organization(ctx, self.0.organization_id).await?))
    }
    /// Its role.
    async fn role(&self) -> PartyRole {
        self.0.role
    }
    /// When it signed; null until it has.
    async fn signed_at(&self) -> Option<DateTime<Utc>> {
        self.0.signed_at
    }
}

/// A follow-up that one partner owes under an MOU.
#[derive(Clone)]
pub struct Commitment(pub std::sync::Arc<commitment::Model>);

/// A follow-up that one partner owes under an MOU.
#[Object]
impl Commitment {
    /// The commitment's global id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(Kind::Commitment, self.0.id))
    }
    /// The MOU it is owed under.
    async fn mou(&self, ctx: &Context<'_>) -> Result<Mou> {
        Ok(load(ctx, self.0.mou_id).await?.ok_or_else(|| AppError::not_found("the MOU is not visible"))?)
    }
    /// What is owed.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The party that owes it.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Organization> {
        Ok(Organization(organization(ctx, self.0.owner_id).await?))
    }
    /// When it is due.
    async fn due_on(&self) -> Option<Date> {
        wrap(self.0.due_on)
    }
    /// Where it stands.
    async fn status(&self) -> CommitmentStatus {
        self.0.status
    }
    /// Raised by one on every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A memorandum of understanding between partners.
#[Object]
impl Mou {
    /// The MOU's global id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(Kind::Mou, self.0.id))
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
    /// What it is for.
    async fn purpose(&self) -> Option<&str> {
        self.0.purpose.as_deref()
    }
    /// Where it stands.
    async fn status(&self) -> MouStatus {
        self.0.status
    }
    /// Its parties, in order, with their signatures.
    async fn parties(&self, ctx: &Context<'_>) -> Result<Vec<MouParty>> {
        let rows = ctx.loaders()?.parties_by_mou.load_one(self.0.id).await?.unwrap_or_default();
        Ok(rows.iter().cloned().map(MouParty).collect())
    }
    /// When the last required party signed.
    async fn signed_on(&self) -> Option<Date> {
        wrap(self.0.signed_on)
    }
    /// When it starts.
    async fn starts_on(&self) -> Option<Date> {
        wrap(self.0.starts_on)
    }
    /// When it ends.
    async fn ends_on(&self) -> Option<Date> {
        wrap(self.0.ends_on)
    }
    /// Programmes run under it: needs `programmes:read` (null and FORBIDDEN without it).
    async fn programmes(&self, ctx: &Context<'_>) -> Result<Option<Vec<Programme>>> {
        ctx.reader(Kind::Programme)?;
        let rows = ctx.loaders()?.programmes_by_mou.load_one(self.0.id).await?.unwrap_or_default();
        Ok(Some(rows.iter().map(|m| Programme(m.clone().into())).collect()))
    }
    /// The commitments owed under it.
    async fn commitments(&self, ctx: &Context<'_>) -> Result<Vec<Commitment>> {
        let rows = ctx.loaders()?.commitments_by_mou.load_one(self.0.id).await?.unwrap_or_default();
        Ok(rows.iter().map(|m| Commitment(m.clone().into())).collect())
    }
    /// Raised by one on every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

connection!(MouConnection, MouEdge, Mou, mou::Entity, "MOUs");

/// Which MOUs to list.
#[derive(InputObject, Default)]
pub struct MouFilter {
    /// MOUs in any of these statuses.
    pub statuses: Option<Vec<MouStatus>>,
    /// MOUs the organisation with this code is a party of.
    pub party_code: Option<String>,
    /// A substring of titleTh, titleEn or code.
    pub search: Option<String>,
}

/// Reads an MOU (needs `mous:read`); `None` if it is a draft the caller is no party of.
pub async fn load(ctx: &Context<'_>, id: i64) -> Result<Option<Mou>, AppError> {
    let actor = ctx.reader(Kind::Mou)?;
    let loaders = ctx.loaders()?;
    // Both in the same batch window: the parties decide visibility.
    let (m, parties) = futures_util::future::join(loaders.mous.load_one(id), loaders.parties_by_mou.load_one(id)).await;
    let Some(m) = m? else {
        return Ok(None);
    };
    let facts = store::facts(&m, &parties?.unwrap_or_default())?;
    Ok(access::mou_visible(actor, &facts).then_some(Mou(m)))
}

/// Reads a commitment (needs `mous:read`); `None` unless its MOU is visible.
pub async fn load_commitment(ctx: &Context<'_>, id: i64) -> Result<Option<Commitment>, AppError> {
    ctx.reader(Kind::Mou)?;
    let Some(c) = ctx.loaders()?.commitments.load_one(id).await? else {
        return Ok(None);
    };
    Ok(load(ctx, c.mou_id).await?.map(|_| Commitment(c)))
}

/// Queries about MOUs.
#[derive(Default)]
pub struct MouQuery;

/// Queries about MOUs.
#[Object]
impl MouQuery {
    /// MOUs the caller may see, oldest first.
    async fn mous(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<MouFilter>,
    ) -> Result<MouConnection> {
        let actor = ctx.reader(Kind::Mou)?;
        let f = filter.unwrap_or_default();
        let select = store::filtered(
            actor,
            &store::Filter { statuses: f.statuses, party_code: f.party_code, search: f.search },
        )?;
        let page = store::page(ctx.store()?, select.clone(), &connection::args(first, after, last, before)).await?;
        Ok(MouConnection::new(page, select))
    }

    /// One MOU, by id or code.
    async fn mou(&self, ctx: &Context<'_>, id: Option<ID>, code: Option<String>) -> Result<Option<Mou>> {
        let actor = ctx.reader(Kind::Mou)?;
        match (id, code) {
            (Some(id), None) => Ok(load(ctx, ids::decode(Kind::Mou, &id, "id")?).await?),
            (None, Some(code)) => Ok(store::by_code(ctx.store()?, actor, &code).await?.map(|m| Mou(m.into()))),
            _ => Err(AppError::bad_input("id", "give either id or code").into()),
        }
    }
}

/// Mutations of MOUs and commitments.
#[derive(Default)]
pub struct MouMutation;

/// Mutations of MOUs and commitments.
#[Object]
impl MouMutation {
    /// Creates an MOU in DRAFT; the caller's organisation must list itself (`mous:write`).
    async fn create_mou(
        &self,
        ctx: &Context<'_>,
        input: CreateMouInput,
        idempotency_key: Option<String>,
    ) -> Result<Mou> {
        let id =
            store::create(ctx.store()?, ctx.writer(Kind::Mou)?, input.parse()?, idempotency_key.as_deref()).await?;
        Ok(Mou(super::context::reload::<mou::Entity>(ctx, id, Kind::Mou).await?.into()))
    }

    /// Updates an MOU's terms or status: its lead and partners (`mous:write`).
    async fn update_mou(&self, ctx: &Context<'_>, input: UpdateMouInput) -> Result<Mou> {
        Ok(Mou(store::update(ctx.store()?, ctx.writer(Kind::Mou)?, input.parse()?).await?.into()))
    }

    /// Records the caller's organisation's signature on a NEGOTIATING MOU (`mous:write`).
    async fn sign_mou(&self, ctx: &Context<'_>, input: SignMouInput) -> Result<Mou> {
        Ok(Mou(store::sign(ctx.store()?, ctx.writer(Kind::Mou)?, input.parse()?).await?.into()))
    }

    /// Adds a commitment to an MOU: one of its parties (`mous:write`).
    async fn create_commitment(
        &self,
        ctx: &Context<'_>,
        input: CreateCommitmentInput,
        idempotency_key: Option<String>,
    ) -> Result<Commitment> {
        let id = store::create_commitment(
            ctx.store()?,
            ctx.writer(Kind::Commitment)?,
            input.parse()?,
            idempotency_key.as_deref(),
        )
        .await?;
        Ok(Commitment(super::context::reload::<commitment::Entity>(ctx, id, Kind::Commitment).await?.into()))
    }

    /// Updates a commitment: its owner or the MOU's lead (`mous:write`).
    async fn update_commitment(&self, ctx: &Context<'_>, input: UpdateCommitmentInput) -> Result<Commitment> {
        Ok(Commitment(
            store::update_commitment(ctx.store()?, ctx.writer(Kind::Commitment)?, input.parse()?).await?.into(),
        ))
    }
}
