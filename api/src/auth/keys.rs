//! Verification keys: static ones (PEM, JWKS file, development secret) and
//! a remote JWKS, cached, refetched when it is old and (rate-limited) when a
//! token names a `kid` it does not hold, so keys rotate without a restart
//! and a flood of random `kid`s cannot hammer the identity provider.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};

/// A key with its pinned algorithm.
#[derive(Clone)]
pub struct StaticKey {
    /// Its key id, if it has one.
    pub kid: Option<String>,
    /// The one algorithm it verifies.
    pub alg: Algorithm,
    /// The key.
    pub key: DecodingKey,
}

/// The algorithm a JWK verifies: its `alg`, or else what its key type implies.
/// `None` for keys this service does not use (encryption keys, other curves).
pub fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    if let Some(alg) = jwk.common.key_algorithm {
        return match alg {
            KeyAlgorithm::RS256 => Some(Algorithm::RS256),
            KeyAlgorithm::ES256 => Some(Algorithm::ES256),
            KeyAlgorithm::EdDSA => Some(Algorithm::EdDSA),
            KeyAlgorithm::HS256 => Some(Algorithm::HS256),
            _ => None,
        };
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Some(Algorithm::ES256),
        AlgorithmParameters::OctetKeyPair(_) => Some(Algorithm::EdDSA),
        _ => None,
    }
}

struct Cached {
    keys: Vec<StaticKey>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

/// A JWKS fetched from a URL.
pub struct RemoteJwks {
    url: String,
    max_age: Duration,
    min_refetch: Duration,
    client: reqwest::Client,
    cache: RwLock<Cached>,
    /// One fetch at a time.
    fetching: Mutex<()>,
}

impl RemoteJwks {
    /// A JWKS at `url`, used for `max_age`, refetched on an unknown kid at most every `min_refetch`.
    pub fn new(url: String, max_age: Duration, min_refetch: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        RemoteJwks {
            url,
            max_age,
            min_refetch,
            client,
            cache: RwLock::new(Cached { keys: Vec::new(), fetched_at: None, last_attempt: None }),
            fetching: Mutex::new(()),
        }
    }

    async fn fetch(&self) -> Result<Vec<StaticKey>, String> {
        let response = self.client.get(&self.url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        if body.len() > 1024 * 1024 {
            return Err("the JWKS is over 1 MiB".into());
        }
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        Ok(set
            .keys
            .iter()
            .filter_map(|jwk| {
                let alg = algorithm_of(jwk)?;
                // A remote JWKS never supplies shared secrets.
                if alg == Algorithm::HS256 {
                    return None;
                }
                let key = DecodingKey::from_jwk(jwk).ok()?;
                Some(StaticKey { kid: jwk.common.key_id.clone(), alg, key })
            })
            .collect())
    }

    /// Refetches if the cache is older than `max_age`, or (when `unknown_kid`)
    /// if the last attempt is older than `min_refetch`.
    async fn refresh(&self, unknown_kid: bool) {
        let due = |c: &Cached| {
            let stale = c.fetched_at.is_none_or(|at| at.elapsed() >= self.max_age);
            let may_retry = c.last_attempt.is_none_or(|at| at.elapsed() >= self.min_refetch);
            (stale || unknown_kid) && may_retry
        };
        if !due(&*self.cache.read().await) {
            return;
        }
        let _one_at_a_time = self.fetching.lock().await;
        if !due(&*self.cache.read().await) {
            return;
        }
        let result = self.fetch().await;
        let mut cache = self.cache.write().await;
        cache.last_attempt = Some(Instant::now());
        match result {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "fetched JWKS");
                cache.keys = keys;
                cache.fetched_at = Some(Instant::now());
            }
            // Keep serving the keys we have; the provider may be briefly down.
            Err(e) => tracing::warn!(url = %self.url, error = %e, "JWKS fetch failed"),
        }
    }

    async fn find(&self, kid: Option<&str>) -> Option<StaticKey> {
        let cache = self.cache.read().await;
        select(&cache.keys, kid)
    }
}

fn select(keys: &[StaticKey], kid: Option<&str>) -> Option<StaticKey> {
    match kid {
        Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)).cloned(),
        // Without a kid, only an issuer with exactly one key can be unambiguous.
        None if keys.len() == 1 => keys.first().cloned(),
        None => None,
    }
}

/// An issuer's keys.
pub struct KeySet {
    statics: Vec<StaticKey>,
    remote: Option<Arc<RemoteJwks>>,
}

impl KeySet {
    /// Static keys and an optional remote JWKS.
    pub fn new(statics: Vec<StaticKey>, remote: Option<RemoteJwks>) -> Self {
        KeySet { statics, remote: remote.map(Arc::new) }
    }

    /// The key for `kid`: a static one, else the remote JWKS (refreshed
    /// when old, or rate-limited when the kid is unknown).
    pub async fn find(&self, kid: Option<&str>) -> Option<StaticKey> {
        if self.remote.is_none() || kid.is_none() {
            if let Some(key) = select(&self.statics, kid) {
                return Some(key);
            }
        } else if let Some(kid) = kid
            && let Some(key) = self.statics.iter().find(|k| k.kid.as_deref() == Some(kid))
        {
            return Some(key.clone());
        }
        let remote = self.remote.as_ref()?;
        remote.refresh(false).await;
        if let Some(key) = remote.find(kid).await {
            return Some(key);
        }
        remote.refresh(true).await;
        remote.find(kid).await
    }
}
