//! The caller of a request, as an axum extractor: the bearer token of the
//! `Authorization` header verified against the trusted issuers
//! (`crate::auth`: signature by `kid`, claims, the issuer's grant), then its
//! `org` looked up in the organisation directory. The result is the
//! request's [`Actor`].
//!
//! A refused caller is a [`Refusal`], the response the request gets: 401
//! for a missing or invalid token or an unknown organisation, 403 for a
//! token beyond its issuer's grant, 503 when the directory cannot be read;
//! a GraphQL-shaped body with `extensions.code` and `requestId`. The
//! GraphQL endpoint takes `Result<Caller, Refusal>`, so that its own checks
//! of the request (a JSON body, a query, no mutation over GET) still answer
//! first, and a refusal is logged only when it is sent.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::endpoint::{refused, request_id};
use super::media::{self, Media};
use crate::app::AppState;
use crate::auth;
use crate::domain::access::Actor;
use crate::error::AppError;

/// The verified caller of a request.
pub struct Caller(pub Actor);

/// Why a request's caller was refused, and the response that says so.
pub struct Refusal {
    status: StatusCode,
    error: AppError,
    /// The refused token's fingerprint, when the token itself was refused.
    token_sha256: Option<String>,
    media: Media,
    request_id: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let headers = &parts.headers;
        let refusal = |status: StatusCode, error: AppError, token_sha256: Option<String>| Refusal {
            status,
            error,
            token_sha256,
            media: media::negotiate(headers, false),
            request_id: request_id(headers),
        };
        let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let verified = match auth::bearer(authorization) {
            Ok(token) => state.verifier.verify(token).await,
            Err(e) => Err(e),
        };
        let verified = match verified {
            Ok(verified) => verified,
            Err(e) => {
                // Never the token itself: a short hash lets support match reports.
                let hash = authorization.map(auth::token_fingerprint).unwrap_or_default();
                let status = match e {
                    AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                    _ => StatusCode::UNAUTHORIZED,
                };
                return Err(refusal(status, e, Some(hash)));
            }
        };
        match auth::actor(verified, &state.orgs).await {
            Ok(actor) => Ok(Caller(actor)),
            Err(e @ AppError::Unauthenticated(_)) => Err(refusal(StatusCode::UNAUTHORIZED, e, None)),
            Err(e) => Err(refusal(StatusCode::SERVICE_UNAVAILABLE, e, None)),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let Refusal { status, error, token_sha256, media, request_id } = self;
        if let Some(hash) = &token_sha256 {
            tracing::info!(code = error.code(), reason = %error.message(), token_sha256 = %hash, "token refused");
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(code = error.code(), "authentication failed: {:?}", error);
        }
        refused(status, media, error.code(), error.message(), &request_id)
    }
}
