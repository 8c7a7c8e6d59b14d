//! The `thai` collation: Thai dictionary order, the order a Thai reader
//! expects of names (leading vowels เ แ โ ใ ไ sort by the consonant after
//! them; tone marks weigh only when everything else is equal).
//!
//! PostgreSQL has it from ICU (`CREATE COLLATION thai (provider = icu,
//! locale = 'th-TH')`, made by the migration that indexes names with it).
//! SQLite has no ICU, so every connection the service (or the migration
//! runner) opens registers [`compare`] under the same name, with ICU4X's
//! collator and the same CLDR rules, so `ORDER BY name_th COLLATE thai` means
//! the same on both engines. A database file opened by a tool that does not
//! register it can still be read, but not use or change the indexes built
//! with it.

use std::cmp::Ordering;
use std::sync::LazyLock;

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};
use sea_orm_migration::sea_orm::sqlx::sqlite::SqliteConnectOptions;

/// The collation's name, the same on both engines.
pub const THAI: &str = "thai";

static COLLATOR: LazyLock<CollatorBorrowed<'static>> = LazyLock::new(|| {
    Collator::try_new(icu_locale_core::locale!("th").into(), CollatorOptions::default())
        .expect("the Thai collation is in ICU4X's compiled data")
});

/// Compares two strings in Thai dictionary order. Strings the collator finds
/// equal are ordered by their bytes, as PostgreSQL does for a deterministic
/// collation, so the order is total and keyset cursors never tie.
pub fn compare(a: &str, b: &str) -> Ordering {
    COLLATOR.compare(a, b).then_with(|| a.cmp(b))
}

/// Registers the `thai` collation on SQLite connections.
pub fn register(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options.collation(THAI, compare)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_vowels_sort_by_their_consonant_and_tone_marks_weigh_last() {
        let mut names = vec!["ไก่", "ข่าว", "เกาะ", "กา", "ก้า", "แก", "ขา", "โก", "กา่"];
        names.sort_by(|a, b| compare(a, b));
        assert_eq!(names, ["กา", "กา่", "ก้า", "เกาะ", "แก", "โก", "ไก่", "ขา", "ข่าว"]);
    }
}
