//! Scalars: `Decimal` (exact, as a string), `Date` (ISO `YYYY-MM-DD`).
//! `DateTime` is async-graphql's RFC 3339 scalar for `chrono::DateTime<Utc>`.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chitieu_domain::number::parse_plain;
use chrono::NaiveDate;

/// An exact decimal figure, written as a string (`"1577.95"`). JSON numbers
/// are refused: they would pass through binary floating point in clients.
/// A figure is kept exactly as written, scale included; one that does not
/// fit exactly (more than 28 decimal places) is refused, never rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal(pub rust_decimal::Decimal);

#[Scalar(name = "Decimal")]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => parse_plain(&s).map(Decimal).map_err(|e| InputValueError::custom(e.to_string())),
            Value::Number(n) => Err(InputValueError::custom(format!(
                "decimals are written as strings (\"{n}\"), never as JSON numbers, so that no figure passes through a float"
            ))),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    /// The figure with the scale it was written with ("71.50" stays
    /// "71.50"); computed figures are normalised where they are computed.
    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

impl Decimal {
    /// A computed figure (a share, a percentage of plan), without trailing
    /// zeros.
    pub fn computed(value: rust_decimal::Decimal) -> Self {
        Decimal(value.normalize())
    }
}

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| {
                    InputValueError::custom(format!("`{s}` is not a date of the form YYYY-MM-DD"))
                }),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<rust_decimal::Decimal> for Decimal {
    fn from(value: rust_decimal::Decimal) -> Self {
        Decimal(value)
    }
}
