//! The GraphQL endpoint: authenticate, attach the caller and fresh loaders,
//! execute, and stamp every error with the request id.

use async_graphql::BatchRequest;
use async_graphql::ServerError;
use async_graphql_axum::{GraphQLBatchRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::router::REQUEST_ID;
use crate::app::AppState;
use crate::auth;
use crate::domain::access::Actor;
use crate::error::AppError;
use crate::graphql::limits;
use crate::store::loaders::Loaders;

fn request_id(headers: &HeaderMap) -> String {
    headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned()
}

/// A GraphQL-shaped error response for failures before execution.
fn refused(status: StatusCode, err: AppError, request_id: &str) -> Response {
    let code = err.code();
    let body = serde_json::json!({
        "data": null,
        "errors": [{ "message": err.message(), "extensions": { "code": code, "requestId": request_id } }],
    });
    (status, axum::Json(body)).into_response()
}

/// POST /graphql.
pub async fn graphql(State(state): State<AppState>, headers: HeaderMap, request: GraphQLBatchRequest) -> Response {
    let id = request_id(&headers);
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let verified = match auth::bearer(authorization) {
        Ok(token) => state.verifier.verify(token).await,
        Err(e) => Err(e),
    };
    if let Err(e) = &verified {
        // Never the token itself: a short hash lets support match reports.
        let hash = authorization.map(auth::token_fingerprint).unwrap_or_default();
        tracing::info!(code = e.code(), reason = %e.message(), token_sha256 = %hash, "token refused");
    }
    let actor = match verified {
        Ok(verified) => match auth::actor(verified, &state.orgs).await {
            Ok(actor) => actor,
            Err(e @ AppError::Unauthenticated(_)) => return refused(StatusCode::UNAUTHORIZED, e, &id),
            Err(e) => {
                tracing::error!(code = e.code(), "authentication failed: {:?}", e);
                return refused(StatusCode::SERVICE_UNAVAILABLE, e, &id);
            }
        },
        Err(e @ AppError::Forbidden(_)) => return refused(StatusCode::FORBIDDEN, e, &id),
        Err(e) => return refused(StatusCode::UNAUTHORIZED, e, &id),
    };
    let span = tracing::Span::current();
    span.record("org", actor.org_code.as_str());
    span.record("sub", actor.subject.as_str());
    tracing::info!(org = %actor.org_code, sub = %actor.subject, "graphql request");
    let batch = request.into_inner();
    let started = std::time::Instant::now();
    let operation = match &batch {
        BatchRequest::Single(r) => r.operation_name.clone().or_else(|| operation_name_in(&r.query)),
        BatchRequest::Batch(_) => Some("batch".to_owned()),
    };
    let org = actor.org_code.clone();
    if let BatchRequest::Batch(requests) = &batch
        && requests.len() > state.config.batch_limit
    {
        let error = AppError::bad_input(
            "batch",
            format!(
                "a batch may hold at most {} operations; this one has {}",
                state.config.batch_limit,
                requests.len()
            ),
        );
        return refused_with(StatusCode::BAD_REQUEST, "QUERY_TOO_COMPLEX", error.message(), &id);
    }
    // Every operation (of a batch too) gets its own cost check, the
    // caller and its own fresh loaders; a batch's operations run in turn.
    let mut response = match batch {
        BatchRequest::Single(r) => async_graphql::BatchResponse::Single(execute(&state, &actor, r).await),
        BatchRequest::Batch(rs) => {
            let mut out = Vec::with_capacity(rs.len());
            for r in rs {
                out.push(execute(&state, &actor, r).await);
            }
            async_graphql::BatchResponse::Batch(out)
        }
    };
    let mut retry_after: Option<u64> = None;
    let responses: Vec<&mut async_graphql::Response> = match &mut response {
        async_graphql::BatchResponse::Single(r) => vec![r],
        async_graphql::BatchResponse::Batch(rs) => rs.iter_mut().collect(),
    };
    for r in responses {
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
    let outcome = first_code(&response).unwrap_or_else(|| "ok".to_owned());
    state.metrics.observe(operation.as_deref(), &org, &outcome, started.elapsed());
    let mut http = GraphQLResponse::from(response).into_response();
    if let Some(seconds) = retry_after {
        *http.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        if let Ok(value) = seconds.to_string().parse() {
            http.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    http
}

/// Admits one operation against the limits and the budget (before any
/// database work), executes it with the caller and fresh loaders, and
/// reports its cost.
async fn execute(state: &AppState, actor: &Actor, mut request: async_graphql::Request) -> async_graphql::Response {
    let limits = &state.config.limits;
    let cost = match limits::admit(&mut request, limits, &state.store, actor).await {
        Ok(cost) => cost,
        Err(error) => return async_graphql::Response::from_errors(vec![error]),
    };
    let request = request.data(actor.clone()).data(Loaders::new(&state.store.db, state.config.batch_window));
    let mut response = state.schema.execute(request).await;
    if let Some(cost) = &cost {
        limits::report(&mut response, cost, limits);
    }
    response
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

/// The code of the first error of a response, if any.
fn first_code(response: &async_graphql::BatchResponse) -> Option<String> {
    let responses: Vec<&async_graphql::Response> = match response {
        async_graphql::BatchResponse::Single(r) => vec![r],
        async_graphql::BatchResponse::Batch(rs) => rs.iter().collect(),
    };
    responses.iter().flat_map(|r| r.errors.iter()).find_map(|e| match e.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code.clone()),
        async_graphql::Value::Enum(code) => Some(code.to_string()),
        _ => None,
    })
}

/// A GraphQL-shaped error with a code that is not an [`AppError`]'s.
fn refused_with(status: StatusCode, code: &str, message: String, request_id: &str) -> Response {
    let body = serde_json::json!({
        "data": null,
        "errors": [{ "message": message, "extensions": { "code": code, "requestId": request_id } }],
    });
    (status, axum::Json(body)).into_response()
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

/// GET /graphql: the GraphiQL playground.
pub async fn playground(State(state): State<AppState>) -> Html<String> {
    Html(state.playground.as_str().to_owned())
}
