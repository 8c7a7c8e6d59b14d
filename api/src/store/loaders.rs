//! Batch loaders, created per request so no row is shared between callers
//! with different rights. Each relation is one `IN (...)` query per batch.
//! Loaded rows are shared (`Arc`): a record reached from many parents is
//! read and decoded once and never copied.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::*;
use sea_orm::sea_query::{Alias, Expr, IntoIden};
use sea_orm::{DatabaseConnection, EntityTrait, ExprTrait, QueryFilter, QueryOrder};

use crate::error::AppError;

/// A model with a numeric key that a loader groups by.
pub trait Keyed {
    /// The model's own id (or, for child rows, its parent's id).
    fn key(&self) -> i64;
}

macro_rules! keyed {
    ($($module:ident => $field:ident),+ $(,)?) => {
        $(impl Keyed for $module::Model { fn key(&self) -> i64 { self.$field } })+
    };
}

/// Loads records of `E` by id.
pub struct ById<E> {
    db: DatabaseConnection,
    _entity: PhantomData<E>,
}

impl<E> ById<E> {
    /// A loader of `E` on `db`.
    pub fn new(db: &DatabaseConnection) -> Self {
        ById { db: db.clone(), _entity: PhantomData }
    }
}

/// The parties of MOUs, in signing order (for `parties_by_mou` and the
/// nested pages that read them in their own batch).
pub fn parties_of_mous(db: &DatabaseConnection) -> Children<mou_party::Entity> {
    Children { db: db.clone(), column: "mou_id", order: &["position"], key_of: |m| m.mou_id, _entity: PhantomData }
}

impl<E> Loader<i64> for ById<E>
where
    E: EntityTrait + Send + Sync + 'static,
    E::Model: Keyed + Clone + Send + Sync + 'static,
{
    type Value = Arc<E::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Arc<E::Model>>, AppError> {
        let rows =
            E::find().filter(Expr::col(Alias::new("id").into_iden()).is_in(keys.iter().copied())).all(&self.db).await?;
        Ok(rows.into_iter().map(|m| (m.key(), Arc::new(m))).collect())
    }
}

/// Loads the child rows of `E` whose `column` is one of the keys, in `order` order.
pub struct Children<E: EntityTrait> {
    db: DatabaseConnection,
    column: &'static str,
    order: &'static [&'static str],
    key_of: fn(&E::Model) -> i64,
    _entity: PhantomData<E>,
}

impl<E> Loader<i64> for Children<E>
where
    E: EntityTrait + Send + Sync + 'static,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = Arc<[E::Model]>;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Arc<[E::Model]>>, AppError> {
        let mut select = E::find().filter(Expr::col(Alias::new(self.column).into_iden()).is_in(keys.iter().copied()));
        for column in self.order {
            select = select.order_by_asc(Expr::col(Alias::new(*column).into_iden()));
        }
        let mut grouped: HashMap<i64, Vec<E::Model>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in select.all(&self.db).await? {
            grouped.entry((self.key_of)(&row)).or_default().push(row);
        }
        Ok(grouped.into_iter().map(|(k, rows)| (k, rows.into())).collect())
    }
}

keyed! {
    community => id,
    mou => id,
    commitment => id,
    programme => id,
    curriculum => id,
    enrolment => id,
}

/// Every loader of one request.
pub struct Loaders {
    pub communities: DataLoader<ById<community::Entity>, HashMapCache>,
    pub mous: DataLoader<ById<mou::Entity>, HashMapCache>,
    pub commitments: DataLoader<ById<commitment::Entity>, HashMapCache>,
    pub programmes: DataLoader<ById<programme::Entity>, HashMapCache>,
    pub curricula: DataLoader<ById<curriculum::Entity>, HashMapCache>,
    pub enrolments: DataLoader<ById<enrolment::Entity>, HashMapCache>,
    pub awards_by_community: DataLoader<Children<community_award::Entity>, HashMapCache>,
    pub parties_by_mou: DataLoader<Children<mou_party::Entity>, HashMapCache>,
    pub commitments_by_mou: DataLoader<Children<commitment::Entity>, HashMapCache>,
    pub programmes_by_mou: DataLoader<Children<programme::Entity>, HashMapCache>,
    pub partners_by_programme: DataLoader<Children<programme_partner::Entity>, HashMapCache>,
    pub curricula_by_programme: DataLoader<Children<programme_curriculum::Entity>, HashMapCache>,
    pub programmes_by_curriculum: DataLoader<Children<programme_curriculum::Entity>, HashMapCache>,
    pub contributors_by_curriculum: DataLoader<Children<curriculum_contributor::Entity>, HashMapCache>,
    pub modules_by_curriculum: DataLoader<Children<curriculum_module::Entity>, HashMapCache>,
    pub models_by_curriculum: DataLoader<Children<curriculum_model_community::Entity>, HashMapCache>,
    pub history_by_enrolment: DataLoader<Children<enrolment_transition::Entity>, HashMapCache>,
    /// Pages of `Community.enrolments` / `Programme.enrolments`.
    pub nested_enrolments: DataLoader<super::nested::NestedPages, HashMapCache>,
    /// Their `totalCount`s.
    pub nested_enrolment_counts: DataLoader<super::nested::NestedCounts, HashMapCache>,
}

/// How long a loader waits, by default, for sibling fields to add their
/// keys before it runs the batch (`BATCH_WINDOW_MS`).
pub const BATCH_WINDOW: Duration = Duration::from_millis(2);

/// A loader with the batch window and a per-request cache, so one record
/// asked for twice in a request (say, for a visibility check and a field)
/// is read once.
fn batched<L>(loader: L, window: Duration) -> DataLoader<L, HashMapCache> {
    DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default()).delay(window)
}

fn by_id<E>(db: &DatabaseConnection, window: Duration) -> DataLoader<ById<E>, HashMapCache>
where
    E: EntityTrait + Send + Sync + 'static,
    E::Model: Keyed + Clone + Send + Sync + 'static,
{
    batched(ById::new(db), window)
}

fn children<E>(
    db: &DatabaseConnection,
    window: Duration,
    column: &'static str,
    order: &'static [&'static str],
    key_of: fn(&E::Model) -> i64,
) -> DataLoader<Children<E>, HashMapCache>
where
    E: EntityTrait + Send + Sync + 'static,
    E::Model: Clone + Send + Sync + 'static,
{
    batched(Children { db: db.clone(), column, order, key_of, _entity: PhantomData }, window)
}

impl Loaders {
    /// Loaders that batch but never cache, for a long-lived live
    /// subscription: each event shows its record as it is when sent.
    pub fn uncached(db: &DatabaseConnection, window: Duration) -> Self {
        let loaders = Loaders::new(db, window);
        loaders.communities.enable_all_cache(false);
        loaders.mous.enable_all_cache(false);
        loaders.commitments.enable_all_cache(false);
        loaders.programmes.enable_all_cache(false);
        loaders.curricula.enable_all_cache(false);
        loaders.enrolments.enable_all_cache(false);
        loaders.awards_by_community.enable_all_cache(false);
        loaders.parties_by_mou.enable_all_cache(false);
        loaders.commitments_by_mou.enable_all_cache(false);
        loaders.programmes_by_mou.enable_all_cache(false);
        loaders.partners_by_programme.enable_all_cache(false);
        loaders.curricula_by_programme.enable_all_cache(false);
        loaders.programmes_by_curriculum.enable_all_cache(false);
        loaders.contributors_by_curriculum.enable_all_cache(false);
        loaders.modules_by_curriculum.enable_all_cache(false);
        loaders.models_by_curriculum.enable_all_cache(false);
        loaders.history_by_enrolment.enable_all_cache(false);
        loaders.nested_enrolments.enable_all_cache(false);
        loaders.nested_enrolment_counts.enable_all_cache(false);
        loaders
    }

    /// Fresh loaders for one request, batching within `window`.
    pub fn new(db: &DatabaseConnection, window: Duration) -> Self {
        Loaders {
            communities: by_id(db, window),
            mous: by_id(db, window),
            commitments: by_id(db, window),
            programmes: by_id(db, window),
            curricula: by_id(db, window),
            enrolments: by_id(db, window),
            awards_by_community: children(db, window, "community_id", &["year", "id"], |m: &community_award::Model| {
                m.community_id
            }),
            parties_by_mou: batched(parties_of_mous(db), window),
            commitments_by_mou: children(db, window, "mou_id", &["id"], |m: &commitment::Model| m.mou_id),
            programmes_by_mou: children(db, window, "mou_id", &["id"], |m: &programme::Model| {
                m.mou_id.unwrap_or_default()
            }),
            partners_by_programme: children(
                db,
                window,
                "programme_id",
                &["organization_id"],
                |m: &programme_partner::Model| m.programme_id,
            ),
            curricula_by_programme: children(
                db,
                window,
                "programme_id",
                &["curriculum_id"],
                |m: &programme_curriculum::Model| m.programme_id,
            ),
            programmes_by_curriculum: children(
                db,
                window,
                "curriculum_id",
                &["programme_id"],
                |m: &programme_curriculum::Model| m.curriculum_id,
            ),
            contributors_by_curriculum: children(
                db,
                window,
                "curriculum_id",
                &["organization_id"],
                |m: &curriculum_contributor::Model| m.curriculum_id,
            ),
            modules_by_curriculum: children(
                db,
                window,
                "curriculum_id",
                &["position"],
                |m: &curriculum_module::Model| m.curriculum_id,
            ),
            models_by_curriculum: children(
                db,
                window,
                "curriculum_id",
                &["community_id"],
                |m: &curriculum_model_community::Model| m.curriculum_id,
            ),
            history_by_enrolment: children(db, window, "enrolment_id", &["id"], |m: &enrolment_transition::Model| {
                m.enrolment_id
            }),
            nested_enrolments: batched(super::nested::NestedPages::new(db), window),
            nested_enrolment_counts: batched(super::nested::NestedCounts { db: db.clone() }, window),
        }
    }
}
