//! Reading the target cells of the documents ("≥78%", "103-105 nam/100
//! nữ", "1.577,95 tỷ đồng, tăng trưởng 1,1% (1.577,95/1.560,781 tỷ
//! đồng)") into typed targets.
//!
//! A cell may hold several targets ("Toàn địa bàn huyện 80%, trong đó đô
//! thị Thị trấn Cần Đước 100%"). What cannot be read with confidence
//! becomes a milestone that keeps the original wording: never a wrong
//! number. Numbers are Vietnamese (`.` thousands, `,` decimals); years,
//! dates, ranks ("loại 4", "hạng 1") and "per 10.000 dân" denominators are
//! not targets.

use crate::number::{parse_plain, parse_vietnamese};
use crate::target::{Reduction, TargetKind};
use rust_decimal::Decimal;
use unicode_normalization::UnicodeNormalization;

/// One target read from a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTarget {
    /// Kind and figures.
    pub kind: TargetKind,
    /// The unit written after the figure (`%`, `‰`, `tỷ đồng`, `hộ`), if any.
    pub unit: Option<String>,
    /// The part of the cell it was read from, verbatim.
    pub wording: String,
}

#[derive(Debug, Clone)]
struct Number {
    value: Decimal,
    start: usize,
    end: usize,
}

fn is_number_char(c: char) -> bool {
    c.is_ascii_digit() || c == '.' || c == ','
}

fn text_before(chars: &[char], at: usize, n: usize) -> String {
    chars[at.saturating_sub(n)..at].iter().collect()
}

fn text_after(chars: &[char], at: usize, n: usize) -> String {
    chars[at..(at + n).min(chars.len())].iter().collect()
}

/// The numbers of a clause that can be targets, with their positions.
fn numbers(chars: &[char]) -> Vec<Number> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit()
            || (i > 0 && (chars[i - 1].is_alphanumeric() && !chars[i - 1].is_ascii_digit()))
        {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_number_char(chars[i]) {
            i += 1;
        }
        let mut end = i;
        while end > start && matches!(chars[end - 1], '.' | ',') {
            end -= 1;
        }
        let raw: String = chars[start..end].iter().collect();
        let value = parse_vietnamese(&raw).or_else(|_| parse_plain(&raw));
        let Ok(value) = value else { continue };
        let before = text_before(chars, start, 14);
        let after = text_after(chars, end, 12);
        let is_year = !raw.contains(['.', ','])
            && (1900..=2100).contains(&value.trunc().try_into().unwrap_or(0i64))
            && raw.len() == 4;
        let slash_before = start > 0 && chars[start - 1] == '/';
        let slash_after =
            chars.get(end) == Some(&'/') && chars.get(end + 1).is_some_and(|c| c.is_ascii_digit());
        let rank = [
            "loại ",
            "hạng ",
            "mức độ ",
            "khu vực ",
            "quý ",
            "khóa ",
            "số ",
        ]
        .iter()
        .any(|w| before.ends_with(w));
        let after_word = after.trim_start();
        // "trên 10.000 dân" is a denominator, "5 tuổi" an age.
        let per_population = after_word.starts_with("dân")
            || after_word.starts_with("vạn dân")
            || after_word.starts_with("tuổi");
        let letter_after = chars
            .get(end)
            .is_some_and(|c| c.is_alphabetic() && *c != 'o');
        if is_year || slash_before || slash_after || rank || per_population || letter_after {
            continue;
        }
        out.push(Number { value, start, end });
    }
    out
}

fn unit_after(chars: &[char], end: usize) -> Option<String> {
    let rest: String = chars[end..].iter().collect();
    let rest = rest.trim_start();
    if rest.starts_with('%') && rest[1..].starts_with('o') {
        return Some("‰".into());
    }
    if rest.starts_with('%') {
        return Some("%".into());
    }
    if rest.starts_with('‰') {
        return Some("‰".into());
    }
    let unit: String = rest
        .chars()
        .take_while(|c| !matches!(c, ',' | ';' | '(' | ')' | '.' | ':'))
        .collect::<String>()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    (!unit.is_empty()).then_some(unit)
}

fn growth(clause: &str, lower: &[char]) -> Option<ParsedTarget> {
    let text: String = lower.iter().collect();
    let at = text
        .find("tăng trưởng")
        .or_else(|| text.find("tốc độ tăng"))?;
    let at_char = text[..at].chars().count();
    let found = numbers(lower);
    let rate = found
        .iter()
        .find(|n| n.start > at_char && unit_after(lower, n.end).as_deref() == Some("%"))?;
    let value = found.iter().find(|n| n.start < at_char).map(|n| n.value);
    // "(1.577,95/1.560,781 tỷ đồng)": the figure over its base.
    let base = text.find('(').and_then(|open| {
        let inside = &text[open + 1..];
        let (_, after_slash) = inside.split_once('/')?;
        let digits: String = after_slash
            .trim_start()
            .chars()
            .take_while(|c| is_number_char(*c))
            .collect();
        parse_vietnamese(digits.trim_end_matches(['.', ','])).ok()
    });
    Some(ParsedTarget {
        kind: TargetKind::Growth {
            rate: rate.value,
            base,
            value,
        },
        unit: unit_after(lower, found.first()?.end),
        wording: clause.to_owned(),
    })
}

fn milestone(clause: &str) -> ParsedTarget {
    ParsedTarget {
        kind: TargetKind::Milestone { deadline: None },
        unit: None,
        wording: clause.to_owned(),
    }
}

/// Reads one clause (a cell split at `;` and "trong đó").
fn clause_targets(clause: &str) -> Vec<ParsedTarget> {
    let lower: Vec<char> = clause.to_lowercase().chars().collect();
    let text: String = lower.iter().collect();
    if let Some(g) = growth(clause, &lower) {
        return vec![g];
    }
    let found = numbers(&lower);
    let maintain = ["giữ vững", "duy trì", "củng cố"]
        .iter()
        .any(|w| text.contains(w));
    let Some(first) = found.first() else {
        if maintain && !text.contains("dưới") {
            return vec![ParsedTarget {
                kind: TargetKind::Maintain { level: None },
                unit: None,
                wording: clause.to_owned(),
            }];
        }
        return vec![milestone(clause)];
    };
    let unit = unit_after(&lower, first.end);
    let before = text_before(&lower, first.start, 16);
    let after: String = lower[first.end..].iter().collect();
    let after_unit = after
        .trim_start()
        .trim_start_matches(['%', '‰', 'o'])
        .trim_start();
    let value = first.value;
    // "26 hộ (giảm 15% trên tổng số hộ nghèo)": two reductions.
    if let (Some(second), true) = (
        found.get(1),
        text.contains("giảm") && text.contains("trên tổng số"),
    ) {
        if unit_after(&lower, second.end).as_deref() == Some("%") {
            return vec![
                ParsedTarget {
                    kind: TargetKind::ReduceBy {
                        amount: value,
                        measure: Reduction::Absolute,
                        base: None,
                    },
                    unit,
                    wording: clause.to_owned(),
                },
                ParsedTarget {
                    kind: TargetKind::ReduceBy {
                        amount: second.value,
                        measure: Reduction::PercentOfBase,
                        base: None,
                    },
                    unit: Some("%".into()),
                    wording: clause.to_owned(),
                },
            ];
        }
    }
    // "103-105", "từ 15 - 30", "từ 1 - 2": two figures with only a dash between.
    if let Some(second) = found.get(1) {
        let gap: String = lower[first.end..second.start].iter().collect();
        if gap.trim() == "-" || gap.trim() == "–" {
            return vec![ParsedTarget {
                kind: TargetKind::Range {
                    low: value,
                    high: second.value,
                },
                unit: unit_after(&lower, second.end),
                wording: clause.to_owned(),
            }];
        }
    }
    let at_least_word = before.ends_with('≥')
        || before.ends_with("≥ ")
        || before.ends_with("ít nhất ")
        || before.ends_with("tối thiểu ");
    let from = before.ends_with("từ ");
    // "707 tỉ đồng trở lên": "trở lên" right after the figure and its unit
    // (at most two words). Further on it qualifies a rating ("95% tổ chức
    // cơ sở đảng … hoàn thành tốt nhiệm vụ trở lên"), not the figure.
    let or_more = after_unit.starts_with("trở lên")
        || after.find("trở lên").is_some_and(|at| {
            let between = &after[..at];
            between.split_whitespace().count() <= 2
                && !between.contains(',')
                && !between.chars().any(|c| c.is_ascii_digit())
        });
    let more_than = before.ends_with("trên ") || before.ends_with("hơn ");
    let at_most_word = before.ends_with('≤')
        || before.ends_with("≤ ")
        || before.ends_with("không quá ")
        || before.ends_with("tối đa ");
    let below = before.ends_with("dưới ");
    let reduce = text[..text
        .char_indices()
        .nth(first.start)
        .map_or(text.len(), |(i, _)| i)]
        .contains("giảm");
    let kind = if below {
        TargetKind::AtMost {
            value,
            strict: true,
        }
    } else if at_most_word {
        TargetKind::AtMost {
            value,
            strict: false,
        }
    } else if reduce {
        TargetKind::ReduceBy {
            amount: value,
            measure: Reduction::Absolute,
            base: None,
        }
    } else if at_least_word
        || (from && (or_more || text.contains("trở lên") || before.contains("đạt từ")))
        || or_more
    {
        TargetKind::AtLeast {
            value,
            strict: false,
        }
    } else if more_than {
        TargetKind::AtLeast {
            value,
            strict: true,
        }
    } else if maintain {
        TargetKind::Maintain { level: Some(value) }
    } else {
        TargetKind::Plain { value, base: None }
    };
    vec![ParsedTarget {
        kind,
        unit,
        wording: clause.to_owned(),
    }]
}

/// Reads a target cell into typed targets.
pub fn parse_target_text(raw: &str) -> Vec<ParsedTarget> {
    let text: String = raw
        .nfc()
        .collect::<String>()
        .replace("$\\geq", "≥")
        .replace("\\%$", "%")
        .replace("\\%", "%")
        .replace("$", "");
    let mut out = Vec::new();
    for part in text.split(';') {
        let lower = part.to_lowercase();
        let pieces: Vec<String> = match lower.find("trong đó") {
            Some(at) if at > 0 => {
                let cut = part
                    .char_indices()
                    .nth(lower[..at].chars().count())
                    .map_or(part.len(), |(i, _)| i);
                vec![part[..cut].to_owned(), part[cut..].to_owned()]
            }
            _ => vec![part.to_owned()],
        };
        for piece in pieces {
            let piece = piece.trim().trim_end_matches([',', '.']).trim();
            if !piece.is_empty() {
                out.extend(clause_targets(piece));
            }
        }
    }
    if out.is_empty() {
        out.push(milestone(raw.trim()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn kinds(raw: &str) -> Vec<TargetKind> {
        parse_target_text(raw).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn the_cells_of_the_issue_read_as_typed_targets() {
        assert_eq!(
            kinds("≥78%"),
            vec![TargetKind::AtLeast {
                value: dec!(78),
                strict: false
            }]
        );
        assert_eq!(
            kinds("≤1%"),
            vec![TargetKind::AtMost {
                value: dec!(1),
                strict: false
            }]
        );
        assert_eq!(
            kinds("103-105 nam/100 nữ"),
            vec![TargetKind::Range {
                low: dec!(103),
                high: dec!(105)
            }]
        );
        assert_eq!(
            kinds("85.000 tấn"),
            vec![TargetKind::Plain {
                value: dec!(85000),
                base: None
            }]
        );
        assert_eq!(
            kinds("12.000 người"),
            vec![TargetKind::Plain {
                value: dec!(12000),
                base: None
            }]
        );
        assert_eq!(
            kinds("Công nhận mới 03 sản phẩm OCOP"),
            vec![TargetKind::Plain {
                value: dec!(3),
                base: None
            }]
        );
        assert_eq!(
            kinds("1.577,95 tỷ đồng, tăng trưởng 1,1% (1.577,95/1.560,781 tỷ đồng)"),
            vec![TargetKind::Growth {
                rate: dec!(1.1),
                base: Some(dec!(1560.781)),
                value: Some(dec!(1577.95))
            }]
        );
        assert_eq!(
            kinds("26 hộ (giảm 15% trên tổng số hộ nghèo)"),
            vec![
                TargetKind::ReduceBy {
                    amount: dec!(26),
                    measure: Reduction::Absolute,
                    base: None
                },
                TargetKind::ReduceBy {
                    amount: dec!(15),
                    measure: Reduction::PercentOfBase,
                    base: None
                },
            ]
        );
        assert_eq!(
            kinds("Toàn địa bàn huyện 80%, trong đó đô thị Thị trấn Cần Đước 100%"),
            vec![
                TargetKind::Plain {
                    value: dec!(80),
                    base: None
                },
                TargetKind::Plain {
                    value: dec!(100),
                    base: None
                }
            ]
        );
        assert_eq!(
            kinds("Hoàn thành Bộ tiêu chí huyện nông thôn mới vào cuối năm 2025"),
            vec![TargetKind::Milestone { deadline: None }]
        );
        assert_eq!(
            kinds("Tỉ lệ hộ nghèo duy trì dưới 4%"),
            vec![TargetKind::AtMost {
                value: dec!(4),
                strict: true
            }]
        );
        assert_eq!(
            kinds("Tỷ lệ tăng dân số tự nhiên 6,4%o."),
            vec![TargetKind::Plain {
                value: dec!(6.4),
                base: None
            }]
        );
        assert_eq!(
            parse_target_text("Tỷ lệ tăng dân số tự nhiên 6,4%o.")[0]
                .unit
                .as_deref(),
            Some("‰")
        );
        assert_eq!(
            kinds("số bác sĩ trên 10.000 dân là 05 bác sĩ"),
            vec![TargetKind::Plain {
                value: dec!(5),
                base: None
            }]
        );
    }
}
