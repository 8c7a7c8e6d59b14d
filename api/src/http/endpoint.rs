//! The GraphQL endpoint: authenticate, attach the caller and fresh loaders,
//! execute, and stamp every error with the request id.

use async_graphql::ServerError;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::router::REQUEST_ID;
use crate::app::AppState;
use crate::auth;
use crate::error::AppError;
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
pub async fn graphql(State(state): State<AppState>, headers: HeaderMap, request: GraphQLRequest) -> Response {
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
    let request = request.into_inner().data(actor).data(Loaders::new(&state.store.db, state.config.batch_window));
    let mut response = state.schema.execute(request).await;
    for error in &mut response.errors {
        stamp(error, &id);
    }
    GraphQLResponse::from(response).into_response()
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
