use black_box_tests::{Backend, TestApp, code, on_both};
use serde_json::json;

on_both!(every_change_is_one_event_with_its_actor_and_fields, a_record_history_is_its_audit_trail);

const FEED: &str = "query($after: String, $types: [String!]) { changes(after: $after, first: 100, entityTypes: $types) {
  edges { cursor node { operation entityType entityId actor { code } subject changedFields node { id } } } pageInfo { endCursor hasNextPage } } }";

async fn every_change_is_one_event_with_its_actor_and_fields(app: TestApp) {
    let token = app.full("CDD");
    let start = app.ok(&token, FEED, json!({ "types": ["Community"] })).await;
    let mut after = start["changes"]["pageInfo"]["endCursor"].clone();
    // Demo data: 36 communities created, in more than one page.
    loop {
        let page = app.ok(&token, FEED, json!({ "after": after, "types": ["Community"] })).await;
        if page["changes"]["edges"].as_array().is_none_or(|e| e.is_empty()) {
            break;
        }
        after = page["changes"]["pageInfo"]["endCursor"].clone();
    }
    let id = app.id_of("community", "DEMO-021").await;
    app.ok(&token, "mutation($id: ID!) { updateCommunity(input: {id: $id, expectedVersion: 1, nameEn: \"New name\", households: 5}) { id } }", json!({ "id": id })).await;
    // A stale update writes nothing, so it adds no event.
    let stale = app
        .gql(
            &token,
            "mutation($id: ID!) { updateCommunity(input: {id: $id, expectedVersion: 1, nameEn: \"x\"}) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&stale), "CONFLICT");
    let started = std::time::Instant::now();
    let (next, edges) = loop {
        let next = app.ok(&token, FEED, json!({ "after": after, "types": ["Community"] })).await;
        let edges = next["changes"]["edges"].as_array().cloned().unwrap_or_default();
        if !edges.is_empty() || started.elapsed() > std::time::Duration::from_secs(10) {
            break (next, edges);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(edges.len(), 1, "{next}");
    let event = &edges[0]["node"];
    assert_eq!(event["operation"], "UPDATED");
    assert_eq!(event["entityId"], json!(id));
    assert_eq!(event["actor"]["code"], "CDD");
    assert_eq!(event["subject"], "test-cdd");
    assert_eq!(event["changedFields"], json!(["households", "nameEn"]));
    assert_eq!(event["node"]["id"], json!(id));
    // Without changes:read the feed is refused.
    let no_scope = app.gql(&app.token("CDD", &["communities:read"]), FEED, json!({})).await;
    assert_eq!(code(&no_scope), "FORBIDDEN");
}

async fn a_record_history_is_its_audit_trail(app: TestApp) {
    let token = app.full("FOUNDATION");
    let programme = app.id_of("programme", "PRG-FINANCE").await;
    let community = app.id_of("community", "DEMO-034").await;
    let e = app
        .ok(
            &token,
            "mutation($p: ID!, $c: ID!) { nominateCommunity(input: {programmeId: $p, communityId: $c}) { id } }",
            json!({ "p": programme, "c": community }),
        )
        .await;
    let id = e["nominateCommunity"]["id"].clone();
    app.ok(
        &token,
        "mutation($id: ID!) { transitionEnrolment(input: {id: $id, expectedVersion: 1, to: ENROLLED}) { id } }",
        json!({ "id": id }),
    )
    .await;
    app.settle_feed().await;
    let history = app
        .ok(
            &token,
            "query($id: ID) { changes(entityId: $id) { nodes { operation changedFields actor { code } } } }",
            json!({ "id": id }),
        )
        .await;
    let ops: Vec<&str> =
        history["changes"]["nodes"].as_array().into_iter().flatten().filter_map(|n| n["operation"].as_str()).collect();
    assert_eq!(ops, ["CREATED", "UPDATED"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_statement_is_cut_off_by_the_statement_timeout() {
    use sea_orm::ConnectionTrait;
    let Some(schema) = black_box_tests::postgres_schema().await else { return };
    let settings = api::store::connect::DbSettings {
        url: black_box_tests::postgres_url(),
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_secs(2),
        statement_timeout: std::time::Duration::from_millis(200),
        schema: Some(schema),
    };
    let db = api::store::connect::connect(&settings).await.expect("connect");
    let started = std::time::Instant::now();
    let result = db.execute_unprepared("SELECT pg_sleep(5)").await;
    assert!(result.is_err(), "pg_sleep(5) ran past a 200 ms statement timeout");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let _ = Backend::Sqlite;
}
