//! GraphQL over HTTP: GET runs queries (never mutations), the playground
//! stays for browsers, and the media types' status codes. The spec's own
//! audit (graphql-http) runs in CI: tools/http-audit.mjs.

use black_box_tests::{TestApp, code, on_both};
use serde_json::{Value, json};

on_both!(
    get_runs_a_query_with_variables_and_an_operation_name,
    get_refuses_a_mutation_with_405,
    get_shows_the_playground_to_a_browser,
    request_errors_answer_400_without_data_in_graphql_response_json,
    a_get_goes_through_the_limits_before_any_sql
);

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";
/// What Chromium sends when it opens a page.
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// An answer: status, content type, the named header, and the body.
struct Answer {
    status: u16,
    content_type: String,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    Answer { status, content_type, headers, text: response.text().await.unwrap_or_default() }
}

/// GET /graphql with these URL parameters.
async fn get(app: &TestApp, token: Option<&str>, accept: Option<&str>, params: &[(&str, &str)]) -> Answer {
    let url = reqwest::Url::parse_with_params(&format!("{}/graphql", app.base), params).expect("url");
    let mut request = app.client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    answer(request.send().await.expect("the service answers")).await
}

/// POST /graphql with this JSON body.
async fn post(app: &TestApp, token: &str, accept: &str, body: &Value) -> Answer {
    let request =
        app.client.post(format!("{}/graphql", app.base)).bearer_auth(token).header("accept", accept).json(body);
    answer(request.send().await.expect("the service answers")).await
}

const TWO_OPERATIONS: &str =
    "query Viewer { viewer { subject } } query One($c: String) { community(code: $c) { code } }";

async fn get_runs_a_query_with_variables_and_an_operation_name(app: TestApp) {
    let token = app.token("GSB", &["communities:read"]);
    let params = [("query", TWO_OPERATIONS), ("operationName", "One"), ("variables", r#"{"c": "DEMO-001"}"#)];
    for (accept, media) in
        [(Some(JSON), JSON), (Some(GRAPHQL_RESPONSE), GRAPHQL_RESPONSE), (Some("*/*"), JSON), (None, JSON)]
    {
        let got = get(&app, Some(&token), accept, &params).await;
        assert_eq!(got.status, 200, "{accept:?}: {}", got.text);
        assert_eq!(got.content_type, media, "{accept:?}");
        let body = got.json();
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(body["data"], json!({ "community": { "code": "DEMO-001" } }), "operationName selects One");
        // The same budget as POST: the cost is spent and reported.
        assert!(body["extensions"]["cost"]["remaining"].is_u64(), "{body}");
    }
    let other = get(&app, Some(&token), Some(JSON), &[("query", TWO_OPERATIONS), ("operationName", "Viewer")]).await;
    assert_eq!(other.json()["data"]["viewer"]["subject"], "test-gsb", "{}", other.text);
    // The same authentication as POST.
    let anonymous = get(&app, None, Some(GRAPHQL_RESPONSE), &[("query", "{ viewer { subject } }")]).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(code(&anonymous.json()), "UNAUTHENTICATED");
    assert!(anonymous.json()["errors"][0]["extensions"]["requestId"].is_string(), "{}", anonymous.text);
    // And the same field rules: contact needs communities:pii.
    let contact = get(
        &app,
        Some(&token),
        Some(GRAPHQL_RESPONSE),
        &[
            ("query", "query($c: String) { community(code: $c) { code contact { name } } }"),
            ("variables", r#"{"c": "DEMO-001"}"#),
        ],
    )
    .await;
    assert_eq!(contact.status, 200, "an execution result, with data: {}", contact.text);
    let body = contact.json();
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert_eq!(body["data"]["community"]["code"], "DEMO-001");
}

async fn get_refuses_a_mutation_with_405(app: TestApp) {
    let token = app.full("CDD");
    let id = app.id_of("community", "DEMO-020").await;
    let classify = "query Read($id: ID!) { node(id: $id) { id } } mutation Classify($in: ClassifyCommunityInput!) { classifyCommunity(input: $in) { version } }";
    let variables = json!({ "in": { "id": id, "expectedVersion": 1, "tier": "A" } }).to_string();
    for (accept, operation) in [(GRAPHQL_RESPONSE, "Classify"), (JSON, "Classify")] {
        let got = get(
            &app,
            Some(&token),
            Some(accept),
            &[("query", classify), ("operationName", operation), ("variables", &variables)],
        )
        .await;
        assert_eq!(got.status, 405, "{}", got.text);
        assert_eq!(got.headers.get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
        assert_eq!(got.content_type, accept);
        assert_eq!(code(&got.json()), "BAD_USER_INPUT", "{}", got.text);
    }
    let single = "mutation { classifyCommunity(input: {id: \"x\", expectedVersion: 1, tier: A}) { version } }";
    let got = get(&app, Some(&token), None, &[("query", single)]).await;
    assert_eq!(got.status, 405, "a single anonymous mutation too: {}", got.text);
    // The query of the same document runs; the mutation changed nothing.
    let read = get(
        &app,
        Some(&token),
        Some(JSON),
        &[("query", classify), ("operationName", "Read"), ("variables", &json!({ "id": id }).to_string())],
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json()["data"]["node"]["id"], json!(id));
    let now = app
        .ok(&token, "query($c: String) { community(code: $c) { version tourismTier } }", json!({ "c": "DEMO-020" }))
        .await;
    assert_eq!(now["community"]["version"], 1, "{now}");
    // Over POST the same mutation runs.
    let body = json!({ "query": classify, "operationName": "Classify", "variables": { "in": { "id": id, "expectedVersion": 1, "tier": "A" } } });
    let posted = post(&app, &token, GRAPHQL_RESPONSE, &body).await;
    assert_eq!(posted.status, 200, "{}", posted.text);
    assert_eq!(posted.json()["data"]["classifyCommunity"]["version"], 2, "{}", posted.text);
}

async fn get_shows_the_playground_to_a_browser(app: TestApp) {
    for params in [vec![], vec![("query", "{ viewer { subject } }")]] {
        // No token: the page needs none (its own requests carry one); a
        // `query` parameter fills its editor.
        for accept in [BROWSER, "text/html"] {
            let page = get(&app, None, Some(accept), &params).await;
            assert_eq!(page.status, 200, "{accept} {params:?}");
            assert!(page.content_type.starts_with("text/html"), "{}", page.content_type);
            assert!(page.text.contains("graphiql"), "{}", page.text);
        }
    }
    // Anything but a browser gets GraphQL: without a query, that is a request error.
    for accept in [Some(JSON), Some(GRAPHQL_RESPONSE), Some("*/*"), None] {
        let got = get(&app, Some(&app.full("CDD")), accept, &[]).await;
        assert_eq!(got.status, 400, "{accept:?}: {}", got.text);
        assert_eq!(code(&got.json()), "BAD_USER_INPUT", "{}", got.text);
    }
}

async fn request_errors_answer_400_without_data_in_graphql_response_json(app: TestApp) {
    let token = app.token("GSB", &["communities:read"]);
    let cases = [
        ("a parse error", json!({ "query": "{" })),
        ("a validation error", json!({ "query": "{ noSuchField }" })),
        (
            "a variable error",
            json!({ "query": "query($id: ID!) { node(id: $id) { id } }", "variables": { "id": null } }),
        ),
        ("no query", json!({ "notquery": "{ viewer { subject } }" })),
    ];
    for (name, body) in &cases {
        let got = post(&app, &token, GRAPHQL_RESPONSE, body).await;
        assert_eq!(got.status, 400, "{name}: {}", got.text);
        assert_eq!(got.content_type, GRAPHQL_RESPONSE, "{name}");
        let json = got.json();
        assert!(json.get("data").is_none(), "{name}: no data entry: {json}");
        assert_eq!(code(&json), "BAD_USER_INPUT", "{name}: {json}");
        assert!(json["errors"][0]["extensions"]["requestId"].is_string(), "{name}: {json}");
    }
    // In application/json a well-formed request answers 200, as it always did.
    for (name, body) in &cases[..3] {
        let got = post(&app, &token, JSON, body).await;
        assert_eq!((got.status, got.content_type.as_str()), (200, JSON), "{name}: {}", got.text);
        assert_eq!(code(&got.json()), "BAD_USER_INPUT", "{name}: {}", got.text);
    }
    // Not JSON at all: 400 in both.
    for accept in [JSON, GRAPHQL_RESPONSE] {
        let response = app
            .client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(&token)
            .header("accept", accept)
            .header("content-type", "application/json")
            .body("{ \"not JSON")
            .send()
            .await
            .expect("answer");
        let got = answer(response).await;
        assert_eq!(got.status, 400, "{}", got.text);
        assert_eq!(code(&got.json()), "BAD_USER_INPUT", "{}", got.text);
    }
    // A body not declared as JSON (fetch's default for a string is text/plain).
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&token)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(r#"{"query": "{ viewer { subject } }"}"#)
        .send()
        .await
        .expect("answer");
    let got = answer(response).await;
    assert_eq!(got.status, 415, "{}", got.text);
    assert_eq!(code(&got.json()), "BAD_USER_INPUT", "{}", got.text);
    // The same over GET.
    let got = get(&app, Some(&token), Some(GRAPHQL_RESPONSE), &[("query", "{ noSuchField }")]).await;
    assert_eq!(got.status, 400, "{}", got.text);
    assert!(got.json().get("data").is_none(), "{}", got.text);
    assert_eq!(code(&got.json()), "BAD_USER_INPUT");
    // An execution result is 200 with its data, errors and all.
    let got = post(&app, &token, GRAPHQL_RESPONSE, &json!({ "query": "{ community(id: \"nope\") { id } }" })).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let body = got.json();
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body.get("data").is_some_and(|d| d["community"].is_null()), "{body}");
}

async fn a_get_goes_through_the_limits_before_any_sql(app: TestApp) {
    let token = app.full("CDD");
    // Warm the organisation directory, as a POST would have.
    let ok = get(&app, Some(&token), Some(JSON), &[("query", "{ viewer { subject } }")]).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let deep = "{ programmes { nodes { mou { programmes { mou { programmes { mou { programmes { mou { programmes { mou { programmes { code } } } } } } } } } } } } }";
    for (accept, status) in [(GRAPHQL_RESPONSE, 400), (JSON, 200)] {
        let before = app.statements();
        let got = get(&app, Some(&token), Some(accept), &[("query", deep)]).await;
        assert_eq!(got.status, status, "{accept}: {}", got.text);
        let body = got.json();
        assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["limit"], "depth", "{body}");
        assert_eq!(app.statements(), before, "{accept}: refused before any database work");
    }
}
