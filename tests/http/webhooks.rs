//! Webhook subscriptions end to end: a receiver on 127.0.0.1 gets signed
//! deliveries in feed order, retries after failures, rotation, replay,
//! auto-pause, URL checks and ownership.

use std::time::Duration;

use black_box_tests::receiver::{Receiver, verify};
use black_box_tests::{TestApp, code, on_both};
use serde_json::{Value, json};

on_both!(
    signed_deliveries_arrive_in_order_and_retry_until_acknowledged,
    rotation_replay_and_ownership,
    bad_urls_are_refused_with_the_reason,
);

const CREATE: &str = "mutation($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) {
  secret subscription { id version status scopes entityTypes operations cursor } } }";
const SUB: &str = "query($id: ID!) { webhookSubscription(id: $id) { id version status pausedReason consecutiveFailures cursor
  deliveries(last: 50) { totalCount nodes { messageId attempt statusCode succeeded latencyMs responseExcerpt error } } } }";

/// A FOUNDATION token that manages webhooks and reads communities, without PII.
fn manager(app: &TestApp) -> String {
    app.token("FOUNDATION", &["webhooks:manage", "communities:read", "changes:read"])
}

async fn set_households(app: &TestApp, code: &str, households: i64) {
    let token = app.full("CDD");
    let data = app.ok(&token, "query($c: String) { community(code: $c) { id version } }", json!({ "c": code })).await;
    let (id, version) = (data["community"]["id"].clone(), data["community"]["version"].clone());
    app.ok(
        &token,
        "mutation($id: ID!, $v: Int!, $h: Int!) { updateCommunity(input: {id: $id, expectedVersion: $v, households: $h}) { version } }",
        json!({ "id": id, "v": version, "h": households }),
    )
    .await;
}

async fn subscribe(app: &TestApp, token: &str, url: &str, extra: Value) -> (String, String) {
    let mut input = json!({ "url": url, "entityTypes": ["Community"], "operations": ["UPDATED"] });
    if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        input.extend(extra.clone());
    }
    let data = app.ok(token, CREATE, json!({ "input": input })).await;
    let created = &data["createWebhookSubscription"];
    (
        created["subscription"]["id"].as_str().expect("id").to_owned(),
        created["secret"].as_str().expect("secret").to_owned(),
    )
}

async fn signed_deliveries_arrive_in_order_and_retry_until_acknowledged(app: TestApp) {
    let receiver = Receiver::start().await;
    let token = manager(&app);
    let (id, secret) = subscribe(&app, &token, &receiver.url, json!({ "description": "bank sync" })).await;
    assert!(secret.starts_with("whsec_"));
    // The secret is never listed again.
    let listed = app.gql(&token, "{ webhookSubscriptions { nodes { id } } }", json!({})).await;
    assert!(!listed.to_string().contains(&secret));

    set_households(&app, "DEMO-001", 101).await;
    let got = receiver.wait_for(1).await;
    let first = &got[0];
    assert!(verify(&secret, first), "the signature verifies with the subscription's secret");
    assert!(!verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", first));
    let body = first.json();
    assert_eq!(body["type"], "Community.updated");
    assert_eq!(body["data"]["event"]["changedFields"], json!(["households"]));
    // The event carries the values before and after, as the API has them.
    let diff = &body["data"]["event"]["diff"];
    assert_eq!(diff[0]["field"], "households", "{body}");
    assert_eq!(diff[0]["after"], 101, "{body}");
    assert!(diff[0]["before"].is_number(), "{body}");
    assert_eq!(body["data"]["record"]["code"], "DEMO-001");
    assert_eq!(body["data"]["record"]["households"], 101);
    // Without communities:pii the record carries no contact.
    assert!(body["data"]["record"].get("contact").is_none(), "{body}");
    let ts: i64 = first.timestamp.parse().expect("a unix timestamp");
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);

    // The endpoint fails: the same event is retried with the same id, and
    // the next one waits for it.
    receiver.answer(500);
    set_households(&app, "DEMO-002", 201).await;
    set_households(&app, "DEMO-003", 301).await;
    let got = receiver.wait_for(4).await;
    let failing_id = got[1].id.clone();
    assert!(got[1..].iter().all(|r| r.id == failing_id), "nothing after a failing event is sent");
    let state = app.ok(&token, SUB, json!({ "id": id })).await;
    assert!(state["webhookSubscription"]["consecutiveFailures"].as_i64() >= Some(1), "{state}");
    receiver.answer(200);
    let started = std::time::Instant::now();
    let got = loop {
        let got = receiver.received().await;
        let codes: Vec<i64> = got.iter().filter_map(|r| r.json()["data"]["record"]["households"].as_i64()).collect();
        if codes.last() == Some(&301) || started.elapsed() > Duration::from_secs(20) {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut order: Vec<i64> = got.iter().filter_map(|r| r.json()["data"]["record"]["households"].as_i64()).collect();
    order.dedup();
    assert_eq!(order, [101, 201, 301], "delivered in feed order");
    assert!(got.iter().all(|r| verify(&secret, r)));
    // The log shows the failures and the success, with status codes.
    let state = app.ok(&token, SUB, json!({ "id": id })).await;
    let log = state["webhookSubscription"]["deliveries"]["nodes"].as_array().cloned().unwrap_or_default();
    assert!(log.iter().any(|d| d["statusCode"] == 500 && d["succeeded"] == false), "{state}");
    assert!(log.iter().any(|d| d["statusCode"] == 200 && d["succeeded"] == true && d["attempt"].as_i64() > Some(1)));
    assert_eq!(state["webhookSubscription"]["consecutiveFailures"], 0);
    // A creation is filtered out (operations: UPDATED only).
    let before = receiver.received().await.len();
    app.ok(
        &app.full("CDD"),
        "mutation { createCommunity(input: {code: \"WH-NEW\", nameTh: \"ชุมชนใหม่\", provinceCode: \"TH-57\"}) { id } }",
        json!({}),
    )
    .await;
    set_households(&app, "DEMO-004", 401).await;
    let got = receiver.wait_for(before + 1).await;
    assert_eq!(got[before].json()["data"]["record"]["code"], "DEMO-004");
}

async fn rotation_replay_and_ownership(app: TestApp) {
    let receiver = Receiver::start().await;
    let token = manager(&app);
    let (id, old_secret) = subscribe(&app, &token, &receiver.url, json!({})).await;
    set_households(&app, "DEMO-005", 5).await;
    let first = receiver.wait_for(1).await[0].clone();
    // Rotation: the new secret is shown once; both sign during the overlap.
    let version = app.ok(&token, SUB, json!({ "id": id })).await["webhookSubscription"]["version"].clone();
    let rotated = app
        .ok(
            &token,
            "mutation($id: ID!, $v: Int!) { rotateWebhookSecret(input: {id: $id, expectedVersion: $v, overlapSeconds: 600}) { secret subscription { version previousSecretExpiresAt } } }",
            json!({ "id": id, "v": version }),
        )
        .await;
    let new_secret = rotated["rotateWebhookSecret"]["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new_secret, old_secret);
    assert!(rotated["rotateWebhookSecret"]["subscription"]["previousSecretExpiresAt"].is_string());
    set_households(&app, "DEMO-006", 6).await;
    let second = receiver.wait_for(2).await[1].clone();
    assert!(verify(&new_secret, &second) && verify(&old_secret, &second), "both secrets sign during the overlap");
    assert_eq!(second.signature.split(' ').count(), 2);
    // A stale expectedVersion is a conflict.
    let stale = app
        .gql(
            &token,
            "mutation($id: ID!) { rotateWebhookSecret(input: {id: $id, expectedVersion: 1}) { secret } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&stale), "CONFLICT");
    // Replay from the first event's cursor: the second event comes again,
    // with the same webhook-id.
    let first_cursor = first.json()["data"]["event"]["cursor"].clone();
    let version = app.ok(&token, SUB, json!({ "id": id })).await["webhookSubscription"]["version"].clone();
    app.ok(
        &token,
        "mutation($id: ID!, $v: Int!, $c: String) { replayWebhookSubscription(input: {id: $id, expectedVersion: $v, after: $c}) { version } }",
        json!({ "id": id, "v": version, "c": first_cursor }),
    )
    .await;
    let third = receiver.wait_for(3).await[2].clone();
    assert_eq!(third.id, second.id, "a replayed event keeps its webhook-id");
    // Another partner neither sees nor changes it.
    let other = app.token("CDD", &["webhooks:manage", "changes:read"]);
    let seen = app
        .ok(&other, "query($id: ID!) { webhookSubscription(id: $id) { id } node(id: $id) { id } }", json!({ "id": id }))
        .await;
    assert_eq!(seen, json!({ "webhookSubscription": null, "node": null }));
    let listed = app.ok(&other, "{ webhookSubscriptions { totalCount } }", json!({})).await;
    assert_eq!(listed["webhookSubscriptions"]["totalCount"], 0);
    let refused = app
        .gql(&other, "mutation($id: ID!) { updateWebhookSubscription(input: {id: $id, expectedVersion: 3, active: false}) { id } }", json!({ "id": id }))
        .await;
    assert_eq!(code(&refused), "NOT_FOUND");
    // Without webhooks:manage nothing is shown.
    let reader = app.token("FOUNDATION", &["communities:read"]);
    assert_eq!(code(&app.gql(&reader, "{ webhookSubscriptions { totalCount } }", json!({})).await), "FORBIDDEN");
    // Pausing stops delivery; events wait and arrive after resuming.
    let version = app.ok(&token, SUB, json!({ "id": id })).await["webhookSubscription"]["version"].clone();
    let paused = app
        .ok(&token, "mutation($id: ID!, $v: Int!) { updateWebhookSubscription(input: {id: $id, expectedVersion: $v, active: false}) { status version } }", json!({ "id": id, "v": version }))
        .await;
    assert_eq!(paused["updateWebhookSubscription"]["status"], "PAUSED");
    set_households(&app, "DEMO-007", 7).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.received().await.len(), 3, "a paused subscription receives nothing");
    let v = paused["updateWebhookSubscription"]["version"].clone();
    app.ok(&token, "mutation($id: ID!, $v: Int!) { updateWebhookSubscription(input: {id: $id, expectedVersion: $v, active: true}) { status } }", json!({ "id": id, "v": v })).await;
    let fourth = receiver.wait_for(4).await[3].clone();
    assert_eq!(fourth.json()["data"]["record"]["code"], "DEMO-007");
}

async fn bad_urls_are_refused_with_the_reason(app: TestApp) {
    let token = manager(&app);
    for (url, reason) in [
        ("http://10.0.0.7/hook", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ("ftp://hooks.example.org/x", "https"),
        ("not a url", "not a valid URL"),
        ("https://user:pw@127.0.0.1/x", "user name"),
    ] {
        let body = app.gql(&token, CREATE, json!({ "input": { "url": url } })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{url}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "url");
        assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains(reason), "{url}: {body}");
    }
    let body = app
        .gql(
            &token,
            CREATE,
            json!({ "input": { "url": "http://127.0.0.1:9/x", "entityTypes": ["WebhookSubscription"] } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
}

/// After the retry horizon the subscription is paused as failing, with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_failing_past_the_horizon_is_paused() {
    let app = TestApp::spawn_with(black_box_tests::Backend::Sqlite, |c| {
        c.webhooks.horizon = Duration::from_secs(1);
    })
    .await
    .expect("sqlite");
    let receiver = Receiver::start().await;
    receiver.answer(503);
    let token = manager(&app);
    let (id, _) = subscribe(&app, &token, &receiver.url, json!({})).await;
    set_households(&app, "DEMO-008", 8).await;
    let started = std::time::Instant::now();
    loop {
        let state = app.ok(&token, SUB, json!({ "id": id })).await;
        if state["webhookSubscription"]["status"] == "FAILING" {
            let reason = state["webhookSubscription"]["pausedReason"].as_str().unwrap_or_default();
            assert!(reason.contains("retry horizon"), "{state}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "never paused: {state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let attempts = receiver.received().await.len();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.received().await.len(), attempts, "a failing subscription is not retried");
}

on_both!(deliveries_follow_the_read_rules_of_the_subscribing_organisation);

/// A partner without `mous:read` receives no MOU event, and a draft MOU's
/// events reach only its parties (MOU-ENERGY: CDD and the foundation).
async fn deliveries_follow_the_read_rules_of_the_subscribing_organisation(app: TestApp) {
    let everything = json!({ "entityTypes": null, "operations": null });
    let party = Receiver::start().await;
    let outsider = Receiver::start().await;
    let no_mou_scope = Receiver::start().await;
    let reads = ["webhooks:manage", "changes:read", "communities:read", "mous:read"];
    subscribe(&app, &app.token("CDD", &reads), &party.url, everything.clone()).await;
    subscribe(&app, &app.token("GSB", &reads), &outsider.url, everything.clone()).await;
    let (id, _) = subscribe(&app, &manager(&app), &no_mou_scope.url, everything).await;
    // The stored scopes are shown with the subscription.
    let listed =
        app.ok(&manager(&app), SUB.replace("pausedReason", "pausedReason scopes").as_str(), json!({ "id": id })).await;
    assert_eq!(listed["webhookSubscription"]["scopes"], json!(["communities:read", "changes:read", "webhooks:manage"]));

    let admin = app.full("FOUNDATION");
    let mou = app.id_of("mou", "MOU-ENERGY").await;
    let v = app.ok(&admin, "query($id: ID!) { node(id: $id) { ... on Mou { version } } }", json!({ "id": mou })).await
        ["node"]["version"]
        .clone();
    app.ok(&admin, "mutation($id: ID!, $v: Int!) { updateMou(input: {id: $id, expectedVersion: $v, purpose: \"webhook check\"}) { id } }", json!({ "id": mou, "v": v })).await;
    // A marker every subscription may read, after the MOU's event.
    set_households(&app, "DEMO-009", 9).await;
    let types = |got: Vec<black_box_tests::receiver::Received>| -> Vec<String> {
        got.iter().map(|r| r.json()["type"].as_str().unwrap_or_default().to_owned()).collect()
    };
    let got = types(party.wait_for(2).await);
    assert_eq!(got, ["Mou.updated", "Community.updated"], "a party receives the draft MOU's event");
    let got = types(outsider.wait_for(1).await);
    assert_eq!(got, ["Community.updated"], "a non-party never receives a draft MOU's event");
    let got = types(no_mou_scope.wait_for(1).await);
    assert_eq!(got, ["Community.updated"], "without mous:read no MOU event is delivered");
    let party_body = party.received().await[0].json();
    assert_eq!(party_body["data"]["record"]["purpose"], "webhook check");
}
