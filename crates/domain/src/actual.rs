//! Results (kết quả thực hiện): figures reported against an indicator.

use crate::document::DocumentId;
use crate::indicator::Measure;
use crate::text::Text;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Identity of one reported figure, so that a later final figure or a
/// correction can say which report it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReportId(pub Uuid);

impl fmt::Display for ReportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Whether a figure is an estimate (ước) or final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    /// Ước: to be replaced by the final figure.
    Estimate,
    /// Final.
    Final,
}

/// The reported value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResultValue {
    /// A figure in the indicator's unit.
    Amount {
        /// The figure.
        value: Decimal,
    },
    /// "95.899/108.808 người", "22/45 trường".
    Ratio {
        /// Numerator.
        numerator: Decimal,
        /// Denominator, positive.
        denominator: Decimal,
    },
    /// Done or not yet done.
    Milestone {
        /// Whether it is done.
        done: bool,
    },
}

/// Why a value does not fit its indicator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultValueError {
    /// A ratio with a zero or negative denominator.
    #[error("denominator must be positive, got {0}")]
    NonPositiveDenominator(Decimal),
    /// A negative numerator.
    #[error("numerator must not be negative, got {0}")]
    NegativeNumerator(Decimal),
    /// The value kind cannot be reported on the measure.
    #[error("a {value} result does not fit a {measure:?} indicator")]
    DoesNotFitMeasure {
        /// The kind of value reported.
        value: &'static str,
        /// The indicator's measure.
        measure: Measure,
    },
    /// A stated percentage of plan below zero.
    #[error("a stated percentage of plan must not be negative, got {0}")]
    NegativePercentOfPlan(Decimal),
    /// A stated change on the previous period of -100 % or less.
    #[error("a stated change on the previous period must be above -100%, got {0}")]
    ChangeAtOrBelowMinus100(Decimal),
    /// Stated figures with nothing in them.
    #[error("stated figures must hold at least one figure (leave them out instead)")]
    EmptyStatedFigures,
}

/// Figures the document writes beside a result, kept as written so that
/// they can be checked against the recorded ones (the findings): "đạt
/// 102,74% kế hoạch", "tăng 16,02% so cùng kỳ".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatedFigures {
    /// "đạt X% kế hoạch / so nghị quyết / chỉ tiêu / dự toán": the
    /// percentage of plan the document states.
    pub percent_of_plan: Option<Decimal>,
    /// "tăng/giảm X% (so) cùng kỳ": the change on the same period of the
    /// year before, signed, in percent.
    pub change_on_previous_pct: Option<Decimal>,
}

impl StatedFigures {
    /// The stated figures, or `None` when neither is given.
    pub fn of(
        percent_of_plan: Option<Decimal>,
        change_on_previous_pct: Option<Decimal>,
    ) -> Option<Self> {
        (percent_of_plan.is_some() || change_on_previous_pct.is_some()).then_some(StatedFigures {
            percent_of_plan,
            change_on_previous_pct,
        })
    }

    /// The previous period's figure a stated change implies for an amount
    /// (`figure` ÷ (1 + change)): the base of a growth or a reduction when
    /// the previous period is not recorded ("tăng 16,02% so cùng kỳ"). Not
    /// for rates, whose "tăng X%" may be points.
    pub fn implied_previous(&self, figure: Decimal, measure: Measure) -> Option<Decimal> {
        if measure != Measure::Amount {
            return None;
        }
        let change = self.change_on_previous_pct?;
        figure
            .checked_mul(Decimal::ONE_HUNDRED)?
            .checked_div(Decimal::ONE_HUNDRED + change)
    }

    /// Checks that the figures can be what a document states.
    pub fn validate(&self) -> Result<(), ResultValueError> {
        if let Some(pct) = self.percent_of_plan {
            if pct.is_sign_negative() && !pct.is_zero() {
                return Err(ResultValueError::NegativePercentOfPlan(pct));
            }
        }
        if let Some(change) = self.change_on_previous_pct {
            if change <= -Decimal::ONE_HUNDRED {
                return Err(ResultValueError::ChangeAtOrBelowMinus100(change));
            }
        }
        if self.percent_of_plan.is_none() && self.change_on_previous_pct.is_none() {
            return Err(ResultValueError::EmptyStatedFigures);
        }
        Ok(())
    }
}

impl ResultValue {
    /// Short name of the value kind.
    pub fn name(&self) -> &'static str {
        match self {
            ResultValue::Amount { .. } => "amount",
            ResultValue::Ratio { .. } => "ratio",
            ResultValue::Milestone { .. } => "milestone",
        }
    }

    /// Checks the value against the indicator's measure.
    pub fn validate_for(&self, measure: Measure) -> Result<(), ResultValueError> {
        let fits = matches!(
            (self, measure),
            (ResultValue::Milestone { .. }, Measure::Milestone)
                | (
                    ResultValue::Amount { .. },
                    Measure::Amount | Measure::Percentage | Measure::PerMille
                )
                | (
                    ResultValue::Ratio { .. },
                    Measure::Ratio | Measure::Percentage | Measure::PerMille
                )
        );
        if !fits {
            return Err(ResultValueError::DoesNotFitMeasure {
                value: self.name(),
                measure,
            });
        }
        if let ResultValue::Ratio {
            numerator,
            denominator,
        } = self
        {
            if *denominator <= Decimal::ZERO {
                return Err(ResultValueError::NonPositiveDenominator(*denominator));
            }
            if numerator.is_sign_negative() && !numerator.is_zero() {
                return Err(ResultValueError::NegativeNumerator(*numerator));
            }
        }
        Ok(())
    }

    /// The figure in the indicator's unit: a ratio becomes a share in percent
    /// (or per mille), unrounded. `None` for milestones.
    pub fn figure(&self, measure: Measure) -> Option<Decimal> {
        match self {
            ResultValue::Amount { value } => Some(*value),
            ResultValue::Ratio {
                numerator,
                denominator,
            } => {
                let scale = if measure == Measure::PerMille {
                    Decimal::ONE_THOUSAND
                } else {
                    Decimal::ONE_HUNDRED
                };
                numerator
                    .checked_mul(scale)
                    .and_then(|n| n.checked_div(*denominator))
            }
            ResultValue::Milestone { .. } => None,
        }
    }
}

/// A reported figure, as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActualReport {
    /// Identity of this report.
    pub report_id: ReportId,
    /// The value.
    pub value: ResultValue,
    /// The date the figure refers to (valid time), e.g. 31/12/2022.
    pub refers_to: NaiveDate,
    /// Estimate or final.
    pub status: ResultStatus,
    /// The document that reports it, where registered.
    pub source: Option<DocumentId>,
    /// A note ("trên" = more than, "khoảng" = about …).
    pub note: Option<Text>,
    /// What the document writes beside the figure (v4 of
    /// `actual_reported`, v2 of `actual_corrected`); left out of the
    /// stored payload when `None`, so a report without them keeps the
    /// bytes (and the approval digests) it had before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated: Option<StatedFigures>,
}

/// The figure that counts, the one rule every view uses: among live
/// reports (not superseded, not corrected) dated on or before `date` (any
/// date when `None`), the latest final one by the date it refers to, then
/// by log position; else the latest estimate the same way. `key` gives
/// each item's status, date and log position.
pub fn figure_that_counts<'a, T>(
    live: impl IntoIterator<Item = &'a T> + Clone,
    key: impl Fn(&T) -> (ResultStatus, NaiveDate, u64),
    date: Option<NaiveDate>,
) -> Option<&'a T> {
    latest_with_status(live.clone(), &key, ResultStatus::Final, date)
        .or_else(|| latest_with_status(live, &key, ResultStatus::Estimate, date))
}

/// The latest live report of one status dated on or before `date`, by the
/// date it refers to, then by log position.
pub fn latest_with_status<'a, T>(
    live: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&T) -> (ResultStatus, NaiveDate, u64),
    status: ResultStatus,
    date: Option<NaiveDate>,
) -> Option<&'a T> {
    live.into_iter()
        .filter(|item| {
            let (s, refers_to, _) = key(item);
            s == status && date.is_none_or(|d| refers_to <= d)
        })
        .max_by_key(|item| {
            let (_, refers_to, position) = key(item);
            (refers_to, position)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_ratio_is_a_share_in_percent() {
        let v = ResultValue::Ratio {
            numerator: dec!(95899),
            denominator: dec!(108808),
        };
        assert_eq!(
            v.figure(Measure::Ratio).map(crate::number::round2),
            Some(dec!(88.14))
        );
    }

    #[test]
    fn values_must_fit_the_measure() {
        let zero = ResultValue::Ratio {
            numerator: dec!(1),
            denominator: dec!(0),
        };
        assert_eq!(
            zero.validate_for(Measure::Ratio),
            Err(ResultValueError::NonPositiveDenominator(dec!(0)))
        );
        let done = ResultValue::Milestone { done: true };
        assert!(done.validate_for(Measure::Amount).is_err());
        assert!(ResultValue::Amount { value: dec!(1) }
            .validate_for(Measure::Milestone)
            .is_err());
        assert!(ResultValue::Amount { value: dec!(1) }
            .validate_for(Measure::Ratio)
            .is_err());
    }
}
