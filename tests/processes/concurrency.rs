//! Two server processes on one PostgreSQL database, hundreds of concurrent
//! conflicting updates and retried creates, and a poller on the change feed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use black_box_tests::process::ServerProcess;
use black_box_tests::{all_scopes, postgres_schema, token_for};
use serde_json::{Value, json};

async fn gql(client: &reqwest::Client, base: &str, token: &str, query: &str, variables: Value) -> Value {
    client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json")
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

const FEED: &str = "query($after: String) { changes(after: $after, first: 100) { edges { cursor node { entityType entityId operation changedFields } } } }";

/// Reads the feed from `after` until it is empty, returning (cursor, event).
async fn drain(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    mut after: Value,
    into: &mut Vec<(String, Value)>,
) -> Value {
    loop {
        let body = gql(client, base, token, FEED, json!({ "after": after })).await;
        let edges = body["data"]["changes"]["edges"].as_array().cloned().unwrap_or_default();
        assert!(body.get("errors").is_none(), "{body}");
        if edges.is_empty() {
            return after;
        }
        for e in edges {
            after = e["cursor"].clone();
            into.push((e["cursor"].as_str().unwrap_or_default().to_owned(), e["node"].clone()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_apply_each_update_once_and_the_feed_has_no_gaps() {
    let Some(schema) = postgres_schema().await else { return };
    let a = ServerProcess::start(&schema, &[("DEMO_DATA", "true")]).await;
    let b = ServerProcess::start(&schema, &[]).await;
    let bases = [a.base.clone(), b.base.clone()];
    let client = reqwest::Client::new();
    let token = token_for("CDD", &all_scopes());

    // Records to fight over, all at version 1.
    let mut ids = Vec::new();
    for i in 0..5 {
        let body = gql(&client, &bases[0], &token, "mutation($c: String!) { createCommunity(input: {code: $c, nameTh: \"ชุมชนแข่ง\", provinceCode: \"TH-57\"}) { id } }", json!({ "c": format!("RACE-{i}") })).await;
        ids.push(body["data"]["createCommunity"]["id"].as_str().expect("created").to_owned());
    }
    let start = drain(&client, &bases[0], &token, Value::Null, &mut Vec::new()).await;

    // A poller reads the feed through both instances while writers commit.
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (client, bases, token, stop, start) =
            (client.clone(), bases.clone(), token.clone(), stop.clone(), start.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut after = start;
            let mut turn = 0;
            while !stop.load(Ordering::SeqCst) {
                after = drain(&client, &bases[turn % 2], &token, after, &mut seen).await;
                turn += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (seen, after)
        })
    };

    // 16 writers x 25 updates, through both instances, fresh and stale.
    let update = "mutation($id: ID!, $v: Int!, $h: Int!) { updateCommunity(input: {id: $id, expectedVersion: $v, households: $h}) { version } }";
    let read = "query($id: ID) { community(id: $id) { version } }";
    let mut writers = Vec::new();
    for w in 0..16usize {
        let (client, bases, token, ids) = (client.clone(), bases.clone(), token.clone(), ids.clone());
        writers.push(tokio::spawn(async move {
            let mut results = Vec::new();
            for i in 0..25usize {
                let id = &ids[(w + i) % ids.len()];
                let base = &bases[(w + i) % 2];
                let current =
                    gql(&client, base, &token, read, json!({ "id": id })).await["data"]["community"]["version"]
                        .as_i64()
                        .unwrap_or(1);
                let stale = i % 4 == 3 && current > 1;
                let v = if stale { current - 1 } else { current };
                let body =
                    gql(&client, base, &token, update, json!({ "id": id, "v": v, "h": (w * 100 + i) as i64 })).await;
                match code(&body) {
                    "" => results.push((
                        id.clone(),
                        Some(body["data"]["updateCommunity"]["version"].as_i64().unwrap_or(0)),
                        stale,
                    )),
                    "CONFLICT" => results.push((id.clone(), None, stale)),
                    other => panic!("an update failed with {other}: {body}"),
                }
            }
            results
        }));
    }

    // Retried creates: each key sent 4 times at once, through both instances.
    let create = "mutation($c: String!, $k: String) { createCommunity(input: {code: $c, nameTh: \"ชุมชนซ้ำ\", provinceCode: \"TH-50\"}, idempotencyKey: $k) { id } }";
    let mut retries = Vec::new();
    for k in 0..20 {
        for attempt in 0..4usize {
            let (client, base, token) = (client.clone(), bases[attempt % 2].clone(), token.clone());
            retries.push(tokio::spawn(async move {
                let body =
                    gql(&client, &base, &token, create, json!({ "c": format!("RETRY-{k}"), "k": format!("key-{k}") }))
                        .await;
                assert!(body.get("errors").is_none(), "a retried create failed: {body}");
                (k, body["data"]["createCommunity"]["id"].as_str().unwrap_or_default().to_owned())
            }));
        }
    }

    let mut applied: HashMap<String, Vec<i64>> = HashMap::new();
    let (mut attempts, mut stale_applied) = (0, 0);
    for writer in writers {
        for (id, version, stale) in writer.await.expect("writer") {
            attempts += 1;
            if let Some(v) = version {
                applied.entry(id).or_default().push(v);
                stale_applied += usize::from(stale);
            }
        }
    }
    let mut created: HashMap<usize, HashSet<String>> = HashMap::new();
    for r in retries {
        let (k, id) = r.await.expect("retry");
        created.entry(k).or_default().insert(id);
    }
    black_box_tests::settle_feed(&black_box_tests::pg_settings(&schema)).await;
    stop.store(true, Ordering::SeqCst);
    let (mut seen, after) = poller.await.expect("poller");
    drain(&client, &bases[1], &token, after, &mut seen).await;

    assert_eq!(attempts, 400);
    assert_eq!(stale_applied, 0, "a stale version was applied");
    // Every applied update got its own version: 2, 3, ..., and the final
    // version is 1 + the number applied.
    let mut total_applied = 0;
    for id in &ids {
        let mut versions = applied.get(id).cloned().unwrap_or_default();
        versions.sort_unstable();
        let expected: Vec<i64> = (2..2 + versions.len() as i64).collect();
        assert_eq!(versions, expected, "versions of {id}");
        let now =
            gql(&client, &bases[0], &token, read, json!({ "id": id })).await["data"]["community"]["version"].as_i64();
        assert_eq!(now, Some(1 + versions.len() as i64));
        total_applied += versions.len();
    }
    assert!(total_applied > 20, "enough updates won to mean something: {total_applied}");
    // One record per idempotency key, the same one for every retry.
    assert!(created.values().all(|ids| ids.len() == 1), "{created:?}");
    let codes = gql(
        &client,
        &bases[1],
        &token,
        "{ communities(first: 100, filter: {search: \"RETRY-\"}) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(codes["data"]["communities"]["totalCount"], 20);

    // The poller saw each event once, in the order of a full read afterwards:
    // no gaps, no repeats.
    let mut full = Vec::new();
    drain(&client, &bases[0], &token, start, &mut full).await;
    let cursors: Vec<&String> = seen.iter().map(|(c, _)| c).collect();
    let unique: HashSet<&String> = cursors.iter().copied().collect();
    assert_eq!(unique.len(), cursors.len(), "the poller saw an event twice");
    assert_eq!(seen, full, "the concurrent poller's feed differs from the settled feed");
    // Exactly one event per applied change.
    let updates = full
        .iter()
        .filter(|(_, e)| e["operation"] == "UPDATED" && ids.iter().any(|id| e["entityId"] == json!(id)))
        .count();
    assert_eq!(updates, total_applied);
    let creates = full.iter().filter(|(_, e)| e["operation"] == "CREATED" && e["entityType"] == "Community").count();
    assert_eq!(creates, 20, "one CREATED event per idempotent create");
    // Tokens never reach the logs; each request's log names its organisation.
    for server in [&a, &b] {
        let log = server.log_text();
        assert!(!log.contains(&token), "a token was logged");
        assert!(log.contains(r#""org":"CDD""#), "requests are logged with their organisation");
    }
}

/// The cost budget is one bucket per organisation in the database: two
/// instances together let through what one would.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cost_budget_is_shared_by_instances() {
    let Some(schema) = postgres_schema().await else { return };
    let env = [("DEMO_DATA", "true"), ("COST_BUDGET", "5000"), ("COST_REFILL_PER_SEC", "1")];
    let a = ServerProcess::start(&schema, &env).await;
    let b = ServerProcess::start(&schema, &env[1..]).await;
    let client = reqwest::Client::new();
    let token = token_for("FOUNDATION", &all_scopes());
    let query = "{ communities(first: 20) { nodes { code enrolments(first: 5) { nodes { status } } } } }";
    let first = gql(&client, &a.base, &token, query, json!({})).await;
    let cost = first["extensions"]["cost"]["requested"].as_u64().expect("cost reported") as f64;
    let mut allowed = 1;
    for i in 0..200 {
        let base = if i % 2 == 0 { &b.base } else { &a.base };
        let body = gql(&client, base, &token, query, json!({})).await;
        match code(&body) {
            "" => allowed += 1,
            "RATE_LIMITED" => break,
            other => panic!("{other}: {body}"),
        }
    }
    let one_bucket = (5000.0 / cost).floor() as usize + 1;
    assert!(
        allowed <= one_bucket,
        "{allowed} queries of cost {cost} passed; one 5000-point bucket allows {one_bucket}"
    );
    assert!(allowed + 2 >= one_bucket, "the budget ran out early: {allowed} of {one_bucket}");
}
