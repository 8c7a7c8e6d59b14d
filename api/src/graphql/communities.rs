//! Communities: the type, its queries and mutations.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::community;

use super::connection::{self, connection};
use super::context::{Ctx, organization};
use super::enrolments::{EnrolmentConnection, EnrolmentFilter, nested_enrolment_page};
use super::organizations::{Organization, Province};
use crate::domain::access;
use crate::domain::enums::{AwardCategory, OrderDirection, TourismTier};
use crate::domain::ids::{self, Kind};
use crate::domain::regions::Region;
use crate::error::AppError;
use crate::graphql::inputs::{ClassifyCommunityInput, CreateCommunityInput, UpdateCommunityInput};
use crate::store::communities::{self as store, OrderField};
use crate::store::nested::Parent;

/// A community in CDD's network.
#[derive(Clone)]
pub struct Community(pub std::sync::Arc<community::Model>);

/// Contact details: personal data, readable only with the `communities:pii` scope.
#[derive(SimpleObject)]
pub struct Contact {
    /// The contact person's name.
    pub name: String,
    /// A phone number.
    pub phone: Option<String>,
    /// An email address.
    pub email: Option<String>,
}

/// A Model Community Enterprise award won by a community.
#[derive(SimpleObject)]
pub struct Award {
    /// The year it was won.
    pub year: i32,
    /// The award's category.
    pub category: AwardCategory,
    /// The award's title.
    pub title: Option<String>,
}

/// A community in CDD's network.
#[Object]
impl Community {
    /// The community's global id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(Kind::Community, self.0.id))
    }
    /// Its unique code.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Its Thai name.
    async fn name_th(&self) -> &str {
        &self.0.name_th
    }
    /// Its English name.
    async fn name_en(&self) -> Option<&str> {
        self.0.name_en.as_deref()
    }
    /// The province it is in.
    async fn province(&self, ctx: &Context<'_>) -> Result<Province> {
        let provinces = ctx.provinces()?;
        let found = provinces.by_code.get(&self.0.province_code).cloned();
        Ok(Province(found.ok_or_else(|| AppError::internal("community in an unknown province"))?))
    }
    /// The district (amphoe).
    async fn district(&self) -> Option<&str> {
        self.0.district.as_deref()
    }
    /// The subdistrict (tambon).
    async fn subdistrict(&self) -> Option<&str> {
        self.0.subdistrict.as_deref()
    }
    /// The village number (moo).
    async fn village_no(&self) -> Option<i32> {
        self.0.village_no
    }
    /// How many households.
    async fn households(&self) -> Option<i32> {
        self.0.households
    }
    /// A description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// CDD's tourism tier; null until classified.
    async fn tourism_tier(&self) -> Option<TourismTier> {
        self.0.tourism_tier
    }
    /// The organisation that assessed the tier.
    async fn tier_assessed_by(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        match self.0.tier_assessed_by {
            Some(id) => Ok(Some(Organization(organization(ctx, id).await?))),
            None => Ok(None),
        }
    }
    /// When the tier was assessed.
    async fn tier_assessed_at(&self) -> Option<DateTime<Utc>> {
        self.0.tier_assessed_at
    }
    /// Contact details: needs the `communities:pii` scope (null and FORBIDDEN without it).
    async fn contact(&self, ctx: &Context<'_>) -> Result<Option<Contact>> {
        let actor = ctx.actor()?;
        access::may_read_contacts(actor)?;
        if self.0.contact_name.is_some() {
            // Every contact a response returns is in the access log: noted
            // for the request (recorded once when it is answered), or, for
            // a live subscription's event, recorded now.
            match ctx.data_opt::<crate::governance::pii_log::RequestMeta>() {
                Some(meta) => meta.returned(self.0.id),
                None => {
                    let log = ctx.data::<std::sync::Arc<crate::governance::pii_log::PiiLog>>()?;
                    let meta = crate::governance::pii_log::RequestMeta { via: "subscription", ..Default::default() };
                    log.record(actor, &meta, [self.0.id]);
                }
            }
        }
        Ok(self.0.contact_name.clone().map(|name| Contact {
            name,
            phone: self.0.contact_phone.clone(),
            email: self.0.contact_email.clone(),
        }))
    }
    /// Awards won, oldest first.
    async fn awards(&self, ctx: &Context<'_>) -> Result<Vec<Award>> {
        let rows = ctx.loaders()?.awards_by_community.load_one(self.0.id).await?.unwrap_or_default();
        Ok(rows.iter().map(|a| Award { year: a.year, category: a.category, title: a.title.clone() }).collect())
    }
    /// The community's enrolments: needs `enrolments:read` (null and FORBIDDEN without it).
    async fn enrolments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<EnrolmentFilter>,
    ) -> Result<Option<EnrolmentConnection>> {
        nested_enrolment_page(ctx, Parent::Community, self.0.id, filter, connection::args(first, after, last, before))
            .await
            .map(Some)
    }
    /// Raised by one on every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

connection!(CommunityConnection, CommunityEdge, Community, community::Entity, "communities");

/// Which communities to list.
#[derive(InputObject, Default)]
pub struct CommunityFilter {
    /// Communities of any of these tiers.
    pub tiers: Option<Vec<TourismTier>>,
    /// Communities in any of these provinces (ISO codes).
    pub province_codes: Option<Vec<String>>,
    /// Communities in any of these regions.
    pub regions: Option<Vec<Region>>,
    /// A substring of nameTh, nameEn or code. Case, tone marks and other
    /// diacritics (่ ้ ๊ ๋ ็ ์, é) and NFC or NFD forms make no difference.
    pub search: Option<String>,
    /// Communities with an award of this category.
    pub award_category: Option<AwardCategory>,
    /// A programme id: communities with a live enrolment in it.
    pub enrolled_in: Option<ID>,
    /// True: communities that have not joined any programme (no enrolment,
    /// or only WITHDRAWN or DECLINED ones); false: those that have.
    pub not_enrolled: Option<bool>,
}

/// What to order communities by.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum CommunityOrderField {
    /// The Thai name.
    Name,
    /// The code.
    Code,
    /// The last change.
    UpdatedAt,
}

/// How to order communities.
#[derive(InputObject)]
pub struct CommunityOrder {
    /// The field.
    pub field: CommunityOrderField,
    /// The direction.
    pub direction: OrderDirection,
}

/// The store's filter and ordering for the arguments of `communities`
/// (shared by the resolver and the planned read).
pub fn list_query(
    filter: Option<CommunityFilter>,
    order_by: Option<CommunityOrder>,
) -> Result<(store::Filter, crate::store::keyset::SortKey), AppError> {
    let filter = filter.unwrap_or_default();
    let enrolled_in =
        filter.enrolled_in.as_ref().map(|id| ids::decode(Kind::Programme, id, "filter.enrolledIn")).transpose()?;
    let store_filter = store::Filter {
        tiers: filter.tiers,
        province_codes: filter.province_codes,
        search: filter.search,
        award_category: filter.award_category,
        enrolled_in,
        not_enrolled: filter.not_enrolled,
        region_provinces: filter.regions.map(|regions| Region::province_codes(&regions)),
    };
    let (field, direction) = match order_by {
        Some(o) => (o.field, o.direction),
        None => (CommunityOrderField::Code, OrderDirection::Asc),
    };
    let field = match field {
        CommunityOrderField::Name => OrderField::Name,
        CommunityOrderField::Code => OrderField::Code,
        CommunityOrderField::UpdatedAt => OrderField::UpdatedAt,
    };
    Ok((store_filter, store::sort_key(field, direction)))
}

/// Reads a community (needs `communities:read`), for `node` and nested fields.
pub async fn load(ctx: &Context<'_>, id: i64) -> Result<Option<Community>, AppError> {
    ctx.reader(Kind::Community)?;
    Ok(ctx.loaders()?.communities.load_one(id).await?.map(Community))
}

/// Queries about communities.
#[derive(Default)]
pub struct CommunityQuery;

/// Queries about communities.
#[Object]
impl CommunityQuery {
    /// Communities, filtered and ordered (by code by default).
    #[allow(clippy::too_many_arguments)]
    async fn communities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CommunityFilter>,
        order_by: Option<CommunityOrder>,
    ) -> Result<CommunityConnection> {
        ctx.reader(Kind::Community)?;
        let (store_filter, key) = list_query(filter, order_by)?;
        let select = store::filtered(&store_filter)?;
        let page =
            store::page(ctx.store()?, select.clone(), key, &connection::args(first, after, last, before)).await?;
        Ok(CommunityConnection::new(page, select))
    }

    /// One community, by id or code.
    async fn community(&self, ctx: &Context<'_>, id: Option<ID>, code: Option<String>) -> Result<Option<Community>> {
        ctx.reader(Kind::Community)?;
        match (id, code) {
            (Some(id), None) => Ok(load(ctx, ids::decode(Kind::Community, &id, "id")?).await?),
            (None, Some(code)) => Ok(store::by_code(ctx.store()?, &code).await?.map(|m| Community(m.into()))),
            _ => Err(AppError::bad_input("id", "give either id or code").into()),
        }
    }
}

/// Mutations of communities.
#[derive(Default)]
pub struct CommunityMutation;

/// Mutations of communities.
#[Object]
impl CommunityMutation {
    /// Creates a community (`communities:write`; contact needs `communities:pii`).
    async fn create_community(
        &self,
        ctx: &Context<'_>,
        input: CreateCommunityInput,
        idempotency_key: Option<String>,
    ) -> Result<Community> {
        let actor = ctx.writer(Kind::Community)?;
        let id = store::create(ctx.store()?, actor, input.parse()?, idempotency_key.as_deref()).await?;
        Ok(Community(super::context::reload::<community::Entity>(ctx, id, Kind::Community).await?.into()))
    }

    /// Updates a community (`communities:write`), checking `expectedVersion`.
    async fn update_community(&self, ctx: &Context<'_>, input: UpdateCommunityInput) -> Result<Community> {
        let actor = ctx.writer(Kind::Community)?;
        Ok(Community(store::update(ctx.store()?, actor, input.parse()?).await?.into()))
    }

    /// Sets or clears a community's tourism tier (`communities:classify`).
    async fn classify_community(&self, ctx: &Context<'_>, input: ClassifyCommunityInput) -> Result<Community> {
        let actor = ctx.actor()?;
        access::may_classify(actor)?;
        Ok(Community(store::classify(ctx.store()?, actor, input.parse()?).await?.into()))
    }

    /// Erases a community's contact on the data subject's request
    /// (`communities:write` and `communities:pii`): the contact becomes
    /// null, the change event's diff shows the erasure, and the old values
    /// are removed from every earlier change event of the community
    /// (replaced by `{"erased": true}`). Who changed the contact, and when,
    /// stays in the history.
    async fn erase_contact(&self, ctx: &Context<'_>, input: EraseContactInput) -> Result<Community> {
        let actor = ctx.writer(Kind::Community)?;
        let id = ids::decode(Kind::Community, &input.id, "id")?;
        Ok(Community(store::erase_contact(ctx.store()?, actor, id, input.expected_version).await?.into()))
    }
}

/// A contact to erase.
#[derive(InputObject)]
pub struct EraseContactInput {
    /// The community's global id.
    pub id: ID,
    /// The version the erasure is based on.
    pub expected_version: i32,
}
