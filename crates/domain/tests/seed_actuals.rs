//! The documents' own percentages: wherever `actuals.tsv` (a copy of
//! `shared/data/actuals.tsv`) states both a target and an achievement
//! percentage, the achievement function must compute the same one. The
//! data README found no row the documents get wrong among these; were
//! there one, this test would list it instead of agreeing with it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chitieu_domain::achievement::achievement;
use chitieu_domain::{Measure, ResultValue, TargetKind};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

#[test]
fn every_stated_achievement_percentage_is_reproduced() {
    let text = include_str!("../../../fixtures/seeds/actuals.tsv");
    let day = NaiveDate::from_ymd_opt(2023, 3, 1).unwrap();
    let mut checked = 0;
    let mut disagreements = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let (value, target, stated) = (f[8], f[10], f[11]);
        if value.is_empty() || target.is_empty() || stated.is_empty() {
            continue;
        }
        let value = Decimal::from_str(value).unwrap();
        let target = Decimal::from_str(target).unwrap();
        let stated = Decimal::from_str(stated).unwrap();
        let a = achievement(
            &TargetKind::Plain {
                value: target,
                base: None,
            },
            Measure::Amount,
            chitieu_domain::direction::Better::Higher,
            Some(&ResultValue::Amount { value }),
            None,
            day,
            day,
        );
        checked += 1;
        if a.percent_of_target != Some(stated) {
            disagreements.push(format!(
                "{}: {value}/{target} → {:?}, the document says {stated}%",
                f[5], a.percent_of_target
            ));
        }
    }
    assert_eq!(checked, 5, "the five rows the data README lists");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
