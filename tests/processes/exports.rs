//! Exports across instances on one PostgreSQL database: the instance that
//! accepts an export need not run it, and any instance serves its file.

use std::time::Duration;

use black_box_tests::process::{ServerProcess, gql};
use black_box_tests::{all_scopes, postgres_schema, token_for};
use serde_json::{Value, json};

/// The `exports_total{event}` counter of an instance.
async fn counted(base: &str, event: &str) -> u64 {
    let text = reqwest::get(format!("{base}/metrics")).await.expect("metrics").text().await.expect("text");
    let prefix = format!("exports_total{{event=\"{event}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
}

async fn download(base: &str, url: &str, token: &str) -> (u16, String) {
    let answer = reqwest::Client::new().get(format!("{base}{url}")).bearer_auth(token).send().await.expect("download");
    (answer.status().as_u16(), answer.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_accepted_by_one_instance_is_run_by_another_and_served_by_both() {
    let Some(schema) = postgres_schema().await else { return };
    // A takes requests but runs no exports (EXPORT_MAX_CONCURRENT=0); B runs them.
    let a = ServerProcess::start(&schema, &[("DEMO_DATA", "true"), ("EXPORT_MAX_CONCURRENT", "0")]).await;
    let b = ServerProcess::start(&schema, &[]).await;
    let token = token_for("CDD", &all_scopes());
    let started = gql(
        &a.base,
        &token,
        "mutation($q: String!) { startExport(input: { query: $q }) { id status } }",
        json!({ "q": "{ communities { nodes { code nameTh } } }" }),
    )
    .await;
    let id = started["data"]["startExport"]["id"].as_str().unwrap_or_else(|| panic!("{started}")).to_owned();
    let mut export = Value::Null;
    for _ in 0..300 {
        let body = gql(
            &a.base,
            &token,
            "query($id: ID!) { export(id: $id) { status objectCount url error { code } } }",
            json!({ "id": id }),
        )
        .await;
        export = body["data"]["export"].clone();
        if export["status"] != "QUEUED" && export["status"] != "RUNNING" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(export["status"], "COMPLETED", "{export}");
    assert_eq!(export["objectCount"], 36, "the demo's communities");
    assert_eq!((counted(&a.base, "completed").await, counted(&b.base, "completed").await), (0, 1));
    let url = export["url"].as_str().expect("a download url");
    let (status_a, file_a) = download(&a.base, url, &token).await;
    let (status_b, file_b) = download(&b.base, url, &token).await;
    assert_eq!((status_a, status_b), (200, 200));
    assert_eq!(file_a, file_b);
    assert_eq!(file_a.lines().count(), 36);
    assert!(file_a.lines().all(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v["code"].is_string())));
    // Another organisation gets nothing from either.
    let other = token_for("GSB", &all_scopes());
    assert_eq!(download(&b.base, url, &other).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_whose_instance_is_killed_is_failed_as_interrupted_by_another() {
    let Some(schema) = postgres_schema().await else { return };
    // A runs exports slowly (each page waits for two long batch windows);
    // B runs none but fails stale ones after 2 s.
    let mut a = ServerProcess::start(&schema, &[("DEMO_DATA", "true"), ("BATCH_WINDOW_MS", "1000")]).await;
    let b = ServerProcess::start(&schema, &[("EXPORT_MAX_CONCURRENT", "0"), ("EXPORT_STALE_SECS", "2")]).await;
    // 300 more communities: four pages.
    let db = api::store::connect::connect(&black_box_tests::pg_settings(&schema)).await.expect("connect");
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        "INSERT INTO communities (code, name_th, province_code, created_by, version, created_at, updated_at) \
         SELECT 'GEN-' || g, 'ชุมชน ' || g, 'TH-57', (SELECT id FROM organizations WHERE code = 'CDD'), 1, now(), now() \
         FROM generate_series(1, 300) AS g",
    )
    .await
    .expect("generate");
    let token = token_for("CDD", &all_scopes());
    let started = gql(
        &a.base,
        &token,
        "mutation($q: String!) { startExport(input: { query: $q }) { id } }",
        json!({ "q": "{ communities { nodes { code enrolments { nodes { status } } } } }" }),
    )
    .await;
    let id = started["data"]["startExport"]["id"].as_str().unwrap_or_else(|| panic!("{started}")).to_owned();
    let status = "query($id: ID!) { export(id: $id) { status objectCount error { code } } }";
    // Kill A once it has written a page.
    let mut running = false;
    for _ in 0..200 {
        let body = gql(&b.base, &token, status, json!({ "id": id })).await;
        if body["data"]["export"]["status"] == "RUNNING" && body["data"]["export"]["objectCount"].as_i64() > Some(0) {
            running = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(running, "the export did not get under way on A");
    let _ = a.child.kill();
    let _ = a.child.wait();
    let mut export = Value::Null;
    for _ in 0..150 {
        export = gql(&b.base, &token, status, json!({ "id": id })).await["data"]["export"].clone();
        if export["status"] != "RUNNING" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(export["status"], "FAILED", "{export}");
    assert_eq!(export["error"]["code"], "INTERRUPTED");
    assert_eq!(counted(&b.base, "failed").await, 1);
    // The organisation may start again: its running slot is free.
    let again = gql(
        &b.base,
        &token,
        "mutation($q: String!) { startExport(input: { query: $q }) { status } }",
        json!({ "q": "{ communities { nodes { code } } }" }),
    )
    .await;
    assert_eq!(again["data"]["startExport"]["status"], "QUEUED", "{again}");
}
