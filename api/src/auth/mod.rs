//! Bearer tokens: verification against the trusted issuers (every request)
//! and minting for development (the CLI, demo tokens, the playground).
//!
//! Every validation setting is chosen here, not left to the library:
//! `exp`, `iat`, `iss`, `aud` and `sub` are required; `nbf` is honoured;
//! the leeway is the configured one (5 s by default, not the library's 60);
//! the algorithm is pinned by the key the `kid` selects (no HS/RS confusion,
//! no `none`); tokens over 8 KiB are refused unread; a token whose `org` or
//! scopes go beyond its issuer's grant is refused.

mod directory;
pub mod issuers;
pub mod keys;

pub use directory::OrgDirectory;
pub use issuers::Issuer;

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::dangerous::insecure_decode_claims;
use jsonwebtoken::{Algorithm, EncodingKey, Header, Validation, decode, decode_header, encode};
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

/// Mints development tokens (HS256 with the shared secret): the CLI, the
/// demo tokens and the playground use it.
#[derive(Clone)]
pub struct Minter {
    encoding: EncodingKey,
    issuer: String,
    audience: String,
}

impl Minter {
    /// A minter for the development issuer.
    pub fn new(secret: &Secret, issuer: &str, audience: &str) -> Self {
        Minter {
            encoding: EncodingKey::from_secret(secret.expose()),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        }
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

/// A verified token: its claims and the scopes granted.
pub struct Verified {
    /// The token's claims.
    pub claims: Claims,
    /// The scopes it carries, all within its issuer's grant.
    pub scopes: BTreeSet<Scope>,
}

/// Only `iss`, read before verification to pick the issuer's keys.
#[derive(Deserialize)]
struct IssuerOnly {
    iss: String,
}

/// Verifies tokens against the trusted issuers.
pub struct Verifier {
    issuers: Vec<Issuer>,
    leeway: Duration,
}

fn unauthenticated(why: &str) -> AppError {
    AppError::Unauthenticated(why.to_owned())
}

impl Verifier {
    /// A verifier trusting `issuers`, with `leeway` on `exp` and `nbf`.
    pub fn new(issuers: Vec<Issuer>, leeway: Duration) -> Self {
        Verifier { issuers, leeway }
    }

    /// Verifies a token: signature, algorithm pinned by the key, claims, and
    /// the issuer's grant. Never touches the database.
    pub async fn verify(&self, token: &str) -> AppResult<Verified> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(unauthenticated("the token is too large"));
        }
        let header = decode_header(token).map_err(|_| unauthenticated("the token is malformed"))?;
        // Read `iss` only to choose the keys; nothing is trusted until the
        // signature is verified below with the key that issuer published.
        let unverified: IssuerOnly =
            insecure_decode_claims(token).map_err(|_| unauthenticated("the token is malformed"))?;
        let Some(issuer) = self.issuers.iter().find(|i| i.iss == unverified.iss) else {
            return Err(unauthenticated("the token is from an untrusted issuer"));
        };
        let Some(key) = issuer.keys.find(header.kid.as_deref()).await else {
            return Err(unauthenticated("the token's key is unknown"));
        };
        if key.alg != header.alg {
            return Err(unauthenticated("the token's algorithm does not match its key"));
        }
        let mut validation = Validation::new(key.alg);
        validation.algorithms = vec![key.alg];
        validation.leeway = self.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_audience(&issuer.audiences);
        validation.set_issuer(&[&issuer.iss]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data = decode::<Claims>(token, &key.key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            unauthenticated(match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::ImmatureSignature => "the token is not valid yet",
                ErrorKind::InvalidAudience => "the token is for another audience",
                ErrorKind::InvalidIssuer => "the token is from an untrusted issuer",
                ErrorKind::InvalidSignature => "the token's signature is invalid",
                ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
                ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                _ => "the token is malformed",
            })
        })?;
        let claims = data.claims;
        if claims.sub.trim().is_empty() || claims.sub.len() > 200 {
            return Err(unauthenticated("the token's sub is empty or too long"));
        }
        if claims.org.trim().is_empty() || claims.org.len() > 40 {
            return Err(unauthenticated("the token names no organization"));
        }
        if claims.iat > Utc::now().timestamp() + self.leeway.as_secs() as i64 {
            return Err(unauthenticated("the token was issued in the future"));
        }
        let scopes = parse_scopes(&claims.scope)?;
        if !issuer.may_speak_for(&claims.org) {
            return Err(AppError::forbidden("the token's issuer may not speak for its organization"));
        }
        if let Some(extra) = scopes.iter().find(|s| !issuer.max_scopes.contains(s)) {
            return Err(AppError::forbidden(format!("the token's issuer may not grant {}", extra.as_str())));
        }
        Ok(Verified { claims, scopes })
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

/// Turns a verified token into the request's actor, resolving the organisation.
pub async fn actor(verified: Verified, orgs: &OrgDirectory) -> AppResult<Actor> {
    let Verified { claims, scopes } = verified;
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

/// The first 12 hex digits of the SHA-256 of a credential: what logs show
/// instead of a token.
pub fn token_fingerprint(credential: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(credential.as_bytes());
    hex::encode(&digest[..6])
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
