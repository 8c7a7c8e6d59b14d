//! Push delivery with real processes and real partner clients: two service
//! instances on one PostgreSQL, webhook receivers written with the PyPI and
//! npm `standardwebhooks` packages, and the npm `graphql-ws` client.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use black_box_tests::process::{ServerProcess, free_port, gql};
use black_box_tests::{all_scopes, pg_settings, postgres_schema, settle_feed, token_for};
use serde_json::{Value, json};

fn clients() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients")
}

/// Installs the clients' packages (idempotent; once per test process, and
/// setup.sh itself takes a lock against other processes).
fn setup_clients() {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *ONCE.get_or_init(|| {
        Command::new("bash").arg(clients().join("setup.sh")).status().map(|s| s.success()).unwrap_or(false)
    });
    assert!(ok, "tests/clients/setup.sh failed");
}

struct Receiver {
    child: Child,
    out: PathBuf,
    port: u16,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    /// Starts a receiver (`python` or `node`) on `port` and waits until it listens.
    fn start(kind: &str, port: u16, secret: &str, out: PathBuf, mode: &str) -> Receiver {
        let mut command = match kind {
            "python" => {
                let mut c = Command::new(clients().join("python/.venv/bin/python"));
                c.arg(clients().join("python/receiver.py"));
                c
            }
            _ => {
                let mut c = Command::new("node");
                c.arg(clients().join("node/receiver.mjs"));
                c
            }
        };
        command
            .args(["--port", &port.to_string(), "--secret", secret, "--mode", mode, "--slow-ms", "2500"])
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command.spawn().expect("start a receiver");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("read");
        assert!(line.contains("listening"), "the {kind} receiver did not start: {line}");
        Receiver { child, out, port }
    }

    async fn mode(&self, mode: &str) {
        reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/_control", self.port))
            .json(&json!({ "mode": mode, "slowMs": 2500 }))
            .send()
            .await
            .expect("control");
    }

    /// The recorded deliveries: (webhook-id, event cursor, duplicate).
    fn lines(&self) -> Vec<(String, String, bool)> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| {
                (
                    v["webhookId"].as_str().unwrap_or_default().to_owned(),
                    v["payload"]["data"]["event"]["cursor"].as_str().unwrap_or_default().to_owned(),
                    v["duplicate"].as_bool().unwrap_or(false),
                )
            })
            .collect()
    }
}

/// Every event cursor after `after` in the settled feed, of `entity_type`.
async fn feed_after(base: &str, token: &str, mut after: Value, entity_type: &str) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let body = gql(
            base,
            token,
            "query($a: String, $t: [String!]) { changes(after: $a, first: 100, entityTypes: $t) { edges { cursor node { operation } } } }",
            json!({ "a": after, "t": [entity_type] }),
        )
        .await;
        let edges = body["data"]["changes"]["edges"].as_array().cloned().unwrap_or_default();
        if edges.is_empty() {
            return out;
        }
        for e in edges {
            after = e["cursor"].clone();
            if e["node"]["operation"] == "UPDATED" {
                out.push(e["cursor"].as_str().unwrap_or_default().to_owned());
            }
        }
    }
}

async fn head_cursor(base: &str, token: &str) -> Value {
    let mut after = Value::Null;
    loop {
        let body = gql(
            base,
            token,
            "query($a: String) { changes(after: $a, first: 100) { pageInfo { endCursor } } }",
            json!({ "a": after }),
        )
        .await;
        match &body["data"]["changes"]["pageInfo"]["endCursor"] {
            Value::Null => return after,
            cursor => after = cursor.clone(),
        }
    }
}

/// Updates `households` of community `code` `n` times through `bases` in turn.
async fn writer(bases: Vec<String>, token: String, code: String, n: usize) -> usize {
    let mut done = 0;
    for i in 0..n {
        let base = &bases[i % bases.len()];
        let read =
            gql(base, &token, "query($c: String) { community(code: $c) { id version } }", json!({ "c": code })).await;
        if read.get("errors").is_some() || read["data"].is_null() {
            continue; // that instance was just killed
        }
        let (id, v) = (read["data"]["community"]["id"].clone(), read["data"]["community"]["version"].clone());
        let body = gql(
            base,
            &token,
            "mutation($id: ID!, $v: Int!, $h: Int!) { updateCommunity(input: {id: $id, expectedVersion: $v, households: $h}) { version } }",
            json!({ "id": id, "v": v, "h": i as i64 + 1 }),
        )
        .await;
        if body.get("errors").is_none() && !body["data"].is_null() {
            done += 1;
        }
    }
    done
}

fn server_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("WEBHOOK_ALLOW_LOOPBACK_URLS", "true"),
        ("WEBHOOK_CONNECT_TIMEOUT_MS", "500"),
        ("WEBHOOK_TIMEOUT_MS", "1000"),
        ("WEBHOOK_RETRY_BASE_MS", "100"),
        ("WEBHOOK_RETRY_MAX_MS", "800"),
        ("WEBHOOK_LEASE_SECS", "3"),
        ("COST_BUDGET", "0"),
    ]
}

/// Two instances, four writers, two subscriptions: every event reaches each
/// receiver in feed order, verified by the receivers' own libraries, across
/// a receiver that is down, then failing, then too slow, and an instance
/// killed mid-run.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_reach_real_receivers_in_order_through_outages_and_a_killed_instance() {
    let Some(schema) = postgres_schema().await else { return };
    setup_clients();
    let mut env = server_env();
    env.push(("DEMO_DATA", "true"));
    let a = ServerProcess::start(&schema, &env).await;
    let mut b = ServerProcess::start(&schema, &server_env()).await;
    let token = token_for("FOUNDATION", &all_scopes());
    let dir = std::env::temp_dir().join(format!("push-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");

    let (python_port, node_port) = (free_port(), free_port());
    let create = "mutation($u: String!) { createWebhookSubscription(input: {url: $u, entityTypes: [\"Community\"], operations: [UPDATED]}) { secret } }";
    let mut secrets = Vec::new();
    for port in [python_port, node_port] {
        let body = gql(&a.base, &token, create, json!({ "u": format!("http://127.0.0.1:{port}/webhook") })).await;
        secrets.push(body["data"]["createWebhookSubscription"]["secret"].as_str().expect("secret").to_owned());
    }
    let start = head_cursor(&a.base, &token).await;
    let node = Receiver::start("node", node_port, &secrets[1], dir.join("node.jsonl"), "ok");

    // Four writers through both instances; the python receiver is down.
    let bases = vec![a.base.clone(), b.base.clone()];
    let writers: Vec<_> =
        (1..=4).map(|w| tokio::spawn(writer(bases.clone(), token.clone(), format!("DEMO-{w:03}"), 15))).collect();
    // Each phase lasts until the delivery log shows it (a fixed sleep can
    // fall between two retries on a loaded machine).
    logged(&a.base, &token, python_port, "could not connect", |d| d["error"] == "could not connect").await;
    let python = Receiver::start("python", python_port, &secrets[0], dir.join("python.jsonl"), "fail");
    logged(&a.base, &token, python_port, "a 500", |d| d["statusCode"] == 500).await;
    // Instance B dies mid-run, holding leases and perhaps a delivery in flight.
    let _ = b.child.kill();
    let _ = b.child.wait();
    python.mode("slow").await;
    logged(&a.base, &token, python_port, "a timeout", |d| d["error"] == "timed out").await;
    python.mode("ok").await;
    let mut written = 0;
    for w in writers {
        written += w.await.expect("writer");
    }
    settle_feed(&pg_settings(&schema)).await;
    let expected = feed_after(&a.base, &token, start, "Community").await;
    assert!(written >= 30 && expected.len() >= written, "{written} updates, {} events", expected.len());

    let started = Instant::now();
    for receiver in [&node, &python] {
        loop {
            let lines = receiver.lines();
            let got: HashSet<&String> = lines.iter().map(|(_, c, _)| c).collect();
            if expected.iter().all(|c| got.contains(c)) {
                // In order: the first arrival of each event follows the feed.
                let mut seen = HashSet::new();
                let firsts: Vec<String> =
                    lines.iter().filter(|(_, c, _)| seen.insert(c.clone())).map(|(_, c, _)| c.clone()).collect();
                assert_eq!(firsts, expected, "deliveries out of feed order");
                let duplicates = lines.iter().filter(|(_, _, d)| *d).count();
                println!(
                    "receiver on port {}: {} events, {} deliveries, {duplicates} duplicates",
                    receiver.port,
                    expected.len(),
                    lines.len()
                );
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "receiver on port {} got {} of {} events",
                receiver.port,
                got.len(),
                expected.len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // The delivery log kept the outage: the phases above waited for each of
    // its failures, and they are still there after the successes.
    let log = attempts(&a.base, &token, python_port).await;
    assert!(log.iter().any(|d| d["error"] == "could not connect"), "the down receiver is logged");
    assert!(log.iter().any(|d| d["statusCode"] == 500), "the failing receiver is logged");
    assert!(log.iter().any(|d| d["error"] == "timed out"), "the slow receiver is logged");
    assert!(log.iter().any(|d| d["succeeded"] == true), "the recovered receiver is logged");
}

/// The oldest and the newest 100 delivery attempts logged for the
/// subscription to the receiver on `port`.
async fn attempts(base: &str, token: &str, port: u16) -> Vec<Value> {
    let log = gql(
        base,
        token,
        "{ webhookSubscriptions { nodes { url
            oldest: deliveries(first: 100) { nodes { statusCode error succeeded } }
            deliveries(last: 100) { nodes { statusCode error succeeded } } } } }",
        json!({}),
    )
    .await;
    let subs = log["data"]["webhookSubscriptions"]["nodes"].as_array().cloned().unwrap_or_default();
    let Some(sub) = subs.iter().find(|s| s["url"].as_str().unwrap_or_default().contains(&format!(":{port}/"))) else {
        return Vec::new();
    };
    let page = |name: &str| sub[name]["nodes"].as_array().cloned().unwrap_or_default();
    [page("oldest"), page("deliveries")].concat()
}

/// Waits (at most 60 s) until an attempt to the receiver on `port` matching `seen` is logged.
async fn logged(base: &str, token: &str, port: u16, what: &str, seen: impl Fn(&Value) -> bool) {
    let started = Instant::now();
    while !attempts(base, token, port).await.iter().any(&seen) {
        assert!(started.elapsed() < Duration::from_secs(60), "no attempt with {what} was logged for port {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs the graphql-ws client until it ends; returns its output.
fn subscribe_client(ws: &str, token: &str, count: usize, timeout_ms: u64) -> std::process::Output {
    Command::new("node")
        .arg(clients().join("node/subscribe.mjs"))
        .args(["--url", ws, "--token", token, "--count", &count.to_string(), "--timeout-ms", &timeout_ms.to_string()])
        .arg("--out")
        .arg(std::env::temp_dir().join(format!("ws-{}.jsonl", uuid::Uuid::new_v4())))
        .output()
        .expect("run the client")
}

/// An organisation may hold `SUBSCRIPTIONS_PER_ORG` subscriptions open; one
/// more is refused with an error, and the place frees when one closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_subscriptions_per_organisation_are_limited() {
    let Some(schema) = postgres_schema().await else { return };
    setup_clients();
    let mut env = server_env();
    env.push(("SUBSCRIPTIONS_PER_ORG", "1"));
    let a = ServerProcess::start(&schema, &env).await;
    let ws = a.base.replace("http://", "ws://") + "/graphql/ws";
    let token = token_for("GSB", &["changes:read", "communities:read"]);
    // The first holds the only place for 4 s (it times out waiting for events).
    let first = {
        let (ws, token) = (ws.clone(), token.clone());
        std::thread::spawn(move || subscribe_client(&ws, &token, 1, 4000))
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = subscribe_client(&ws, &token, 1, 4000);
    let printed = String::from_utf8_lossy(&second.stdout);
    assert_eq!(second.status.code(), Some(3), "a second subscription is refused: {printed}");
    assert!(printed.contains("at most 1 live subscriptions"), "{printed}");
    // Another organisation is not affected.
    let other = subscribe_client(&ws, &token_for("CDD", &["changes:read"]), 1, 1500);
    assert_eq!(
        other.status.code(),
        Some(1),
        "CDD's subscription opened (and timed out waiting): {}",
        String::from_utf8_lossy(&other.stdout)
    );
    let first = first.join().expect("join");
    assert_eq!(first.status.code(), Some(1), "the first timed out waiting, as asked");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = subscribe_client(&ws, &token, 1, 1500);
    assert_eq!(again.status.code(), Some(1), "the place is free again: {}", String::from_utf8_lossy(&again.stdout));
}

/// Every event a live subscription sends spends the organisation's budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_subscription_events_spend_the_budget() {
    let Some(schema) = postgres_schema().await else { return };
    setup_clients();
    let mut env: Vec<(&str, &str)> = server_env().into_iter().filter(|(k, _)| *k != "COST_BUDGET").collect();
    env.extend([
        ("DEMO_DATA", "true"),
        ("COST_BUDGET", "20000"),
        ("COST_REFILL_PER_SEC", "1"),
        ("SUBSCRIPTION_EVENT_COST", "500"),
    ]);
    let a = ServerProcess::start(&schema, &env).await;
    let token = token_for("GSB", &["changes:read", "communities:read"]);
    let remaining = |body: &Value| body["extensions"]["cost"]["remaining"].as_f64().unwrap_or(-1.0);
    let cheap = "{ viewer { subject } }";
    let before = remaining(&gql(&a.base, &token, cheap, json!({})).await);
    // The demo data's first 10 events, from the start of the feed.
    let ws = a.base.replace("http://", "ws://") + "/graphql/ws";
    let out = std::env::temp_dir().join(format!("ws-{}.jsonl", uuid::Uuid::new_v4()));
    let status = Command::new("node")
        .arg(clients().join("node/subscribe.mjs"))
        .args([
            "--url",
            &ws,
            "--token",
            &token,
            "--after",
            &first_cursor(),
            "--count",
            "10",
            "--timeout-ms",
            "20000",
            "--out",
        ])
        .arg(&out)
        .status()
        .expect("run the client");
    assert!(status.success());
    let after = remaining(&gql(&a.base, &token, cheap, json!({})).await);
    let spent = before - after;
    // 10 events read; the server may have sent (and charged) more before
    // the client's `complete` reached it: it sends each event as soon as
    // the socket takes it (20 seen on a fast machine, where 15 was the old
    // bound), but always whole events of 500 points.
    let events = ((spent - 1.0) / 500.0).round();
    assert!((10.0..=25.0).contains(&events), "{spent} points spent (before {before}, after {after})");
    assert!((spent - 1.0 - events * 500.0).abs() < 2.0, "whole events of 500 points: {spent}");
}

/// A cursor before the first event of the feed.
fn first_cursor() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"o":"change.id","i":0}"#)
}

/// The npm graphql-ws client receives the backlog after its cursor and then
/// live events while writers run: the settled feed, no gap, no repeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_graphql_ws_client_gets_the_backlog_then_live_events_with_no_seam() {
    let Some(schema) = postgres_schema().await else { return };
    setup_clients();
    let mut env = server_env();
    env.push(("DEMO_DATA", "true"));
    let a = ServerProcess::start(&schema, &env).await;
    let token = token_for("CDD", &all_scopes());
    let start = head_cursor(&a.base, &token).await;
    // A backlog of 10 updates before the client connects.
    let bases = vec![a.base.clone()];
    writer(bases.clone(), token.clone(), "DEMO-010".into(), 10).await;
    let out = std::env::temp_dir().join(format!("ws-{}.jsonl", uuid::Uuid::new_v4()));
    let ws = a.base.replace("http://", "ws://") + "/graphql/ws";
    let client = Command::new("node")
        .arg(clients().join("node/subscribe.mjs"))
        .args(["--url", &ws, "--token", &token, "--after", start.as_str().unwrap_or_default()])
        .args(["--entity-types", "Community", "--count", "40", "--timeout-ms", "60000", "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the graphql-ws client");
    // 30 more while it streams, from two writers.
    let live: Vec<_> = ["DEMO-011", "DEMO-012"]
        .iter()
        .map(|c| tokio::spawn(writer(bases.clone(), token.clone(), (*c).into(), 15)))
        .collect();
    for w in live {
        assert_eq!(w.await.expect("writer"), 15);
    }
    let output = tokio::task::spawn_blocking(move || client.wait_with_output()).await.expect("join").expect("wait");
    assert!(output.status.success(), "the client failed: {}", String::from_utf8_lossy(&output.stdout));
    settle_feed(&pg_settings(&schema)).await;
    let expected = feed_after(&a.base, &token, start, "Community").await;
    let got: Vec<String> = std::fs::read_to_string(&out)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| v["cursor"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(got, expected, "the stream equals the settled feed: no gap, no repeat, same order");

    // A token that expires closes the socket with 4403 when it does.
    let short = black_box_tests::token_with_ttl("CDD", &["changes:read", "communities:read"], Duration::from_secs(3));
    let started = Instant::now();
    let expired = subscribe_client(&ws, &short, 1000, 30_000);
    let printed = String::from_utf8_lossy(&expired.stdout);
    assert_eq!(expired.status.code(), Some(2), "{printed}");
    assert!(printed.contains("closed 4403"), "{printed}");
    assert!(started.elapsed() < Duration::from_secs(20), "closed at expiry, not at the client's timeout");

    // A refused token closes the socket with 4403.
    let refused = Command::new("node")
        .arg(clients().join("node/subscribe.mjs"))
        .args(["--url", &ws, "--token", "not-a-token", "--count", "1", "--timeout-ms", "10000", "--out"])
        .arg(std::env::temp_dir().join("refused.jsonl"))
        .output()
        .expect("run the client");
    let printed = String::from_utf8_lossy(&refused.stdout);
    assert_eq!(refused.status.code(), Some(2), "{printed}");
    assert!(printed.contains("closed 4403"), "{printed}");
}
