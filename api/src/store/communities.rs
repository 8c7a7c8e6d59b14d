//! Communities: queries, creates, updates and classification.

use entity::{community, community_award, enrolment, province};
use sea_orm::sea_query::Query;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

use super::keyset::{self, Page, PageArgs, SortKey, SortValue};
use super::search::{contains_pattern, search_condition};
use super::versioned::{bump, current, diff};
use super::{Store, changes, commit_returning, idempotency, now};
use crate::domain::access::{Actor, Scope};
use crate::domain::enums::{AwardCategory, ChangeOperation, OrderDirection, TourismTier};
use crate::domain::ids::{self, Kind};
use crate::domain::inputs::{AwardInput, ContactInput, CreateCommunityInput, UpdateCommunityInput};
use crate::domain::lifecycle::ENDED_STATUSES;
use crate::domain::text::{self, limits};
use crate::error::{AppError, AppResult};

/// Which communities to list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub tiers: Option<Vec<TourismTier>>,
    pub province_codes: Option<Vec<String>>,
    pub search: Option<String>,
    pub award_category: Option<AwardCategory>,
    /// A programme id: communities with a live enrolment in it.
    pub enrolled_in: Option<i64>,
}

/// The orderings of the community list.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OrderField {
    Name,
    Code,
    UpdatedAt,
}

/// The keyset of an ordering.
pub fn sort_key(field: OrderField, direction: OrderDirection) -> SortKey {
    let descending = direction == OrderDirection::Desc;
    let (tag, column, value) = match (field, descending) {
        (OrderField::Name, false) => ("community.name.asc", "name_th", SortValue::Text),
        (OrderField::Name, true) => ("community.name.desc", "name_th", SortValue::Text),
        (OrderField::Code, false) => ("community.code.asc", "code", SortValue::Text),
        (OrderField::Code, true) => ("community.code.desc", "code", SortValue::Text),
        (OrderField::UpdatedAt, false) => ("community.updated.asc", "updated_at", SortValue::Time),
        (OrderField::UpdatedAt, true) => ("community.updated.desc", "updated_at", SortValue::Time),
    };
    SortKey { tag, column, value, descending }
}

/// The filtered (unordered, unpaged) selection.
pub fn filtered(filter: &Filter) -> AppResult<Select<community::Entity>> {
    let mut select = community::Entity::find();
    if let Some(tiers) = &filter.tiers {
        select = select.filter(community::Column::TourismTier.is_in(tiers.iter().map(|t| t.as_str())));
    }
    if let Some(codes) = &filter.province_codes {
        select = select.filter(community::Column::ProvinceCode.is_in(codes.iter().map(|c| c.trim().to_uppercase())));
    }
    if let Some(search) = &filter.search {
        let pattern = contains_pattern(search)?;
        select = select.filter(search_condition(
            &[community::Column::NameTh, community::Column::NameEn, community::Column::Code],
            &pattern,
        ));
    }
    if let Some(category) = filter.award_category {
        select = select.filter(
            community::Column::Id.in_subquery(
                Query::select()
                    .column(community_award::Column::CommunityId)
                    .from(community_award::Entity)
                    .and_where(community_award::Column::Category.eq(category.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(programme) = filter.enrolled_in {
        select = select.filter(
            community::Column::Id.in_subquery(
                Query::select()
                    .column(enrolment::Column::CommunityId)
                    .from(enrolment::Entity)
                    .and_where(enrolment::Column::ProgrammeId.eq(programme))
                    .and_where(enrolment::Column::Status.is_not_in(ENDED_STATUSES.map(|s| s.as_str())))
                    .to_owned(),
            ),
        );
    }
    Ok(select)
}

/// One page of communities.
pub async fn page(
    store: &Store,
    select: Select<community::Entity>,
    key: SortKey,
    args: &PageArgs,
) -> AppResult<Page<community::Model>> {
    let window = keyset::window(args, key)?;
    window
        .fetch(
            &store.db,
            select,
            |m| match key.column {
                "name_th" => Some(m.name_th.clone()),
                "code" => Some(m.code.clone()),
                _ => keyset::time_value(&m.updated_at),
            },
            |m| m.id,
        )
        .await
}

/// The community with `code`.
pub async fn by_code(store: &Store, code: &str) -> AppResult<Option<community::Model>> {
    Ok(community::Entity::find().filter(community::Column::Code.eq(code.trim().to_uppercase())).one(&store.db).await?)
}

async fn check_province<C: ConnectionTrait>(conn: &C, code: &str) -> AppResult<String> {
    let code = code.trim().to_uppercase();
    match province::Entity::find_by_id(code.clone()).one(conn).await? {
        Some(_) => Ok(code),
        None => Err(AppError::bad_input("provinceCode", format!("{code} is not a Thai province code (e.g. TH-57)"))),
    }
}

/// Validated contact columns (name, phone, email).
type ContactColumns = (Option<String>, Option<String>, Option<String>);

fn contact_columns(actor: &Actor, contact: &ContactInput) -> AppResult<ContactColumns> {
    actor.require(Scope::CommunitiesPii)?;
    Ok((
        Some(text::required("contact.name", &contact.name, limits::CONTACT_NAME)?),
        text::optional("contact.phone", contact.phone.as_deref(), limits::PHONE)?,
        text::email("contact.email", contact.email.as_deref())?,
    ))
}

fn validate_awards(awards: &[AwardInput]) -> AppResult<Vec<(i32, AwardCategory, Option<String>)>> {
    if awards.len() > 50 {
        return Err(AppError::bad_input("awards", "at most 50 awards"));
    }
    awards
        .iter()
        .map(|a| {
            if !(1950..=2100).contains(&a.year) {
                return Err(AppError::bad_input("awards.year", "year must be between 1950 and 2100"));
            }
            Ok((a.year, a.category, text::optional("awards.title", a.title.as_deref(), limits::NAME)?))
        })
        .collect()
}

async fn replace_awards<C: ConnectionTrait>(
    conn: &C,
    community_id: i64,
    awards: Vec<(i32, AwardCategory, Option<String>)>,
) -> AppResult<()> {
    // Awards are owned rows of the community (a value list), replaced whole;
    // the community itself is never deleted.
    community_award::Entity::delete_many()
        .filter(community_award::Column::CommunityId.eq(community_id))
        .exec(conn)
        .await?;
    for (year, category, title) in awards {
        community_award::ActiveModel {
            community_id: Set(community_id),
            year: Set(year),
            category: Set(category),
            title: Set(title),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// Creates a community; returns its id.
pub async fn create(store: &Store, actor: &Actor, input: CreateCommunityInput, key: Option<&str>) -> AppResult<i64> {
    actor.require(Scope::CommunitiesWrite)?;
    let code = text::code("code", &input.code)?;
    let name_th = text::required("nameTh", &input.name_th, limits::NAME)?;
    let name_en = text::optional("nameEn", input.name_en.as_deref(), limits::NAME)?;
    let district = text::optional("district", input.district.as_deref(), limits::PLACE)?;
    let subdistrict = text::optional("subdistrict", input.subdistrict.as_deref(), limits::PLACE)?;
    let village_no = text::non_negative("villageNo", input.village_no)?;
    let households = text::non_negative("households", input.households)?;
    let description = text::optional("description", input.description.as_deref(), limits::LONG)?;
    let contact = input.contact.as_ref().map(|c| contact_columns(actor, c)).transpose()?.unwrap_or_default();
    let awards = validate_awards(input.awards.as_deref().unwrap_or_default())?;
    let fingerprint_input = serde_json::to_value(&input).unwrap_or_default();
    let province_code = input.province_code.clone();
    let actor_for_tx = actor.clone();
    idempotency::create(
        store,
        actor,
        key,
        "createCommunity",
        Kind::Community,
        &fingerprint_input,
        Box::new(move |tx| {
            Box::pin(async move {
                let province_code = check_province(tx, &province_code).await?;
                let at = now();
                let created = community::ActiveModel {
                    code: Set(code),
                    name_th: Set(name_th),
                    name_en: Set(name_en),
                    province_code: Set(province_code),
                    district: Set(district),
                    subdistrict: Set(subdistrict),
                    village_no: Set(village_no),
                    households: Set(households),
                    description: Set(description),
                    tourism_tier: Set(None),
                    tier_assessed_by: Set(None),
                    tier_assessed_at: Set(None),
                    contact_name: Set(contact.0),
                    contact_phone: Set(contact.1),
                    contact_email: Set(contact.2),
                    created_by: Set(actor_for_tx.org_id),
                    version: Set(1),
                    created_at: Set(at),
                    updated_at: Set(at),
                    ..Default::default()
                }
                .insert(tx)
                .await?;
                replace_awards(tx, created.id, awards).await?;
                changes::record(tx, &actor_for_tx, ChangeOperation::Created, Kind::Community, created.id, &["*"])
                    .await?;
                Ok(created.id)
            })
        }),
    )
    .await
}

/// Updates a community; absent fields stay as they are.
pub async fn update(store: &Store, actor: &Actor, input: UpdateCommunityInput) -> AppResult<community::Model> {
    actor.require(Scope::CommunitiesWrite)?;
    let id = ids::decode(Kind::Community, &input.id, "id")?;
    let name_th = input.name_th.as_deref().map(|v| text::required("nameTh", v, limits::NAME)).transpose()?;
    let name_en = input.name_en.as_deref().map(|v| text::optional("nameEn", Some(v), limits::NAME)).transpose()?;
    let district = input.district.as_deref().map(|v| text::optional("district", Some(v), limits::PLACE)).transpose()?;
    let subdistrict =
        input.subdistrict.as_deref().map(|v| text::optional("subdistrict", Some(v), limits::PLACE)).transpose()?;
    let village_no = text::non_negative("villageNo", input.village_no)?;
    let households = text::non_negative("households", input.households)?;
    let description =
        input.description.as_deref().map(|v| text::optional("description", Some(v), limits::LONG)).transpose()?;
    let contact = input.contact.as_ref().map(|c| contact_columns(actor, c)).transpose()?;
    let awards = input.awards.as_deref().map(validate_awards).transpose()?;

    let tx = store.begin_write().await?;
    let cur: community::Model =
        current::<community::Entity, _>(&tx, Kind::Community, id, input.expected_version, |m| m.version).await?;
    let mut fields = Vec::new();
    let mut am = <community::ActiveModel as Default>::default();
    if let Some(v) = diff(&mut fields, "nameTh", &cur.name_th, name_th) {
        am.name_th = Set(v);
    }
    if let Some(v) = diff(&mut fields, "nameEn", &cur.name_en, name_en) {
        am.name_en = Set(v);
    }
    if let Some(v) = diff(&mut fields, "district", &cur.district, district) {
        am.district = Set(v);
    }
    if let Some(v) = diff(&mut fields, "subdistrict", &cur.subdistrict, subdistrict) {
        am.subdistrict = Set(v);
    }
    if let Some(v) = diff(&mut fields, "villageNo", &cur.village_no, village_no.map(Some)) {
        am.village_no = Set(v);
    }
    if let Some(v) = diff(&mut fields, "households", &cur.households, households.map(Some)) {
        am.households = Set(v);
    }
    if let Some(v) = diff(&mut fields, "description", &cur.description, description) {
        am.description = Set(v);
    }
    let current_contact = (cur.contact_name.clone(), cur.contact_phone.clone(), cur.contact_email.clone());
    if let Some((name, phone, email)) = diff(&mut fields, "contact", &current_contact, contact) {
        am.contact_name = Set(name);
        am.contact_phone = Set(phone);
        am.contact_email = Set(email);
    }
    if let Some(awards) = awards {
        let existing = community_award::Entity::find()
            .filter(community_award::Column::CommunityId.eq(id))
            .all(&tx)
            .await?
            .into_iter()
            .map(|a| (a.year, a.category, a.title))
            .collect::<Vec<_>>();
        let wanted: Vec<_> = awards.iter().map(|(y, c, t)| (*y, *c, t.clone())).collect();
        if existing != wanted {
            fields.push("awards");
            replace_awards(&tx, id, awards).await?;
        }
    }
    if fields.is_empty() {
        return commit_returning::<community::Entity>(store, tx, id).await;
    }
    bump(&tx, am, id, input.expected_version, Kind::Community).await?;
    changes::record(&tx, actor, ChangeOperation::Updated, Kind::Community, id, &fields).await?;
    commit_returning::<community::Entity>(store, tx, id).await
}

/// Sets (or clears) a community's tourism tier, noting who assessed it.
pub async fn classify(
    store: &Store,
    actor: &Actor,
    id: i64,
    expected_version: i32,
    tier: Option<TourismTier>,
) -> AppResult<community::Model> {
    actor.require(Scope::CommunitiesClassify)?;
    let tx = store.begin_write().await?;
    let cur: community::Model =
        current::<community::Entity, _>(&tx, Kind::Community, id, expected_version, |m| m.version).await?;
    let am = community::ActiveModel {
        tourism_tier: Set(tier),
        tier_assessed_by: Set(tier.as_ref().map(|_| actor.org_id)),
        tier_assessed_at: Set(tier.as_ref().map(|_| now())),
        ..Default::default()
    };
    let mut fields = vec!["tierAssessedAt", "tierAssessedBy"];
    if cur.tourism_tier != tier {
        fields.push("tourismTier");
    }
    bump(&tx, am, id, expected_version, Kind::Community).await?;
    changes::record(&tx, actor, ChangeOperation::Updated, Kind::Community, id, &fields).await?;
    commit_returning::<community::Entity>(store, tx, id).await
}
