//! A data subject's rights: `eraseContact` erases a community's contact and
//! every copy of its values in the change feed's diffs, while the history
//! still shows that it changed and who changed it; `api pii report` (the
//! real binary) prints what is held, every change and every read.

use black_box_tests::{TestApp, code, on_both};
use serde_json::{Value, json};

on_both!(erasing_a_contact_keeps_the_trail_and_drops_the_values,);

const HISTORY: &str = "query($id: ID!) { changes(entityId: $id, first: 100) { nodes { operation changedFields subject diff { field before after redacted } } } }";

async fn version(app: &TestApp, token: &str, code: &str) -> (String, i64) {
    let data = app.ok(token, "query($c: String) { community(code: $c) { id version } }", json!({ "c": code })).await;
    (data["community"]["id"].as_str().expect("id").to_owned(), data["community"]["version"].as_i64().expect("v"))
}

/// Runs `api pii report --community CODE` (with `extra` arguments) on the
/// test's database; returns what it printed.
fn run_report(app: &TestApp, code: &str, extra: &[&str]) -> String {
    app.cli(&[&["pii", "report", "--community", code], extra].concat())
}

/// The report as JSON.
fn report(app: &TestApp, code: &str) -> Value {
    serde_json::from_str(&run_report(app, code, &["--json"])).expect("the report is JSON")
}

async fn erasing_a_contact_keeps_the_trail_and_drops_the_values(app: TestApp) {
    let cdd = app.full("CDD");
    let (id, v) = version(&app, &cdd, "DEMO-007").await;
    // The demo contact, then a new one: both are in the diffs.
    app.ok(
        &cdd,
        "mutation($id: ID!, $v: Int!) { updateCommunity(input: {id: $id, expectedVersion: $v, contact: {name: \"สมปอง ใหม่\", phone: \"+66 89 123 4567\"}}) { id } }",
        json!({ "id": id, "v": v }),
    )
    .await;
    app.ok(
        &app.token("GSB", &["communities:read", "communities:pii"]),
        "{ community(code: \"DEMO-007\") { contact { name } } }",
        json!({}),
    )
    .await;
    app.settle_feed().await;
    let history = app.ok(&cdd, HISTORY, json!({ "id": id })).await.to_string();
    assert!(history.contains("สมปอง ใหม่") && history.contains("ประเสริฐ มั่นคง"), "{history}");

    // Without communities:pii: refused, nothing changes.
    let (_, v) = version(&app, &cdd, "DEMO-007").await;
    let erase = "mutation($id: ID!, $v: Int!) { eraseContact(input: {id: $id, expectedVersion: $v}) { contact { name } version } }";
    let refused = app
        .gql(&app.token("CDD", &["communities:write", "communities:read"]), erase, json!({ "id": id, "v": v }))
        .await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    // A stale version is a conflict.
    assert_eq!(code(&app.gql(&cdd, erase, json!({ "id": id, "v": v - 1 })).await), "CONFLICT");

    let erased = app.ok(&cdd, erase, json!({ "id": id, "v": v })).await;
    assert_eq!(erased["eraseContact"]["contact"], Value::Null);
    // Erasing again: there is nothing to erase.
    let again = app.gql(&cdd, erase, json!({ "id": id, "v": v + 1 })).await;
    assert_eq!(code(&again), "BAD_USER_INPUT", "{again}");

    app.settle_feed().await;
    let history = app.ok(&cdd, HISTORY, json!({ "id": id })).await;
    let text = history.to_string();
    for old in ["สมปอง ใหม่", "+66 89 123 4567", "ประเสริฐ มั่นคง", "080-000-0007"]
    {
        assert!(!text.contains(old), "{old} is still in the history: {text}");
    }
    let events = history["changes"]["nodes"].as_array().expect("events");
    let last = events.last().expect("the erasure");
    assert_eq!(last["changedFields"], json!(["contact"]));
    assert_eq!(last["subject"], "test-cdd");
    let contact = last["diff"].as_array().expect("diff").iter().find(|c| c["field"] == "contact").expect("contact");
    assert_eq!(contact["before"], json!({ "erased": true }));
    assert_eq!(contact["after"], Value::Null);
    // Every earlier change of the contact is still listed, its values erased.
    let contact_changes: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["changedFields"] == json!(["*"])
                || e["changedFields"].as_array().is_some_and(|f| f.contains(&json!("contact")))
        })
        .collect();
    assert!(contact_changes.len() >= 3, "{history}");
    // And nothing in the database holds the old values.
    let db = app.sql().await;
    use sea_orm::ConnectionTrait;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT diff FROM change_events WHERE diff IS NOT NULL".to_owned(),
        ))
        .await
        .expect("select");
    for row in rows {
        let diff: String = row.try_get("", "diff").expect("diff");
        assert!(!diff.contains("สมปอง ใหม่") && !diff.contains("080-000-0007"), "{diff}");
    }

    // The report for the data subject: held now (nothing), changes, reads.
    let report = report(&app, "DEMO-007");
    assert_eq!(report["community"]["code"], "DEMO-007");
    assert_eq!(report["contact"], Value::Null);
    let changes = report["changes"].as_array().expect("changes");
    assert_eq!(changes.last().expect("erasure")["after"], Value::Null);
    assert!(!report.to_string().contains("สมปอง ใหม่"));
    let reads = report["reads"].as_array().expect("reads");
    assert!(reads.iter().any(|r| r["organization"] == "GSB" && r["subject"] == "test-gsb"), "{report}");
    // The text form, for a person.
    let text = run_report(&app, "DEMO-007", &[]);
    assert!(text.contains("Contact held now: none"), "{text}");
    assert!(text.contains("GSB (test-gsb) via graphql"), "{text}");
    // A community with a contact shows it.
    assert!(run_report(&app, "DEMO-001", &[]).contains("สมชาย ใจดี"));
}
