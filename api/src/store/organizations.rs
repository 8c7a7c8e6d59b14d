//! Partner organisations and provinces (reference data).

use entity::{organization, province};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::Store;
use crate::error::{AppError, AppResult};

/// Every organisation, by code.
pub async fn all(store: &Store) -> AppResult<Vec<organization::Model>> {
    Ok(organization::Entity::find().order_by_asc(organization::Column::Code).all(&store.db).await?)
}

/// The organisation with `code`.
pub async fn by_code(store: &Store, code: &str) -> AppResult<Option<organization::Model>> {
    Ok(organization::Entity::find().filter(organization::Column::Code.eq(code)).one(&store.db).await?)
}

/// Resolves organisation codes to ids; an unknown code is `BAD_USER_INPUT` on `field`.
pub async fn ids_for_codes<C: ConnectionTrait>(conn: &C, codes: &[String], field: &str) -> AppResult<Vec<i64>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let found =
        organization::Entity::find().filter(organization::Column::Code.is_in(codes.iter().cloned())).all(conn).await?;
    let mut ids = Vec::with_capacity(codes.len());
    for code in codes {
        match found.iter().find(|o| &o.code == code) {
            Some(org) => ids.push(org.id),
            None => return Err(AppError::bad_input(field, format!("unknown organization code {code}"))),
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Every province, by code.
pub async fn provinces(store: &Store) -> AppResult<Vec<province::Model>> {
    Ok(province::Entity::find().order_by_asc(province::Column::Code).all(&store.db).await?)
}
