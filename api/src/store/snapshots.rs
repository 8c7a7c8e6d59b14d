//! What a record holds, as the API shows it: the values the audit trail's
//! before/after diffs are made of ([`super::changes`]).
//!
//! A snapshot maps each GraphQL field of a record type to the value a query
//! of that field returns: scalars and enums as they are written in a
//! response (`DateTime` in RFC 3339, `Date` as `YYYY-MM-DD`), a related
//! organisation or province as `{"code": ...}`, a related record as
//! `{"id": <global id>}`, lists in the order the API lists them. Fields that
//! are pages of other records (`enrolments`, `programmes`), and `id`,
//! `version`, `createdAt` and `updatedAt`, are not part of it. Snapshots are
//! read inside the write's transaction, so "after" is the state it commits.

use std::collections::{BTreeSet, HashMap};

use entity::{
    commitment, community, community_award, curriculum, curriculum_contributor, curriculum_model_community,
    curriculum_module, enrolment, enrolment_transition, mou, mou_party, organization, programme, programme_curriculum,
    programme_partner,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::domain::ids::{self, Kind};
use crate::error::AppResult;

/// A record's fields and their values, as the API returns them.
pub type Snapshot = serde_json::Map<String, Value>;

/// The fields of each record type that hold personal data: readers without
/// `communities:pii` see that they changed, never their values.
pub fn is_personal(kind: Kind, field: &str) -> bool {
    matches!((kind, field), (Kind::Community, "contact"))
}

/// The snapshots of records `ids` of `kind` (records that do not exist are
/// left out).
pub async fn take_many<C: ConnectionTrait>(conn: &C, kind: Kind, ids: &[i64]) -> AppResult<HashMap<i64, Snapshot>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    match kind {
        Kind::Community => communities(conn, ids).await,
        Kind::Mou => mous(conn, ids).await,
        Kind::Commitment => commitments(conn, ids).await,
        Kind::Programme => programmes(conn, ids).await,
        Kind::Curriculum => curricula(conn, ids).await,
        Kind::Enrolment => enrolments(conn, ids).await,
        _ => Ok(HashMap::new()),
    }
}

/// The snapshot of record `id` of `kind` (empty if it does not exist).
pub async fn take<C: ConnectionTrait>(conn: &C, kind: Kind, id: i64) -> AppResult<Snapshot> {
    Ok(take_many(conn, kind, &[id]).await?.remove(&id).unwrap_or_default())
}

/// Organisation codes by id, for the organisations in `ids`.
async fn org_codes<C: ConnectionTrait>(conn: &C, ids: BTreeSet<i64>) -> AppResult<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = organization::Entity::find().filter(organization::Column::Id.is_in(ids)).all(conn).await?;
    Ok(rows.into_iter().map(|o| (o.id, o.code)).collect())
}

fn org(codes: &HashMap<i64, String>, id: i64) -> Value {
    json!({ "code": codes.get(&id) })
}

fn record(kind: Kind, id: i64) -> Value {
    json!({ "id": ids::encode(kind, id) })
}

fn at(value: &chrono::DateTime<chrono::Utc>) -> Value {
    Value::String(value.to_rfc3339())
}

fn date(value: Option<chrono::NaiveDate>) -> Value {
    value.map_or(Value::Null, |d| Value::String(d.format("%Y-%m-%d").to_string()))
}

fn list(text: &str) -> Value {
    Value::Array(text.split_whitespace().map(|t| Value::String(t.to_owned())).collect())
}

fn object(value: Value) -> Snapshot {
    match value {
        Value::Object(map) => map,
        _ => Snapshot::new(),
    }
}

/// Children of `parents` grouped by parent, in the order the query gave.
fn group<M>(rows: Vec<M>, parent: impl Fn(&M) -> i64) -> HashMap<i64, Vec<M>> {
    let mut out: HashMap<i64, Vec<M>> = HashMap::new();
    for row in rows {
        out.entry(parent(&row)).or_default().push(row);
    }
    out
}

async fn communities<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> AppResult<HashMap<i64, Snapshot>> {
    let rows = community::Entity::find().filter(community::Column::Id.is_in(ids.iter().copied())).all(conn).await?;
    let awards = community_award::Entity::find()
        .filter(community_award::Column::CommunityId.is_in(ids.iter().copied()))
        .order_by_asc(community_award::Column::Year)
        .order_by_asc(community_award::Column::Id)
        .all(conn)
        .await?;
    let mut awards = group(awards, |a| a.community_id);
    let codes = org_codes(conn, rows.iter().filter_map(|c| c.tier_assessed_by).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let awards: Vec<Value> = awards
                .remove(&c.id)
                .unwrap_or_default()
                .into_iter()
                .map(|a| json!({ "year": a.year, "category": a.category.as_str(), "title": a.title }))
                .collect();
            let contact = c
                .contact_name
                .as_ref()
                .map(|name| json!({ "name": name, "phone": c.contact_phone, "email": c.contact_email }));
            let snapshot = json!({
                "code": c.code,
                "nameTh": c.name_th,
                "nameEn": c.name_en,
                "province": { "code": c.province_code },
                "district": c.district,
                "subdistrict": c.subdistrict,
                "villageNo": c.village_no,
                "households": c.households,
                "description": c.description,
                "tourismTier": c.tourism_tier.map(|t| t.as_str()),
                "tierAssessedBy": c.tier_assessed_by.map(|id| org(&codes, id)),
                "tierAssessedAt": c.tier_assessed_at.as_ref().map(at),
                "contact": contact,
                "awards": awards,
            });
            (c.id, object(snapshot))
        })
        .collect())
}

async fn mous<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> AppResult<HashMap<i64, Snapshot>> {
    let rows = mou::Entity::find().filter(mou::Column::Id.is_in(ids.iter().copied())).all(conn).await?;
    let parties = mou_party::Entity::find()
        .filter(mou_party::Column::MouId.is_in(ids.iter().copied()))
        .order_by_asc(mou_party::Column::Position)
        .all(conn)
        .await?;
    let codes = org_codes(conn, parties.iter().map(|p| p.organization_id).collect()).await?;
    let mut parties = group(parties, |p| p.mou_id);
    Ok(rows
        .into_iter()
        .map(|m| {
            let parties: Vec<Value> = parties
                .remove(&m.id)
                .unwrap_or_default()
                .into_iter()
                .map(|p| {
                    json!({
                        "organization": org(&codes, p.organization_id),
                        "role": p.role.as_str(),
                        "signedAt": p.signed_at.as_ref().map(at),
                    })
                })
                .collect();
            let snapshot = json!({
                "code": m.code,
                "titleTh": m.title_th,
                "titleEn": m.title_en,
                "purpose": m.purpose,
                "status": m.status.as_str(),
                "parties": parties,
                "signedOn": date(m.signed_on),
                "startsOn": date(m.starts_on),
                "endsOn": date(m.ends_on),
            });
            (m.id, object(snapshot))
        })
        .collect())
}

async fn commitments<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> AppResult<HashMap<i64, Snapshot>> {
    let rows = commitment::Entity::find().filter(commitment::Column::Id.is_in(ids.iter().copied())).all(conn).await?;
    let codes = org_codes(conn, rows.iter().map(|c| c.owner_id).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let snapshot = json!({
                "mou": record(Kind::Mou, c.mou_id),
                "description": c.description,
                "owner": org(&codes, c.owner_id),
                "dueOn": date(c.due_on),
                "status": c.status.as_str(),
            });
            (c.id, object(snapshot))
        })
        .collect())
}

async fn programmes<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> AppResult<HashMap<i64, Snapshot>> {
    let rows = programme::Entity::find().filter(programme::Column::Id.is_in(ids.iter().copied())).all(conn).await?;
    let partners = programme_partner::Entity::find()
        .filter(programme_partner::Column::ProgrammeId.is_in(ids.iter().copied()))
        .order_by_asc(programme_partner::Column::OrganizationId)
        .all(conn)
        .await?;
    let curricula = programme_curriculum::Entity::find()
        .filter(programme_curriculum::Column::ProgrammeId.is_in(ids.iter().copied()))
        .order_by_asc(programme_curriculum::Column::CurriculumId)
        .all(conn)
        .await?;
    let orgs = partners.iter().map(|p| p.organization_id).chain(rows.iter().map(|p| p.lead_id)).collect();
    let codes = org_codes(conn, orgs).await?;
    let mut partners = group(partners, |p| p.programme_id);
    let mut curricula = group(curricula, |c| c.programme_id);
    Ok(rows
        .into_iter()
        .map(|p| {
            let partners: Vec<Value> =
                partners.remove(&p.id).unwrap_or_default().iter().map(|x| org(&codes, x.organization_id)).collect();
            let curricula: Vec<Value> = curricula
                .remove(&p.id)
                .unwrap_or_default()
                .iter()
                .map(|x| record(Kind::Curriculum, x.curriculum_id))
                .collect();
            let snapshot = json!({
                "code": p.code,
                "nameTh": p.name_th,
                "nameEn": p.name_en,
                "theme": p.theme.as_str(),
                "status": p.status.as_str(),
                "mou": p.mou_id.map(|id| record(Kind::Mou, id)),
                "lead": org(&codes, p.lead_id),
                "partners": partners,
                "targetTiers": list(&p.target_tiers),
                "capacity": p.capacity,
                "startsOn": date(p.starts_on),
                "endsOn": date(p.ends_on),
                "curricula": curricula,
            });
            (p.id, object(snapshot))
        })
        .collect())
}

async fn curricula<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> AppResult<HashMap<i64, Snapshot>> {
    let rows = curriculum::Entity::find().filter(curriculum::Column::Id.is_in(ids.iter().copied())).all(conn).await?;
    let contributors = curriculum_contributor::Entity::find()
        .filter(curriculum_contributor::Column::CurriculumId.is_in(ids.iter().copied()))
        .order_by_asc(curriculum_contributor::Column::OrganizationId)
        .all(conn)
        .await?;
    let modules = curriculum_module::Entity::find()
        .filter(curriculum_module::Column::CurriculumId.is_in(ids.iter().copied()))
        .order_by_asc(curriculum_module::Column::Position)
        .all(conn)
        .await?;
    let models = curriculum_model_community::Entity::find()
        .filter(curriculum_model_community::Column::CurriculumId.is_in(ids.iter().copied()))
        .order_by_asc(curriculum_model_community::Column::CommunityId)
        .all(conn)
        .await?;
    let orgs = contributors.iter().map(|c| c.organization_id).chain(rows.iter().map(|c| c.owner_id)).collect();
    let codes = org_codes(conn, orgs).await?;
    let mut contributors = group(contributors, |c| c.curriculum_id);
    let mut modules = group(modules, |m| m.curriculum_id);
    let mut models = group(models, |m| m.curriculum_id);
    Ok(rows
        .into_iter()
        .map(|c| {
            let contributors: Vec<Value> =
                contributors.remove(&c.id).unwrap_or_default().iter().map(|x| org(&codes, x.organization_id)).collect();
            let modules: Vec<Value> = modules
                .remove(&c.id)
                .unwrap_or_default()
                .into_iter()
                .map(|m| json!({ "position": m.position, "title": m.title, "hours": m.hours, "objectives": m.objectives }))
                .collect();
            let models: Vec<Value> = models
                .remove(&c.id)
                .unwrap_or_default()
                .iter()
                .map(|m| record(Kind::Community, m.community_id))
                .collect();
            let snapshot = json!({
                "code": c.code,
                "titleTh": c.title_th,
                "titleEn": c.title_en,
                "kind": c.kind.as_str(),
                "status": c.status.as_str(),
                "focusAreas": list(&c.focus_areas),
                "owner": org(&codes, c.owner_id),
                "contributors": contributors,
                "modules": modules,
                "modelCommunities": models,
            });
            (c.id, object(snapshot))
        })
        .collect())
}

/// An enrolment's snapshot after a move from `from` to `to` at `at` by the
/// organisation `by` (its code) with `note`, from its snapshot `before`:
/// the status, and the history with the move appended, as the API would
/// then return them.
pub fn enrolment_moved(
    before: &Snapshot,
    to: crate::domain::enums::EnrolmentStatus,
    from: crate::domain::enums::EnrolmentStatus,
    at: chrono::DateTime<chrono::Utc>,
    by: &str,
    note: Option<&str>,
) -> Snapshot {
    let mut after = before.clone();
    after.insert("status".to_owned(), Value::String(to.as_str().to_owned()));
    let mut history = match after.remove("history") {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    history.push(json!({
        "from": from.as_str(),
        "to": to.as_str(),
        "at": self::at(&at),
        "by": { "code": by },
        "note": note,
    }));
    after.insert("history".to_owned(), Value::Array(history));
    after
}

async fn enrolments<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> AppResult<HashMap<i64, Snapshot>> {
    let rows = enrolment::Entity::find().filter(enrolment::Column::Id.is_in(ids.iter().copied())).all(conn).await?;
    let history = enrolment_transition::Entity::find()
        .filter(enrolment_transition::Column::EnrolmentId.is_in(ids.iter().copied()))
        .order_by_asc(enrolment_transition::Column::Id)
        .all(conn)
        .await?;
    let orgs = history.iter().map(|h| h.by_org).chain(rows.iter().map(|e| e.nominated_by)).collect();
    let codes = org_codes(conn, orgs).await?;
    let mut history = group(history, |h| h.enrolment_id);
    Ok(rows
        .into_iter()
        .map(|e| {
            let history: Vec<Value> = history
                .remove(&e.id)
                .unwrap_or_default()
                .into_iter()
                .map(|h| {
                    json!({
                        "from": h.from_status.map(|s| s.as_str()),
                        "to": h.to_status.as_str(),
                        "at": at(&h.at),
                        "by": org(&codes, h.by_org),
                        "note": h.note,
                    })
                })
                .collect();
            let snapshot = json!({
                "community": record(Kind::Community, e.community_id),
                "programme": record(Kind::Programme, e.programme_id),
                "curriculum": e.curriculum_id.map(|id| record(Kind::Curriculum, id)),
                "status": e.status.as_str(),
                "nominatedBy": org(&codes, e.nominated_by),
                "nominatedAt": at(&e.nominated_at),
                "history": history,
            });
            (e.id, object(snapshot))
        })
        .collect())
}
