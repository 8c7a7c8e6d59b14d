//! Planned reads answer exactly as the resolvers do.
//!
//! The first time the service sees a document, the schema's resolvers
//! answer it (and validate it); the next time, the planner does, when it
//! knows the whole selection. So each query below is sent twice with the
//! same token and variables (and, for each caller, with a comment that
//! makes it a new document): the two answers must be identical, and the
//! statement counts tell which path ran.

use black_box_tests::{Backend, TestApp};
use serde_json::{Value, json};

// Without the budget, whose statement would add to every request's count
// (and whose `extensions.cost.remaining` differs between two requests).
async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |c| {
        c.limits = api::graphql::limits::Limits { budget: None, ..Default::default() };
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_reads_sqlite() {
    planned_reads_answer_as_the_resolvers_do(spawn(Backend::Sqlite).await.expect("sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_reads_postgres() {
    if let Some(app) = spawn(Backend::Postgres).await {
        planned_reads_answer_as_the_resolvers_do(app).await;
    }
}

/// Queries the planner answers (for a caller with the scopes), with their
/// variables and how many connections they read: the most statements a
/// planned answer may take (on PostgreSQL a root page and its one nested
/// level are read in one).
fn planned() -> Vec<(&'static str, Value, u64)> {
    vec![
        // The benchmark's W1 and W4 shapes.
        (
            "{ communities(first: 20, filter: {tiers: [C]}) { nodes { code nameTh enrolments(first: 5) { nodes { status programme { code mou { code status } } } } } } }",
            json!({}),
            2,
        ),
        ("{ communities(first: 20, orderBy: {field: CODE, direction: ASC}) { nodes { code } } }", json!({}), 1),
        (
            "{ communities(first: 7, orderBy: {field: NAME, direction: DESC}) { edges { cursor node { nameTh } } } }",
            json!({}),
            1,
        ),
        // Every planned field, aliases, __typename, edges, cursors, pageInfo.
        (
            "query Everything($n: Int = 3) { list: communities(first: $n) { __typename
               pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
               edges { __typename cursor node { __typename id code nameTh nameEn district subdistrict villageNo
                 households description tourismTier tierAssessedAt version createdAt updatedAt
                 contact { __typename name phone email }
                 enrolments(first: 2) { __typename pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
                   edges { cursor node { __typename id status nominatedAt version updatedAt
                     programme { __typename id code nameTh nameEn theme status capacity startsOn endsOn version
                       mou { __typename id code titleTh titleEn purpose status signedOn startsOn endsOn version createdAt updatedAt } } } } } } }
               again: nodes { code } } }",
            json!({}),
            2,
        ),
        // Fragments (named and inline) merged with plain fields.
        (
            "query Frag { communities(first: 4, orderBy: {field: CODE, direction: ASC}) { nodes { ...C ... on Community { nameEn code } } } }
             fragment C on Community { code id enrolments(last: 3) { nodes { id ... on Enrolment { programme { code } } } } }",
            json!({}),
            2,
        ),
        // Filters, orderings and cursors from variables.
        (
            "query($f: CommunityFilter, $o: CommunityOrder, $after: String, $e: EnrolmentFilter) {
               communities(first: 5, filter: $f, orderBy: $o, after: $after) {
                 nodes { code updatedAt enrolments(filter: $e) { nodes { status } pageInfo { hasNextPage } } } } }",
            json!({ "f": { "provinceCodes": ["TH-57", "th-50", "TH-10"] },
                    "o": { "field": "UPDATED_AT", "direction": "DESC" },
                    "after": null,
                    "e": { "statuses": ["ENROLLED", "IN_PROGRESS", "NOMINATED"] } }),
            2,
        ),
        // Text that JSON must escape (see `ESCAPED`).
        ("{ communities(first: 1, orderBy: {field: CODE, direction: ASC}) { nodes { code description } } }", json!({}), 1),
        (
            "{ communities(last: 3, before: null) { nodes { code enrolments(first: 0) { nodes { id } pageInfo { hasNextPage hasPreviousPage } } } pageInfo { hasNextPage hasPreviousPage } } }",
            json!({}),
            1,
        ),
    ]
}

/// A description whose JSON needs escapes.
const ESCAPED: &str = "\"quoted\" back\\slash\nnew line\ttab บ้านน้ำใส 🙂 </script>";

/// The answer (without the errors' request ids, which differ) and the
/// number of statements it took.
async fn post(app: &TestApp, token: &str, query: &str, variables: &Value) -> (Value, u64) {
    let before = app.statements();
    let mut body = app.gql(token, query, variables.clone()).await;
    let statements = app.statements() - before;
    for error in body.get_mut("errors").and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(extensions) = error["extensions"].as_object_mut() {
            extensions.remove("requestId");
        }
    }
    (body, statements)
}

async fn planned_reads_answer_as_the_resolvers_do(app: TestApp) {
    // Parties of both (unpublished) demo MOUs, and organisations that see
    // neither; with every scope, and without personal data.
    let scopes = ["communities:read", "enrolments:read", "programmes:read", "mous:read"];
    let callers = [
        (app.full("FOUNDATION"), true),
        (app.full("GSB"), true),
        (app.token("CDD", &scopes), false),
        (app.token("VILLAGE_FUND", &scopes), false),
    ];
    // A cursor from the middle of the list, for `after`.
    let cdd = app.full("CDD");
    let order = "{ communities(first: 2, orderBy: {field: UPDATED_AT, direction: DESC}) { pageInfo { endCursor } } }";
    let cursor = app.ok(&cdd, order, json!({})).await["communities"]["pageInfo"]["endCursor"].clone();
    assert!(cursor.is_string());
    // The planner writes JSON itself: give the first community by code a
    // description with quotes, a backslash, a newline, a tab, Thai with
    // combining marks and an emoji.
    let first = "{ communities(first: 1, orderBy: {field: CODE, direction: ASC}) { nodes { id version } } }";
    let node = app.ok(&cdd, first, json!({})).await["communities"]["nodes"][0].clone();
    let update = "mutation($input: UpdateCommunityInput!) { updateCommunity(input: $input) { description } }";
    let input = json!({ "id": node["id"], "expectedVersion": node["version"], "description": ESCAPED });
    let updated = app.ok(&cdd, update, json!({ "input": input })).await;
    assert_eq!(updated["updateCommunity"]["description"], ESCAPED);
    let mut mou_seen = (false, false);
    for (query, mut variables, levels) in planned() {
        if let Some(after) = variables.get_mut("after") {
            *after = cursor.clone();
        }
        for (caller, (token, pii)) in callers.iter().enumerate() {
            // A new document for each caller (a comment is enough), so the
            // resolvers answer it first.
            let query = &format!("{query}\n# caller {caller}");
            let (resolved, by_resolvers) = post(&app, token, query, &variables).await;
            let (planned, by_plan) = post(&app, token, query, &variables).await;
            assert_eq!(planned, resolved, "planned and resolved answers differ for {query}");
            if query.contains("description") && query.contains("first: 1,") {
                assert_eq!(planned["data"]["communities"]["nodes"][0]["description"], ESCAPED);
            }
            let text = resolved.to_string();
            mou_seen.0 |= text.contains("\"mou\":{");
            mou_seen.1 |= text.contains("\"mou\":null");
            if query.contains("contact") && !pii {
                // Not planned: the resolvers report the field as FORBIDDEN.
                assert_eq!(black_box_tests::code(&resolved), "FORBIDDEN", "{resolved}");
                continue;
            }
            assert!(resolved.get("errors").is_none(), "{resolved}");
            assert!(by_plan <= levels, "{by_plan} statements (resolvers: {by_resolvers}) for {query}");
            // The resolvers read programmes (and MOUs) in statements of
            // their own; the planner joins them into the level's.
            if query.contains("programme {") {
                assert!(by_plan < by_resolvers, "not planned: {by_plan} statements as the resolvers for {query}");
            }
        }
    }
    // The MOU row rule was exercised both ways: parties see the demo MOUs,
    // other organisations get null.
    assert_eq!(mou_seen, (true, true));
}
