//! The audit trail's before/after values: every mutation's change event
//! holds, for each changed field, its value before and after exactly as the
//! API returned it (checked against queries of the record before and after
//! the mutation), creations hold the initial values, and personal data
//! shows only that it changed to readers without `communities:pii`.

use black_box_tests::{TestApp, code, on_both};
use serde_json::{Value, json};

on_both!(every_mutation_records_the_values_it_changed, personal_data_in_diffs_is_redacted_for_each_reader,);

/// The record's fields in the form the diffs use (related organisations and
/// provinces by code, related records by id).
const STATE: &str = r#"query($id: ID!) { node(id: $id) {
  ... on Community { code nameTh nameEn province { code } district subdistrict villageNo households description
    tourismTier tierAssessedBy { code } tierAssessedAt contact { name phone email } awards { year category title } }
  ... on Mou { code titleTh titleEn purpose status parties { organization { code } role signedAt } signedOn startsOn endsOn }
  ... on Commitment { mou { id } description owner { code } dueOn status }
  ... on Programme { code nameTh nameEn theme status mou { id } lead { code } partners { code } targetTiers capacity
    startsOn endsOn curricula { id } }
  ... on Curriculum { code titleTh titleEn kind status focusAreas owner { code } contributors { code }
    modules { position title hours objectives } modelCommunities { id } }
  ... on Enrolment { community { id } programme { id } curriculum { id } status nominatedBy { code } nominatedAt
    history { from to at by { code } note } }
} }"#;

const HISTORY: &str = "query($id: ID!) { changes(entityId: $id, first: 100) { nodes {
  operation changedFields subject diff { field before after redacted } } } }";

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]).to_uppercase()
}

/// The record `id` as `token` reads it.
async fn state(app: &TestApp, token: &str, id: &str) -> Value {
    let data = app.ok(token, STATE, json!({ "id": id })).await;
    let node = data["node"].clone();
    assert!(node.is_object(), "no record {id}: {data}");
    node
}

/// The last event of record `id`, as `token` reads it.
async fn last_event(app: &TestApp, token: &str, id: &str) -> Value {
    app.settle_feed().await;
    let data = app.ok(token, HISTORY, json!({ "id": id })).await;
    data["changes"]["nodes"].as_array().and_then(|n| n.last()).cloned().expect("an event")
}

/// Checks the last event of `id` against the record before (`None`: it was
/// created) and after; returns the changed fields.
async fn check(app: &TestApp, token: &str, id: &str, before: Option<&Value>) -> Vec<String> {
    let after = state(app, token, id).await;
    let event = last_event(app, token, id).await;
    let diff = event["diff"].as_array().expect("a diff").clone();
    let fields: Vec<String> = diff.iter().map(|c| c["field"].as_str().unwrap_or_default().to_owned()).collect();
    let keys = after.as_object().expect("object").keys();
    match before {
        None => {
            assert_eq!(event["operation"], "CREATED");
            assert_eq!(event["changedFields"], json!(["*"]));
            let mut expected: Vec<String> = keys.cloned().collect();
            expected.sort();
            assert_eq!(fields, expected, "a creation records every field: {event}");
            for change in &diff {
                let field = change["field"].as_str().unwrap_or_default();
                assert_eq!(change["before"], Value::Null, "{field}: {event}");
                assert_eq!(change["after"], after[field], "{field}: {event}");
            }
        }
        Some(before) => {
            assert_eq!(event["operation"], "UPDATED");
            assert_eq!(event["changedFields"], json!(fields), "{event}");
            let differing: Vec<&String> = keys.filter(|k| before[k.as_str()] != after[k.as_str()]).collect();
            assert!(!differing.is_empty(), "the mutation changed nothing: {event}");
            for field in differing {
                assert!(fields.contains(field), "{field} changed but is not in the diff: {event}");
            }
            for change in &diff {
                let field = change["field"].as_str().unwrap_or_default();
                assert_eq!(change["redacted"], false);
                assert_eq!(change["before"], before[field], "{field} before: {event}");
                assert_eq!(change["after"], after[field], "{field} after: {event}");
            }
        }
    }
    fields
}

/// Runs `mutation` (which must succeed) on record `id` and checks its diff.
async fn updated(app: &TestApp, token: &str, id: &str, mutation: &str, vars: Value) -> Vec<String> {
    let before = state(app, token, id).await;
    app.ok(token, mutation, vars).await;
    check(app, token, id, Some(&before)).await
}

async fn version(app: &TestApp, token: &str, id: &str) -> i64 {
    let data = app.ok(token, "query($id: ID!) { node(id: $id) { ... on Community { version } ... on Mou { version }
      ... on Commitment { version } ... on Programme { version } ... on Curriculum { version } ... on Enrolment { version } } }", json!({ "id": id })).await;
    data["node"]["version"].as_i64().expect("version")
}

async fn every_mutation_records_the_values_it_changed(app: TestApp) {
    let cdd = app.full("CDD");
    let foundation = app.full("FOUNDATION");

    // Communities: create, update (scalars, contact, awards), classify.
    let created = app
        .ok(
            &cdd,
            "mutation($input: CreateCommunityInput!) { createCommunity(input: $input) { id } }",
            json!({ "input": { "code": unique("AUD"), "nameTh": "ชุมชนตรวจ", "provinceCode": "TH-57", "villageNo": 4,
                "contact": { "name": "สมชาย", "phone": "+66 81 000 0000" },
                "awards": [{ "year": 2024, "category": "COMMUNITY_TOURISM", "title": "OTOP" }] } }),
        )
        .await;
    let community = created["createCommunity"]["id"].as_str().expect("id").to_owned();
    check(&app, &cdd, &community, None).await;
    let fields = updated(
        &app,
        &cdd,
        &community,
        "mutation($input: UpdateCommunityInput!) { updateCommunity(input: $input) { id } }",
        json!({ "input": { "id": community, "expectedVersion": 1, "nameEn": "Audit village", "households": 120,
            "contact": { "name": "สมหญิง", "email": "head@example.org" },
            "awards": [{ "year": 2024, "category": "COMMUNITY_TOURISM", "title": "OTOP" }, { "year": 2025, "category": "COMMUNITY_PRODUCTS" }] } }),
    )
    .await;
    assert_eq!(fields, ["awards", "contact", "households", "nameEn"]);
    let fields = updated(
        &app,
        &cdd,
        &community,
        "mutation($id: ID!, $v: Int!) { classifyCommunity(input: {id: $id, expectedVersion: $v, tier: C}) { id } }",
        json!({ "id": community, "v": 2 }),
    )
    .await;
    assert_eq!(fields, ["tierAssessedAt", "tierAssessedBy", "tourismTier"]);

    // MOUs: create, update, two signatures (the second makes it SIGNED).
    let parties = json!([{ "organizationCode": "FOUNDATION", "role": "LEAD" }, { "organizationCode": "CDD", "role": "PARTNER" },
        { "organizationCode": "GSB", "role": "WITNESS" }]);
    let created = app
        .ok(
            &foundation,
            "mutation($c: String!, $p: [MouPartyInput!]!) { createMou(input: {code: $c, titleTh: \"บันทึก\", parties: $p}) { id } }",
            json!({ "c": unique("MOU"), "p": parties }),
        )
        .await;
    let mou = created["createMou"]["id"].as_str().expect("id").to_owned();
    check(&app, &foundation, &mou, None).await;
    let fields = updated(
        &app,
        &foundation,
        &mou,
        "mutation($id: ID!) { updateMou(input: {id: $id, expectedVersion: 1, purpose: \"audit\", status: NEGOTIATING, startsOn: \"2027-01-01\"}) { id } }",
        json!({ "id": mou }),
    )
    .await;
    assert_eq!(fields, ["purpose", "startsOn", "status"]);
    let sign = "mutation($id: ID!, $v: Int!) { signMou(input: {id: $id, expectedVersion: $v}) { id } }";
    assert_eq!(updated(&app, &foundation, &mou, sign, json!({ "id": mou, "v": 2 })).await, ["parties"]);
    assert_eq!(updated(&app, &cdd, &mou, sign, json!({ "id": mou, "v": 3 })).await, ["parties", "signedOn", "status"]);

    // Commitments: create, update.
    let created = app
        .ok(
            &foundation,
            "mutation($m: ID!) { createCommitment(input: {mouId: $m, description: \"รายงาน\", ownerCode: \"CDD\", dueOn: \"2027-06-30\"}) { id } }",
            json!({ "m": mou }),
        )
        .await;
    let commitment = created["createCommitment"]["id"].as_str().expect("id").to_owned();
    check(&app, &foundation, &commitment, None).await;
    let fields = updated(
        &app,
        &cdd,
        &commitment,
        "mutation($id: ID!) { updateCommitment(input: {id: $id, expectedVersion: 1, status: DONE, dueOn: \"2027-05-31\"}) { id } }",
        json!({ "id": commitment }),
    )
    .await;
    assert_eq!(fields, ["dueOn", "status"]);

    // Curricula: create (with modules), update.
    let created = app
        .ok(
            &foundation,
            "mutation($c: String!) { createCurriculum(input: {code: $c, titleTh: \"หลักสูตร\", kind: CORE, focusAreas: [RISK_MANAGEMENT],
               contributorCodes: [\"GSB\"], modules: [{title: \"ออม\", hours: 3}]}) { id } }",
            json!({ "c": unique("CUR") }),
        )
        .await;
    let curriculum = created["createCurriculum"]["id"].as_str().expect("id").to_owned();
    check(&app, &foundation, &curriculum, None).await;
    let v = version(&app, &foundation, &curriculum).await;
    let fields = updated(
        &app,
        &foundation,
        &curriculum,
        "mutation($id: ID!, $v: Int!, $m: ID!) { updateCurriculum(input: {id: $id, expectedVersion: $v, titleEn: \"Savings\",
           modules: [{title: \"ออม\", hours: 3.5, objectives: \"plan\"}, {title: \"กู้\"}], modelCommunityIds: [$m]}) { id } }",
        json!({ "id": curriculum, "v": v, "m": community }),
    )
    .await;
    assert_eq!(fields, ["modelCommunities", "modules", "titleEn"]);

    // Programmes: create, update (partners, capacity, curricula, status).
    let created = app
        .ok(
            &foundation,
            "mutation($c: String!, $k: ID!) { createProgramme(input: {code: $c, nameTh: \"โครงการ\", theme: COMMUNITY_FINANCE,
               targetTiers: [C], capacity: 5, curriculumIds: [$k]}) { id } }",
            json!({ "c": unique("PRG"), "k": curriculum }),
        )
        .await;
    let programme = created["createProgramme"]["id"].as_str().expect("id").to_owned();
    check(&app, &foundation, &programme, None).await;
    let fields = updated(
        &app,
        &foundation,
        &programme,
        "mutation($id: ID!) { updateProgramme(input: {id: $id, expectedVersion: 1, partnerCodes: [\"CDD\"], capacity: 10, status: OPEN, curriculumIds: []}) { id } }",
        json!({ "id": programme }),
    )
    .await;
    assert_eq!(fields, ["capacity", "curricula", "partners", "status"]);

    // Enrolments: nominate, then a move.
    let created = app
        .ok(
            &cdd,
            "mutation($p: ID!, $c: ID!) { nominateCommunity(input: {programmeId: $p, communityId: $c}) { id } }",
            json!({ "p": programme, "c": community }),
        )
        .await;
    let enrolment = created["nominateCommunity"]["id"].as_str().expect("id").to_owned();
    check(&app, &foundation, &enrolment, None).await;
    let fields = updated(
        &app,
        &foundation,
        &enrolment,
        "mutation($id: ID!) { transitionEnrolment(input: {id: $id, expectedVersion: 1, to: ENROLLED, note: \"welcome\"}) { id } }",
        json!({ "id": enrolment }),
    )
    .await;
    assert_eq!(fields, ["history", "status"]);
}

async fn personal_data_in_diffs_is_redacted_for_each_reader(app: TestApp) {
    let cdd = app.full("CDD");
    let id = app.id_of("community", "DEMO-001").await;
    let v = version(&app, &cdd, &id).await;
    app.ok(
        &cdd,
        "mutation($id: ID!, $v: Int!) { updateCommunity(input: {id: $id, expectedVersion: $v, households: 77, contact: {name: \"ผู้ใหญ่บ้าน\", phone: \"+66 2 000 0000\"}}) { id } }",
        json!({ "id": id, "v": v }),
    )
    .await;
    // A reader with communities:pii sees the values.
    let event = last_event(&app, &cdd, &id).await;
    let contact =
        event["diff"].as_array().expect("diff").iter().find(|c| c["field"] == "contact").expect("contact").clone();
    assert_eq!(contact["redacted"], false);
    assert_eq!(contact["after"], json!({ "name": "ผู้ใหญ่บ้าน", "phone": "+66 2 000 0000", "email": null }));
    // Every partner without it sees that the contact changed, not its values,
    // and still sees the other fields' values.
    for org in ["FOUNDATION", "CDD", "GSB", "VILLAGE_FUND"] {
        let reader = app.token(org, &["communities:read", "changes:read"]);
        let event = last_event(&app, &reader, &id).await;
        assert!(!event.to_string().contains("ผู้ใหญ่บ้าน"), "{org} saw the contact: {event}");
        let diff = event["diff"].as_array().expect("diff");
        let contact = diff.iter().find(|c| c["field"] == "contact").expect("contact listed");
        assert_eq!(contact, &json!({ "field": "contact", "before": null, "after": null, "redacted": true }), "{org}");
        let households = diff.iter().find(|c| c["field"] == "households").expect("households");
        assert_eq!(households["after"], 77, "{org}");
        assert!(event["changedFields"].as_array().expect("fields").contains(&json!("contact")));
    }
    // The creation of a community with a contact is redacted the same way.
    let created = app
        .ok(
            &cdd,
            "mutation($c: String!) { createCommunity(input: {code: $c, nameTh: \"x\", provinceCode: \"TH-10\", contact: {name: \"ลับ\"}}) { id } }",
            json!({ "c": unique("PII") }),
        )
        .await;
    let new_id = created["createCommunity"]["id"].as_str().expect("id").to_owned();
    let reader = app.token("GSB", &["communities:read", "changes:read"]);
    let event = last_event(&app, &reader, &new_id).await;
    assert!(!event.to_string().contains("ลับ"), "{event}");
    // Without changes:read there is no history at all.
    let none = app.gql(&app.token("GSB", &["communities:read"]), HISTORY, json!({ "id": new_id })).await;
    assert_eq!(code(&none), "FORBIDDEN");
}
