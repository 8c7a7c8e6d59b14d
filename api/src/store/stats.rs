//! Analyst figures: grouped counts.

use entity::{community, enrolment};
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, TryGetable};

use super::Store;
use crate::domain::enums::{EnrolmentStatus, TourismTier};
use crate::error::AppResult;

#[derive(FromQueryResult)]
struct KeyCount<K: TryGetable> {
    key: Option<K>,
    count: i64,
}

/// Communities per tier (`None`: not classified).
pub async fn communities_by_tier(store: &Store) -> AppResult<Vec<(Option<TourismTier>, i64)>> {
    let rows = community::Entity::find()
        .select_only()
        .column_as(community::Column::TourismTier, "key")
        .column_as(community::Column::Id.count(), "count")
        .group_by(community::Column::TourismTier)
        .order_by_asc(community::Column::TourismTier)
        .into_model::<KeyCount<_>>()
        .all(&store.db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.key, r.count)).collect())
}

/// Communities per province code.
pub async fn communities_by_province(store: &Store) -> AppResult<Vec<(String, i64)>> {
    let rows = community::Entity::find()
        .select_only()
        .column_as(community::Column::ProvinceCode, "key")
        .column_as(community::Column::Id.count(), "count")
        .group_by(community::Column::ProvinceCode)
        .order_by_asc(community::Column::ProvinceCode)
        .into_model::<KeyCount<_>>()
        .all(&store.db)
        .await?;
    Ok(rows.into_iter().filter_map(|r| Some((r.key?, r.count))).collect())
}

/// Enrolments per status, optionally of one programme.
pub async fn enrolments_by_status(store: &Store, programme_id: Option<i64>) -> AppResult<Vec<(EnrolmentStatus, i64)>> {
    let mut select = enrolment::Entity::find();
    if let Some(id) = programme_id {
        select = select.filter(enrolment::Column::ProgrammeId.eq(id));
    }
    let rows = select
        .select_only()
        .column_as(enrolment::Column::Status, "key")
        .column_as(enrolment::Column::Id.count(), "count")
        .group_by(enrolment::Column::Status)
        .into_model::<KeyCount<_>>()
        .all(&store.db)
        .await?;
    Ok(rows.into_iter().filter_map(|r| Some((r.key?, r.count))).collect())
}
