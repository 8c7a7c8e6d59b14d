//! Bearer tokens: verification (every request) and minting (the CLI and
//! development). At this stage tokens are HS256 with a shared secret.
//!
//! Every validation setting is chosen here, not left to the library:
//! `exp`, `iat`, `iss`, `aud` and `sub` are required; `nbf` is honoured;
//! the leeway is the configured one (5 s by default, not the library's 60);
//! the algorithm is pinned to HS256; tokens over 8 KiB are refused unread.

mod directory;

pub use directory::OrgDirectory;

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::domain::access::{Actor, Scope};
use crate::error::{AppError, AppResult};

/// The largest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The claims of a partner token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The calling person or system.
    pub sub: String,
    /// The partner organisation's code.
    pub org: String,
    /// Space-separated scopes.
    pub scope: String,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before (optional).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nbf: Option<i64>,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
}

/// Verifies and mints tokens.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
}

impl Tokens {
    /// Tokens signed with `secret`, for `issuer` and `audience`.
    pub fn new(secret: &Secret, issuer: &str, audience: &str, leeway: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_audience(&[audience]);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        Tokens {
            encoding: EncodingKey::from_secret(secret.expose()),
            decoding: DecodingKey::from_secret(secret.expose()),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        }
    }

    /// Verifies a token's signature and claims. Does not touch the database.
    pub fn verify(&self, token: &str) -> AppResult<Claims> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AppError::Unauthenticated("the token is too large".into()));
        }
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            let why = match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::ImmatureSignature => "the token is not valid yet",
                ErrorKind::InvalidAudience => "the token is for another audience",
                ErrorKind::InvalidIssuer => "the token is from an untrusted issuer",
                ErrorKind::InvalidSignature => "the token's signature is invalid",
                ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
                ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                _ => "the token is malformed",
            };
            AppError::Unauthenticated(why.into())
        })?;
        let claims = data.claims;
        if claims.sub.trim().is_empty() || claims.sub.len() > 200 {
            return Err(AppError::Unauthenticated("the token's sub is empty or too long".into()));
        }
        if claims.org.trim().is_empty() {
            return Err(AppError::Unauthenticated("the token names no organization".into()));
        }
        Ok(claims)
    }

    /// Mints a token for `org` with `scopes`, valid for `ttl`.
    pub fn mint(&self, org: &str, scopes: &[Scope], ttl: Duration, subject: &str) -> AppResult<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            org: org.to_owned(),
            scope: scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
            exp: now + ttl.as_secs() as i64,
            iat: now,
            nbf: None,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(AppError::internal)
    }
}

/// Parses a scope claim: names separated by single spaces; unknown names are
/// ignored (a token may carry scopes for other services), malformed ones
/// (empty segments, other whitespace) refuse the token.
pub fn parse_scopes(claim: &str) -> AppResult<BTreeSet<Scope>> {
    let mut out = BTreeSet::new();
    if claim.is_empty() {
        return Ok(out);
    }
    let mut seen = HashSet::new();
    for name in claim.split(' ') {
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AppError::Unauthenticated("the token's scope claim is malformed".into()));
        }
        if !seen.insert(name) {
            continue;
        }
        if let Some(scope) = Scope::parse(name) {
            out.insert(scope);
        }
    }
    Ok(out)
}

/// Turns verified claims into the request's actor, resolving the organisation.
pub async fn actor(claims: Claims, orgs: &OrgDirectory) -> AppResult<Actor> {
    let scopes = parse_scopes(&claims.scope)?;
    let Some(org_id) = orgs.id_of(&claims.org).await? else {
        return Err(AppError::Unauthenticated(format!(
            "unknown organization {}",
            claims.org.chars().take(40).collect::<String>()
        )));
    };
    Ok(Actor {
        org_id,
        org_code: claims.org,
        subject: claims.sub,
        scopes,
        expires_at: DateTime::<Utc>::from_timestamp(claims.exp, 0).unwrap_or_default(),
        issuer: claims.iss,
    })
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> AppResult<&str> {
    let Some(value) = header else {
        return Err(AppError::Unauthenticated("a bearer token is required (Authorization: Bearer ...)".into()));
    };
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(token.trim()),
        _ => Err(AppError::Unauthenticated("the Authorization header must be: Bearer <token>".into())),
    }
}
