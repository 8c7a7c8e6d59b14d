//! The access rules in SQL agree with the same rules in Rust.
//!
//! `domain::access` states who may read what as data ([`access::read_rule`],
//! [`access::MOU_VISIBLE`]); `store::rules` translates that data into the SQL
//! of list reads and the change feed. These property tests generate MOU
//! states, parties, callers and scopes, write them into a real database
//! (SQLite and PostgreSQL), and check that the SQL filters select exactly the
//! rows the Rust rules admit.

use std::collections::{BTreeSet, HashMap};

use api::domain::access::{self, Actor, MouFacts, Scope};
use api::domain::enums::{ChangeOperation, CommitmentStatus, MouStatus, PartyRole};
use api::domain::ids::Kind;
use api::store::{changes, connect, mous};
use black_box_tests::{Backend, postgres_schema, postgres_url, settings};
use chrono::Utc;
use entity::{change_event, commitment, mou, mou_party};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

/// The partner organisations the migrations create (ids 1–4); 5 is an
/// organisation that is party to nothing.
const ORGS: std::ops::RangeInclusive<i64> = 1..=5;

/// One generated MOU: its status and its parties with their roles.
#[derive(Clone, Debug)]
struct MouCase {
    status: MouStatus,
    parties: Vec<(i64, PartyRole)>,
}

/// One generated case: some MOUs, a caller and its scopes.
#[derive(Clone, Debug)]
struct Case {
    mous: Vec<MouCase>,
    org: i64,
    scopes: BTreeSet<Scope>,
}

fn mou_case() -> impl Strategy<Value = MouCase> {
    let status =
        prop::sample::select(vec![MouStatus::Draft, MouStatus::Negotiating, MouStatus::Signed, MouStatus::Terminated]);
    let role = prop::sample::select(vec![PartyRole::Lead, PartyRole::Partner, PartyRole::Witness]);
    // Parties among the four partners (organisation 5 is never a party).
    let parties = prop::collection::btree_map(1i64..=4, role, 0..=4).prop_map(|m| m.into_iter().collect());
    (status, parties).prop_map(|(status, parties)| MouCase { status, parties })
}

fn case() -> impl Strategy<Value = Case> {
    let scopes = prop::sample::subsequence(Scope::ALL.to_vec(), 0..=Scope::ALL.len()).prop_map(BTreeSet::from_iter);
    (prop::collection::vec(mou_case(), 1..6), ORGS, scopes).prop_map(|(mous, org, scopes)| Case { mous, org, scopes })
}

fn actor(case: &Case) -> Actor {
    Actor {
        org_id: case.org,
        org_code: format!("ORG{}", case.org),
        subject: "rules-test".into(),
        scopes: case.scopes.clone(),
        expires_at: Utc::now(),
        issuer: "rules-test".into(),
    }
}

/// The rows one case wrote: MOU id → facts, commitment id → MOU id, and the
/// change events (id → record type and the facts of its MOU, if bound to one).
struct Written {
    mous: HashMap<i64, MouFacts>,
    events: HashMap<i64, (Kind, Option<MouFacts>)>,
}

async fn write(db: &DatabaseConnection, case: &Case, serial: u64) -> Written {
    let now = Utc::now();
    let mut written = Written { mous: HashMap::new(), events: HashMap::new() };
    let event = |kind: Kind, id: i64| change_event::ActiveModel {
        at: Set(now),
        operation: Set(ChangeOperation::Created),
        entity_type: Set(kind.name().into()),
        entity_id: Set(id),
        actor_org_id: Set(1),
        subject: Set("rules-test".into()),
        changed_fields: Set("*".into()),
        ..Default::default()
    };
    for (n, m) in case.mous.iter().enumerate() {
        let row = mou::ActiveModel {
            code: Set(format!("RULES-{serial}-{n}")),
            title_th: Set("ทดสอบ".into()),
            status: Set(m.status),
            created_by: Set(1),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert MOU");
        for (position, (org, role)) in m.parties.iter().enumerate() {
            mou_party::ActiveModel {
                mou_id: Set(row.id),
                organization_id: Set(*org),
                role: Set(*role),
                position: Set(position as i32),
                signed_at: Set(None),
            }
            .insert(db)
            .await
            .expect("insert party");
        }
        let c = commitment::ActiveModel {
            mou_id: Set(row.id),
            description: Set("ทดสอบ".into()),
            owner_id: Set(1),
            status: Set(CommitmentStatus::Open),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert commitment");
        let facts = MouFacts { status: m.status, parties: m.parties.clone() };
        for (kind, id) in [(Kind::Mou, row.id), (Kind::Commitment, c.id)] {
            let e = event(kind, id).insert(db).await.expect("insert event");
            written.events.insert(e.id, (kind, Some(facts.clone())));
        }
        written.mous.insert(row.id, facts);
    }
    // One event of every record type that is not bound to an MOU.
    for kind in Kind::ALL.into_iter().filter(|k| k.in_feed() && !matches!(k, Kind::Mou | Kind::Commitment)) {
        let e = event(kind, 1).insert(db).await.expect("insert event");
        written.events.insert(e.id, (kind, None));
    }
    written
}

async fn check(db: &DatabaseConnection, case: &Case, serial: u64) -> Result<(), TestCaseError> {
    let written = write(db, case, serial).await;
    let actor = actor(case);

    // The MOU list: the SQL filter against `access::mou_visible`.
    let ids: Vec<i64> = written.mous.keys().copied().collect();
    let listed: BTreeSet<i64> = mous::filtered(&actor, &mous::Filter::default())
        .expect("filter")
        .filter(mou::Column::Id.is_in(ids))
        .all(db)
        .await
        .expect("list MOUs")
        .into_iter()
        .map(|m| m.id)
        .collect();
    let allowed: BTreeSet<i64> =
        written.mous.iter().filter(|(_, facts)| access::mou_visible(&actor, facts)).map(|(id, _)| *id).collect();
    prop_assert_eq!(listed, allowed, "MOU list for {:?}", case);

    // The change feed: the SQL filter against `ReadRule::allows` per record type.
    let ids: Vec<i64> = written.events.keys().copied().collect();
    let readable: BTreeSet<i64> = change_event::Entity::find()
        .filter(changes::readable(&actor))
        .filter(change_event::Column::Id.is_in(ids))
        .all(db)
        .await
        .expect("read the feed")
        .into_iter()
        .map(|e| e.id)
        .collect();
    let allowed: BTreeSet<i64> = written
        .events
        .iter()
        .filter(|(_, (kind, facts))| access::read_rule(*kind).allows(&actor, facts.as_ref()))
        .map(|(id, _)| *id)
        .collect();
    prop_assert_eq!(readable, allowed, "change feed for {:?}", case);
    Ok(())
}

fn agree_on(backend: Backend) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let Some(db) = rt.block_on(async {
        let settings = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join("partner-records-tests");
                std::fs::create_dir_all(&dir).expect("temp dir");
                settings(
                    format!("sqlite://{}?mode=rwc", dir.join(format!("rules-{}.db", uuid::Uuid::new_v4())).display()),
                    None,
                )
            }
            Backend::Postgres => settings(postgres_url(), Some(postgres_schema().await?)),
        };
        let db = connect::connect(&settings).await.expect("connect");
        connect::migrate(&db).await.expect("migrate");
        Some(db)
    }) else {
        return;
    };
    let serial = std::cell::Cell::new(0u64);
    let mut runner = TestRunner::new(Config { cases: 64, failure_persistence: None, ..Config::default() });
    runner
        .run(&case(), |case| {
            serial.set(serial.get() + 1);
            rt.block_on(check(&db, &case, serial.get()))
        })
        .expect("the SQL filters and the Rust rules agree");
}

#[test]
fn mou_visibility_and_the_feed_filter_agree_with_the_rust_rules_on_sqlite() {
    agree_on(Backend::Sqlite);
}

#[test]
fn mou_visibility_and_the_feed_filter_agree_with_the_rust_rules_on_postgres() {
    agree_on(Backend::Postgres);
}
