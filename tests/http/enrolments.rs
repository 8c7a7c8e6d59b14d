use black_box_tests::{TestApp, code, on_both};
use serde_json::{Value, json};

on_both!(nomination_follows_the_programme_rules, the_enrolment_lifecycle_is_enforced, capacity_limits_acceptances);

const NOMINATE: &str = "mutation($input: NominateCommunityInput!, $key: String) { nominateCommunity(input: $input, idempotencyKey: $key) { id status version nominatedBy { code } history { from to by { code } note } } }";
const MOVE: &str = "mutation($input: TransitionEnrolmentInput!) { transitionEnrolment(input: $input) { status version history { from to } } }";

async fn first_of_tier(app: &TestApp, tier: &str) -> String {
    let data = app
        .ok(
            &app.full("CDD"),
            "query($t: [TourismTier!]) { communities(first: 1, filter: {tiers: $t}) { nodes { id } } }",
            json!({ "t": [tier] }),
        )
        .await;
    data["communities"]["nodes"][0]["id"].as_str().unwrap_or_default().to_owned()
}

async fn nomination_follows_the_programme_rules(app: TestApp) {
    let programme = app.id_of("programme", "PRG-TOURISM-C").await;
    let community = app.id_of("community", "DEMO-004").await;
    let cdd = app.full("CDD");
    let data = app
        .ok(
            &cdd,
            NOMINATE,
            json!({ "input": { "programmeId": programme, "communityId": community, "note": "ผ่านการคัดเลือก" }}),
        )
        .await;
    let e = &data["nominateCommunity"];
    assert_eq!(e["status"], "NOMINATED");
    assert_eq!(e["nominatedBy"]["code"], "CDD");
    assert_eq!(e["history"][0]["to"], "NOMINATED");
    assert!(e["history"][0]["from"].is_null());
    // One live enrolment per community and programme.
    let again =
        app.gql(&cdd, NOMINATE, json!({ "input": { "programmeId": programme, "communityId": community }})).await;
    assert_eq!(code(&again), "CONFLICT");
    // Tier A is not a target of the tier C programme.
    let tier_a = first_of_tier(&app, "A").await;
    let wrong_tier =
        app.gql(&cdd, NOMINATE, json!({ "input": { "programmeId": programme, "communityId": tier_a }})).await;
    assert_eq!(code(&wrong_tier), "BAD_USER_INPUT");
    // A PLANNED programme takes no nominations.
    let planned = app.id_of("programme", "PRG-ENERGY").await;
    let closed = app
        .gql(&app.full("FOUNDATION"), NOMINATE, json!({ "input": { "programmeId": planned, "communityId": community }}))
        .await;
    assert_eq!(code(&closed), "BAD_USER_INPUT");
    // GSB is neither lead nor partner of the tourism programme.
    let outsider = app
        .gql(&app.full("GSB"), NOMINATE, json!({ "input": { "programmeId": programme, "communityId": tier_a }}))
        .await;
    assert_eq!(code(&outsider), "FORBIDDEN");
    // Idempotent retry returns the same enrolment.
    let other = app.id_of("community", "DEMO-005").await;
    let input = json!({ "programmeId": programme, "communityId": other });
    let a = app.ok(&cdd, NOMINATE, json!({ "input": input, "key": "nom-1" })).await;
    let b = app.ok(&cdd, NOMINATE, json!({ "input": input, "key": "nom-1" })).await;
    assert_eq!(a["nominateCommunity"]["id"], b["nominateCommunity"]["id"]);
}

async fn nominated(app: &TestApp, community: &str) -> Value {
    let programme = app.id_of("programme", "PRG-FINANCE").await;
    let community = app.id_of("community", community).await;
    app.ok(&app.full("GSB"), NOMINATE, json!({ "input": { "programmeId": programme, "communityId": community }})).await
        ["nominateCommunity"]
        .clone()
}

async fn the_enrolment_lifecycle_is_enforced(app: TestApp) {
    let e = nominated(&app, "DEMO-030").await;
    let id = e["id"].as_str().unwrap_or_default();
    let gsb = app.full("GSB");
    let lead = app.full("FOUNDATION");
    // Only the lead accepts.
    let by_partner = app.gql(&gsb, MOVE, json!({ "input": { "id": id, "expectedVersion": 1, "to": "ENROLLED" }})).await;
    assert_eq!(code(&by_partner), "FORBIDDEN");
    let skip = app.gql(&lead, MOVE, json!({ "input": { "id": id, "expectedVersion": 1, "to": "COMPLETED" }})).await;
    assert_eq!(code(&skip), "BAD_USER_INPUT");
    let message = skip["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("ENROLLED, DECLINED"), "names the allowed moves: {message}");
    let enrolled = app.ok(&lead, MOVE, json!({ "input": { "id": id, "expectedVersion": 1, "to": "ENROLLED" }})).await;
    assert_eq!(enrolled["transitionEnrolment"]["version"], 2);
    let stale = app.gql(&lead, MOVE, json!({ "input": { "id": id, "expectedVersion": 1, "to": "IN_PROGRESS" }})).await;
    assert_eq!(code(&stale), "CONFLICT");
    // Partners record progress; the nominator may withdraw.
    app.ok(&gsb, MOVE, json!({ "input": { "id": id, "expectedVersion": 2, "to": "IN_PROGRESS" }})).await;
    let withdrawn = app.ok(&gsb, MOVE, json!({ "input": { "id": id, "expectedVersion": 3, "to": "WITHDRAWN" }})).await;
    let history: Vec<&str> = withdrawn["transitionEnrolment"]["history"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["to"].as_str())
        .collect();
    assert_eq!(history, ["NOMINATED", "ENROLLED", "IN_PROGRESS", "WITHDRAWN"]);
    // Withdrawn frees the community for a new nomination.
    let again = nominated(&app, "DEMO-030").await;
    assert_eq!(again["status"], "NOMINATED");
}

async fn capacity_limits_acceptances(app: TestApp) {
    let lead = app.full("FOUNDATION");
    let programme = app.id_of("programme", "PRG-FINANCE").await;
    let taken = app
        .ok(
            &lead,
            "query($p: ID) { stats { enrolmentsByStatus(programmeId: $p) { status count } } }",
            json!({ "p": programme }),
        )
        .await;
    let counted: i64 = taken["stats"]["enrolmentsByStatus"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| matches!(c["status"].as_str(), Some("ENROLLED" | "IN_PROGRESS" | "COMPLETED")))
        .map(|c| c["count"].as_i64().unwrap_or(0))
        .sum();
    let update = "mutation($input: UpdateProgrammeInput!) { updateProgramme(input: $input) { capacity version } }";
    let version =
        app.ok(&lead, "query($p: ID) { programme(id: $p) { version } }", json!({ "p": programme })).await["programme"]
            ["version"]
            .clone();
    app.ok(&lead, update, json!({ "input": { "id": programme, "expectedVersion": version, "capacity": counted + 1 }}))
        .await;
    let create = "mutation($code: String!) { createCommunity(input: {code: $code, nameTh: \"ชุมชนใหม่\", provinceCode: \"TH-40\"}) { id } }";
    for c in ["CAP-1", "CAP-2"] {
        app.ok(&app.full("CDD"), create, json!({ "code": c })).await;
    }
    let a = nominated(&app, "CAP-1").await;
    let b = nominated(&app, "CAP-2").await;
    app.ok(&lead, MOVE, json!({ "input": { "id": a["id"], "expectedVersion": 1, "to": "ENROLLED" }})).await;
    let full = app.gql(&lead, MOVE, json!({ "input": { "id": b["id"], "expectedVersion": 1, "to": "ENROLLED" }})).await;
    assert_eq!(code(&full), "BAD_USER_INPUT");
    assert!(full["errors"][0]["message"].as_str().unwrap_or_default().contains("full"));
}
