use api::domain::access::Actor;
use api::store::Store;
use black_box_tests::{TestApp, on_both};
use serde_json::json;

on_both!(importing_the_community_list_is_validated_and_idempotent);

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../samples/communities.csv");

fn cdd(org_id: i64) -> Actor {
    api::import::importer(org_id, "CDD", "test.csv".as_ref())
}

async fn importing_the_community_list_is_validated_and_idempotent(app: TestApp) {
    let store = Store::new(app.sql().await);
    let org = api::store::organizations::by_code(&store, "CDD").await.ok().flatten().map(|o| o.id).unwrap_or_default();
    let actor = cdd(org);
    let quiet = |_: u64, _: u64| {};
    let first = api::import::communities(&store, &actor, SAMPLE.as_ref(), false, &quiet).await.expect("import");
    assert_eq!((first.rows, first.created, first.updated), (6, 6, 0));
    let token = app.full("GSB");
    let data = app.ok(&token, "{ community(code: \"CDD-CR-0001\") { nameTh tourismTier tierAssessedBy { code } province { code } version } }", json!({})).await;
    assert_eq!(data["community"]["tourismTier"], "C");
    assert_eq!(data["community"]["tierAssessedBy"]["code"], "CDD");
    // Re-running changes nothing.
    let again = api::import::communities(&store, &actor, SAMPLE.as_ref(), false, &quiet).await.expect("import");
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 6));
    // A changed row updates by code, raises the version and writes an event.
    let dir = std::env::temp_dir().join(format!("import-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let changed = dir.join("changed.csv");
    let text = std::fs::read_to_string(SAMPLE).expect("sample").replace(",320,C", ",333,C");
    std::fs::write(&changed, text).expect("write");
    let third = api::import::communities(&store, &actor, &changed, false, &quiet).await.expect("import");
    assert_eq!((third.updated, third.unchanged), (1, 5));
    let id = app.id_of("community", "CDD-CR-0001").await;
    let history = app
        .ok(
            &token,
            "query($id: ID) { changes(entityId: $id) { nodes { operation changedFields subject } } }",
            json!({ "id": id }),
        )
        .await;
    let nodes = history["changes"]["nodes"].as_array().cloned().unwrap_or_default();
    assert_eq!(nodes.len(), 2, "{history}");
    assert_eq!(nodes[1]["changedFields"], json!(["households"]));
    assert_eq!(nodes[1]["subject"], "import:test.csv");
    // Bad rows: reported with their lines; nothing written unless asked.
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "code,name_th,name_en,province,district,subdistrict,village_no,households,tier\nOK-1,ชุมชนดี,,TH-10,,,,,\nBAD-1,ชุมชน,,TH-99,,,,,C\nBAD-2,ชุมชน,,TH-10,,,x,,\nOK-1,ซ้ำ,,TH-10,,,,,\n").expect("write");
    let refused = api::import::communities(&store, &actor, &bad, false, &quiet).await.expect("import");
    assert!(!refused.written);
    let lines: Vec<u64> = refused.bad.iter().map(|b| b.line).collect();
    assert_eq!(lines, [3, 4, 5]);
    assert!(app.ok(&token, "{ community(code: \"OK-1\") { code } }", json!({})).await["community"].is_null());
    let partial = api::import::communities(&store, &actor, &bad, true, &quiet).await.expect("import");
    assert_eq!((partial.created, partial.bad.len()), (1, 3));
    assert_eq!(app.ok(&token, "{ community(code: \"OK-1\") { code } }", json!({})).await["community"]["code"], "OK-1");
}
