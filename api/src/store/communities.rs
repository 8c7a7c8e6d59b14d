//! Communities: queries, creates, updates and classification.

use entity::{community, community_award, enrolment, province};
use sea_orm::sea_query::Query;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

use super::keyset::{self, Page, PageArgs, SortKey, SortValue};
use super::search::{self, contains_pattern};
use super::versioned::{bump, check_version, diff};
use super::{Store, changes, commit_returning, idempotency, now};
use crate::domain::access::{self, Actor};
use crate::domain::commands::{Award, Classification, CommunityChanges, Contact, NewCommunity};
use crate::domain::enums::{AwardCategory, ChangeOperation, OrderDirection, TourismTier};
use crate::domain::ids::Kind;
use crate::domain::lifecycle::ENDED_STATUSES;

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
    /// `Some(true)`: communities with no live enrolment in any programme;
    /// `Some(false)`: those with one.
    pub not_enrolled: Option<bool>,
    /// The provinces of the regions asked for (ISO codes).
    pub region_provinces: Option<Vec<String>>,
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
        (OrderField::Name, false) => ("community.name.asc", "name_th", SortValue::ThaiText),
        (OrderField::Name, true) => ("community.name.desc", "name_th", SortValue::ThaiText),
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
    if let Some(codes) = &filter.region_provinces {
        select = select.filter(community::Column::ProvinceCode.is_in(codes.iter().cloned()));
    }
    if let Some(search) = &filter.search {
        let pattern = contains_pattern(search)?;
        select = select.filter(search::matches(community::Column::SearchText, &pattern));
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
    if let Some(not_enrolled) = filter.not_enrolled {
        let live = Query::select()
            .column(enrolment::Column::CommunityId)
            .from(enrolment::Entity)
            .and_where(enrolment::Column::Status.is_not_in(ENDED_STATUSES.map(|s| s.as_str())))
            .to_owned();
        select = select.filter(if not_enrolled {
            community::Column::Id.not_in_subquery(live)
        } else {
            community::Column::Id.in_subquery(live)
        });
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

/// Contact columns (name, phone, email).
type ContactColumns = (Option<String>, Option<String>, Option<String>);

fn contact_columns(contact: Option<&Contact>) -> ContactColumns {
    match contact {
        Some(c) => (Some(c.name.clone()), c.phone.clone(), c.email.clone()),
        None => (None, None, None),
    }
}

async fn replace_awards<C: ConnectionTrait>(conn: &C, community_id: i64, awards: &[Award]) -> AppResult<()> {
    // Awards are owned rows of the community (a value list), replaced whole;
    // the community itself is never deleted.
    community_award::Entity::delete_many()
        .filter(community_award::Column::CommunityId.eq(community_id))
        .exec(conn)
        .await?;
    for award in awards {
        community_award::ActiveModel {
            community_id: Set(community_id),
            year: Set(award.year),
            category: Set(award.category),
            title: Set(award.title.clone()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// Creates a community (the `createCommunity` mutation); returns its id.
/// A repeated idempotency key returns the first call's id.
pub async fn create(store: &Store, actor: &Actor, new: NewCommunity, key: Option<&str>) -> AppResult<i64> {
    access::may_write(actor, Kind::Community)?;
    let fingerprint = serde_json::to_value(&new).unwrap_or_default();
    let actor_tx = actor.clone();
    idempotency::create(
        store,
        actor,
        key,
        "createCommunity",
        Kind::Community,
        &fingerprint,
        Box::new(move |tx| Box::pin(async move { create_in(tx, &actor_tx, &new).await })),
    )
    .await
}

/// Creates a community inside `conn`: [`create_many_in`] with one.
pub async fn create_in<C: ConnectionTrait>(conn: &C, actor: &Actor, new: &NewCommunity) -> AppResult<i64> {
    Ok(create_many_in(conn, actor, std::slice::from_ref(new)).await?[0])
}

/// Creates communities inside `conn`, the one write path of new communities
/// (API, CSV import, demo data): scope and personal-data rules, the province
/// check (one query for the batch), version 1 and a `CREATED` event each.
/// Returns the ids in order.
pub async fn create_many_in<C: ConnectionTrait>(conn: &C, actor: &Actor, news: &[NewCommunity]) -> AppResult<Vec<i64>> {
    access::may_write(actor, Kind::Community)?;
    if news.iter().any(|n| n.contact.is_some()) {
        access::may_read_contacts(actor)?;
    }
    if news.iter().any(|n| n.tier.is_some()) {
        access::may_classify(actor)?;
    }
    check_provinces(conn, news.iter().map(|n| n.province_code.as_str())).await?;
    let at = now();
    let mut ids = Vec::with_capacity(news.len());
    for chunk in news.chunks(200) {
        let rows = chunk.iter().map(|new| {
            let contact = contact_columns(new.contact.as_ref());
            community::ActiveModel {
                code: Set(new.code.clone()),
                name_th: Set(new.name_th.clone()),
                name_en: Set(new.name_en.clone()),
                province_code: Set(new.province_code.clone()),
                district: Set(new.district.clone()),
                subdistrict: Set(new.subdistrict.clone()),
                village_no: Set(new.village_no),
                households: Set(new.households),
                description: Set(new.description.clone()),
                tourism_tier: Set(new.tier),
                tier_assessed_by: Set(new.tier.map(|_| actor.org_id)),
                tier_assessed_at: Set(new.tier.map(|_| at)),
                contact_name: Set(contact.0),
                contact_phone: Set(contact.1),
                contact_email: Set(contact.2),
                search_text: Set(Some(search::record_key(&new.name_th, new.name_en.as_deref(), &new.code))),
                created_by: Set(actor.org_id),
                version: Set(1),
                created_at: Set(at),
                updated_at: Set(at),
                ..Default::default()
            }
        });
        // One statement per chunk; RETURNING's row order is not guaranteed,
        // so ids are matched back by (unique) code.
        let created: std::collections::HashMap<String, i64> = community::Entity::insert_many(rows)
            .exec_with_returning(conn)
            .await?
            .into_iter()
            .map(|m| (m.code, m.id))
            .collect();
        let chunk_ids: Vec<i64> = chunk
            .iter()
            .map(|new| created.get(&new.code).copied().ok_or_else(|| AppError::internal("insert returned no row")))
            .collect::<AppResult<_>>()?;
        for (new, id) in chunk.iter().zip(&chunk_ids) {
            if !new.awards.is_empty() {
                replace_awards(conn, *id, &new.awards).await?;
            }
        }
        changes::record_created(conn, actor, Kind::Community, &chunk_ids).await?;
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

/// `BAD_USER_INPUT` unless every code is a Thai province code.
async fn check_provinces<'a, C: ConnectionTrait>(conn: &C, codes: impl Iterator<Item = &'a str>) -> AppResult<()> {
    let mut wanted: Vec<&str> = codes.collect();
    wanted.sort_unstable();
    wanted.dedup();
    for chunk in wanted.chunks(500) {
        let found: Vec<String> = province::Entity::find()
            .filter(province::Column::Code.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
            .into_iter()
            .map(|p| p.code)
            .collect();
        if let Some(code) = chunk.iter().find(|c| !found.iter().any(|f| f == *c)) {
            return Err(AppError::bad_input(
                "provinceCode",
                format!("{code} is not a Thai province code (e.g. TH-57)"),
            ));
        }
    }
    Ok(())
}

/// Updates a community (the `updateCommunity` mutation); absent fields stay as they are.
pub async fn update(store: &Store, actor: &Actor, changes: CommunityChanges) -> AppResult<community::Model> {
    access::may_write(actor, Kind::Community)?;
    let tx = store.begin_write().await?;
    update_in(&tx, actor, &changes).await?;
    commit_returning::<community::Entity>(store, tx, changes.id).await
}

/// Applies `changes` inside `conn`: [`update_many_in`] with one.
pub async fn update_in<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    changes: &CommunityChanges,
) -> AppResult<Vec<&'static str>> {
    Ok(update_many_in(conn, actor, std::slice::from_ref(changes)).await?.swap_remove(0))
}

/// Applies changes inside `conn`, the one write path of community changes
/// (API and CSV import; one query reads the current rows of the batch).
/// Returns, for each, the names of the fields that changed: when none did,
/// nothing is written; otherwise the version rises by one and an `UPDATED`
/// event names the fields.
pub async fn update_many_in<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    batch: &[CommunityChanges],
) -> AppResult<Vec<Vec<&'static str>>> {
    access::may_write(actor, Kind::Community)?;
    let mut rows = std::collections::HashMap::with_capacity(batch.len());
    for chunk in batch.chunks(500) {
        let ids: Vec<i64> = chunk.iter().map(|c| c.id).collect();
        for row in community::Entity::find().filter(community::Column::Id.is_in(ids)).all(conn).await? {
            rows.insert(row.id, row);
        }
    }
    let mut pairs = Vec::with_capacity(batch.len());
    for changes in batch {
        let Some(cur) = rows.get(&changes.id) else {
            return Err(AppError::not_found("no Community with that id"));
        };
        pairs.push((cur.clone(), changes.clone()));
    }
    update_rows_in(conn, actor, &pairs).await
}

/// Like [`update_many_in`], for communities whose current rows the caller
/// has just read in `conn` (the import reads them by code).
pub async fn update_rows_in<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    batch: &[(community::Model, CommunityChanges)],
) -> AppResult<Vec<Vec<&'static str>>> {
    access::may_write(actor, Kind::Community)?;
    if batch.iter().any(|(_, c)| c.contact.is_some()) {
        access::may_read_contacts(actor)?;
    }
    if batch.iter().any(|(_, c)| c.tier.is_some()) {
        access::may_classify(actor)?;
    }
    check_provinces(conn, batch.iter().filter_map(|(_, c)| c.province_code.as_deref())).await?;
    let mut changed = Vec::with_capacity(batch.len());
    for (cur, changes) in batch {
        if changes.id != cur.id {
            return Err(AppError::internal("changes for another community"));
        }
        if let Some(expected) = changes.expected_version {
            check_version(Kind::Community, cur.version, expected)?;
        }
        changed.push(apply_changes(conn, actor, cur, changes).await?);
    }
    Ok(changed)
}

async fn apply_changes<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    cur: &community::Model,
    changes: &CommunityChanges,
) -> AppResult<Vec<&'static str>> {
    let id = cur.id;
    let before = super::snapshots::take(conn, Kind::Community, id).await?;
    let mut fields = Vec::new();
    let mut am = <community::ActiveModel as Default>::default();
    if let Some(v) = diff(&mut fields, "nameTh", &cur.name_th, changes.name_th.clone()) {
        am.name_th = Set(v);
    }
    if let Some(v) = diff(&mut fields, "nameEn", &cur.name_en, changes.name_en.clone()) {
        am.name_en = Set(v);
    }
    if fields.iter().any(|f| matches!(*f, "nameTh" | "nameEn")) {
        let name_th = am.name_th.try_as_ref().unwrap_or(&cur.name_th);
        let name_en = am.name_en.try_as_ref().unwrap_or(&cur.name_en);
        am.search_text = Set(Some(search::record_key(name_th, name_en.as_deref(), &cur.code)));
    }
    if let Some(v) = diff(&mut fields, "province", &cur.province_code, changes.province_code.clone()) {
        am.province_code = Set(v);
    }
    if let Some(v) = diff(&mut fields, "district", &cur.district, changes.district.clone()) {
        am.district = Set(v);
    }
    if let Some(v) = diff(&mut fields, "subdistrict", &cur.subdistrict, changes.subdistrict.clone()) {
        am.subdistrict = Set(v);
    }
    if let Some(v) = diff(&mut fields, "villageNo", &cur.village_no, changes.village_no) {
        am.village_no = Set(v);
    }
    if let Some(v) = diff(&mut fields, "households", &cur.households, changes.households) {
        am.households = Set(v);
    }
    if let Some(v) = diff(&mut fields, "description", &cur.description, changes.description.clone()) {
        am.description = Set(v);
    }
    let current_contact = (cur.contact_name.clone(), cur.contact_phone.clone(), cur.contact_email.clone());
    let contact = changes.contact.as_ref().map(|c| contact_columns(Some(c)));
    if let Some((name, phone, email)) = diff(&mut fields, "contact", &current_contact, contact) {
        am.contact_name = Set(name);
        am.contact_phone = Set(phone);
        am.contact_email = Set(email);
    }
    if let Some(v) = diff(&mut fields, "tourismTier", &cur.tourism_tier, changes.tier) {
        fields.extend(["tierAssessedBy", "tierAssessedAt"]);
        am.tier_assessed_by = Set(v.as_ref().map(|_| actor.org_id));
        am.tier_assessed_at = Set(v.as_ref().map(|_| now()));
        am.tourism_tier = Set(v);
    }
    if let Some(awards) = &changes.awards {
        let existing = community_award::Entity::find()
            .filter(community_award::Column::CommunityId.eq(id))
            .all(conn)
            .await?
            .into_iter()
            .map(|a| (a.year, a.category, a.title))
            .collect::<Vec<_>>();
        let wanted: Vec<_> = awards.iter().map(|a| (a.year, a.category, a.title.clone())).collect();
        if existing != wanted {
            fields.push("awards");
            replace_awards(conn, id, awards).await?;
        }
    }
    if fields.is_empty() {
        return Ok(fields);
    }
    fields.sort_unstable();
    bump(conn, am, id, cur.version, Kind::Community).await?;
    changes::record(conn, actor, ChangeOperation::Updated, Kind::Community, id, &fields, Some(before)).await?;
    Ok(fields)
}

/// The community `id` as it is now: `NOT_FOUND` if missing, `CONFLICT` unless
/// its version is `expected` (when given).
async fn current_row<C: ConnectionTrait>(conn: &C, id: i64, expected: Option<i32>) -> AppResult<community::Model> {
    let Some(cur) = community::Entity::find_by_id(id).one(conn).await? else {
        return Err(AppError::not_found("no Community with that id"));
    };
    if let Some(expected) = expected {
        check_version(Kind::Community, cur.version, expected)?;
    }
    Ok(cur)
}

/// Sets (or clears) a community's tourism tier (the `classifyCommunity`
/// mutation), noting who assessed it.
pub async fn classify(store: &Store, actor: &Actor, classification: Classification) -> AppResult<community::Model> {
    access::may_classify(actor)?;
    let tx = store.begin_write().await?;
    classify_in(&tx, actor, &classification).await?;
    commit_returning::<community::Entity>(store, tx, classification.id).await
}

/// Classifies inside `conn`, the one write path of tiers (API and CSV
/// import): the assessment is recorded even when the tier is unchanged.
pub async fn classify_in<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    classification: &Classification,
) -> AppResult<()> {
    access::may_classify(actor)?;
    let id = classification.id;
    let cur = current_row(conn, id, classification.expected_version).await?;
    let before = super::snapshots::take(conn, Kind::Community, id).await?;
    let tier = classification.tier;
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
    bump(conn, am, id, cur.version, Kind::Community).await?;
    changes::record(conn, actor, ChangeOperation::Updated, Kind::Community, id, &fields, Some(before)).await?;
    Ok(())
}

/// What an erased value is replaced with, in the change feed's diffs.
pub fn erased() -> serde_json::Value {
    serde_json::json!({ "erased": true })
}

/// Erases a community's contact on the data subject's request (the
/// `eraseContact` mutation; `communities:write` and `communities:pii`): the
/// contact becomes null, the change is recorded like any other (its diff
/// shows the contact going from erased to null), and every value of the
/// contact held in the community's earlier change events is replaced by
/// `{"erased": true}`, so no copy of the old details is kept. Events still
/// show when the contact changed and who changed it.
pub async fn erase_contact(store: &Store, actor: &Actor, id: i64, expected: i32) -> AppResult<community::Model> {
    access::may_write(actor, Kind::Community)?;
    access::may_read_contacts(actor)?;
    let tx = store.begin_write().await?;
    if store.backend() == sea_orm::DbBackend::Postgres {
        // No feed pass moves this community's events while they are scrubbed.
        let lock = crate::feed::sequencer::PASS_LOCK;
        tx.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({lock}, hashtext(current_schema()))")).await?;
    }
    let cur = current_row(&tx, id, Some(expected)).await?;
    if cur.contact_name.is_none() {
        return Err(AppError::bad_input("id", "this community holds no contact to erase"));
    }
    let mut before = super::snapshots::take(&tx, Kind::Community, id).await?;
    before.insert("contact".to_owned(), erased());
    let am = community::ActiveModel {
        contact_name: Set(None),
        contact_phone: Set(None),
        contact_email: Set(None),
        ..Default::default()
    };
    bump(&tx, am, id, cur.version, Kind::Community).await?;
    changes::scrub(&tx, Kind::Community, id, "contact", &erased()).await?;
    changes::record(&tx, actor, ChangeOperation::Updated, Kind::Community, id, &["contact"], Some(before)).await?;
    commit_returning::<community::Entity>(store, tx, id).await
}
