//! Text input: NFC normalisation, trimming and length limits.
//!
//! Thai text can be typed in several byte sequences that look the same;
//! storing NFC means equal-looking names compare, sort and search equal.

use unicode_normalization::UnicodeNormalization;

use crate::error::AppError;

/// Length limits, in characters, for the text fields of the records.
pub mod limits {
    /// Record codes (`code`).
    pub const CODE: usize = 40;
    /// Names and titles.
    pub const NAME: usize = 300;
    /// Place names (district, subdistrict).
    pub const PLACE: usize = 200;
    /// Long free text (descriptions, purposes, objectives).
    pub const LONG: usize = 5000;
    /// Notes and commitment descriptions.
    pub const NOTE: usize = 2000;
    /// Contact name.
    pub const CONTACT_NAME: usize = 200;
    /// Phone number.
    pub const PHONE: usize = 40;
    /// Email address.
    pub const EMAIL: usize = 254;
    /// Idempotency keys.
    pub const IDEMPOTENCY_KEY: usize = 200;
}

/// NFC-normalises and trims `value`, then checks it is non-empty and at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, AppError> {
    let normalised: String = value.trim().nfc().collect();
    if normalised.is_empty() {
        return Err(AppError::bad_input(field, format!("{field} must not be empty")));
    }
    check_length(field, normalised, max)
}

/// Like [`required`] for an optional field; blank text becomes `None`.
pub fn optional(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, AppError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => required(field, v, max).map(Some),
    }
}

fn check_length(field: &str, value: String, max: usize) -> Result<String, AppError> {
    let length = value.chars().count();
    if length > max {
        return Err(AppError::bad_input(
            field,
            format!("{field} is {length} characters long; at most {max} are allowed"),
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(AppError::bad_input(field, format!("{field} contains control characters")));
    }
    Ok(value)
}

/// A record code: 1–40 characters of A–Z, 0–9, `-` and `_` (upper-cased).
///
/// The characters are checked before upper-casing, and only ASCII is
/// upper-cased: Unicode upper-casing turns `ß` into `SS` and `ı` into `I`, so
/// a checked code could change length or let other letters in.
pub fn code(field: &str, value: &str) -> Result<String, AppError> {
    let code = required(field, value, limits::CODE)?;
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(AppError::bad_input(field, format!("{field} may contain only letters A-Z, digits, '-' and '_'")));
    }
    Ok(code.to_ascii_uppercase())
}

/// A non-negative count, such as households or capacity.
pub fn non_negative(field: &str, value: Option<i32>) -> Result<Option<i32>, AppError> {
    match value {
        Some(v) if v < 0 => Err(AppError::bad_input(field, format!("{field} must not be negative"))),
        other => Ok(other),
    }
}

/// A plausible email address (one `@`, a dot in the domain, no spaces).
pub fn email(field: &str, value: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(email) = optional(field, value, limits::EMAIL)? else {
        return Ok(None);
    };
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.contains('@') && !email.contains(' ')
        }
        None => false,
    };
    if valid { Ok(Some(email)) } else { Err(AppError::bad_input(field, "not an email address")) }
}

/// Checks that `starts <= ends` when both are given.
pub fn ordered_dates(starts: Option<chrono::NaiveDate>, ends: Option<chrono::NaiveDate>) -> Result<(), AppError> {
    match (starts, ends) {
        (Some(s), Some(e)) if s > e => Err(AppError::bad_input("endsOn", "endsOn must not be before startsOn")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thai_text_is_stored_in_nfc() {
        // A tone mark typed before a below-vowel is reordered canonically.
        let typed = "\u{0E01}\u{0E48}\u{0E38}";
        let stored = required("nameTh", typed, 10).unwrap_or_default();
        assert_eq!(stored, "\u{0E01}\u{0E38}\u{0E48}");
    }

    #[test]
    fn limits_and_codes_are_enforced() {
        assert!(required("nameTh", &"ก".repeat(301), limits::NAME).is_err());
        assert!(required("nameTh", "   ", limits::NAME).is_err());
        assert_eq!(code("code", " tc-01 ").ok().as_deref(), Some("TC-01"));
        assert!(code("code", "bad code").is_err());
        assert!(email("email", Some("a@b")).is_err());
    }
}
