//! The GraphQL endpoint, GraphQL over HTTP: `POST /graphql` and `GET
//! /graphql` (queries only). Both take one path, [`serve`]: take the
//! caller (authenticated by the [`Caller`] extractor), attach it and fresh loaders, admit against the limits and the
//! budget, execute, stamp every error with the request id, and answer in the
//! negotiated media type ([`super::media`]) with the status it calls for.

use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, ParseRequestError, ServerError};
use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLBatchRequest, GraphQLResponse};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::caller::{Caller, Refusal};
use super::media::{self, Media};
use super::router::REQUEST_ID;
use crate::app::AppState;
use crate::domain::access::Actor;
use crate::governance::documents;
use crate::governance::pii_log::RequestMeta;
use crate::graphql::{limits, nulls};
use crate::store::loaders::Loaders;

pub(super) fn request_id(headers: &HeaderMap) -> String {
    headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned()
}

/// A body in `media`, with `status`. Every answer of `/graphql` varies by
/// `Accept`.
fn respond(status: StatusCode, media: Media, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    headers.append(header::VARY, HeaderValue::from_static("accept"));
    response
}

/// A GraphQL-shaped error response for a request refused before execution:
/// without `data` in `application/graphql-response+json` (nothing ran), with
/// `"data": null` in `application/json` (as it always had).
pub(super) fn refused(status: StatusCode, media: Media, code: &str, message: String, request_id: &str) -> Response {
    let mut body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code, "requestId": request_id } }],
    });
    if media == Media::Json {
        body["data"] = serde_json::Value::Null;
    }
    respond(status, media, body.to_string())
}

/// POST /graphql: one operation, or a JSON array of them (a batch).
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Result<Caller, Refusal>,
    request: Result<GraphQLBatchRequest, GraphQLRejection>,
) -> Response {
    let media = media::negotiate(&headers, false);
    if !is_json(&headers) {
        let message = "a POST's body must be JSON, with Content-Type: application/json".to_owned();
        return refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, media, "BAD_USER_INPUT", message, &request_id(&headers));
    }
    let batch = match request {
        Ok(request) => request.into_inner(),
        Err(GraphQLRejection(error)) => {
            let status = match error {
                ParseRequestError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            };
            let message = format!("the body is not a GraphQL request: {error}");
            return refused(status, media, "BAD_USER_INPUT", message, &request_id(&headers));
        }
    };
    serve(&state, &headers, caller, Method::POST, media, batch).await
}

/// Whether the request's body is declared as `application/json`.
fn is_json(headers: &HeaderMap) -> bool {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// The parameters of a GET request, as the spec names them; `variables`
/// and `extensions` are JSON text.
#[derive(serde::Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

impl GetParams {
    /// The request these parameters make, read as a POST body would be (so
    /// `variables` must be a JSON object, or null).
    fn request(self) -> Result<async_graphql::Request, String> {
        let mut body = serde_json::Map::new();
        body.insert("query".into(), self.query.unwrap_or_default().into());
        if let Some(name) = self.operation_name {
            body.insert("operationName".into(), name.into());
        }
        for (key, text) in [("variables", self.variables), ("extensions", self.extensions)] {
            if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
                let value = serde_json::from_str(&text).map_err(|e| format!("`{key}` is not JSON: {e}"))?;
                body.insert(key.into(), value);
            }
        }
        serde_json::from_value(serde_json::Value::Object(body)).map_err(|e| e.to_string())
    }
}

/// GET /graphql: the playground page for a browser (one that asks for
/// `text/html` above JSON; a `query` parameter fills its editor), and
/// otherwise a query from the URL's parameters, for clients and caches.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Result<Caller, Refusal>,
    params: Result<Query<GetParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let media = media::negotiate(&headers, true);
    if media == Media::Html {
        return respond(StatusCode::OK, media, state.playground.as_str().to_owned());
    }
    let request = params.map_err(|e| e.body_text()).and_then(|Query(params)| params.request());
    match request {
        Ok(request) => serve(&state, &headers, caller, Method::GET, media, BatchRequest::Single(request)).await,
        Err(e) => {
            let message = format!("the URL's parameters are not a GraphQL request: {e}");
            refused(StatusCode::BAD_REQUEST, media, "BAD_USER_INPUT", message, &request_id(&headers))
        }
    }
}

/// Whether the operation a request selects is a mutation (false when that
/// cannot be told: the request's execution then reports why).
fn selects_mutation(request: &mut async_graphql::Request) -> bool {
    let name = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else { return false };
    crate::graphql::operation(doc, name.as_deref()).is_some_and(|op| op.ty == OperationType::Mutation)
}

/// Whether a response is a request error: refused before execution (a
/// parse, validation or variable error, a limit, the budget), so without
/// data and with no error at a path. An execution error that nulls the
/// whole result still has its field's path.
fn is_request_error(response: &async_graphql::Response) -> bool {
    !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// The one path of POST and GET: from the request's checks to the answer.
async fn serve(
    state: &AppState,
    headers: &HeaderMap,
    caller: Result<Caller, Refusal>,
    method: Method,
    media: Media,
    mut batch: BatchRequest,
) -> Response {
    let id = request_id(headers);
    if let BatchRequest::Single(r) = &batch
        && r.query.trim().is_empty()
        && !documents::has_persisted_hash(r)
    {
        let message = "the request has no query: send {\"query\": ...} with POST, or ?query=... with GET (a browser, asking for HTML, gets the playground)".to_owned();
        return refused(StatusCode::BAD_REQUEST, media, "BAD_USER_INPUT", message, &id);
    }
    // GraphQL over HTTP: a mutation is never run for a GET.
    if method == Method::GET
        && let BatchRequest::Single(r) = &mut batch
        && selects_mutation(r)
    {
        return get_mutation(media, &id);
    }
    // The caller was verified as the request was extracted; a refusal
    // answers only now, after the request's own checks above.
    let actor = match caller {
        Ok(Caller(actor)) => actor,
        Err(refusal) => return refusal.into_response(),
    };
    // Trusted documents: a hash alone becomes its text, and an operation the
    // organisation has not registered is refused (ENFORCE) before any
    // database work. A single operation's refusal is the request's answer;
    // a batch's refused operations answer with their error in turn.
    let mut refusals: Vec<Option<ServerError>> = Vec::new();
    match &mut batch {
        BatchRequest::Single(r) => {
            let name = r.operation_name.clone().or_else(|| operation_name_in(&r.query));
            if let Err(error) = state.documents.admit(&actor, r, name.as_deref()) {
                let code = error_code(&error).unwrap_or_else(|| "BAD_USER_INPUT".to_owned());
                let name = name.or_else(|| operation_name_in(&r.query));
                state.metrics.observe(name.as_deref(), &actor.org_code, &code, std::time::Duration::ZERO);
                // As for any request error: 200 in application/json, 400 in
                // application/graphql-response+json (GraphQL over HTTP).
                let status = if media == Media::Json { StatusCode::OK } else { StatusCode::BAD_REQUEST };
                return refused(status, media, &code, error.message, &id);
            }
            // A hash alone was a query's text only now.
            if method == Method::GET && selects_mutation(r) {
                return get_mutation(media, &id);
            }
        }
        BatchRequest::Batch(rs) => {
            for r in rs.iter_mut() {
                let name = r.operation_name.clone().or_else(|| operation_name_in(&r.query));
                refusals.push(state.documents.admit(&actor, r, name.as_deref()).err());
            }
        }
    }
    let span = tracing::Span::current();
    span.record("org", actor.org_code.as_str());
    span.record("sub", actor.subject.as_str());
    tracing::info!(org = %actor.org_code, sub = %actor.subject, "graphql request");
    let started = std::time::Instant::now();
    let operation = match &batch {
        BatchRequest::Single(r) => r.operation_name.clone().or_else(|| operation_name_in(&r.query)),
        BatchRequest::Batch(_) => Some("batch".to_owned()),
    };
    let org = actor.org_code.clone();
    if let BatchRequest::Batch(requests) = &batch
        && requests.len() > state.config.batch_limit
    {
        let message = format!(
            "a batch may hold at most {} operations; this one has {}",
            state.config.batch_limit,
            requests.len()
        );
        return refused(StatusCode::BAD_REQUEST, media, "QUERY_TOO_COMPLEX", message, &id);
    }
    // Every operation (of a batch too) gets its own cost check, the
    // caller and its own fresh loaders; a batch's operations run in turn.
    let (mut executed, is_batch) = match batch {
        BatchRequest::Single(r) => (vec![execute(state, &actor, r, &id).await], false),
        BatchRequest::Batch(rs) => {
            let mut out = Vec::with_capacity(rs.len());
            for (r, refusal) in rs.into_iter().zip(refusals.into_iter().chain(std::iter::repeat_with(|| None))) {
                match refusal {
                    Some(error) => out
                        .push(Executed { response: async_graphql::Response::from_errors(vec![error]), planned: None }),
                    None => out.push(execute(state, &actor, r, &id).await),
                }
            }
            (out, true)
        }
    };
    let mut retry_after: Option<u64> = None;
    for Executed { response: r, .. } in &mut executed {
        for error in &mut r.errors {
            stamp(error, &id);
            let extensions = error.extensions.as_ref();
            if extensions.and_then(|e| e.get("code")) == Some(&async_graphql::Value::from("RATE_LIMITED")) {
                let after = extensions.and_then(|e| e.get("retryAfter")).and_then(|v| match v {
                    async_graphql::Value::Number(n) => n.as_u64(),
                    _ => None,
                });
                retry_after = retry_after.max(after.or(Some(1)));
            }
        }
    }
    let outcome = first_code(executed.iter().map(|e| &e.response)).unwrap_or_else(|| "ok".to_owned());
    state.metrics.observe(operation.as_deref(), &org, &outcome, started.elapsed());
    let mut http = answer(executed, is_batch, media);
    if let Some(seconds) = retry_after {
        *http.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        if let Ok(value) = seconds.to_string().parse() {
            http.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    http
}

/// The HTTP answer to an executed request, in `media`. In
/// `application/graphql-response+json` a request error (of a single
/// operation) has no `data` and a 4xx or 5xx status; everything else, and
/// every batch, answers 200 (429 when a budget ran out: the caller sets it).
fn answer(executed: Vec<Executed>, is_batch: bool, media: Media) -> Response {
    let (responses, planned): (Vec<_>, Vec<_>) = executed.into_iter().map(|e| (e.response, e.planned)).unzip();
    let response = match is_batch {
        true => async_graphql::BatchResponse::Batch(responses),
        false => async_graphql::BatchResponse::Single(responses.into_iter().next().unwrap_or_default()),
    };
    if planned.iter().any(Option::is_some) {
        return answer_planned(response, planned, media);
    }
    if media == Media::GraphQLResponse
        && let async_graphql::BatchResponse::Single(r) = &response
        && is_request_error(r)
    {
        let status = match first_code(std::iter::once(r)).as_deref() {
            Some("SERVICE_UNAVAILABLE") => StatusCode::SERVICE_UNAVAILABLE,
            Some("INTERNAL") => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut body = serde_json::to_value(r).unwrap_or_default();
        if let Some(body) = body.as_object_mut() {
            body.remove("data");
        }
        return respond(status, media, body.to_string());
    }
    let mut http = GraphQLResponse::from(response).into_response();
    let headers = http.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    headers.append(header::VARY, HeaderValue::from_static("accept"));
    http
}

/// [`answer`] for responses of which some have a planned read's `data`:
/// each written as async-graphql writes a response (`data`, then
/// `extensions` and `errors` when not empty), with the headers it would
/// set (cache control, and the responses' own HTTP headers).
fn answer_planned(response: async_graphql::BatchResponse, planned: Vec<Option<Vec<u8>>>, media: Media) -> Response {
    let mut headers = response.http_headers();
    if response.is_ok()
        && let Some(value) = response.cache_control().value().and_then(|v| HeaderValue::from_str(&v).ok())
    {
        headers.insert(header::CACHE_CONTROL, value);
    }
    let size: usize = planned.iter().map(|p| p.as_ref().map_or(256, Vec::len) + 64).sum();
    let mut body = Vec::with_capacity(size);
    let (responses, is_batch) = match &response {
        async_graphql::BatchResponse::Single(r) => (std::slice::from_ref(r), false),
        async_graphql::BatchResponse::Batch(rs) => (rs.as_slice(), true),
    };
    if is_batch {
        body.push(b'[');
    }
    for (n, (response, planned)) in responses.iter().zip(&planned).enumerate() {
        if n > 0 {
            body.push(b',');
        }
        // Serialising to a Vec cannot fail (every key is a string).
        match planned {
            None => {
                let _ = serde_json::to_writer(&mut body, response);
            }
            Some(data) => {
                body.extend_from_slice(b"{\"data\":");
                body.extend_from_slice(data);
                if !response.extensions.is_empty() {
                    body.extend_from_slice(b",\"extensions\":");
                    let _ = serde_json::to_writer(&mut body, &response.extensions);
                }
                if !response.errors.is_empty() {
                    body.extend_from_slice(b",\"errors\":");
                    let _ = serde_json::to_writer(&mut body, &response.errors);
                }
                body.push(b'}');
            }
        }
    }
    if is_batch {
        body.push(b']');
    }
    let mut http = (StatusCode::OK, body).into_response();
    let out = http.headers_mut();
    out.extend(headers);
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    out.append(header::VARY, HeaderValue::from_static("accept"));
    http
}

/// One executed operation: its response, and the JSON of its `data` when
/// the planner answered it (the response then carries the rest: its
/// extensions, and no data of its own).
struct Executed {
    response: async_graphql::Response,
    planned: Option<Vec<u8>>,
}

/// Admits one operation against the limits and the budget (before any
/// database work), answers it with a planned read ([`crate::graphql::plan`])
/// or executes it with the caller and fresh loaders, nulls
/// what the errors of non-null fields null ([`nulls`]), and reports its cost.
async fn execute(state: &AppState, actor: &Actor, mut request: async_graphql::Request, request_id: &str) -> Executed {
    let limits = &state.config.limits;
    // What the personal-data access log records of this request.
    let meta = RequestMeta {
        request_id: request_id.to_owned(),
        operation: request.operation_name.clone().or_else(|| operation_name_in(&request.query)),
        via: "graphql",
        contacts: Default::default(),
    };
    // A document the schema validated before is kept parsed by the planner.
    let document = state.planner.document(&request);
    let cost = match limits::admit(&mut request, document.as_deref(), limits, &state.store, actor).await {
        Ok(cost) => cost,
        Err(error) => return Executed { response: async_graphql::Response::from_errors(vec![error]), planned: None },
    };
    let planned = match &document {
        Some(document) => state.planner.run(&state.store, actor, &request, document).await,
        None => None,
    };
    let planned = planned.map(|(data, contacts)| {
        if !contacts.is_empty() {
            state.pii.record(actor, &meta, contacts);
        }
        data
    });
    let mut response = match &planned {
        Some(_) => async_graphql::Response::default(),
        None => {
            let (query, operation_name) = (request.query.clone(), request.operation_name.clone());
            let request = request
                .data(actor.clone())
                .data(Loaders::new(&state.store.db, state.config.batch_window))
                .data(meta.clone());
            let mut response = state.schema.execute(request).await;
            state.pii.record_collected(actor, &meta);
            if !is_request_error(&response) {
                state.planner.validated(&query, operation_name.as_deref());
            }
            nulls::propagate(&query, operation_name.as_deref(), &mut response);
            response
        }
    };
    if let Some(cost) = &cost {
        limits::report(&mut response, cost, limits);
    }
    Executed { response, planned }
}

/// The name of a document's operation when it starts with one
/// (`query Name`, `mutation Name`): a cheap scan, for metrics only.
fn operation_name_in(query: &str) -> Option<String> {
    let rest = query.trim_start();
    let rest = rest.strip_prefix("query").or_else(|| rest.strip_prefix("mutation"))?;
    if !rest.starts_with(|c: char| c.is_whitespace()) {
        return None;
    }
    let name: String = rest.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

/// The 405 answer to a mutation sent with GET.
fn get_mutation(media: Media, id: &str) -> Response {
    let message = "a mutation needs POST: GET runs queries only".to_owned();
    let mut response = refused(StatusCode::METHOD_NOT_ALLOWED, media, "BAD_USER_INPUT", message, id);
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// The `extensions.code` of an error, if it has one.
fn error_code(error: &ServerError) -> Option<String> {
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code.clone()),
        _ => None,
    }
}

/// The code of the first error of a response, if any.
fn first_code<'a>(responses: impl Iterator<Item = &'a async_graphql::Response>) -> Option<String> {
    responses.flat_map(|r| r.errors.iter()).find_map(|e| match e.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code.clone()),
        async_graphql::Value::Enum(code) => Some(code.to_string()),
        _ => None,
    })
}

/// Adds the request id to an error, and a code to errors async-graphql
/// raised itself (parse and validation errors).
fn stamp(error: &mut ServerError, request_id: &str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", "BAD_USER_INPUT");
    }
    extensions.set("requestId", request_id);
}
