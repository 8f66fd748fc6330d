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

/// `YYYY-MM-DD` read digit by digit: chrono's format parser was a tenth of
/// a write's input parsing. Anything else (or no such day) is left to
/// that parser, which decides and words the refusal as before.
fn iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)
}

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => iso_date(&s)
                .map_or_else(|| NaiveDate::parse_from_str(&s, "%Y-%m-%d"), Ok)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_read_digit_by_digit_is_the_date_chrono_reads() {
        let cases = [
            "2025-12-31",
            "2024-02-29",
            "2025-02-29",
            "0000-01-01",
            "9999-12-31",
            "2025-13-01",
            "2025-00-10",
            "2025-1-310",
            "2025/12/31",
            "2025-12-3a",
            "+202-12-31",
            "２025-12-31",
        ];
        for case in cases {
            let chrono = NaiveDate::parse_from_str(case, "%Y-%m-%d").ok();
            if let Some(fast) = iso_date(case) {
                assert_eq!(Some(fast), chrono, "{case}");
            }
            let parsed = <Date as ScalarType>::parse(Value::String(case.to_owned())).ok();
            assert_eq!(parsed.map(|d| d.0), chrono, "{case}");
        }
    }
}
