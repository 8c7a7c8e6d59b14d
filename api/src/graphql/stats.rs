//! Analyst figures.

use async_graphql::{Context, ID, Object, Result, SimpleObject};

use super::context::Ctx;
use super::organizations::Province;
use crate::domain::enums::{EnrolmentStatus, TourismTier};
use crate::domain::ids::{self, Kind};
use crate::store::stats;

/// How many communities have a tier.
#[derive(SimpleObject)]
pub struct TierCount {
    /// The tier; null: not yet classified.
    pub tier: Option<TourismTier>,
    /// How many communities.
    pub count: i32,
}

/// How many communities are in a province.
#[derive(SimpleObject)]
pub struct ProvinceCount {
    /// The province.
    pub province: Province,
    /// How many communities.
    pub count: i32,
}

/// How many enrolments are in a status.
#[derive(SimpleObject)]
pub struct EnrolmentStatusCount {
    /// The status.
    pub status: EnrolmentStatus,
    /// How many enrolments.
    pub count: i32,
}

/// Grouped counts for analysts.
pub struct Stats;

fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Grouped counts for analysts.
#[Object]
impl Stats {
    /// Communities per tier: needs `communities:read` (null and FORBIDDEN without it).
    #[graphql(deprecation = "Use communityAggregate(groupBy: [TIER]), which also takes filters and sums households.")]
    async fn communities_by_tier(&self, ctx: &Context<'_>) -> Result<Option<Vec<TierCount>>> {
        ctx.reader(Kind::Community)?;
        let rows = stats::communities_by_tier(ctx.store()?).await?;
        Ok(Some(rows.into_iter().map(|(tier, n)| TierCount { tier, count: count(n) }).collect()))
    }

    /// Communities per province, provinces with none left out: needs `communities:read` (null and FORBIDDEN without it).
    #[graphql(
        deprecation = "Use communityAggregate(groupBy: [PROVINCE]), which also takes filters and sums households."
    )]
    async fn communities_by_province(&self, ctx: &Context<'_>) -> Result<Option<Vec<ProvinceCount>>> {
        ctx.reader(Kind::Community)?;
        let provinces = ctx.provinces()?;
        let rows = stats::communities_by_province(ctx.store()?).await?;
        Ok(Some(
            rows.into_iter()
                .filter_map(|(code, n)| {
                    provinces
                        .by_code
                        .get(&code)
                        .map(|p| ProvinceCount { province: Province(p.clone()), count: count(n) })
                })
                .collect(),
        ))
    }

    /// Enrolments per status, of one programme or all: needs `enrolments:read` (null and FORBIDDEN without it).
    #[graphql(
        deprecation = "Use enrolmentAggregate(filter: {programmeId: ...}, groupBy: [STATUS]), which also groups by month, province or partner."
    )]
    async fn enrolments_by_status(
        &self,
        ctx: &Context<'_>,
        programme_id: Option<ID>,
    ) -> Result<Option<Vec<EnrolmentStatusCount>>> {
        ctx.reader(Kind::Enrolment)?;
        let programme = programme_id.map(|id| ids::decode(Kind::Programme, &id, "programmeId")).transpose()?;
        let rows = stats::enrolments_by_status(ctx.store()?, programme).await?;
        let mut out: Vec<EnrolmentStatusCount> =
            rows.into_iter().map(|(status, n)| EnrolmentStatusCount { status, count: count(n) }).collect();
        out.sort_by_key(|c| c.status);
        Ok(Some(out))
    }
}

/// The `stats` root field.
#[derive(Default)]
pub struct StatsQuery;

/// The `stats` root field.
#[Object]
impl StatsQuery {
    /// Grouped counts for analysts.
    #[graphql(deprecation = "Use communityAggregate and enrolmentAggregate: filters, two dimensions, sums.")]
    async fn stats(&self, ctx: &Context<'_>) -> Result<Stats> {
        ctx.actor()?;
        Ok(Stats)
    }
}
