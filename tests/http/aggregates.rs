//! Aggregates: figures checked against the rows themselves on generated
//! data, access like the lists', limits and costs.

use std::collections::BTreeMap;

use black_box_tests::{TestApp, code, on_both};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, Value as SqlValue};
use serde_json::{Value, json};

on_both!(
    enrolment_figures_match_the_rows_by_province_and_thai_month,
    community_figures_match_direct_sql_by_tier_region_and_quarter,
    finance_reach_by_partner_counts_each_community_once,
    programme_figures_and_mou_visibility,
    aggregates_are_access_checked_like_lists,
    bad_groupings_are_refused_and_cost_is_reported,
);

const PROVINCES: [&str; 6] = ["TH-57", "TH-50", "TH-40", "TH-10", "TH-83", "TH-20"];
const STATUSES: [&str; 5] = ["NOMINATED", "ENROLLED", "IN_PROGRESS", "COMPLETED", "WITHDRAWN"];

async fn ids(db: &DatabaseConnection, sql: &str) -> Vec<i64> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect(sql)
        .iter()
        .map(|r| r.try_get_by_index::<i64>(0).expect("generated data"))
        .collect()
}

async fn exec(db: &DatabaseConnection, sql: &str, values: Vec<SqlValue>) {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            let mut n = 0;
            sql.chars()
                .map(|c| {
                    if c == '?' {
                        n += 1;
                        format!("${n}")
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        }
        _ => sql.to_owned(),
    };
    db.execute_raw(Statement::from_sql_and_values(backend, &sql, values)).await.expect("insert");
}

/// 240 communities and their enrolments, written straight to the database:
/// six provinces in five regions, every tier and none, some without a
/// household count, and nominations every 37 hours so that some fall on
/// the evening of a month's last day in UTC, which is the next month in
/// Thai time.
async fn generate(app: &TestApp) {
    let db = app.sql().await;
    let orgs = ids(&db, "SELECT id FROM organizations ORDER BY id").await;
    let programmes = ids(&db, "SELECT id FROM programmes ORDER BY id").await;
    let curricula = ids(&db, "SELECT id FROM curricula ORDER BY id").await;
    let start: DateTime<Utc> = "2024-01-31T10:00:00Z".parse().expect("generated data");
    for i in 0..240i64 {
        let tier = ["A", "B", "C", "D", ""][i as usize % 5];
        let households = if i % 7 == 0 { None } else { Some(40 + (i * 13) % 400) };
        let created = start + Duration::hours(i * 53);
        exec(
            &db,
            "INSERT INTO communities (code, name_th, province_code, households, tourism_tier, created_by, version, \
             created_at, updated_at, search_text) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
            vec![
                format!("AG-{i:03}").into(),
                format!("ชุมชน {i}").into(),
                PROVINCES[i as usize % PROVINCES.len()].into(),
                households.map(|h| h as i32).into(),
                (!tier.is_empty()).then(|| tier.to_owned()).into(),
                orgs[1].into(),
                created.into(),
                created.into(),
                format!("ชุมชน {i}\nag-{i:03}").into(),
            ],
        )
        .await;
        let community = ids(&db, &format!("SELECT id FROM communities WHERE code = 'AG-{i:03}'")).await[0];
        for k in 0..(1 + i % 3) {
            let nominated = start + Duration::hours(i * 37 + k * 11);
            let programme = programmes[((i + k) as usize) % programmes.len()];
            let curriculum = (i % 2 == 0).then(|| curricula[(i as usize / 2) % curricula.len()]);
            exec(
                &db,
                "INSERT INTO enrolments (community_id, programme_id, curriculum_id, status, nominated_by, nominated_at, \
                 version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
                vec![
                    community.into(),
                    programme.into(),
                    curriculum.into(),
                    STATUSES[((i + k) as usize) % STATUSES.len()].into(),
                    orgs[((i + k) as usize) % orgs.len()].into(),
                    nominated.into(),
                    nominated.into(),
                    nominated.into(),
                ],
            )
            .await;
        }
    }
}

/// One enrolment as the rows say.
struct Row {
    community: i64,
    province: String,
    households: Option<i64>,
    partner: String,
    theme: String,
    nominated: DateTime<Utc>,
}

async fn enrolment_rows(db: &DatabaseConnection) -> Vec<Row> {
    let backend = db.get_database_backend();
    let sql = "SELECT e.community_id, c.province_code, c.households, o.code, p.theme, e.nominated_at \
               FROM enrolments e JOIN communities c ON c.id = e.community_id \
               JOIN organizations o ON o.id = e.nominated_by JOIN programmes p ON p.id = e.programme_id";
    db.query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("generated data")
        .iter()
        .map(|r| Row {
            community: r.try_get_by_index(0).expect("generated data"),
            province: r.try_get_by_index(1).expect("generated data"),
            households: r.try_get_by_index::<Option<i32>>(2).expect("generated data").map(i64::from),
            partner: r.try_get_by_index(3).expect("generated data"),
            theme: r.try_get_by_index(4).expect("generated data"),
            nominated: r.try_get_by_index(5).expect("generated data"),
        })
        .collect()
}

/// Figures of a group computed from rows: enrolments, distinct communities,
/// their households (each community once), how many had a count.
#[derive(Debug, Default, PartialEq)]
struct Figures {
    count: i64,
    communities: i64,
    households: i64,
    reported: i64,
}

fn figures<'a>(rows: impl Iterator<Item = &'a Row>) -> Figures {
    let mut f = Figures::default();
    let mut seen = BTreeMap::new();
    for r in rows {
        f.count += 1;
        seen.insert(r.community, r.households);
    }
    f.communities = seen.len() as i64;
    f.households = seen.values().flatten().sum();
    f.reported = seen.values().flatten().count() as i64;
    f
}

fn thai_month(t: DateTime<Utc>) -> String {
    (t + Duration::hours(7)).format("%Y-%m").to_string()
}

fn group_figures(g: &Value) -> Figures {
    Figures {
        count: g["count"].as_i64().expect("generated data"),
        communities: g["communities"].as_i64().expect("generated data"),
        households: g["households"].as_i64().expect("generated data"),
        reported: g["householdsReported"].as_i64().expect("generated data"),
    }
}

async fn enrolment_figures_match_the_rows_by_province_and_thai_month(app: TestApp) {
    generate(&app).await;
    let data = app
        .ok(
            &app.full("CDD"),
            "{ enrolmentAggregate(groupBy: [PROVINCE, NOMINATED_MONTH]) {
                total { count communities households householdsReported }
                groups { key { province { code } month quarter status } count communities households householdsReported } } }",
            json!({}),
        )
        .await;
    let rows = enrolment_rows(&app.sql().await).await;
    let mut expected: BTreeMap<(String, String), Vec<&Row>> = BTreeMap::new();
    for r in &rows {
        expected.entry((r.province.clone(), thai_month(r.nominated))).or_default().push(r);
    }
    let groups = data["enrolmentAggregate"]["groups"].as_array().expect("generated data");
    assert_eq!(groups.len(), expected.len());
    // Ordered by key: province code, then month.
    for (g, ((province, month), rows)) in groups.iter().zip(&expected) {
        assert_eq!(g["key"]["province"]["code"], province.as_str());
        assert_eq!(g["key"]["month"], month.as_str());
        assert!(g["key"]["quarter"].is_null() && g["key"]["status"].is_null());
        assert_eq!(group_figures(g), figures(rows.iter().copied()), "{province} {month}");
    }
    assert_eq!(group_figures(&data["enrolmentAggregate"]["total"]), figures(rows.iter()));
    assert!(
        groups.iter().any(|g| g["communities"].as_i64() < g["count"].as_i64()),
        "some community has two enrolments in a group, and its households count once"
    );
    // The Thai calendar: 2024-01-31T10:00Z + 37 h = 2024-02-01T23:00Z... and
    // 17:00Z or later on a month's last day counts in the next month.
    let evening = rows.iter().filter(|r| thai_month(r.nominated) != r.nominated.format("%Y-%m").to_string()).count();
    assert!(evening > 0, "the data has nominations whose Thai month differs from the UTC one");
}

async fn community_figures_match_direct_sql_by_tier_region_and_quarter(app: TestApp) {
    generate(&app).await;
    let token = app.full("CDD");
    let db = app.sql().await;
    // By tier, against SQL.
    let data = app
        .ok(
            &token,
            "{ communityAggregate(groupBy: [TIER]) { groups { key { tier } count households householdsReported } } }",
            json!({}),
        )
        .await;
    let backend = db.get_database_backend();
    let sql = "SELECT tourism_tier, COUNT(*), CAST(COALESCE(SUM(households), 0) AS BIGINT), COUNT(households) \
               FROM communities GROUP BY tourism_tier";
    let mut by_sql: Vec<(Option<String>, i64, i64, i64)> = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("generated data")
        .iter()
        .map(|r| {
            (
                r.try_get_by_index(0).expect("generated data"),
                r.try_get_by_index(1).expect("generated data"),
                r.try_get_by_index(2).expect("generated data"),
                r.try_get_by_index(3).expect("generated data"),
            )
        })
        .collect();
    by_sql.sort_by(|a, b| (a.0.is_none(), &a.0).cmp(&(b.0.is_none(), &b.0)));
    let by_api: Vec<(Option<String>, i64, i64, i64)> = data["communityAggregate"]["groups"]
        .as_array()
        .expect("generated data")
        .iter()
        .map(|g| {
            (
                g["key"]["tier"].as_str().map(str::to_owned),
                g["count"].as_i64().expect("generated data"),
                g["households"].as_i64().expect("generated data"),
                g["householdsReported"].as_i64().expect("generated data"),
            )
        })
        .collect();
    assert_eq!(by_api, by_sql);
    assert_eq!(by_api.last().expect("generated data").0, None, "unclassified communities come last");

    // Tier C by region: the list's filter, and regions add their provinces up.
    let data = app
        .ok(
            &token,
            "{ communityAggregate(filter: { tiers: [C], search: \"ag-\" }, groupBy: [REGION]) { total { count } groups { key { region } count households } } }",
            json!({}),
        )
        .await;
    let sql = "SELECT province_code, COUNT(*), CAST(COALESCE(SUM(households), 0) AS BIGINT) FROM communities \
               WHERE tourism_tier = 'C' AND code LIKE 'AG-%' GROUP BY province_code";
    let mut regions: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for r in db.query_all_raw(Statement::from_string(backend, sql)).await.expect("generated data") {
        let province: String = r.try_get_by_index(0).expect("generated data");
        let region = match province.as_str() {
            "TH-57" | "TH-50" => "NORTH",
            "TH-40" => "NORTHEAST",
            "TH-10" => "CENTRAL",
            "TH-83" => "SOUTH",
            "TH-20" => "EAST",
            other => panic!("a province this test does not place: {other}"),
        };
        let e = regions.entry(region).or_default();
        e.0 += r.try_get_by_index::<i64>(1).expect("generated data");
        e.1 += r.try_get_by_index::<i64>(2).expect("generated data");
    }
    let groups = data["communityAggregate"]["groups"].as_array().expect("generated data");
    let by_api: BTreeMap<&str, (i64, i64)> = groups
        .iter()
        .map(|g| {
            (
                g["key"]["region"].as_str().expect("generated data"),
                (g["count"].as_i64().expect("generated data"), g["households"].as_i64().expect("generated data")),
            )
        })
        .collect();
    assert_eq!(by_api, regions);
    let total: i64 = regions.values().map(|v| v.0).sum();
    assert_eq!(data["communityAggregate"]["total"]["count"].as_i64().expect("generated data"), total);
    // The same filter on the list agrees.
    let list = app
        .ok(
            &token,
            "{ communities(filter: { tiers: [C], regions: [NORTH], search: \"ag-\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(list["communities"]["totalCount"].as_i64().expect("generated data"), regions["NORTH"].0);

    // Quarters of the Thai calendar, with a second dimension.
    let data = app
        .ok(
            &token,
            "{ communityAggregate(groupBy: [CREATED_QUARTER, TIER]) { groups { key { quarter tier } count } } }",
            json!({}),
        )
        .await;
    let sql = "SELECT created_at, tourism_tier FROM communities";
    let mut expected: BTreeMap<(String, Option<String>), i64> = BTreeMap::new();
    for r in db.query_all_raw(Statement::from_string(backend, sql)).await.expect("generated data") {
        let at: DateTime<Utc> = r.try_get_by_index(0).expect("generated data");
        let local = at + Duration::hours(7);
        let quarter = format!(
            "{}-Q{}",
            local.format("%Y"),
            local.format("%m").to_string().parse::<u32>().expect("generated data").div_ceil(3)
        );
        *expected.entry((quarter, r.try_get_by_index(1).expect("generated data"))).or_default() += 1;
    }
    let by_api: BTreeMap<(String, Option<String>), i64> = data["communityAggregate"]["groups"]
        .as_array()
        .expect("generated data")
        .iter()
        .map(|g| {
            (
                (
                    g["key"]["quarter"].as_str().expect("generated data").to_owned(),
                    g["key"]["tier"].as_str().map(str::to_owned),
                ),
                g["count"].as_i64().expect("generated data"),
            )
        })
        .collect();
    assert_eq!(by_api, expected);
}

async fn finance_reach_by_partner_counts_each_community_once(app: TestApp) {
    generate(&app).await;
    let data = app
        .ok(
            &app.full("GSB"),
            "{ enrolmentAggregate(filter: { themes: [COMMUNITY_FINANCE] }, groupBy: [NOMINATING_PARTNER]) {
                groups { key { nominatingPartner { code } } count communities households householdsReported } } }",
            json!({}),
        )
        .await;
    let rows = enrolment_rows(&app.sql().await).await;
    let mut expected: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.theme == "COMMUNITY_FINANCE") {
        expected.entry(r.partner.clone()).or_default().push(r);
    }
    let groups = data["enrolmentAggregate"]["groups"].as_array().expect("generated data");
    let by_api: BTreeMap<String, Figures> = groups
        .iter()
        .map(|g| (g["key"]["nominatingPartner"]["code"].as_str().expect("generated data").to_owned(), group_figures(g)))
        .collect();
    let expected: BTreeMap<String, Figures> =
        expected.into_iter().map(|(k, rows)| (k, figures(rows.into_iter()))).collect();
    assert_eq!(by_api, expected);
}

async fn programme_figures_and_mou_visibility(app: TestApp) {
    let query = "{ programmeAggregate(groupBy: [MOU]) { total { count capacity capacityReported }
                   groups { key { mou { code status } } count } } }";
    let db = app.sql().await;
    let backend = db.get_database_backend();
    let total: i64 = ids(&db, "SELECT COUNT(*) FROM programmes").await[0];
    let mut hidden = Vec::new();
    for org in ["FOUNDATION", "CDD", "GSB", "VILLAGE_FUND"] {
        let data = app.ok(&app.full(org), query, json!({})).await;
        let agg = &data["programmeAggregate"];
        assert_eq!(agg["total"]["count"].as_i64().expect("generated data"), total);
        let groups = agg["groups"].as_array().expect("generated data");
        assert_eq!(groups.iter().map(|g| g["count"].as_i64().expect("generated data")).sum::<i64>(), total, "{org}");
        // Every MOU named is one the organisation may see.
        let visible = app.ok(&app.full(org), "{ mous(first: 100) { nodes { code } } }", json!({})).await;
        let visible: Vec<&Value> =
            visible["mous"]["nodes"].as_array().expect("generated data").iter().map(|n| &n["code"]).collect();
        for g in groups.iter().filter(|g| !g["key"]["mou"].is_null()) {
            assert!(visible.contains(&&g["key"]["mou"]["code"]), "{org} sees {}", g["key"]["mou"]["code"]);
        }
        let none = groups
            .iter()
            .find(|g| g["key"]["mou"].is_null())
            .map_or(0, |g| g["count"].as_i64().expect("generated data"));
        hidden.push(none);
    }
    // Programmes under MOUs an organisation may not see fall into the
    // no-MOU group: it is larger for some organisation than for another.
    let without_mou: i64 = ids(&db, "SELECT COUNT(*) FROM programmes WHERE mou_id IS NULL").await[0];
    assert!(hidden.iter().all(|h| *h >= without_mou));
    assert!(hidden.iter().any(|h| *h > without_mou), "{hidden:?}");
    // Capacity sums against SQL.
    let sql = "SELECT CAST(COALESCE(SUM(capacity), 0) AS BIGINT), COUNT(capacity) FROM programmes";
    let row =
        db.query_one_raw(Statement::from_string(backend, sql)).await.expect("generated data").expect("generated data");
    let data = app.ok(&app.full("CDD"), query, json!({})).await;
    assert_eq!(
        data["programmeAggregate"]["total"]["capacity"].as_i64().expect("generated data"),
        row.try_get_by_index::<i64>(0).expect("generated data")
    );
    assert_eq!(
        data["programmeAggregate"]["total"]["capacityReported"].as_i64().expect("generated data"),
        row.try_get_by_index::<i64>(1).expect("generated data")
    );
}

async fn aggregates_are_access_checked_like_lists(app: TestApp) {
    let enrolments_only = app.token("GSB", &["enrolments:read"]);
    // The record type's scope.
    let body = app.gql(&enrolments_only, "{ communityAggregate { total { count } } }", json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN");
    // Community dimensions need communities:read.
    let body =
        app.gql(&enrolments_only, "{ enrolmentAggregate(groupBy: [PROVINCE]) { groups { count } } }", json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN");
    // Households too: null with FORBIDDEN, the rest answered.
    let body = app
        .gql(
            &enrolments_only,
            "{ enrolmentAggregate(groupBy: [STATUS]) { groups { key { status } count households } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    let groups = body["data"]["enrolmentAggregate"]["groups"].as_array().expect("generated data");
    assert!(!groups.is_empty());
    assert!(groups.iter().all(|g| g["households"].is_null() && g["count"].as_i64().expect("generated data") > 0));
    // Grouping by MOU needs mous:read.
    let programmes_only = app.token("GSB", &["programmes:read"]);
    let body =
        app.gql(&programmes_only, "{ programmeAggregate(groupBy: [MOU]) { groups { count } } }", json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN");
    let body =
        app.gql(&programmes_only, "{ programmeAggregate(groupBy: [THEME]) { groups { count } } }", json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
}

async fn bad_groupings_are_refused_and_cost_is_reported(app: TestApp) {
    let token = app.full("CDD");
    for group_by in ["[TIER, PROVINCE, REGION]", "[TIER, TIER]", "[CREATED_MONTH, ASSESSED_QUARTER]"] {
        let body = app
            .gql(&token, &format!("{{ communityAggregate(groupBy: {group_by}) {{ groups {{ count }} }} }}"), json!({}))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{group_by}: {body}");
    }
    // The cost table: 1 + 100 (the scan) + the groups (1 + 100 × (key 1 + province 1)).
    let (_, body) = app
        .post(
            Some(&token),
            "{ communityAggregate(groupBy: [PROVINCE]) { groups { key { province { code } } count } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["extensions"]["cost"]["requested"], 1 + 100 + (1 + 100 * 2), "{body}");
    // stats still answers, deprecated.
    let data = app.ok(&token, "{ stats { communitiesByTier { tier count } } }", json!({})).await;
    assert!(!data["stats"]["communitiesByTier"].as_array().expect("generated data").is_empty());
}
