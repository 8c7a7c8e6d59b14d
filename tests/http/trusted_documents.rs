//! Trusted documents end to end: each organisation's registered operations
//! (from GraphQL Code Generator's manifest or a .graphql file), its mode
//! (OFF, LOG, ENFORCE), hash-only requests over POST and GET (Apollo's
//! persisted-query protocol), and the counts of unregistered operations.

use black_box_tests::{TestApp, code, on_both};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

on_both!(
    each_mode_runs_logs_or_refuses_unregistered_operations,
    hash_only_requests_over_post_and_get,
    the_codegen_manifest_registers_and_its_hashes_run,
    one_organisations_documents_are_not_anothers,
    the_command_line_registers_lists_sets_the_mode_and_removes,
);

/// The manifest GraphQL Code Generator's client preset wrote for
/// tools/frontend/operations.graphql (tools/check.sh regenerates it and
/// fails when this copy differs).
const MANIFEST: &str = include_str!("../fixtures/persisted-documents.json");

const POLICY: &str = "{ operationPolicy { mode updatedBy documents(first: 100) { totalCount nodes { sha256Hash operationNames registeredBy } }
  untrustedOperations { sha256Hash operationName count } } }";
const REGISTER: &str = "mutation($input: RegisterTrustedDocumentsInput!) { registerTrustedDocuments(input: $input) {
  alreadyRegistered registered { sha256Hash operationNames } } }";
const SET_MODE: &str =
    "mutation($mode: TrustedDocumentMode!) { setOperationPolicy(input: {mode: $mode}) { mode updatedBy } }";
const REMOVE: &str = "mutation($h: [String!]!) { removeTrustedDocuments(input: {sha256Hashes: $h}) { removed } }";

/// A registered operation of the tests.
const TIERS: &str = "query Tiers { stats { communitiesByTier { tier count } } }";
/// An operation nobody registers.
const UNLISTED: &str = "query Unlisted { communities(first: 1) { totalCount } }";

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A token of `org` that manages its operations.
fn manager(app: &TestApp, org: &str) -> String {
    app.token(org, &["operations:manage", "communities:read"])
}

async fn set_mode(app: &TestApp, org: &str, mode: &str) {
    let data = app.ok(&manager(app, org), SET_MODE, json!({ "mode": mode })).await;
    assert_eq!(data["setOperationPolicy"]["mode"], mode);
}

/// POSTs `body` as JSON with `accept`; returns the status and the body.
async fn post_body(app: &TestApp, token: &str, accept: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .header("accept", accept)
        .json(body)
        .send()
        .await
        .expect("the service answers");
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// GETs /graphql with `params`; returns the status and the body.
async fn get(app: &TestApp, token: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let response = app
        .client
        .get(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .header("accept", "application/graphql-response+json")
        .query(params)
        .send()
        .await
        .expect("the service answers");
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// `extensions` naming `hash` as a persisted query.
fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn each_mode_runs_logs_or_refuses_unregistered_operations(app: TestApp) {
    let admin = manager(&app, "GSB");
    // Without operations:manage: neither read nor change.
    let reader = app.token("GSB", &["communities:read"]);
    assert_eq!(code(&app.gql(&reader, POLICY, json!({})).await), "FORBIDDEN");
    assert_eq!(code(&app.gql(&reader, SET_MODE, json!({ "mode": "ENFORCE" })).await), "FORBIDDEN");

    let data = app.ok(&admin, REGISTER, json!({ "input": { "document": TIERS } })).await;
    assert_eq!(data["registerTrustedDocuments"]["registered"][0]["sha256Hash"], sha256(TIERS));
    assert_eq!(data["registerTrustedDocuments"]["registered"][0]["operationNames"], json!(["Tiers"]));
    // Registering it again changes nothing.
    let again = app.ok(&admin, REGISTER, json!({ "input": { "document": TIERS } })).await;
    assert_eq!(again["registerTrustedDocuments"], json!({ "alreadyRegistered": 1, "registered": [] }));
    let policy = app.ok(&admin, POLICY, json!({})).await;
    assert_eq!(policy["operationPolicy"]["mode"], "OFF");
    assert_eq!(policy["operationPolicy"]["documents"]["totalCount"], 1);
    assert_eq!(policy["operationPolicy"]["documents"]["nodes"][0]["registeredBy"], "test-gsb");

    // OFF: anything valid runs, nothing is counted.
    let client = app.token("GSB", &["communities:read"]);
    app.ok(&client, UNLISTED, json!({})).await;

    // LOG: it runs, and is counted by operation name.
    set_mode(&app, "GSB", "LOG").await;
    for _ in 0..3 {
        app.ok(&client, UNLISTED, json!({})).await;
    }
    app.ok(&client, TIERS, json!({})).await;
    let policy = app.ok(&admin, POLICY, json!({})).await;
    assert_eq!(
        policy["operationPolicy"]["untrustedOperations"],
        json!([{ "sha256Hash": sha256(UNLISTED), "operationName": "Unlisted", "count": 3 }]),
        "{policy}"
    );
    let metrics =
        app.client.get(format!("{}/metrics", app.base)).send().await.expect("metrics").text().await.expect("text");
    assert!(
        metrics.contains(r#"graphql_untrusted_operations_total{mode="LOG",operation="Unlisted",org="GSB"} 3"#),
        "{metrics}"
    );

    // ENFORCE: refused before any database work, with a clear code.
    set_mode(&app, "GSB", "ENFORCE").await;
    let before = app.statements();
    let (status, body) =
        post_body(&app, &client, "application/graphql-response+json", &json!({ "query": UNLISTED })).await;
    assert_eq!(app.statements(), before, "a refused operation ran SQL");
    assert_eq!((status, code(&body)), (400, "PERSISTED_QUERY_NOT_IN_LIST".to_owned()), "{body}");
    assert!(body.get("data").is_none(), "{body}");
    let (status, body) = post_body(&app, &client, "application/json", &json!({ "query": UNLISTED })).await;
    assert_eq!((status, code(&body)), (200, "PERSISTED_QUERY_NOT_IN_LIST".to_owned()), "{body}");
    // The registered one runs, by text and by hash alone.
    app.ok(&client, TIERS, json!({})).await;
    let (status, body) =
        post_body(&app, &client, "application/json", &json!({ "extensions": persisted(&sha256(TIERS)) })).await;
    assert_eq!(status, 200);
    assert!(body["data"]["stats"]["communitiesByTier"].is_array(), "{body}");
    // In a batch, the unregistered operation alone is refused.
    let (_, body) =
        post_body(&app, &client, "application/json", &json!([{ "query": TIERS }, { "query": UNLISTED }])).await;
    assert!(body[0]["data"]["stats"]["communitiesByTier"].is_array(), "{body}");
    assert_eq!(code(&body[1]), "PERSISTED_QUERY_NOT_IN_LIST", "{body}");
    // An analyst's token with operations:adhoc still runs ad-hoc queries.
    let analyst = app.token("GSB", &["communities:read", "operations:adhoc"]);
    app.ok(&analyst, UNLISTED, json!({})).await;
    // The administrator's (operations:manage) runs the registry's own
    // operations, and nothing else unregistered.
    assert_eq!(code(&app.gql(&admin, UNLISTED, json!({})).await), "PERSISTED_QUERY_NOT_IN_LIST");
    // The refused ones are counted too (3 in LOG, 4 refused in ENFORCE).
    let policy = app.ok(&admin, POLICY, json!({})).await;
    assert_eq!(policy["operationPolicy"]["untrustedOperations"][0]["count"], 7, "{policy}");

    // Removed, it is refused; other organisations are not affected.
    let removed = app.ok(&admin, REMOVE, json!({ "h": [sha256(TIERS), "0".repeat(64)] })).await;
    assert_eq!(removed["removeTrustedDocuments"]["removed"], 1);
    assert_eq!(code(&app.gql(&client, TIERS, json!({})).await), "PERSISTED_QUERY_NOT_IN_LIST");
    app.ok(&app.token("CDD", &["communities:read"]), UNLISTED, json!({})).await;
    // Bad input is refused with the field.
    let bad = app.gql(&admin, REGISTER, json!({ "input": { "document": "query {" } })).await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
    let both = app.gql(&admin, REGISTER, json!({ "input": { "document": TIERS, "manifest": "{}" } })).await;
    assert_eq!(code(&both), "BAD_USER_INPUT", "{both}");
    assert_eq!(code(&app.gql(&admin, REMOVE, json!({ "h": ["nope"] })).await), "BAD_USER_INPUT");
}

async fn hash_only_requests_over_post_and_get(app: TestApp) {
    let client = app.token("FOUNDATION", &["communities:read", "communities:write"]);
    let hash = sha256(UNLISTED);
    let extensions = persisted(&hash).to_string();
    // An unknown hash: PERSISTED_QUERY_NOT_FOUND, as Apollo clients expect,
    // over POST and GET.
    let (_, body) = post_body(&app, &client, "application/json", &json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    let (status, body) = get(&app, &client, &[("extensions", &extensions)]).await;
    assert_eq!((status, code(&body)), (400, "PERSISTED_QUERY_NOT_FOUND".to_owned()), "{body}");
    // Apollo's automatic persisted queries: the text with its hash runs, and
    // afterwards the hash alone does, over GET too.
    let (_, body) =
        post_body(&app, &client, "application/json", &json!({ "query": UNLISTED, "extensions": persisted(&hash) }))
            .await;
    assert!(body["data"]["communities"]["totalCount"].is_number(), "{body}");
    let (status, body) = get(&app, &client, &[("extensions", &extensions)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["communities"]["totalCount"].is_number(), "{body}");
    // A hash that is not the text's is refused.
    let wrong = json!({ "query": TIERS, "extensions": persisted(&hash) });
    assert_eq!(code(&post_body(&app, &client, "application/json", &wrong).await.1), "BAD_USER_INPUT");
    let malformed = json!({ "extensions": { "persistedQuery": { "version": 1 } } });
    assert_eq!(code(&post_body(&app, &client, "application/json", &malformed).await.1), "BAD_USER_INPUT");
    // A registered mutation by hash alone still needs POST.
    let mutation = "mutation Touch($input: UpdateCommunityInput!) { updateCommunity(input: $input) { id } }";
    app.ok(&manager(&app, "FOUNDATION"), REGISTER, json!({ "input": { "document": mutation } })).await;
    let (status, body) = get(&app, &client, &[("extensions", &persisted(&sha256(mutation)).to_string())]).await;
    assert_eq!((status, code(&body)), (405, "BAD_USER_INPUT".to_owned()), "{body}");
}

async fn the_codegen_manifest_registers_and_its_hashes_run(app: TestApp) {
    let admin = manager(&app, "CDD");
    let manifest: serde_json::Map<String, Value> = serde_json::from_str(MANIFEST).expect("the manifest is JSON");
    let data = app.ok(&admin, REGISTER, json!({ "input": { "manifest": MANIFEST } })).await;
    assert_eq!(data["registerTrustedDocuments"]["registered"].as_array().map(Vec::len), Some(manifest.len()));
    let policy = app.ok(&admin, POLICY, json!({})).await;
    let listed: Vec<&str> = policy["operationPolicy"]["documents"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|d| d["sha256Hash"].as_str())
        .collect();
    // The client preset writes `sha256:<hex>`; the service lists the hex.
    for hash in manifest.keys() {
        let hex = hash.strip_prefix("sha256:").unwrap_or(hash);
        assert!(listed.contains(&hex), "{hash} is not listed: {policy}");
    }
    set_mode(&app, "CDD", "ENFORCE").await;
    // The client sends the hash codegen gave the operation, with variables.
    let (hash, _) = manifest
        .iter()
        .find(|(_, body)| body.as_str().is_some_and(|b| b.contains("query CommunityByCode(")))
        .expect("CommunityByCode is in the manifest");
    let client = app.token("CDD", &["communities:read"]);
    let (status, body) = post_body(
        &app,
        &client,
        "application/graphql-response+json",
        &json!({ "extensions": persisted(hash), "variables": { "code": "DEMO-001" }, "operationName": "CommunityByCode" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["community"]["code"], "DEMO-001", "{body}");
    // The same over GET, as a CDN would cache it.
    let (status, body) =
        get(&app, &client, &[("extensions", &persisted(hash).to_string()), ("variables", r#"{"code":"DEMO-001"}"#)])
            .await;
    assert_eq!((status, body["data"]["community"]["code"].clone()), (200, json!("DEMO-001")), "{body}");
    // A manifest whose hash does not match its document is refused whole.
    let (first_hash, first_body) = manifest.iter().next().expect("one");
    let tampered = json!({ first_hash.clone(): format!("{} ", first_body.as_str().unwrap_or_default()) });
    let refused = app.gql(&admin, REGISTER, json!({ "input": { "manifest": tampered.to_string() } })).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
}

async fn one_organisations_documents_are_not_anothers(app: TestApp) {
    app.ok(&manager(&app, "GSB"), REGISTER, json!({ "input": { "document": TIERS } })).await;
    set_mode(&app, "CDD", "ENFORCE").await;
    let cdd = app.token("CDD", &["communities:read"]);
    let (_, body) =
        post_body(&app, &cdd, "application/json", &json!({ "extensions": persisted(&sha256(TIERS)) })).await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    assert_eq!(code(&app.gql(&cdd, TIERS, json!({})).await), "PERSISTED_QUERY_NOT_IN_LIST");
    let cdd_policy = app.ok(&manager(&app, "CDD"), POLICY, json!({})).await;
    assert_eq!(cdd_policy["operationPolicy"]["documents"]["totalCount"], 0);
    // GSB, in OFF mode, runs it by hash.
    let gsb = app.token("GSB", &["communities:read"]);
    let (_, body) =
        post_body(&app, &gsb, "application/json", &json!({ "extensions": persisted(&sha256(TIERS)) })).await;
    assert!(body["data"]["stats"]["communitiesByTier"].is_array(), "{body}");
}

/// Runs `api operations ARGS...` (the real binary) on the test's database.
fn operations(app: &TestApp, args: &[&str]) -> String {
    app.cli(&[&["operations"], args].concat())
}

async fn the_command_line_registers_lists_sets_the_mode_and_removes(app: TestApp) {
    let dir = std::env::temp_dir().join(format!("ops-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("tiers.graphql");
    std::fs::write(&file, TIERS).expect("write");
    let manifest = dir.join("persisted-documents.json");
    std::fs::write(&manifest, MANIFEST).expect("write");
    let path = |p: &std::path::Path| p.to_str().expect("utf-8").to_owned();
    let out = operations(&app, &["register", "--org", "village_fund", &path(&file)]);
    assert!(out.contains(&sha256(TIERS)) && out.contains("1 registered"), "{out}");
    let out = operations(&app, &["register", "--org", "VILLAGE_FUND", &path(&manifest)]);
    assert!(out.contains("registered, 0 already registered"), "{out}");
    let listed = operations(&app, &["list", "--org", "VILLAGE_FUND"]);
    assert!(listed.contains(&sha256(TIERS)) && listed.contains("mode OFF"), "{listed}");
    assert!(operations(&app, &["mode", "--org", "VILLAGE_FUND", "enforce"]).contains("mode ENFORCE"));
    // The running service applies it within its refresh (5 s).
    let client = app.token("VILLAGE_FUND", &["communities:read"]);
    let started = std::time::Instant::now();
    loop {
        let body = app.gql(&client, UNLISTED, json!({})).await;
        if code(&body) == "PERSISTED_QUERY_NOT_IN_LIST" {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(15), "never enforced: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    app.ok(&client, TIERS, json!({})).await;
    let out = operations(&app, &["remove", "--org", "VILLAGE_FUND", &format!("sha256:{}", sha256(TIERS))]);
    assert!(out.contains("1 removed"), "{out}");
    assert!(!operations(&app, &["list", "--org", "VILLAGE_FUND"]).contains(&sha256(TIERS)));
    std::fs::remove_dir_all(&dir).ok();
}
