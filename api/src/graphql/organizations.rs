//! Partners, provinces and the caller (`viewer`).

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{organization, province};

use super::context::{Ctx, organization as load_org};
use crate::domain::enums::OrganizationKind;
use crate::domain::ids::{self, Kind};
use crate::store::organizations;

/// A partner organisation. Partners are data, not an enum: a fifth partner is a new row.
#[derive(Clone)]
pub struct Organization(pub organization::Model);

/// A partner organisation. Partners are data, not an enum: a fifth partner is a new row.
#[Object]
impl Organization {
    /// The organisation's global id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(Kind::Organization, self.0.id))
    }
    /// Its code: FOUNDATION, CDD, GSB, VILLAGE_FUND in the demo data.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Its Thai name.
    async fn name_th(&self) -> &str {
        &self.0.name_th
    }
    /// Its English name.
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    /// What kind of body it is.
    async fn kind(&self) -> OrganizationKind {
        self.0.kind
    }
}

/// A province of Thailand.
#[derive(Clone)]
pub struct Province(pub province::Model);

/// A province of Thailand.
#[Object]
impl Province {
    /// ISO 3166-2 code, e.g. TH-57.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Thai name.
    async fn name_th(&self) -> &str {
        &self.0.name_th
    }
    /// English name.
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
}

/// Who is calling: read from the verified token.
pub struct Viewer;

/// Who is calling: read from the verified token.
#[Object]
impl Viewer {
    /// The caller's organisation.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        Ok(Organization(load_org(ctx, ctx.actor()?.org_id).await?))
    }
    /// The person or system calling (the token's `sub`).
    async fn subject(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(ctx.actor()?.subject.clone())
    }
    /// The scopes the token grants.
    async fn scopes(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(ctx.actor()?.scopes.iter().map(|s| s.as_str().to_owned()).collect())
    }
    /// When the token expires.
    async fn expires_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(ctx.actor()?.expires_at)
    }
    /// The token's issuer (`iss`).
    async fn issuer(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(ctx.actor()?.issuer.clone())
    }
}

/// Queries about partners and reference data.
#[derive(Default)]
pub struct OrganizationQuery;

/// Queries about partners and reference data.
#[Object]
impl OrganizationQuery {
    /// Who is calling.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        ctx.actor()?;
        Ok(Viewer)
    }
    /// Every partner organisation.
    async fn organizations(&self, ctx: &Context<'_>) -> Result<Vec<Organization>> {
        ctx.actor()?;
        Ok(organizations::all(ctx.store()?).await?.into_iter().map(Organization).collect())
    }
    /// Every province of Thailand.
    async fn provinces(&self, ctx: &Context<'_>) -> Result<Vec<Province>> {
        ctx.actor()?;
        let mut list: Vec<Province> = ctx.provinces()?.by_code.values().cloned().map(Province).collect();
        list.sort_by(|a, b| a.0.code.cmp(&b.0.code));
        Ok(list)
    }
}
