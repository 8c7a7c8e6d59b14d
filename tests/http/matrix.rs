//! The access matrix: one table of who may do what, run through the real
//! endpoint for each demo partner and several scope sets, and rendered as
//! `docs/access.md` (a test keeps the two in sync; `UPDATE_DOCS=1` rewrites it).

use black_box_tests::{Backend, TestApp, all_scopes};
use serde_json::{Value, json};

/// The demo partners.
const ORGS: [&str; 4] = ["FOUNDATION", "CDD", "GSB", "VILLAGE_FUND"];

/// What a row does.
#[derive(Copy, Clone, Debug)]
enum Op {
    CreateCommunity,
    UpdateCommunity,
    ClassifyCommunity,
    ReadContact,
    CreateMou,
    UpdateDraftMou,
    SignMou,
    CreateCommitment,
    UpdateCommitment,
    ReadDraftMou,
    ReadDraftMouByNode,
    ReadDraftMouNested,
    ReadDraftCommitmentByNodes,
    ReadDraftMouChanges,
    CreateProgramme,
    UpdateProgramme,
    CreateCurriculum,
    UpdateCurriculum,
    Nominate,
    AcceptEnrolment,
    WithdrawEnrolment,
    CreateWebhook,
    WebhookDraftMouEvents,
    ManageTrustedDocuments,
    AdhocWhileEnforced,
    ReadPiiAccessLog,
    EraseContact,
    StartExport,
}

/// One row of the matrix.
struct Row {
    /// The operation, as partners see it.
    what: &'static str,
    /// The scopes it needs.
    needs: &'static [&'static str],
    /// The demo partners the row rule lets through (with the scopes).
    allowed: &'static [&'static str],
    /// The row rule, in words.
    rule: &'static str,
    op: Op,
}

const ALL: &[&str] = &["FOUNDATION", "CDD", "GSB", "VILLAGE_FUND"];
const FOUNDATION_CDD: &[&str] = &["FOUNDATION", "CDD"];

const TABLE: &[Row] = &[
    Row {
        what: "createCommunity",
        needs: &["communities:write"],
        allowed: ALL,
        rule: "any partner",
        op: Op::CreateCommunity,
    },
    Row {
        what: "updateCommunity",
        needs: &["communities:write"],
        allowed: ALL,
        rule: "any partner (the tier and contact need their own scopes)",
        op: Op::UpdateCommunity,
    },
    Row {
        what: "classifyCommunity",
        needs: &["communities:classify"],
        allowed: ALL,
        rule: "whoever holds the scope (issuers grant it to CDD)",
        op: Op::ClassifyCommunity,
    },
    Row {
        what: "read `Community.contact` (personal data)",
        needs: &["communities:read", "communities:pii"],
        allowed: ALL,
        rule: "without `communities:pii` the field is null with a FORBIDDEN error",
        op: Op::ReadContact,
    },
    Row {
        what: "createMou",
        needs: &["mous:write"],
        allowed: ALL,
        rule: "the creator must list itself as a party",
        op: Op::CreateMou,
    },
    Row {
        what: "updateMou (a DRAFT MOU)",
        needs: &["mous:write"],
        allowed: FOUNDATION_CDD,
        rule: "its LEAD and PARTNER parties",
        op: Op::UpdateDraftMou,
    },
    Row {
        what: "signMou",
        needs: &["mous:write"],
        allowed: &["FOUNDATION", "CDD", "GSB"],
        rule: "any party, witnesses included (here GSB is a WITNESS)",
        op: Op::SignMou,
    },
    Row {
        what: "createCommitment",
        needs: &["mous:write"],
        allowed: FOUNDATION_CDD,
        rule: "a party of the MOU",
        op: Op::CreateCommitment,
    },
    Row {
        what: "updateCommitment",
        needs: &["mous:write"],
        allowed: FOUNDATION_CDD,
        rule: "its owner (here CDD) or the MOU's lead (FOUNDATION)",
        op: Op::UpdateCommitment,
    },
    Row {
        what: "read a DRAFT MOU (`mou`)",
        needs: &["mous:read"],
        allowed: FOUNDATION_CDD,
        rule: "its parties; others get null",
        op: Op::ReadDraftMou,
    },
    Row {
        what: "read a DRAFT MOU (`node`)",
        needs: &["mous:read"],
        allowed: FOUNDATION_CDD,
        rule: "its parties; others get null",
        op: Op::ReadDraftMouByNode,
    },
    Row {
        what: "read a DRAFT MOU (`Programme.mou`)",
        needs: &["programmes:read", "mous:read"],
        allowed: FOUNDATION_CDD,
        rule: "its parties; others get null",
        op: Op::ReadDraftMouNested,
    },
    Row {
        what: "read a DRAFT MOU's commitment (`nodes`)",
        needs: &["mous:read"],
        allowed: FOUNDATION_CDD,
        rule: "the MOU's parties; others get null",
        op: Op::ReadDraftCommitmentByNodes,
    },
    Row {
        what: "read a DRAFT MOU's change events (`changes`)",
        needs: &["changes:read", "mous:read"],
        allowed: FOUNDATION_CDD,
        rule: "the MOU's parties",
        op: Op::ReadDraftMouChanges,
    },
    Row {
        what: "createProgramme",
        needs: &["programmes:write"],
        allowed: ALL,
        rule: "any partner (it becomes the lead); under an MOU only its parties",
        op: Op::CreateProgramme,
    },
    Row {
        what: "updateProgramme",
        needs: &["programmes:write"],
        allowed: FOUNDATION_CDD,
        rule: "its lead and partners (here PRG-TOURISM-C: FOUNDATION leads, CDD partners)",
        op: Op::UpdateProgramme,
    },
    Row {
        what: "createCurriculum",
        needs: &["curricula:write"],
        allowed: ALL,
        rule: "any partner (it becomes the owner)",
        op: Op::CreateCurriculum,
    },
    Row {
        what: "updateCurriculum",
        needs: &["curricula:write"],
        allowed: FOUNDATION_CDD,
        rule: "its owner and contributors (here CUR-SAVINGS-ALT: FOUNDATION owns, CDD contributes)",
        op: Op::UpdateCurriculum,
    },
    Row {
        what: "nominateCommunity",
        needs: &["enrolments:write"],
        allowed: FOUNDATION_CDD,
        rule: "the programme's lead or partners (here PRG-TOURISM-C)",
        op: Op::Nominate,
    },
    Row {
        what: "transitionEnrolment: accept (enrolment decision)",
        needs: &["enrolments:write"],
        allowed: &["FOUNDATION"],
        rule: "the programme's lead only",
        op: Op::AcceptEnrolment,
    },
    Row {
        what: "transitionEnrolment: withdraw",
        needs: &["enrolments:write"],
        allowed: FOUNDATION_CDD,
        rule: "the nominating organisation (here CDD) or the lead",
        op: Op::WithdrawEnrolment,
    },
    Row {
        what: "createWebhookSubscription (and list, update, rotate, replay)",
        needs: &["webhooks:manage", "changes:read"],
        allowed: ALL,
        rule: "any partner, for its own organisation; another's subscriptions are NOT_FOUND",
        op: Op::CreateWebhook,
    },
    Row {
        what: "receive a DRAFT MOU's change events by webhook",
        needs: &["webhooks:manage", "changes:read", "mous:read"],
        allowed: FOUNDATION_CDD,
        rule: "the MOU's parties, and only if the token that created the subscription held `mous:read`",
        op: Op::WebhookDraftMouEvents,
    },
    Row {
        what: "registerTrustedDocuments (and `operationPolicy`, removeTrustedDocuments, setOperationPolicy)",
        needs: &["operations:manage"],
        allowed: ALL,
        rule: "any partner, for its own organisation; while it enforces, this scope runs only these operations",
        op: Op::ManageTrustedDocuments,
    },
    Row {
        what: "run an unregistered operation while the organisation enforces trusted documents",
        needs: &["operations:adhoc"],
        allowed: ALL,
        rule: "refused with PERSISTED_QUERY_NOT_IN_LIST without the scope; limits and budget still apply",
        op: Op::AdhocWhileEnforced,
    },
    Row {
        what: "read the personal-data access log (`piiAccessLog`, `auditPurges`)",
        needs: &["audit:read"],
        allowed: ALL,
        rule: "any partner; only the reads its own people and systems made",
        op: Op::ReadPiiAccessLog,
    },
    Row {
        what: "eraseContact (a data subject's erasure request)",
        needs: &["communities:write", "communities:pii"],
        allowed: ALL,
        rule: "any partner; the old values leave every change event, the history keeps who changed it and when",
        op: Op::EraseContact,
    },
    Row {
        what: "startExport of communities (and `export`, `exports`, `cancelExport`, `GET /exports/{id}`)",
        needs: &["exports:run", "communities:read"],
        allowed: ALL,
        rule: "any partner, for its own organisation's exports; the export reads with the caller's scopes",
        op: Op::StartExport,
    },
];

/// The scope sets each row is run with.
fn scope_sets(row: &Row) -> Vec<(&'static str, Vec<&'static str>)> {
    let all = all_scopes();
    let reads: Vec<&str> = all.iter().copied().filter(|s| s.ends_with(":read")).collect();
    let without: Vec<&str> = all.iter().copied().filter(|s| !row.needs.contains(s)).collect();
    vec![
        ("every scope", all.clone()),
        ("only the row's scopes", row.needs.to_vec()),
        ("read scopes only", reads),
        ("all but the row's scopes", without),
    ]
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]).to_uppercase()
}

fn succeeded(body: &Value) -> bool {
    body.get("errors").is_none()
}

fn internal(body: &Value) -> bool {
    body["errors"].as_array().into_iter().flatten().any(|e| e["extensions"]["code"] == "INTERNAL")
}

async fn version(app: &TestApp, kind: &str, id: &str) -> i64 {
    let q = format!("query($id: ID) {{ {kind}(id: $id) {{ version }} }}");
    app.ok(&app.full("FOUNDATION"), &q, json!({ "id": id })).await[kind]["version"].as_i64().unwrap_or(0)
}

async fn nominate(app: &TestApp, by: &str, programme: &str) -> String {
    let admin = app.full("CDD");
    let c = app.ok(&admin, "mutation($c: String!) { createCommunity(input: {code: $c, nameTh: \"ชุมชนทดสอบ\", provinceCode: \"TH-57\"}) { id } }", json!({ "c": unique("M") })).await;
    let community = c["createCommunity"]["id"].as_str().unwrap_or_default().to_owned();
    app.ok(
        &admin,
        "mutation($id: ID!) { classifyCommunity(input: {id: $id, expectedVersion: 1, tier: C}) { id } }",
        json!({ "id": community }),
    )
    .await;
    let programme = app.id_of("programme", programme).await;
    let e = app
        .ok(
            &app.full(by),
            "mutation($p: ID!, $c: ID!) { nominateCommunity(input: {programmeId: $p, communityId: $c}) { id } }",
            json!({ "p": programme, "c": community }),
        )
        .await;
    e["nominateCommunity"]["id"].as_str().unwrap_or_default().to_owned()
}

/// Sets the row up (as an administrator), then tries it with `token`.
/// Returns whether it was allowed, and the response for messages.
async fn attempt(app: &TestApp, op: Op, token: &str) -> (bool, Value) {
    let q = |query: &'static str, vars: Value| async move { app.gql(token, query, vars).await };
    let body = match op {
        Op::CreateCommunity => q("mutation($c: String!) { createCommunity(input: {code: $c, nameTh: \"x\", provinceCode: \"TH-10\"}) { id } }", json!({ "c": unique("C") })).await,
        Op::UpdateCommunity => {
            let id = app.id_of("community", "DEMO-012").await;
            let v = version(app, "community", &id).await;
            q("mutation($id: ID!, $v: Int!) { updateCommunity(input: {id: $id, expectedVersion: $v, description: \"checked\"}) { id } }", json!({ "id": id, "v": v })).await
        }
        Op::ClassifyCommunity => {
            let id = app.id_of("community", "DEMO-013").await;
            let v = version(app, "community", &id).await;
            q("mutation($id: ID!, $v: Int!) { classifyCommunity(input: {id: $id, expectedVersion: $v, tier: B}) { id } }", json!({ "id": id, "v": v })).await
        }
        Op::ReadContact => {
            let body = q("{ community(code: \"DEMO-001\") { contact { name } } }", json!({})).await;
            let seen = body["data"]["community"]["contact"]["name"].is_string();
            return (seen && succeeded(&body), body);
        }
        Op::CreateMou => {
            let me = app.gql(token, "{ viewer { organization { code } } }", json!({})).await;
            let org = me["data"]["viewer"]["organization"]["code"].as_str().unwrap_or("FOUNDATION").to_owned();
            let other = if org == "CDD" { "GSB" } else { "CDD" };
            q("mutation($c: String!, $p: [MouPartyInput!]!) { createMou(input: {code: $c, titleTh: \"x\", parties: $p}) { id } }",
                json!({ "c": unique("MOU"), "p": [{ "organizationCode": org, "role": "LEAD" }, { "organizationCode": other, "role": "PARTNER" }] })).await
        }
        Op::UpdateDraftMou => {
            let id = app.id_of("mou", "MOU-ENERGY").await;
            let v = version(app, "mou", &id).await;
            q("mutation($id: ID!, $v: Int!) { updateMou(input: {id: $id, expectedVersion: $v, purpose: \"checked\"}) { id } }", json!({ "id": id, "v": v })).await
        }
        Op::SignMou => {
            let admin = app.full("FOUNDATION");
            let parties = json!([{ "organizationCode": "FOUNDATION", "role": "LEAD" }, { "organizationCode": "CDD", "role": "PARTNER" }, { "organizationCode": "GSB", "role": "WITNESS" }]);
            let m = app.ok(&admin, "mutation($c: String!, $p: [MouPartyInput!]!) { createMou(input: {code: $c, titleTh: \"x\", parties: $p}) { id } }", json!({ "c": unique("SIGN"), "p": parties })).await;
            let id = m["createMou"]["id"].as_str().unwrap_or_default().to_owned();
            app.ok(&admin, "mutation($id: ID!) { updateMou(input: {id: $id, expectedVersion: 1, status: NEGOTIATING}) { id } }", json!({ "id": id })).await;
            q("mutation($id: ID!) { signMou(input: {id: $id, expectedVersion: 2}) { id } }", json!({ "id": id })).await
        }
        Op::CreateCommitment => {
            let mou = app.id_of("mou", "MOU-TOURISM-2020").await;
            q("mutation($m: ID!) { createCommitment(input: {mouId: $m, description: \"x\", ownerCode: \"FOUNDATION\"}) { id } }", json!({ "m": mou })).await
        }
        Op::UpdateCommitment => {
            let mou = app.id_of("mou", "MOU-TOURISM-2020").await;
            let c = app.ok(&app.full("FOUNDATION"), "mutation($m: ID!) { createCommitment(input: {mouId: $m, description: \"x\", ownerCode: \"CDD\"}) { id } }", json!({ "m": mou })).await;
            let id = c["createCommitment"]["id"].clone();
            q("mutation($id: ID!) { updateCommitment(input: {id: $id, expectedVersion: 1, status: DONE}) { id } }", json!({ "id": id })).await
        }
        Op::ReadDraftMou => {
            let body = q("{ mou(code: \"MOU-ENERGY\") { code } }", json!({})).await;
            return (body["data"]["mou"]["code"].is_string(), body);
        }
        Op::ReadDraftMouByNode => {
            let id = app.id_of("mou", "MOU-ENERGY").await;
            let body = q("query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
            return (body["data"]["node"]["id"].is_string(), body);
        }
        Op::ReadDraftMouNested => {
            let body = q("{ programme(code: \"PRG-ENERGY\") { mou { code } } }", json!({})).await;
            return (body["data"]["programme"]["mou"]["code"].is_string(), body);
        }
        Op::ReadDraftCommitmentByNodes => {
            let data = app.ok(&app.full("FOUNDATION"), "{ mou(code: \"MOU-ENERGY\") { commitments { id } } }", json!({})).await;
            let id = data["mou"]["commitments"][0]["id"].clone();
            let body = q("query($id: ID!) { nodes(ids: [$id]) { id } }", json!({ "id": id })).await;
            return (body["data"]["nodes"][0]["id"].is_string(), body);
        }
        Op::ReadDraftMouChanges => {
            let id = app.id_of("mou", "MOU-ENERGY").await;
            let body = q("{ changes(first: 100, entityTypes: [\"Mou\"]) { nodes { entityId } } }", json!({})).await;
            let seen = body["data"]["changes"]["nodes"].as_array().into_iter().flatten().any(|n| n["entityId"] == json!(id));
            return (seen, body);
        }
        Op::CreateProgramme => q("mutation($c: String!) { createProgramme(input: {code: $c, nameTh: \"x\", theme: COMMUNITY_FINANCE}) { id } }", json!({ "c": unique("P") })).await,
        Op::UpdateProgramme => {
            let id = app.id_of("programme", "PRG-TOURISM-C").await;
            let v = version(app, "programme", &id).await;
            q("mutation($id: ID!, $v: Int!) { updateProgramme(input: {id: $id, expectedVersion: $v, nameEn: $id}) { id } }", json!({ "id": id, "v": v })).await
        }
        Op::CreateCurriculum => q("mutation($c: String!) { createCurriculum(input: {code: $c, titleTh: \"x\", kind: CORE, focusAreas: [RISK_MANAGEMENT]}) { id } }", json!({ "c": unique("K") })).await,
        Op::UpdateCurriculum => {
            let id = app.id_of("curriculum", "CUR-SAVINGS-ALT").await;
            let v = version(app, "curriculum", &id).await;
            q("mutation($id: ID!, $v: Int!) { updateCurriculum(input: {id: $id, expectedVersion: $v, titleEn: $id}) { id } }", json!({ "id": id, "v": v })).await
        }
        Op::Nominate => {
            let admin = app.full("CDD");
            let c = app.ok(&admin, "mutation($c: String!) { createCommunity(input: {code: $c, nameTh: \"x\", provinceCode: \"TH-57\"}) { id } }", json!({ "c": unique("N") })).await;
            let community = c["createCommunity"]["id"].clone();
            app.ok(&admin, "mutation($id: ID!) { classifyCommunity(input: {id: $id, expectedVersion: 1, tier: C}) { id } }", json!({ "id": community })).await;
            let programme = app.id_of("programme", "PRG-TOURISM-C").await;
            q("mutation($p: ID!, $c: ID!) { nominateCommunity(input: {programmeId: $p, communityId: $c}) { id } }", json!({ "p": programme, "c": community })).await
        }
        Op::AcceptEnrolment => {
            let id = nominate(app, "CDD", "PRG-FINANCE").await;
            q("mutation($id: ID!) { transitionEnrolment(input: {id: $id, expectedVersion: 1, to: ENROLLED}) { id } }", json!({ "id": id })).await
        }
        Op::WithdrawEnrolment => {
            let id = nominate(app, "CDD", "PRG-FINANCE").await;
            app.ok(&app.full("FOUNDATION"), "mutation($id: ID!) { transitionEnrolment(input: {id: $id, expectedVersion: 1, to: ENROLLED}) { id } }", json!({ "id": id })).await;
            q("mutation($id: ID!) { transitionEnrolment(input: {id: $id, expectedVersion: 2, to: WITHDRAWN}) { id } }", json!({ "id": id })).await
        }
        Op::CreateWebhook => {
            let url = black_box_tests::receiver::Receiver::start().await.url;
            q("mutation($u: String!) { createWebhookSubscription(input: {url: $u}) { subscription { id } } }", json!({ "u": url })).await
        }
        Op::WebhookDraftMouEvents => return webhook_draft_mou_events(app, token).await,
        Op::ManageTrustedDocuments => {
            let document = format!("query Matrix{} {{ __typename }}", unique("Q").replace('-', "_"));
            q("mutation($d: String!) { registerTrustedDocuments(input: {document: $d}) { alreadyRegistered } }", json!({ "d": document })).await
        }
        Op::AdhocWhileEnforced => {
            let me = app.gql(token, "{ viewer { organization { code } } }", json!({})).await;
            let org = me["data"]["viewer"]["organization"]["code"].as_str().unwrap_or("FOUNDATION").to_owned();
            let mode = "mutation($m: TrustedDocumentMode!) { setOperationPolicy(input: {mode: $m}) { mode } }";
            let admin = app.token(&org, &["operations:manage"]);
            app.ok(&admin, mode, json!({ "m": "ENFORCE" })).await;
            let body = q("query Unregistered { viewer { organization { code } } }", json!({})).await;
            app.ok(&admin, mode, json!({ "m": "OFF" })).await;
            body
        }
        Op::EraseContact => {
            let created = app
                .ok(
                    &app.full("CDD"),
                    "mutation($c: String!) { createCommunity(input: {code: $c, nameTh: \"x\", provinceCode: \"TH-10\", contact: {name: \"n\"}}) { id } }",
                    json!({ "c": unique("E") }),
                )
                .await;
            let id = created["createCommunity"]["id"].clone();
            q("mutation($id: ID!) { eraseContact(input: {id: $id, expectedVersion: 1}) { id } }", json!({ "id": id })).await
        }
        Op::ReadPiiAccessLog => q("{ piiAccessLog(first: 1) { totalCount } auditPurges { deleted } }", json!({})).await,
        Op::StartExport => {
            let body = q(
                "mutation { startExport(input: {query: \"{ communities { nodes { code } } }\"}) { id } }",
                json!({}),
            )
            .await;
            // One export per organisation at a time: end it for the next attempt.
            if let Some(id) = body["data"]["startExport"]["id"].as_str() {
                q("mutation($id: ID!) { cancelExport(id: $id) { id } }", json!({ "id": id })).await;
            }
            body
        }
    };
    (succeeded(&body), body)
}

/// The feed position in a change-feed cursor (tests may look inside).
fn position(cursor: &Value) -> i64 {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.as_str().unwrap_or_default())
        .unwrap_or_default();
    serde_json::from_slice::<Value>(&bytes).map(|v| v["i"].as_i64().unwrap_or(0)).unwrap_or(0)
}

/// Subscribes with `token`, changes the draft MOU-ENERGY, waits until the
/// subscription has handled that event, and says whether it was delivered.
async fn webhook_draft_mou_events(app: &TestApp, token: &str) -> (bool, Value) {
    let receiver = black_box_tests::receiver::Receiver::start().await;
    let created = app
        .gql(
            token,
            "mutation($u: String!) { createWebhookSubscription(input: {url: $u}) { subscription { id } } }",
            json!({ "u": receiver.url }),
        )
        .await;
    let Some(sub) = created["data"]["createWebhookSubscription"]["subscription"]["id"].as_str().map(str::to_owned)
    else {
        return (false, created);
    };
    let admin = app.full("FOUNDATION");
    let mou = app.id_of("mou", "MOU-ENERGY").await;
    let v = version(app, "mou", &mou).await;
    app.ok(
        &admin,
        "mutation($id: ID!, $v: Int!, $p: String) { updateMou(input: {id: $id, expectedVersion: $v, purpose: $p}) { id } }",
        // A purpose of its own each time, so every cell makes a change (and an event).
        json!({ "id": mou, "v": v, "p": unique("purpose") }),
    )
    .await;
    app.settle_feed().await;
    let history = app
        .ok(
            &admin,
            "query($id: ID) { changes(entityId: $id, first: 100) { pageInfo { endCursor } } }",
            json!({ "id": mou }),
        )
        .await;
    let event = position(&history["changes"]["pageInfo"]["endCursor"]);
    let started = std::time::Instant::now();
    loop {
        let state =
            app.ok(token, "query($id: ID!) { webhookSubscription(id: $id) { cursor } }", json!({ "id": sub })).await;
        if position(&state["webhookSubscription"]["cursor"]) >= event {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "the subscription never caught up: {state}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let delivered = receiver.received().await.iter().any(|r| r.json()["data"]["event"]["entityId"] == json!(mou));
    (delivered, json!({ "delivered": delivered }))
}

async fn run_matrix(app: TestApp) {
    let mut failures = Vec::new();
    let mut cells = 0;
    for row in TABLE {
        for org in ORGS {
            for (set_name, scopes) in scope_sets(row) {
                let token = app.token(org, &scopes);
                let expected = row.allowed.contains(&org) && row.needs.iter().all(|n| scopes.contains(n));
                let (allowed, body) = attempt(&app, row.op, &token).await;
                cells += 1;
                assert!(!internal(&body), "{} by {org} with {set_name}: {body}", row.what);
                // A refusal is an access refusal, not some other failure.
                let codes: Vec<&str> = body["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["extensions"]["code"].as_str())
                    .collect();
                if !allowed
                    && codes.iter().any(|c| !matches!(*c, "FORBIDDEN" | "NOT_FOUND" | "PERSISTED_QUERY_NOT_IN_LIST"))
                {
                    failures.push(format!("{} by {org} with {set_name}: refused with {codes:?}: {body}", row.what));
                }
                if allowed != expected {
                    failures.push(format!(
                        "{} by {org} with {set_name}: expected {}, got {} ({body})",
                        row.what,
                        if expected { "allow" } else { "deny" },
                        if allowed { "allow" } else { "deny" }
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {cells} cells disagree:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_matrix_sqlite() {
    run_matrix(TestApp::spawn(Backend::Sqlite).await.expect("sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_matrix_postgres() {
    if let Some(app) = TestApp::spawn(Backend::Postgres).await {
        run_matrix(app).await;
    }
}

/// Renders the table as `docs/access.md`.
fn render() -> String {
    let mut out = String::from(
        "# Who may do what\n\n\
         Generated from the access-matrix table in `tests/http/matrix.rs`; a test\n\
         fails when this file and the table differ (`UPDATE_DOCS=1 cargo test -p black-box-tests access_doc`\n\
         rewrites it). Every row is run through the real endpoint for each demo\n\
         partner with four scope sets (every scope, only the row's scopes, read\n\
         scopes only, all but the row's scopes): it is allowed exactly when the\n\
         token holds the scopes and the partner passes the row rule.\n\n\
         Tokens come from trusted issuers, each of which may speak only for its\n\
         organisations and grant at most its listed scopes (see the README).\n\n\
         | operation | scopes needed | row rule | demo partners allowed |\n| --- | --- | --- | --- |\n",
    );
    for row in TABLE {
        let needs: Vec<String> = row.needs.iter().map(|s| format!("`{s}`")).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            row.what,
            needs.join(" + "),
            row.rule,
            row.allowed.join(", ")
        ));
    }
    out.push_str(
        "\nEvery read also needs the record type's `*:read` scope wherever the record\n\
         is reached: a root query, `node`/`nodes`, or a nested field. A missing scope\n\
         gives `null` with a `FORBIDDEN` error at that path; a record hidden by a row\n\
         rule (a DRAFT or NEGOTIATING MOU, and its commitments and change events, for\n\
         non-parties) is simply `null`, as if it did not exist.\n",
    );
    out
}

#[test]
fn access_doc_matches_the_matrix() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/access.md");
    let rendered = render();
    if std::env::var("UPDATE_DOCS").is_ok() {
        std::fs::write(path, &rendered).expect("write docs/access.md");
    }
    let current = std::fs::read_to_string(path).unwrap_or_default();
    assert!(current == rendered, "docs/access.md is stale: run UPDATE_DOCS=1 cargo test -p black-box-tests access_doc");
}
