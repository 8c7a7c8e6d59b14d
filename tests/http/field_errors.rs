//! Field errors follow the GraphQL spec ("Handling Execution Errors"): a
//! refused field is `null` with a FORBIDDEN error at its path; a refused
//! non-null field nulls its nearest nullable parent (or `data`); a key is
//! never missing.

use black_box_tests::{TestApp, on_both};
use serde_json::{Value, json};

on_both!(
    a_refused_nested_enrolments_connection_is_null_and_its_community_stays,
    every_refused_nested_field_is_null_at_its_path_and_nothing_else_is_lost,
    a_refused_nullable_root_field_is_null_beside_its_siblings,
    a_refused_non_null_root_field_nulls_data,
    a_refused_non_null_field_of_a_mutation_result_nulls_data
);

/// Posts `query` as FOUNDATION with `scopes`; asserts a 200 whose `data` is
/// exactly `data` and whose errors are FORBIDDEN, exactly at `paths`.
async fn assert_refused(app: &TestApp, scopes: &[&str], query: &str, variables: Value, data: Value, paths: Vec<Value>) {
    let token = app.token("FOUNDATION", scopes);
    let (status, body) = app.post(Some(&token), query, variables).await;
    assert_eq!(status, 200, "{query}: {body}");
    assert_eq!(body.get("data"), Some(&data), "{query}: {body}");
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    let mut got: Vec<String> = errors.iter().map(|e| e["path"].to_string()).collect();
    let mut want: Vec<String> = paths.iter().map(Value::to_string).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{query}: {body}");
    for error in &errors {
        assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{query}: {error}");
    }
}

/// `value` with `null` at each of `paths`.
fn nulled(mut value: Value, paths: &[Value]) -> Value {
    for path in paths {
        let mut target = &mut value;
        for step in path.as_array().into_iter().flatten() {
            target = match step {
                Value::String(key) => &mut target[key.as_str()],
                Value::Number(n) => &mut target[n.as_u64().unwrap_or_default() as usize],
                _ => panic!("bad path {path}"),
            };
        }
        *target = Value::Null;
    }
    value
}

/// The case: `Community.enrolments` without `enrolments:read`.
async fn a_refused_nested_enrolments_connection_is_null_and_its_community_stays(app: TestApp) {
    let read = ["communities:read"];
    // One community: its other fields stay, `enrolments` is null (not missing).
    assert_refused(
        &app,
        &read,
        "{ community(code: \"DEMO-001\") { code enrolments { totalCount } } }",
        json!({}),
        json!({ "community": { "code": "DEMO-001", "enrolments": null } }),
        vec![json!(["community", "enrolments"])],
    )
    .await;
    // Its only field refused: still an object, not a null community.
    assert_refused(
        &app,
        &read,
        "{ community(code: \"DEMO-001\") { enrolments { totalCount } } }",
        json!({}),
        json!({ "community": { "enrolments": null } }),
        vec![json!(["community", "enrolments"])],
    )
    .await;
    // A list: every community stays in it, each with its own error.
    let list = "{ communities(first: 3) { totalCount nodes { code e: enrolments(first: 1) { nodes { status } } } } }";
    let full = app.ok(&app.full("FOUNDATION"), list, json!({})).await;
    let paths: Vec<Value> = (0..3).map(|i| json!(["communities", "nodes", i, "e"])).collect();
    let data = nulled(full, &paths);
    assert_eq!(data["communities"]["nodes"].as_array().map(Vec::len), Some(3), "{data}");
    assert_refused(&app, &read, list, json!({}), data, paths).await;
    // Through `node` and a fragment.
    let id = app.id_of("community", "DEMO-001").await;
    assert_refused(
        &app,
        &read,
        "query($id: ID!) { node(id: $id) { id ...C } } fragment C on Community { code enrolments { totalCount } }",
        json!({ "id": id }),
        json!({ "node": { "id": id, "code": "DEMO-001", "enrolments": null } }),
        vec![json!(["node", "enrolments"])],
    )
    .await;
}

/// Every nested field with a read scope of its own: refused, it is `null`
/// at its path and its parent keeps every other field.
async fn every_refused_nested_field_is_null_at_its_path_and_nothing_else_is_lost(app: TestApp) {
    let cases: Vec<(&[&str], &str, Vec<Value>)> = vec![
        (
            &["communities:read"],
            "{ community(code: \"DEMO-001\") { code contact { name } } }",
            vec![json!(["community", "contact"])],
        ),
        (
            &["programmes:read"],
            "{ programme(code: \"PRG-FINANCE\") { code enrolments { totalCount } curricula { code } } }",
            vec![json!(["programme", "enrolments"]), json!(["programme", "curricula"])],
        ),
        (
            &["programmes:read"],
            "{ programme(code: \"PRG-TOURISM-C\") { code mou { code } } }",
            vec![json!(["programme", "mou"])],
        ),
        (
            &["mous:read"],
            "{ mou(code: \"MOU-TOURISM-2020\") { code programmes { code } commitments { description } } }",
            vec![json!(["mou", "programmes"])],
        ),
        (
            &["curricula:read"],
            "{ curriculum(code: \"CUR-FINANCE-CORE\") { code modelCommunities { code } programmes { code } } }",
            vec![json!(["curriculum", "modelCommunities"]), json!(["curriculum", "programmes"])],
        ),
        (
            &["enrolments:read"],
            "{ enrolments(filter: { statuses: [COMPLETED] }) { nodes { status community { code } programme { code } curriculum { code } } } }",
            ["community", "programme", "curriculum"].map(|f| json!(["enrolments", "nodes", 0, f])).to_vec(),
        ),
        (
            &["communities:read"],
            "{ stats { communitiesByTier { tier count } enrolmentsByStatus { status count } } }",
            vec![json!(["stats", "enrolmentsByStatus"])],
        ),
        (
            &["enrolments:read"],
            "{ stats { communitiesByProvince { count } communitiesByTier { count } enrolmentsByStatus { count } } }",
            vec![json!(["stats", "communitiesByProvince"]), json!(["stats", "communitiesByTier"])],
        ),
    ];
    for (scopes, query, paths) in cases {
        let full = app.ok(&app.full("FOUNDATION"), query, json!({})).await;
        for path in &paths {
            let mut at = &full;
            for step in path.as_array().into_iter().flatten() {
                at = match step {
                    Value::String(key) => &at[key.as_str()],
                    Value::Number(n) => &at[n.as_u64().unwrap_or_default() as usize],
                    _ => unreachable!(),
                };
            }
            assert!(!at.is_null(), "{query}: the full token reads {path}: {full}");
        }
        let data = nulled(full, &paths);
        assert_refused(&app, scopes, query, json!({}), data, paths).await;
    }
}

/// A nullable root field is `null` with its error; the other root fields stay.
async fn a_refused_nullable_root_field_is_null_beside_its_siblings(app: TestApp) {
    let community = app.id_of("community", "DEMO-001").await;
    let cases = [
        ("{ viewer { subject } community(code: \"DEMO-001\") { code } }", "community"),
        ("{ viewer { subject } mou(code: \"MOU-TOURISM-2020\") { code } }", "mou"),
        ("{ viewer { subject } programme(code: \"PRG-FINANCE\") { code } }", "programme"),
        ("{ viewer { subject } curriculum(code: \"CUR-FINANCE-CORE\") { code } }", "curriculum"),
        ("{ viewer { subject } node(id: \"COMMUNITY\") { id } }", "node"),
    ];
    for (query, field) in cases {
        let query = query.replace("COMMUNITY", &community);
        let data = json!({ "viewer": { "subject": "test-foundation" }, field: null });
        assert_refused(&app, &["changes:read"], &query, json!({}), data, vec![json!([field])]).await;
    }
}

/// A non-null root field has no nullable parent: refused, `data` is `null`
/// (the other root fields go with it), and the error has the field's path.
async fn a_refused_non_null_root_field_nulls_data(app: TestApp) {
    let community = app.id_of("community", "DEMO-001").await;
    let cases = [
        ("{ viewer { subject } communities { totalCount } }", "communities"),
        ("{ viewer { subject } mous { totalCount } }", "mous"),
        ("{ viewer { subject } programmes { totalCount } }", "programmes"),
        ("{ viewer { subject } curricula { totalCount } }", "curricula"),
        ("{ viewer { subject } enrolments { totalCount } }", "enrolments"),
        ("{ viewer { subject } changes { nodes { cursor } } }", "changes"),
        ("{ viewer { subject } webhookSubscriptions { totalCount } }", "webhookSubscriptions"),
        ("{ viewer { subject } nodes(ids: [\"COMMUNITY\"]) { id } }", "nodes"),
    ];
    for (query, field) in cases {
        let query = query.replace("COMMUNITY", &community);
        assert_refused(&app, &["mous:write"], &query, json!({}), Value::Null, vec![json!([field])]).await;
    }
}

/// The same for a mutation: a refused non-null field of its result nulls
/// the result, and so `data` (the write itself happened: it reads back).
async fn a_refused_non_null_field_of_a_mutation_result_nulls_data(app: TestApp) {
    let mou = app.id_of("mou", "MOU-TOURISM-2020").await;
    let create =
        "mutation($input: CreateCommitmentInput!) { createCommitment(input: $input) { description mou { code } } }";
    let input = json!({ "input": { "mouId": mou, "description": "refused read-back", "ownerCode": "FOUNDATION" } });
    assert_refused(&app, &["mous:write"], create, input, Value::Null, vec![json!(["createCommitment", "mou"])]).await;
    let read = "query($c: String) { mou(code: $c) { commitments { description } } }";
    let data = app.ok(&app.full("FOUNDATION"), read, json!({ "c": "MOU-TOURISM-2020" })).await;
    let made = data["mou"]["commitments"].as_array().into_iter().flatten();
    assert_eq!(made.filter(|c| c["description"] == "refused read-back").count(), 1, "{data}");
    // Without the write scope the mutation itself is refused: `data` is null too.
    let community =
        "mutation { createCommunity(input: { code: \"X-1\", nameTh: \"x\", provinceCode: \"TH-10\" }) { code } }";
    assert_refused(&app, &["communities:read"], community, json!({}), Value::Null, vec![json!(["createCommunity"])])
        .await;
}
