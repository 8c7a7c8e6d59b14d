//! Idempotent creates. A create with an `idempotencyKey` stores the key, the
//! operation and a fingerprint of the input in the same transaction as the
//! record; a retry with the same key and input gets the first record back,
//! the same key with another input gets `CONFLICT`. Keys are scoped to the
//! calling organisation and kept for [`RETENTION_DAYS`].

use std::future::Future;
use std::pin::Pin;

use entity::idempotency_key;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    ExprTrait, QueryFilter, Statement,
};
use sha2::{Digest, Sha256};

use super::{Store, now};
use crate::domain::access::Actor;
use crate::domain::ids::Kind;
use crate::domain::text::limits;
use crate::error::{AppError, AppResult};

/// How long a key is remembered.
pub const RETENTION_DAYS: i64 = 7;

/// The work of a create: runs inside the transaction, returns the new id.
pub type CreateFn<'a> = Box<
    dyn for<'t> FnOnce(&'t DatabaseTransaction) -> Pin<Box<dyn Future<Output = AppResult<i64>> + Send + 't>>
        + Send
        + 'a,
>;

/// A fingerprint of a create's operation and input.
pub fn fingerprint(operation: &str, input: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(operation.as_bytes());
    hasher.update([0]);
    hasher.update(input.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// Runs `create` in a write transaction, honouring `key` when given.
pub async fn create(
    store: &Store,
    actor: &Actor,
    key: Option<&str>,
    operation: &str,
    kind: Kind,
    input: &serde_json::Value,
    create: CreateFn<'_>,
) -> AppResult<i64> {
    let Some(key) = key else {
        let tx = store.begin_write().await?;
        let id = create(&tx).await?;
        store.commit(tx).await?;
        return Ok(id);
    };
    if key.is_empty() || key.chars().count() > limits::IDEMPOTENCY_KEY {
        return Err(AppError::bad_input(
            "idempotencyKey",
            format!("idempotencyKey must be 1 to {} characters", limits::IDEMPOTENCY_KEY),
        ));
    }
    let print = fingerprint(operation, input);
    let tx = store.begin_write().await?;
    // Requests with the same key queue here until the first commits (on
    // SQLite, `BEGIN IMMEDIATE` already serialises writers), so exactly one
    // creates and the others find its key and replay it.
    if store.backend() == DbBackend::Postgres {
        let digest = Sha256::digest(format!("{}:{key}", actor.org_id));
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        let lock = i64::from_be_bytes(first);
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [lock.into()],
        ))
        .await?;
    }
    if let Some(existing) = find(&tx, actor, key).await? {
        return replay(existing, operation, &print);
    }
    // An expired key of the same name may still be stored: it no longer counts.
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::OrganizationId.eq(actor.org_id))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(&tx)
        .await?;
    let id = match create(&tx).await {
        Ok(id) => id,
        Err(AppError::Conflict(message)) => {
            drop(tx);
            return match find(&store.db, actor, key).await? {
                Some(existing) => replay(existing, operation, &print),
                None => Err(AppError::Conflict(message)),
            };
        }
        Err(e) => return Err(e),
    };
    let stored = idempotency_key::ActiveModel {
        organization_id: Set(actor.org_id),
        key: Set(key.to_owned()),
        operation: Set(operation.to_owned()),
        fingerprint: Set(print.clone()),
        entity_type: Set(kind.name().to_owned()),
        entity_id: Set(id),
        created_at: Set(now()),
    }
    .insert(&tx)
    .await;
    let committed = match stored {
        Ok(_) => store.commit(tx).await,
        Err(e) => Err(AppError::from(e)),
    };
    match committed {
        Ok(()) => Ok(id),
        // A concurrent request with the same key committed first: its
        // record is the one; ours rolled back.
        Err(AppError::Conflict(_)) => match find(&store.db, actor, key).await? {
            Some(existing) => replay(existing, operation, &print),
            None => Err(AppError::conflict("a concurrent request with this idempotencyKey failed; retry")),
        },
        Err(e) => Err(e),
    }
}

async fn find<C: sea_orm::ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    key: &str,
) -> AppResult<Option<idempotency_key::Model>> {
    let oldest = now() - chrono::Duration::days(RETENTION_DAYS);
    Ok(idempotency_key::Entity::find()
        .filter(idempotency_key::Column::OrganizationId.eq(actor.org_id))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(Expr::col(idempotency_key::Column::CreatedAt).gte(oldest))
        .one(conn)
        .await?)
}

fn replay(existing: idempotency_key::Model, operation: &str, print: &str) -> AppResult<i64> {
    if existing.operation == operation && existing.fingerprint == print {
        Ok(existing.entity_id)
    } else {
        Err(AppError::conflict("this idempotencyKey was already used with a different input"))
    }
}

/// Deletes keys past retention (idempotency keys are not shared records).
pub async fn purge_expired(store: &Store) -> AppResult<u64> {
    let oldest = now() - chrono::Duration::days(RETENTION_DAYS);
    let result = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(oldest))
        .exec(&store.db)
        .await?;
    Ok(result.rows_affected)
}
