//! Reporting periods of an org unit and their lifecycle: open → submitted
//! (by a planner) → approved (by an approver, bound to a digest of the
//! figures approved, see [`crate::approval`]) → locked; unlocked again
//! only with a reason and a document.
//!
//! A period is frozen while it is approved or locked: no target of an
//! indicator of its unit whose period lies inside it, and no figure of its
//! unit dated inside it, may be set, revised, reported or corrected. The
//! rule lives in [`crate::decide`]; what a period covers lives here.

use crate::document::DocumentId;
use crate::indicator::{IndicatorId, Period};
use crate::text::Reason;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Why a reporting period was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportingPeriodError {
    /// Not one of the accepted forms.
    #[error("a reporting period is a year `2022`, a half `2022-H1`, a quarter `2022-Q3` or a term `2020-2025`, got `{0}`")]
    Invalid(String),
}

/// A period results are reported and approved for, as the documents use
/// them: the year, the six months ("6 tháng đầu năm"), the quarter, and
/// the term ("nhiệm kỳ 2020-2025").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ReportingPeriod {
    /// A calendar year.
    Year(i32),
    /// A half year: 1 (January–June, "6 tháng đầu năm") or 2.
    Half(i32, u8),
    /// A quarter, 1 to 4.
    Quarter(i32, u8),
    /// A five-year term, by its first and last year.
    Term(i32, i32),
}

const MIN_YEAR: i32 = 1945;
const MAX_YEAR: i32 = 2200;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn last_day_of_month(y: i32, m: u32) -> NaiveDate {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    day(ny, nm, 1).pred_opt().unwrap_or(NaiveDate::MIN)
}

impl ReportingPeriod {
    /// Parses `2022`, `2022-H1`, `2022-Q3` or `2020-2025`.
    pub fn parse(raw: &str) -> Result<Self, ReportingPeriodError> {
        let bad = || ReportingPeriodError::Invalid(raw.to_owned());
        let year = |y: &str| -> Result<i32, ReportingPeriodError> {
            let ok = y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit());
            let y: i32 = if ok { y.parse().map_err(|_| bad())? } else { 0 };
            if (MIN_YEAR..=MAX_YEAR).contains(&y) {
                Ok(y)
            } else {
                Err(bad())
            }
        };
        let s = raw.trim();
        let Some((a, b)) = s.split_once('-') else {
            return Ok(ReportingPeriod::Year(year(s)?));
        };
        let a = year(a)?;
        let part = |prefix: char, max: u8| -> Option<u8> {
            let n: u8 = b.strip_prefix(prefix)?.parse().ok()?;
            (1..=max).contains(&n).then_some(n)
        };
        if let Some(h) = part('H', 2) {
            return Ok(ReportingPeriod::Half(a, h));
        }
        if let Some(q) = part('Q', 4) {
            return Ok(ReportingPeriod::Quarter(a, q));
        }
        let b = year(b)?;
        if b - a == 5 {
            Ok(ReportingPeriod::Term(a, b))
        } else {
            Err(bad())
        }
    }

    /// The first and last day of the period, both included.
    pub fn range(self) -> (NaiveDate, NaiveDate) {
        match self {
            ReportingPeriod::Year(y) => (day(y, 1, 1), day(y, 12, 31)),
            ReportingPeriod::Half(y, h) => {
                let first = 1 + 6 * (u32::from(h) - 1);
                (day(y, first, 1), last_day_of_month(y, first + 5))
            }
            ReportingPeriod::Quarter(y, q) => {
                let first = 1 + 3 * (u32::from(q) - 1);
                (day(y, first, 1), last_day_of_month(y, first + 2))
            }
            ReportingPeriod::Term(a, b) => (day(a, 1, 1), day(b, 12, 31)),
        }
    }

    /// Whether a figure dated `date` belongs to the period.
    pub fn contains(self, date: NaiveDate) -> bool {
        let (first, last) = self.range();
        first <= date && date <= last
    }

    /// Whether the targets of an indicator of `period` belong to this
    /// reporting period: the indicator's whole period lies inside it (a
    /// deadline "by 2025" counts as the year 2025; a school year runs from
    /// September to May).
    pub fn covers(self, period: Period) -> bool {
        let (first, last) = match period {
            Period::Year(y) | Period::By(y) => (day(y, 1, 1), day(y, 12, 31)),
            Period::Term(a, b) => (day(a, 1, 1), day(b, 12, 31)),
            Period::SchoolYear(y) => (day(y, 9, 1), day(y + 1, 5, 31)),
        };
        self.contains(first) && self.contains(last)
    }

    /// The year of the period's last day (for sorting and display).
    pub fn last_year(self) -> i32 {
        self.range().1.year()
    }
}

impl fmt::Display for ReportingPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportingPeriod::Year(y) => write!(f, "{y}"),
            ReportingPeriod::Half(y, h) => write!(f, "{y}-H{h}"),
            ReportingPeriod::Quarter(y, q) => write!(f, "{y}-Q{q}"),
            ReportingPeriod::Term(a, b) => write!(f, "{a}-{b}"),
        }
    }
}

impl TryFrom<String> for ReportingPeriod {
    type Error = ReportingPeriodError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ReportingPeriod::parse(&value)
    }
}

impl From<ReportingPeriod> for String {
    fn from(value: ReportingPeriod) -> Self {
        value.to_string()
    }
}

/// Where a period stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodStatus {
    /// Figures may be written.
    Open,
    /// Submitted for approval; figures may still be written (the approval
    /// binds what they are when it is given).
    Submitted,
    /// Approved: frozen, bound to the approval's digest.
    Approved,
    /// Locked after approval: frozen.
    Locked,
}

impl PeriodStatus {
    /// Whether writes into the period are refused.
    pub fn is_frozen(self) -> bool {
        matches!(self, PeriodStatus::Approved | PeriodStatus::Locked)
    }

    /// The status's name, as the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodStatus::Open => "open",
            PeriodStatus::Submitted => "submitted",
            PeriodStatus::Approved => "approved",
            PeriodStatus::Locked => "locked",
        }
    }
}

/// Identity of an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApprovalId(pub Uuid);

impl fmt::Display for ApprovalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The digest of one indicator's figures inside an approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorDigest {
    /// The indicator.
    pub indicator: IndicatorId,
    /// SHA-256 of its canonical section, hex.
    pub digest: String,
}

/// An approval as the rules remember it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalState {
    /// Its id.
    pub id: ApprovalId,
    /// SHA-256 of the canonical serialisation of the figures, hex.
    pub digest: String,
    /// The approving document.
    pub document: DocumentId,
}

/// One period of one org unit, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodState {
    /// Where it stands.
    pub status: PeriodStatus,
    /// Every approval given, oldest first.
    pub approvals: Vec<ApprovalState>,
    /// Why it was last unlocked.
    pub last_unlock: Option<Reason>,
}

impl Default for PeriodState {
    fn default() -> Self {
        PeriodState {
            status: PeriodStatus::Open,
            approvals: Vec::new(),
            last_unlock: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reporting_periods_parse_and_print_round_trip() {
        for text in ["2022", "2022-H1", "2022-H2", "2022-Q3", "2020-2025"] {
            let parsed = ReportingPeriod::parse(text);
            assert_eq!(parsed.map(|p| p.to_string()).as_deref(), Ok(text));
        }
        for bad in [
            "",
            "22",
            "2022-H3",
            "2022-Q0",
            "2022-Q5",
            "2020-2024",
            "x",
            "2022-",
        ] {
            assert!(ReportingPeriod::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_cover_their_days() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap_or_default();
        assert_eq!(
            ReportingPeriod::Half(2022, 1).range(),
            (d(2022, 1, 1), d(2022, 6, 30))
        );
        assert_eq!(
            ReportingPeriod::Quarter(2024, 1).range(),
            (d(2024, 1, 1), d(2024, 3, 31))
        );
        assert_eq!(
            ReportingPeriod::Quarter(2022, 4).range(),
            (d(2022, 10, 1), d(2022, 12, 31))
        );
        assert!(ReportingPeriod::Year(2022).covers(Period::Year(2022)));
        assert!(ReportingPeriod::Term(2020, 2025).covers(Period::Year(2022)));
        assert!(ReportingPeriod::Term(2020, 2025).covers(Period::By(2025)));
        assert!(!ReportingPeriod::Year(2022).covers(Period::Term(2020, 2025)));
        assert!(!ReportingPeriod::Year(2022).covers(Period::SchoolYear(2022)));
    }
}
