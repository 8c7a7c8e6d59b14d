//! Trusted issuers: RS256, ES256 and EdDSA keys from PEM files and JWKS,
//! grants per issuer, key rotation on a live JWKS, and a suite of bad tokens.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use black_box_tests::{Backend, TestApp, code};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use tokio::sync::RwLock;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys");
const AUD: &str = "partner-records-api";

fn key_file(name: &str) -> Vec<u8> {
    std::fs::read(format!("{KEYS}/{name}")).expect("fixture key")
}

fn rsa(name: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(&key_file(name)).expect("rsa key")
}

fn ec() -> EncodingKey {
    EncodingKey::from_ec_pem(&key_file("ec-1.key")).expect("ec key")
}

fn ed() -> EncodingKey {
    EncodingKey::from_ed_pem(&key_file("ed-1.key")).expect("ed key")
}

fn claims(iss: &str, org: &str, scope: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": "svc", "org": org, "scope": scope, "exp": now + 300, "iat": now, "iss": iss, "aud": AUD })
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, key).expect("sign")
}

/// A JWKS served on 127.0.0.1 that the test can change, counting fetches.
struct JwksServer {
    url: String,
    set: Arc<RwLock<String>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    async fn start(initial: &JwkSet) -> JwksServer {
        let set = Arc::new(RwLock::new(serde_json::to_string(initial).expect("jwks")));
        let hits = Arc::new(AtomicUsize::new(0));
        let (s, h) = (set.clone(), hits.clone());
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                let (s, h) = (s.clone(), h.clone());
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    ([("content-type", "application/json")], s.read().await.clone())
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        JwksServer { url, set, hits }
    }

    async fn publish(&self, set: &JwkSet) {
        *self.set.write().await = serde_json::to_string(set).expect("jwks");
    }
}

fn jwk(key: &EncodingKey, alg: Algorithm, kid: &str) -> Jwk {
    let mut jwk = Jwk::from_encoding_key(key, alg).expect("jwk");
    jwk.common.key_id = Some(kid.to_owned());
    jwk
}

/// Starts the service trusting four issuers written to a TOML file.
async fn spawn(backend: Backend, jwks_url: &str) -> Option<TestApp> {
    let dir = std::env::temp_dir().join(format!("issuers-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("issuers.toml");
    let toml = format!(
        r#"
[[issuers]]
iss = "https://idp.cdd.test"
audiences = ["{AUD}"]
organizations = ["CDD"]
max_scopes = ["communities:read", "communities:write", "communities:classify", "mous:read"]
[[issuers.keys]]
kid = "cdd-rsa-1"
alg = "RS256"
pem_file = "{KEYS}/rsa-1.pub.pem"
[[issuers.keys]]
kid = "cdd-ec-1"
alg = "ES256"
pem_file = "{KEYS}/ec-1.pub.pem"

[[issuers]]
iss = "https://idp.gsb.test"
audiences = ["{AUD}", "other-api"]
organizations = ["GSB"]
max_scopes = ["*"]
[[issuers.keys]]
kid = "gsb-ed-1"
alg = "EdDSA"
pem_file = "{KEYS}/ed-1.pub.pem"

[[issuers]]
iss = "https://idp.fund.test"
audiences = ["{AUD}"]
organizations = ["VILLAGE_FUND", "FOUNDATION"]
max_scopes = ["*"]
[[issuers.keys]]
jwks_url = "{jwks_url}"
max_age_secs = 300
min_refetch_secs = 2
"#
    );
    std::fs::write(&path, toml).expect("write issuers");
    TestApp::spawn_with(backend, |c| {
        c.trusted_issuers_file = Some(path);
        c.jwt_secret = None;
    })
    .await
}

const VIEWER: &str = "{ viewer { organization { code } subject scopes issuer } }";

async fn every_key_type_is_accepted_and_viewer_names_the_issuer(app: TestApp) {
    let rs = sign(
        Algorithm::RS256,
        Some("cdd-rsa-1"),
        &rsa("rsa-1.key"),
        &claims("https://idp.cdd.test", "CDD", "communities:read"),
    );
    let es = sign(Algorithm::ES256, Some("cdd-ec-1"), &ec(), &claims("https://idp.cdd.test", "CDD", "mous:read"));
    let eddsa =
        sign(Algorithm::EdDSA, Some("gsb-ed-1"), &ed(), &claims("https://idp.gsb.test", "GSB", "programmes:read"));
    let jwks = sign(
        Algorithm::RS256,
        Some("fund-1"),
        &rsa("rsa-2.key"),
        &claims("https://idp.fund.test", "VILLAGE_FUND", "curricula:read"),
    );
    for (token, org, iss) in [
        (rs, "CDD", "https://idp.cdd.test"),
        (es, "CDD", "https://idp.cdd.test"),
        (eddsa, "GSB", "https://idp.gsb.test"),
        (jwks, "VILLAGE_FUND", "https://idp.fund.test"),
    ] {
        let data = app.ok(&token, VIEWER, json!({})).await;
        assert_eq!(data["viewer"]["organization"]["code"], org);
        assert_eq!(data["viewer"]["issuer"], iss);
    }
}

fn tamper_payload(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap_or_default()).unwrap_or_default();
    payload["org"] = json!("FOUNDATION");
    format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2])
}

fn raw(header: &Value, payload: &str, key: Option<&[u8]>) -> String {
    let head = URL_SAFE_NO_PAD.encode(header.to_string());
    let body = URL_SAFE_NO_PAD.encode(payload);
    let signing = format!("{head}.{body}");
    let signature = match key {
        Some(secret) => {
            use hmac::{Hmac, Mac};
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("hmac");
            mac.update(signing.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        }
        None => String::new(),
    };
    format!("{signing}.{signature}")
}

async fn bad_tokens_are_refused_without_touching_the_database(app: TestApp) {
    let cdd = "https://idp.cdd.test";
    let now = chrono::Utc::now().timestamp();
    let key = rsa("rsa-1.key");
    let rs = |c: Value| sign(Algorithm::RS256, Some("cdd-rsa-1"), &key, &c);
    let good = rs(claims(cdd, "CDD", "communities:read"));
    let with = |k: &str, v: Value| {
        let mut c = claims(cdd, "CDD", "communities:read");
        c[k] = v;
        rs(c)
    };
    let without = |k: &str| {
        let mut c = claims(cdd, "CDD", "communities:read");
        c.as_object_mut().map(|o| o.remove(k));
        rs(c)
    };
    let public_pem = key_file("rsa-1.pub.pem");
    let claims_json = claims(cdd, "CDD", "communities:read").to_string();
    let mut bad_sig = good.clone();
    let last = bad_sig.pop().unwrap_or('A');
    bad_sig.push(if last == 'A' { 'B' } else { 'A' });
    let dup = format!(
        r#"{{"sub":"svc","org":"GSB","org":"CDD","scope":"communities:read","exp":{},"iat":{now},"iss":"{cdd}","aud":"{AUD}"}}"#,
        now + 300
    );
    let unauthenticated: Vec<(&str, String)> = vec![
        ("expired", with("exp", json!(now - 120))),
        ("expired just past the leeway", with("exp", json!(now - 10))),
        ("not yet valid", with("nbf", json!(now + 120))),
        ("issued in the future", with("iat", json!(now + 600))),
        ("wrong audience", with("aud", json!("someone-else"))),
        ("audience of another issuer", with("aud", json!("other-api"))),
        ("untrusted issuer", with("iss", json!("https://evil.test"))),
        ("issuer differs only in case", with("iss", json!("https://IDP.cdd.test"))),
        ("no exp", without("exp")),
        ("no iat", without("iat")),
        ("no aud", without("aud")),
        ("no iss", without("iss")),
        ("no sub", without("sub")),
        ("org missing", without("org")),
        ("org empty", with("org", json!(""))),
        ("exp as a string", with("exp", json!("tomorrow"))),
        ("tampered payload", tamper_payload(&good)),
        ("tampered signature", bad_sig),
        ("signature stripped", format!("{}.", good.rsplit_once('.').map(|(h, _)| h).unwrap_or_default())),
        ("alg none", raw(&json!({ "alg": "none", "typ": "JWT" }), &claims_json, None)),
        ("alg None", raw(&json!({ "alg": "None", "kid": "cdd-rsa-1" }), &claims_json, None)),
        (
            "HS256 signed with the RSA public key",
            raw(&json!({ "alg": "HS256", "kid": "cdd-rsa-1" }), &claims_json, Some(&public_pem)),
        ),
        (
            "alg swapped to ES256 on an RSA kid",
            raw(&json!({ "alg": "ES256", "kid": "cdd-rsa-1" }), &claims_json, Some(b"x")),
        ),
        (
            "RS256 token with the EC key's kid",
            sign(Algorithm::RS256, Some("cdd-ec-1"), &key, &claims(cdd, "CDD", "communities:read")),
        ),
        ("unknown kid", sign(Algorithm::RS256, Some("no-such-kid"), &key, &claims(cdd, "CDD", "communities:read"))),
        ("no kid with two keys", sign(Algorithm::RS256, None, &key, &claims(cdd, "CDD", "communities:read"))),
        (
            "signed by another issuer's key",
            sign(Algorithm::EdDSA, Some("cdd-rsa-1"), &ed(), &claims(cdd, "CDD", "communities:read")),
        ),
        ("two segments", "abc.def".to_owned()),
        ("four segments", format!("{good}.extra")),
        ("bad base64 header", format!("!!!.{}", good.split_once('.').map(|(_, r)| r).unwrap_or_default())),
        ("header not JSON", format!("{}.e30.sig", URL_SAFE_NO_PAD.encode("not json"))),
        (
            "payload not JSON",
            format!(
                "{}.{}.sig",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"cdd-rsa-1"}"#),
                URL_SAFE_NO_PAD.encode("[]")
            ),
        ),
        ("huge token", format!("{}{}", good, "A".repeat(20_000))),
        ("duplicate claims", raw(&json!({ "alg": "HS256" }), &dup, Some(b"whatever"))),
        ("empty scope segments", with("scope", json!("communities:read  communities:write"))),
        ("tab in scope", with("scope", json!("communities:read\tcommunities:pii"))),
        ("trailing space in scope", with("scope", json!("communities:read "))),
        ("scope as an array", with("scope", json!(["communities:read"]))),
    ];
    let forbidden: Vec<(&str, String)> = vec![
        ("org beyond the issuer's grant", with("org", json!("GSB"))),
        ("org unknown (and so beyond the grant)", with("org", json!("NOPE"))),
        ("scope beyond the issuer's grant", with("scope", json!("communities:read communities:pii"))),
        ("one granted and one not", with("scope", json!("mous:read mous:write"))),
    ];
    assert!(unauthenticated.len() + forbidden.len() >= 30);
    app.ok(&good, VIEWER, json!({})).await;
    let before = app.statements();
    for (name, token) in &unauthenticated {
        let (status, body) = app.post(Some(token), "{ communities { totalCount } }", json!({})).await;
        assert_eq!((status, code(&body).as_str()), (401, "UNAUTHENTICATED"), "{name}: {body}");
    }
    for (name, token) in &forbidden {
        let (status, body) = app.post(Some(token), "{ communities { totalCount } }", json!({})).await;
        assert_eq!((status, code(&body).as_str()), (403, "FORBIDDEN"), "{name}: {body}");
    }
    assert_eq!(app.statements(), before, "no bad token reached the database");
    // Tricks that only narrow the grant are harmless: unknown names are ignored.
    let upper = with("scope", json!("COMMUNITIES:PII communities:read"));
    let data = app.ok(&upper, VIEWER, json!({})).await;
    assert_eq!(data["viewer"]["scopes"], json!(["communities:read"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuers_sqlite() {
    let jwks = JwksServer::start(&JwkSet { keys: vec![jwk(&rsa("rsa-2.key"), Algorithm::RS256, "fund-1")] }).await;
    let app = spawn(Backend::Sqlite, &jwks.url).await.expect("sqlite");
    every_key_type_is_accepted_and_viewer_names_the_issuer(app).await;
    let app = spawn(Backend::Sqlite, &jwks.url).await.expect("sqlite");
    bad_tokens_are_refused_without_touching_the_database(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuers_postgres() {
    let jwks = JwksServer::start(&JwkSet { keys: vec![jwk(&rsa("rsa-2.key"), Algorithm::RS256, "fund-1")] }).await;
    if let Some(app) = spawn(Backend::Postgres, &jwks.url).await {
        every_key_type_is_accepted_and_viewer_names_the_issuer(app).await;
    }
    if let Some(app) = spawn(Backend::Postgres, &jwks.url).await {
        bad_tokens_are_refused_without_touching_the_database(app).await;
    }
}

/// Keys rotate on the JWKS while requests keep flowing: no valid request fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_on_a_live_jwks_without_a_restart() {
    let old = rsa("rsa-2.key");
    let new = rsa("rsa-1.key");
    let jwks = JwksServer::start(&JwkSet { keys: vec![jwk(&old, Algorithm::RS256, "fund-1")] }).await;
    let app = spawn(Backend::Sqlite, &jwks.url).await.expect("sqlite");
    let iss = "https://idp.fund.test";
    let current = Arc::new(RwLock::new(("fund-1", old)));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let app = Arc::new(app);
    let mut workers = Vec::new();
    let started = std::time::Instant::now();
    for _ in 0..4 {
        let (app, current, stop) = (app.clone(), current.clone(), stop.clone());
        let hits = jwks.hits.clone();
        workers.push(tokio::spawn(async move {
            let mut done = 0;
            while !stop.load(Ordering::SeqCst) || done == 0 {
                let (kid, token) = {
                    let c = current.read().await;
                    (c.0, sign(Algorithm::RS256, Some(c.0), &c.1, &claims(iss, "VILLAGE_FUND", "curricula:read")))
                };
                let (status, body) = app.post(Some(&token), VIEWER, json!({})).await;
                assert_eq!(
                    status,
                    200,
                    "a valid request ({kid}, at {:?}, after {} JWKS fetches) failed during rotation: {body}",
                    started.elapsed(),
                    hits.load(Ordering::SeqCst)
                );
                done += 1;
            }
            done
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The provider publishes the new key beside the old one and, as
    // providers do, signs with it only later (here: after the service's
    // 2 s refetch limit), then retires the old key.
    jwks.publish(&JwkSet {
        keys: vec![jwk(&rsa("rsa-2.key"), Algorithm::RS256, "fund-1"), jwk(&new, Algorithm::RS256, "fund-2")],
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2200)).await;
    *current.write().await = ("fund-2", new);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // Then it retires the old key.
    jwks.publish(&JwkSet { keys: vec![jwk(&rsa("rsa-1.key"), Algorithm::RS256, "fund-2")] }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut total = 0;
    for worker in workers {
        total += worker.await.expect("worker");
    }
    assert!(total > 20, "requests kept flowing: {total}");
    // A flood of unknown kids fetches the JWKS at most once per 2 s.
    let key = rsa("rsa-1.key");
    let flood: Vec<String> = (0..200)
        .map(|i| {
            let c = claims(iss, "VILLAGE_FUND", "curricula:read");
            sign(Algorithm::RS256, Some(&format!("random-{i}")), &key, &c)
        })
        .collect();
    let before = jwks.hits.load(Ordering::SeqCst);
    let started = std::time::Instant::now();
    for token in &flood {
        let (status, _) = app.post(Some(token), VIEWER, json!({})).await;
        assert_eq!(status, 401);
    }
    let fetched = jwks.hits.load(Ordering::SeqCst) - before;
    let allowed = (started.elapsed().as_secs_f64() / 2.0).ceil() as usize + 1;
    assert!(fetched <= allowed, "the JWKS was fetched {fetched} times for 200 unknown kids in {:?}", started.elapsed());
}

#[test]
fn production_refuses_hs256_issuers() {
    let dir = std::env::temp_dir().join(format!("issuers-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("issuers.toml");
    let toml = format!(
        "[[issuers]]\niss = \"x\"\naudiences = [\"{AUD}\"]\norganizations = [\"CDD\"]\nmax_scopes = [\"*\"]\n[[issuers.keys]]\nsecret_env = \"HOME\"\n"
    );
    std::fs::write(&path, toml).expect("write");
    let refused = api::auth::issuers::load(&path, false).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("development only"), "{refused}");
    let jwks = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\",\"alg\":\"HS256\",\"kid\":\"h\"}]}";
    std::fs::write(dir.join("jwks.json"), jwks).expect("write");
    std::fs::write(&path, format!("[[issuers]]\niss = \"x\"\naudiences = [\"{AUD}\"]\norganizations = [\"CDD\"]\nmax_scopes = [\"*\"]\n[[issuers.keys]]\njwks_file = \"jwks.json\"\n")).expect("write");
    assert!(api::auth::issuers::load(&path, false).is_err(), "an HS256 key in a JWKS file is refused too");
}
