//! Trusted documents in the database: each organisation's registered
//! operations, its mode, and the counts of unregistered operations it sent.
//! The serving copy is held in memory by [`crate::governance::documents`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{operation_policy, trusted_document, untrusted_operation};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

use super::keyset::{self, Page, PageArgs, SortKey};
use super::{Store, now};
use crate::domain::documents::Document;
use crate::domain::enums::TrustedDocumentMode;
use crate::error::AppResult;

/// The keyset of an organisation's documents: registration order.
pub const SORT: SortKey = SortKey::by_id("trusted.document.id");

/// Every organisation's mode (organisations without a row are `OFF`) and
/// every registered (not removed) document.
pub async fn load(store: &Store) -> AppResult<(HashMap<i64, TrustedDocumentMode>, Vec<trusted_document::Model>)> {
    let modes = operation_policy::Entity::find().all(&store.db).await?;
    let docs =
        trusted_document::Entity::find().filter(trusted_document::Column::RemovedAt.is_null()).all(&store.db).await?;
    Ok((modes.into_iter().map(|p| (p.organization_id, p.mode)).collect(), docs))
}

/// Registers `documents` for `org_id`: new ones are added, removed ones come
/// back, registered ones are left as they are. Returns the documents that
/// were not registered before, and how many already were.
pub async fn register(
    store: &Store,
    org_id: i64,
    subject: &str,
    documents: &[Document],
) -> AppResult<(Vec<trusted_document::Model>, usize)> {
    let tx = store.begin_write().await?;
    let hashes: Vec<&str> = documents.iter().map(|d| d.sha256.as_str()).collect();
    let mut existing: HashMap<String, trusted_document::Model> = HashMap::new();
    for chunk in hashes.chunks(500) {
        let rows = trusted_document::Entity::find()
            .filter(trusted_document::Column::OrganizationId.eq(org_id))
            .filter(trusted_document::Column::Sha256.is_in(chunk.iter().copied()))
            .all(&tx)
            .await?;
        existing.extend(rows.into_iter().map(|r| (r.sha256.clone(), r)));
    }
    let at = now();
    let (mut added, mut already) = (Vec::new(), 0);
    let mut seen = std::collections::HashSet::new();
    for doc in documents {
        if !seen.insert(doc.sha256.as_str()) {
            continue;
        }
        match existing.get(&doc.sha256) {
            Some(row) if row.removed_at.is_none() => already += 1,
            Some(row) => {
                let am = trusted_document::ActiveModel {
                    id: Set(row.id),
                    registered_at: Set(at),
                    registered_by: Set(subject.to_owned()),
                    removed_at: Set(None),
                    removed_by: Set(None),
                    ..Default::default()
                };
                added.push(trusted_document::Entity::update(am).exec(&tx).await?);
            }
            None => {
                let am = trusted_document::ActiveModel {
                    organization_id: Set(org_id),
                    sha256: Set(doc.sha256.clone()),
                    body: Set(doc.body.clone()),
                    operation_names: Set(doc.operation_names.join(" ")),
                    registered_at: Set(at),
                    registered_by: Set(subject.to_owned()),
                    removed_at: Set(None),
                    removed_by: Set(None),
                    ..Default::default()
                };
                added.push(trusted_document::Entity::insert(am).exec_with_returning(&tx).await?);
            }
        }
    }
    tx.commit().await?;
    Ok((added, already))
}

/// Removes `hashes` from `org_id`'s registered documents (the rows are kept,
/// marked removed, with who removed them). Returns how many were removed.
pub async fn remove(store: &Store, org_id: i64, subject: &str, hashes: &[String]) -> AppResult<u64> {
    let hashes: Vec<String> = hashes.iter().map(|h| h.to_ascii_lowercase()).collect();
    let mut removed = 0;
    let tx = store.begin_write().await?;
    for chunk in hashes.chunks(500) {
        let result = trusted_document::Entity::update_many()
            .col_expr(trusted_document::Column::RemovedAt, Expr::value(now()))
            .col_expr(trusted_document::Column::RemovedBy, Expr::value(subject.to_owned()))
            .filter(trusted_document::Column::OrganizationId.eq(org_id))
            .filter(trusted_document::Column::Sha256.is_in(chunk.iter().cloned()))
            .filter(trusted_document::Column::RemovedAt.is_null())
            .exec(&tx)
            .await?;
        removed += result.rows_affected;
    }
    tx.commit().await?;
    Ok(removed)
}

/// `org_id`'s registered documents, for listing.
pub fn registered(org_id: i64) -> Select<trusted_document::Entity> {
    trusted_document::Entity::find()
        .filter(trusted_document::Column::OrganizationId.eq(org_id))
        .filter(trusted_document::Column::RemovedAt.is_null())
}

/// A page of `org_id`'s registered documents, in registration order.
pub async fn page(store: &Store, org_id: i64, args: &PageArgs) -> AppResult<Page<trusted_document::Model>> {
    keyset::window(args, SORT)?.fetch(&store.db, registered(org_id), |_| None, |m| m.id).await
}

/// `org_id`'s policy row (`None`: never set, so `OFF`).
pub async fn policy(store: &Store, org_id: i64) -> AppResult<Option<operation_policy::Model>> {
    Ok(operation_policy::Entity::find_by_id(org_id).one(&store.db).await?)
}

/// Sets `org_id`'s mode.
pub async fn set_mode(
    store: &Store,
    org_id: i64,
    subject: &str,
    mode: TrustedDocumentMode,
) -> AppResult<operation_policy::Model> {
    let row = operation_policy::ActiveModel {
        organization_id: Set(org_id),
        mode: Set(mode),
        updated_at: Set(now()),
        updated_by: Set(subject.to_owned()),
    };
    operation_policy::Entity::insert(row)
        .on_conflict(
            OnConflict::column(operation_policy::Column::OrganizationId)
                .update_columns([
                    operation_policy::Column::Mode,
                    operation_policy::Column::UpdatedAt,
                    operation_policy::Column::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(&store.db)
        .await?;
    operation_policy::Entity::find_by_id(org_id)
        .one(&store.db)
        .await?
        .ok_or_else(|| crate::error::AppError::internal("the policy just written is missing"))
}

/// Unregistered operations seen since the last flush: organisation, hash,
/// operation name, how many times, first and last time.
pub type Seen = (i64, String, String, i64, DateTime<Utc>, DateTime<Utc>);

/// Adds counts of unregistered operations (one statement per row, each an
/// upsert that adds to the stored count).
pub async fn add_untrusted(store: &Store, seen: Vec<Seen>) -> AppResult<()> {
    for (org_id, sha256, name, count, first, last) in seen {
        let row = untrusted_operation::ActiveModel {
            organization_id: Set(org_id),
            sha256: Set(sha256),
            operation_name: Set(name),
            count: Set(count),
            first_seen_at: Set(first),
            last_seen_at: Set(last),
        };
        untrusted_operation::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([untrusted_operation::Column::OrganizationId, untrusted_operation::Column::Sha256])
                    .value(
                        untrusted_operation::Column::Count,
                        Expr::cust("untrusted_operations.count + excluded.count"),
                    )
                    .update_columns([
                        untrusted_operation::Column::LastSeenAt,
                        untrusted_operation::Column::OperationName,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&store.db)
            .await?;
    }
    Ok(())
}

/// The unregistered operations `org_id` sent, most recent first.
pub async fn untrusted(store: &Store, org_id: i64, limit: u64) -> AppResult<Vec<untrusted_operation::Model>> {
    Ok(untrusted_operation::Entity::find()
        .filter(untrusted_operation::Column::OrganizationId.eq(org_id))
        .order_by_desc(untrusted_operation::Column::LastSeenAt)
        .limit(limit)
        .all(&store.db)
        .await?)
}
