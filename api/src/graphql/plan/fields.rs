//! The column fields the planner answers from rows, per GraphQL type: each
//! is the value its resolver returns, converted as the schema converts it
//! (ids encoded, enums by their GraphQL names, times and dates by their
//! scalars). A field not listed here is not planned. A level reads only the
//! columns its fields name, and decodes them by position.

use async_graphql::{ScalarType, Value};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sqlx::Row as _;
use sea_orm::sqlx::postgres::PgRow;

use crate::domain::ids::{self, Kind};
use crate::graphql::date::Date;

fn time(t: &DateTime<Utc>) -> Value {
    t.to_value()
}

fn date(d: Option<NaiveDate>) -> Value {
    d.map_or(Value::Null, |d| Date(d).to_value())
}

/// How a column's value becomes its field's value (SQL NULL is null).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Decode {
    /// A row id, as the global id of its kind.
    Id(Kind),
    Text,
    Int,
    Time,
    Date,
    /// A stored vocabulary name, which is its GraphQL enum name.
    Enum,
}

/// A column a field reads, in a level read column by column.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub decode: Decode,
}

const fn column(name: &'static str, decode: Decode) -> Option<Column> {
    Some(Column { name, decode })
}

/// The value of column `index` of `row`, decoded as `decode` says.
pub fn decode(row: &sea_orm::QueryResult, index: usize, decode: Decode) -> Result<Value, sea_orm::DbErr> {
    Ok(match decode {
        Decode::Id(kind) => {
            row.try_get_by_index::<Option<i64>>(index)?.map_or(Value::Null, |id| Value::String(ids::encode(kind, id)))
        }
        Decode::Text => row.try_get_by_index::<Option<String>>(index)?.map_or(Value::Null, Value::String),
        Decode::Int => row.try_get_by_index::<Option<i32>>(index)?.map_or(Value::Null, Value::from),
        Decode::Time => row.try_get_by_index::<Option<DateTime<Utc>>>(index)?.as_ref().map_or(Value::Null, time),
        Decode::Date => date(row.try_get_by_index::<Option<NaiveDate>>(index)?),
        Decode::Enum => row
            .try_get_by_index::<Option<String>>(index)?
            .map_or(Value::Null, |name| Value::Enum(async_graphql::Name::new(name))),
    })
}

/// A `bigint` column (a row id), read as [`decode`] reads values.
pub fn id(row: &sea_orm::QueryResult, index: usize) -> Result<Option<i64>, sea_orm::DbErr> {
    match row.try_as_pg_row() {
        Some(pg) => pg.try_get_unchecked::<Option<i64>, _>(index).map_err(|e| sea_orm::DbErr::Type(e.to_string())),
        None => row.try_get_by_index::<Option<i64>>(index),
    }
}

/// Writes column `index` of `row` to `out` as the JSON of its field's
/// value (what [`decode`] gives, serialised).
pub fn write_json(
    row: &sea_orm::QueryResult,
    index: usize,
    decode: Decode,
    out: &mut Vec<u8>,
) -> Result<(), sea_orm::DbErr> {
    match row.try_as_pg_row() {
        Some(pg) => write_pg(pg, index, decode, out).map_err(|e| sea_orm::DbErr::Type(e.to_string())),
        None => {
            let value = self::decode(row, index, decode)?;
            serde_json::to_writer(&mut *out, &value).map_err(|e| sea_orm::DbErr::Type(e.to_string()))
        }
    }
}

/// Writes a value SQLite's `json_array` gave for a column as the JSON of
/// its field's value (an id encoded, the rest as they are); `None` for a
/// value that does not fit `decode` (times and dates are not aggregated).
pub fn write_from_json(value: &serde_json::Value, decode: Decode, out: &mut Vec<u8>) -> Option<()> {
    use serde_json::Value as Json;
    match (decode, value) {
        (_, Json::Null) => out.extend_from_slice(b"null"),
        (Decode::Id(kind), Json::Number(n)) => {
            serde_json::to_writer(&mut *out, &ids::encode(kind, n.as_i64()?)).ok()?
        }
        (Decode::Text | Decode::Enum, Json::String(_)) | (Decode::Int, Json::Number(_)) => {
            serde_json::to_writer(&mut *out, value).ok()?
        }
        _ => return None,
    }
    Some(())
}

/// [`write_json`] on PostgreSQL, straight from the driver's row: the
/// planner names each column's type itself (the tables below, read from
/// the entities' columns), so the driver's per-value type check, the
/// sea-orm wrapper and an owned copy of each text value are skipped. A
/// value of another type than the table says is a decode error, never a
/// wrong answer (the binary formats differ in length or encoding).
fn write_pg(row: &PgRow, index: usize, decode: Decode, out: &mut Vec<u8>) -> Result<(), sea_orm::sqlx::Error> {
    let json = |out: &mut Vec<u8>, value: &Value| {
        let _ = serde_json::to_writer(&mut *out, value);
    };
    let text = |out: &mut Vec<u8>, text: &str| {
        let _ = serde_json::to_writer(&mut *out, text);
    };
    match decode {
        Decode::Id(kind) => match row.try_get_unchecked::<Option<i64>, _>(index)? {
            Some(id) => text(out, &ids::encode(kind, id)),
            None => out.extend_from_slice(b"null"),
        },
        Decode::Text | Decode::Enum => match row.try_get_unchecked::<Option<&str>, _>(index)? {
            Some(t) => text(out, t),
            None => out.extend_from_slice(b"null"),
        },
        Decode::Int => match row.try_get_unchecked::<Option<i32>, _>(index)? {
            Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
            None => out.extend_from_slice(b"null"),
        },
        Decode::Time => {
            json(out, &row.try_get_unchecked::<Option<DateTime<Utc>>, _>(index)?.as_ref().map_or(Value::Null, time))
        }
        Decode::Date => json(out, &date(row.try_get_unchecked::<Option<NaiveDate>, _>(index)?)),
    }
    Ok(())
}

/// `Community`'s column fields.
pub fn community(name: &str) -> Option<Column> {
    match name {
        "id" => column("id", Decode::Id(Kind::Community)),
        "code" => column("code", Decode::Text),
        "nameTh" => column("name_th", Decode::Text),
        "nameEn" => column("name_en", Decode::Text),
        "district" => column("district", Decode::Text),
        "subdistrict" => column("subdistrict", Decode::Text),
        "villageNo" => column("village_no", Decode::Int),
        "households" => column("households", Decode::Int),
        "description" => column("description", Decode::Text),
        "tourismTier" => column("tourism_tier", Decode::Enum),
        "tierAssessedAt" => column("tier_assessed_at", Decode::Time),
        "version" => column("version", Decode::Int),
        "createdAt" => column("created_at", Decode::Time),
        "updatedAt" => column("updated_at", Decode::Time),
        _ => None,
    }
}

/// The column whose null means a community has no contact.
pub const CONTACT_NAME: Column = Column { name: "contact_name", decode: Decode::Text };

/// `Contact`'s fields, from its community's row.
pub fn contact(name: &str) -> Option<Column> {
    match name {
        "name" => Some(CONTACT_NAME),
        "phone" => column("contact_phone", Decode::Text),
        "email" => column("contact_email", Decode::Text),
        _ => None,
    }
}

/// `Enrolment`'s column fields.
pub fn enrolment(name: &str) -> Option<Column> {
    match name {
        "id" => column("id", Decode::Id(Kind::Enrolment)),
        "status" => column("status", Decode::Enum),
        "nominatedAt" => column("nominated_at", Decode::Time),
        "version" => column("version", Decode::Int),
        "updatedAt" => column("updated_at", Decode::Time),
        _ => None,
    }
}

/// `Programme`'s column fields.
pub fn programme(name: &str) -> Option<Column> {
    match name {
        "id" => column("id", Decode::Id(Kind::Programme)),
        "code" => column("code", Decode::Text),
        "nameTh" => column("name_th", Decode::Text),
        "nameEn" => column("name_en", Decode::Text),
        "theme" => column("theme", Decode::Enum),
        "status" => column("status", Decode::Enum),
        "capacity" => column("capacity", Decode::Int),
        "startsOn" => column("starts_on", Decode::Date),
        "endsOn" => column("ends_on", Decode::Date),
        "version" => column("version", Decode::Int),
        _ => None,
    }
}

/// `Mou`'s column fields.
pub fn mou(name: &str) -> Option<Column> {
    match name {
        "id" => column("id", Decode::Id(Kind::Mou)),
        "code" => column("code", Decode::Text),
        "titleTh" => column("title_th", Decode::Text),
        "titleEn" => column("title_en", Decode::Text),
        "purpose" => column("purpose", Decode::Text),
        "status" => column("status", Decode::Enum),
        "signedOn" => column("signed_on", Decode::Date),
        "startsOn" => column("starts_on", Decode::Date),
        "endsOn" => column("ends_on", Decode::Date),
        "version" => column("version", Decode::Int),
        "createdAt" => column("created_at", Decode::Time),
        "updatedAt" => column("updated_at", Decode::Time),
        _ => None,
    }
}
