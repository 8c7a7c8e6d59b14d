//! Updates under optimistic concurrency: read the current row, compare its
//! `version` with the client's `expectedVersion`, and write only if it is
//! still that version (raising it by one), noting which fields changed.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter};

use super::now;
use crate::domain::ids::Kind;
use crate::error::{AppError, AppResult};

/// Reads record `id` for update inside `conn`: `NOT_FOUND` if missing,
/// `CONFLICT` if its version is not `expected`.
pub async fn current<E, C>(
    conn: &C,
    kind: Kind,
    id: i64,
    expected: i32,
    version: fn(&E::Model) -> i32,
) -> AppResult<E::Model>
where
    E: EntityTrait,
    E::PrimaryKey: sea_orm::PrimaryKeyTrait<ValueType = i64>,
    C: ConnectionTrait,
{
    let Some(model) = E::find_by_id(id).one(conn).await? else {
        return Err(AppError::not_found(format!("no {} with that id", kind.name())));
    };
    check_version(kind, version(&model), expected)?;
    Ok(model)
}

/// `CONFLICT` unless `actual == expected`.
pub fn check_version(kind: Kind, actual: i32, expected: i32) -> AppResult<()> {
    if actual == expected {
        Ok(())
    } else {
        Err(AppError::conflict(format!(
            "{} was changed by someone else: expectedVersion {expected}, current version {actual}",
            kind.name()
        )))
    }
}

/// Applies `changes` to record `id` only if its version is still `expected`,
/// raising the version and `updated_at`. `CONFLICT` if a concurrent change won.
pub async fn bump<A, C>(conn: &C, mut changes: A, id: i64, expected: i32, kind: Kind) -> AppResult<()>
where
    A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    C: ConnectionTrait,
{
    let version_col = <<A::Entity as EntityTrait>::Column as std::str::FromStr>::from_str("version")
        .map_err(|_| AppError::internal("entity without a version column"))?;
    let updated_col = <<A::Entity as EntityTrait>::Column as std::str::FromStr>::from_str("updated_at")
        .map_err(|_| AppError::internal("entity without an updated_at column"))?;
    let id_col = <<A::Entity as EntityTrait>::Column as std::str::FromStr>::from_str("id")
        .map_err(|_| AppError::internal("entity without an id column"))?;
    changes.set(updated_col, now().into());
    let result = <A::Entity as EntityTrait>::update_many()
        .set(changes)
        .col_expr(version_col, Expr::col(version_col).add(1))
        .filter(id_col.eq(id))
        .filter(version_col.eq(expected))
        .exec(conn)
        .await?;
    if result.rows_affected == 1 {
        Ok(())
    } else {
        Err(AppError::conflict(format!("{} was changed concurrently; reload and retry", kind.name())))
    }
}

/// Sets `field` to `new` if given and different, noting the GraphQL field name.
pub fn diff<T: PartialEq + Clone>(
    fields: &mut Vec<&'static str>,
    name: &'static str,
    current: &T,
    new: Option<T>,
) -> Option<T> {
    match new {
        Some(value) if &value != current => {
            fields.push(name);
            Some(value)
        }
        _ => None,
    }
}
