//! Reading the target cells of the documents ("≥78%", "103-105 nam/100
//! nữ", "1.577,95 tỷ đồng, tăng trưởng 1,1% (1.577,95/1.560,781 tỷ
//! đồng)") into typed targets.
//!
//! The reader knows the phrasing families of resolutions and refuses to
//! guess outside them. **A clause it does not fully understand becomes a
//! milestone that keeps the text, never a wrong typed target**, and every
//! number it did not use is reported ([`CellReading::left_out`]) with the
//! reason, so a person can see what was left out.
//!
//! The families, each with its meaning (examples in `tests/phrases.tsv`):
//!
//! | family | wording | reads as |
//! |---|---|---|
//! | floor | "≥", "từ … trở lên", "… trở lên", "ít nhất", "tối thiểu", "không dưới", "không thấp hơn", "không ít hơn", "đạt từ" | `AtLeast` |
//! | strict floor | "trên", "hơn", "cao hơn", "nhiều hơn", "lớn hơn" | `AtLeast { strict }` |
//! | ceiling | "≤", "không quá", "không vượt quá", "tối đa", "không cao hơn", "không lớn hơn", "… trở xuống", "giảm xuống còn", "giảm còn", "xuống còn" | `AtMost` |
//! | strict ceiling | "dưới", "thấp hơn", "ít hơn", "nhỏ hơn", "giảm xuống dưới" | `AtMost { strict }` |
//! | range | "103-105", "từ 80% đến 85%", "80 - 85%" | `Range` |
//! | growth | "tăng trưởng 12%", "tốc độ tăng 9,3%", "tăng 10% so cùng kỳ", with the figure and its base "(a/b)" | `Growth` |
//! | reduction | "giảm 26 hộ", "tỷ lệ hộ nghèo giảm 1,8%" (points), "giảm 15% trên tổng số" (percent of base), "giảm 1 điểm phần trăm" | `ReduceBy` |
//! | keep | "giữ vững", "duy trì", "củng cố" | `Maintain` |
//! | fraction | "12/12 xã", "11/11" | `Plain` of the numerator (the denominator is the whole) |
//! | stretch | "80% (phấn đấu 85%)" | the main target, then a stretch one |
//! | deadline | "hoàn thành trước 30/6/2026", "chậm nhất quý II năm 2025", "vào cuối năm 2025" | `Milestone { deadline }` |
//! | several targets | "80%, trong đó đô thị 100%", "a; b", "100% cơ quan và 11/11 xã" | one target each |
//! | plain | a single figure with no other word of the families | `Plain` |
//!
//! Refused (a milestone, numbers reported): comparisons with a named year
//! or period other than the previous one ("tăng 10% so với năm 2020": the
//! base is not this indicator's previous period), averages per year
//! ("bình quân 7%/năm", "hằng năm giảm 1,5%": a rate over several years),
//! multipliers ("gấp 2 lần"), increases that are not a growth rate ("tăng 2
//! điểm phần trăm", "tăng thêm 5 xã", "tỷ lệ … tăng 2%"), a bare "vượt", and
//! any clause with numbers none of the families accounts for.
//!
//! Not targets, and reported as such: years ("năm 2025", "giai đoạn
//! 2026-2030"), dates, durations ("5 năm", "30 ngày"), ranks and levels
//! ("loại 4", "hạng 1", "mức độ 2"), ages ("dưới 5 tuổi", "từ 15 đến 60
//! tuổi"), denominators ("trên 10.000 dân", "nam/100 nữ"), document
//! numbers ("Chỉ thị số 82-CT/TU"), and figures of another year in
//! brackets ("(năm 2024: 75%)"). Numbers are Vietnamese (`.` thousands,
//! `,` decimals).

use crate::number::{parse_plain, parse_vietnamese};
use crate::target::{Reduction, TargetKind};
use chrono::NaiveDate;
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
    /// A stretch target ("(phấn đấu 85%)") beside the main one.
    pub stretch: bool,
}

/// Why a number of a cell is in no typed target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftOutBecause {
    /// A year ("năm 2025", "2020-2025").
    Year,
    /// Part of a date ("30/6/2026").
    Date,
    /// A duration ("5 năm", "30 ngày").
    Duration,
    /// A rank, level or class ("loại 4", "hạng 1", "mức độ 2").
    Rank,
    /// An age ("dưới 5 tuổi").
    Age,
    /// A denominator ("trên 10.000 dân", "nam/100 nữ").
    Denominator,
    /// A document's number ("Chỉ thị số 82-CT/TU").
    DocumentNumber,
    /// A figure of another year, quoted for reference.
    OtherYearFigure,
    /// Compared with a named year or period other than the previous one.
    ComparedWithAnotherPeriod,
    /// An average per year over several years.
    AveragePerYear,
    /// A multiplier ("gấp 2 lần").
    Multiplier,
    /// An increase that is not a growth rate (points, a count, a rate's change).
    IncreaseNotGrowth,
    /// A phrasing the reader does not know.
    NotUnderstood,
}

impl LeftOutBecause {
    /// The reason in English.
    pub fn en(self) -> &'static str {
        match self {
            Self::Year => "a year",
            Self::Date => "part of a date",
            Self::Duration => "a duration",
            Self::Rank => "a rank or level",
            Self::Age => "an age",
            Self::Denominator => "a denominator",
            Self::DocumentNumber => "a document number",
            Self::OtherYearFigure => "a figure of another year, quoted for reference",
            Self::ComparedWithAnotherPeriod => {
                "compared with a named year or period, not the previous one"
            }
            Self::AveragePerYear => "an average per year over several years",
            Self::Multiplier => "a multiplier",
            Self::IncreaseNotGrowth => "an increase that is not a growth rate",
            Self::NotUnderstood => "a phrasing the reader does not know",
        }
    }

    /// The reason in Vietnamese.
    pub fn vi(self) -> &'static str {
        match self {
            Self::Year => "là năm",
            Self::Date => "là một phần của ngày tháng",
            Self::Duration => "là khoảng thời gian",
            Self::Rank => "là hạng, loại hoặc mức",
            Self::Age => "là độ tuổi",
            Self::Denominator => "là mẫu số",
            Self::DocumentNumber => "là số hiệu văn bản",
            Self::OtherYearFigure => "là số liệu của năm khác, nêu để tham khảo",
            Self::ComparedWithAnotherPeriod => "so với một năm hoặc kỳ khác, không phải kỳ trước",
            Self::AveragePerYear => "là mức bình quân mỗi năm của nhiều năm",
            Self::Multiplier => "là số lần (gấp)",
            Self::IncreaseNotGrowth => "là mức tăng không phải tốc độ tăng trưởng",
            Self::NotUnderstood => "cách viết chưa đọc được",
        }
    }
}

/// A number of a cell that is in no typed target, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The number as written.
    pub number: String,
    /// Why it was not used.
    pub because: LeftOutBecause,
}

/// What the reader made of a cell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CellReading {
    /// The targets, at least one (a milestone when nothing else).
    pub targets: Vec<ParsedTarget>,
    /// Every number of the cell that is in no typed target.
    pub left_out: Vec<LeftOut>,
}

impl CellReading {
    /// Numbers left out that a person should look at: not the years,
    /// dates, ranks and other numbers that are never targets.
    pub fn unread(&self) -> impl Iterator<Item = &LeftOut> {
        self.left_out.iter().filter(|l| {
            matches!(
                l.because,
                LeftOutBecause::ComparedWithAnotherPeriod
                    | LeftOutBecause::AveragePerYear
                    | LeftOutBecause::Multiplier
                    | LeftOutBecause::IncreaseNotGrowth
                    | LeftOutBecause::NotUnderstood
                    | LeftOutBecause::OtherYearFigure
            )
        })
    }
}

/// A number of a clause (chars of the lower-cased clause).
#[derive(Debug, Clone)]
struct Number {
    value: Decimal,
    start: usize,
    end: usize,
    raw: String,
    /// The whole of a fraction ("12/12 xã"): the number after the slash.
    of: Option<Decimal>,
    /// Not written as a Vietnamese number ("4.0"): the clause is not read.
    malformed: bool,
    /// Why it is not a candidate target, if it is not.
    not_target: Option<LeftOutBecause>,
}

fn is_number_char(c: char) -> bool {
    c.is_ascii_digit() || c == '.' || c == ','
}

fn slice(chars: &[char], from: usize, to: usize) -> String {
    chars[from.min(chars.len())..to.min(chars.len())]
        .iter()
        .collect()
}

fn text_before(chars: &[char], at: usize, n: usize) -> String {
    slice(chars, at.saturating_sub(n), at)
}

fn text_after(chars: &[char], at: usize, n: usize) -> String {
    slice(chars, at, at + n)
}

const RANK_WORDS: [&str; 12] = [
    "loại ",
    "hạng ",
    "mức độ ",
    "khu vực ",
    "quý ",
    "khóa ",
    "số ",
    "thứ ",
    "tốp ",
    "top ",
    "cấp độ ",
    "lớp ",
];
const DOCUMENT_WORDS: [&str; 8] = [
    "nghị quyết ",
    "quyết định ",
    "chỉ thị ",
    "kết luận ",
    "thông tư ",
    "nghị định ",
    "kế hoạch ",
    "công văn ",
];
const DURATION_WORDS: [&str; 5] = ["năm", "tháng", "ngày", "tuần", "quý"];

/// Every number of a clause, each marked a candidate or not (and why).
fn numbers(chars: &[char]) -> Vec<Number> {
    let mut out: Vec<Number> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        if i > 0 && chars[i - 1].is_alphanumeric() {
            // Glued to a word ("NQ12", "trên0,1"): part of a name, skipped whole.
            while i < chars.len() && is_number_char(chars[i]) {
                i += 1;
            }
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
        // "4.0", "102.3": not a Vietnamese number; read, but never a target.
        let (value, malformed) = match parse_vietnamese(&raw) {
            Ok(v) => (v, false),
            Err(_) => match parse_plain(&raw) {
                Ok(v) => (v, true),
                Err(_) => continue,
            },
        };
        let before = text_before(chars, start, 16);
        let after = text_after(chars, end, 16);
        let after_word = after.trim_start();
        let is_year = !raw.contains(['.', ','])
            && raw.len() == 4
            && (1900..=2100).contains(&value.trunc().try_into().unwrap_or(0i64));
        let slash_before = start > 0 && chars[start - 1] == '/';
        let slash_after =
            chars.get(end) == Some(&'/') && chars.get(end + 1).is_some_and(|c| c.is_ascii_digit());
        let date_like = slash_after && {
            // "30/6/2026", "30/4": day/month(/year).
            let rest: String = chars[end + 1..].iter().take(8).collect();
            let month: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let month_ok = month.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m));
            let day_ok = raw.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d));
            let year_follows = rest[month.len()..].starts_with('/');
            let day_word = ["ngày ", "trước ", "hạn ", "đến "]
                .iter()
                .any(|w| before.ends_with(w));
            day_ok && month_ok && (year_follows || day_word)
        };
        let part_of_date = slash_before
            && out
                .last()
                .is_some_and(|p| p.not_target == Some(LeftOutBecause::Date) && p.end + 1 == start);
        // "số 5", but not "dân số 0,9%", "tổng số 120", "chỉ số 80".
        let compound_so = [
            "dân số ",
            "tổng số ",
            "chỉ số ",
            "hệ số ",
            "điểm số ",
            "tỷ số ",
            "tỉ số ",
        ]
        .iter()
        .any(|w| before.ends_with(w));
        let rank = RANK_WORDS
            .iter()
            .any(|w| before.ends_with(w) && !(*w == "số " && compound_so));
        // "82-CT/TU", "123/QĐ-UBND".
        let document = DOCUMENT_WORDS.iter().any(|w| before.ends_with(w))
            || (matches!(chars.get(end), Some('-' | '/'))
                && chars.get(end + 1).is_some_and(|c| c.is_alphabetic()));
        let stated = ["đạt ", "là ", "bình quân ", "trung bình "]
            .iter()
            .any(|w| before.ends_with(w));
        // "độ tuổi 16-55": ages after the word, and the end of their range.
        let percent = after_word.starts_with(['%', '‰']);
        let after_age_word =
            !percent && (before.ends_with("tuổi ") || before.ends_with("tuổi từ "));
        let ends_age_range = ["-", "–", "đến ", "tới "]
            .iter()
            .any(|w| before.trim_end_matches(' ').ends_with(w.trim_end()) && before.ends_with(w))
            && out
                .last()
                .is_some_and(|p| p.not_target == Some(LeftOutBecause::Age));
        let age =
            (after_word.starts_with("tuổi") && !stated) || after_age_word || ends_age_range || {
                // "từ 15 đến 60 tuổi": the first of an age range.
                let rest = after_word
                    .trim_start_matches("đến")
                    .trim_start_matches("tới")
                    .trim_start_matches(['-', '–'])
                    .trim_start();
                rest.len() < after_word.len()
                    && rest.starts_with(|c: char| c.is_ascii_digit())
                    && rest
                        .trim_start_matches(|c: char| is_number_char(c))
                        .trim_start()
                        .starts_with("tuổi")
            };
        let denominator = after_word.starts_with("dân")
            || after_word.starts_with("vạn dân")
            || (slash_before && !part_of_date);
        let duration = !is_year
            && DURATION_WORDS
                .iter()
                .any(|w| after_word.starts_with(w) && !after_word[w.len()..].starts_with('/'))
            && !before.trim_end().ends_with('/');
        let letter_after = chars
            .get(end)
            .is_some_and(|c| c.is_alphabetic() && *c != 'o')
            || after_word.starts_with("sao");
        let not_target = if date_like || part_of_date {
            Some(LeftOutBecause::Date)
        } else if is_year {
            Some(LeftOutBecause::Year)
        } else if document {
            Some(LeftOutBecause::DocumentNumber)
        } else if rank || letter_after {
            Some(LeftOutBecause::Rank)
        } else if age {
            Some(LeftOutBecause::Age)
        } else if denominator {
            Some(LeftOutBecause::Denominator)
        } else if duration {
            Some(LeftOutBecause::Duration)
        } else {
            None
        };
        let of = (slash_after && not_target.is_none())
            .then(|| {
                let digits: String = chars[end + 1..]
                    .iter()
                    .take_while(|c| is_number_char(**c))
                    .collect();
                parse_vietnamese(digits.trim_end_matches(['.', ','])).ok()
            })
            .flatten();
        out.push(Number {
            value,
            start,
            end,
            raw,
            of,
            malformed,
            not_target,
        });
    }
    out
}

fn unit_after(chars: &[char], end: usize) -> Option<String> {
    let rest: String = chars[end.min(chars.len())..].iter().collect();
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
    // A fraction's denominator is not the unit: "11/11 xã" is in "xã".
    let rest = match rest.strip_prefix('/') {
        Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => {
            r.trim_start_matches(is_number_char).trim_start()
        }
        _ => rest,
    };
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

/// The character index of a byte index of `text`.
fn char_at(text: &str, byte: usize) -> usize {
    text[..byte].chars().count()
}

/// Whether `text` holds `word` as a whole word (not inside another word).
fn has_word(text: &str, word: &str) -> bool {
    find_word(text, word).is_some()
}

/// The byte index of `word` as a whole word in `text`.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text[from..].find(word) {
        let at = from + at;
        let before_ok = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = text[at + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

fn milestone(clause: &str, deadline: Option<NaiveDate>) -> ParsedTarget {
    ParsedTarget {
        kind: TargetKind::Milestone { deadline },
        unit: None,
        wording: clause.to_owned(),
        stretch: false,
    }
}

fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

/// A deadline written in a clause: "trước 30/6/2026", "chậm nhất quý II
/// năm 2025", "vào cuối năm 2025", "trong năm 2025".
fn deadline(text: &str) -> Option<NaiveDate> {
    // "khởi công quý I/2026, hoàn thành quý IV/2027": the last date is
    // the one to meet.
    let mut dates = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    // An explicit date d/m/yyyy.
    for (i, c) in chars.iter().enumerate() {
        if !c.is_ascii_digit() || (i > 0 && (chars[i - 1].is_ascii_digit() || chars[i - 1] == '/'))
        {
            continue;
        }
        let rest: String = chars[i..].iter().take(10).collect();
        let parts: Vec<&str> = rest
            .split(|c: char| !c.is_ascii_digit() && c != '/')
            .next()
            .unwrap_or("")
            .split('/')
            .collect();
        if let [d, m, y] = parts.as_slice() {
            if let (Ok(d), Ok(m), Ok(y)) = (d.parse::<u32>(), m.parse::<u32>(), y.parse::<i32>()) {
                if y >= 1900 {
                    dates.extend(NaiveDate::from_ymd_opt(y, m, d));
                }
            }
        }
    }
    let year_after = |at: usize| -> Option<i32> {
        let rest = &text[at..];
        let digits: String = rest
            .trim_start_matches(|c: char| !c.is_ascii_digit())
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        // Only the year that closes the phrase ("quý ii năm 2025").
        let gap = rest.find(&digits)?;
        (digits.len() == 4 && gap <= 16)
            .then(|| digits.parse().ok())
            .flatten()
    };
    let mut from = 0;
    while let Some(found) = find_word(&text[from..], "quý") {
        let at = from + found;
        from = at + "quý".len();
        let rest = text[at + "quý".len()..].trim_start();
        let quarter = [
            ("iv", 4),
            ("iii", 3),
            ("ii", 2),
            ("i", 1),
            ("4", 4),
            ("3", 3),
            ("2", 2),
            ("1", 1),
        ]
        .into_iter()
        .find(|(w, _)| {
            rest.starts_with(w) && !rest[w.len()..].starts_with(|c: char| c.is_alphanumeric())
        })
        .map(|(_, q)| q);
        if let (Some(q), Some(y)) = (quarter, year_after(at)) {
            dates.extend(last_day_of_month(y, q * 3));
        }
    }
    for phrase in ["cuối năm", "trong năm", "vào năm", "hết năm"] {
        for (at, _) in text.match_indices(phrase) {
            if let Some(y) = year_after(at + phrase.len()) {
                dates.extend(NaiveDate::from_ymd_opt(y, 12, 31));
            }
        }
    }
    dates.into_iter().max()
}

/// Bound words right before a figure, longest first: (words, kind maker).
fn bound_before(before: &str) -> Option<(bool, bool)> {
    // (is a floor, strict)
    let mut before = before.trim_end();
    // "tối thiểu là 100%", "không dưới mức 90%".
    for filler in [" là", " đạt", " ở mức", " mức", " bằng"] {
        if let Some(b) = before.strip_suffix(filler) {
            before = b.trim_end();
            break;
        }
    }
    const WORDS: [(&str, bool, bool); 24] = [
        ("không vượt quá", false, false),
        ("không thấp hơn", true, false),
        ("không ít hơn", true, false),
        ("không nhỏ hơn", true, false),
        ("không cao hơn", false, false),
        ("không lớn hơn", false, false),
        ("không nhiều hơn", false, false),
        ("không dưới", true, false),
        ("không quá", false, false),
        ("không vượt", false, false),
        ("không hơn", false, false),
        ("ít nhất", true, false),
        ("tối thiểu", true, false),
        ("tối đa", false, false),
        ("cao hơn", true, true),
        ("lớn hơn", true, true),
        ("nhiều hơn", true, true),
        ("thấp hơn", false, true),
        ("ít hơn", false, true),
        ("nhỏ hơn", false, true),
        ("trên", true, true),
        ("hơn", true, true),
        ("dưới", false, true),
        ("≥", true, false),
    ];
    if before.ends_with('≤') {
        return Some((false, false));
    }
    WORDS
        .iter()
        .find(|(w, _, _)| {
            before.ends_with(w)
                && before[..before.len() - w.len()]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric())
        })
        .map(|(_, floor, strict)| (*floor, *strict))
}

/// Reads one clause (a part of a cell split at `;` and "trong đó").
fn read_clause(clause: &str, reading: &mut CellReading) {
    let lower_chars: Vec<char> = clause.to_lowercase().chars().collect();
    // Lower-casing can change the number of chars ("İ"); keep the clause's.
    let lower: Vec<char> = if lower_chars.len() == clause.chars().count() {
        lower_chars
    } else {
        clause
            .chars()
            .map(|c| c.to_lowercase().next().unwrap_or(c))
            .collect()
    };
    let text: String = lower.iter().collect();
    let mut all = numbers(&lower);
    // Figures of another year quoted in brackets: "(năm 2024: 75%)".
    mark_other_year_brackets(&lower, &mut all);
    for n in all.iter().filter(|n| n.not_target.is_some()) {
        reading.left_out.push(LeftOut {
            number: n.raw.clone(),
            because: n.not_target.unwrap_or(LeftOutBecause::NotUnderstood),
        });
    }
    let years = all
        .iter()
        .filter(|n| n.not_target == Some(LeftOutBecause::Year))
        .count();
    let found: Vec<Number> = all.into_iter().filter(|n| n.not_target.is_none()).collect();
    // "năm 2026 là 60%, năm 2027 là 80%": figures of several years in one
    // cell; which is this period's is not for the reader to guess.
    let several_years = years >= 2 && found.len() >= 2 && !text.contains("tăng trưởng");
    // "41/40": more than the whole is a result over its plan, not a target.
    let over_whole = found
        .iter()
        .any(|n| n.of.is_some_and(|of| n.value > of) && !text.contains("tăng trưởng"));
    let read = if over_whole || several_years || found.iter().any(|n| n.malformed) {
        Err(LeftOutBecause::NotUnderstood)
    } else {
        read_figures(clause, &lower, &text, &found)
    };
    match read {
        Ok(targets) => reading.targets.extend(targets),
        Err(because) => {
            reading.targets.push(milestone(clause, deadline(&text)));
            reading.left_out.extend(found.iter().map(|n| LeftOut {
                number: n.raw.clone(),
                because,
            }));
        }
    }
}

fn mark_other_year_brackets(lower: &[char], all: &mut [Number]) {
    let mut open = None;
    for (i, c) in lower.iter().enumerate() {
        match c {
            '(' => open = Some(i),
            ')' => {
                if let Some(o) = open.take() {
                    let inside = slice(lower, o + 1, i);
                    let other_year = all.iter().any(|n| {
                        n.start > o && n.end <= i && n.not_target == Some(LeftOutBecause::Year)
                    }) || inside.contains("năm trước")
                        || inside.contains("cùng kỳ")
                        || inside.contains("năm ngoái");
                    let stretch = inside.trim_start().starts_with("phấn đấu")
                        || inside.trim_start().starts_with("cố gắng");
                    if other_year && !stretch {
                        for n in all.iter_mut() {
                            if n.start > o && n.end <= i && n.not_target.is_none() {
                                n.not_target = Some(LeftOutBecause::OtherYearFigure);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Words that make "tăng" part of a name, not the target's verb.
const TANG_IN_NAMES: [&str; 6] = [
    "tăng trưởng",
    "tăng cường",
    "tăng dân số",
    "tăng gia",
    "tăng ca",
    "tăng thu nhập",
];

/// Whether the clause compares with a named year or period that is not
/// the previous one ("so với năm 2020", "so với đầu nhiệm kỳ").
fn compares_with_another_period(text: &str) -> bool {
    let Some(at) = text.find("so với") else {
        return false;
    };
    let rest = text[at + "so với".len()..].trim_start();
    let previous = [
        "cùng kỳ",
        "năm trước",
        "năm ngoái",
        "kỳ trước",
        "năm liền trước",
    ];
    if previous.iter().any(|p| rest.starts_with(p)) {
        return false;
    }
    rest.starts_with("năm")
        || rest.starts_with(|c: char| c.is_ascii_digit())
        || rest.starts_with("đầu")
        || rest.starts_with("giai đoạn")
        || rest.starts_with("nhiệm kỳ")
}

fn average_per_year(text: &str) -> bool {
    let per_year = ["%/năm", "% /năm", "%/ năm"]
        .iter()
        .any(|w| text.contains(w));
    let yearly = ["bình quân", "trung bình", "mỗi năm", "hằng năm", "hàng năm"]
        .iter()
        .any(|w| text.contains(w))
        && !text.contains("bình quân đầu người")
        && !text.contains("bình quân của");
    let changes = has_word(text, "tăng") || has_word(text, "giảm") || text.contains("tăng trưởng");
    // "bình quân 5.000 tỷ đồng/năm" beside a term's total.
    let amount_per_year = text.contains("/năm") && !text.contains("/người/năm");
    per_year || (yearly && (changes || amount_per_year))
}

/// The verb "tăng" of the target (not inside a name), as a byte index.
fn increase_verb(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = find_word(&text[from..], "tăng") {
        let at = from + at;
        if !TANG_IN_NAMES.iter().any(|n| text[at..].starts_with(n)) {
            return Some(at);
        }
        from = at + "tăng".len();
    }
    None
}

/// The typed targets of a clause's candidate figures, or why it is refused.
fn read_figures(
    clause: &str,
    lower: &[char],
    text: &str,
    found: &[Number],
) -> Result<Vec<ParsedTarget>, LeftOutBecause> {
    let maintain = ["giữ vững", "duy trì", "củng cố", "giữ ổn định"]
        .iter()
        .any(|w| text.contains(w));
    if found.is_empty() {
        if maintain && !text.contains("dưới") && !text.contains("trên") {
            return Ok(vec![ParsedTarget {
                kind: TargetKind::Maintain { level: None },
                unit: None,
                wording: clause.to_owned(),
                stretch: false,
            }]);
        }
        return Ok(vec![milestone(clause, deadline(text))]);
    }
    if has_word(text, "gấp") {
        return Err(LeftOutBecause::Multiplier);
    }
    if average_per_year(text) {
        return Err(LeftOutBecause::AveragePerYear);
    }
    let other_period = compares_with_another_period(text);
    // Growth: "tăng trưởng 12%", "tốc độ tăng 9,3%", "tăng 10% so cùng kỳ".
    if let Some(targets) = growth(clause, lower, text, found)? {
        if other_period {
            return Err(LeftOutBecause::ComparedWithAnotherPeriod);
        }
        return Ok(targets);
    }
    if let Some(at) = increase_verb(text) {
        // "tăng" before a figure that is not a growth rate; "tăng … lên
        // 99%" names the level to reach.
        let at = char_at(text, at);
        let to_level = |n: &Number| {
            let before = text_before(lower, n.start, 12);
            let before = before.trim_end();
            before.ends_with("lên") || before.ends_with("lên mức") || before.ends_with("lên đến")
        };
        if found.iter().any(|n| n.start > at && !to_level(n)) {
            return Err(if other_period {
                LeftOutBecause::ComparedWithAnotherPeriod
            } else {
                LeftOutBecause::IncreaseNotGrowth
            });
        }
    }
    if other_period {
        return Err(LeftOutBecause::ComparedWithAnotherPeriod);
    }
    if has_word(text, "vượt")
        && !text.contains("không vượt")
        && !text.contains("đạt và vượt")
        && !text.contains("vượt chỉ tiêu")
    {
        // "vượt 5%": beyond what, by points or percent? Not guessed.
        return Err(LeftOutBecause::NotUnderstood);
    }
    // "26 hộ (giảm 15% trên tổng số hộ nghèo)": two reductions.
    if let [first, second] = found {
        let before_second = slice(lower, first.end, second.start);
        if before_second.contains("giảm")
            && text.contains("trên tổng số")
            && unit_after(lower, second.end).as_deref() == Some("%")
        {
            return Ok(vec![
                target(
                    clause,
                    TargetKind::ReduceBy {
                        amount: first.value,
                        measure: Reduction::Absolute,
                        base: None,
                    },
                    unit_after(lower, first.end),
                ),
                target(
                    clause,
                    TargetKind::ReduceBy {
                        amount: second.value,
                        measure: Reduction::PercentOfBase,
                        base: None,
                    },
                    Some("%".into()),
                ),
            ]);
        }
    }
    // A range: "103-105", "từ 80% đến 85%", "từ 15 - 30".
    if let [low, high] = found {
        let gap = slice(lower, low.end, high.start);
        let gap = gap.trim().trim_start_matches(['%', '‰']).trim();
        if matches!(gap, "-" | "–" | "đến" | "tới" | "đến mức" | "- đến") {
            if low.value > high.value {
                return Err(LeftOutBecause::NotUnderstood);
            }
            if has_word(text, "giảm") || increase_verb(text).is_some() {
                return Err(LeftOutBecause::NotUnderstood);
            }
            return Ok(vec![target(
                clause,
                TargetKind::Range {
                    low: low.value,
                    high: high.value,
                },
                unit_after(lower, high.end).or_else(|| unit_after(lower, low.end)),
            )]);
        }
    }
    // A stretch in brackets: "80% (phấn đấu 85%)".
    if let [main, extra] = found {
        if let Some(open) = (main.end..extra.start).find(|i| lower[*i] == '(') {
            let inside = slice(lower, open + 1, extra.start);
            let inside = inside.trim_start();
            if inside.starts_with("phấn đấu") || inside.starts_with("cố gắng") {
                let close = (extra.end..lower.len())
                    .find(|i| lower[*i] == ')')
                    .unwrap_or(lower.len());
                let main_part = masked(lower, 0, open);
                let stretch_part = masked(lower, open + 1, close);
                let mut first = one_figure(clause, lower, &main_part, main)?;
                let mut second = one_figure(clause, lower, &stretch_part, extra)?;
                first.wording = clause.to_owned();
                second.wording = clause.to_owned();
                second.stretch = true;
                return Ok(vec![first, second]);
            }
        }
    }
    if let [only] = found {
        return Ok(vec![one_figure(clause, lower, text, only)?]);
    }
    list(clause, lower, found)
}

/// The chars `from..to` of a clause, blanks before them: the part's own
/// words at the clause's positions.
fn masked(lower: &[char], from: usize, to: usize) -> String {
    let mut out: String = " ".repeat(from.min(lower.len()));
    out.push_str(&slice(lower, from, to));
    out
}

fn target(clause: &str, kind: TargetKind, unit: Option<String>) -> ParsedTarget {
    ParsedTarget {
        kind,
        unit,
        wording: clause.to_owned(),
        stretch: false,
    }
}

/// "tăng trưởng 1,1%", with the figure before it and "(a/b)" its base.
fn growth(
    clause: &str,
    lower: &[char],
    text: &str,
    found: &[Number],
) -> Result<Option<Vec<ParsedTarget>>, LeftOutBecause> {
    let named = text
        .find("tăng trưởng")
        .or_else(|| text.find("tốc độ tăng"));
    let verb = increase_verb(text).filter(|at| {
        // "tăng 10%" (the rate right after) or "tăng … so cùng kỳ".
        let rest = text[at + "tăng".len()..].trim_start();
        let rest = rest.strip_prefix("thêm").unwrap_or(rest).trim_start();
        rest.starts_with(|c: char| c.is_ascii_digit())
            && !text.contains("tỷ lệ")
            && !text.contains("tỉ lệ")
    });
    let Some(at) = named.or(verb) else {
        return Ok(None);
    };
    if has_word(text, "giảm") {
        return Err(LeftOutBecause::NotUnderstood);
    }
    let at_char = char_at(text, at);
    let Some(rate) = found
        .iter()
        .find(|n| n.start > at_char && matches!(unit_after(lower, n.end).as_deref(), Some("%")))
    else {
        return if named.is_some() {
            // "tăng trưởng" with no rate: the figures are something else.
            Err(LeftOutBecause::NotUnderstood)
        } else {
            Err(LeftOutBecause::IncreaseNotGrowth)
        };
    };
    let after_rate = text_after(lower, rate.end, 24);
    if after_rate.contains("điểm") {
        return Err(LeftOutBecause::IncreaseNotGrowth);
    }
    let figures_before: Vec<&Number> = found.iter().filter(|n| n.start < at_char).collect();
    let value = match figures_before.as_slice() {
        [] => None,
        [one] if unit_after(lower, one.end).as_deref() != Some("%") => Some(one.value),
        _ => return Err(LeftOutBecause::NotUnderstood),
    };
    // "(1.577,95/1.560,781 tỷ đồng)": the figure over its base.
    let mut base = None;
    let mut bracket = None;
    if let Some(open) = (rate.end..lower.len()).find(|i| lower[*i] == '(') {
        let close = (open..lower.len())
            .find(|i| lower[*i] == ')')
            .unwrap_or(lower.len());
        let inside = slice(lower, open + 1, close);
        if let Some((over, under)) = inside.split_once('/') {
            let figure = |s: &str| {
                let digits: String = s
                    .trim()
                    .chars()
                    .take_while(|c| is_number_char(*c))
                    .collect();
                parse_vietnamese(digits.trim_end_matches(['.', ','])).ok()
            };
            match (figure(over), figure(under)) {
                (Some(o), Some(u)) if value.is_none_or(|v| v == o) && u > Decimal::ZERO => {
                    base = Some(u);
                    bracket = Some((open, close));
                }
                _ => return Err(LeftOutBecause::NotUnderstood),
            }
        }
    }
    // Every other candidate figure must be inside that bracket.
    let unexplained = found.iter().any(|n| {
        n.start != rate.start
            && n.start >= at_char
            && !bracket.is_some_and(|(o, c)| n.start > o && n.end <= c)
    });
    if unexplained {
        return Err(LeftOutBecause::NotUnderstood);
    }
    let unit = match figures_before.first() {
        Some(n) => unit_after(lower, n.end),
        None => Some("%".into()),
    };
    Ok(Some(vec![target(
        clause,
        TargetKind::Growth {
            rate: rate.value,
            base,
            value,
        },
        unit,
    )]))
}

/// One figure with the words around it (`text` is the part of the clause
/// it stands in).
fn one_figure(
    clause: &str,
    lower: &[char],
    text: &str,
    n: &Number,
) -> Result<ParsedTarget, LeftOutBecause> {
    let unit = unit_after(lower, n.end);
    let before = text_before(lower, n.start, 24);
    let after: String = lower[n.end..].iter().collect();
    let after_unit = after
        .trim_start()
        .trim_start_matches(['%', '‰', 'o'])
        .trim_start();
    let value = n.value;
    if before.ends_with("cả ") || before.ends_with("các ") {
        // "giảm cả 3 tiêu chí": how many things, not how much.
        return Err(LeftOutBecause::NotUnderstood);
    }
    let upto = text
        .char_indices()
        .nth(n.start.min(text.chars().count()))
        .map_or(text.len(), |(i, _)| i);
    let head = &text[..upto.min(text.len())];
    let maintain = ["giữ vững", "duy trì", "củng cố", "giữ ổn định"]
        .iter()
        .any(|w| head.contains(w));
    // "giảm xuống còn 2%", "giảm còn", "xuống dưới 3%": a ceiling.
    let reduce = find_word(head, "giảm").or_else(|| find_word(head, "kéo giảm"));
    let down_to = [
        "xuống còn",
        "giảm còn",
        "còn dưới",
        "xuống dưới",
        "xuống mức",
        "giảm xuống",
    ]
    .iter()
    .any(|w| before.contains(w))
        || (reduce.is_some() && before.trim_end().ends_with("còn"));
    let bound = bound_before(&before);
    let or_more = after_unit.starts_with("trở lên")
        || after_unit.starts_with("hoặc hơn")
        || after_unit.starts_with("hoặc cao hơn")
        || after_unit.find("trở lên").is_some_and(|at| {
            let between = &after_unit[..at];
            between.split_whitespace().count() <= 2
                && !between.contains(',')
                && !between.chars().any(|c| c.is_ascii_digit())
        });
    let or_less = after_unit.find("trở xuống").is_some_and(|at| {
        let between = &after_unit[..at];
        between.split_whitespace().count() <= 2
            && !between.contains(',')
            && !between.chars().any(|c| c.is_ascii_digit())
    });
    let from = before.trim_end().ends_with("từ");
    let kind = if down_to {
        TargetKind::AtMost {
            value,
            strict: before.trim_end().ends_with("dưới"),
        }
    } else if let Some(at) = reduce {
        let between = &head[at..];
        // "giảm nghèo đạt 100%": a programme's name before a level.
        if between.contains("tăng")
            || has_word(between, "đạt")
            || has_word(between, "là")
            || has_word(between, "chiếm")
        {
            return Err(LeftOutBecause::NotUnderstood);
        }
        let points = after_unit.starts_with("điểm") || after.trim_start().starts_with("điểm");
        let of_base = !points
            && (text.contains("trên tổng số")
                || text.contains("so với tổng số")
                || (unit.as_deref() == Some("%")
                    && after_unit.starts_with("số ")
                    && !text.contains("tỷ lệ")
                    && !text.contains("tỉ lệ")));
        TargetKind::ReduceBy {
            amount: value,
            measure: if of_base {
                Reduction::PercentOfBase
            } else {
                Reduction::Absolute
            },
            base: None,
        }
    } else if or_less {
        TargetKind::AtMost {
            value,
            strict: false,
        }
    } else if let Some((floor, strict)) = bound {
        if floor {
            TargetKind::AtLeast { value, strict }
        } else {
            TargetKind::AtMost { value, strict }
        }
    } else if or_more || from {
        TargetKind::AtLeast {
            value,
            strict: false,
        }
    } else if maintain {
        TargetKind::Maintain { level: Some(value) }
    } else {
        TargetKind::Plain { value, base: None }
    };
    Ok(ParsedTarget {
        kind,
        unit,
        wording: clause.to_owned(),
        stretch: false,
    })
}

/// Several figures, each with its own words: "100% cơ quan, đơn vị và
/// 11/11 xã". Cut between consecutive figures at the last `,` or "và";
/// every part must read alone, and a part without a bound word after one
/// with a bound word is ambiguous (does the bound carry over?).
fn list(
    clause: &str,
    lower: &[char],
    found: &[Number],
) -> Result<Vec<ParsedTarget>, LeftOutBecause> {
    let mut cuts = vec![0];
    for pair in found.windows(2) {
        let between = slice(lower, pair[0].end, pair[1].start);
        let comma = between.rfind(", ");
        let and = between.rfind(" và ");
        let cut = match (comma, and) {
            (Some(c), Some(a)) => c.max(a),
            (Some(c), None) => c,
            (None, Some(a)) => a,
            (None, None) => return Err(LeftOutBecause::NotUnderstood),
        };
        cuts.push(pair[0].end + char_at(&between, cut) + 1);
    }
    cuts.push(lower.len());
    let mut out = Vec::new();
    let mut bounded = false;
    for (i, n) in found.iter().enumerate() {
        let part = slice(lower, cuts[i], cuts[i + 1]);
        if has_word(&part, "giảm") || part.contains("tăng") {
            return Err(LeftOutBecause::NotUnderstood);
        }
        let mut t = one_figure(clause, lower, &masked(lower, cuts[i], cuts[i + 1]), n)?;
        let has_bound = !matches!(t.kind, TargetKind::Plain { .. });
        if bounded && !has_bound {
            return Err(LeftOutBecause::NotUnderstood);
        }
        bounded |= has_bound;
        t.wording = clause.to_owned();
        out.push(t);
    }
    Ok(out)
}

/// Reads a target cell into typed targets, with every number it left out.
pub fn read_target_cell(raw: &str) -> CellReading {
    let text: String = raw
        .nfc()
        .collect::<String>()
        .replace("$\\geq", "≥")
        .replace("$\\leq", "≤")
        .replace("\\%$", "%")
        .replace("\\%", "%")
        .replace('$', "")
        .replace(">=", "≥")
        .replace("<=", "≤");
    let mut reading = CellReading::default();
    for part in text.split(';') {
        let lower = part.to_lowercase();
        let pieces: Vec<String> = match lower.find("trong đó") {
            Some(at) if at > 0 && lower.len() == part.len() => {
                vec![part[..at].to_owned(), part[at..].to_owned()]
            }
            _ => vec![part.to_owned()],
        };
        for piece in pieces {
            let piece = piece
                .trim()
                .trim_matches(['*', '_'])
                .trim_end_matches([',', '.'])
                .trim();
            if !piece.is_empty() {
                read_clause(piece, &mut reading);
            }
        }
    }
    if reading.targets.is_empty() {
        reading.targets.push(milestone(raw.trim(), None));
    }
    reading
}

/// Reads a target cell into typed targets (see [`read_target_cell`]).
pub fn parse_target_text(raw: &str) -> Vec<ParsedTarget> {
    read_target_cell(raw).targets
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
            kinds("103-105 nam/100 nữ"),
            vec![TargetKind::Range {
                low: dec!(103),
                high: dec!(105)
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
            parse_target_text("Tỷ lệ tăng dân số tự nhiên 6,4%o.")[0]
                .unit
                .as_deref(),
            Some("‰")
        );
    }

    #[test]
    fn what_is_left_out_is_reported_with_its_reason() {
        let r = read_target_cell("Tăng 10% so với năm 2020");
        assert_eq!(r.targets, vec![milestone("Tăng 10% so với năm 2020", None)]);
        let reasons: Vec<_> = r
            .left_out
            .iter()
            .map(|l| (l.number.as_str(), l.because))
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("2020", LeftOutBecause::Year),
                ("10", LeftOutBecause::ComparedWithAnotherPeriod)
            ]
        );
        assert_eq!(r.unread().count(), 1);
    }

    #[test]
    fn deadlines_are_read_from_the_text() {
        assert_eq!(
            kinds("Hoàn thành trước 30/6/2026"),
            vec![TargetKind::Milestone {
                deadline: NaiveDate::from_ymd_opt(2026, 6, 30)
            }]
        );
        assert_eq!(
            kinds("thi công chậm nhất quý II năm 2025"),
            vec![TargetKind::Milestone {
                deadline: NaiveDate::from_ymd_opt(2025, 6, 30)
            }]
        );
    }
}
