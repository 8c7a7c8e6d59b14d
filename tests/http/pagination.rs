use black_box_tests::{TestApp, code, on_both};
use serde_json::{Value, json};

on_both!(
    forward_and_backward_pages_cover_the_list_once,
    page_size_rules_are_enforced,
    cursors_stay_correct_while_rows_are_inserted
);

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String, $order: CommunityOrder) {
  communities(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount edges { cursor node { code } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

fn codes(data: &Value) -> Vec<String> {
    data["communities"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["node"]["code"].as_str().map(str::to_owned))
        .collect()
}

async fn forward_and_backward_pages_cover_the_list_once(app: TestApp) {
    let token = app.full("GSB");
    for order in [
        json!({ "field": "CODE", "direction": "ASC" }),
        json!({ "field": "NAME", "direction": "DESC" }),
        json!({ "field": "UPDATED_AT", "direction": "ASC" }),
    ] {
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = app.ok(&token, PAGE, json!({ "first": 7, "after": after, "order": order })).await;
            seen.extend(codes(&data));
            let info = &data["communities"]["pageInfo"];
            assert_eq!(info["hasPreviousPage"], !after.is_null());
            if info["hasNextPage"] == false {
                break;
            }
            after = info["endCursor"].clone();
        }
        assert_eq!(seen.len(), 36, "{order}");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 36, "no row twice: {order}");
        // Backward from the end gives the same order.
        let mut back = Vec::new();
        let mut before = Value::Null;
        loop {
            let data = app.ok(&token, PAGE, json!({ "last": 10, "before": before, "order": order })).await;
            let mut page = codes(&data);
            page.extend(back);
            back = page;
            if data["communities"]["pageInfo"]["hasPreviousPage"] == false {
                break;
            }
            before = data["communities"]["pageInfo"]["startCursor"].clone();
        }
        assert_eq!(back, seen, "{order}");
    }
    let default = app.ok(&token, PAGE, json!({})).await;
    assert_eq!(codes(&default).len(), 20);
    assert_eq!(default["communities"]["totalCount"], 36);
    let empty = app.ok(&token, "{ communities(filter: {search: \"no-such-community\"}) { totalCount edges { cursor } pageInfo { hasNextPage startCursor } } }", json!({})).await;
    assert_eq!(empty["communities"]["totalCount"], 0);
    assert!(empty["communities"]["pageInfo"]["startCursor"].is_null());
}

async fn page_size_rules_are_enforced(app: TestApp) {
    let token = app.full("GSB");
    let both = app.gql(&token, PAGE, json!({ "first": 5, "last": 5 })).await;
    assert_eq!(code(&both), "BAD_USER_INPUT");
    let big = app.gql(&token, PAGE, json!({ "first": 101 })).await;
    assert_eq!(code(&big), "BAD_USER_INPUT");
    let negative = app.gql(&token, PAGE, json!({ "last": -1 })).await;
    assert_eq!(code(&negative), "BAD_USER_INPUT");
    let foreign = app.ok(&token, "{ mous { pageInfo { endCursor } } }", json!({})).await;
    let by_code = app.ok(&token, PAGE, json!({ "first": 2 })).await;
    let cursor = by_code["communities"]["pageInfo"]["endCursor"].clone();
    let wrong_order = app
        .gql(&token, PAGE, json!({ "first": 2, "after": cursor, "order": { "field": "NAME", "direction": "ASC" } }))
        .await;
    assert_eq!(code(&wrong_order), "BAD_USER_INPUT");
    let garbage = app.gql(&token, PAGE, json!({ "first": 2, "after": "%%%" })).await;
    assert_eq!(code(&garbage), "BAD_USER_INPUT");
    let _ = foreign;
}

async fn cursors_stay_correct_while_rows_are_inserted(app: TestApp) {
    let token = app.full("CDD");
    let first = app.ok(&token, PAGE, json!({ "first": 10 })).await;
    let after = first["communities"]["pageInfo"]["endCursor"].clone();
    // Insert rows before and after the cursor.
    let create = "mutation($code: String!) { createCommunity(input: {code: $code, nameTh: \"แทรก\", provinceCode: \"TH-10\"}) { id } }";
    for c in ["A-BEFORE", "ZZ-AFTER"] {
        app.ok(&token, create, json!({ "code": c })).await;
    }
    let mut rest = Vec::new();
    let mut cursor = after;
    loop {
        let data = app.ok(&token, PAGE, json!({ "first": 10, "after": cursor })).await;
        rest.extend(codes(&data));
        if data["communities"]["pageInfo"]["hasNextPage"] == false {
            break;
        }
        cursor = data["communities"]["pageInfo"]["endCursor"].clone();
    }
    let first_codes = codes(&first);
    assert!(rest.iter().all(|c| !first_codes.contains(c)), "nothing from page one repeats");
    assert!(!rest.contains(&"A-BEFORE".to_owned()), "a row inserted before the cursor does not shift the pages");
    assert!(rest.contains(&"ZZ-AFTER".to_owned()));
    assert_eq!(rest.len(), 36 - 10 + 1);
}
