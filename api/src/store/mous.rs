//! MOUs, their parties and signatures, and commitments.

use entity::{commitment, mou, mou_party, organization};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    Select,
};

use super::keyset::{self, Page, PageArgs, SortKey};
use super::search::{contains_pattern, search_condition};
use super::versioned::{bump, check_version, diff};
use super::{Store, changes, commit_returning, idempotency, now, organizations};
use crate::domain::access::{self, Actor, Scope};
use crate::domain::date::naive;
use crate::domain::enums::{ChangeOperation, CommitmentStatus, MouStatus, PartyRole};
use crate::domain::ids::{self, Kind};
use crate::domain::inputs::{CreateCommitmentInput, CreateMouInput, UpdateCommitmentInput, UpdateMouInput};
use crate::domain::lifecycle::{self, COMMITMENT_MOVES, MOU_MOVES};
use crate::domain::text::{self, limits};
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

/// MOUs `actor` may see: SIGNED and TERMINATED ones, and those it is a party of.
pub fn visible(actor: &Actor) -> Condition {
    Condition::any().add(mou::Column::Status.is_in([MouStatus::Signed.as_str(), MouStatus::Terminated.as_str()])).add(
        mou::Column::Id.in_subquery(
            Query::select()
                .column(mou_party::Column::MouId)
                .from(mou_party::Entity)
                .and_where(mou_party::Column::OrganizationId.eq(actor.org_id))
                .to_owned(),
        ),
    )
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
        select =
            select.filter(search_condition(&[mou::Column::TitleTh, mou::Column::TitleEn, mou::Column::Code], &pattern));
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

fn roles(parties: &[mou_party::Model]) -> AppResult<Vec<(i64, PartyRole)>> {
    Ok(parties.iter().map(|p| (p.organization_id, p.role)).collect())
}

/// Creates an MOU in DRAFT; the caller's organisation must be a party.
pub async fn create(store: &Store, actor: &Actor, input: CreateMouInput, key: Option<&str>) -> AppResult<i64> {
    actor.require(Scope::MousWrite)?;
    let code = text::code("code", &input.code)?;
    let title_th = text::required("titleTh", &input.title_th, limits::NAME)?;
    let title_en = text::optional("titleEn", input.title_en.as_deref(), limits::NAME)?;
    let purpose = text::optional("purpose", input.purpose.as_deref(), limits::LONG)?;
    text::ordered_dates(naive(input.starts_on), naive(input.ends_on))?;
    if input.parties.is_empty() || input.parties.len() > 20 {
        return Err(AppError::bad_input("parties", "an MOU has 1 to 20 parties"));
    }
    let codes: Vec<String> = input.parties.iter().map(|p| p.organization_code.trim().to_uppercase()).collect();
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != codes.len() {
        return Err(AppError::bad_input("parties", "an organisation may be listed only once"));
    }
    if input.parties.iter().filter(|p| p.role == PartyRole::Lead).count() != 1 {
        return Err(AppError::bad_input("parties", "an MOU has exactly one LEAD party"));
    }
    if !codes.contains(&actor.org_code) {
        return Err(AppError::bad_input("parties", "the creating organisation must list itself as a party"));
    }
    let mut party_rows = Vec::new();
    for (position, (party, code)) in input.parties.iter().zip(&codes).enumerate() {
        let ids = organizations::ids_for_codes(store, std::slice::from_ref(code), "parties.organizationCode").await?;
        party_rows.push((ids[0], party.role, position as i32));
    }
    let fingerprint = serde_json::to_value(&input).unwrap_or_default();
    let actor_tx = actor.clone();
    idempotency::create(
        store,
        actor,
        key,
        "createMou",
        Kind::Mou,
        &fingerprint,
        Box::new(move |tx| {
            Box::pin(async move {
                let at = now();
                let created = mou::ActiveModel {
                    code: Set(code),
                    title_th: Set(title_th),
                    title_en: Set(title_en),
                    purpose: Set(purpose),
                    status: Set(MouStatus::Draft),
                    signed_on: Set(None),
                    starts_on: Set(naive(input.starts_on)),
                    ends_on: Set(naive(input.ends_on)),
                    created_by: Set(actor_tx.org_id),
                    version: Set(1),
                    created_at: Set(at),
                    updated_at: Set(at),
                    ..Default::default()
                }
                .insert(tx)
                .await?;
                for (org, role, position) in party_rows {
                    mou_party::ActiveModel {
                        mou_id: Set(created.id),
                        organization_id: Set(org),
                        role: Set(role),
                        position: Set(position),
                        signed_at: Set(None),
                    }
                    .insert(tx)
                    .await?;
                }
                changes::record(tx, &actor_tx, ChangeOperation::Created, Kind::Mou, created.id, &["*"]).await?;
                Ok(created.id)
            })
        }),
    )
    .await
}

/// Updates an MOU's terms or moves its status. Terms are frozen once SIGNED.
pub async fn update(store: &Store, actor: &Actor, input: UpdateMouInput) -> AppResult<mou::Model> {
    actor.require(Scope::MousWrite)?;
    let id = ids::decode(Kind::Mou, &input.id, "id")?;
    let title_th = input.title_th.as_deref().map(|v| text::required("titleTh", v, limits::NAME)).transpose()?;
    let title_en = input.title_en.as_deref().map(|v| text::optional("titleEn", Some(v), limits::NAME)).transpose()?;
    let purpose = input.purpose.as_deref().map(|v| text::optional("purpose", Some(v), limits::LONG)).transpose()?;

    let tx = store.begin_write().await?;
    let cur = load_for_party(&tx, actor, id, input.expected_version).await?;
    let status = cur.status;
    let mut fields = Vec::new();
    let mut am = <mou::ActiveModel as Default>::default();
    let edits_terms = title_th.is_some()
        || title_en.is_some()
        || purpose.is_some()
        || naive(input.starts_on).is_some()
        || naive(input.ends_on).is_some();
    if edits_terms && matches!(status, MouStatus::Signed | MouStatus::Terminated) {
        return Err(AppError::bad_input("status", format!("the terms of a {status} MOU cannot change")));
    }
    if let Some(v) = diff(&mut fields, "titleTh", &cur.title_th, title_th) {
        am.title_th = Set(v);
    }
    if let Some(v) = diff(&mut fields, "titleEn", &cur.title_en, title_en) {
        am.title_en = Set(v);
    }
    if let Some(v) = diff(&mut fields, "purpose", &cur.purpose, purpose) {
        am.purpose = Set(v);
    }
    let starts_on = naive(input.starts_on).or(cur.starts_on);
    let ends_on = naive(input.ends_on).or(cur.ends_on);
    text::ordered_dates(starts_on, ends_on)?;
    if let Some(v) = diff(&mut fields, "startsOn", &cur.starts_on, naive(input.starts_on).map(Some)) {
        am.starts_on = Set(v);
    }
    if let Some(v) = diff(&mut fields, "endsOn", &cur.ends_on, naive(input.ends_on).map(Some)) {
        am.ends_on = Set(v);
    }
    if let Some(to) = input.status.filter(|to| *to != status) {
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
        return commit_returning::<mou::Entity>(store, tx, id).await;
    }
    bump(&tx, am, id, input.expected_version, Kind::Mou).await?;
    changes::record(&tx, actor, ChangeOperation::Updated, Kind::Mou, id, &fields).await?;
    commit_returning::<mou::Entity>(store, tx, id).await
}

/// Loads an MOU for a change by one of its parties (LEAD or PARTNER).
async fn load_for_party<C: ConnectionTrait>(conn: &C, actor: &Actor, id: i64, expected: i32) -> AppResult<mou::Model> {
    let Some(cur) = mou::Entity::find_by_id(id).one(conn).await? else {
        return Err(AppError::not_found("no Mou with that id"));
    };
    let parties = roles(&parties(conn, id).await?)?;
    let status = cur.status;
    let party_ids: Vec<i64> = parties.iter().map(|(o, _)| *o).collect();
    if !access::mou_visible(actor, status, &party_ids) {
        return Err(AppError::not_found("no Mou with that id"));
    }
    access::require_mou_party(actor, &parties, &[PartyRole::Lead, PartyRole::Partner], "change it")?;
    super::versioned::check_version(Kind::Mou, cur.version, expected)?;
    Ok(cur)
}

/// Records the caller's organisation's signature; when every LEAD and
/// PARTNER has signed, the MOU becomes SIGNED and `signedOn` is set.
pub async fn sign(store: &Store, actor: &Actor, id: i64, expected: i32) -> AppResult<mou::Model> {
    actor.require(Scope::MousWrite)?;
    let tx = store.begin_write().await?;
    let Some(cur) = mou::Entity::find_by_id(id).one(&tx).await? else {
        return Err(AppError::not_found("no Mou with that id"));
    };
    let party_rows = parties(&tx, id).await?;
    let status = cur.status;
    let party_ids: Vec<i64> = party_rows.iter().map(|p| p.organization_id).collect();
    if !access::mou_visible(actor, status, &party_ids) {
        return Err(AppError::not_found("no Mou with that id"));
    }
    access::require_mou_party(actor, &roles(&party_rows)?, &[], "sign it")?;
    super::versioned::check_version(Kind::Mou, cur.version, expected)?;
    if status != MouStatus::Negotiating {
        return Err(AppError::bad_input("id", format!("only a NEGOTIATING MOU can be signed; this one is {status}")));
    }
    let Some(own) = party_rows.iter().find(|p| p.organization_id == actor.org_id) else {
        return Err(AppError::forbidden("only the MOU's parties may sign it"));
    };
    if own.signed_at.is_some() {
        return Err(AppError::bad_input("id", "your organisation has already signed this MOU"));
    }
    let at = now();
    mou_party::ActiveModel { signed_at: Set(Some(at)), ..own.clone().into() }.update(&tx).await?;
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
    bump(&tx, am, id, expected, Kind::Mou).await?;
    changes::record(&tx, actor, ChangeOperation::Updated, Kind::Mou, id, &fields).await?;
    commit_returning::<mou::Entity>(store, tx, id).await
}

/// Creates a commitment under an MOU; the caller and the owner must be parties.
pub async fn create_commitment(
    store: &Store,
    actor: &Actor,
    input: CreateCommitmentInput,
    key: Option<&str>,
) -> AppResult<i64> {
    actor.require(Scope::MousWrite)?;
    let mou_id = ids::decode(Kind::Mou, &input.mou_id, "mouId")?;
    let description = text::required("description", &input.description, limits::NOTE)?;
    let owner_code = input.owner_code.trim().to_uppercase();
    let owner = organizations::ids_for_codes(store, std::slice::from_ref(&owner_code), "ownerCode").await?[0];
    let fingerprint = serde_json::to_value(&input).unwrap_or_default();
    let actor_tx = actor.clone();
    idempotency::create(
        store,
        actor,
        key,
        "createCommitment",
        Kind::Commitment,
        &fingerprint,
        Box::new(move |tx| {
            Box::pin(async move {
                let Some(m) = mou::Entity::find_by_id(mou_id).one(tx).await? else {
                    return Err(AppError::not_found("no Mou with that id"));
                };
                let party_rows = parties(tx, mou_id).await?;
                let party_ids: Vec<i64> = party_rows.iter().map(|p| p.organization_id).collect();
                if !access::mou_visible(&actor_tx, m.status, &party_ids) {
                    return Err(AppError::not_found("no Mou with that id"));
                }
                access::require_mou_party(&actor_tx, &roles(&party_rows)?, &[], "add commitments")?;
                if !party_ids.contains(&owner) {
                    return Err(AppError::bad_input("ownerCode", "the owner must be a party of the MOU"));
                }
                let at = now();
                let created = commitment::ActiveModel {
                    mou_id: Set(mou_id),
                    description: Set(description),
                    owner_id: Set(owner),
                    due_on: Set(naive(input.due_on)),
                    status: Set(CommitmentStatus::Open),
                    version: Set(1),
                    created_at: Set(at),
                    updated_at: Set(at),
                    ..Default::default()
                }
                .insert(tx)
                .await?;
                changes::record(tx, &actor_tx, ChangeOperation::Created, Kind::Commitment, created.id, &["*"]).await?;
                Ok(created.id)
            })
        }),
    )
    .await
}

/// Updates a commitment: its owner or the MOU's lead.
pub async fn update_commitment(
    store: &Store,
    actor: &Actor,
    input: UpdateCommitmentInput,
) -> AppResult<commitment::Model> {
    actor.require(Scope::MousWrite)?;
    let id = ids::decode(Kind::Commitment, &input.id, "id")?;
    let description =
        input.description.as_deref().map(|v| text::required("description", v, limits::NOTE)).transpose()?;
    let tx = store.begin_write().await?;
    let Some(cur) = commitment::Entity::find_by_id(id).one(&tx).await? else {
        return Err(AppError::not_found("no Commitment with that id"));
    };
    let m = mou::Entity::find_by_id(cur.mou_id)
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::internal("commitment without MOU"))?;
    let party_rows = parties(&tx, cur.mou_id).await?;
    let party_ids: Vec<i64> = party_rows.iter().map(|p| p.organization_id).collect();
    if !access::mou_visible(actor, m.status, &party_ids) {
        return Err(AppError::not_found("no Commitment with that id"));
    }
    let is_lead = roles(&party_rows)?.iter().any(|(o, r)| *o == actor.org_id && *r == PartyRole::Lead);
    if cur.owner_id != actor.org_id && !is_lead {
        return Err(AppError::forbidden("only the commitment's owner or the MOU's lead may change it"));
    }
    // The row read above is the current one: check its version, do not read it again.
    check_version(Kind::Commitment, cur.version, input.expected_version)?;
    let mut fields = Vec::new();
    let mut am = <commitment::ActiveModel as Default>::default();
    if let Some(v) = diff(&mut fields, "description", &cur.description, description) {
        am.description = Set(v);
    }
    if let Some(v) = diff(&mut fields, "dueOn", &cur.due_on, naive(input.due_on).map(Some)) {
        am.due_on = Set(v);
    }
    let status = cur.status;
    if let Some(to) = input.status.filter(|to| *to != status) {
        lifecycle::check_move("status", COMMITMENT_MOVES, status, to)?;
        fields.push("status");
        am.status = Set(to);
    }
    if fields.is_empty() {
        return commit_returning::<commitment::Entity>(store, tx, id).await;
    }
    bump(&tx, am, id, input.expected_version, Kind::Commitment).await?;
    changes::record(&tx, actor, ChangeOperation::Updated, Kind::Commitment, id, &fields).await?;
    commit_returning::<commitment::Entity>(store, tx, id).await
}
