//! Thai that reads right: names in Thai dictionary order and search that
//! ignores what users do not type (tone marks, diacritics, NFC or NFD, case).

use black_box_tests::{TestApp, code, on_both};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

on_both!(
    names_sort_in_thai_dictionary_order,
    search_ignores_tone_marks_diacritics_normal_forms_and_case,
    search_that_folds_to_nothing_is_refused,
    search_keys_follow_renames,
);

/// District names in the order the Royal Institute dictionary gives: the
/// leading vowels เ แ โ ใ ไ sort by the consonant after them, a consonant
/// before the vowels (ขนอม before ขาม), the vowels in the order ะ ั า ำ ิ ุ
/// เ แ โ ไ, and a tone mark weighs only when everything else is equal
/// (นา, น่า, น้า; แม่ทะ before แม่ทา). Latin names follow Thai ones.
const DICTIONARY_ORDER: [&str; 20] = [
    "กะเปอร์",
    "กันทรลักษ์",
    "กาญจนดิษฐ์",
    "กำแพงแสน",
    "กุยบุรี",
    "เกาะคา",
    "แกลง",
    "โกสุมพิสัย",
    "ไกรลาศ",
    "ขนอม",
    "ขามสะแกแสง",
    "เขาค้อ",
    "นา",
    "น่า",
    "น้า",
    "แม่แจ่ม",
    "แม่ทะ",
    "แม่ทา",
    "แม่ออน",
    "Ban Rak Thai",
];

const CREATE: &str = "mutation($input: CreateCommunityInput!) { createCommunity(input: $input) { id } }";

/// Creates communities `TT-00..` named `names`, in a scrambled order.
async fn create(app: &TestApp, names: &[&str]) {
    let token = app.full("CDD");
    let mut order: Vec<usize> = (0..names.len()).collect();
    // A fixed scramble: every seventh, so no run of the list is in order.
    order.sort_by_key(|i| (i * 7) % names.len());
    for i in order {
        app.ok(
            &token,
            CREATE,
            json!({ "input": { "code": format!("TT-{i:02}"), "nameTh": names[i], "provinceCode": "TH-57" } }),
        )
        .await;
    }
}

/// The names of every community in `orderBy: NAME` (direction `dir`),
/// read `page` at a time, kept if created by [`create`].
async fn names_in_order(app: &TestApp, dir: &str, page: usize) -> Vec<String> {
    let token = app.full("CDD");
    let query = "query($first: Int, $after: String, $dir: OrderDirection!) {
      communities(first: $first, after: $after, orderBy: { field: NAME, direction: $dir }) {
        pageInfo { hasNextPage endCursor } nodes { code nameTh } } }";
    let (mut names, mut after) = (Vec::new(), Value::Null);
    loop {
        let data = app.ok(&token, query, json!({ "first": page, "after": after, "dir": dir })).await;
        let list = &data["communities"];
        for node in list["nodes"].as_array().expect("a connection page") {
            if node["code"].as_str().expect("a connection page").starts_with("TT-") {
                names.push(node["nameTh"].as_str().expect("a connection page").to_owned());
            }
        }
        if list["pageInfo"]["hasNextPage"] != true {
            return names;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
}

async fn names_sort_in_thai_dictionary_order(app: TestApp) {
    create(&app, &DICTIONARY_ORDER).await;
    assert_eq!(names_in_order(&app, "ASC", 100).await, DICTIONARY_ORDER);
    // Keyset pages continue in the same order, both ways.
    assert_eq!(names_in_order(&app, "ASC", 3).await, DICTIONARY_ORDER);
    let mut descending = DICTIONARY_ORDER.to_vec();
    descending.reverse();
    assert_eq!(names_in_order(&app, "DESC", 4).await, descending);
}

/// The codes of the communities a search finds, created by [`create`].
async fn found(app: &TestApp, search: &str) -> Vec<String> {
    let data = app
        .ok(
            &app.full("CDD"),
            "query($s: String) { communities(first: 100, filter: { search: $s }, orderBy: { field: NAME, direction: ASC }) { nodes { code nameTh } } }",
            json!({ "s": search }),
        )
        .await;
    data["communities"]["nodes"]
        .as_array()
        .expect("a connection page")
        .iter()
        .filter(|n| n["code"].as_str().expect("a connection page").starts_with("TT-"))
        .map(|n| n["nameTh"].as_str().expect("a connection page").to_owned())
        .collect()
}

async fn search_ignores_tone_marks_diacritics_normal_forms_and_case(app: TestApp) {
    create(&app, &["แม่กำปอง", "บ้านน้ำเชี่ยว", "ศูนย์การเรียนรู้", "Café Ban Rak", "กันทรลักษ์"]).await;
    // Thai by substring, with or without tone marks and thanthakhat.
    assert_eq!(found(&app, "ทรลัก").await, ["กันทรลักษ์"]);
    assert_eq!(found(&app, "แมกำปอง").await, ["แม่กำปอง"]);
    assert_eq!(found(&app, "แม่กำ").await, ["แม่กำปอง"]);
    assert_eq!(found(&app, "นำเชียว").await, ["บ้านน้ำเชี่ยว"]);
    assert_eq!(found(&app, "ศูนยการ").await, ["ศูนย์การเรียนรู้"]);
    // Sara am typed as nikhahit + sara aa, and a tone mark typed first.
    assert_eq!(found(&app, "น\u{0E49}\u{0E4D}\u{0E32}เชี่ยว").await, ["บ้านน้ำเชี่ยว"]);
    // NFC and NFD, accents left out, any case.
    assert_eq!(found(&app, "caf\u{e9}").await, ["Café Ban Rak"]);
    assert_eq!(found(&app, "cafe\u{301}").await, ["Café Ban Rak"]);
    assert_eq!(found(&app, "CAFE BAN").await, ["Café Ban Rak"]);
    // A search never matches across two fields of the key.
    assert!(found(&app, "rak\ntt").await.is_empty());
    // Codes are searched too.
    assert_eq!(found(&app, "tt-00").await, ["แม่กำปอง"]);
    // Wildcards are text.
    assert!(found(&app, "%").await.is_empty());

    if app.sql().await.get_database_backend() == DbBackend::Postgres {
        trigram_index_serves_search(&app).await;
    }
}

/// On PostgreSQL, with enough rows for the planner to care, the search's
/// `LIKE` is answered from the trigram index, not a scan of the table.
async fn trigram_index_serves_search(app: &TestApp) {
    let db = app.sql().await;
    db.execute_unprepared(
        "INSERT INTO communities (code, name_th, province_code, search_text, created_by, version, created_at, updated_at) \
         SELECT 'GEN-' || g, 'บ้านทดสอบ ' || g, 'TH-57', 'บานทดสอบ ' || g || chr(10) || 'gen-' || g, \
                (SELECT id FROM organizations WHERE code = 'CDD'), 1, now(), now() \
         FROM generate_series(1, 20000) AS g; ANALYZE communities",
    )
    .await
    .expect("generate");
    let plan = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "EXPLAIN (FORMAT JSON) SELECT id FROM communities WHERE search_text LIKE '%แมกำปอง%' ESCAPE '\\' \
             ORDER BY code, id LIMIT 21",
        ))
        .await
        .expect("explain")
        .expect("a plan");
    let plan: Value = plan.try_get_by_index(0).expect("json");
    let indexes = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'communities' AND schemaname = current_schema()",
        ))
        .await
        .expect("indexes")
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("a connection page"))
        .collect::<Vec<_>>();
    assert!(plan.to_string().contains("ix_communities_search_trgm"), "plan: {plan}\nindexes: {indexes:?}");
    assert_eq!(found(app, "แมกำปอง").await, ["แม่กำปอง"]);
}

async fn search_that_folds_to_nothing_is_refused(app: TestApp) {
    let body = app
        .gql(&app.full("CDD"), "{ communities(filter: { search: \"\u{0E48}\u{0E49}\" }) { totalCount } }", json!({}))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
}

async fn search_keys_follow_renames(app: TestApp) {
    create(&app, &["บ้านเก่า"]).await;
    let token = app.full("CDD");
    let id = app.id_of("community", "TT-00").await;
    app.ok(
        &token,
        "mutation($input: UpdateCommunityInput!) { updateCommunity(input: $input) { version } }",
        json!({ "input": { "id": id, "expectedVersion": 1, "nameTh": "บ้านใหม่", "nameEn": "Ban Mai" } }),
    )
    .await;
    assert!(found(&app, "บานเกา").await.is_empty());
    assert_eq!(found(&app, "บานใหม").await, ["บ้านใหม่"]);
    assert_eq!(found(&app, "ban mai").await, ["บ้านใหม่"]);
    // MOUs are searched the same way.
    let data = app.ok(&token, "{ mous(first: 50, filter: { search: \"ความรวมมือ\" }) { totalCount } }", json!({})).await;
    let with_marks =
        app.ok(&token, "{ mous(first: 50, filter: { search: \"ความร่วมมือ\" }) { totalCount } }", json!({})).await;
    assert!(data["mous"]["totalCount"].as_i64().expect("a connection page") > 0);
    assert_eq!(data, with_marks);
}
