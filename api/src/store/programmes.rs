//! Programmes: queries, creates and updates.

use entity::{curriculum, mou, organization, programme, programme_curriculum, programme_partner};
use sea_orm::sea_query::Query;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

use super::keyset::{self, Page, PageArgs, SortKey};
use super::versioned::{bump, check_version, diff};
use super::{Store, changes, commit_returning, idempotency, mous, now, organizations};
use crate::domain::access::{self, Actor, Scope};
use crate::domain::date::naive;
use crate::domain::enums::{self, ChangeOperation, ProgrammeStatus, ProgrammeTheme, TourismTier};
use crate::domain::ids::{self, Kind};
use crate::domain::inputs::{CreateProgrammeInput, UpdateProgrammeInput};
use crate::domain::lifecycle::{self, PROGRAMME_MOVES};
use crate::domain::text::{self, limits};
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
    let Some(m) = mou::Entity::find_by_id(mou_id).one(conn).await? else {
        return Err(AppError::bad_input("mouId", "no Mou with that id"));
    };
    let party_ids: Vec<i64> = mous::parties(conn, mou_id).await?.iter().map(|p| p.organization_id).collect();
    if !access::mou_visible(actor, m.status, &party_ids) {
        return Err(AppError::bad_input("mouId", "no Mou with that id"));
    }
    if !party_ids.contains(&lead) {
        return Err(AppError::forbidden("only a party of the MOU may run a programme under it"));
    }
    if partners.iter().any(|p| !party_ids.contains(p)) {
        return Err(AppError::bad_input("partnerCodes", "every partner must be a party of the MOU"));
    }
    Ok(())
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

/// Creates a programme in PLANNED; the caller's organisation is its lead.
pub async fn create(store: &Store, actor: &Actor, input: CreateProgrammeInput, key: Option<&str>) -> AppResult<i64> {
    actor.require(Scope::ProgrammesWrite)?;
    let code = text::code("code", &input.code)?;
    let name_th = text::required("nameTh", &input.name_th, limits::NAME)?;
    let name_en = text::optional("nameEn", input.name_en.as_deref(), limits::NAME)?;
    let capacity = text::non_negative("capacity", input.capacity)?;
    text::ordered_dates(naive(input.starts_on), naive(input.ends_on))?;
    let mou_id = input.mou_id.as_ref().map(|id| ids::decode(Kind::Mou, id, "mouId")).transpose()?;
    let mut partners =
        organizations::ids_for_codes(store, input.partner_codes.as_deref().unwrap_or_default(), "partnerCodes").await?;
    partners.retain(|p| *p != actor.org_id);
    let tiers = enums::join_list(input.target_tiers.as_deref().unwrap_or_default(), TourismTier::as_str);
    let curricula_in = input.curriculum_ids.clone().unwrap_or_default();
    let fingerprint = serde_json::to_value(&input).unwrap_or_default();
    let actor_tx = actor.clone();
    idempotency::create(
        store,
        actor,
        key,
        "createProgramme",
        Kind::Programme,
        &fingerprint,
        Box::new(move |tx| {
            Box::pin(async move {
                if let Some(mou_id) = mou_id {
                    check_mou(tx, &actor_tx, mou_id, actor_tx.org_id, &partners).await?;
                }
                let curricula = super::existing_ids::<curriculum::Entity, _>(
                    tx,
                    &curricula_in,
                    Kind::Curriculum,
                    "curriculumIds",
                    50,
                )
                .await?;
                let at = now();
                let created = programme::ActiveModel {
                    code: Set(code),
                    name_th: Set(name_th),
                    name_en: Set(name_en),
                    theme: Set(input.theme),
                    status: Set(ProgrammeStatus::Planned),
                    mou_id: Set(mou_id),
                    lead_id: Set(actor_tx.org_id),
                    target_tiers: Set(tiers),
                    capacity: Set(capacity),
                    starts_on: Set(naive(input.starts_on)),
                    ends_on: Set(naive(input.ends_on)),
                    version: Set(1),
                    created_at: Set(at),
                    updated_at: Set(at),
                    ..Default::default()
                }
                .insert(tx)
                .await?;
                replace_links(tx, created.id, Some(&partners), Some(&curricula)).await?;
                changes::record(tx, &actor_tx, ChangeOperation::Created, Kind::Programme, created.id, &["*"]).await?;
                Ok(created.id)
            })
        }),
    )
    .await
}

/// Updates a programme: its lead or partners; partners only by the lead.
pub async fn update(store: &Store, actor: &Actor, input: UpdateProgrammeInput) -> AppResult<programme::Model> {
    actor.require(Scope::ProgrammesWrite)?;
    let id = ids::decode(Kind::Programme, &input.id, "id")?;
    let name_th = input.name_th.as_deref().map(|v| text::required("nameTh", v, limits::NAME)).transpose()?;
    let name_en = input.name_en.as_deref().map(|v| text::optional("nameEn", Some(v), limits::NAME)).transpose()?;
    let capacity = text::non_negative("capacity", input.capacity)?;
    let partners = match &input.partner_codes {
        Some(codes) => Some(organizations::ids_for_codes(store, codes, "partnerCodes").await?),
        None => None,
    };

    let tx = store.begin_write().await?;
    let Some(found) = programme::Entity::find_by_id(id).one(&tx).await? else {
        return Err(AppError::not_found("no Programme with that id"));
    };
    let current_partners = partner_ids(&tx, id).await?;
    access::require_programme_role(actor, found.lead_id, &current_partners, true, "change it")?;
    if partners.is_some() {
        access::require_programme_role(actor, found.lead_id, &current_partners, false, "change its partners")?;
    }
    // The row read above is the current one: check its version, do not read it again.
    check_version(Kind::Programme, found.version, input.expected_version)?;
    let cur = found;
    let mut fields = Vec::new();
    let mut am = <programme::ActiveModel as Default>::default();
    if let Some(v) = diff(&mut fields, "nameTh", &cur.name_th, name_th) {
        am.name_th = Set(v);
    }
    if let Some(v) = diff(&mut fields, "nameEn", &cur.name_en, name_en) {
        am.name_en = Set(v);
    }
    text::ordered_dates(naive(input.starts_on).or(cur.starts_on), naive(input.ends_on).or(cur.ends_on))?;
    if let Some(v) = diff(&mut fields, "startsOn", &cur.starts_on, naive(input.starts_on).map(Some)) {
        am.starts_on = Set(v);
    }
    if let Some(v) = diff(&mut fields, "endsOn", &cur.ends_on, naive(input.ends_on).map(Some)) {
        am.ends_on = Set(v);
    }
    if let Some(v) = diff(&mut fields, "capacity", &cur.capacity, capacity.map(Some)) {
        am.capacity = Set(v);
    }
    let tiers = input.target_tiers.as_deref().map(|t| enums::join_list(t, TourismTier::as_str));
    if let Some(v) = diff(&mut fields, "targetTiers", &cur.target_tiers, tiers) {
        am.target_tiers = Set(v);
    }
    let status = cur.status;
    if let Some(to) = input.status.filter(|to| *to != status) {
        lifecycle::check_move("status", PROGRAMME_MOVES, status, to)?;
        fields.push("status");
        am.status = Set(to);
    }
    let mut partners = partners;
    if let Some(list) = partners.as_mut() {
        list.retain(|p| *p != cur.lead_id);
        if let Some(mou_id) = cur.mou_id {
            check_mou(&tx, actor, mou_id, cur.lead_id, list).await?;
        }
        let mut before = current_partners.clone();
        before.sort_unstable();
        if *list == before {
            partners = None;
        } else {
            fields.push("partners");
        }
    }
    let mut curricula = match &input.curriculum_ids {
        Some(ids_in) => Some(
            super::existing_ids::<curriculum::Entity, _>(&tx, ids_in, Kind::Curriculum, "curriculumIds", 50).await?,
        ),
        None => None,
    };
    if let Some(list) = &curricula {
        let mut before: Vec<i64> = programme_curriculum::Entity::find()
            .filter(programme_curriculum::Column::ProgrammeId.eq(id))
            .all(&tx)
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
        return commit_returning::<programme::Entity>(store, tx, id).await;
    }
    replace_links(&tx, id, partners.as_deref(), curricula.as_deref()).await?;
    bump(&tx, am, id, input.expected_version, Kind::Programme).await?;
    changes::record(&tx, actor, ChangeOperation::Updated, Kind::Programme, id, &fields).await?;
    commit_returning::<programme::Entity>(store, tx, id).await
}
