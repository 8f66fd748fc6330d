//! Indicators (chỉ tiêu): what is measured, for which org unit and period.

use crate::document::DocumentId;
use crate::org_unit::OrgUnitCode;
use crate::text::Text;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Identity of an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IndicatorId(pub Uuid);

impl fmt::Display for IndicatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a period was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Not one of the accepted forms.
    #[error("period must be `2024`, a term `2020-2025`, a school year `2022-2023` or a deadline `by 2025`, got `{0}`")]
    Invalid(String),
}

/// The period an indicator applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Period {
    /// A calendar year ("năm 2024").
    Year(i32),
    /// A five-year congress term (nhiệm kỳ 2020–2025), by its first and last year.
    Term(i32, i32),
    /// A school year (năm học 2022–2023), by the year it starts.
    SchoolYear(i32),
    /// A deadline year ("đến năm 2025"): to be reached by the end of that year.
    By(i32),
}

const MIN_YEAR: i32 = 1945;
const MAX_YEAR: i32 = 2200;

impl Period {
    /// Parses `2024`, `2020-2025` (term: five years apart), `2022-2023`
    /// (school year: one year apart) or `by 2025` / `đến 2025`.
    pub fn parse(raw: &str) -> Result<Self, PeriodError> {
        let bad = || PeriodError::Invalid(raw.to_owned());
        let s = raw.trim();
        let year = |y: &str| -> Result<i32, PeriodError> {
            let y: i32 = y.trim().parse().map_err(|_| bad())?;
            if (MIN_YEAR..=MAX_YEAR).contains(&y) {
                Ok(y)
            } else {
                Err(bad())
            }
        };
        if let Some(rest) = s
            .strip_prefix("by ")
            .or_else(|| s.strip_prefix("đến năm "))
            .or_else(|| s.strip_prefix("đến "))
        {
            return Ok(Period::By(year(rest)?));
        }
        if let Some((a, b)) = s.split_once(['-', '–']) {
            let (a, b) = (year(a)?, year(b)?);
            return match b - a {
                5 => Ok(Period::Term(a, b)),
                1 => Ok(Period::SchoolYear(a)),
                _ => Err(bad()),
            };
        }
        Ok(Period::Year(year(s)?))
    }

    /// The last day on which a result still counts for this period.
    pub fn due(self) -> NaiveDate {
        let end_of = |y: i32| NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(NaiveDate::MAX);
        match self {
            Period::Year(y) | Period::By(y) => end_of(y),
            Period::Term(_, y) => end_of(y),
            // Vietnamese school years close at the end of May.
            Period::SchoolYear(y) => {
                NaiveDate::from_ymd_opt(y + 1, 5, 31).unwrap_or(NaiveDate::MAX)
            }
        }
    }

    /// Whether this period ends strictly before `other` ends.
    pub fn ends_before(self, other: Period) -> bool {
        self.due() < other.due()
    }

    /// The period just before, of the same kind (2023 → 2022, 2020-2025 →
    /// 2015-2020, 2022-2023 → 2021-2022); none for a deadline year.
    pub fn previous(self) -> Option<Period> {
        match self {
            Period::Year(y) => Some(Period::Year(y - 1)),
            Period::SchoolYear(y) => Some(Period::SchoolYear(y - 1)),
            Period::Term(a, b) => Some(Period::Term(a - (b - a), a)),
            Period::By(_) => None,
        }
    }

    /// The period just after, of the same kind (the inverse of
    /// [`Period::previous`]).
    pub fn next(self) -> Option<Period> {
        match self {
            Period::Year(y) => Some(Period::Year(y + 1)),
            Period::SchoolYear(y) => Some(Period::SchoolYear(y + 1)),
            Period::Term(a, b) => Some(Period::Term(b, b + (b - a))),
            Period::By(_) => None,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year(y) => write!(f, "{y}"),
            Period::Term(a, b) => write!(f, "{a}-{b}"),
            Period::SchoolYear(a) => write!(f, "{a}-{}", a + 1),
            Period::By(y) => write!(f, "by {y}"),
        }
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Period::parse(&value)
    }
}

impl From<Period> for String {
    fn from(value: Period) -> Self {
        value.to_string()
    }
}

/// Field an indicator belongs to (lĩnh vực).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Kinh tế.
    Economy,
    /// Văn hóa – xã hội.
    Society,
    /// Môi trường.
    Environment,
    /// Quốc phòng – an ninh.
    DefenseSecurity,
    /// Xây dựng Đảng, chính quyền, Mặt trận và đoàn thể.
    PartyBuilding,
}

/// Code of an indicator as numbered in its document: `1.1`, `(4)`, `22`,
/// `III.1.3`. Kept as written.
pub type IndicatorCode = Text;

/// What kind of value the indicator has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// An amount in the indicator's unit (tỷ đồng, tấn, hộ, người).
    Amount,
    /// A percentage (tỷ lệ %); differences are in percentage points.
    Percentage,
    /// A per-mille rate (‰).
    PerMille,
    /// A share reported as numerator over denominator ("22/45 trường");
    /// its value is the share in percent.
    Ratio,
    /// Something done or not done (hoàn thành …).
    Milestone,
}

impl Measure {
    /// Whether figures of several units add up to the figure of the units
    /// together: amounts do (tấn, hộ, tỷ đồng); rates, shares and
    /// per-mille do not (they need the units' denominators), nor do
    /// milestones.
    pub fn is_additive(self) -> bool {
        matches!(self, Measure::Amount)
    }

    /// Its name in the targets table (`chitieu export --layout targets`).
    pub fn table_name(self) -> &'static str {
        match self {
            Measure::Amount => "amount",
            Measure::Percentage => "percentage",
            Measure::PerMille => "per_mille",
            Measure::Ratio => "ratio",
            Measure::Milestone => "milestone",
        }
    }

    /// The measure a targets table names.
    pub fn from_table_name(name: &str) -> Option<Self> {
        [
            Measure::Amount,
            Measure::Percentage,
            Measure::PerMille,
            Measure::Ratio,
            Measure::Milestone,
        ]
        .into_iter()
        .find(|m| m.table_name() == name)
    }

    /// Whether differences of this measure are read in points of the measure
    /// itself ("vượt 0,07%" on a percentage) rather than as a relative change.
    pub fn is_rate(self) -> bool {
        matches!(
            self,
            Measure::Percentage | Measure::PerMille | Measure::Ratio
        )
    }
}

/// Everything that defines an indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorDefinition {
    /// Identity.
    pub id: IndicatorId,
    /// The org unit it belongs to.
    pub org_unit: OrgUnitCode,
    /// The period it applies to.
    pub period: Period,
    /// Field.
    pub category: Category,
    /// Number in its document, where numbered.
    pub code: Option<IndicatorCode>,
    /// Name as written.
    pub name: Text,
    /// Unit as written ("tỷ đồng", "%", "‰", "hộ"); `None` for milestones.
    pub unit: Option<Text>,
    /// Kind of value.
    pub measure: Measure,
    /// The indicator it is a sub-item of ("1.1" under "1").
    pub parent: Option<IndicatorId>,
    /// The same indicator for the previous period, for "so cùng kỳ".
    pub previous: Option<IndicatorId>,
    /// The document that defines it.
    pub document: Option<DocumentId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_of_the_seeds_parse_and_print_back() {
        for (raw, period) in [
            ("2024", Period::Year(2024)),
            ("2020-2025", Period::Term(2020, 2025)),
            ("2022-2023", Period::SchoolYear(2022)),
            ("by 2025", Period::By(2025)),
        ] {
            assert_eq!(Period::parse(raw), Ok(period));
            assert_eq!(period.to_string(), raw);
        }
        assert_eq!(Period::parse("đến năm 2025"), Ok(Period::By(2025)));
        assert_eq!(Period::parse("2020–2025"), Ok(Period::Term(2020, 2025)));
    }

    #[test]
    fn odd_periods_are_refused() {
        for raw in ["", "2020-2023", "20x4", "99999", "2025-2020", "by"] {
            assert!(Period::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn due_dates() {
        assert_eq!(
            Period::Year(2024).due(),
            NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default()
        );
        assert_eq!(
            Period::SchoolYear(2022).due(),
            NaiveDate::from_ymd_opt(2023, 5, 31).unwrap_or_default()
        );
    }
}
