//! `GET /exports/{id}`: an export's file, for a bearer token of the
//! organisation that made it (with `exports:run`). Another organisation's
//! export, or no such export, is 404 (its existence is not revealed); an
//! expired one 410; one not completed 409. The file streams from the
//! database chunk by chunk, so any replica serves it.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::caller::{Caller, Refusal};
use super::endpoint::{refused, request_id};
use super::media::Media;
use crate::app::AppState;
use crate::domain::access;
use crate::domain::enums::{ExportFormat, ExportStatus};
use crate::domain::ids::{self, Kind};
use crate::store::exports as store;

/// GET /exports/{id}.
pub async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    caller: Result<Caller, Refusal>,
) -> Response {
    let request = request_id(&headers);
    let error = |status: StatusCode, code: &str, message: String| refused(status, Media::Json, code, message, &request);
    let actor = match caller {
        Ok(Caller(actor)) => actor,
        Err(refusal) => return refusal.into_response(),
    };
    let org = match access::exports_org(&actor) {
        Ok(org) => org,
        Err(e) => return error(StatusCode::FORBIDDEN, e.code(), e.message()),
    };
    let not_found = || error(StatusCode::NOT_FOUND, "NOT_FOUND", "no export with that id".to_owned());
    let Some((Kind::Export, id)) = ids::decode_any(&id) else {
        return not_found();
    };
    let export = match store::get_own(&state.store, org, id).await {
        Ok(Some(export)) => export,
        Ok(None) => return not_found(),
        Err(e) => {
            let status = match e.code() {
                "SERVICE_UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            if let crate::error::AppError::Internal(cause) | crate::error::AppError::Unavailable(cause) = &e {
                tracing::error!(code = e.code(), cause = %cause, request_id = %request, "reading an export failed");
            }
            return error(status, e.code(), e.message());
        }
    };
    let expired = export.status == ExportStatus::Expired
        || (export.status == ExportStatus::Completed && export.expires_at.is_none_or(|at| at <= chrono::Utc::now()));
    if expired {
        let message = "the export has expired and its file was deleted: start it again".to_owned();
        return error(StatusCode::GONE, "EXPORT_EXPIRED", message);
    }
    if export.status != ExportStatus::Completed {
        let message = format!("the export is {}: its file can be downloaded once it is COMPLETED", export.status);
        return error(StatusCode::CONFLICT, "EXPORT_NOT_READY", message);
    }
    let global = ids::encode(Kind::Export, export.id);
    let (content_type, extension) = match export.format {
        ExportFormat::Jsonl => ("application/x-ndjson; charset=utf-8", "jsonl"),
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    tracing::info!(export_id = export.id, org = %actor.org_code, bytes = export.byte_size, "export downloaded");
    let db = state.store.clone();
    let chunks = futures_util::stream::unfold(Some(0i32), move |seq| {
        let db = db.clone();
        async move {
            let seq = seq?;
            match store::chunk(&db, id, seq).await {
                Ok(Some(data)) => Some((Ok::<Bytes, std::io::Error>(Bytes::from(data)), Some(seq + 1))),
                Ok(None) => None,
                // The response is already under way: end it short, so the
                // client sees fewer bytes than Content-Length promised.
                Err(e) => Some((Err(std::io::Error::other(e.message())), None)),
            }
        }
    });
    let mut response = Response::new(Body::from_stream(chunks));
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(export.byte_size.max(0) as u64));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"export-{global}.{extension}\"")) {
        out.insert(header::CONTENT_DISPOSITION, value);
    }
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}
