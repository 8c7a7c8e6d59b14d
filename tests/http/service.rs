use black_box_tests::{TestApp, code, on_both};
use serde_json::json;

on_both!(
    every_migration_rolls_back_and_reapplies,
    metrics_count_requests_by_operation_organisation_and_outcome,
    health_checks_answer_without_a_token,
    concurrent_updates_with_one_version_apply_once,
    oversized_bodies_are_refused
);

#[test]
fn schema_graphql_matches_the_code() {
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql")).unwrap_or_default();
    assert!(
        checked_in == api::graphql::sdl(),
        "schema.graphql is stale: run `cargo run -q -p api -- export-schema > schema.graphql`"
    );
}

/// Every type, field, input field and enum value of the schema has a
/// description (they are the doc comments frontend teams read).
#[test]
fn every_type_and_field_is_described() {
    use async_graphql::parser::parse_schema;
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let doc = parse_schema(api::graphql::sdl()).expect("the exported schema parses");
    let mut missing = Vec::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else { continue };
        let t = t.node;
        let name = t.name.node.to_string();
        if t.description.is_none() {
            missing.push(name.clone());
        }
        let fields: Vec<(String, bool)> = match &t.kind {
            TypeKind::Object(o) => {
                o.fields.iter().map(|f| (f.node.name.node.to_string(), f.node.description.is_some())).collect()
            }
            TypeKind::Interface(i) => {
                i.fields.iter().map(|f| (f.node.name.node.to_string(), f.node.description.is_some())).collect()
            }
            TypeKind::InputObject(i) => {
                i.fields.iter().map(|f| (f.node.name.node.to_string(), f.node.description.is_some())).collect()
            }
            TypeKind::Enum(e) => {
                e.values.iter().map(|v| (v.node.value.node.to_string(), v.node.description.is_some())).collect()
            }
            _ => Vec::new(),
        };
        missing.extend(fields.into_iter().filter(|(_, described)| !described).map(|(f, _)| format!("{name}.{f}")));
    }
    assert!(missing.is_empty(), "undescribed: {missing:?}");
}

async fn health_checks_answer_without_a_token(app: TestApp) {
    for path in ["/healthz", "/readyz"] {
        let response = app.client.get(format!("{}{path}", app.base)).send().await.expect("answer");
        assert_eq!(response.status().as_u16(), 200, "{path}");
    }
    // Browser apps of configured origins may call the API; others may not.
    for (origin, allowed) in [("https://app.partner.example", true), ("https://evil.example", false)] {
        let preflight = app
            .client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
            .await
            .expect("answer");
        let granted =
            preflight.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()) == Some(origin);
        assert_eq!(granted, allowed, "{origin}");
    }
    // A browser (asking for HTML) gets the playground; tests/http/over_http.rs has the rest.
    let page =
        app.client.get(format!("{}/graphql", app.base)).header("accept", "text/html").send().await.expect("answer");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap_or_default().contains("graphiql"));
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("x-request-id", "trace-me-1")
        .json(&json!({ "query": "{ viewer { subject } }" }))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("trace-me-1"));
}

async fn concurrent_updates_with_one_version_apply_once(app: TestApp) {
    let token = app.full("CDD");
    let id = app.id_of("community", "DEMO-020").await;
    let update = "mutation($input: UpdateCommunityInput!) { updateCommunity(input: $input) { version } }";
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (client, base, token, id) = (app.client.clone(), app.base.clone(), token.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let body: serde_json::Value = client
                .post(format!("{base}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": update, "variables": { "input": { "id": id, "expectedVersion": 1, "households": 100 + i } } }))
                .send()
                .await
                .expect("answer")
                .json()
                .await
                .unwrap_or_default();
            body
        }));
    }
    let mut applied = 0;
    for task in tasks {
        let body = task.await.expect("task");
        if body.get("errors").is_none() {
            applied += 1;
        } else {
            assert_eq!(code(&body), "CONFLICT", "{body}");
        }
    }
    assert_eq!(applied, 1);
    let now = app.ok(&token, "query($id: ID) { community(id: $id) { version } }", json!({ "id": id })).await;
    assert_eq!(now["community"]["version"], 2);
}

async fn oversized_bodies_are_refused(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Announce a 2 MB body and send only its start: the service must answer
    // 413 from the length alone, without reading (or buffering) the body.
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let token = app.full("CDD");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{\"query\": \"",
        2 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut response = vec![0u8; 256];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut response))
        .await
        .expect("answered without the body")
        .expect("read");
    let status_line = String::from_utf8_lossy(&response[..n]).lines().next().unwrap_or_default().to_owned();
    assert!(status_line.contains(" 413 "), "{status_line}");
}

async fn every_migration_rolls_back_and_reapplies(app: TestApp) {
    use migration::{Migrator, MigratorTrait};
    let db = app.sql().await;
    let count = Migrator::migrations().len() as u32;
    Migrator::down(&db, Some(count)).await.expect("every down works");
    assert!(Migrator::get_applied_migrations(&db).await.expect("status").is_empty());
    Migrator::up(&db, None).await.expect("up again");
    assert_eq!(Migrator::get_applied_migrations(&db).await.expect("status").len() as u32, count);
}

async fn metrics_count_requests_by_operation_organisation_and_outcome(app: TestApp) {
    let token = app.full("GSB");
    app.ok(&token, "query WhoAmI { viewer { subject } }", json!({})).await;
    let refused = app.gql(&token, "query Bad { community(id: \"nope\") { id } }", json!({})).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT");
    let text =
        app.client.get(format!("{}/metrics", app.base)).send().await.expect("answer").text().await.unwrap_or_default();
    assert!(text.contains(r#"graphql_requests_total{operation="WhoAmI",org="GSB",outcome="ok"} 1"#), "{text}");
    assert!(text.contains(r#"graphql_requests_total{operation="Bad",org="GSB",outcome="BAD_USER_INPUT"} 1"#), "{text}");
    assert!(text.contains("graphql_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_connections"));
    assert!(text.contains("db_statements_total"));
}
