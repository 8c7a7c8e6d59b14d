//! Aggregates for analysts: `communityAggregate`, `enrolmentAggregate` and
//! `programmeAggregate` take the same filter as their list, group by up to
//! two dimensions, and return counts and sums. Access is the list's: the
//! record type's read scope, community dimensions and households need
//! `communities:read` too, and MOUs the caller may not see fall into one
//! group with no MOU.

use async_graphql::{Context, Enum, Object, Result};
use sea_orm::DbBackend;
use sea_orm::sea_query::SimpleExpr;

use super::communities::{CommunityFilter, list_query};
use super::context::{Ctx, organization};
use super::curricula::{self, Curriculum};
use super::enrolments::EnrolmentFilter;
use super::mous::{self, Mou};
use super::organizations::{Organization, Province};
use super::programmes::{self, Programme, ProgrammeFilter};
use crate::domain::access::Actor;
use crate::domain::enums::{EnrolmentStatus, ProgrammeStatus, ProgrammeTheme, TourismTier};
use crate::domain::ids::Kind;
use crate::domain::regions::Region;
use crate::error::AppError;
use crate::store::aggregates::{self as store, Grain, Group};
use crate::store::{communities, enrolments, programmes as programme_store};

/// The most dimensions one aggregate groups by.
const MAX_DIMENSIONS: usize = 2;

/// What a dimension's key value is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum KeyKind {
    Tier,
    Province,
    /// Grouped by province in SQL, then merged into regions.
    Region,
    Period(Grain),
    Programme,
    Status,
    Partner,
    Curriculum,
    Theme,
    Mou,
}

/// One dimension: its SQL, what its key is, and the record type it reads.
struct Dimension {
    expr: SimpleExpr,
    key: KeyKind,
    reads: Kind,
}

/// Checks a `groupBy` list: at most two, no repeats, one calendar grain at most.
fn check_dimensions<T: PartialEq>(group_by: &[T], period: impl Fn(&T) -> bool) -> Result<(), AppError> {
    if group_by.len() > MAX_DIMENSIONS {
        return Err(AppError::bad_input("groupBy", format!("group by at most {MAX_DIMENSIONS} dimensions")));
    }
    if group_by.iter().enumerate().any(|(i, d)| group_by[..i].contains(d)) {
        return Err(AppError::bad_input("groupBy", "a dimension is repeated"));
    }
    if group_by.iter().filter(|d| period(d)).count() > 1 {
        return Err(AppError::bad_input("groupBy", "group by one month or quarter at most"));
    }
    Ok(())
}

/// Checks the caller may read what the dimensions read.
fn check_access(ctx: &Context<'_>, dimensions: &[Dimension]) -> Result<(), AppError> {
    for d in dimensions {
        ctx.reader(d.reads)?;
    }
    Ok(())
}

/// Merges groups whose keys become equal once provinces are read as regions.
fn regions(mut groups: Vec<Group>, keys: &[KeyKind]) -> Vec<Group> {
    let Some(at) = keys.iter().position(|k| *k == KeyKind::Region) else {
        return groups;
    };
    for g in &mut groups {
        g.keys[at] = g.keys[at].as_deref().and_then(Region::of_province).map(|r| format!("{r:?}"));
    }
    let mut merged: Vec<Group> = Vec::new();
    for g in groups {
        match merged.iter_mut().find(|m| m.keys == g.keys) {
            Some(m) => {
                m.count += g.count;
                m.communities += g.communities;
                m.sum += g.sum;
                m.reported += g.reported;
            }
            None => merged.push(g),
        }
    }
    merged
}

/// Orders groups by their keys (ids as numbers, so in creation order),
/// groups without a value last.
fn sorted(mut groups: Vec<Group>) -> Vec<Group> {
    fn order(x: &Option<String>, y: &Option<String>) -> std::cmp::Ordering {
        match (x, y) {
            (Some(x), Some(y)) => match (x.parse::<i64>(), y.parse::<i64>()) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => x.cmp(y),
            },
            _ => x.is_none().cmp(&y.is_none()),
        }
    }
    groups.sort_by(|a, b| {
        a.keys.iter().zip(&b.keys).map(|(x, y)| order(x, y)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
    });
    groups
}

/// A group's key, as the GraphQL key types read it.
#[derive(Clone, Default)]
struct Key {
    tier: Option<TourismTier>,
    province: Option<String>,
    region: Option<Region>,
    month: Option<String>,
    quarter: Option<String>,
    programme: Option<i64>,
    status: Option<String>,
    partner: Option<i64>,
    curriculum: Option<i64>,
    theme: Option<ProgrammeTheme>,
    mou: Option<i64>,
}

impl Key {
    fn read(kinds: &[KeyKind], values: &[Option<String>]) -> Key {
        let mut key = Key::default();
        for (kind, value) in kinds.iter().zip(values) {
            let Some(v) = value.clone() else { continue };
            let id = || v.parse::<i64>().ok();
            match kind {
                KeyKind::Tier => key.tier = enum_value(&v),
                KeyKind::Province => key.province = Some(v),
                KeyKind::Region => key.region = Region::ALL.into_iter().find(|r| format!("{r:?}") == v),
                KeyKind::Period(Grain::Month) => key.month = Some(v),
                KeyKind::Period(Grain::Quarter) => key.quarter = Some(v),
                KeyKind::Programme => key.programme = id(),
                KeyKind::Status => key.status = Some(v),
                KeyKind::Partner => key.partner = id(),
                KeyKind::Curriculum => key.curriculum = id(),
                KeyKind::Theme => key.theme = enum_value(&v),
                KeyKind::Mou => key.mou = id(),
            }
        }
        key
    }

    fn province(&self, ctx: &Context<'_>) -> Result<Option<Province>> {
        let Some(code) = &self.province else { return Ok(None) };
        Ok(ctx.provinces()?.by_code.get(code).cloned().map(Province))
    }
}

/// A stored enum value read back from its text.
fn enum_value<T: sea_orm::ActiveEnum<Value = String>>(text: &str) -> Option<T> {
    T::try_from_value(&text.to_owned()).ok()
}

/// Groups `group_by` would make, read with the caller's access (`reads`:
/// the record type's read scope).
async fn run<F, Fut>(ctx: &Context<'_>, dimensions: Vec<Dimension>, query: F) -> Result<Vec<(Key, Group)>>
where
    F: FnOnce(Vec<SimpleExpr>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<Group>, AppError>>,
{
    check_access(ctx, &dimensions)?;
    let kinds: Vec<KeyKind> = dimensions.iter().map(|d| d.key).collect();
    let groups = query(dimensions.into_iter().map(|d| d.expr).collect()).await?;
    let groups = sorted(regions(groups, &kinds));
    Ok(groups.into_iter().map(|g| (Key::read(&kinds, &g.keys), g)).collect())
}

fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

// ---------------------------------------------------------------- communities

/// What communities can be grouped by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum CommunityDimension {
    /// CDD's tourism tier (no value: not classified).
    Tier,
    /// The province.
    Province,
    /// The region of the province.
    Region,
    /// The month the community was recorded (Thai time), e.g. `2026-03`.
    CreatedMonth,
    /// The quarter the community was recorded (Thai time), e.g. `2026-Q1`.
    CreatedQuarter,
    /// The month CDD assessed its tier (no value: not assessed).
    AssessedMonth,
    /// The quarter CDD assessed its tier (no value: not assessed).
    AssessedQuarter,
}

impl CommunityDimension {
    fn is_period(&self) -> bool {
        !matches!(self, Self::Tier | Self::Province | Self::Region)
    }

    fn dimension(self, backend: DbBackend) -> Dimension {
        let (expr, key) = match self {
            Self::Tier => (store::text("communities", "tourism_tier"), KeyKind::Tier),
            Self::Province => (store::text("communities", "province_code"), KeyKind::Province),
            Self::Region => (store::text("communities", "province_code"), KeyKind::Region),
            Self::CreatedMonth => period(backend, "communities", "created_at", Grain::Month),
            Self::CreatedQuarter => period(backend, "communities", "created_at", Grain::Quarter),
            Self::AssessedMonth => period(backend, "communities", "tier_assessed_at", Grain::Month),
            Self::AssessedQuarter => period(backend, "communities", "tier_assessed_at", Grain::Quarter),
        };
        Dimension { expr, key, reads: Kind::Community }
    }
}

/// A timestamp column's month or quarter in Thai time.
fn period(backend: DbBackend, table: &str, column: &str, grain: Grain) -> (SimpleExpr, KeyKind) {
    (store::period(backend, table, column, grain, true), KeyKind::Period(grain))
}

/// The key of a group of communities: the values of the dimensions grouped
/// by (the others are null).
pub struct CommunityGroupKey(Key);

/// The key of a group of communities: the values of the dimensions grouped
/// by (the others are null).
#[Object]
impl CommunityGroupKey {
    /// The tier (TIER).
    async fn tier(&self) -> Option<TourismTier> {
        self.0.tier
    }
    /// The province (PROVINCE).
    async fn province(&self, ctx: &Context<'_>) -> Result<Option<Province>> {
        self.0.province(ctx)
    }
    /// The region (REGION).
    async fn region(&self) -> Option<Region> {
        self.0.region
    }
    /// The month, `YYYY-MM` (CREATED_MONTH, ASSESSED_MONTH).
    async fn month(&self) -> Option<&str> {
        self.0.month.as_deref()
    }
    /// The quarter, `YYYY-Qn` (CREATED_QUARTER, ASSESSED_QUARTER).
    async fn quarter(&self) -> Option<&str> {
        self.0.quarter.as_deref()
    }
}

/// Figures of a group of communities.
pub struct CommunityGroup(Key, Group);

/// Figures of a group of communities.
#[Object]
impl CommunityGroup {
    /// The group's key.
    async fn key(&self) -> CommunityGroupKey {
        CommunityGroupKey(self.0.clone())
    }
    /// How many communities.
    async fn count(&self) -> i32 {
        count(self.1.count)
    }
    /// Their households added up (communities with no household count add nothing).
    async fn households(&self) -> i32 {
        count(self.1.sum)
    }
    /// How many of them have a household count.
    async fn households_reported(&self) -> i32 {
        count(self.1.reported)
    }
}

/// Communities counted and summed, in groups.
pub struct CommunityAggregate {
    filter: communities::Filter,
    group_by: Vec<CommunityDimension>,
}

/// Communities counted and summed, in groups.
#[Object]
impl CommunityAggregate {
    /// Every community the filter admits, as one group.
    async fn total(&self, ctx: &Context<'_>) -> Result<CommunityGroup> {
        let mut groups = community_groups(ctx, &self.filter, &[]).await?;
        let (key, group) = groups.pop().unwrap_or_default();
        Ok(CommunityGroup(key, group))
    }
    /// One group per key that has communities, ordered by key (no value last).
    async fn groups(&self, ctx: &Context<'_>) -> Result<Vec<CommunityGroup>> {
        let groups = community_groups(ctx, &self.filter, &self.group_by).await?;
        Ok(groups.into_iter().map(|(k, g)| CommunityGroup(k, g)).collect())
    }
}

async fn community_groups(
    ctx: &Context<'_>,
    filter: &communities::Filter,
    group_by: &[CommunityDimension],
) -> Result<Vec<(Key, Group)>> {
    let store = ctx.store()?;
    let dimensions = group_by.iter().map(|d| d.dimension(store.backend())).collect();
    let select = communities::filtered(filter)?;
    run(ctx, dimensions, |exprs| async move { store::communities(store, select, &exprs).await }).await
}

// ---------------------------------------------------------------- enrolments

/// What enrolments can be grouped by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum EnrolmentDimension {
    /// The programme.
    Programme,
    /// The enrolment's status.
    Status,
    /// The partner that nominated the community.
    NominatingPartner,
    /// The curriculum followed (no value: none).
    Curriculum,
    /// The programme's theme.
    Theme,
    /// The community's tier (needs `communities:read`).
    Tier,
    /// The community's province (needs `communities:read`).
    Province,
    /// The region of the community's province (needs `communities:read`).
    Region,
    /// The month of the nomination (Thai time), e.g. `2026-03`.
    NominatedMonth,
    /// The quarter of the nomination (Thai time), e.g. `2026-Q1`.
    NominatedQuarter,
}

impl EnrolmentDimension {
    fn is_period(&self) -> bool {
        matches!(self, Self::NominatedMonth | Self::NominatedQuarter)
    }

    fn dimension(self, backend: DbBackend) -> Dimension {
        let (expr, key, reads) = match self {
            Self::Programme => (store::id_text("enrolments", "programme_id"), KeyKind::Programme, Kind::Enrolment),
            Self::Status => (store::text("enrolments", "status"), KeyKind::Status, Kind::Enrolment),
            Self::NominatingPartner => {
                (store::id_text("enrolments", "nominated_by"), KeyKind::Partner, Kind::Enrolment)
            }
            Self::Curriculum => (store::id_text("enrolments", "curriculum_id"), KeyKind::Curriculum, Kind::Enrolment),
            Self::Theme => (store::text("programmes", "theme"), KeyKind::Theme, Kind::Programme),
            Self::Tier => (store::text("communities", "tourism_tier"), KeyKind::Tier, Kind::Community),
            Self::Province => (store::text("communities", "province_code"), KeyKind::Province, Kind::Community),
            Self::Region => (store::text("communities", "province_code"), KeyKind::Region, Kind::Community),
            Self::NominatedMonth => {
                let (e, k) = period(backend, "enrolments", "nominated_at", Grain::Month);
                (e, k, Kind::Enrolment)
            }
            Self::NominatedQuarter => {
                let (e, k) = period(backend, "enrolments", "nominated_at", Grain::Quarter);
                (e, k, Kind::Enrolment)
            }
        };
        Dimension { expr, key, reads }
    }
}

/// The key of a group of enrolments: the values of the dimensions grouped
/// by (the others are null).
pub struct EnrolmentGroupKey(Key);

/// The key of a group of enrolments: the values of the dimensions grouped
/// by (the others are null).
#[Object]
impl EnrolmentGroupKey {
    /// The programme (PROGRAMME).
    async fn programme(&self, ctx: &Context<'_>) -> Result<Option<Programme>> {
        match self.0.programme {
            Some(id) => Ok(programmes::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The status (STATUS).
    async fn status(&self) -> Option<EnrolmentStatus> {
        self.0.status.as_deref().and_then(enum_value)
    }
    /// The nominating partner (NOMINATING_PARTNER).
    async fn nominating_partner(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        match self.0.partner {
            Some(id) => Ok(Some(Organization(organization(ctx, id).await?))),
            None => Ok(None),
        }
    }
    /// The curriculum (CURRICULUM).
    async fn curriculum(&self, ctx: &Context<'_>) -> Result<Option<Curriculum>> {
        match self.0.curriculum {
            Some(id) => Ok(curricula::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The programme's theme (THEME).
    async fn theme(&self) -> Option<ProgrammeTheme> {
        self.0.theme
    }
    /// The community's tier (TIER).
    async fn tier(&self) -> Option<TourismTier> {
        self.0.tier
    }
    /// The community's province (PROVINCE).
    async fn province(&self, ctx: &Context<'_>) -> Result<Option<Province>> {
        self.0.province(ctx)
    }
    /// The community's region (REGION).
    async fn region(&self) -> Option<Region> {
        self.0.region
    }
    /// The nomination's month, `YYYY-MM` (NOMINATED_MONTH).
    async fn month(&self) -> Option<&str> {
        self.0.month.as_deref()
    }
    /// The nomination's quarter, `YYYY-Qn` (NOMINATED_QUARTER).
    async fn quarter(&self) -> Option<&str> {
        self.0.quarter.as_deref()
    }
}

/// Figures of a group of enrolments.
pub struct EnrolmentGroup(Key, Group);

/// Figures of a group of enrolments.
#[Object]
impl EnrolmentGroup {
    /// The group's key.
    async fn key(&self) -> EnrolmentGroupKey {
        EnrolmentGroupKey(self.0.clone())
    }
    /// How many enrolments.
    async fn count(&self) -> i32 {
        count(self.1.count)
    }
    /// How many distinct communities they enrol.
    async fn communities(&self) -> i32 {
        count(self.1.communities)
    }
    /// The households of those communities, each community once: the
    /// households the group reached (needs `communities:read`; null and
    /// FORBIDDEN without it).
    async fn households(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        ctx.reader(Kind::Community)?;
        Ok(Some(count(self.1.sum)))
    }
    /// How many of those communities have a household count.
    async fn households_reported(&self) -> i32 {
        count(self.1.reported)
    }
}

/// Enrolments counted and summed, in groups.
pub struct EnrolmentAggregate {
    filter: enrolments::Filter,
    group_by: Vec<EnrolmentDimension>,
}

/// Enrolments counted and summed, in groups.
#[Object]
impl EnrolmentAggregate {
    /// Every enrolment the filter admits, as one group.
    async fn total(&self, ctx: &Context<'_>) -> Result<EnrolmentGroup> {
        let mut groups = enrolment_groups(ctx, &self.filter, &[]).await?;
        let (key, group) = groups.pop().unwrap_or_default();
        Ok(EnrolmentGroup(key, group))
    }
    /// One group per key that has enrolments, ordered by key (no value last).
    async fn groups(&self, ctx: &Context<'_>) -> Result<Vec<EnrolmentGroup>> {
        let groups = enrolment_groups(ctx, &self.filter, &self.group_by).await?;
        Ok(groups.into_iter().map(|(k, g)| EnrolmentGroup(k, g)).collect())
    }
}

async fn enrolment_groups(
    ctx: &Context<'_>,
    filter: &enrolments::Filter,
    group_by: &[EnrolmentDimension],
) -> Result<Vec<(Key, Group)>> {
    let store = ctx.store()?;
    let dimensions = group_by.iter().map(|d| d.dimension(store.backend())).collect();
    let select = enrolments::filtered(filter);
    run(ctx, dimensions, |exprs| async move { store::enrolments(store, select, &exprs).await }).await
}

// ---------------------------------------------------------------- programmes

/// What programmes can be grouped by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ProgrammeDimension {
    /// The theme.
    Theme,
    /// The status.
    Status,
    /// The lead organisation.
    Lead,
    /// The MOU it runs under (no value: none, or one you may not see).
    Mou,
    /// The month it starts, e.g. `2026-03` (no value: not set).
    StartsMonth,
    /// The quarter it starts, e.g. `2026-Q1` (no value: not set).
    StartsQuarter,
}

impl ProgrammeDimension {
    fn is_period(&self) -> bool {
        matches!(self, Self::StartsMonth | Self::StartsQuarter)
    }

    fn dimension(self, backend: DbBackend, actor: &Actor) -> Dimension {
        let (expr, key) = match self {
            Self::Theme => (store::text("programmes", "theme"), KeyKind::Theme),
            Self::Status => (store::text("programmes", "status"), KeyKind::Status),
            Self::Lead => (store::id_text("programmes", "lead_id"), KeyKind::Partner),
            Self::Mou => (store::visible_mou(actor), KeyKind::Mou),
            // A date, not a timestamp: no time zone.
            Self::StartsMonth => {
                (store::period(backend, "programmes", "starts_on", Grain::Month, false), KeyKind::Period(Grain::Month))
            }
            Self::StartsQuarter => (
                store::period(backend, "programmes", "starts_on", Grain::Quarter, false),
                KeyKind::Period(Grain::Quarter),
            ),
        };
        Dimension { expr, key, reads: if key == KeyKind::Mou { Kind::Mou } else { Kind::Programme } }
    }
}

/// The key of a group of programmes: the values of the dimensions grouped
/// by (the others are null).
pub struct ProgrammeGroupKey(Key);

/// The key of a group of programmes: the values of the dimensions grouped
/// by (the others are null).
#[Object]
impl ProgrammeGroupKey {
    /// The theme (THEME).
    async fn theme(&self) -> Option<ProgrammeTheme> {
        self.0.theme
    }
    /// The status (STATUS).
    async fn status(&self) -> Option<ProgrammeStatus> {
        self.0.status.as_deref().and_then(enum_value)
    }
    /// The lead organisation (LEAD).
    async fn lead(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        match self.0.partner {
            Some(id) => Ok(Some(Organization(organization(ctx, id).await?))),
            None => Ok(None),
        }
    }
    /// The MOU (MOU).
    async fn mou(&self, ctx: &Context<'_>) -> Result<Option<Mou>> {
        match self.0.mou {
            Some(id) => Ok(mous::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The month it starts, `YYYY-MM` (STARTS_MONTH).
    async fn month(&self) -> Option<&str> {
        self.0.month.as_deref()
    }
    /// The quarter it starts, `YYYY-Qn` (STARTS_QUARTER).
    async fn quarter(&self) -> Option<&str> {
        self.0.quarter.as_deref()
    }
}

/// Figures of a group of programmes.
pub struct ProgrammeGroup(Key, Group);

/// Figures of a group of programmes.
#[Object]
impl ProgrammeGroup {
    /// The group's key.
    async fn key(&self) -> ProgrammeGroupKey {
        ProgrammeGroupKey(self.0.clone())
    }
    /// How many programmes.
    async fn count(&self) -> i32 {
        count(self.1.count)
    }
    /// Their capacities added up (programmes without a capacity add nothing).
    async fn capacity(&self) -> i32 {
        count(self.1.sum)
    }
    /// How many of them have a capacity.
    async fn capacity_reported(&self) -> i32 {
        count(self.1.reported)
    }
}

/// Programmes counted and summed, in groups.
pub struct ProgrammeAggregate {
    filter: programme_store::Filter,
    group_by: Vec<ProgrammeDimension>,
}

/// Programmes counted and summed, in groups.
#[Object]
impl ProgrammeAggregate {
    /// Every programme the filter admits, as one group.
    async fn total(&self, ctx: &Context<'_>) -> Result<ProgrammeGroup> {
        let mut groups = programme_groups(ctx, &self.filter, &[]).await?;
        let (key, group) = groups.pop().unwrap_or_default();
        Ok(ProgrammeGroup(key, group))
    }
    /// One group per key that has programmes, ordered by key (no value last).
    async fn groups(&self, ctx: &Context<'_>) -> Result<Vec<ProgrammeGroup>> {
        let groups = programme_groups(ctx, &self.filter, &self.group_by).await?;
        Ok(groups.into_iter().map(|(k, g)| ProgrammeGroup(k, g)).collect())
    }
}

async fn programme_groups(
    ctx: &Context<'_>,
    filter: &programme_store::Filter,
    group_by: &[ProgrammeDimension],
) -> Result<Vec<(Key, Group)>> {
    let store = ctx.store()?;
    let actor = ctx.actor()?;
    let dimensions = group_by.iter().map(|d| d.dimension(store.backend(), actor)).collect();
    let select = programme_store::filtered(filter);
    run(ctx, dimensions, |exprs| async move { store::programmes(store, select, &exprs).await }).await
}

// ---------------------------------------------------------------- root fields

/// The aggregate root fields.
#[derive(Default)]
pub struct AggregateQuery;

/// The aggregate root fields.
#[Object]
impl AggregateQuery {
    /// Communities counted and summed, grouped by up to two dimensions (none:
    /// `groups` is the total). Takes the filter of `communities`; needs
    /// `communities:read`.
    async fn community_aggregate(
        &self,
        ctx: &Context<'_>,
        filter: Option<CommunityFilter>,
        #[graphql(default)] group_by: Vec<CommunityDimension>,
    ) -> Result<CommunityAggregate> {
        ctx.reader(Kind::Community)?;
        check_dimensions(&group_by, CommunityDimension::is_period)?;
        let (filter, _) = list_query(filter, None)?;
        Ok(CommunityAggregate { filter, group_by })
    }

    /// Enrolments counted and summed, grouped by up to two dimensions (none:
    /// `groups` is the total). Takes the filter of `enrolments`; needs
    /// `enrolments:read`, and `communities:read` for community dimensions
    /// and households.
    async fn enrolment_aggregate(
        &self,
        ctx: &Context<'_>,
        filter: Option<EnrolmentFilter>,
        #[graphql(default)] group_by: Vec<EnrolmentDimension>,
    ) -> Result<EnrolmentAggregate> {
        ctx.reader(Kind::Enrolment)?;
        check_dimensions(&group_by, EnrolmentDimension::is_period)?;
        let filter = enrolments::Filter::try_from(filter.unwrap_or_default())?;
        Ok(EnrolmentAggregate { filter, group_by })
    }

    /// Programmes counted and summed, grouped by up to two dimensions (none:
    /// `groups` is the total). Takes the filter of `programmes`; needs
    /// `programmes:read` (and `mous:read` to group by MOU).
    async fn programme_aggregate(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProgrammeFilter>,
        #[graphql(default)] group_by: Vec<ProgrammeDimension>,
    ) -> Result<ProgrammeAggregate> {
        ctx.reader(Kind::Programme)?;
        check_dimensions(&group_by, ProgrammeDimension::is_period)?;
        let f = filter.unwrap_or_default();
        let filter = programme_store::Filter { themes: f.themes, statuses: f.statuses, lead_code: f.lead_code };
        Ok(ProgrammeAggregate { filter, group_by })
    }
}
