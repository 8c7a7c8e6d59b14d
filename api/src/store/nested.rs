//! Nested enrolment connections (`Community.enrolments`,
//! `Programme.enrolments`), batched: one query per distinct parent type,
//! filter and page arguments for all parents in a request, using
//! `ROW_NUMBER() OVER (PARTITION BY parent)` to cut each parent's page.
//!
//! When the selection asks for the rows' programmes (and their MOUs), the
//! same batch reads those too, so the rows' fields find them in the
//! request's loaders: a hundred `programme` fields then cost a hundred
//! cache hits instead of a hundred pending loads, each waking the request.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::dataloader::Loader;
use entity::{enrolment, mou, mou_party, programme};
use sea_orm::sea_query::{Alias, Asterisk, Expr, IntoIden, Order, Query};
use sea_orm::{ColumnTrait, DatabaseConnection, ExprTrait, FromQueryResult, QueryFilter, QuerySelect, QueryTrait};

use super::enrolments::{Filter, SORT, filtered};
use super::keyset::{self, Page, PageArgs};
use super::loaders::{ById, Children, parties_of_mous};
use crate::error::AppError;

/// Which record the enrolments hang off.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Parent {
    Community,
    Programme,
}

impl Parent {
    fn column(self) -> enrolment::Column {
        match self {
            Parent::Community => enrolment::Column::CommunityId,
            Parent::Programme => enrolment::Column::ProgrammeId,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Parent::Community => "community_id",
            Parent::Programme => "programme_id",
        }
    }

    fn key(self, m: &enrolment::Model) -> i64 {
        match self {
            Parent::Community => m.community_id,
            Parent::Programme => m.programme_id,
        }
    }
}

/// One parent's page of enrolments.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub parent: Parent,
    pub id: i64,
    pub filter: Filter,
    pub args: PageArgs,
    /// What to read with the page.
    pub related: Related,
}

/// What to read, in the pages' batch, for the rows of nested pages.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Related {
    /// The rows' programmes.
    pub programmes: bool,
    /// Those programmes' MOUs, with their parties (which decide visibility).
    pub mous: bool,
}

/// Records read with a batch of nested pages, for the request's loaders.
#[derive(Debug, Default)]
pub struct RelatedRows {
    pub programmes: HashMap<i64, Arc<programme::Model>>,
    pub mous: HashMap<i64, Arc<mou::Model>>,
    /// Every MOU of `mous`' parties (empty when it has none).
    pub parties: HashMap<i64, Arc<[mou_party::Model]>>,
    /// Set by the first page of the batch that feeds these into the loaders.
    fed: AtomicBool,
}

impl RelatedRows {
    /// True the first time only: every page of a batch shares these rows,
    /// and one of them is enough to put them in the request's loaders.
    pub fn first_use(&self) -> bool {
        !self.fed.swap(true, Ordering::Relaxed)
    }
}

/// One parent's page, with what its batch read besides.
#[derive(Clone, Debug)]
pub struct NestedPage {
    pub page: Page<Arc<enrolment::Model>>,
    pub related: Arc<RelatedRows>,
}

/// One parent's enrolment count.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CountKey {
    pub parent: Parent,
    pub id: i64,
    pub filter: Filter,
}

/// Loads pages of nested enrolments.
pub struct NestedPages {
    db: DatabaseConnection,
    programmes: ById<programme::Entity>,
    mous: ById<mou::Entity>,
    parties: Children<mou_party::Entity>,
}

impl NestedPages {
    /// The loader on `db`.
    pub fn new(db: &DatabaseConnection) -> Self {
        NestedPages { db: db.clone(), programmes: ById::new(db), mous: ById::new(db), parties: parties_of_mous(db) }
    }

    /// Reads the programmes (and MOUs, and their parties) `pages` refer to.
    async fn related(&self, pages: &HashMap<PageKey, Page<Arc<enrolment::Model>>>) -> Result<RelatedRows, AppError> {
        let mut rows = RelatedRows::default();
        // Programme ids of the rows, and those whose MOUs are wanted too.
        let (mut programme_ids, mut with_mou) = (BTreeSet::new(), BTreeSet::new());
        for (key, page) in pages.iter().filter(|(key, _)| key.related.programmes) {
            for (_, e) in &page.rows {
                programme_ids.insert(e.programme_id);
                if key.related.mous {
                    with_mou.insert(e.programme_id);
                }
            }
        }
        if programme_ids.is_empty() {
            return Ok(rows);
        }
        rows.programmes = self.programmes.load(&programme_ids.into_iter().collect::<Vec<_>>()).await?;
        let mou_ids: BTreeSet<i64> =
            with_mou.iter().filter_map(|id| rows.programmes.get(id).and_then(|p| p.mou_id)).collect();
        if !mou_ids.is_empty() {
            let mou_ids: Vec<i64> = mou_ids.into_iter().collect();
            rows.mous = self.mous.load(&mou_ids).await?;
            rows.parties = self.parties.load(&mou_ids).await?;
        }
        Ok(rows)
    }
}

impl Loader<PageKey> for NestedPages {
    type Value = NestedPage;
    type Error = AppError;

    async fn load(&self, keys: &[PageKey]) -> Result<HashMap<PageKey, NestedPage>, AppError> {
        let mut groups: HashMap<(Parent, Filter, PageArgs), Vec<(i64, Related)>> = HashMap::new();
        for key in keys {
            groups.entry((key.parent, key.filter.clone(), key.args.clone())).or_default().push((key.id, key.related));
        }
        let mut out = HashMap::new();
        for ((parent, filter, args), keyed) in groups {
            let ids: BTreeSet<i64> = keyed.iter().map(|(id, _)| *id).collect();
            let window = keyset::window(&args, SORT)?;
            let mut by_parent: HashMap<i64, Vec<Arc<enrolment::Model>>> = HashMap::new();
            if window.limit() > 0 {
                let direction = if window.read_order() == Order::Desc { "DESC" } else { "ASC" };
                let inner = window
                    .bounds(filtered(&filter))
                    .filter(parent.column().is_in(ids.iter().copied()))
                    .expr_as(
                        Expr::cust(format!(
                            "ROW_NUMBER() OVER (PARTITION BY {} ORDER BY id {direction})",
                            parent.name()
                        )),
                        "rn",
                    )
                    .into_query();
                let outer = Query::select()
                    .column(Asterisk)
                    .from_subquery(inner, Alias::new("t"))
                    .and_where(Expr::col(Alias::new("rn").into_iden()).lte(window.limit() as i64 + 1))
                    .order_by(Alias::new("rn"), Order::Asc)
                    .to_owned();
                let statement = self.db.get_database_backend().build(&outer);
                for row in enrolment::Model::find_by_statement(statement).all(&self.db).await? {
                    by_parent.entry(parent.key(&row)).or_default().push(Arc::new(row));
                }
            }
            for (id, related) in keyed {
                let rows = by_parent.get(&id).cloned().unwrap_or_default();
                let page = window.page_from(rows, |_| None, |m| m.id);
                out.insert(PageKey { parent, id, filter: filter.clone(), args: args.clone(), related }, page);
            }
        }
        let related = Arc::new(self.related(&out).await?);
        Ok(out.into_iter().map(|(key, page)| (key, NestedPage { page, related: related.clone() })).collect())
    }
}

#[derive(FromQueryResult)]
struct ParentCount {
    parent: i64,
    count: i64,
}

/// Loads counts of nested enrolments.
pub struct NestedCounts {
    pub db: DatabaseConnection,
}

impl Loader<CountKey> for NestedCounts {
    type Value = i64;
    type Error = AppError;

    async fn load(&self, keys: &[CountKey]) -> Result<HashMap<CountKey, i64>, AppError> {
        let mut groups: HashMap<(Parent, Filter), Vec<i64>> = HashMap::new();
        for key in keys {
            groups.entry((key.parent, key.filter.clone())).or_default().push(key.id);
        }
        let mut out = HashMap::new();
        for ((parent, filter), ids) in groups {
            let rows = filtered(&filter)
                .filter(parent.column().is_in(ids.iter().copied()))
                .select_only()
                .column_as(parent.column(), "parent")
                .column_as(enrolment::Column::Id.count(), "count")
                .group_by(parent.column())
                .into_model::<ParentCount>()
                .all(&self.db)
                .await?;
            let counts: HashMap<i64, i64> = rows.into_iter().map(|r| (r.parent, r.count)).collect();
            for id in ids {
                out.insert(CountKey { parent, id, filter: filter.clone() }, counts.get(&id).copied().unwrap_or(0));
            }
        }
        Ok(out)
    }
}
