//! Enrolments: nominations and status moves, with their rules.

use entity::{community, enrolment, enrolment_transition, programme, programme_curriculum};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Select,
};

use super::keyset::{self, Page, PageArgs, SortKey};
use super::versioned::{bump, check_version};
use super::{Store, changes, commit_returning, idempotency, lock_row, now, programmes};
use crate::domain::access::{self, Actor, ProgrammeFacts};
use crate::domain::commands::{EnrolmentMove, Nomination};
use crate::domain::enums::{self, ChangeOperation, EnrolmentStatus, ProgrammeStatus, ProgrammeTheme, TourismTier};
use crate::domain::ids::Kind;
use crate::domain::lifecycle::{self, CAPACITY_STATUSES, ENDED_STATUSES, ENROLMENT_MOVES};

use crate::error::{AppError, AppResult};

/// The keyset of enrolment lists (creation order).
pub const SORT: SortKey = SortKey::by_id("enrolment.id");

/// Which enrolments to list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    pub statuses: Option<Vec<EnrolmentStatus>>,
    pub programme_id: Option<i64>,
    pub community_id: Option<i64>,
    /// Enrolments following this curriculum.
    pub curriculum_id: Option<i64>,
    /// Enrolments in programmes of any of these themes.
    pub themes: Option<Vec<ProgrammeTheme>>,
}

/// The filtered selection.
pub fn filtered(filter: &Filter) -> Select<enrolment::Entity> {
    let mut select = enrolment::Entity::find();
    if let Some(statuses) = &filter.statuses {
        select = select.filter(enrolment::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
    }
    if let Some(id) = filter.programme_id {
        select = select.filter(enrolment::Column::ProgrammeId.eq(id));
    }
    if let Some(id) = filter.community_id {
        select = select.filter(enrolment::Column::CommunityId.eq(id));
    }
    if let Some(id) = filter.curriculum_id {
        select = select.filter(enrolment::Column::CurriculumId.eq(id));
    }
    if let Some(themes) = &filter.themes {
        select = select.filter(
            enrolment::Column::ProgrammeId.in_subquery(
                Query::select()
                    .column(programme::Column::Id)
                    .from(programme::Entity)
                    .and_where(programme::Column::Theme.is_in(themes.iter().map(|t| t.as_str())))
                    .to_owned(),
            ),
        );
    }
    select
}

/// One page of enrolments.
pub async fn page(
    store: &Store,
    select: Select<enrolment::Entity>,
    args: &PageArgs,
) -> AppResult<Page<enrolment::Model>> {
    keyset::window(args, SORT)?.fetch(&store.db, select, |_| None, |m| m.id).await
}

/// How many of a programme's enrolments count against its capacity.
async fn taken<C: ConnectionTrait>(conn: &C, programme_id: i64) -> AppResult<u64> {
    Ok(enrolment::Entity::find()
        .filter(enrolment::Column::ProgrammeId.eq(programme_id))
        .filter(enrolment::Column::Status.is_in(CAPACITY_STATUSES.map(|s| s.as_str())))
        .count(conn)
        .await?)
}

async fn check_capacity<C: ConnectionTrait>(conn: &C, p: &programme::Model) -> AppResult<()> {
    if let Some(capacity) = p.capacity
        && taken(conn, p.id).await? >= capacity.max(0) as u64
    {
        return Err(AppError::bad_input("programmeId", format!("the programme is full (capacity {capacity})")));
    }
    Ok(())
}

async fn transition<C: ConnectionTrait>(
    conn: &C,
    enrolment_id: i64,
    from: Option<EnrolmentStatus>,
    to: EnrolmentStatus,
    actor: &Actor,
    note: Option<String>,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    enrolment_transition::ActiveModel {
        enrolment_id: Set(enrolment_id),
        from_status: Set(from),
        to_status: Set(to),
        at: Set(at),
        by_org: Set(actor.org_id),
        note: Set(note),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Nominates a community into an OPEN programme (the `nominateCommunity`
/// mutation; its lead or a partner).
pub async fn nominate(store: &Store, actor: &Actor, nomination: Nomination, key: Option<&str>) -> AppResult<i64> {
    access::may_write(actor, Kind::Enrolment)?;
    let fingerprint = serde_json::to_value(&nomination).unwrap_or_default();
    let actor_tx = actor.clone();
    idempotency::create(
        store,
        actor,
        key,
        "nominateCommunity",
        Kind::Enrolment,
        &fingerprint,
        Box::new(move |tx| Box::pin(async move { nominate_in(tx, &actor_tx, &nomination).await })),
    )
    .await
}

/// Nominates inside `conn` (API and demo data): the programme is OPEN, the
/// caller leads it or is a partner, the community's tier is a target, one live
/// enrolment per community, capacity; the NOMINATED history entry and the
/// `CREATED` event.
pub async fn nominate_in<C: ConnectionTrait>(conn: &C, actor: &Actor, nomination: &Nomination) -> AppResult<i64> {
    access::may_write(actor, Kind::Enrolment)?;
    let Nomination { programme_id, community_id, curriculum_id, note } = nomination.clone();
    let tx = conn;
    // Serialise nominations into one programme (capacity, one live enrolment).
    if !lock_row(tx, "programmes", programme_id).await? {
        return Err(AppError::bad_input("programmeId", "no Programme with that id"));
    }
    let Some(p) = programme::Entity::find_by_id(programme_id).one(tx).await? else {
        return Err(AppError::bad_input("programmeId", "no Programme with that id"));
    };
    let facts = ProgrammeFacts { lead: p.lead_id, partners: programmes::partner_ids(tx, programme_id).await? };
    access::may_nominate(actor, &facts)?;
    let status = p.status;
    if status != ProgrammeStatus::Open {
        return Err(AppError::bad_input(
            "programmeId",
            format!("only an OPEN programme takes nominations; this one is {status}"),
        ));
    }
    let Some(c) = community::Entity::find_by_id(community_id).one(tx).await? else {
        return Err(AppError::bad_input("communityId", "no Community with that id"));
    };
    let targets: Vec<TourismTier> = enums::parse_list(&p.target_tiers)?;
    if !targets.is_empty() {
        let tier = c.tourism_tier;
        if !tier.is_some_and(|t| targets.contains(&t)) {
            let wanted: Vec<&str> = targets.iter().map(|t| t.as_str()).collect();
            return Err(AppError::bad_input(
                "communityId",
                format!("this programme takes only communities of tier {}", wanted.join(", ")),
            ));
        }
    }
    if let Some(cid) = curriculum_id {
        let used = programme_curriculum::Entity::find_by_id((programme_id, cid)).one(tx).await?;
        if used.is_none() {
            return Err(AppError::bad_input("curriculumId", "the curriculum is not one of the programme's"));
        }
    }
    let live = enrolment::Entity::find()
        .filter(enrolment::Column::ProgrammeId.eq(programme_id))
        .filter(enrolment::Column::CommunityId.eq(community_id))
        .filter(enrolment::Column::Status.is_not_in(ENDED_STATUSES.map(|s| s.as_str())))
        .count(tx)
        .await?;
    if live > 0 {
        return Err(AppError::conflict("the community already has a live enrolment in this programme"));
    }
    check_capacity(tx, &p).await?;
    let at = now();
    let created = enrolment::ActiveModel {
        community_id: Set(community_id),
        programme_id: Set(programme_id),
        curriculum_id: Set(curriculum_id),
        status: Set(EnrolmentStatus::Nominated),
        nominated_by: Set(actor.org_id),
        nominated_at: Set(at),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    transition(tx, created.id, None, EnrolmentStatus::Nominated, actor, note, now()).await?;
    changes::record(tx, actor, ChangeOperation::Created, Kind::Enrolment, created.id, &["*"], None).await?;
    Ok(created.id)
}

/// Moves an enrolment along its lifecycle (the `transitionEnrolment`
/// mutation), by the organisation the rules name.
pub async fn transition_enrolment(store: &Store, actor: &Actor, change: EnrolmentMove) -> AppResult<enrolment::Model> {
    access::may_write(actor, Kind::Enrolment)?;
    let tx = store.begin_write().await?;
    transition_in(&tx, actor, &change).await?;
    commit_returning::<enrolment::Entity>(store, tx, change.id).await
}

/// Moves an enrolment inside `conn` (API and demo data): who may make the
/// move, the lifecycle, capacity; the history entry, the version and the
/// `UPDATED` event.
pub async fn transition_in<C: ConnectionTrait>(conn: &C, actor: &Actor, change: &EnrolmentMove) -> AppResult<()> {
    access::may_write(actor, Kind::Enrolment)?;
    let id = change.id;
    let Some(cur) = enrolment::Entity::find_by_id(id).one(conn).await? else {
        return Err(AppError::not_found("no Enrolment with that id"));
    };
    let mut p = programme::Entity::find_by_id(cur.programme_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::internal("enrolment without programme"))?;
    let facts = ProgrammeFacts { lead: p.lead_id, partners: programmes::partner_ids(conn, p.id).await? };
    access::may_move_enrolment(actor, &facts, cur.nominated_by, change.to)?;
    if let Some(expected) = change.expected_version {
        check_version(Kind::Enrolment, cur.version, expected)?;
    }
    let from = cur.status;
    lifecycle::check_move("to", ENROLMENT_MOVES, from, change.to)?;
    // The audit's "before", read before the programme's lock is taken (a
    // concurrent change of this enrolment fails the version check below,
    // so this is the state the move replaces).
    let before = super::snapshots::take(conn, Kind::Enrolment, id).await?;
    // Only a move into a limited programme counts places: those moves take
    // the programme's row lock, so two cannot both take the last place.
    // Other transitions of one programme run side by side.
    if change.to == EnrolmentStatus::Enrolled && p.capacity.is_some() {
        lock_row(conn, "programmes", p.id).await?;
        p = programme::Entity::find_by_id(p.id)
            .one(conn)
            .await?
            .ok_or_else(|| AppError::internal("enrolment without programme"))?;
        check_capacity(conn, &p).await?;
    }
    let am = enrolment::ActiveModel { status: Set(change.to), ..Default::default() };
    bump(conn, am, id, cur.version, Kind::Enrolment).await?;
    let at = now();
    transition(conn, id, Some(from), change.to, actor, change.note.clone(), at).await?;
    // The "after" is the "before" with the move applied: no query while the
    // programme's row is locked.
    let after =
        super::snapshots::enrolment_moved(&before, change.to, from, at, &actor.org_code, change.note.as_deref());
    let fields = ["status", "history"];
    changes::record_snapshots(conn, actor, ChangeOperation::Updated, Kind::Enrolment, id, &fields, Some(before), after)
        .await?;
    Ok(())
}
