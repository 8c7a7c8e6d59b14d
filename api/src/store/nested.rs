//! Nested enrolment connections (`Community.enrolments`,
//! `Programme.enrolments`), batched: one query per distinct parent type,
//! filter and page arguments for all parents in a request, using
//! `ROW_NUMBER() OVER (PARTITION BY parent)` to cut each parent's page.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::enrolment;
use sea_orm::sea_query::{Alias, Asterisk, Expr, IntoIden, Order, Query};
use sea_orm::{ColumnTrait, DatabaseConnection, ExprTrait, FromQueryResult, QueryFilter, QuerySelect, QueryTrait};

use super::enrolments::{Filter, SORT, filtered};
use super::keyset::{self, Page, PageArgs};
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
    pub db: DatabaseConnection,
}

impl Loader<PageKey> for NestedPages {
    type Value = Page<std::sync::Arc<enrolment::Model>>;
    type Error = AppError;

    async fn load(&self, keys: &[PageKey]) -> Result<HashMap<PageKey, Self::Value>, AppError> {
        let mut groups: HashMap<(Parent, Filter, PageArgs), Vec<i64>> = HashMap::new();
        for key in keys {
            groups.entry((key.parent, key.filter.clone(), key.args.clone())).or_default().push(key.id);
        }
        let mut out = HashMap::new();
        for ((parent, filter, args), ids) in groups {
            let window = keyset::window(&args, SORT)?;
            let mut by_parent: HashMap<i64, Vec<enrolment::Model>> = HashMap::new();
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
                    by_parent.entry(parent.key(&row)).or_default().push(row);
                }
            }
            for id in ids {
                let rows = by_parent.remove(&id).unwrap_or_default();
                let page = window.page_from(rows, |_| None, |m| m.id).shared();
                out.insert(PageKey { parent, id, filter: filter.clone(), args: args.clone() }, page);
            }
        }
        Ok(out)
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
