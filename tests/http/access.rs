use black_box_tests::{AUDIENCE, ISSUER, SECRET, TestApp, code, on_both};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

on_both!(
    bad_tokens_are_unauthenticated,
    personal_data_needs_the_pii_scope,
    reads_need_their_scope_everywhere,
    viewer_shows_the_verified_caller
);

fn sign(claims: Value, secret: &str) -> String {
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap_or_default()
}

fn claims(overrides: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut base = json!({ "sub": "t", "org": "CDD", "scope": "communities:read", "exp": now + 600, "iat": now, "iss": ISSUER, "aud": AUDIENCE });
    if let (Some(b), Some(o)) = (base.as_object_mut(), overrides.as_object()) {
        for (k, v) in o {
            if v.is_null() {
                b.remove(k);
            } else {
                b.insert(k.clone(), v.clone());
            }
        }
    }
    base
}

async fn bad_tokens_are_unauthenticated(app: TestApp) {
    let now = chrono::Utc::now().timestamp();
    let good = sign(claims(json!({})), SECRET);
    let (status, body) = app.post(Some(&good), "{ communities { totalCount } }", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let mut tampered = good.clone();
    tampered.pop();
    tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
    let none_alg = {
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.", e.encode(r#"{"alg":"none","typ":"JWT"}"#), e.encode(claims(json!({})).to_string()))
    };
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("expired", Some(sign(claims(json!({ "exp": now - 60 })), SECRET))),
        ("not yet valid", Some(sign(claims(json!({ "nbf": now + 600 })), SECRET))),
        ("wrong audience", Some(sign(claims(json!({ "aud": "someone-else" })), SECRET))),
        ("wrong issuer", Some(sign(claims(json!({ "iss": "evil" })), SECRET))),
        ("no exp", Some(sign(claims(json!({ "exp": null })), SECRET))),
        ("no aud", Some(sign(claims(json!({ "aud": null })), SECRET))),
        ("wrong secret", Some(sign(claims(json!({})), "another-secret-another-secret-another"))),
        ("tampered signature", Some(tampered)),
        ("alg none", Some(none_alg)),
        ("unknown org", Some(sign(claims(json!({ "org": "NOPE" })), SECRET))),
        ("empty org", Some(sign(claims(json!({ "org": "" })), SECRET))),
        ("malformed scope", Some(sign(claims(json!({ "scope": "communities:read  mous:read" })), SECRET))),
        ("garbage", Some("not.a.token".into())),
        ("huge", Some("a".repeat(20_000))),
    ];
    for (name, token) in cases {
        let (status, body) = app.post(token.as_deref(), "{ communities { totalCount } }", json!({})).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(code(&body), "UNAUTHENTICATED", "{name}: {body}");
        assert!(body["errors"][0]["extensions"]["requestId"].is_string(), "{name}");
    }
}

async fn personal_data_needs_the_pii_scope(app: TestApp) {
    let query = "{ community(code: \"DEMO-001\") { code contact { name } } }";
    let without = app.gql(&app.token("GSB", &["communities:read"]), query, json!({})).await;
    assert_eq!(without["data"]["community"]["code"], "DEMO-001");
    assert_eq!(
        without["data"]["community"].get("contact"),
        Some(&Value::Null),
        "contact is present and null: {without}"
    );
    assert_eq!(code(&without), "FORBIDDEN");
    assert_eq!(without["errors"][0]["path"], json!(["community", "contact"]));
    let with = app.ok(&app.token("GSB", &["communities:read", "communities:pii"]), query, json!({})).await;
    assert!(with["community"]["contact"]["name"].is_string());
    // Writing contact needs the scope too.
    let write = app.token("GSB", &["communities:read", "communities:write"]);
    let body = app
        .gql(&write, "mutation { createCommunity(input: {code: \"PII-1\", nameTh: \"x\", provinceCode: \"TH-10\", contact: {name: \"n\"}}) { id } }", json!({}))
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
}

async fn reads_need_their_scope_everywhere(app: TestApp) {
    let only_programmes = app.token("FOUNDATION", &["programmes:read"]);
    let root = app.gql(&only_programmes, "{ communities { totalCount } }", json!({})).await;
    assert_eq!(code(&root), "FORBIDDEN");
    let community = app.id_of("community", "DEMO-001").await;
    let node = app.gql(&only_programmes, "query($id: ID!) { node(id: $id) { id } }", json!({ "id": community })).await;
    assert_eq!(node["data"].get("node"), Some(&Value::Null), "{node}");
    assert_eq!(code(&node), "FORBIDDEN");
    // Nested: programmes are readable, their enrolments are not.
    let nested = app
        .gql(&only_programmes, "{ programme(code: \"PRG-FINANCE\") { code enrolments { totalCount } } }", json!({}))
        .await;
    assert_eq!(code(&nested), "FORBIDDEN");
    assert_eq!(nested["errors"][0]["path"], json!(["programme", "enrolments"]));
    let full = app
        .ok(
            &app.full("FOUNDATION"),
            "{ programme(code: \"PRG-FINANCE\") { enrolments { totalCount nodes { community { code } } } } }",
            json!({}),
        )
        .await;
    assert!(full["programme"]["enrolments"]["totalCount"].as_i64().unwrap_or(0) > 0);
}

async fn viewer_shows_the_verified_caller(app: TestApp) {
    let token = app.token("VILLAGE_FUND", &["curricula:read", "mous:read"]);
    let data = app.ok(&token, "{ viewer { organization { code kind } subject scopes expiresAt } }", json!({})).await;
    assert_eq!(data["viewer"]["organization"]["code"], "VILLAGE_FUND");
    assert_eq!(data["viewer"]["organization"]["kind"], "FUND");
    assert_eq!(data["viewer"]["subject"], "test-village_fund");
    assert_eq!(data["viewer"]["scopes"], json!(["mous:read", "curricula:read"]));
}
