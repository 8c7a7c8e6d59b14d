use black_box_tests::{TestApp, code, on_both};
use serde_json::json;

on_both!(
    draft_mous_are_visible_only_to_their_parties,
    an_mou_is_signed_when_every_lead_and_partner_signs,
    creating_an_mou_requires_listing_yourself_and_ordered_dates,
    commitments_follow_the_owner_and_lead_rules,
);

async fn draft_mous_are_visible_only_to_their_parties(app: TestApp) {
    let gsb = app.full("GSB");
    let list = app.ok(&gsb, "{ mous { totalCount nodes { code } } }", json!({})).await;
    assert_eq!(list["mous"]["totalCount"], 0, "GSB is party to no demo MOU: {list}");
    let by_code = app.ok(&gsb, "{ mou(code: \"MOU-ENERGY\") { id } }", json!({})).await;
    assert!(by_code["mou"].is_null());
    let id = app.id_of("mou", "MOU-ENERGY").await;
    let node =
        app.ok(&gsb, "query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } }", json!({ "id": id })).await;
    assert!(node["node"].is_null());
    assert!(node["nodes"][0].is_null());
    // Nested: the programme is visible, its draft MOU is not.
    let nested = app.ok(&gsb, "{ programme(code: \"PRG-ENERGY\") { code mou { code } } }", json!({})).await;
    assert_eq!(nested["programme"]["code"], "PRG-ENERGY");
    assert!(nested["programme"]["mou"].is_null());
    // A party sees it.
    let cdd = app.full("CDD");
    let seen = app.ok(&cdd, "{ mou(code: \"MOU-ENERGY\") { code commitments { owner { code } } } }", json!({})).await;
    assert_eq!(seen["mou"]["code"], "MOU-ENERGY");
}

const SIGN: &str = "mutation($id: ID!, $v: Int!) { signMou(input: {id: $id, expectedVersion: $v}) { status version signedOn parties { organization { code } signedAt } } }";

async fn an_mou_is_signed_when_every_lead_and_partner_signs(app: TestApp) {
    let id = app.id_of("mou", "MOU-TOURISM-2020").await;
    // The demo data created it (version 1) and moved it to NEGOTIATING (2).
    let gsb = app.full("GSB");
    let outsider = app.gql(&gsb, SIGN, json!({ "id": id, "v": 1 })).await;
    assert_eq!(code(&outsider), "NOT_FOUND", "a non-party cannot even see a NEGOTIATING MOU");
    let foundation = app.full("FOUNDATION");
    let first = app.ok(&foundation, SIGN, json!({ "id": id, "v": 2 })).await;
    assert_eq!(first["signMou"]["status"], "NEGOTIATING");
    let twice = app.gql(&foundation, SIGN, json!({ "id": id, "v": 3 })).await;
    assert_eq!(code(&twice), "BAD_USER_INPUT");
    let stale = app.gql(&app.full("CDD"), SIGN, json!({ "id": id, "v": 2 })).await;
    assert_eq!(code(&stale), "CONFLICT");
    let done = app.ok(&app.full("CDD"), SIGN, json!({ "id": id, "v": 3 })).await;
    assert_eq!(done["signMou"]["status"], "SIGNED");
    assert!(done["signMou"]["signedOn"].is_string());
    // SIGNED: now every partner sees it, its terms are frozen, and it may be terminated.
    let seen = app.ok(&gsb, "{ mou(code: \"MOU-TOURISM-2020\") { status } }", json!({})).await;
    assert_eq!(seen["mou"]["status"], "SIGNED");
    let update = "mutation($input: UpdateMouInput!) { updateMou(input: $input) { status version } }";
    let frozen =
        app.gql(&foundation, update, json!({ "input": { "id": id, "expectedVersion": 4, "titleEn": "x" }})).await;
    assert_eq!(code(&frozen), "BAD_USER_INPUT");
    let ended = app
        .ok(&foundation, update, json!({ "input": { "id": id, "expectedVersion": 4, "status": "TERMINATED" }}))
        .await;
    assert_eq!(ended["updateMou"]["status"], "TERMINATED");
    let back =
        app.gql(&foundation, update, json!({ "input": { "id": id, "expectedVersion": 5, "status": "DRAFT" }})).await;
    assert_eq!(code(&back), "BAD_USER_INPUT");
}

const CREATE: &str = "mutation($input: CreateMouInput!) { createMou(input: $input) { code status version parties { organization { code } role } } }";

async fn creating_an_mou_requires_listing_yourself_and_ordered_dates(app: TestApp) {
    let gsb = app.full("GSB");
    let parties = json!([{ "organizationCode": "GSB", "role": "LEAD" }, { "organizationCode": "VILLAGE_FUND", "role": "PARTNER" }]);
    let data = app.ok(&gsb, CREATE, json!({ "input": { "code": "MOU-FIN", "titleTh": "บันทึกการเงิน", "parties": parties, "startsOn": "2021-01-01", "endsOn": "2022-01-01" }})).await;
    assert_eq!(data["createMou"]["status"], "DRAFT");
    assert_eq!(data["createMou"]["parties"][1]["organization"]["code"], "VILLAGE_FUND");
    let without_self = app
        .gql(&app.full("CDD"), CREATE, json!({ "input": { "code": "MOU-X", "titleTh": "x", "parties": parties }}))
        .await;
    assert_eq!(code(&without_self), "BAD_USER_INPUT");
    let reversed = app.gql(&gsb, CREATE, json!({ "input": { "code": "MOU-Y", "titleTh": "x", "parties": parties, "startsOn": "2022-01-01", "endsOn": "2021-01-01" }})).await;
    assert_eq!(code(&reversed), "BAD_USER_INPUT");
    assert_eq!(reversed["errors"][0]["extensions"]["field"], "endsOn");
    let read_only = app.token("GSB", &["mous:read"]);
    let no_scope =
        app.gql(&read_only, CREATE, json!({ "input": { "code": "MOU-Z", "titleTh": "x", "parties": parties }})).await;
    assert_eq!(code(&no_scope), "FORBIDDEN");
}

async fn commitments_follow_the_owner_and_lead_rules(app: TestApp) {
    let mou = app.id_of("mou", "MOU-TOURISM-2020").await;
    let create = "mutation($input: CreateCommitmentInput!) { createCommitment(input: $input) { id status version owner { code } mou { code } } }";
    let cdd = app.full("CDD");
    let made = app.ok(&cdd, create, json!({ "input": { "mouId": mou, "description": "ส่งข้อมูลชุมชนระดับ C", "ownerCode": "CDD", "dueOn": "2020-04-01" }})).await;
    let id = made["createCommitment"]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(made["createCommitment"]["owner"]["code"], "CDD");
    let not_party =
        app.gql(&cdd, create, json!({ "input": { "mouId": mou, "description": "x", "ownerCode": "GSB" }})).await;
    assert_eq!(code(&not_party), "BAD_USER_INPUT");
    let update = "mutation($input: UpdateCommitmentInput!) { updateCommitment(input: $input) { status version } }";
    let done = app.ok(&cdd, update, json!({ "input": { "id": id, "expectedVersion": 1, "status": "DONE" }})).await;
    assert_eq!(done["updateCommitment"]["status"], "DONE");
    // The lead (FOUNDATION) may reopen it; GSB (not a party) may not touch it.
    let reopened = app
        .ok(&app.full("FOUNDATION"), update, json!({ "input": { "id": id, "expectedVersion": 2, "status": "OPEN" }}))
        .await;
    assert_eq!(reopened["updateCommitment"]["status"], "OPEN");
    let outsider = app
        .gql(&app.full("GSB"), update, json!({ "input": { "id": id, "expectedVersion": 3, "status": "DROPPED" }}))
        .await;
    assert_eq!(code(&outsider), "NOT_FOUND");
}
