//! Enrolments: nominations and status moves, with their rules.

use entity::{community, enrolment, enrolment_transition, programme, programme_curriculum};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Select,
};

use super::keyset::{self, Page, PageArgs, SortKey};
use super::versioned::{bump, check_version};
use super::{Store, changes, commit_returning, idempotency, lock_row, now, programmes};
use crate::domain::access::{self, Actor, Scope};
use crate::domain::enums::{self, ChangeOperation, EnrolmentStatus, ProgrammeStatus, TourismTier};
use crate::domain::ids::{self, Kind};
use crate::domain::inputs::{NominateCommunityInput, TransitionEnrolmentInput};
use crate::domain::lifecycle::{self, CAPACITY_STATUSES, ENDED_STATUSES, ENROLMENT_MOVES, EnrolmentActor};
use crate::domain::text::{self, limits};
use crate::error::{AppError, AppResult};

/// The keyset of enrolment lists (creation order).
pub const SORT: SortKey = SortKey::by_id("enrolment.id");

/// Which enrolments to list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    pub statuses: Option<Vec<EnrolmentStatus>>,
    pub programme_id: Option<i64>,
    pub community_id: Option<i64>,
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
) -> AppResult<()> {
    enrolment_transition::ActiveModel {
        enrolment_id: Set(enrolment_id),
        from_status: Set(from),
        to_status: Set(to),
        at: Set(now()),
        by_org: Set(actor.org_id),
        note: Set(note),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Nominates a community into an OPEN programme (its lead or a partner).
pub async fn nominate(
    store: &Store,
    actor: &Actor,
    input: NominateCommunityInput,
    key: Option<&str>,
) -> AppResult<i64> {
    actor.require(Scope::EnrolmentsWrite)?;
    let programme_id = ids::decode(Kind::Programme, &input.programme_id, "programmeId")?;
    let community_id = ids::decode(Kind::Community, &input.community_id, "communityId")?;
    let curriculum_id =
        input.curriculum_id.as_ref().map(|id| ids::decode(Kind::Curriculum, id, "curriculumId")).transpose()?;
    let note = text::optional("note", input.note.as_deref(), limits::NOTE)?;
    let fingerprint = serde_json::to_value(&input).unwrap_or_default();
    let actor_tx = actor.clone();
    idempotency::create(
        store,
        actor,
        key,
        "nominateCommunity",
        Kind::Enrolment,
        &fingerprint,
        Box::new(move |tx| {
            Box::pin(async move {
                // Serialise nominations into one programme (capacity, one live enrolment).
                if !lock_row(tx, "programmes", programme_id).await? {
                    return Err(AppError::bad_input("programmeId", "no Programme with that id"));
                }
                let Some(p) = programme::Entity::find_by_id(programme_id).one(tx).await? else {
                    return Err(AppError::bad_input("programmeId", "no Programme with that id"));
                };
                let partners = programmes::partner_ids(tx, programme_id).await?;
                access::require_programme_role(&actor_tx, p.lead_id, &partners, true, "nominate communities")?;
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
                let targets = enums::parse_list::<TourismTier>(&p.target_tiers)?;
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
                        return Err(AppError::bad_input(
                            "curriculumId",
                            "the curriculum is not one of the programme's",
                        ));
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
                    nominated_by: Set(actor_tx.org_id),
                    nominated_at: Set(at),
                    version: Set(1),
                    created_at: Set(at),
                    updated_at: Set(at),
                    ..Default::default()
                }
                .insert(tx)
                .await?;
                transition(tx, created.id, None, EnrolmentStatus::Nominated, &actor_tx, note).await?;
                changes::record(tx, &actor_tx, ChangeOperation::Created, Kind::Enrolment, created.id, &["*"]).await?;
                Ok(created.id)
            })
        }),
    )
    .await
}

/// Moves an enrolment along its lifecycle, by the organisation the rules name.
pub async fn transition_enrolment(
    store: &Store,
    actor: &Actor,
    input: TransitionEnrolmentInput,
) -> AppResult<enrolment::Model> {
    actor.require(Scope::EnrolmentsWrite)?;
    let id = ids::decode(Kind::Enrolment, &input.id, "id")?;
    let note = text::optional("note", input.note.as_deref(), limits::NOTE)?;
    let tx = store.begin_write().await?;
    let Some(cur) = enrolment::Entity::find_by_id(id).one(&tx).await? else {
        return Err(AppError::not_found("no Enrolment with that id"));
    };
    let mut p = programme::Entity::find_by_id(cur.programme_id)
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::internal("enrolment without programme"))?;
    let allowed = match lifecycle::enrolment_actor(input.to) {
        EnrolmentActor::Lead => actor.org_id == p.lead_id,
        EnrolmentActor::LeadOrPartner => {
            actor.org_id == p.lead_id || programmes::partner_ids(&tx, p.id).await?.contains(&actor.org_id)
        }
        EnrolmentActor::NominatorOrLead => actor.org_id == p.lead_id || actor.org_id == cur.nominated_by,
    };
    if !allowed {
        let who = match lifecycle::enrolment_actor(input.to) {
            EnrolmentActor::Lead => "the programme's lead",
            EnrolmentActor::LeadOrPartner => "the programme's lead or partners",
            EnrolmentActor::NominatorOrLead => "the nominating organisation or the programme's lead",
        };
        return Err(AppError::forbidden(format!("only {who} may move an enrolment to {}", input.to)));
    }
    check_version(Kind::Enrolment, cur.version, input.expected_version)?;
    let from = cur.status;
    lifecycle::check_move("to", ENROLMENT_MOVES, from, input.to)?;
    // Only a move into a limited programme counts places: those moves take
    // the programme's row lock, so two cannot both take the last place.
    // Other transitions of one programme run side by side.
    if input.to == EnrolmentStatus::Enrolled && p.capacity.is_some() {
        lock_row(&tx, "programmes", p.id).await?;
        p = programme::Entity::find_by_id(p.id)
            .one(&tx)
            .await?
            .ok_or_else(|| AppError::internal("enrolment without programme"))?;
        check_capacity(&tx, &p).await?;
    }
    let am = enrolment::ActiveModel { status: Set(input.to), ..Default::default() };
    bump(&tx, am, id, input.expected_version, Kind::Enrolment).await?;
    transition(&tx, id, Some(from), input.to, actor, note).await?;
    changes::record(&tx, actor, ChangeOperation::Updated, Kind::Enrolment, id, &["status", "history"]).await?;
    commit_returning::<enrolment::Entity>(store, tx, id).await
}
