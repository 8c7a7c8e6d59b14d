//! The body of a delivery: the event, its feed cursor, and the record as
//! the subscribing organisation may read it at delivery time.
//!
//! The record is read by running a GraphQL query through the service's own
//! schema as the subscription's organisation, with the scopes stored on the
//! subscription: every read rule of the API (scopes, MOU visibility, PII)
//! applies unchanged, and the record has the shape and names a partner
//! already knows from the API.

use async_graphql::{Request, Variables};
use entity::change_event;
use serde_json::{Value, json};

use crate::domain::access::{self, Actor};
use crate::domain::ids::{self, Kind};
use crate::graphql::AppSchema;
use crate::store::keyset::encode_cursor;
use crate::store::loaders::Loaders;
use crate::store::{Store, changes};

const RECORD_FIELDS: &str = r#"
  __typename id
  ... on Organization { code nameTh nameEn kind }
  ... on Community { code nameTh nameEn province { code } district subdistrict villageNo households description
                     tourismTier tierAssessedBy { code } tierAssessedAt awards { year category title }
                     version createdAt updatedAt CONTACT }
  ... on Mou { code titleTh titleEn purpose status parties { organization { code } role signedAt }
               signedOn startsOn endsOn version createdAt updatedAt }
  ... on Commitment { mou { id code } description owner { code } dueOn status version }
  ... on Programme { code nameTh nameEn theme status mou { id code } lead { code } partners { code }
                     targetTiers capacity startsOn endsOn curricula { id code } version }
  ... on Curriculum { code titleTh titleEn kind status focusAreas owner { code } contributors { code } version }
  ... on Enrolment { community { id code } programme { id code } curriculum { id code } status
                     nominatedBy { code } nominatedAt history { from to at by { code } note } version updatedAt }
"#;

/// The event as the body carries it (the same names as `ChangeEvent` in the
/// API), its diff with personal data withheld unless `pii`.
pub fn event_json(event: &change_event::Model, actor_code: &str, pii: bool) -> Value {
    let diff: Vec<Value> = crate::graphql::changes::field_changes(event, pii)
        .into_iter()
        .map(|c| {
            json!({
                "field": c.field,
                "before": c.before.map(|v| v.0),
                "after": c.after.map(|v| v.0),
                "redacted": c.redacted,
            })
        })
        .collect();
    let kind = Kind::from_name(&event.entity_type);
    json!({
        "cursor": encode_cursor(&changes::SORT, None, event.id),
        "at": event.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "operation": event.operation.as_str(),
        "entityType": event.entity_type,
        "entityId": kind.map(|k| ids::encode(k, event.entity_id)),
        "actor": { "code": actor_code },
        "subject": event.subject,
        "changedFields": event.changed_fields.split_whitespace().collect::<Vec<_>>(),
        "diff": diff,
    })
}

/// The record of `event` as `actor` may read it now: `null` when it may not
/// (or no longer exists), with the reason in `recordErrors`. A contact it
/// holds is recorded in the personal-data access log under `message_id`.
pub async fn record(
    schema: &AppSchema,
    store: &Store,
    actor: &Actor,
    event: &change_event::Model,
    message_id: &str,
) -> (Value, Value) {
    let Some(kind) = Kind::from_name(&event.entity_type) else {
        return (Value::Null, Value::Null);
    };
    let contact = if access::may_read_contacts(actor).is_ok() { "contact { name phone email }" } else { "" };
    let query = format!(
        "query WebhookRecord($id: ID!) {{ node(id: $id) {{ {} }} }}",
        RECORD_FIELDS.replace("CONTACT", contact)
    );
    // A contact delivered is a read of personal data, by the subscription.
    let meta = crate::governance::pii_log::RequestMeta {
        request_id: message_id.to_owned(),
        operation: Some("WebhookRecord".to_owned()),
        via: "webhook",
        contacts: Default::default(),
    };
    let request = Request::new(query.as_str())
        .variables(Variables::from_json(json!({ "id": ids::encode(kind, event.entity_id) })))
        .data(actor.clone())
        .data(store.clone())
        // One record: there are no sibling fields to wait for, so the
        // loaders run at once instead of after the request batch window.
        .data(Loaders::new(&store.db, std::time::Duration::ZERO))
        .data(meta.clone());
    let mut response = schema.execute(request).await;
    if let Some(log) = schema.data::<std::sync::Arc<crate::governance::pii_log::PiiLog>>() {
        log.record_collected(actor, &meta);
    }
    crate::graphql::nulls::propagate(&query, None, &mut response);
    let data = response.data.into_json().unwrap_or(Value::Null);
    let errors: Vec<Value> = response
        .errors
        .iter()
        .map(|e| {
            json!({
                "message": e.message,
                "path": e.path.iter().map(|p| serde_json::to_value(p).unwrap_or(Value::Null)).collect::<Vec<_>>(),
                "code": e.extensions.as_ref().and_then(|x| x.get("code")).map(|c| c.to_string().trim_matches('"').to_owned()),
            })
        })
        .collect();
    let record = data.get("node").cloned().unwrap_or(Value::Null);
    (record, if errors.is_empty() { Value::Null } else { Value::Array(errors) })
}

/// The whole body of one delivery, in the Standard Webhooks shape
/// (`type`, `timestamp`, `data`).
pub async fn body(
    schema: &AppSchema,
    store: &Store,
    actor: &Actor,
    event: &change_event::Model,
    actor_code: &str,
    message_id: &str,
) -> Vec<u8> {
    let (record, record_errors) = record(schema, store, actor, event, message_id).await;
    let body = json!({
        "type": format!("{}.{}", event.entity_type, event.operation.as_str().to_lowercase()),
        "timestamp": event.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": {
            "event": event_json(event, actor_code, access::may_read_contacts(actor).is_ok()),
            "record": record,
            "recordErrors": record_errors,
        }
    });
    serde_json::to_vec(&body).unwrap_or_default()
}
