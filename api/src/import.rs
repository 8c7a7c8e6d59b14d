//! `api import communities FILE.csv`: CDD's classified community list.
//!
//! Columns: `code,name_th,name_en,province,district,subdistrict,village_no,households,tier`
//! (a header row first; `tier` A–D or empty). Every row is validated with the
//! API's own rules; bad rows are reported with their line numbers. With any
//! bad row nothing is imported, unless `skip_invalid` is set. Re-running is
//! idempotent: rows update the community with the same code (raising its
//! `version` and writing change events) only where something changed.
//! Everything is written in one transaction, through the same use-case
//! functions as the API (`store::communities::create_many_in` and
//! `update_many_in`), a batch of rows at a time.

use std::collections::HashMap;
use std::path::Path;

use entity::{community, province};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::domain::access::{Actor, Scope};
use crate::domain::commands::{CommunityChanges, NewCommunity};
use crate::domain::enums::TourismTier;
use crate::domain::text::{self, limits};
use crate::store::{Store, communities};

/// One validated row: the community it describes.
type Row = NewCommunity;

/// The caller an import writes as: organisation `org_code` (row id
/// `org_id`), with the rights of a system that creates and classifies
/// communities, named `import:<file name>` in the change feed.
pub fn importer(org_id: i64, org_code: &str, file: &Path) -> Actor {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Actor {
        org_id,
        org_code: org_code.to_owned(),
        subject: format!("import:{name}"),
        scopes: [Scope::CommunitiesWrite, Scope::CommunitiesClassify].into(),
        expires_at: chrono::Utc::now(),
        issuer: "cli".into(),
    }
}

/// Rows written per batch (one query reads a batch's stored communities).
const BATCH: usize = 500;

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
        province_code: province,
        district: text::optional("district", Some(get(4)), limits::PLACE).map_err(e)?,
        subdistrict: text::optional("subdistrict", Some(get(5)), limits::PLACE).map_err(e)?,
        village_no: number("village_no", get(6))?,
        households: number("households", get(7))?,
        description: None,
        contact: None,
        awards: Vec::new(),
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
    let fail = |e: crate::error::AppError| ImportError(e.message());
    let tx = store.begin_write().await.map_err(fail)?;
    // Read every stored community the file names before writing any: a
    // lookup by code after inserts in the same transaction would be planned
    // on stale statistics (PostgreSQL) and scan the growing table.
    let mut existing: HashMap<String, community::Model> = HashMap::new();
    for chunk in rows.chunks(BATCH) {
        let codes: Vec<String> = chunk.iter().map(|r| r.code.clone()).collect();
        for m in community::Entity::find().filter(community::Column::Code.is_in(codes)).all(&tx).await.map_err(db)? {
            existing.insert(m.code.clone(), m);
        }
    }
    let total = rows.len() as u64;
    let mut done = 0;
    for chunk in rows.chunks(BATCH) {
        let (old, new): (Vec<&Row>, Vec<&Row>) = chunk.iter().partition(|r| existing.contains_key(&r.code));
        let new: Vec<Row> = new.into_iter().cloned().collect();
        report.created += communities::create_many_in(&tx, actor, &new).await.map_err(fail)?.len();
        let changes: Vec<(community::Model, CommunityChanges)> = old
            .into_iter()
            .filter_map(|row| existing.remove(&row.code).map(|cur| (changes_of(cur.id, row), cur)))
            .map(|(changes, cur)| (cur, changes))
            .collect();
        for fields in communities::update_rows_in(&tx, actor, &changes).await.map_err(fail)? {
            if fields.is_empty() {
                report.unchanged += 1;
            } else {
                report.updated += 1;
            }
        }
        done += chunk.len() as u64;
        progress(done, total);
    }
    tx.commit().await.map_err(db)?;
    // Number the import's events now, whether or not a service runs.
    crate::feed::sequencer::drain(&store.db).await.map_err(db)?;
    report.written = true;
    Ok(report)
}

/// The changes a row asks of the stored community `id`: every column of
/// the file, an empty cell clearing its field.
fn changes_of(id: i64, row: &Row) -> CommunityChanges {
    CommunityChanges {
        id,
        expected_version: None,
        name_th: Some(row.name_th.clone()),
        name_en: Some(row.name_en.clone()),
        province_code: Some(row.province_code.clone()),
        district: Some(row.district.clone()),
        subdistrict: Some(row.subdistrict.clone()),
        village_no: Some(row.village_no),
        households: Some(row.households),
        tier: Some(row.tier),
        ..CommunityChanges::default()
    }
}
