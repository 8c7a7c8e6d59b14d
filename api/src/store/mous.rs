//! MOUs, their parties and signatures, and commitments.

use entity::{commitment, mou, mou_party, organization};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    Select,
};

use super::keyset::{self, Page, PageArgs, SortKey};
use super::search::{self, contains_pattern};
use super::versioned::{bump, check_version, diff};
use super::{Store, changes, commit_returning, idempotency, now, organizations};
use crate::domain::access::{self, Actor, MouFacts};

use crate::domain::commands::{CommitmentChanges, MouChanges, NewCommitment, NewMou, Signature};
use crate::domain::enums::{ChangeOperation, CommitmentStatus, MouStatus, PartyRole};
use crate::domain::ids::Kind;
use crate::domain::lifecycle::{self, COMMITMENT_MOVES, MOU_MOVES};
use crate::domain::text;
use crate::error::{AppError, AppResult};

/// The keyset of the MOU list (creation order).
pub const SORT: SortKey = SortKey::by_id("mou.id");

/// Which MOUs to list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub statuses: Option<Vec<MouStatus>>,
    pub party_code: Option<String>,
    pub search: Option<String>,
}

/// MOUs `actor` may see (`access::MOU_VISIBLE`, in SQL).
pub fn visible(actor: &Actor) -> Condition {
    super::rules::visible_mous(actor)
}

/// The visible, filtered selection.
pub fn filtered(actor: &Actor, filter: &Filter) -> AppResult<Select<mou::Entity>> {
    let mut select = mou::Entity::find().filter(visible(actor));
    if let Some(statuses) = &filter.statuses {
        select = select.filter(mou::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
    }
    if let Some(code) = &filter.party_code {
        select = select.filter(
            mou::Column::Id.in_subquery(
                Query::select()
                    .column(mou_party::Column::MouId)
                    .from(mou_party::Entity)
                    .inner_join(
                        organization::Entity,
                        sea_orm::sea_query::Expr::col((organization::Entity, organization::Column::Id))
                            .equals((mou_party::Entity, mou_party::Column::OrganizationId)),
                    )
                    .and_where(organization::Column::Code.eq(code.trim().to_uppercase()))
                    .to_owned(),
            ),
        );
    }
    if let Some(search) = &filter.search {
        let pattern = contains_pattern(search)?;
        select = select.filter(search::matches(mou::Column::SearchText, &pattern));
    }
    Ok(select)
}

/// One page of MOUs.
pub async fn page(store: &Store, select: Select<mou::Entity>, args: &PageArgs) -> AppResult<Page<mou::Model>> {
    keyset::window(args, SORT)?.fetch(&store.db, select, |_| None, |m| m.id).await
}

/// The MOU with `code`, if `actor` may see it.
pub async fn by_code(store: &Store, actor: &Actor, code: &str) -> AppResult<Option<mou::Model>> {
    Ok(mou::Entity::find()
        .filter(mou::Column::Code.eq(code.trim().to_uppercase()))
        .filter(visible(actor))
        .one(&store.db)
        .await?)
}

/// The parties of an MOU as (organisation id, role).
pub async fn parties<C: ConnectionTrait>(conn: &C, mou_id: i64) -> AppResult<Vec<mou_party::Model>> {
    Ok(mou_party::Entity::find().filter(mou_party::Column::MouId.eq(mou_id)).all(conn).await?)
}

/// The facts the access rules read about an MOU with these party rows.
pub fn facts(m: &mou::Model, parties: &[mou_party::Model]) -> AppResult<MouFacts> {
    Ok(MouFacts {
        status: m.status,
        parties: parties.iter().map(|p| Ok((p.organization_id, p.role))).collect::<AppResult<_>>()?,
    })
}

/// An MOU, its party rows and its facts, if it exists and `actor` may see it.
async fn load_visible<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<(mou::Model, Vec<mou_party::Model>, MouFacts)>> {
    let Some(m) = mou::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    let party_rows = parties(conn, id).await?;
    let facts = facts(&m, &party_rows)?;
    Ok(access::mou_visible(actor, &facts).then_some((m, party_rows, facts)))
}

/// The facts of an MOU `actor` may see, for rules that hang off it; `None`
/// when there is no such MOU (or `actor` may not see it).
pub async fn visible_facts<C: ConnectionTrait>(conn: &C, actor: &Actor, id: i64) -> AppResult<Option<MouFacts>> {
    Ok(load_visible(conn, actor, id).await?.map(|(_, _, facts)| facts))
}

/// Creates an MOU in DRAFT; the caller's organisation must be a party.
pub async fn create(store: &Store, actor: &Actor, new: NewMou, key: Option<&str>) -> AppResult<i64> {
    access::may_write(actor, Kind::Mou)?;
    let fingerprint = serde_json::to_value(&new).unwrap_or_default();
    let actor_tx = actor.clone();
    idempotency::create(
        store,
        actor,
        key,
        "createMou",
        Kind::Mou,
        &fingerprint,
        Box::new(move |tx| Box::pin(async move { create_in(tx, &actor_tx, &new).await })),
    )
    .await
}

/// Creates an MOU in DRAFT inside `conn` (API and demo data): the caller
/// lists itself, every party exists; version 1 and the `CREATED` event.
pub async fn create_in<C: ConnectionTrait>(conn: &C, actor: &Actor, new: &NewMou) -> AppResult<i64> {
    access::may_write(actor, Kind::Mou)?;
    NewMou::check_parties(&new.parties)?;
    if !new.parties.iter().any(|p| p.organization_code == actor.org_code) {
        return Err(AppError::bad_input("parties", "the creating organisation must list itself as a party"));
    }
    let mut party_rows = Vec::new();
    for (position, party) in new.parties.iter().enumerate() {
        let code = std::slice::from_ref(&party.organization_code);
        let ids = organizations::ids_for_codes(conn, code, "parties.organizationCode").await?;
        party_rows.push((ids[0], party.role, position as i32));
    }
    let at = now();
    let created = mou::ActiveModel {
        code: Set(new.code.clone()),
        title_th: Set(new.title_th.clone()),
        title_en: Set(new.title_en.clone()),
        purpose: Set(new.purpose.clone()),
        search_text: Set(Some(search::record_key(&new.title_th, new.title_en.as_deref(), &new.code))),
        status: Set(MouStatus::Draft),
        signed_on: Set(None),
        starts_on: Set(new.starts_on),
        ends_on: Set(new.ends_on),
        created_by: Set(actor.org_id),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    for (org, role, position) in party_rows {
        mou_party::ActiveModel {
            mou_id: Set(created.id),
            organization_id: Set(org),
            role: Set(role),
            position: Set(position),
            signed_at: Set(None),
        }
        .insert(conn)
        .await?;
    }
    changes::record(conn, actor, ChangeOperation::Created, Kind::Mou, created.id, &["*"], None).await?;
    Ok(created.id)
}

/// Updates an MOU's terms or moves its status (the `updateMou` mutation).
/// Terms are frozen once SIGNED.
pub async fn update(store: &Store, actor: &Actor, changes: MouChanges) -> AppResult<mou::Model> {
    access::may_write(actor, Kind::Mou)?;
    let tx = store.begin_write().await?;
    update_in(&tx, actor, &changes).await?;
    commit_returning::<mou::Entity>(store, tx, changes.id).await
}

/// Applies `changes` inside `conn` (API and demo data): a LEAD or PARTNER
/// party, frozen terms once SIGNED, the lifecycle; the version and the
/// `UPDATED` event when a field changed.
pub async fn update_in<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    changes: &MouChanges,
) -> AppResult<Vec<&'static str>> {
    access::may_write(actor, Kind::Mou)?;
    let id = changes.id;
    let cur = load_for_party(conn, actor, id, changes.expected_version).await?;
    let status = cur.status;
    let mut fields = Vec::new();
    let mut am = <mou::ActiveModel as Default>::default();
    let edits_terms = changes.title_th.is_some()
        || changes.title_en.is_some()
        || changes.purpose.is_some()
        || changes.starts_on.is_some()
        || changes.ends_on.is_some();
    if edits_terms && matches!(status, MouStatus::Signed | MouStatus::Terminated) {
        return Err(AppError::bad_input("status", format!("the terms of a {status} MOU cannot change")));
    }
    if let Some(v) = diff(&mut fields, "titleTh", &cur.title_th, changes.title_th.clone()) {
        am.title_th = Set(v);
    }
    if let Some(v) = diff(&mut fields, "titleEn", &cur.title_en, changes.title_en.clone()) {
        am.title_en = Set(v);
    }
    if fields.iter().any(|f| matches!(*f, "titleTh" | "titleEn")) {
        let title_th = am.title_th.try_as_ref().unwrap_or(&cur.title_th);
        let title_en = am.title_en.try_as_ref().unwrap_or(&cur.title_en);
        am.search_text = Set(Some(search::record_key(title_th, title_en.as_deref(), &cur.code)));
    }
    if let Some(v) = diff(&mut fields, "purpose", &cur.purpose, changes.purpose.clone()) {
        am.purpose = Set(v);
    }
    let starts_on = changes.starts_on.or(cur.starts_on);
    let ends_on = changes.ends_on.or(cur.ends_on);
    text::ordered_dates(starts_on, ends_on)?;
    if let Some(v) = diff(&mut fields, "startsOn", &cur.starts_on, changes.starts_on.map(Some)) {
        am.starts_on = Set(v);
    }
    if let Some(v) = diff(&mut fields, "endsOn", &cur.ends_on, changes.ends_on.map(Some)) {
        am.ends_on = Set(v);
    }
    if let Some(to) = changes.status.filter(|to| *to != status) {
        if to == MouStatus::Signed {
            return Err(AppError::bad_input(
                "status",
                "an MOU becomes SIGNED when every lead and partner signs (signMou)",
            ));
        }
        lifecycle::check_move("status", MOU_MOVES, status, to)?;
        fields.push("status");
        am.status = Set(to);
    }
    if fields.is_empty() {
        return Ok(fields);
    }
    let before = super::snapshots::take(conn, Kind::Mou, id).await?;
    bump(conn, am, id, cur.version, Kind::Mou).await?;
    super::changes::record(conn, actor, ChangeOperation::Updated, Kind::Mou, id, &fields, Some(before)).await?;
    Ok(fields)
}

/// Loads an MOU for a change by one of its parties (LEAD or PARTNER).
async fn load_for_party<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
    expected: Option<i32>,
) -> AppResult<mou::Model> {
    let Some((cur, _, facts)) = load_visible(conn, actor, id).await? else {
        return Err(AppError::not_found("no Mou with that id"));
    };
    access::may_change_mou(actor, &facts)?;
    if let Some(expected) = expected {
        super::versioned::check_version(Kind::Mou, cur.version, expected)?;
    }
    Ok(cur)
}

/// Records the caller's organisation's signature (the `signMou` mutation);
/// when every LEAD and PARTNER has signed, the MOU becomes SIGNED and
/// `signedOn` is set.
pub async fn sign(store: &Store, actor: &Actor, signature: Signature) -> AppResult<mou::Model> {
    access::may_write(actor, Kind::Mou)?;
    let tx = store.begin_write().await?;
    sign_in(&tx, actor, &signature).await?;
    commit_returning::<mou::Entity>(store, tx, signature.mou_id).await
}

/// Signs inside `conn` (API and demo data).
pub async fn sign_in<C: ConnectionTrait>(conn: &C, actor: &Actor, signature: &Signature) -> AppResult<()> {
    access::may_write(actor, Kind::Mou)?;
    let id = signature.mou_id;
    let Some((cur, party_rows, facts)) = load_visible(conn, actor, id).await? else {
        return Err(AppError::not_found("no Mou with that id"));
    };
    access::may_sign_mou(actor, &facts)?;
    if let Some(expected) = signature.expected_version {
        super::versioned::check_version(Kind::Mou, cur.version, expected)?;
    }
    let status = facts.status;
    if status != MouStatus::Negotiating {
        return Err(AppError::bad_input("id", format!("only a NEGOTIATING MOU can be signed; this one is {status}")));
    }
    let Some(own) = party_rows.iter().find(|p| p.organization_id == actor.org_id) else {
        return Err(AppError::forbidden("only the MOU's parties may sign it"));
    };
    if own.signed_at.is_some() {
        return Err(AppError::bad_input("id", "your organisation has already signed this MOU"));
    }
    let before = super::snapshots::take(conn, Kind::Mou, id).await?;
    let at = now();
    mou_party::ActiveModel { signed_at: Set(Some(at)), ..own.clone().into() }.update(conn).await?;
    let all_signed = party_rows
        .iter()
        .all(|p| p.organization_id == actor.org_id || p.signed_at.is_some() || p.role == PartyRole::Witness);
    let mut am = <mou::ActiveModel as Default>::default();
    let mut fields = vec!["parties"];
    if all_signed {
        am.status = Set(MouStatus::Signed);
        am.signed_on = Set(Some(at.date_naive()));
        fields.extend(["status", "signedOn"]);
    }
    bump(conn, am, id, cur.version, Kind::Mou).await?;
    changes::record(conn, actor, ChangeOperation::Updated, Kind::Mou, id, &fields, Some(before)).await?;
    Ok(())
}

/// Creates a commitment under an MOU (the `createCommitment` mutation); the
/// caller and the owner must be parties.
pub async fn create_commitment(store: &Store, actor: &Actor, new: NewCommitment, key: Option<&str>) -> AppResult<i64> {
    access::may_write(actor, Kind::Commitment)?;
    let fingerprint = serde_json::to_value(&new).unwrap_or_default();
    let actor_tx = actor.clone();
    idempotency::create(
        store,
        actor,
        key,
        "createCommitment",
        Kind::Commitment,
        &fingerprint,
        Box::new(move |tx| Box::pin(async move { create_commitment_in(tx, &actor_tx, &new).await })),
    )
    .await
}

/// Creates a commitment inside `conn` (API and demo data).
pub async fn create_commitment_in<C: ConnectionTrait>(conn: &C, actor: &Actor, new: &NewCommitment) -> AppResult<i64> {
    access::may_write(actor, Kind::Commitment)?;
    let owner = organizations::ids_for_codes(conn, std::slice::from_ref(&new.owner_code), "ownerCode").await?[0];
    let Some(facts) = visible_facts(conn, actor, new.mou_id).await? else {
        return Err(AppError::not_found("no Mou with that id"));
    };
    access::may_add_commitment(actor, &facts)?;
    if !facts.is_party(owner) {
        return Err(AppError::bad_input("ownerCode", "the owner must be a party of the MOU"));
    }
    let at = now();
    let created = commitment::ActiveModel {
        mou_id: Set(new.mou_id),
        description: Set(new.description.clone()),
        owner_id: Set(owner),
        due_on: Set(new.due_on),
        status: Set(CommitmentStatus::Open),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    changes::record(conn, actor, ChangeOperation::Created, Kind::Commitment, created.id, &["*"], None).await?;
    Ok(created.id)
}

/// Updates a commitment (the `updateCommitment` mutation): its owner or the MOU's lead.
pub async fn update_commitment(
    store: &Store,
    actor: &Actor,
    changes: CommitmentChanges,
) -> AppResult<commitment::Model> {
    access::may_write(actor, Kind::Commitment)?;
    let id = changes.id;
    let tx = store.begin_write().await?;
    let Some(cur) = commitment::Entity::find_by_id(id).one(&tx).await? else {
        return Err(AppError::not_found("no Commitment with that id"));
    };
    let Some(facts) = visible_facts(&tx, actor, cur.mou_id).await? else {
        return Err(AppError::not_found("no Commitment with that id"));
    };
    access::may_change_commitment(actor, &facts, cur.owner_id)?;
    // The row read above is the current one: check its version, do not read it again.
    if let Some(expected) = changes.expected_version {
        check_version(Kind::Commitment, cur.version, expected)?;
    }
    let mut fields = Vec::new();
    let mut am = <commitment::ActiveModel as Default>::default();
    if let Some(v) = diff(&mut fields, "description", &cur.description, changes.description.clone()) {
        am.description = Set(v);
    }
    if let Some(v) = diff(&mut fields, "dueOn", &cur.due_on, changes.due_on.map(Some)) {
        am.due_on = Set(v);
    }
    let status = cur.status;
    if let Some(to) = changes.status.filter(|to| *to != status) {
        lifecycle::check_move("status", COMMITMENT_MOVES, status, to)?;
        fields.push("status");
        am.status = Set(to);
    }
    if fields.is_empty() {
        return commit_returning::<commitment::Entity>(store, tx, id).await;
    }
    let before = super::snapshots::take(&tx, Kind::Commitment, id).await?;
    bump(&tx, am, id, cur.version, Kind::Commitment).await?;
    super::changes::record(&tx, actor, ChangeOperation::Updated, Kind::Commitment, id, &fields, Some(before)).await?;
    commit_returning::<commitment::Entity>(store, tx, id).await
}
