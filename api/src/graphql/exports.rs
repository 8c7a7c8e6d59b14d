//! Exports: a large answer (every page of one connection) written in the
//! background at one snapshot, to download as JSON Lines or CSV
//! (`exports:run`; what the export reads needs its own read scopes).

use std::sync::{Arc, OnceLock};

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::export;

use super::AppSchema;
use super::connection::{self, connection};
use super::context::Ctx;
use super::limits;
use crate::domain::access;
use crate::domain::enums::{ExportFormat, ExportStatus};
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::exports::rewrite::{self, PAGE_SIZE};
use crate::exports::runner::{failure_of, page_variables};
use crate::exports::{EXPORT_COST, Exports};
use crate::store::budget::{self, Spend};
use crate::store::exports::{self as store, NewExport};
use crate::store::keyset::encode_cursor;

/// An organisation's export: one connection's every page, written at one
/// database snapshot to a file that can be downloaded from `url`.
#[derive(Clone)]
pub struct Export(pub Arc<export::Model>);

impl Export {
    fn expired(&self) -> bool {
        self.0.status == ExportStatus::Expired
            || (self.0.status == ExportStatus::Completed && self.0.expires_at.is_some_and(|at| at <= Utc::now()))
    }
}

/// Why an export failed.
#[derive(SimpleObject)]
pub struct ExportError {
    /// A stable code: an API error code (`FORBIDDEN`, `BAD_USER_INPUT`, ...)
    /// for an error of the query, or `EXPORT_TOO_LARGE` (past the size
    /// limit), `INTERRUPTED` (the replica running it stopped; start it
    /// again), `BUSY` (no consistent snapshot could be taken; retry),
    /// `SNAPSHOT_LOST` (retry).
    pub code: String,
    /// What happened, for a person.
    pub message: String,
}

/// An organisation's export: one connection's every page, written at one
/// database snapshot to a file that can be downloaded from `url`.
#[Object]
impl Export {
    /// The export's global id.
    pub async fn id(&self) -> ID {
        ID(ids::encode(Kind::Export, self.0.id))
    }
    /// Where it stands (a completed export past `expiresAt` is `EXPIRED`).
    async fn status(&self) -> ExportStatus {
        if self.expired() { ExportStatus::Expired } else { self.0.status }
    }
    /// The file's format.
    async fn format(&self) -> ExportFormat {
        self.0.format
    }
    /// The query exported, as it was sent.
    async fn query(&self) -> &str {
        &self.0.query
    }
    /// The operation exported, when the query has several.
    async fn operation_name(&self) -> Option<&str> {
        self.0.operation_name.as_deref()
    }
    /// Objects (lines, without a CSV header) written so far.
    async fn object_count(&self) -> i32 {
        i32::try_from(self.0.object_count).unwrap_or(i32::MAX)
    }
    /// Bytes written so far (the file's size once completed).
    async fn byte_size(&self) -> Option<i32> {
        i32::try_from(self.0.byte_size).ok()
    }
    /// When it was started.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When a replica began to run it.
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    /// When it completed, failed or was canceled.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    /// Until when its file can be downloaded (`EXPORT_TTL_HOURS` after it completed).
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// Where to download the file, relative to the service (`GET`, with a
    /// bearer token of the same organisation with `exports:run`): only
    /// while it is completed and not expired.
    async fn url(&self) -> Option<String> {
        (self.0.status == ExportStatus::Completed && !self.expired())
            .then(|| format!("/exports/{}", ids::encode(Kind::Export, self.0.id)))
    }
    /// The change feed's cursor at the export's snapshot, once completed:
    /// load the file, then read `changes(after: cursor)` to follow every
    /// change made since, with nothing missed and nothing repeated.
    async fn cursor(&self) -> Option<String> {
        self.0.feed_position.map(|p| encode_cursor(&crate::store::changes::SORT, None, p))
    }
    /// Why it failed (null unless `FAILED`).
    async fn error(&self) -> Option<ExportError> {
        match (&self.0.error_code, &self.0.error_message) {
            (Some(code), message) => {
                Some(ExportError { code: code.clone(), message: message.clone().unwrap_or_default() })
            }
            _ => None,
        }
    }
}

connection!(ExportConnection, ExportEdge, Export, export::Entity, "exports");

/// What to export.
#[derive(InputObject)]
pub struct StartExportInput {
    /// A query with exactly one root field, a connection (`communities`,
    /// `enrolments`, `programmes`, `mous`, ...), without `first`, `last`,
    /// `after` or `before` (the export pages it, 100 at a time), selecting
    /// `nodes { ... }` or `edges { node { ... } }`: each node is one line.
    /// Nested connections are paged as written (20 by default).
    pub query: String,
    /// The query's variables (a JSON object).
    pub variables: Option<Json<serde_json::Value>>,
    /// The operation to export, when the query has several.
    pub operation_name: Option<String>,
    /// The file's format.
    #[graphql(default_with = "ExportFormat::Jsonl")]
    pub format: ExportFormat,
}

/// An error with a code of its own (and one extra extension).
fn coded(
    code: &'static str,
    message: String,
    extra: Option<(&'static str, async_graphql::Value)>,
) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| {
        e.set("code", code);
        if let Some((key, value)) = &extra {
            e.set(*key, value.clone());
        }
    })
}

/// The schema without data: what checks an export's query before it is
/// queued (validation needs no data, and with no caller attached no
/// resolver gets past its first check).
fn checking_schema() -> &'static AppSchema {
    static SCHEMA: OnceLock<AppSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| super::builder().finish())
}

/// Checks that the rewritten query validates against the schema, with its
/// variables.
async fn validate(plan: &rewrite::Plan, variables: &serde_json::Map<String, serde_json::Value>) -> Result<()> {
    let mut request = async_graphql::Request::new(plan.text.as_str()).variables(page_variables(variables, 0, None));
    if let Some(name) = &plan.operation_name {
        request = request.operation_name(name.as_str());
    }
    let response = checking_schema().execute(request).await;
    match response.errors.iter().find(|e| e.path.is_empty()) {
        Some(error) => {
            let failure = failure_of(error);
            Err(AppError::bad_input("query", format!("the query does not validate: {}", failure.message)).into())
        }
        None => Ok(()),
    }
}

/// Loads the caller's export `id` for `node` (needs `exports:run`).
pub async fn load(ctx: &Context<'_>, id: i64) -> Result<Option<Export>, AppError> {
    let org = access::exports_org(ctx.actor()?)?;
    Ok(store::get_own(ctx.store()?, org, id).await?.map(|m| Export(Arc::new(m))))
}

fn exports_of<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Exports>> {
    ctx.data_opt::<Arc<Exports>>().ok_or_else(|| AppError::internal("exports missing from the schema").into())
}

/// Queries of exports.
#[derive(Default)]
pub struct ExportQuery;

/// Queries of exports.
#[Object]
impl ExportQuery {
    /// One of the caller's organisation's exports (`exports:run`); null for
    /// another organisation's.
    async fn export(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Export>> {
        let org = access::exports_org(ctx.actor()?)?;
        let Some((Kind::Export, id)) = ids::decode_any(&id) else {
            return Ok(None);
        };
        Ok(store::get_own(ctx.store()?, org, id).await?.map(|m| Export(Arc::new(m))))
    }

    /// The caller's organisation's exports, oldest first (pass `last` for
    /// the newest; `exports:run`).
    async fn exports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<ExportConnection> {
        let org = access::exports_org(ctx.actor()?)?;
        let page = store::page(ctx.store()?, org, &connection::args(first, after, last, before)).await?;
        Ok(ExportConnection::new(page, store::own(org)))
    }
}

/// Starting and canceling exports.
#[derive(Default)]
pub struct ExportMutation;

/// Starting and canceling exports.
#[Object]
impl ExportMutation {
    /// Starts an export of one connection's every page (`exports:run`, and
    /// the read scopes of what it reads). It runs in the background; poll
    /// `export(id:)` until `COMPLETED`, then download `url`. One export per
    /// organisation runs at a time (else `EXPORT_IN_PROGRESS`, naming it in
    /// `extensions.exportId`). It costs 5,000 budget points, and each of its
    /// pages must pass the query limits.
    async fn start_export(&self, ctx: &Context<'_>, input: StartExportInput) -> Result<Export> {
        let actor = ctx.actor()?;
        let org = access::exports_org(actor)?;
        let exports = exports_of(ctx)?;
        let variables = match input.variables.map(|v| v.0) {
            None | Some(serde_json::Value::Null) => serde_json::Map::new(),
            Some(serde_json::Value::Object(map)) => map,
            Some(_) => return Err(AppError::bad_input("variables", "variables must be a JSON object").into()),
        };
        let plan = rewrite::plan(&input.query, input.operation_name.as_deref(), input.format)?;
        // Each page must pass the limits a request would.
        let limits = ctx.data_opt::<Arc<limits::Limits>>().map(|l| **l).unwrap_or_default();
        let document = async_graphql::parser::parse_query(&plan.text)
            .map_err(|e| AppError::internal(format!("the rewritten query: {e}")))?;
        let analysis = limits::analyse(&document, &page_variables(&variables, PAGE_SIZE, None));
        if let Err(error) = limits::check(&analysis, &limits) {
            return Err(coded(
                "QUERY_TOO_COMPLEX",
                format!("each page of the export (100 nodes) is past a limit: {}", error.message),
                None,
            ));
        }
        validate(&plan, &variables).await?;
        // The root list's own read scope, checked now rather than by the
        // first page (nested fields' scopes are the runner's to meet).
        match plan.root_field.as_str() {
            "changes" => access::may_read_feed(actor)?,
            _ => {
                if let Some(kind) = plan.root_type.strip_suffix("Connection").and_then(Kind::from_name) {
                    access::may_read(actor, kind)?;
                }
            }
        }
        let store_ = ctx.store()?;
        if let Some(running) = store::live(store_, org).await? {
            return Err(in_progress(running.id));
        }
        if let Some(budget) = limits.budget {
            match budget::spend(store_, budget, org, EXPORT_COST).await? {
                Spend::Spent { .. } => {}
                Spend::Exhausted { remaining, retry_after } => {
                    let retry = retry_after.ceil().max(1.0) as u64;
                    return Err(coded(
                        "RATE_LIMITED",
                        format!(
                            "your organisation's query budget is spent: an export costs {EXPORT_COST}, {} points are left; retry in {retry} s",
                            remaining.floor().max(0.0)
                        ),
                        Some(("retryAfter", async_graphql::Value::from(retry))),
                    ));
                }
            }
        }
        let new = NewExport {
            query: input.query,
            variables: (!variables.is_empty()).then(|| serde_json::Value::Object(variables).to_string()),
            operation_name: input.operation_name,
            format: input.format,
        };
        match store::create(store_, actor, new).await? {
            Ok(model) => {
                tracing::info!(export_id = model.id, org = %actor.org_code, "export queued");
                exports.queued();
                Ok(Export(Arc::new(model)))
            }
            Err(running) => Err(in_progress(running)),
        }
    }

    /// Cancels the caller's organisation's export if it is queued or
    /// running (its runner stops at its next page, and nothing of it can
    /// be downloaded); returns it.
    async fn cancel_export(&self, ctx: &Context<'_>, id: ID) -> Result<Export> {
        let org = access::exports_org(ctx.actor()?)?;
        let not_found = || AppError::not_found("no Export with that id");
        let Some((Kind::Export, id)) = ids::decode_any(&id) else {
            return Err(not_found().into());
        };
        let store_ = ctx.store()?;
        let canceled = store::cancel(store_, org, id).await?;
        let model = store::get_own(store_, org, id).await?.ok_or_else(not_found)?;
        if !canceled {
            return Err(AppError::bad_input(
                "id",
                format!("the export is {}: only a QUEUED or RUNNING export can be canceled", model.status),
            )
            .into());
        }
        if let Some(exports) = ctx.data_opt::<Arc<Exports>>() {
            exports.count("canceled");
        }
        Ok(Export(Arc::new(model)))
    }
}

/// `EXPORT_IN_PROGRESS`, naming the export that runs.
fn in_progress(id: i64) -> async_graphql::Error {
    let id = ids::encode(Kind::Export, id);
    coded(
        "EXPORT_IN_PROGRESS",
        format!("your organisation's export {id} is still running: wait for it, or cancel it, before starting another"),
        Some(("exportId", async_graphql::Value::from(id.clone()))),
    )
}
