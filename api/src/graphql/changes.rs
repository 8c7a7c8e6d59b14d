//! The change feed and audit trail.

use async_graphql::{Context, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::change_event;

use super::connection::{self, PageInfo};
use super::context::{Ctx, organization};
use super::node::{self, Node};
use super::organizations::Organization;
use crate::domain::access;
use crate::domain::enums::ChangeOperation;
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::store::changes as store;

/// One committed change, in commit order. The feed partners sync from.
pub struct ChangeEvent {
    cursor: String,
    event: change_event::Model,
}

impl ChangeEvent {
    /// The event with its feed cursor.
    pub fn new(event: change_event::Model) -> Self {
        ChangeEvent { cursor: crate::store::keyset::encode_cursor(&store::SORT, None, event.id), event }
    }
}

/// One committed change, in commit order. The feed partners sync from.
#[Object]
impl ChangeEvent {
    /// The event's cursor: pass it as `after` to read what follows.
    async fn cursor(&self) -> &str {
        &self.cursor
    }
    /// When the change was made.
    async fn at(&self) -> DateTime<Utc> {
        self.event.at
    }
    /// Whether the record was created or updated.
    async fn operation(&self) -> ChangeOperation {
        self.event.operation
    }
    /// The GraphQL type name of the record, e.g. "Enrolment".
    async fn entity_type(&self) -> &str {
        &self.event.entity_type
    }
    /// The record's global id.
    async fn entity_id(&self) -> Result<ID> {
        let kind = Kind::from_name(&self.event.entity_type).ok_or_else(|| AppError::internal("unknown entity type"))?;
        Ok(ID(ids::encode(kind, self.event.entity_id)))
    }
    /// The record as it is now, if the caller may see it.
    async fn node(&self, ctx: &Context<'_>) -> Result<Option<Node>> {
        let kind = Kind::from_name(&self.event.entity_type).ok_or_else(|| AppError::internal("unknown entity type"))?;
        Ok(node::load(ctx, kind, self.event.entity_id).await?)
    }
    /// The organisation that made the change.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Organization> {
        Ok(Organization(organization(ctx, self.event.actor_org_id).await?))
    }
    /// The person or system that made it (the token's `sub`).
    async fn subject(&self) -> &str {
        &self.event.subject
    }
    /// The GraphQL fields that changed ("*" for a creation).
    async fn changed_fields(&self) -> Vec<String> {
        self.event.changed_fields.split_whitespace().map(str::to_owned).collect()
    }
    /// Each changed field with its value before and after, as the API
    /// returned it (a creation lists every field with its initial value).
    /// Personal data (`Community.contact`) shows only that it changed,
    /// unless the caller has `communities:pii`. Empty for events recorded
    /// before values were.
    async fn diff(&self, ctx: &Context<'_>) -> Result<Vec<FieldChange>> {
        let pii = access::may_read_contacts(ctx.actor()?).is_ok();
        Ok(field_changes(&self.event, pii))
    }
}

/// One field's change in a change event.
#[derive(SimpleObject)]
pub struct FieldChange {
    /// The GraphQL field of the record.
    pub field: String,
    /// Its value before the change, as the API returned it: a scalar or
    /// enum as written in a response, a related organisation or province as
    /// `{"code": ...}`, a related record as `{"id": ...}`, a list in the
    /// API's order. Null for a creation, and when redacted.
    pub before: Option<Json<serde_json::Value>>,
    /// Its value after the change, in the same form. Null when redacted.
    pub after: Option<Json<serde_json::Value>>,
    /// Whether the values are withheld: personal data, for a caller without
    /// `communities:pii`.
    pub redacted: bool,
}

/// The diff of `event`, with personal data withheld unless `pii`.
pub fn field_changes(event: &change_event::Model, pii: bool) -> Vec<FieldChange> {
    let kind = Kind::from_name(&event.entity_type);
    store::diff(event)
        .into_iter()
        .map(|change| {
            let redacted = !pii && kind.is_some_and(|k| crate::store::snapshots::is_personal(k, &change.field));
            let value = |v: serde_json::Value| (!redacted && !v.is_null()).then_some(Json(v));
            FieldChange { field: change.field, before: value(change.before), after: value(change.after), redacted }
        })
        .collect()
}

/// An edge in the change feed.
#[derive(SimpleObject)]
pub struct ChangeEventEdge {
    /// The event's cursor.
    pub cursor: String,
    /// The event.
    pub node: ChangeEvent,
}

/// A page of the change feed.
#[derive(SimpleObject)]
pub struct ChangeEventConnection {
    /// The events with their cursors.
    pub edges: Vec<ChangeEventEdge>,
    /// The events.
    pub nodes: Vec<ChangeEvent>,
    /// Where this page stands.
    pub page_info: PageInfo,
}

/// The `changes` root field.
#[derive(Default)]
pub struct ChangeQuery;

/// The `changes` root field.
#[Object]
impl ChangeQuery {
    /// Committed changes after a cursor, in commit order, limited to records
    /// the caller may read (`changes:read`). Polling with the last cursor
    /// never misses an event and never repeats one. With `entityId`, the
    /// history (audit trail) of one record.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cursor of the last event already read; omit to start from the beginning.")] after: Option<
            String,
        >,
        #[graphql(desc = "How many events to return (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Only events of these record types (GraphQL type names, e.g. \"Enrolment\").")]
        entity_types: Option<Vec<String>>,
        #[graphql(desc = "Only events of this record: its history.")] entity_id: Option<ID>,
    ) -> Result<ChangeEventConnection> {
        let actor = ctx.actor()?;
        access::may_read_feed(actor)?;
        let entity = match &entity_id {
            Some(id) => match ids::decode_any(id) {
                Some(found) => Some(found),
                None => return Err(AppError::bad_input("entityId", "not a valid id").into()),
            },
            None => None,
        };
        let args = connection::args(first, after, None, None);
        let page = store::page(ctx.store()?, actor, &args, entity_types.as_deref(), entity).await?;
        let page_info = PageInfo::of(&page);
        let events: Vec<(String, change_event::Model)> = page.rows;
        Ok(ChangeEventConnection {
            edges: events
                .iter()
                .map(|(c, e)| ChangeEventEdge {
                    cursor: c.clone(),
                    node: ChangeEvent { cursor: c.clone(), event: e.clone() },
                })
                .collect(),
            nodes: events.into_iter().map(|(cursor, event)| ChangeEvent { cursor, event }).collect(),
            page_info,
        })
    }
}
