//! The read models of a small fixture (Cần Đước's 2025 programme: units,
//! documents, three indicators, targets on three tracks, an estimate
//! replaced by a final figure), as reviewed snapshots: a change of their
//! shape or content shows as a diff in `tests/snapshots/` to accept
//! (`cargo insta review`, or `INSTA_UPDATE=always`) or to fix. Times of
//! recording differ at every run and are redacted; everything else,
//! positions included, is deterministic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chitieu_domain::*;
use chitieu_projector::*;

use support::*;

fn fixture() -> (tempfile::TempDir, ReadModel) {
    let (dir, _writer, _projector, read) = can_duoc_fixture();
    (dir, read)
}

/// Redacts what differs between runs: the time each event was recorded.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::assert_json_snapshot!($name, $value, {
            ".**.recorded_at" => "[recorded_at]",
        })
    };
}

#[test]
fn indicators_of_the_fixture() {
    let (_dir, read) = fixture();
    let all = read.list(&IndicatorFilter::default()).unwrap();
    assert_eq!(all.len(), 3);
    snapshot!("indicators", &all);
}

#[test]
fn history_of_the_budget_revenue() {
    let (_dir, read) = fixture();
    let history = read.history(IndicatorId(id(4))).unwrap();
    snapshot!("history_budget_revenue", &*history);
}

#[test]
fn audit_trail_of_the_fixture() {
    let (_dir, read) = fixture();
    let audit = read.audit(&AuditFilter::default(), 0, 1000).unwrap();
    snapshot!("audit_trail", &audit);
}

#[test]
fn org_units_documents_and_summary() {
    let (_dir, read) = fixture();
    let district = code("LA.CAN-DUOC");
    snapshot!("org_units", &read.org_units().unwrap());
    snapshot!("documents", &read.documents().unwrap());
    snapshot!(
        "summary_can_duoc_2025",
        &read.summary(&district, Period::Year(2025)).unwrap()
    );
}
