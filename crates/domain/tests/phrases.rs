//! Phrases written in the style of resolutions but not taken from the
//! seeds (`phrases.tsv`), one per phrasing family of the target reader,
//! each with what the reader must make of it: the typed targets, or a
//! milestone that keeps the text, and the numbers it must report as
//! unread. A wrong typed target fails here; so does a number silently
//! dropped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chitieu_domain::target_text::read_target_cell;
use chitieu_domain::{Reduction, TargetKind};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

fn number(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|_| panic!("`{s}` in phrases.tsv is not a number"))
}

/// One expected target in the file's notation (see its header).
fn expected(spec: &str) -> (TargetKind, bool) {
    let (spec, stretch) = match spec.strip_prefix("stretch:") {
        Some(rest) => (rest.trim(), true),
        None => (spec, false),
    };
    let words: Vec<&str> = spec.split_whitespace().collect();
    let kind = match words.as_slice() {
        ["=", v] => TargetKind::Plain {
            value: number(v),
            base: None,
        },
        [">=", v] => TargetKind::AtLeast {
            value: number(v),
            strict: false,
        },
        [">", v] => TargetKind::AtLeast {
            value: number(v),
            strict: true,
        },
        ["<=", v] => TargetKind::AtMost {
            value: number(v),
            strict: false,
        },
        ["<", v] => TargetKind::AtMost {
            value: number(v),
            strict: true,
        },
        ["keep"] => TargetKind::Maintain { level: None },
        ["keep", v] => TargetKind::Maintain {
            level: Some(number(v)),
        },
        ["milestone"] => TargetKind::Milestone { deadline: None },
        ["milestone", d] => TargetKind::Milestone {
            deadline: Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()),
        },
        ["reduce", v, how] => TargetKind::ReduceBy {
            amount: number(v),
            measure: match *how {
                "absolute" => Reduction::Absolute,
                "of_base" => Reduction::PercentOfBase,
                other => panic!("unknown reduction {other}"),
            },
            base: None,
        },
        ["growth", r, rest @ ..] => {
            let field = |name: &str| rest.iter().find_map(|w| w.strip_prefix(name).map(number));
            TargetKind::Growth {
                rate: number(r),
                base: field("base="),
                value: field("value="),
            }
        }
        [range] if range.contains("..") => {
            let (low, high) = range.split_once("..").unwrap();
            TargetKind::Range {
                low: number(low),
                high: number(high),
            }
        }
        _ => panic!("cannot read the expectation `{spec}`"),
    };
    (kind, stretch)
}

#[test]
fn every_phrase_reads_as_expected_and_no_number_is_invented() {
    let file = include_str!("phrases.tsv");
    let mut failures = Vec::new();
    let mut count = 0;
    for line in file
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split('\t').collect();
        let (phrase, want) = (fields[0], fields[1]);
        count += 1;
        let want: Vec<(TargetKind, bool)> = want.split(" | ").map(expected).collect();
        let reading = read_target_cell(phrase);
        let got: Vec<(TargetKind, bool)> = reading
            .targets
            .iter()
            .map(|t| (t.kind.clone(), t.stretch))
            .collect();
        if got != want {
            failures.push(format!("{phrase}\n    want {want:?}\n    got  {got:?}"));
        }
        let unread: Vec<&str> = reading.unread().map(|l| l.number.as_str()).collect();
        let want_unread: Vec<&str> = fields
            .get(2)
            .map(|f| f.split_whitespace().collect())
            .unwrap_or_default();
        if unread != want_unread {
            failures.push(format!(
                "{phrase}\n    unread want {want_unread:?}\n    unread got  {unread:?}"
            ));
        }
    }
    assert!(count >= 150, "only {count} phrases");
    assert!(
        failures.is_empty(),
        "{} of {count} phrases read wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
