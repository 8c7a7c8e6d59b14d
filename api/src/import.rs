//! `api import communities FILE.csv`: CDD's classified community list.
//!
//! Columns: `code,name_th,name_en,province,district,subdistrict,village_no,households,tier`
//! (a header row first; `tier` A–D or empty). Every row is validated with the
//! API's own rules; bad rows are reported with their line numbers. With any
//! bad row nothing is imported, unless `skip_invalid` is set. Re-running is
//! idempotent: rows update the community with the same code (raising its
//! `version` and writing change events) only where something changed.
//! Everything is written in one transaction.

use std::collections::HashMap;
use std::path::Path;

use entity::{community, province};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, ExprTrait, QueryFilter};

use crate::domain::access::Actor;
use crate::domain::enums::{ChangeOperation, TourismTier};
use crate::domain::ids::Kind;
use crate::domain::text::{self, limits};
use crate::store::{Store, changes, now};

/// One validated row.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    code: String,
    name_th: String,
    name_en: Option<String>,
    province: String,
    district: Option<String>,
    subdistrict: Option<String>,
    village_no: Option<i32>,
    households: Option<i32>,
    tier: Option<TourismTier>,
}

/// A row that failed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    /// The line in the file (the header is line 1).
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Rows read (without the header).
    pub rows: usize,
    /// Communities created.
    pub created: usize,
    /// Communities changed.
    pub updated: usize,
    /// Rows that matched the stored community exactly.
    pub unchanged: usize,
    /// Rows refused, with line numbers.
    pub bad: Vec<BadRow>,
    /// Whether anything was written.
    pub written: bool,
}

/// A failure of the import as a whole.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ImportError(pub String);

const COLUMNS: [&str; 9] =
    ["code", "name_th", "name_en", "province", "district", "subdistrict", "village_no", "households", "tier"];

fn number(field: &str, value: &str) -> Result<Option<i32>, String> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    let n: i32 = value.trim().parse().map_err(|_| format!("{field} is not a whole number: {value}"))?;
    text::non_negative(field, Some(n)).map_err(|e| e.message())
}

fn validate(record: &csv::StringRecord, provinces: &HashMap<String, ()>) -> Result<Row, String> {
    let get = |i: usize| record.get(i).unwrap_or("");
    let e = |err: crate::error::AppError| err.message();
    let province = get(3).trim().to_uppercase();
    if !provinces.contains_key(&province) {
        return Err(format!("province {province:?} is not a Thai province code (e.g. TH-57)"));
    }
    let tier = match get(8).trim() {
        "" => None,
        "A" | "a" => Some(TourismTier::A),
        "B" | "b" => Some(TourismTier::B),
        "C" | "c" => Some(TourismTier::C),
        "D" | "d" => Some(TourismTier::D),
        other => return Err(format!("tier must be A, B, C, D or empty, not {other:?}")),
    };
    Ok(Row {
        code: text::code("code", get(0)).map_err(e)?,
        name_th: text::required("name_th", get(1), limits::NAME).map_err(e)?,
        name_en: text::optional("name_en", Some(get(2)), limits::NAME).map_err(e)?,
        province,
        district: text::optional("district", Some(get(4)), limits::PLACE).map_err(e)?,
        subdistrict: text::optional("subdistrict", Some(get(5)), limits::PLACE).map_err(e)?,
        village_no: number("village_no", get(6))?,
        households: number("households", get(7))?,
        tier,
    })
}

/// Reads and validates the file: the good rows and the bad ones.
fn read(path: &Path, provinces: &HashMap<String, ()>) -> Result<(Vec<Row>, Vec<BadRow>, usize), ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|e| ImportError(format!("cannot read {}: {e}", path.display())))?;
    let headers = reader.headers().map_err(|e| ImportError(format!("bad header: {e}")))?.clone();
    let names: Vec<&str> = headers.iter().map(str::trim).collect();
    if names != COLUMNS {
        return Err(ImportError(format!("the header must be: {}", COLUMNS.join(","))));
    }
    let (mut good, mut bad, mut rows) = (Vec::new(), Vec::new(), 0);
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (index, record) in reader.records().enumerate() {
        rows += 1;
        let line = index as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                bad.push(BadRow { line, reason: format!("unreadable: {e}") });
                continue;
            }
        };
        if record.len() != COLUMNS.len() {
            bad.push(BadRow { line, reason: format!("{} columns; expected {}", record.len(), COLUMNS.len()) });
            continue;
        }
        match validate(&record, provinces) {
            Ok(row) => {
                if let Some(first) = seen.insert(row.code.clone(), line) {
                    bad.push(BadRow { line, reason: format!("code {} already appears on line {first}", row.code) });
                } else {
                    good.push(row);
                }
            }
            Err(reason) => bad.push(BadRow { line, reason }),
        }
    }
    Ok((good, bad, rows))
}

/// Imports `path` as `actor`. `progress` is told the row count, then each row.
pub async fn communities(
    store: &Store,
    actor: &Actor,
    path: &Path,
    skip_invalid: bool,
    progress: &dyn Fn(u64, u64),
) -> Result<Report, ImportError> {
    let db = |e: sea_orm::DbErr| ImportError(format!("database error: {e}"));
    let provinces: HashMap<String, ()> =
        province::Entity::find().all(&store.db).await.map_err(db)?.into_iter().map(|p| (p.code, ())).collect();
    let (rows, bad, count) = read(path, &provinces)?;
    let mut report = Report { rows: count, bad, ..Default::default() };
    if !report.bad.is_empty() && !skip_invalid {
        return Ok(report);
    }
    let tx = store.begin_write().await.map_err(|e| ImportError(e.message()))?;
    let mut existing: HashMap<String, community::Model> = HashMap::new();
    for chunk in rows.chunks(500) {
        let codes: Vec<String> = chunk.iter().map(|r| r.code.clone()).collect();
        for m in community::Entity::find().filter(community::Column::Code.is_in(codes)).all(&tx).await.map_err(db)? {
            existing.insert(m.code.clone(), m);
        }
    }
    let total = rows.len() as u64;
    // Events are written after every row, as mutations write theirs last:
    // on PostgreSQL the first event takes the feed's ordering lock until commit.
    let mut events: Vec<(ChangeOperation, i64, String)> = Vec::with_capacity(rows.len());
    for (done, row) in rows.into_iter().enumerate() {
        progress(done as u64 + 1, total);
        let at = now();
        let tier = row.tier;
        match existing.get(&row.code) {
            None => {
                let created = community::ActiveModel {
                    code: Set(row.code),
                    name_th: Set(row.name_th),
                    name_en: Set(row.name_en),
                    province_code: Set(row.province),
                    district: Set(row.district),
                    subdistrict: Set(row.subdistrict),
                    village_no: Set(row.village_no),
                    households: Set(row.households),
                    tourism_tier: Set(tier),
                    tier_assessed_by: Set(tier.as_ref().map(|_| actor.org_id)),
                    tier_assessed_at: Set(tier.as_ref().map(|_| at)),
                    created_by: Set(actor.org_id),
                    version: Set(1),
                    created_at: Set(at),
                    updated_at: Set(at),
                    ..Default::default()
                }
                .insert(&tx)
                .await
                .map_err(db)?;
                events.push((ChangeOperation::Created, created.id, "*".to_owned()));
                report.created += 1;
            }
            Some(cur) => {
                let mut fields = Vec::new();
                let mut am = <community::ActiveModel as Default>::default();
                macro_rules! set {
                    ($field:ident, $name:literal, $value:expr) => {
                        if cur.$field != $value {
                            fields.push($name);
                            am.$field = Set($value);
                        }
                    };
                }
                set!(name_th, "nameTh", row.name_th);
                set!(name_en, "nameEn", row.name_en);
                set!(province_code, "province", row.province);
                set!(district, "district", row.district);
                set!(subdistrict, "subdistrict", row.subdistrict);
                set!(village_no, "villageNo", row.village_no);
                set!(households, "households", row.households);
                if cur.tourism_tier != tier {
                    fields.extend(["tourismTier", "tierAssessedBy", "tierAssessedAt"]);
                    am.tourism_tier = Set(tier);
                    am.tier_assessed_by = Set(tier.as_ref().map(|_| actor.org_id));
                    am.tier_assessed_at = Set(tier.as_ref().map(|_| at));
                }
                if fields.is_empty() {
                    report.unchanged += 1;
                    continue;
                }
                am.updated_at = Set(at);
                community::Entity::update_many()
                    .set(am)
                    .col_expr(community::Column::Version, Expr::col(community::Column::Version).add(1))
                    .filter(community::Column::Id.eq(cur.id))
                    .exec(&tx)
                    .await
                    .map_err(db)?;
                fields.sort_unstable();
                events.push((ChangeOperation::Updated, cur.id, fields.join(" ")));
                report.updated += 1;
            }
        }
    }
    for (operation, id, fields) in events {
        changes::insert(&tx, operation, Kind::Community.name(), id, actor.org_id, &actor.subject, &fields)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    // Number the import's events now, whether or not a service runs.
    crate::feed::sequencer::drain(&store.db).await.map_err(db)?;
    report.written = true;
    Ok(report)
}
