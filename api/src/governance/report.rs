//! The data-subject report (`api pii report --community CODE`): what
//! personal data the service holds about a community's contact person, every
//! recorded change to it, and every recorded read of it, so a partner can
//! answer an access request under Thailand's PDPA (section 30).

use std::collections::HashMap;

use entity::{change_event, organization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::domain::ids::Kind;
use crate::error::{AppError, AppResult};
use crate::store::{Store, changes, communities, pii_log};

/// The report on the contact of community `code`, as JSON: `community`,
/// `contact` (held now, or null), `changes` (oldest first) and `reads`
/// (oldest first, as far back as the access log's retention).
pub async fn pii_report(store: &Store, code: &str, retention_days: u64) -> AppResult<Value> {
    let Some(community) = communities::by_code(store, code).await? else {
        return Err(AppError::not_found(format!("no community {code}")));
    };
    let orgs: HashMap<i64, String> =
        organization::Entity::find().all(&store.db).await?.into_iter().map(|o| (o.id, o.code)).collect();
    let org = |id: i64| orgs.get(&id).cloned().unwrap_or_else(|| id.to_string());
    let events = change_event::Entity::find()
        .filter(change_event::Column::EntityType.eq(Kind::Community.name()))
        .filter(change_event::Column::EntityId.eq(community.id))
        .order_by_asc(change_event::Column::Id)
        .all(&store.db)
        .await?;
    let changes: Vec<Value> = events
        .iter()
        .filter_map(|event| {
            let change = changes::diff(event).into_iter().find(|c| c.field == "contact")?;
            if change.before.is_null() && change.after.is_null() {
                return None;
            }
            Some(json!({
                "at": event.at.to_rfc3339(),
                "operation": event.operation.as_str(),
                "organization": org(event.actor_org_id),
                "subject": event.subject,
                "before": change.before,
                "after": change.after,
            }))
        })
        .collect();
    let reads: Vec<Value> = pii_log::of_community(store, community.id)
        .await?
        .into_iter()
        .map(|r| {
            json!({
                "at": r.at.to_rfc3339(),
                "organization": org(r.organization_id),
                "subject": r.subject,
                "requestId": r.request_id,
                "requests": r.request_count,
                "lastAt": r.last_at.map(|at| at.to_rfc3339()),
                "operationName": r.operation_name,
                "via": r.via,
            })
        })
        .collect();
    let contact = community
        .contact_name
        .as_ref()
        .map(|name| json!({ "name": name, "phone": community.contact_phone, "email": community.contact_email }));
    Ok(json!({
        "community": { "code": community.code, "nameTh": community.name_th, "nameEn": community.name_en },
        "contact": contact,
        "changes": changes,
        "reads": reads,
        "readsKeptForDays": retention_days,
        "generatedAt": crate::store::now().to_rfc3339(),
    }))
}

/// The report as text for a person.
pub fn text(report: &Value) -> String {
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    let mut out = String::new();
    let community = &report["community"];
    out.push_str(&format!(
        "Personal data held for the contact of community {} ({})\ngenerated {}\n\n",
        s(&community["code"]),
        s(&community["nameTh"]),
        s(&report["generatedAt"])
    ));
    match &report["contact"] {
        Value::Null => out.push_str("Contact held now: none\n"),
        c => out.push_str(&format!(
            "Contact held now:\n  name:  {}\n  phone: {}\n  email: {}\n",
            s(&c["name"]),
            s(&c["phone"]),
            s(&c["email"])
        )),
    }
    let changes = report["changes"].as_array().cloned().unwrap_or_default();
    out.push_str(&format!("\nChanges to it ({}):\n", changes.len()));
    for c in &changes {
        out.push_str(&format!(
            "  {}  {} by {} ({}): {} -> {}\n",
            s(&c["at"]),
            s(&c["operation"]),
            s(&c["organization"]),
            s(&c["subject"]),
            s(&c["before"]),
            s(&c["after"])
        ));
    }
    let reads = report["reads"].as_array().cloned().unwrap_or_default();
    out.push_str(&format!("\nReads of it ({}; kept {} days):\n", reads.len(), s(&report["readsKeptForDays"])));
    for r in &reads {
        out.push_str(&format!(
            "  {}  {} ({}) via {}, request {} ({} in all), operation {}\n",
            s(&r["at"]),
            s(&r["organization"]),
            s(&r["subject"]),
            s(&r["via"]),
            s(&r["requestId"]),
            s(&r["requests"]),
            s(&r["operationName"])
        ));
    }
    out
}
