use std::time::Duration;

use api::graphql::limits::Limits;
use api::store::budget::Budget;
use black_box_tests::{Backend, TestApp, code, on_both};
use serde_json::json;

on_both!(
    each_limit_refuses_a_bomb_before_any_database_work,
    introspection_passes_with_the_limits_on,
    batches_are_limited
);

const NORMAL: &str = "{ communities(first: 20, filter: {tiers: [C]}) { nodes { code nameTh enrolments(first: 5) { nodes { status programme { code mou { code status } } } } } } }";

async fn each_limit_refuses_a_bomb_before_any_database_work(app: TestApp) {
    let token = app.full("CDD");
    let ok = app.gql(&token, NORMAL, json!({})).await;
    assert!(ok.get("errors").is_none(), "{ok}");
    assert!(ok["extensions"]["cost"]["requested"].as_u64().unwrap_or(0) > 100, "{}", ok["extensions"]);
    assert!(ok["extensions"]["cost"]["remaining"].is_u64());
    let deep = "{ programmes { nodes { mou { programmes { mou { programmes { mou { programmes { mou { programmes { mou { programmes { code } } } } } } } } } } } } }";
    let wide = "{ communities(first: 100) { nodes { enrolments(first: 100) { nodes { history { by { code } } } } } } }";
    let aliases =
        format!("{{ viewer {{ {} }} }}", (0..31).map(|i| format!("a{i}: subject")).collect::<Vec<_>>().join(" "));
    let roots =
        format!("{{ {} }}", (0..21).map(|i| format!("r{i}: viewer {{ subject }}")).collect::<Vec<_>>().join(" "));
    let via_fragments = "query { ...A } fragment A on Query { communities(first: 100) { nodes { ...B } } } fragment B on Community { enrolments(first: 100) { nodes { history { to } } } }";
    // A long chain of fragments nests without adding field levels: it must
    // be refused cleanly, not walked until the stack runs out.
    let chain = format!(
        "query {{ ...F0 }} {} fragment F2000 on Query {{ viewer {{ subject }} }}",
        (0..2000).map(|i| format!("fragment F{i} on Query {{ ...F{} }}", i + 1)).collect::<Vec<_>>().join(" ")
    );
    let via_variables =
        "query($n: Int) { communities(first: $n) { nodes { enrolments(first: $n) { nodes { history { to } } } } } }";
    for (name, query, limit) in [
        ("depth", deep.to_owned(), "depth"),
        ("cost", wide.to_owned(), "complexity"),
        ("aliases", aliases, "aliases"),
        ("root fields", roots, "root fields"),
        ("cost through fragments", via_fragments.to_owned(), "complexity"),
        ("a chain of fragments", chain, "depth"),
    ] {
        let before = app.statements();
        let body = app.gql(&token, &query, json!({})).await;
        assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{name}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["limit"], limit, "{name}: {body}");
        assert_eq!(app.statements(), before, "{name}: refused before any database work");
    }
    let body = app.gql(&token, via_variables, json!({ "n": 100 })).await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "page sizes in variables count: {body}");
    let small = app.gql(&token, via_variables, json!({ "n": 5 })).await;
    assert!(small.get("errors").is_none(), "{small}");
}

/// GraphiQL's own introspection query (graphql-js `getIntrospectionQuery`), 13 levels deep.
const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name } types { ...FullType } directives { name description locations args { ...InputValue } } } }
fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

async fn introspection_passes_with_the_limits_on(app: TestApp) {
    let body = app.gql(&app.token("GSB", &["communities:read"]), INTROSPECTION, json!({})).await;
    assert!(body.get("errors").is_none(), "{}", body["errors"]);
    assert!(body["data"]["__schema"]["types"].as_array().is_some_and(|t| t.len() > 50));
}

async fn batches_are_limited(app: TestApp) {
    let token = app.full("CDD");
    let post = |n: usize| {
        let ops: Vec<_> = (0..n).map(|_| json!({ "query": "{ viewer { subject } }" })).collect();
        app.client.post(format!("{}/graphql", app.base)).bearer_auth(&token).json(&ops).send()
    };
    let two: serde_json::Value = post(2).await.expect("answer").json().await.expect("json");
    assert_eq!(two.as_array().map(Vec::len), Some(2), "{two}");
    assert_eq!(two[1]["data"]["viewer"]["subject"], "test-cdd");
    let response = post(11).await.expect("answer");
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX");
}

async fn budget_app(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |c| {
        c.limits = Limits { budget: Some(Budget { capacity: 5_000.0, refill_per_sec: 1.0 }), ..Limits::default() };
    })
    .await
}

async fn a_partner_past_its_budget_is_rate_limited_and_others_are_not(app: TestApp) {
    let cdd = app.full("CDD");
    let mut limited = None;
    for _ in 0..40 {
        let (status, body) = app.post(Some(&cdd), NORMAL, json!({})).await;
        if code(&body) == "RATE_LIMITED" {
            limited = Some((status, body));
            break;
        }
        assert!(body.get("errors").is_none(), "{body}");
    }
    let (status, body) = limited.expect("the budget ran out");
    assert_eq!(status, 429);
    assert!(body["errors"][0]["extensions"]["retryAfter"].as_u64().unwrap_or(0) >= 1, "{body}");
    // Another partner's budget is its own.
    let gsb = app.gql(&app.full("GSB"), NORMAL, json!({})).await;
    assert!(gsb.get("errors").is_none(), "{gsb}");
    // Cheap queries still fit in what is left.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cheap = app.gql(&cdd, "{ viewer { subject } }", json!({})).await;
    assert!(cheap.get("errors").is_none(), "{cheap}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_sqlite() {
    a_partner_past_its_budget_is_rate_limited_and_others_are_not(budget_app(Backend::Sqlite).await.expect("sqlite"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_postgres() {
    if let Some(app) = budget_app(Backend::Postgres).await {
        a_partner_past_its_budget_is_rate_limited_and_others_are_not(app).await;
    }
}
