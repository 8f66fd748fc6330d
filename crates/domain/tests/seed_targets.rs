//! Every target cell of the four seed documents goes through the parser.
//! `fixtures/seeds/targets.tsv` (the demo data set) is a copy of `shared/data/targets.tsv` (183
//! rows, each checked by hand against its document; see that folder's
//! README). The parser must never produce a number the document does not
//! state for that cell; what it cannot read becomes a milestone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chitieu_domain::target_text::parse_target_text;
use chitieu_domain::TargetKind;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

struct Row {
    kind: String,
    value: Option<Decimal>,
    high: Option<Decimal>,
    base: Option<Decimal>,
}

fn rows() -> BTreeMap<String, Vec<Row>> {
    let text = include_str!("../../../fixtures/seeds/targets.tsv");
    let mut by_cell: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let number = |s: &str| (!s.is_empty()).then(|| Decimal::from_str(s).unwrap());
        by_cell.entry(f[10].to_owned()).or_default().push(Row {
            kind: f[11].to_owned(),
            value: number(f[12]),
            high: number(f[13]),
            base: number(f[15]),
        });
    }
    by_cell
}

fn matches(row: &Row, kind: &TargetKind) -> bool {
    match (row.kind.as_str(), kind) {
        ("exact", TargetKind::Plain { value, .. }) => row.value == Some(*value),
        ("exact", TargetKind::Growth { value, base, .. }) => {
            row.value == *value && row.base == *base
        }
        ("at_least", TargetKind::AtLeast { value, .. }) => row.value == Some(*value),
        ("at_most", TargetKind::AtMost { value, .. }) => row.value == Some(*value),
        ("range", TargetKind::Range { low, high }) => {
            row.value == Some(*low) && row.high.is_none_or(|h| h == *high)
        }
        ("growth_pct", TargetKind::Growth { rate, base, .. }) => {
            row.value == Some(*rate) && row.base == *base
        }
        ("reduce_by", TargetKind::ReduceBy { amount, .. }) => row.value == Some(*amount),
        ("maintain", TargetKind::Maintain { level }) => row.value == *level,
        ("milestone", TargetKind::Milestone { .. }) => true,
        _ => false,
    }
}

#[test]
fn every_seed_target_cell_parses_and_no_parsed_number_is_wrong() {
    let cells = rows();
    let mut matched = 0;
    let mut total = 0;
    let mut wrong = Vec::new();
    let mut missed = Vec::new();
    for (cell, rows) in &cells {
        let parsed = parse_target_text(cell);
        assert!(!parsed.is_empty(), "{cell}");
        // A cell's numbers are those of its rows and of the rows of the
        // fragments it contains (split items keep their shortest fragment).
        let stated: Vec<Decimal> = cells
            .iter()
            .filter(|(text, _)| cell.contains(text.as_str()))
            .flat_map(|(_, rows)| rows.iter().flat_map(|r| [r.value, r.high, r.base]))
            .flatten()
            .collect();
        for p in &parsed {
            for n in p.kind.figures() {
                if !stated.contains(&n) {
                    wrong.push(format!("{cell} → {:?}", p.kind));
                }
            }
        }
        for row in rows {
            total += 1;
            if parsed.iter().any(|p| matches(row, &p.kind)) {
                matched += 1;
            } else {
                missed.push(format!(
                    "{} {:?} ← {cell} → {:?}",
                    row.kind,
                    row.value,
                    parsed.iter().map(|p| &p.kind).collect::<Vec<_>>()
                ));
            }
        }
    }
    eprintln!(
        "{matched} of {total} seed targets read exactly as the table has them; not read:\n{}",
        missed.join("\n")
    );
    assert!(
        wrong.is_empty(),
        "numbers the documents do not state:\n{}",
        wrong.join("\n")
    );
    assert_eq!(total, 183);
    // The four that stay unread need context the cell does not hold (a
    // "giữ vững" in the heading above it) or are two rows of one cell.
    assert!(matched >= 178, "only {matched} of {total} read exactly");
}
