//! What resolvers read from the request and schema context.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use entity::{organization, province};

use crate::auth::OrgDirectory;
use crate::domain::access::Actor;
use crate::error::{AppError, AppResult};
use crate::store::Store;
use crate::store::loaders::Loaders;

/// Reference data cached for the process: the province list never changes
/// at run time (a migration loads it).
#[derive(Debug, Default)]
pub struct Provinces {
    /// By code.
    pub by_code: HashMap<String, province::Model>,
}

/// Accessors for the context, so resolvers stay short.
pub trait Ctx {
    /// The verified caller (every GraphQL request has one).
    fn actor(&self) -> AppResult<&Actor>;
    /// The caller, if it holds the scope reading records of `kind` needs
    /// (`access::read_rule`); row rules apply where the records are read.
    fn reader(&self, kind: crate::domain::ids::Kind) -> AppResult<&Actor>;
    /// The caller, if it may write records of `kind` (`access::may_write`);
    /// checked before the input is validated, so a caller without the scope
    /// learns nothing about its input.
    fn writer(&self, kind: crate::domain::ids::Kind) -> AppResult<&Actor>;
    /// The request's batch loaders.
    fn loaders(&self) -> AppResult<&Loaders>;
    /// The database.
    fn store(&self) -> AppResult<&Store>;
    /// The province list.
    fn provinces(&self) -> AppResult<&Arc<Provinces>>;
}

impl Ctx for Context<'_> {
    fn actor(&self) -> AppResult<&Actor> {
        self.data_opt::<Actor>().ok_or_else(|| AppError::Unauthenticated("a bearer token is required".into()))
    }

    fn reader(&self, kind: crate::domain::ids::Kind) -> AppResult<&Actor> {
        let actor = self.actor()?;
        crate::domain::access::may_read(actor, kind)?;
        Ok(actor)
    }

    fn writer(&self, kind: crate::domain::ids::Kind) -> AppResult<&Actor> {
        let actor = self.actor()?;
        crate::domain::access::may_write(actor, kind)?;
        Ok(actor)
    }

    fn loaders(&self) -> AppResult<&Loaders> {
        self.data_opt::<Loaders>().ok_or_else(|| AppError::internal("loaders missing from the request"))
    }

    fn store(&self) -> AppResult<&Store> {
        self.data_opt::<Store>().ok_or_else(|| AppError::internal("store missing from the schema"))
    }

    fn provinces(&self) -> AppResult<&Arc<Provinces>> {
        self.data_opt::<Arc<Provinces>>().ok_or_else(|| AppError::internal("provinces missing from the schema"))
    }
}

/// The organisation `id`, from the process's organisation directory.
pub async fn organization(ctx: &Context<'_>, id: i64) -> AppResult<organization::Model> {
    let directory = ctx.data_opt::<Arc<OrgDirectory>>().ok_or_else(|| AppError::internal("directory missing"))?;
    directory.get(id).await?.ok_or_else(|| AppError::internal(format!("organization {id} is referenced but missing")))
}

/// Several organisations, in the order of `ids`.
pub async fn organizations(ctx: &Context<'_>, ids: Vec<i64>) -> AppResult<Vec<organization::Model>> {
    let mut out = Vec::new();
    for id in ids {
        out.push(organization(ctx, id).await?);
    }
    Ok(out)
}

/// Reads record `id` of `E` fresh from the database (after a create).
pub async fn reload<E>(ctx: &Context<'_>, id: i64, kind: crate::domain::ids::Kind) -> AppResult<E::Model>
where
    E: sea_orm::EntityTrait,
    E::PrimaryKey: sea_orm::PrimaryKeyTrait<ValueType = i64>,
{
    let found = E::find_by_id(id).one(&ctx.store()?.db).await?;
    found.ok_or_else(|| AppError::not_found(format!("no {} with that id", kind.name())))
}
