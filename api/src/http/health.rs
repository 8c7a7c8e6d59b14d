//! Health checks: `/healthz` (the process answers) and `/readyz` (it can
//! reach the database). Neither needs a token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::app::AppState;

/// The process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The database answers a trivial query.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let probe =
        tokio::time::timeout(std::time::Duration::from_secs(2), state.store.db.execute_unprepared("SELECT 1")).await;
    match probe {
        Ok(Ok(_)) => (StatusCode::OK, Json(json!({ "status": "ready", "database": "ok" }))),
        _ => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "database": "unreachable" }))),
    }
}
