//! The personal-data access log: every response that returns communities'
//! contacts is recorded once (who, which request, which communities, when),
//! whichever path returned it (a direct read, a list answered by the
//! planner or by the resolvers, a nested read, `node`, `nodes`); a read
//! refused for lack of scope records nothing; each partner's data-protection
//! officer (`audit:read`) sees its own organisation's reads; entries past
//! their retention are purged, and the purge is recorded.

use std::collections::BTreeSet;
use std::time::Duration;

use black_box_tests::{Backend, TestApp, code, on_both};
use serde_json::{Value, json};

on_both!(
    every_path_that_returns_a_contact_is_logged,
    a_partner_sees_its_own_reads_and_filters_them,
    a_webhook_delivery_that_carries_a_contact_is_logged,
);

const LOG: &str = "query($community: ID, $subject: String, $from: DateTime, $to: DateTime) {
  piiAccessLog(communityId: $community, subject: $subject, from: $from, to: $to, first: 100) {
    totalCount nodes { at lastAt organization { code } subject requestId requestIds requestCount operationName via communityIds communities { code } } } }";

/// POSTs `query` with `token` under the request id `request_id`.
async fn read(app: &TestApp, token: &str, request_id: &str, query: &str, variables: Value) -> Value {
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .header("x-request-id", request_id)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("the service answers");
    response.json().await.expect("json")
}

/// The ids of the communities whose contact `value` holds (objects with an
/// `id` and a non-null `contact`), anywhere in it.
fn contacts_in(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let (Some(Value::String(id)), Some(contact)) = (map.get("id"), map.get("contact"))
                && !contact.is_null()
            {
                out.insert(id.clone());
            }
            map.values().for_each(|v| contacts_in(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| contacts_in(v, out)),
        _ => {}
    }
}

/// The communities of the log entries `officer` sees for `request_id`
/// (there is at most one entry per response).
async fn logged(app: &TestApp, officer: &str, request_id: &str) -> BTreeSet<String> {
    let data = app.ok(officer, LOG, json!({})).await;
    let entries: Vec<&Value> = data["piiAccessLog"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["requestIds"].as_array().is_some_and(|ids| ids.contains(&json!(request_id))))
        .collect();
    assert!(entries.len() <= 1, "a response is in one entry: {data}");
    entries
        .iter()
        .flat_map(|n| n["communityIds"].as_array().cloned().unwrap_or_default())
        .map(|id| id.as_str().expect("id").to_owned())
        .collect()
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn every_path_that_returns_a_contact_is_logged(app: TestApp) {
    let reader = app
        .token("CDD", &["communities:read", "communities:pii", "curricula:read", "enrolments:read", "programmes:read"]);
    let officer = app.token("CDD", &["audit:read", "communities:read"]);
    let demo1 = app.id_of("community", "DEMO-001").await;
    let demo2 = app.id_of("community", "DEMO-002").await;
    let demo3 = app.id_of("community", "DEMO-003").await;
    // A curriculum that takes DEMO-001 as a model, for a nested read.
    let curriculum = app
        .ok(
            &app.full("CDD"),
            "mutation($m: ID!) { createCurriculum(input: {code: \"PII-NESTED\", titleTh: \"x\", kind: CORE, focusAreas: [RISK_MANAGEMENT], modelCommunityIds: [$m]}) { code } }",
            json!({ "m": demo1 }),
        )
        .await;
    assert_eq!(curriculum["createCurriculum"]["code"], "PII-NESTED");

    let reads: Vec<(&str, &str, Value)> = vec![
        ("direct", "query Direct { community(code: \"DEMO-001\") { id contact { name phone } } }", json!({})),
        // The same list twice: the resolvers answer it first, the planner then.
        ("list", "query List { communities(first: 40) { nodes { id code contact { name } } } }", json!({})),
        ("list again", "query List { communities(first: 40) { nodes { id code contact { name } } } }", json!({})),
        (
            "nested",
            "query Nested { curriculum(code: \"PII-NESTED\") { modelCommunities { id contact { email } } } }",
            json!({}),
        ),
        (
            "node",
            "query One($id: ID!) { node(id: $id) { id ... on Community { contact { name } } } }",
            json!({ "id": demo2 }),
        ),
        (
            "nodes",
            "query Some($ids: [ID!]!) { nodes(ids: $ids) { id ... on Community { contact { name } } } }",
            json!({ "ids": [demo1, demo2, demo3] }),
        ),
    ];
    for (what, query, variables) in reads {
        let id = request_id();
        let body = read(&app, &reader, &id, query, variables).await;
        assert!(body.get("errors").is_none(), "{what}: {body}");
        let mut returned = BTreeSet::new();
        contacts_in(&body["data"], &mut returned);
        assert!(!returned.is_empty(), "{what} returned no contact: {body}");
        assert_eq!(logged(&app, &officer, &id).await, returned, "{what}");
    }
    // Who, and how.
    let id = request_id();
    read(&app, &reader, &id, "query Direct { community(code: \"DEMO-001\") { id contact { name } } }", json!({})).await;
    let data = app.ok(&officer, LOG, json!({ "community": demo1 })).await;
    let entry = data["piiAccessLog"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["requestIds"].as_array().is_some_and(|ids| ids.contains(&json!(id))))
        .cloned();
    let entry = entry.expect("the read is logged");
    assert_eq!(entry["organization"]["code"], "CDD");
    assert_eq!(entry["subject"], "test-cdd");
    assert_eq!(entry["operationName"], "Direct");
    assert_eq!(entry["via"], "graphql");
    assert_eq!(entry["communities"], json!([{ "code": "DEMO-001" }]));

    // Refused for lack of communities:pii: nothing is logged.
    let id = request_id();
    let plain = app.token("CDD", &["communities:read"]);
    let body = read(&app, &plain, &id, "{ community(code: \"DEMO-001\") { id contact { name } } }", json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert!(logged(&app, &officer, &id).await.is_empty());
    // A read of a community without a contact returns no personal data.
    let id = request_id();
    read(&app, &reader, &id, "{ community(code: \"DEMO-003\") { id contact { name } } }", json!({})).await;
    assert!(logged(&app, &officer, &id).await.is_empty());
}

async fn a_partner_sees_its_own_reads_and_filters_them(app: TestApp) {
    let query = "query Mine { community(code: \"DEMO-002\") { id contact { name } } }";
    let (cdd_read, gsb_read) = (request_id(), request_id());
    read(&app, &app.token("CDD", &["communities:read", "communities:pii"]), &cdd_read, query, json!({})).await;
    read(&app, &app.token("GSB", &["communities:read", "communities:pii"]), &gsb_read, query, json!({})).await;
    let cdd_officer = app.token("CDD", &["audit:read", "communities:read"]);
    let gsb_officer = app.token("GSB", &["audit:read", "communities:read"]);
    assert_eq!(logged(&app, &cdd_officer, &cdd_read).await.len(), 1);
    assert!(logged(&app, &cdd_officer, &gsb_read).await.is_empty(), "CDD sees GSB's reads");
    assert_eq!(logged(&app, &gsb_officer, &gsb_read).await.len(), 1);
    // Without audit:read: refused.
    let body = app.gql(&app.token("CDD", &["communities:read", "communities:pii"]), LOG, json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN");
    // Filters: community, subject, period.
    let demo2 = app.id_of("community", "DEMO-002").await;
    let demo1 = app.id_of("community", "DEMO-001").await;
    let count = |data: Value| data["piiAccessLog"]["totalCount"].as_i64().expect("count");
    assert_eq!(count(app.ok(&cdd_officer, LOG, json!({ "community": demo2 })).await), 1);
    assert_eq!(count(app.ok(&cdd_officer, LOG, json!({ "community": demo1 })).await), 0);
    assert_eq!(count(app.ok(&cdd_officer, LOG, json!({ "subject": "test-cdd" })).await), 1);
    assert_eq!(count(app.ok(&cdd_officer, LOG, json!({ "subject": "someone-else" })).await), 0);
    assert_eq!(
        count(app.ok(&cdd_officer, LOG, json!({ "from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z" })).await),
        1
    );
    assert_eq!(count(app.ok(&cdd_officer, LOG, json!({ "to": "2020-01-01T00:00:00Z" })).await), 0);
    let bad = app.gql(&cdd_officer, LOG, json!({ "community": "not-an-id" })).await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    // Identical reads made together may share an entry, which lists every
    // request; none is lost.
    let burst: Vec<String> = (0..5).map(|_| request_id()).collect();
    let reader = app.token("CDD", &["communities:read", "communities:pii"]);
    futures_util::future::join_all(burst.iter().map(|id| read(&app, &reader, id, query, json!({})))).await;
    let data = app.ok(&cdd_officer, LOG, json!({})).await;
    let mut seen: Vec<String> = Vec::new();
    for node in data["piiAccessLog"]["nodes"].as_array().expect("nodes") {
        let ids: Vec<String> =
            node["requestIds"].as_array().expect("ids").iter().filter_map(|i| i.as_str().map(str::to_owned)).collect();
        assert_eq!(node["requestCount"].as_u64(), Some(ids.len() as u64), "{node}");
        seen.extend(ids);
    }
    for id in &burst {
        assert_eq!(seen.iter().filter(|s| *s == id).count(), 1, "{id} is not logged exactly once: {data}");
    }
}

async fn retention(backend: Backend) {
    let retention = Duration::from_secs(2);
    let Some(app) = TestApp::spawn_with(backend, |c| c.governance.pii_log_retention = retention).await else { return };
    let reader = app.token("CDD", &["communities:read", "communities:pii"]);
    let officer = app.token("CDD", &["audit:read", "communities:read"]);
    let old = request_id();
    read(&app, &reader, &old, "{ community(code: \"DEMO-001\") { id contact { name } } }", json!({})).await;
    assert_eq!(logged(&app, &officer, &old).await.len(), 1);
    tokio::time::sleep(retention + Duration::from_millis(200)).await;
    let recent = request_id();
    read(&app, &reader, &recent, "{ community(code: \"DEMO-002\") { id contact { name } } }", json!({})).await;
    assert_eq!(logged(&app, &officer, &recent).await.len(), 1);
    // The hourly purge, run now: the old entry goes, the recent one stays.
    let store = api::store::Store::new(app.sql().await);
    let purge = api::store::pii_log::purge(&store, retention).await.expect("purge").expect("something purged");
    assert_eq!(purge.deleted, 1);
    assert!(logged(&app, &officer, &old).await.is_empty());
    assert_eq!(logged(&app, &officer, &recent).await.len(), 1);
    // The purge itself is recorded.
    let data = app.ok(&officer, "{ auditPurges { log deleted cutoff } }", json!({})).await;
    assert_eq!(data["auditPurges"][0]["log"], "pii_access_log");
    assert_eq!(data["auditPurges"][0]["deleted"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_past_their_retention_are_purged_and_the_purge_recorded_sqlite() {
    retention(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_past_their_retention_are_purged_and_the_purge_recorded_postgres() {
    retention(Backend::Postgres).await;
}

async fn a_webhook_delivery_that_carries_a_contact_is_logged(app: TestApp) {
    let receiver = black_box_tests::receiver::Receiver::start().await;
    // A subscription whose token held communities:pii delivers contacts.
    let manager = app.token("GSB", &["webhooks:manage", "changes:read", "communities:read", "communities:pii"]);
    app.ok(
        &manager,
        "mutation($u: String!) { createWebhookSubscription(input: {url: $u, entityTypes: [\"Community\"]}) { subscription { id } } }",
        json!({ "u": receiver.url }),
    )
    .await;
    let cdd = app.full("CDD");
    let data = app.ok(&cdd, "{ community(code: \"DEMO-011\") { id version } }", json!({})).await;
    app.ok(
        &cdd,
        "mutation($id: ID!, $v: Int!) { updateCommunity(input: {id: $id, expectedVersion: $v, households: 321}) { id } }",
        json!({ "id": data["community"]["id"], "v": data["community"]["version"] }),
    )
    .await;
    let got = receiver.wait_for(1).await;
    let body = got[0].json();
    assert_eq!(body["data"]["record"]["contact"]["name"], "บุญมี รักถิ่น", "{body}");
    let message_id = got[0].id.clone();
    let officer = app.token("GSB", &["audit:read", "communities:read"]);
    let data = app.ok(&officer, LOG, json!({})).await;
    let entry = data["piiAccessLog"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["requestIds"].as_array().is_some_and(|ids| ids.contains(&json!(message_id))))
        .cloned()
        .unwrap_or_else(|| panic!("no entry for {message_id}: {data}"));
    assert_eq!(entry["via"], "webhook");
    // The subscription is the reader; its organisation answers for it.
    assert!(entry["subject"].as_str().is_some_and(|s| s.starts_with("webhook:")), "{entry}");
    assert_eq!(entry["organization"]["code"], "GSB");
    assert_eq!(entry["communities"], json!([{ "code": "DEMO-011" }]));
}
