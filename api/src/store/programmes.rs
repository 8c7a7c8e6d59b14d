//! Programmes: queries, creates and updates.

use entity::{curriculum, organization, programme, programme_curriculum, programme_partner};
use sea_orm::sea_query::Query;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

use super::keyset::{self, Page, PageArgs, SortKey};
use super::versioned::{bump, check_version, diff};
use super::{Store, changes, commit_returning, idempotency, mous, now, organizations};
use crate::domain::access::{self, Actor, ProgrammeFacts};

use crate::domain::commands::{NewProgramme, ProgrammeChanges};
use crate::domain::enums::{self, ChangeOperation, ProgrammeStatus, ProgrammeTheme, TourismTier};
use crate::domain::ids::Kind;
use crate::domain::lifecycle::{self, PROGRAMME_MOVES};
use crate::domain::text;
use crate::error::{AppError, AppResult};

/// The keyset of the programme list (creation order).
pub const SORT: SortKey = SortKey::by_id("programme.id");

/// Which programmes to list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub themes: Option<Vec<ProgrammeTheme>>,
    pub statuses: Option<Vec<ProgrammeStatus>>,
    pub lead_code: Option<String>,
}

/// The filtered selection.
pub fn filtered(filter: &Filter) -> Select<programme::Entity> {
    let mut select = programme::Entity::find();
    if let Some(themes) = &filter.themes {
        select = select.filter(programme::Column::Theme.is_in(themes.iter().map(|t| t.as_str())));
    }
    if let Some(statuses) = &filter.statuses {
        select = select.filter(programme::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
    }
    if let Some(code) = &filter.lead_code {
        select = select.filter(
            programme::Column::LeadId.in_subquery(
                Query::select()
                    .column(organization::Column::Id)
                    .from(organization::Entity)
                    .and_where(organization::Column::Code.eq(code.trim().to_uppercase()))
                    .to_owned(),
            ),
        );
    }
    select
}

/// One page of programmes.
pub async fn page(
    store: &Store,
    select: Select<programme::Entity>,
    args: &PageArgs,
) -> AppResult<Page<programme::Model>> {
    keyset::window(args, SORT)?.fetch(&store.db, select, |_| None, |m| m.id).await
}

/// The programme with `code`.
pub async fn by_code(store: &Store, code: &str) -> AppResult<Option<programme::Model>> {
    Ok(programme::Entity::find().filter(programme::Column::Code.eq(code.trim().to_uppercase())).one(&store.db).await?)
}

/// The partner organisation ids of a programme.
pub async fn partner_ids<C: ConnectionTrait>(conn: &C, programme_id: i64) -> AppResult<Vec<i64>> {
    Ok(programme_partner::Entity::find()
        .filter(programme_partner::Column::ProgrammeId.eq(programme_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| p.organization_id)
        .collect())
}

/// Checks the MOU rule: the MOU is visible, the lead and partners are its parties.
async fn check_mou<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    mou_id: i64,
    lead: i64,
    partners: &[i64],
) -> AppResult<()> {
    let Some(facts) = mous::visible_facts(conn, actor, mou_id).await? else {
        return Err(AppError::bad_input("mouId", "no Mou with that id"));
    };
    access::may_run_programme_under(&facts, &ProgrammeFacts { lead, partners: partners.to_vec() })
}

async fn replace_links<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    partners: Option<&[i64]>,
    curricula: Option<&[i64]>,
) -> AppResult<()> {
    if let Some(partners) = partners {
        programme_partner::Entity::delete_many()
            .filter(programme_partner::Column::ProgrammeId.eq(id))
            .exec(conn)
            .await?;
        for org in partners {
            programme_partner::ActiveModel { programme_id: Set(id), organization_id: Set(*org) }.insert(conn).await?;
        }
    }
    if let Some(curricula) = curricula {
        programme_curriculum::Entity::delete_many()
            .filter(programme_curriculum::Column::ProgrammeId.eq(id))
            .exec(conn)
            .await?;
        for c in curricula {
            programme_curriculum::ActiveModel { programme_id: Set(id), curriculum_id: Set(*c) }.insert(conn).await?;
        }
    }
    Ok(())
}

/// Creates a programme in PLANNED (the `createProgramme` mutation); the
/// caller's organisation is its lead.
pub async fn create(store: &Store, actor: &Actor, new: NewProgramme, key: Option<&str>) -> AppResult<i64> {
    access::may_write(actor, Kind::Programme)?;
    let fingerprint = serde_json::to_value(&new).unwrap_or_default();
    let actor_tx = actor.clone();
    idempotency::create(
        store,
        actor,
        key,
        "createProgramme",
        Kind::Programme,
        &fingerprint,
        Box::new(move |tx| Box::pin(async move { create_in(tx, &actor_tx, &new).await })),
    )
    .await
}

/// Creates a programme inside `conn` (API and demo data): the MOU rule,
/// existing partners and curricula; version 1 and the `CREATED` event.
pub async fn create_in<C: ConnectionTrait>(conn: &C, actor: &Actor, new: &NewProgramme) -> AppResult<i64> {
    access::may_write(actor, Kind::Programme)?;
    let mut partners = organizations::ids_for_codes(conn, &new.partner_codes, "partnerCodes").await?;
    partners.retain(|p| *p != actor.org_id);
    if let Some(mou_id) = new.mou_id {
        check_mou(conn, actor, mou_id, actor.org_id, &partners).await?;
    }
    let curricula =
        super::existing_ids::<curriculum::Entity, _>(conn, &new.curriculum_ids, Kind::Curriculum, "curriculumIds")
            .await?;
    let at = now();
    let created = programme::ActiveModel {
        code: Set(new.code.clone()),
        name_th: Set(new.name_th.clone()),
        name_en: Set(new.name_en.clone()),
        theme: Set(new.theme),
        status: Set(ProgrammeStatus::Planned),
        mou_id: Set(new.mou_id),
        lead_id: Set(actor.org_id),
        target_tiers: Set(enums::join_list(&new.target_tiers, TourismTier::as_str)),
        capacity: Set(new.capacity),
        starts_on: Set(new.starts_on),
        ends_on: Set(new.ends_on),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    replace_links(conn, created.id, Some(&partners), Some(&curricula)).await?;
    changes::record(conn, actor, ChangeOperation::Created, Kind::Programme, created.id, &["*"], None).await?;
    Ok(created.id)
}

/// Updates a programme (the `updateProgramme` mutation): its lead or
/// partners; partners only by the lead.
pub async fn update(store: &Store, actor: &Actor, changes: ProgrammeChanges) -> AppResult<programme::Model> {
    access::may_write(actor, Kind::Programme)?;
    let tx = store.begin_write().await?;
    update_in(&tx, actor, &changes).await?;
    commit_returning::<programme::Entity>(store, tx, changes.id).await
}

/// Applies `changes` inside `conn` (API and demo data): the lead and partner
/// rules, the MOU rule, the lifecycle; the version and the `UPDATED` event
/// when a field changed.
pub async fn update_in<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    changes: &ProgrammeChanges,
) -> AppResult<Vec<&'static str>> {
    access::may_write(actor, Kind::Programme)?;
    let id = changes.id;
    let partners = match &changes.partner_codes {
        Some(codes) => Some(organizations::ids_for_codes(conn, codes, "partnerCodes").await?),
        None => None,
    };
    let tx = conn;
    let Some(found) = programme::Entity::find_by_id(id).one(tx).await? else {
        return Err(AppError::not_found("no Programme with that id"));
    };
    let facts = ProgrammeFacts { lead: found.lead_id, partners: partner_ids(tx, id).await? };
    access::may_change_programme(actor, &facts)?;
    if partners.is_some() {
        access::may_change_programme_partners(actor, &facts)?;
    }
    // The row read above is the current one: check its version, do not read it again.
    if let Some(expected) = changes.expected_version {
        check_version(Kind::Programme, found.version, expected)?;
    }
    let cur = found;
    let mut fields = Vec::new();
    let mut am = <programme::ActiveModel as Default>::default();
    if let Some(v) = diff(&mut fields, "nameTh", &cur.name_th, changes.name_th.clone()) {
        am.name_th = Set(v);
    }
    if let Some(v) = diff(&mut fields, "nameEn", &cur.name_en, changes.name_en.clone()) {
        am.name_en = Set(v);
    }
    text::ordered_dates(changes.starts_on.or(cur.starts_on), changes.ends_on.or(cur.ends_on))?;
    if let Some(v) = diff(&mut fields, "startsOn", &cur.starts_on, changes.starts_on.map(Some)) {
        am.starts_on = Set(v);
    }
    if let Some(v) = diff(&mut fields, "endsOn", &cur.ends_on, changes.ends_on.map(Some)) {
        am.ends_on = Set(v);
    }
    if let Some(v) = diff(&mut fields, "capacity", &cur.capacity, changes.capacity.map(Some)) {
        am.capacity = Set(v);
    }
    let tiers = changes.target_tiers.as_deref().map(|t| enums::join_list(t, TourismTier::as_str));
    if let Some(v) = diff(&mut fields, "targetTiers", &cur.target_tiers, tiers) {
        am.target_tiers = Set(v);
    }
    let status = cur.status;
    if let Some(to) = changes.status.filter(|to| *to != status) {
        lifecycle::check_move("status", PROGRAMME_MOVES, status, to)?;
        fields.push("status");
        am.status = Set(to);
    }
    let mut partners = partners;
    if let Some(list) = partners.as_mut() {
        list.retain(|p| *p != cur.lead_id);
        if let Some(mou_id) = cur.mou_id {
            check_mou(tx, actor, mou_id, cur.lead_id, list).await?;
        }
        let mut before = facts.partners.clone();
        before.sort_unstable();
        if *list == before {
            partners = None;
        } else {
            fields.push("partners");
        }
    }
    let mut curricula = match &changes.curriculum_ids {
        Some(ids_in) => {
            Some(super::existing_ids::<curriculum::Entity, _>(tx, ids_in, Kind::Curriculum, "curriculumIds").await?)
        }
        None => None,
    };
    if let Some(list) = &curricula {
        let mut before: Vec<i64> = programme_curriculum::Entity::find()
            .filter(programme_curriculum::Column::ProgrammeId.eq(id))
            .all(tx)
            .await?
            .into_iter()
            .map(|l| l.curriculum_id)
            .collect();
        before.sort_unstable();
        if *list == before {
            curricula = None;
        } else {
            fields.push("curricula");
        }
    }
    if fields.is_empty() {
        return Ok(fields);
    }
    let before = super::snapshots::take(tx, Kind::Programme, id).await?;
    replace_links(tx, id, partners.as_deref(), curricula.as_deref()).await?;
    bump(tx, am, id, cur.version, Kind::Programme).await?;
    super::changes::record(tx, actor, ChangeOperation::Updated, Kind::Programme, id, &fields, Some(before)).await?;
    Ok(fields)
}
