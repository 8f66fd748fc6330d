//! Targets: what an indicator should reach, per track, in one of the kinds
//! the documents use.

use crate::document::DocumentId;
use crate::indicator::{Measure, Period};
use crate::text::Text;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Which body's target this is. One indicator can carry several at once
/// (004's budget revenue: assigned 581, stretch 600 tỷ đồng).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetTrack {
    /// Chỉ tiêu trên giao / tỉnh giao / pháp lệnh: assigned by the upper level.
    Assigned,
    /// The unit's own resolution (chỉ tiêu nghị quyết).
    Resolution,
    /// Chỉ tiêu phấn đấu: a stretch target the unit sets itself.
    Stretch,
}

impl TargetTrack {
    /// Every track, in display order.
    pub const ALL: [TargetTrack; 3] = [
        TargetTrack::Assigned,
        TargetTrack::Resolution,
        TargetTrack::Stretch,
    ];
}

/// How a reduction target is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// In the indicator's own unit ("giảm 26 hộ"; on a rate, percentage points:
    /// "tỷ lệ hộ nghèo giảm 1,8%").
    Absolute,
    /// As a percent of the base ("giảm 15% trên tổng số hộ nghèo").
    PercentOfBase,
}

impl Reduction {
    /// Its name in the targets table (`chitieu export --layout targets`).
    pub fn table_name(self) -> &'static str {
        match self {
            Reduction::Absolute => "absolute",
            Reduction::PercentOfBase => "percent_of_base",
        }
    }

    /// The reduction a targets table names.
    pub fn from_table_name(name: &str) -> Option<Self> {
        [Reduction::Absolute, Reduction::PercentOfBase]
            .into_iter()
            .find(|r| r.table_name() == name)
    }
}

impl Direction {
    /// Its name in the targets table.
    pub fn table_name(self) -> &'static str {
        match self {
            Direction::Lower => "lower",
            Direction::Higher => "higher",
        }
    }

    /// The direction a targets table names.
    pub fn from_table_name(name: &str) -> Option<Self> {
        [Direction::Lower, Direction::Higher]
            .into_iter()
            .find(|d| d.table_name() == name)
    }
}

/// Direction of a comparison with another period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Lower than the other period's actual ("giảm … so với năm 2024").
    Lower,
    /// Higher than the other period's actual.
    Higher,
}

/// The kind of a target and its figures. All figures are exact decimals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetKind {
    /// "≥78%", "từ 65% trở lên"; `strict` for "trên X" (more than).
    AtLeast {
        /// The bound.
        value: Decimal,
        /// Whether the bound itself falls short.
        strict: bool,
    },
    /// "≤1%", "dưới 4%"; `strict` for "dưới X" (below).
    AtMost {
        /// The bound.
        value: Decimal,
        /// Whether the bound itself is too much.
        strict: bool,
    },
    /// A bare figure with no bound word ("Sản lượng lúa 85.000 tấn"), read
    /// as at least, as Vietnamese planning practice does ("đạt và vượt").
    Plain {
        /// The figure.
        value: Decimal,
        /// The previous period's figure it is set against, where the
        /// document states it ("1.577,95 tỷ đồng (… /1.560,781)").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base: Option<Decimal>,
    },
    /// "103-105 nam/100 nữ".
    Range {
        /// Lower bound, inclusive.
        low: Decimal,
        /// Upper bound, inclusive.
        high: Decimal,
    },
    /// "1.577,95 tỷ đồng, tăng trưởng 1,1% (1.577,95/1.560,781)": growth of
    /// at least `rate` percent on `base`, and the figure that implies.
    Growth {
        /// Required growth in percent.
        rate: Decimal,
        /// The base-period figure, where stated; otherwise the previous
        /// period's actual is used.
        base: Option<Decimal>,
        /// The target figure, where stated.
        value: Option<Decimal>,
    },
    /// "Giảm hộ nghèo 26 hộ", "tỷ lệ hộ nghèo giảm từ 1,8% trở lên": the
    /// reduction against the base must reach `amount`.
    ReduceBy {
        /// Required reduction.
        amount: Decimal,
        /// How it is measured.
        measure: Reduction,
        /// The base figure, where stated; otherwise the previous period's actual.
        base: Option<Decimal>,
    },
    /// "Giảm tai nạn giao thông so với năm 2024".
    RelativeToPeriod {
        /// The period compared with.
        period: Period,
        /// Which way the figure must move.
        direction: Direction,
    },
    /// "Hoàn thành Bộ tiêu chí huyện nông thôn mới vào cuối năm 2025".
    Milestone {
        /// The deadline, where stated; else the end of the period.
        deadline: Option<NaiveDate>,
    },
    /// "Giữ vững 15 xã … đạt chuẩn": keep the level.
    Maintain {
        /// The level to keep, where a number is given.
        level: Option<Decimal>,
    },
}

/// Why a target does not fit its indicator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Range with low above high.
    #[error("range low {low} is above high {high}")]
    InvertedRange {
        /// Lower bound.
        low: Decimal,
        /// Upper bound.
        high: Decimal,
    },
    /// A figure out of the measure's possible values.
    #[error("{value} is outside 0..={max} for a {measure:?} indicator")]
    OutOfRange {
        /// The figure.
        value: Decimal,
        /// The largest figure allowed.
        max: Decimal,
        /// The indicator's measure.
        measure: Measure,
    },
    /// A negative figure where only non-negative ones make sense.
    #[error("{what} must not be negative, got {value}")]
    Negative {
        /// Which figure.
        what: &'static str,
        /// The figure.
        value: Decimal,
    },
    /// A growth base of zero or below.
    #[error("growth base must be positive, got {0}")]
    NonPositiveBase(Decimal),
    /// The kind cannot apply to the measure.
    #[error("a {kind} target does not fit a {measure:?} indicator")]
    KindDoesNotFitMeasure {
        /// The target kind.
        kind: &'static str,
        /// The indicator's measure.
        measure: Measure,
    },
}

impl TargetKind {
    /// Short name of the kind, as serialised.
    pub fn name(&self) -> &'static str {
        match self {
            TargetKind::AtLeast { .. } => "at_least",
            TargetKind::AtMost { .. } => "at_most",
            TargetKind::Plain { .. } => "plain",
            TargetKind::Range { .. } => "range",
            TargetKind::Growth { .. } => "growth",
            TargetKind::ReduceBy { .. } => "reduce_by",
            TargetKind::RelativeToPeriod { .. } => "relative_to_period",
            TargetKind::Milestone { .. } => "milestone",
            TargetKind::Maintain { .. } => "maintain",
        }
    }

    /// The figures the target states (a range's two ends, a growth's
    /// rate, figure and base), in that order: each is written in the
    /// document.
    pub fn figures(&self) -> Vec<Decimal> {
        match self {
            TargetKind::AtLeast { value, .. }
            | TargetKind::AtMost { value, .. }
            | TargetKind::Plain { value, .. } => vec![*value],
            TargetKind::Range { low, high } => vec![*low, *high],
            TargetKind::Growth { rate, base, value } => {
                [Some(*rate), *base, *value].into_iter().flatten().collect()
            }
            TargetKind::ReduceBy { amount, base, .. } => {
                [Some(*amount), *base].into_iter().flatten().collect()
            }
            TargetKind::Maintain { level } => level.iter().copied().collect(),
            TargetKind::RelativeToPeriod { .. } | TargetKind::Milestone { .. } => vec![],
        }
    }

    /// Checks the target's figures against the indicator's measure.
    pub fn validate_for(&self, measure: Measure) -> Result<(), TargetError> {
        let max = match measure {
            Measure::Percentage | Measure::Ratio => Some(Decimal::ONE_HUNDRED),
            Measure::PerMille => Some(Decimal::ONE_THOUSAND),
            Measure::Amount | Measure::Milestone => None,
        };
        let level = |value: Decimal| -> Result<(), TargetError> {
            if value.is_sign_negative() && !value.is_zero() {
                return Err(TargetError::Negative {
                    what: "target",
                    value,
                });
            }
            match max {
                Some(max) if value > max => Err(TargetError::OutOfRange {
                    value,
                    max,
                    measure,
                }),
                _ => Ok(()),
            }
        };
        let numeric_only = || -> Result<(), TargetError> {
            if measure == Measure::Milestone {
                Err(TargetError::KindDoesNotFitMeasure {
                    kind: self.name(),
                    measure,
                })
            } else {
                Ok(())
            }
        };
        match self {
            TargetKind::AtLeast { value, .. }
            | TargetKind::AtMost { value, .. }
            | TargetKind::Plain { value, .. } => {
                numeric_only()?;
                level(*value)
            }
            TargetKind::Range { low, high } => {
                numeric_only()?;
                level(*low)?;
                level(*high)?;
                if low > high {
                    return Err(TargetError::InvertedRange {
                        low: *low,
                        high: *high,
                    });
                }
                Ok(())
            }
            TargetKind::Growth { base, value, .. } => {
                numeric_only()?;
                if let Some(b) = base {
                    if *b <= Decimal::ZERO {
                        return Err(TargetError::NonPositiveBase(*b));
                    }
                }
                if let Some(v) = value {
                    level(*v)?;
                }
                Ok(())
            }
            TargetKind::ReduceBy { amount, base, .. } => {
                numeric_only()?;
                if amount.is_sign_negative() && !amount.is_zero() {
                    return Err(TargetError::Negative {
                        what: "reduction",
                        value: *amount,
                    });
                }
                if let Some(b) = base {
                    level(*b)?;
                }
                Ok(())
            }
            TargetKind::RelativeToPeriod { .. } => numeric_only(),
            TargetKind::Maintain { level: Some(value) } => {
                numeric_only()?;
                level(*value)
            }
            TargetKind::Maintain { level: None } | TargetKind::Milestone { .. } => Ok(()),
        }
    }
}

/// A target as set on one track, with the document that set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Kind and figures.
    pub kind: TargetKind,
    /// The document that sets it.
    pub document: DocumentId,
    /// The target's wording in its document, kept verbatim.
    pub wording: Option<Text>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn figures_must_fit_the_measure() {
        let pct = TargetKind::AtLeast {
            value: dec!(101),
            strict: false,
        };
        assert!(matches!(
            pct.validate_for(Measure::Percentage),
            Err(TargetError::OutOfRange { .. })
        ));
        assert!(pct.validate_for(Measure::Amount).is_ok());
        let range = TargetKind::Range {
            low: dec!(105),
            high: dec!(103),
        };
        assert!(matches!(
            range.validate_for(Measure::Amount),
            Err(TargetError::InvertedRange { .. })
        ));
        let growth = TargetKind::Growth {
            rate: dec!(1.1),
            base: Some(dec!(0)),
            value: None,
        };
        assert!(matches!(
            growth.validate_for(Measure::Amount),
            Err(TargetError::NonPositiveBase(_))
        ));
        let plain = TargetKind::Plain {
            value: dec!(5),
            base: None,
        };
        assert!(matches!(
            plain.validate_for(Measure::Milestone),
            Err(TargetError::KindDoesNotFitMeasure { .. })
        ));
        assert!(TargetKind::Milestone { deadline: None }
            .validate_for(Measure::Milestone)
            .is_ok());
        let per_mille = TargetKind::AtMost {
            value: dec!(11),
            strict: false,
        };
        assert!(per_mille.validate_for(Measure::PerMille).is_ok());
    }

    #[test]
    fn plain_targets_stored_before_they_had_a_base_still_read() {
        let old: TargetKind = serde_json::from_str(r#"{"kind":"plain","value":"581"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            old,
            TargetKind::Plain {
                value: dec!(581),
                base: None
            }
        );
        let with_base = TargetKind::Plain {
            value: dec!(1577.95),
            base: Some(dec!(1560.781)),
        };
        let stored = serde_json::to_string(&with_base).unwrap_or_default();
        assert!(stored.contains("1560.781"), "{stored}");
        assert_eq!(
            serde_json::from_str::<TargetKind>(&stored).ok(),
            Some(with_base)
        );
        let none = serde_json::to_string(&old).unwrap_or_default();
        assert!(!none.contains("base"), "{none}");
    }
}
