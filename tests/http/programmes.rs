use black_box_tests::{TestApp, code, on_both};
use serde_json::json;

on_both!(
    programmes_under_an_mou_are_created_by_its_parties,
    curricula_are_created_and_updated_by_owner_and_contributors
);

const CREATE: &str = "mutation($input: CreateProgrammeInput!, $key: String) { createProgramme(input: $input, idempotencyKey: $key) { id code status lead { code } partners { code } targetTiers mou { code } curricula { code } } }";

async fn programmes_under_an_mou_are_created_by_its_parties(app: TestApp) {
    let mou = app.id_of("mou", "MOU-TOURISM-2020").await;
    let curriculum = app.id_of("curriculum", "CUR-FINANCE-CORE").await;
    let cdd = app.full("CDD");
    let data = app
        .ok(
            &cdd,
            CREATE,
            json!({ "input": { "code": "PRG-NEW", "nameTh": "โครงการใหม่", "theme": "COMMUNITY_TOURISM", "mouId": mou,
            "partnerCodes": ["FOUNDATION"], "targetTiers": ["C", "B"], "capacity": 5, "curriculumIds": [curriculum] }}),
        )
        .await;
    let p = &data["createProgramme"];
    assert_eq!(p["status"], "PLANNED");
    assert_eq!(p["lead"]["code"], "CDD");
    assert_eq!(p["partners"][0]["code"], "FOUNDATION");
    assert_eq!(p["targetTiers"], json!(["B", "C"]));
    assert_eq!(p["mou"]["code"], "MOU-TOURISM-2020");
    assert_eq!(p["curricula"][0]["code"], "CUR-FINANCE-CORE");
    let gsb = app.full("GSB");
    let outsider = app
        .gql(
            &gsb,
            CREATE,
            json!({ "input": { "code": "PRG-GSB", "nameTh": "x", "theme": "COMMUNITY_FINANCE", "mouId": mou }}),
        )
        .await;
    assert_eq!(code(&outsider), "BAD_USER_INPUT", "GSB cannot see the NEGOTIATING MOU at all");
    let partner_not_party =
        app.gql(&cdd, CREATE, json!({ "input": { "code": "PRG-BAD", "nameTh": "x", "theme": "COMMUNITY_TOURISM", "mouId": mou, "partnerCodes": ["GSB"] }})).await;
    assert_eq!(code(&partner_not_party), "BAD_USER_INPUT");
    // Status moves and who may make them.
    let id = p["id"].as_str().unwrap_or_default();
    let update = "mutation($input: UpdateProgrammeInput!) { updateProgramme(input: $input) { status version } }";
    let by_gsb = app.gql(&gsb, update, json!({ "input": { "id": id, "expectedVersion": 1, "status": "OPEN" }})).await;
    assert_eq!(code(&by_gsb), "FORBIDDEN");
    let opened = app.ok(&cdd, update, json!({ "input": { "id": id, "expectedVersion": 1, "status": "OPEN" }})).await;
    assert_eq!(opened["updateProgramme"]["status"], "OPEN");
    let partner_changes_partners = app
        .gql(&app.full("FOUNDATION"), update, json!({ "input": { "id": id, "expectedVersion": 2, "partnerCodes": [] }}))
        .await;
    assert_eq!(code(&partner_changes_partners), "FORBIDDEN");
    let back = app.gql(&cdd, update, json!({ "input": { "id": id, "expectedVersion": 2, "status": "PLANNED" }})).await;
    assert_eq!(code(&back), "BAD_USER_INPUT");
}

async fn curricula_are_created_and_updated_by_owner_and_contributors(app: TestApp) {
    let model = app.id_of("community", "DEMO-001").await;
    let create = "mutation($input: CreateCurriculumInput!) { createCurriculum(input: $input) { id status owner { code } contributors { code } modules { position title hours } focusAreas modelCommunities { code } } }";
    let gsb = app.full("GSB");
    let data = app
        .ok(&gsb, create, json!({ "input": { "code": "CUR-GSB", "titleTh": "หลักสูตรออม", "kind": "ALTERNATIVE", "focusAreas": ["SAVINGS_SCHOOL", "RISK_MANAGEMENT"],
            "contributorCodes": ["VILLAGE_FUND"], "modules": [{ "title": "หนึ่ง", "hours": 3.5 }, { "title": "สอง" }], "modelCommunityIds": [model] }}))
        .await;
    let c = &data["createCurriculum"];
    assert_eq!(c["status"], "DRAFT");
    assert_eq!(c["owner"]["code"], "GSB");
    assert_eq!(c["modules"][1]["position"], 2);
    assert_eq!(c["modelCommunities"][0]["code"], "DEMO-001");
    let id = c["id"].as_str().unwrap_or_default();
    let update = "mutation($input: UpdateCurriculumInput!) { updateCurriculum(input: $input) { status version } }";
    let by_contributor = app
        .ok(
            &app.full("VILLAGE_FUND"),
            update,
            json!({ "input": { "id": id, "expectedVersion": 1, "status": "PROPOSED" }}),
        )
        .await;
    assert_eq!(by_contributor["updateCurriculum"]["status"], "PROPOSED");
    let outsider = app
        .gql(&app.full("CDD"), update, json!({ "input": { "id": id, "expectedVersion": 2, "status": "APPROVED" }}))
        .await;
    assert_eq!(code(&outsider), "FORBIDDEN");
    let empty = app
        .gql(&gsb, create, json!({ "input": { "code": "CUR-E", "titleTh": "x", "kind": "CORE", "focusAreas": [] }}))
        .await;
    assert_eq!(code(&empty), "BAD_USER_INPUT");
    let filtered =
        app.ok(&gsb, "{ curricula(filter: {focusAreas: [SAVINGS_SCHOOL]}) { totalCount } }", json!({})).await;
    assert_eq!(filtered["curricula"]["totalCount"], 2);
}
