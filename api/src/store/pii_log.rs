//! The personal-data access log in the database: who received which
//! communities' contacts, through which request, and when (one row per
//! response, however many contacts it held); and the purges of
//! entries past their retention (themselves recorded, in `audit_purges`).
//! Rows are written in batches by [`crate::governance::pii_log`].

use chrono::{DateTime, Utc};
use entity::{audit_purge, pii_access};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select, TransactionTrait,
};

use super::keyset::{self, Page, PageArgs, SortKey};
use super::{Store, now};
use crate::error::AppResult;

/// The keyset of the log: the order entries were written.
pub const SORT: SortKey = SortKey::by_id("pii.access.id");

/// One response's read of communities' contacts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Read {
    /// When the response was made.
    pub at: DateTime<Utc>,
    /// The reader's organisation.
    pub org_id: i64,
    /// The reader (the token's `sub`; for a webhook, the subscription).
    pub subject: String,
    /// The request's `x-request-id` (for a webhook, the message id).
    pub request_id: String,
    /// The operation's name, if it had one.
    pub operation: Option<String>,
    /// `graphql`, `webhook` or `subscription`.
    pub via: &'static str,
    /// The communities whose contact was returned, in id order, once each.
    pub community_ids: Vec<i64>,
    /// Identical reads gathered into this one (same organisation, subject,
    /// operation, route and communities): their request ids, after
    /// `request_id`, and the last one's time.
    pub more: Vec<(String, DateTime<Utc>)>,
}

/// What makes reads identical: organisation, subject, operation, route and
/// communities.
type ReadKey = (i64, String, Option<String>, &'static str, Vec<i64>);

/// Identical reads (see [`ReadKey`]) merged into one entry each, in
/// the order of their first.
pub fn merge(reads: Vec<Read>) -> Vec<Read> {
    let mut out: Vec<Read> = Vec::new();
    let mut index: std::collections::HashMap<ReadKey, usize> = std::collections::HashMap::new();
    for read in reads {
        let key = (read.org_id, read.subject.clone(), read.operation.clone(), read.via, read.community_ids.clone());
        match index.get(&key) {
            Some(&i) => out[i].more.push((read.request_id, read.at)),
            None => {
                index.insert(key, out.len());
                out.push(read);
            }
        }
    }
    out
}

/// The stored form of a set of ids: " 12 45 78 ", so one id is found with
/// `LIKE '% 45 %'` on both engines.
fn id_list(ids: &[i64]) -> String {
    let mut out = String::from(" ");
    for id in ids {
        out.push_str(&id.to_string());
        out.push(' ');
    }
    out
}

/// The ids of a stored list.
pub fn ids_of(list: &str) -> Vec<i64> {
    list.split_whitespace().filter_map(|id| id.parse().ok()).collect()
}

/// Writes `reads`, in statements of up to 500 rows, in one transaction. On
/// PostgreSQL the commit does not wait for its WAL flush
/// (`synchronous_commit = off` for this transaction only): a crash of the
/// database can lose the last fraction of a second of entries, as a crash
/// of the service loses the entries it has queued, and no read waits for a
/// disk flush of the log.
pub async fn insert(store: &Store, reads: &[Read]) -> AppResult<()> {
    let tx = store.db.begin().await?;
    if store.backend() == sea_orm::DbBackend::Postgres {
        tx.execute_unprepared("SET LOCAL synchronous_commit = off").await?;
    }
    for chunk in reads.chunks(500) {
        let rows = chunk.iter().map(|r| pii_access::ActiveModel {
            at: Set(r.at),
            organization_id: Set(r.org_id),
            subject: Set(r.subject.chars().take(200).collect()),
            request_id: Set(r.request_id.chars().take(100).collect()),
            operation_name: Set(r.operation.as_ref().map(|o| o.chars().take(200).collect())),
            via: Set(r.via.to_owned()),
            community_ids: Set(id_list(&r.community_ids)),
            community_count: Set(i32::try_from(r.community_ids.len()).unwrap_or(i32::MAX)),
            request_ids: Set((!r.more.is_empty()).then(|| {
                let mut ids = format!(" {} ", r.request_id);
                for (id, _) in &r.more {
                    ids.push_str(id);
                    ids.push(' ');
                }
                ids
            })),
            request_count: Set(i32::try_from(1 + r.more.len()).unwrap_or(i32::MAX)),
            last_at: Set(r.more.last().map(|(_, at)| *at)),
            ..Default::default()
        });
        pii_access::Entity::insert_many(rows).exec_without_returning(&tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Which entries a query asks for.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only reads of this community's contact.
    pub community_id: Option<i64>,
    /// Only reads by this subject.
    pub subject: Option<String>,
    /// Only reads at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only reads before this time.
    pub to: Option<DateTime<Utc>>,
}

/// The entries of reads made by organisation `org_id` (`None`: every
/// organisation's) that match `filter`.
pub fn select(org_id: Option<i64>, filter: &Filter) -> Select<pii_access::Entity> {
    let mut condition = Condition::all();
    if let Some(org) = org_id {
        condition = condition.add(pii_access::Column::OrganizationId.eq(org));
    }
    if let Some(id) = filter.community_id {
        condition = condition.add(pii_access::Column::CommunityIds.like(format!("% {id} %")));
    }
    if let Some(subject) = &filter.subject {
        condition = condition.add(pii_access::Column::Subject.eq(subject.clone()));
    }
    if let Some(from) = filter.from {
        condition = condition.add(pii_access::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        condition = condition.add(pii_access::Column::At.lt(to));
    }
    pii_access::Entity::find().filter(condition)
}

/// A page of [`select`], in the order entries were written.
pub async fn page(
    store: &Store,
    org_id: Option<i64>,
    filter: &Filter,
    args: &PageArgs,
) -> AppResult<Page<pii_access::Model>> {
    keyset::window(args, SORT)?.fetch(&store.db, select(org_id, filter), |_| None, |m| m.id).await
}

/// Every entry of reads of community `id`'s contact, oldest first.
pub async fn of_community(store: &Store, id: i64) -> AppResult<Vec<pii_access::Model>> {
    let filter = Filter { community_id: Some(id), ..Default::default() };
    Ok(select(None, &filter).order_by_asc(pii_access::Column::Id).all(&store.db).await?)
}

/// Deletes the entries older than `retention`, and records the purge (when
/// it deleted anything) in the same transaction. Returns the purge.
pub async fn purge(store: &Store, retention: std::time::Duration) -> AppResult<Option<audit_purge::Model>> {
    let at = now();
    let cutoff = chrono::TimeDelta::from_std(retention)
        .ok()
        .and_then(|kept| at.checked_sub_signed(kept))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let tx = store.db.begin().await?;
    let deleted = pii_access::Entity::delete_many().filter(pii_access::Column::At.lt(cutoff)).exec(&tx).await?;
    if deleted.rows_affected == 0 {
        tx.commit().await?;
        return Ok(None);
    }
    let purge = audit_purge::ActiveModel {
        at: Set(at),
        log: Set("pii_access_log".to_owned()),
        cutoff: Set(cutoff),
        deleted: Set(i64::try_from(deleted.rows_affected).unwrap_or(i64::MAX)),
        ..Default::default()
    };
    let purge = audit_purge::Entity::insert(purge).exec_with_returning(&tx).await?;
    tx.commit().await?;
    Ok(Some(purge))
}

/// The most recent purges, newest first.
pub async fn purges(store: &Store, limit: u64) -> AppResult<Vec<audit_purge::Model>> {
    Ok(audit_purge::Entity::find().order_by_desc(audit_purge::Column::Id).limit(limit).all(&store.db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(subject: &str, request: &str, communities: &[i64]) -> Read {
        Read {
            at: now(),
            org_id: 1,
            subject: subject.to_owned(),
            request_id: request.to_owned(),
            operation: Some("Q".to_owned()),
            via: "graphql",
            community_ids: communities.to_vec(),
            more: Vec::new(),
        }
    }

    #[test]
    fn identical_reads_share_an_entry_and_others_do_not() {
        let merged = merge(vec![
            read("a", "r1", &[1, 2]),
            read("b", "r2", &[1, 2]),
            read("a", "r3", &[1, 2]),
            read("a", "r4", &[1]),
        ]);
        assert_eq!(merged.len(), 3);
        assert_eq!(merged[0].request_id, "r1");
        assert_eq!(merged[0].more.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["r3"]);
        assert!(merged[1].more.is_empty() && merged[2].more.is_empty());
        assert_eq!(id_list(&[12, 45]), " 12 45 ");
        assert_eq!(ids_of(" 12 45 "), [12, 45]);
    }
}
