//! Exports: a connection's every page written at one snapshot, downloaded
//! by the organisation that made it, and the change feed's cursor at that
//! snapshot.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use black_box_tests::{Backend, TestApp, code, on_both};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

on_both!(
    a_jsonl_export_holds_every_node_once_across_pages,
    a_csv_export_has_a_header_and_quotes_and_refuses_nested_selections,
    exports_are_the_organisations_own_and_expire,
    bad_export_queries_are_refused_with_a_code,
    the_export_and_the_change_feed_meet_without_gap_or_repeat,
);

const START: &str = "mutation($in: StartExportInput!) { startExport(input: $in) { id status format } }";
const STATUS: &str = "query($id: ID!) { export(id: $id) { id status objectCount byteSize url cursor expiresAt error { code message } } }";

/// Starts an export; returns the response body.
async fn start(app: &TestApp, token: &str, query: &str, format: &str) -> Value {
    app.gql(token, START, json!({ "in": { "query": query, "format": format } })).await
}

/// Starts an export that must be accepted; returns its id.
async fn started(app: &TestApp, token: &str, query: &str, format: &str) -> String {
    let body = start(app, token, query, format).await;
    assert!(body.get("errors").is_none(), "startExport failed: {body}");
    assert_eq!(body["data"]["startExport"]["format"], format);
    body["data"]["startExport"]["id"].as_str().expect("an id").to_owned()
}

/// Polls the export until it has ended; returns it.
async fn finished(app: &TestApp, token: &str, id: &str) -> Value {
    let began = Instant::now();
    loop {
        let data = app.ok(token, STATUS, json!({ "id": id })).await;
        let export = data["export"].clone();
        if !["QUEUED", "RUNNING"].contains(&export["status"].as_str().unwrap_or_default()) {
            return export;
        }
        assert!(began.elapsed() < Duration::from_secs(60), "the export did not end: {export}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// GETs an export's file: status, headers, body.
async fn download(app: &TestApp, token: &str, id: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = app
        .client
        .get(format!("{}/exports/{id}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("the service answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.expect("a body").to_vec())
}

/// Creates `n` communities `{prefix}-{i}` through the API, 20 per request (the root-field limit).
async fn create_communities(app: &TestApp, token: &str, prefix: &str, n: usize) {
    for batch in (0..n).collect::<Vec<_>>().chunks(20) {
        let fields: Vec<String> = batch
            .iter()
            .map(|i| {
                format!(
                    "c{i}: createCommunity(input: {{code: \"{prefix}-{i:03}\", nameTh: \"ชุมชน {i}\", nameEn: \"Community {i}\", provinceCode: \"TH-57\"}}) {{ id }}"
                )
            })
            .collect();
        app.ok(token, &format!("mutation {{ {} }}", fields.join(" ")), json!({})).await;
    }
}

/// Every page of a list query (`communities`), with `selection` on each node.
async fn list_all(app: &TestApp, token: &str, selection: &str) -> Vec<Value> {
    let query = format!(
        "query($after: String) {{ communities(first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {selection} }} }} }}"
    );
    let (mut out, mut after) = (Vec::new(), Value::Null);
    loop {
        let data = app.ok(token, &query, json!({ "after": after })).await;
        out.extend(data["communities"]["nodes"].as_array().cloned().unwrap_or_default());
        if data["communities"]["pageInfo"]["hasNextPage"] != json!(true) {
            return out;
        }
        after = data["communities"]["pageInfo"]["endCursor"].clone();
    }
}

fn lines(body: &[u8]) -> Vec<Value> {
    std::str::from_utf8(body)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect()
}

async fn a_jsonl_export_holds_every_node_once_across_pages(app: TestApp) {
    let token = app.full("CDD");
    create_communities(&app, &token, "EXP", 250).await;
    let selection = "code nameTh enrolments { nodes { status programme { code } } }";
    let id = started(&app, &token, &format!("{{ communities {{ nodes {{ {selection} }} }} }}"), "JSONL").await;
    let export = finished(&app, &token, &id).await;
    assert_eq!(export["status"], "COMPLETED", "{export}");
    assert_eq!(export["url"], json!(format!("/exports/{id}")));
    assert!(export["cursor"].is_string() && export["expiresAt"].is_string(), "{export}");
    let (status, headers, body) = download(&app, &token, &id).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-ndjson; charset=utf-8");
    assert_eq!(headers["content-disposition"], format!("attachment; filename=\"export-{id}.jsonl\"").as_str());
    assert_eq!(headers["content-length"], body.len().to_string().as_str());
    assert_eq!(export["byteSize"], json!(body.len()));
    // Each line keeps the selection's order.
    assert!(body.starts_with(b"{\"code\":"), "{}", String::from_utf8_lossy(&body[..80]));
    let exported = lines(&body);
    // 36 demo communities and 250 more: three pages of 100.
    assert_eq!(exported.len(), 286);
    assert_eq!(export["objectCount"], json!(286));
    let codes: BTreeSet<&str> = exported.iter().map(|c| c["code"].as_str().expect("code")).collect();
    assert_eq!(codes.len(), exported.len(), "every community exactly once");
    // The same as a list query, in the same order, nested lists included.
    assert_eq!(exported, list_all(&app, &token, selection).await);
}

async fn a_csv_export_has_a_header_and_quotes_and_refuses_nested_selections(app: TestApp) {
    let token = app.full("CDD");
    app.ok(
        &token,
        r#"mutation { createCommunity(input: {code: "CSV-1", nameTh: "บ้าน \"ท่า\", น่าน", nameEn: "Ban \"Tha\", Nan", provinceCode: "TH-55"}) { id } }"#,
        json!({}),
    )
    .await;
    let id = started(&app, &token, "{ communities { edges { node { code name: nameEn households } } } }", "CSV").await;
    let export = finished(&app, &token, &id).await;
    assert_eq!(export["status"], "COMPLETED", "{export}");
    let (status, headers, body) = download(&app, &token, &id).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(headers["content-disposition"], format!("attachment; filename=\"export-{id}.csv\"").as_str());
    let text = String::from_utf8(body).expect("UTF-8");
    let rows: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(rows[0], "code,name,households");
    assert_eq!(rows.len(), 1 + 37, "a header and one row per community");
    assert!(rows.contains(&"CSV-1,\"Ban \"\"Tha\"\", Nan\","), "{text}");
    assert_eq!(export["objectCount"], json!(37));
    // A nested selection cannot be a CSV row.
    let nested = start(&app, &token, "{ communities { nodes { code province { code } } } }", "CSV").await;
    assert_eq!(code(&nested), "BAD_USER_INPUT");
    let message = nested["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("CSV needs a flat selection: `province` is an object"), "{nested}");
}

async fn exports_are_the_organisations_own_and_expire(app: TestApp) {
    let token = app.full("CDD");
    let query = "{ communities { nodes { code } } }";
    let id = started(&app, &token, query, "JSONL").await;
    assert_eq!(finished(&app, &token, &id).await["status"], "COMPLETED");
    // Another organisation: not found, on the download and in the API.
    let other = app.full("GSB");
    assert_eq!(download(&app, &other, &id).await.0, 404);
    assert_eq!(app.ok(&other, STATUS, json!({ "id": id })).await["export"], Value::Null);
    let theirs = app.ok(&other, "{ exports { nodes { id } } }", json!({})).await;
    assert_eq!(theirs["exports"]["nodes"], json!([]));
    let ours = app.ok(&token, "{ exports { nodes { id } } }", json!({})).await;
    assert_eq!(ours["exports"]["nodes"], json!([{ "id": id }]));
    // Without exports:run: FORBIDDEN, to start or download (403).
    let reader = app.token("CDD", &["communities:read"]);
    assert_eq!(code(&start(&app, &reader, query, "JSONL").await), "FORBIDDEN");
    assert_eq!(download(&app, &reader, &id).await.0, 403);
    // No token: 401.
    let anonymous = app.client.get(format!("{}/exports/{id}", app.base)).send().await.expect("answer");
    assert_eq!(anonymous.status().as_u16(), 401);
    // With exports:run but not the scope of what it reads: the export's
    // query is refused as the caller's own request would be.
    let runner = app.token("CDD", &["exports:run"]);
    assert_eq!(code(&start(&app, &runner, query, "JSONL").await), "FORBIDDEN");

    // One export at a time per organisation: while one runs (made to look
    // so), another is refused, naming it; a cancel ends it.
    let db = app.sql().await;
    let number = String::from_utf8(base64_decode(&id)).expect("id text");
    let number: i64 = number.rsplit(':').next().and_then(|n| n.parse().ok()).expect("id number");
    db.execute_unprepared(&format!("UPDATE exports SET status = 'RUNNING' WHERE id = {number}")).await.expect("sql");
    let second = start(&app, &token, query, "JSONL").await;
    assert_eq!(code(&second), "EXPORT_IN_PROGRESS", "{second}");
    assert_eq!(second["errors"][0]["extensions"]["exportId"], json!(id));
    assert_eq!(download(&app, &token, &id).await.0, 409);
    let canceled =
        app.ok(&token, "mutation($id: ID!) { cancelExport(id: $id) { status url } }", json!({ "id": id })).await;
    assert_eq!(canceled["cancelExport"], json!({ "status": "CANCELED", "url": null }));
    let again = app.gql(&token, "mutation($id: ID!) { cancelExport(id: $id) { status } }", json!({ "id": id })).await;
    assert_eq!(code(&again), "BAD_USER_INPUT");

    // Expiry: past expiresAt the file is gone (410) and the export says EXPIRED.
    let id = started(&app, &token, query, "JSONL").await;
    assert_eq!(finished(&app, &token, &id).await["status"], "COMPLETED");
    let number: i64 =
        String::from_utf8(base64_decode(&id)).expect("id").rsplit(':').next().and_then(|n| n.parse().ok()).expect("n");
    db.execute_unprepared(&format!("UPDATE exports SET expires_at = '2020-01-01 00:00:00+00:00' WHERE id = {number}"))
        .await
        .expect("sql");
    let (status, headers, body) = download(&app, &token, &id).await;
    assert_eq!(status, 410);
    assert!(headers["content-type"].to_str().unwrap_or_default().starts_with("application/json"));
    let body: Value = serde_json::from_slice(&body).expect("a JSON error");
    assert_eq!(body["errors"][0]["extensions"]["code"], "EXPORT_EXPIRED");
    let export = app.ok(&token, STATUS, json!({ "id": id })).await;
    assert_eq!((&export["export"]["status"], &export["export"]["url"]), (&json!("EXPIRED"), &Value::Null));
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).expect("base64")
}

async fn bad_export_queries_are_refused_with_a_code(app: TestApp) {
    let token = app.full("CDD");
    let refused = |query: &'static str, wanted_code: &'static str, wanted: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            let body = start(app, token, query, "JSONL").await;
            assert_eq!(code(&body), wanted_code, "{query}: {body}");
            let message = body["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.contains(wanted), "{query}: {message}");
        }
    };
    refused("{ communities { nodes { code } } mous { nodes { code } } }", "BAD_USER_INPUT", "exactly one root field")
        .await;
    refused("{ viewer { subject } }", "BAD_USER_INPUT", "`viewer` is not a connection").await;
    refused("{ communities(first: 10) { nodes { code } } }", "BAD_USER_INPUT", "do not pass `first`").await;
    refused("{ communities { totalCount } }", "BAD_USER_INPUT", "select `nodes").await;
    refused("{ communities { nodes { nope } } }", "BAD_USER_INPUT", "does not validate").await;
    refused("{ communities { nodes { code", "BAD_USER_INPUT", "does not parse").await;
    refused("mutation { cancelExport(id: \"x\") { id } }", "BAD_USER_INPUT", "only a query").await;
    // 100 communities a page, each with 100 enrolments: past the cost limit.
    refused(
        "{ communities { nodes { enrolments(first: 100) { nodes { programme { code } } } } } }",
        "QUERY_TOO_COMPLEX",
        "past a limit",
    )
    .await;
    // Nothing was queued.
    let listed = app.ok(&token, "{ exports { nodes { id } } }", json!({})).await;
    assert_eq!(listed["exports"]["nodes"], json!([]));
}

mod an_export_past_its_size_cap_fails_and_keeps_nothing {
    use super::*;

    async fn run(app: TestApp) {
        let token = app.full("CDD");
        let id = started(&app, &token, "{ communities { nodes { code nameTh description } } }", "JSONL").await;
        let export = finished(&app, &token, &id).await;
        assert_eq!(export["status"], "FAILED", "{export}");
        assert_eq!(export["error"]["code"], "EXPORT_TOO_LARGE");
        assert_eq!(export["url"], Value::Null);
        assert_eq!(download(&app, &token, &id).await.0, 409);
        let db = app.sql().await;
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM export_chunks",
            ))
            .await
            .expect("sql")
            .expect("a row");
        assert_eq!(row.try_get::<i64>("", "n").expect("n"), 0, "no chunk of a failed export is kept");
    }

    async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_with(backend, |config| config.exports.max_bytes = 1000).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(spawn(Backend::Sqlite).await.expect("sqlite")).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(app) = spawn(Backend::Postgres).await {
            run(app).await;
        }
    }
}

const FEED: &str =
    "query($after: String) { changes(after: $after, first: 100, entityTypes: [\"Community\", \"Enrolment\"]) {
  pageInfo { hasNextPage endCursor } nodes { entityType entityId operation diff { field before after } } } }";

/// What the export holds of one community.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    name: String,
    enrolments: BTreeSet<String>,
}

fn seen(node: &Value) -> (String, Seen) {
    let enrolments = node["enrolments"]["nodes"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["id"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let id = node["id"].as_str().expect("id").to_owned();
    (id, Seen { name: node["nameEn"].as_str().unwrap_or_default().to_owned(), enrolments })
}

/// The seam: while writers rename communities ("Seam 3 v17", a version
/// counter in the name) and nominate them, an export runs. Then the export,
/// followed by `changes(after: export.cursor)`, must give each record's
/// history exactly: the first event after the cursor starts from the
/// exported value (none repeated, none missed), and applying them all gives
/// what a fresh list query shows.
async fn the_export_and_the_change_feed_meet_without_gap_or_repeat(app: TestApp) {
    let token = app.full("FOUNDATION");
    create_communities(&app, &token, "SEAM", 60).await;
    let ids: Vec<String> = {
        let all = list_all(&app, &token, "id code").await;
        all.iter()
            .filter(|c| c["code"].as_str().unwrap_or_default().starts_with("SEAM-"))
            .map(|c| c["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(ids.len(), 60);
    let programme = app.id_of("programme", "PRG-FINANCE").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Renamer: ten communities in turn, each name carrying its version.
    let renamer = {
        let (app_base, ids, token, stop) = (app.base.clone(), ids[..10].to_vec(), token.clone(), stop.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut versions = vec![1i64; ids.len()];
            let mut n = 0usize;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let k = n % ids.len();
                let name = format!("Seam {k} v{}", versions[k] + 1);
                let body: Value = client
                    .post(format!("{app_base}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({
                        "query": "mutation($id: ID!, $v: Int!, $n: String!) { updateCommunity(input: {id: $id, expectedVersion: $v, nameEn: $n}) { version } }",
                        "variables": { "id": ids[k], "v": versions[k], "n": name },
                    }))
                    .send()
                    .await
                    .expect("answer")
                    .json()
                    .await
                    .expect("json");
                assert!(body.get("errors").is_none(), "{body}");
                versions[k] += 1;
                n += 1;
            }
            n
        })
    };
    // Nominator: the other communities, one after another.
    let nominator = {
        let (app_base, ids, token, stop, programme) =
            (app.base.clone(), ids[10..].to_vec(), token.clone(), stop.clone(), programme.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut n = 0usize;
            for id in ids {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let body: Value = client
                    .post(format!("{app_base}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({
                        "query": "mutation($p: ID!, $c: ID!) { nominateCommunity(input: {programmeId: $p, communityId: $c}) { id } }",
                        "variables": { "p": programme, "c": id },
                    }))
                    .send()
                    .await
                    .expect("answer")
                    .json()
                    .await
                    .expect("json");
                assert!(body.get("errors").is_none(), "{body}");
                n += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            n
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let selection = "id nameEn enrolments { nodes { id } }";
    let id = started(&app, &token, &format!("{{ communities {{ nodes {{ {selection} }} }} }}"), "JSONL").await;
    let export = finished(&app, &token, &id).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let renamed = renamer.await.expect("renamer");
    let nominated = nominator.await.expect("nominator");
    assert!(renamed > 0 && nominated > 0, "writes ran during the export: {renamed} renames, {nominated} nominations");
    assert_eq!(export["status"], "COMPLETED", "{export}");
    let (_, _, body) = download(&app, &token, &id).await;
    let mut state: BTreeMap<String, Seen> = lines(&body).iter().map(seen).collect();
    let exported = state.clone();
    // Follow the feed from the export's cursor to its end.
    app.settle_feed().await;
    let mut after = export["cursor"].clone();
    let mut touched: HashMap<String, usize> = HashMap::new();
    loop {
        let data = app.ok(&token, FEED, json!({ "after": after })).await;
        for event in data["changes"]["nodes"].as_array().cloned().unwrap_or_default() {
            let diff: HashMap<&str, &Value> = event["diff"]
                .as_array()
                .map(|d| d.iter().map(|c| (c["field"].as_str().unwrap_or_default(), &c["after"])).collect())
                .unwrap_or_default();
            let entity = event["entityId"].as_str().expect("entity").to_owned();
            match (event["entityType"].as_str(), event["operation"].as_str()) {
                (Some("Community"), Some("UPDATED")) => {
                    let before = event["diff"]
                        .as_array()
                        .and_then(|d| d.iter().find(|c| c["field"] == "nameEn"))
                        .map(|c| c["before"].as_str().unwrap_or_default().to_owned());
                    let record = state.get_mut(&entity).expect("an updated community was exported");
                    if let Some(before) = before {
                        // Nothing repeated, nothing missed: the event starts
                        // where the export (or the previous event) left it.
                        assert_eq!(
                            record.name, before,
                            "{entity}: the event after the cursor does not follow the export"
                        );
                        record.name = diff["nameEn"].as_str().unwrap_or_default().to_owned();
                    }
                    *touched.entry(entity).or_default() += 1;
                }
                (Some("Enrolment"), Some("CREATED")) => {
                    let community = diff["community"]["id"].as_str().expect("the enrolment's community").to_owned();
                    let record = state.get_mut(&community).expect("the nominated community was exported");
                    assert!(record.enrolments.insert(entity.clone()), "{entity} is in the export and after its cursor");
                }
                (Some("Community"), Some("CREATED")) => panic!("no community was created after the export: {event}"),
                _ => {}
            }
        }
        if data["changes"]["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = data["changes"]["pageInfo"]["endCursor"].clone();
    }
    // The export plus the feed is the state now.
    let now: BTreeMap<String, Seen> = list_all(&app, &token, selection).await.iter().map(seen).collect();
    assert_eq!(state, now);
    // And the export was a real cut: some changes before it, some after.
    assert!(exported.values().any(|c| c.name.starts_with("Seam ")), "renames before the snapshot are in the export");
    assert_ne!(exported, now, "writes after the export's snapshot are in the feed");
    assert!(!touched.is_empty());
}

mod a_canceled_export_stops_at_its_next_page {
    use super::*;

    async fn run(app: TestApp) {
        let token = app.full("CDD");
        create_communities(&app, &token, "CANCEL", 250).await;
        let id =
            started(&app, &token, "{ communities { nodes { code enrolments { nodes { status } } } } }", "JSONL").await;
        // Each page waits for its loaders' slow batch window: the export
        // runs for seconds. Cancel it once it runs.
        let began = Instant::now();
        loop {
            let export = app.ok(&token, STATUS, json!({ "id": id })).await["export"].clone();
            if export["status"] == "RUNNING" {
                break;
            }
            assert_eq!(export["status"], "QUEUED", "{export}");
            assert!(began.elapsed() < Duration::from_secs(20), "the export never ran");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let canceled =
            app.ok(&token, "mutation($id: ID!) { cancelExport(id: $id) { status } }", json!({ "id": id })).await;
        assert_eq!(canceled["cancelExport"]["status"], "CANCELED");
        // The runner stops; it does not complete it behind the cancel.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let export = app.ok(&token, STATUS, json!({ "id": id })).await["export"].clone();
        assert_eq!((&export["status"], &export["url"]), (&json!("CANCELED"), &Value::Null), "{export}");
        assert!(export["objectCount"].as_i64().unwrap_or_default() < 286, "it stopped early: {export}");
        assert_eq!(download(&app, &token, &id).await.0, 409);
        // And a new export may start.
        let next = started(&app, &token, "{ communities { nodes { code } } }", "JSONL").await;
        assert_eq!(finished(&app, &token, &next).await["status"], "COMPLETED");
    }

    async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_with(backend, |config| config.batch_window = Duration::from_millis(400)).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(spawn(Backend::Sqlite).await.expect("sqlite")).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(app) = spawn(Backend::Postgres).await {
            run(app).await;
        }
    }
}
