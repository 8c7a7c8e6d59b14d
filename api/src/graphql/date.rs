//! The `Date` scalar: a calendar date written `YYYY-MM-DD`.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;
use serde::Serialize;

/// A calendar date, `YYYY-MM-DD`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Date(pub NaiveDate);

/// A calendar date, YYYY-MM-DD (ISO 8601).
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) if s.len() == 10 => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("expected a date as YYYY-MM-DD")),
            _ => Err(InputValueError::custom("expected a date as YYYY-MM-DD")),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// Unwraps an optional date.
pub fn naive(date: Option<Date>) -> Option<NaiveDate> {
    date.map(|d| d.0)
}

/// Wraps an optional date.
pub fn wrap(date: Option<NaiveDate>) -> Option<Date> {
    date.map(Date)
}
