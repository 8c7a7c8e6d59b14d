//! Trusted issuers: which identity providers the service believes, for
//! which organisations and scopes, with which keys.
//!
//! Read from the TOML file named by `TRUSTED_ISSUERS_FILE`:
//!
//! ```toml
//! [[issuers]]
//! iss = "https://idp.cdd.example"
//! audiences = ["partner-records-api"]
//! organizations = ["CDD"]            # or ["*"]
//! max_scopes = ["communities:read", "communities:classify"]   # or ["*"]
//!
//! [[issuers.keys]]                    # a PEM public key
//! kid = "cdd-2026"
//! alg = "RS256"                       # RS256, ES256 or EdDSA (HS256: development only)
//! pem_file = "keys/cdd-2026.pem"      # relative to this file's folder
//!
//! [[issuers.keys]]                    # a JWKS file
//! jwks_file = "keys/cdd.jwks.json"
//!
//! [[issuers.keys]]                    # a JWKS URL, cached and refetched
//! jwks_url = "https://idp.cdd.example/.well-known/jwks.json"
//! max_age_secs = 300                  # refetch when older (default 300)
//! min_refetch_secs = 10               # at most one refetch per 10 s on an unknown kid
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use super::keys::{KeySet, RemoteJwks, StaticKey, algorithm_of};
use crate::domain::access::Scope;

/// A problem in the issuers file.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct IssuerError(pub String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    issuers: Vec<IssuerEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuerEntry {
    iss: String,
    audiences: Vec<String>,
    organizations: Vec<String>,
    max_scopes: Vec<String>,
    keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    kid: Option<String>,
    alg: Option<String>,
    pem_file: Option<String>,
    secret_env: Option<String>,
    jwks_file: Option<String>,
    jwks_url: Option<String>,
    max_age_secs: Option<u64>,
    min_refetch_secs: Option<u64>,
}

/// Which organisations an issuer may speak for.
#[derive(Clone, Debug)]
pub enum Organizations {
    /// Any organisation.
    Any,
    /// Only these codes.
    Only(BTreeSet<String>),
}

/// One trusted issuer.
pub struct Issuer {
    /// Its `iss`.
    pub iss: String,
    /// The audiences it may address tokens to.
    pub audiences: Vec<String>,
    /// The organisations it may speak for.
    pub organizations: Organizations,
    /// The most scopes it may grant.
    pub max_scopes: BTreeSet<Scope>,
    /// Its verification keys.
    pub keys: KeySet,
}

impl Issuer {
    /// The development issuer: HS256 with the shared secret, any organisation, every scope.
    pub fn development(iss: &str, audience: &str, secret: &[u8]) -> Issuer {
        Issuer {
            iss: iss.to_owned(),
            audiences: vec![audience.to_owned()],
            organizations: Organizations::Any,
            max_scopes: Scope::ALL.into_iter().collect(),
            keys: KeySet::new(
                vec![StaticKey { kid: None, alg: Algorithm::HS256, key: DecodingKey::from_secret(secret) }],
                None,
            ),
        }
    }

    /// Whether the issuer may speak for `org`.
    pub fn may_speak_for(&self, org: &str) -> bool {
        match &self.organizations {
            Organizations::Any => true,
            Organizations::Only(codes) => codes.contains(org),
        }
    }
}

fn bad(message: impl Into<String>) -> IssuerError {
    IssuerError(message.into())
}

/// Reads the issuers file. `allow_hs256` is false in production.
pub fn load(path: &Path, allow_hs256: bool) -> Result<Vec<Issuer>, IssuerError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    let file: File = toml::from_str(&text).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if file.issuers.is_empty() {
        return Err(bad("the issuers file lists no issuer"));
    }
    let mut seen = BTreeSet::new();
    file.issuers
        .into_iter()
        .map(|entry| {
            if !seen.insert(entry.iss.clone()) {
                return Err(bad(format!("issuer {} is listed twice", entry.iss)));
            }
            issuer(entry, &base, allow_hs256)
        })
        .collect()
}

fn issuer(entry: IssuerEntry, base: &Path, allow_hs256: bool) -> Result<Issuer, IssuerError> {
    let iss = entry.iss.clone();
    if iss.trim().is_empty() || entry.audiences.is_empty() {
        return Err(bad(format!("issuer {iss:?} needs iss and at least one audience")));
    }
    let organizations = if entry.organizations.iter().any(|o| o == "*") {
        Organizations::Any
    } else if entry.organizations.is_empty() {
        return Err(bad(format!("issuer {iss} speaks for no organization")));
    } else {
        Organizations::Only(entry.organizations.iter().map(|o| o.trim().to_uppercase()).collect())
    };
    let max_scopes = if entry.max_scopes.iter().any(|s| s == "*") {
        Scope::ALL.into_iter().collect()
    } else {
        entry
            .max_scopes
            .iter()
            .map(|s| Scope::parse(s).ok_or_else(|| bad(format!("issuer {iss}: unknown scope {s}"))))
            .collect::<Result<_, _>>()?
    };
    let mut statics = Vec::new();
    let mut remote = None;
    for key in entry.keys {
        let path = |p: &str| -> PathBuf { base.join(p) };
        match (&key.pem_file, &key.secret_env, &key.jwks_file, &key.jwks_url) {
            (Some(pem), None, None, None) => {
                let alg = parse_alg(&iss, key.alg.as_deref())?;
                let bytes =
                    std::fs::read(path(pem)).map_err(|e| bad(format!("issuer {iss}: cannot read {pem}: {e}")))?;
                let decoding = match alg {
                    Algorithm::RS256 => DecodingKey::from_rsa_pem(&bytes),
                    Algorithm::ES256 => DecodingKey::from_ec_pem(&bytes),
                    Algorithm::EdDSA => DecodingKey::from_ed_pem(&bytes),
                    _ => return Err(bad(format!("issuer {iss}: a PEM key must be RS256, ES256 or EdDSA"))),
                }
                .map_err(|e| bad(format!("issuer {iss}: {pem} is not a {alg:?} public key: {e}")))?;
                statics.push(StaticKey { kid: key.kid.clone(), alg, key: decoding });
            }
            (None, Some(env), None, None) => {
                if !allow_hs256 {
                    return Err(bad(format!("issuer {iss}: HS256 secrets are for development only")));
                }
                let secret = std::env::var(env).map_err(|_| bad(format!("issuer {iss}: {env} is not set")))?;
                if secret.len() < 32 {
                    return Err(bad(format!("issuer {iss}: the secret in {env} is shorter than 32 bytes")));
                }
                statics.push(StaticKey {
                    kid: key.kid.clone(),
                    alg: Algorithm::HS256,
                    key: DecodingKey::from_secret(secret.as_bytes()),
                });
            }
            (None, None, Some(file), None) => {
                let text = std::fs::read_to_string(path(file))
                    .map_err(|e| bad(format!("issuer {iss}: cannot read {file}: {e}")))?;
                let set: jsonwebtoken::jwk::JwkSet =
                    serde_json::from_str(&text).map_err(|e| bad(format!("issuer {iss}: {file} is not a JWKS: {e}")))?;
                for jwk in &set.keys {
                    let Some(alg) = algorithm_of(jwk) else { continue };
                    if alg == Algorithm::HS256 && !allow_hs256 {
                        return Err(bad(format!("issuer {iss}: HS256 keys are for development only")));
                    }
                    let decoding = DecodingKey::from_jwk(jwk).map_err(|e| bad(format!("issuer {iss}: {file}: {e}")))?;
                    statics.push(StaticKey { kid: jwk.common.key_id.clone(), alg, key: decoding });
                }
            }
            (None, None, None, Some(url)) => {
                if remote.is_some() {
                    return Err(bad(format!("issuer {iss}: at most one jwks_url")));
                }
                remote = Some(RemoteJwks::new(
                    url.clone(),
                    Duration::from_secs(key.max_age_secs.unwrap_or(300)),
                    Duration::from_secs(key.min_refetch_secs.unwrap_or(10)),
                ));
            }
            _ => {
                return Err(bad(format!(
                    "issuer {iss}: each key gives exactly one of pem_file, secret_env, jwks_file, jwks_url"
                )));
            }
        }
    }
    if statics.is_empty() && remote.is_none() {
        return Err(bad(format!("issuer {iss} has no keys")));
    }
    Ok(Issuer {
        iss: entry.iss,
        audiences: entry.audiences,
        organizations,
        max_scopes,
        keys: KeySet::new(statics, remote),
    })
}

fn parse_alg(iss: &str, alg: Option<&str>) -> Result<Algorithm, IssuerError> {
    match alg {
        Some("RS256") => Ok(Algorithm::RS256),
        Some("ES256") => Ok(Algorithm::ES256),
        Some("EdDSA") => Ok(Algorithm::EdDSA),
        other => Err(bad(format!("issuer {iss}: alg must be RS256, ES256 or EdDSA, not {other:?}"))),
    }
}
