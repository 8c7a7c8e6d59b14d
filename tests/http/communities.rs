use black_box_tests::{TestApp, code, on_both};
use serde_json::json;

on_both!(
    creating_a_community_stores_it_with_awards_and_contact,
    a_stale_version_is_a_conflict_and_changes_nothing,
    cdd_classifies_but_a_partner_without_the_scope_cannot,
    bad_input_is_refused_with_the_offending_field,
    a_code_is_checked_as_it_is_stored,
    thai_text_is_stored_in_nfc,
    idempotent_creates_return_the_first_record,
);

const CREATE: &str = "mutation($input: CreateCommunityInput!, $key: String) {
  createCommunity(input: $input, idempotencyKey: $key) {
    id code nameTh version province { code nameEn } awards { year category } contact { name email } tourismTier
  } }";

async fn creating_a_community_stores_it_with_awards_and_contact(app: TestApp) {
    let token = app.full("CDD");
    let data = app
        .ok(
            &token,
            CREATE,
            json!({ "input": {
                "code": "t-001", "nameTh": "ชุมชนทดสอบ", "provinceCode": "TH-57", "households": 120,
                "contact": { "name": "คุณทดสอบ", "email": "test@example.org" },
                "awards": [{ "year": 2019, "category": "FINANCE_AND_WELFARE" }]
            }}),
        )
        .await;
    let c = &data["createCommunity"];
    assert_eq!(c["code"], "T-001");
    assert_eq!(c["version"], 1);
    assert_eq!(c["province"]["nameEn"], "Chiang Rai");
    assert_eq!(c["awards"][0]["category"], "FINANCE_AND_WELFARE");
    assert_eq!(c["contact"]["email"], "test@example.org");
    assert!(c["tourismTier"].is_null());
    // The same code again is a conflict.
    let again =
        app.gql(&token, CREATE, json!({ "input": { "code": "T-001", "nameTh": "x", "provinceCode": "TH-57" }})).await;
    assert_eq!(code(&again), "CONFLICT");
}

async fn a_stale_version_is_a_conflict_and_changes_nothing(app: TestApp) {
    let token = app.full("CDD");
    let id = app.id_of("community", "DEMO-010").await;
    let update =
        "mutation($input: UpdateCommunityInput!) { updateCommunity(input: $input) { version nameEn households } }";
    let data = app
        .ok(
            &token,
            update,
            json!({ "input": { "id": id, "expectedVersion": 1, "nameEn": "Renamed", "households": 77 }}),
        )
        .await;
    assert_eq!(data["updateCommunity"]["version"], 2);
    let stale = app.gql(&token, update, json!({ "input": { "id": id, "expectedVersion": 1, "nameEn": "Stale" }})).await;
    assert_eq!(code(&stale), "CONFLICT");
    let now = app
        .ok(&token, "query($id: ID) { community(id: $id) { nameEn version households } }", json!({ "id": id }))
        .await;
    assert_eq!(now["community"]["nameEn"], "Renamed");
    assert_eq!(now["community"]["version"], 2);
    assert_eq!(now["community"]["households"], 77);
}

async fn cdd_classifies_but_a_partner_without_the_scope_cannot(app: TestApp) {
    let id = app.id_of("community", "DEMO-033").await;
    let classify = "mutation($input: ClassifyCommunityInput!) { classifyCommunity(input: $input) { tourismTier version tierAssessedBy { code } } }";
    let version = app
        .ok(&app.full("CDD"), "query($id: ID) { community(id: $id) { version } }", json!({ "id": id }))
        .await["community"]["version"]
        .clone();
    let gsb = app.token("GSB", &["communities:read", "communities:write"]);
    let refused =
        app.gql(&gsb, classify, json!({ "input": { "id": id, "expectedVersion": version, "tier": "A" }})).await;
    assert_eq!(code(&refused), "FORBIDDEN");
    let cdd = app.token("CDD", &["communities:read", "communities:classify"]);
    let data = app.ok(&cdd, classify, json!({ "input": { "id": id, "expectedVersion": version, "tier": "C" }})).await;
    assert_eq!(data["classifyCommunity"]["tourismTier"], "C");
    assert_eq!(data["classifyCommunity"]["tierAssessedBy"]["code"], "CDD");
}

async fn bad_input_is_refused_with_the_offending_field(app: TestApp) {
    let token = app.full("CDD");
    let cases = [
        (json!({ "code": "B-1", "nameTh": "x", "provinceCode": "TH-99" }), "provinceCode"),
        (json!({ "code": "B-2", "nameTh": "ก".repeat(301), "provinceCode": "TH-10" }), "nameTh"),
        (json!({ "code": "bad code", "nameTh": "x", "provinceCode": "TH-10" }), "code"),
        (json!({ "code": "B-3", "nameTh": "x", "provinceCode": "TH-10", "households": -1 }), "households"),
        (
            json!({ "code": "B-4", "nameTh": "x", "provinceCode": "TH-10", "contact": { "name": "n", "email": "nope" } }),
            "contact.email",
        ),
    ];
    for (input, field) in cases {
        let body = app.gql(&token, CREATE, json!({ "input": input })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let unknown = app
        .gql(&token, "mutation { updateCommunity(input: {id: \"Q29tbXVuaXR5Ojk5OTk5\", expectedVersion: 1, nameEn: \"x\"}) { id } }", json!({}))
        .await;
    assert_eq!(code(&unknown), "NOT_FOUND");
    let not_an_id = app.gql(&token, "{ community(id: \"garbage\") { id } }", json!({})).await;
    assert_eq!(code(&not_an_id), "BAD_USER_INPUT");
    // Nothing was written by the refused creates.
    let total = app.ok(&token, "{ communities { totalCount } }", json!({})).await;
    assert_eq!(total["communities"]["totalCount"], 36);
}

/// Codes were checked after Unicode upper-casing, which turns some letters
/// into ASCII, longer: `ß` into `SS`, `ﬁ` into `FI`, `ı` into `I`. A code of
/// 21 `ß` became 42 characters: PostgreSQL's `varchar(40)` refused it with an
/// INTERNAL error, SQLite stored it.
async fn a_code_is_checked_as_it_is_stored(app: TestApp) {
    let token = app.full("CDD");
    for bad in ["ß".repeat(21), "ﬁ-1".into(), "ı-1".into(), "ß".into()] {
        let body =
            app.gql(&token, CREATE, json!({ "input": { "code": bad, "nameTh": "x", "provinceCode": "TH-10" }})).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{bad}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "code", "{body}");
    }
    let longest = "a".repeat(40);
    let data =
        app.ok(&token, CREATE, json!({ "input": { "code": longest, "nameTh": "x", "provinceCode": "TH-10" }})).await;
    assert_eq!(data["createCommunity"]["code"], "A".repeat(40));
}

async fn thai_text_is_stored_in_nfc(app: TestApp) {
    let token = app.full("CDD");
    // A tone mark typed before a below-vowel: NFC reorders it.
    let typed = "ชุมชน\u{0E01}\u{0E48}\u{0E38}";
    let data =
        app.ok(&token, CREATE, json!({ "input": { "code": "NFC-1", "nameTh": typed, "provinceCode": "TH-10" }})).await;
    assert_eq!(data["createCommunity"]["nameTh"], "ชุมชน\u{0E01}\u{0E38}\u{0E48}");
}

async fn idempotent_creates_return_the_first_record(app: TestApp) {
    let token = app.full("CDD");
    let input = json!({ "code": "IDEM-1", "nameTh": "ชุมชนซ้ำ", "provinceCode": "TH-50" });
    let first = app.ok(&token, CREATE, json!({ "input": input, "key": "k-1" })).await;
    let second = app.ok(&token, CREATE, json!({ "input": input, "key": "k-1" })).await;
    assert_eq!(first["createCommunity"]["id"], second["createCommunity"]["id"]);
    let other = app
        .gql(
            &token,
            CREATE,
            json!({ "input": { "code": "IDEM-2", "nameTh": "x", "provinceCode": "TH-50" }, "key": "k-1" }),
        )
        .await;
    assert_eq!(code(&other), "CONFLICT");
    // Another organisation's key space is separate.
    let gsb = app.full("GSB");
    let theirs = app.gql(&gsb, CREATE, json!({ "input": input, "key": "k-1" })).await;
    assert_eq!(code(&theirs), "CONFLICT", "same code, different org: the code is taken, not replayed");
}
