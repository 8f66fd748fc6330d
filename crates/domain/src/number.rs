//! Exact decimal figures: parsing the plain form used on the wire ("1577.95")
//! and the Vietnamese form used in the documents ("1.577,95"), and the
//! documents' rounding rule (half away from zero, two decimals).

use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

/// Why a figure could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Not a decimal number in the expected notation.
    #[error("`{0}` is not a decimal number")]
    Invalid(String),
    /// More digits than an exact decimal holds (28 decimal places, 28 to
    /// 29 significant digits): refused rather than rounded.
    #[error("`{0}` has more digits than can be kept exactly (at most 28 decimal places and 28 significant digits)")]
    TooPrecise(String),
}

/// Parses a plain decimal: optional sign, digits, optional `.` and digits.
/// No exponent, no thousands separator, never through a float.
pub fn parse_plain(raw: &str) -> Result<Decimal, NumberError> {
    let s = raw.trim();
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut parts = body.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits_ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !digits_ok || s.len() > 64 {
        return Err(NumberError::Invalid(raw.to_owned()));
    }
    let value = Decimal::from_str(s).map_err(|_| NumberError::TooPrecise(raw.to_owned()))?;
    // Exactly what was written, scale included, or refused: the parser
    // rounds what does not fit. Up to 28 digits (after leading zeros) and
    // 28 decimals always fit (10^28 < 2^96), so only longer figures are
    // written back and compared.
    let int = match int.trim_start_matches('0') {
        "" => "0",
        digits => digits,
    };
    let decimals = frac.map_or(0, str::len);
    if int.len() + decimals <= 28 && decimals <= 28 {
        return Ok(value);
    }
    let written = match frac {
        Some(f) => format!("{int}.{f}"),
        None => int.to_owned(),
    };
    if value.abs().to_string() != written {
        return Err(NumberError::TooPrecise(raw.to_owned()));
    }
    Ok(value)
}

/// Parses a figure written the Vietnamese way: `.` groups thousands and `,`
/// is the decimal point ("1.577,95", "35.703,44", "99,89", "12.000").
pub fn parse_vietnamese(raw: &str) -> Result<Decimal, NumberError> {
    let s = raw.trim();
    let (int, frac) = match s.split_once(',') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let body = int.strip_prefix(['-', '+']).unwrap_or(int);
    let groups: Vec<&str> = body.split('.').collect();
    let grouped_ok = groups.len() == 1
        || (groups[0].len() <= 3
            && !groups[0].is_empty()
            && groups[1..].iter().all(|g| g.len() == 3));
    if !grouped_ok {
        return Err(NumberError::Invalid(raw.to_owned()));
    }
    let mut plain = String::with_capacity(s.len());
    if int.starts_with('-') {
        plain.push('-');
    }
    plain.push_str(&groups.concat());
    if let Some(f) = frac {
        plain.push('.');
        plain.push_str(f);
    }
    parse_plain(&plain).map_err(|_| NumberError::Invalid(raw.to_owned()))
}

/// Rounds as the documents do: two decimals, half away from zero.
pub fn round2(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Formats a figure the Vietnamese way ("1.577,95").
pub fn format_vietnamese(value: Decimal) -> String {
    let plain = value.normalize().to_string();
    let (sign, body) = match plain.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", plain.as_str()),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped},{f}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn vietnamese_notation_is_read_exactly() {
        assert_eq!(parse_vietnamese("1.577,95"), Ok(dec!(1577.95)));
        assert_eq!(parse_vietnamese("35.703,44"), Ok(dec!(35703.44)));
        assert_eq!(parse_vietnamese("12.000"), Ok(dec!(12000)));
        assert_eq!(parse_vietnamese("99,89"), Ok(dec!(99.89)));
        assert_eq!(parse_vietnamese("1.560,781"), Ok(dec!(1560.781)));
        assert!(parse_vietnamese("1.57,95").is_err());
        assert!(parse_vietnamese("abc").is_err());
    }

    #[test]
    fn plain_notation_refuses_exponents_and_garbage() {
        assert_eq!(parse_plain("0.1"), Ok(dec!(0.1)));
        assert_eq!(parse_plain("-3"), Ok(dec!(-3)));
        assert!(parse_plain("1e3").is_err());
        assert!(parse_plain("1.").is_err());
        assert!(parse_plain("").is_err());
        assert!(parse_plain("NaN").is_err());
    }

    #[test]
    fn a_figure_keeps_its_scale_or_is_refused() {
        assert_eq!(
            parse_plain("71.50").map(|d| d.to_string()),
            Ok("71.50".into())
        );
        assert_eq!(
            parse_plain("-0.10").map(|d| d.to_string()),
            Ok("-0.10".into())
        );
        assert_eq!(parse_plain("007").map(|d| d.to_string()), Ok("7".into()));
        let places_28 = format!("0.{}1", "0".repeat(27));
        assert!(parse_plain(&places_28).is_ok());
        let places_29 = format!("0.{}1", "0".repeat(28));
        assert_eq!(
            parse_plain(&places_29),
            Err(NumberError::TooPrecise(places_29.clone()))
        );
        let digits_30 = "1".repeat(30);
        assert!(parse_plain(&digits_30).is_err());
        assert!(parse_plain("79228162514264337593543950335").is_ok());
        assert!(parse_plain("79228162514264337593543950336").is_err());
    }

    #[test]
    fn a_figure_that_fits_is_what_was_written_however_it_is_padded() {
        // The figures short enough to skip the written-back comparison
        // give what that comparison would have accepted, digit for digit.
        let cases = [
            format!("{}1.5", "0".repeat(40)),
            format!("-{}.{}", "9".repeat(14), "9".repeat(14)),
            format!("0.{}", "0".repeat(28)),
            format!("{}.0", "9".repeat(27)),
            "1000000.000".to_owned(),
            "+12.340".to_owned(),
        ];
        for case in cases {
            let parsed = parse_plain(&case).expect(&case);
            let body = case.trim_start_matches(['-', '+']);
            let (int, frac) = body.split_once('.').unwrap_or((body, ""));
            let int = match int.trim_start_matches('0') {
                "" => "0",
                digits => digits,
            };
            let written = if frac.is_empty() {
                int.to_owned()
            } else {
                format!("{int}.{frac}")
            };
            assert_eq!(parsed.abs().to_string(), written, "{case}");
            assert_eq!(
                parsed.is_sign_negative() && !parsed.is_zero(),
                case.starts_with('-'),
                "{case}"
            );
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round2(dec!(102.935)), dec!(102.94));
        assert_eq!(round2(dec!(-1.005)), dec!(-1.01));
    }

    #[test]
    fn formatting_round_trips() {
        assert_eq!(format_vietnamese(dec!(1577.95)), "1.577,95");
        assert_eq!(format_vietnamese(dec!(120.65)), "120,65");
        assert_eq!(format_vietnamese(dec!(-12000)), "-12.000");
    }
}
