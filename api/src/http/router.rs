//! Every route of the service, in one place.

use axum::Router;
use axum::http::{HeaderName, StatusCode};
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use super::{endpoint, health, metrics};
use crate::app::AppState;

/// The request id header, set when the client sends none and echoed back.
pub const REQUEST_ID: &str = "x-request-id";

/// The service's router.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID);
    Router::new()
        .route("/graphql", get(endpoint::playground).post(endpoint::graphql))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        // GraphQLRequest streams the body, so axum's DefaultBodyLimit does
        // not apply: this layer is what caps it (413 past the limit).
        .layer(RequestBodyLimitLayer::new(state.config.body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, state.config.request_timeout))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!(
                "request",
                method = %req.method(),
                path = %req.uri().path(),
                request_id = %id,
                org = tracing::field::Empty,
                sub = tracing::field::Empty,
            )
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
