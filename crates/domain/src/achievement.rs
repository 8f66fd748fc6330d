//! Achievement (mức độ đạt): how a result stands against a target, computed
//! exactly as the documents compute it.
//!
//! - achievement % = actual / target × 100, rounded to 2 decimals half away
//!   from zero ("2.413/2.000 → 120,65%");
//! - "vượt X%" on an amount = (actual / target − 1) × 100; on an indicator
//!   that is itself a rate, in points (99,89% against 99,82% → 0,07);
//! - growth = actual / base − 1 (1.577,95 / 1.560,781 → 1,10%).

use crate::actual::ResultValue;
use crate::direction::Better;
use crate::indicator::Measure;
use crate::number::round2;
use crate::target::{Direction, Reduction, TargetKind};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Where a result stands against a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AchievementStatus {
    /// Vượt: better than the target.
    Exceeded,
    /// Đạt: exactly at the target, or within it (at most, range, milestone).
    Met,
    /// Chưa đạt.
    NotMet,
    /// Nothing reported after the period closed, or nothing to judge by.
    NoData,
    /// Nothing reported yet and the period (or deadline) is still open.
    NotDue,
}

/// The outcome of comparing a result with a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Achievement {
    /// Status.
    pub status: AchievementStatus,
    /// actual / target × 100, rounded to 2 decimals, where meaningful
    /// (at least, plain, growth with a stated figure).
    pub percent_of_target: Option<Decimal>,
    /// How far above (positive) or below (negative) the target: in points of
    /// the measure for rates, in percent of the target for amounts. Rounded
    /// to 2 decimals.
    pub over_target: Option<Decimal>,
    /// Whether `over_target` is in points (rates) rather than percent.
    pub over_target_in_points: bool,
    /// For growth: actual / base − 1 in percent; for reductions: the
    /// reduction reached (in units, or percent of the base). Rounded.
    pub change_from_base: Option<Decimal>,
}

impl Achievement {
    fn status(status: AchievementStatus) -> Self {
        Achievement {
            status,
            percent_of_target: None,
            over_target: None,
            over_target_in_points: false,
            change_from_base: None,
        }
    }
}

fn compare(figure: Decimal, target: Decimal, strict: bool) -> AchievementStatus {
    match figure.cmp(&target) {
        std::cmp::Ordering::Greater => AchievementStatus::Exceeded,
        std::cmp::Ordering::Equal if !strict => AchievementStatus::Met,
        _ => AchievementStatus::NotMet,
    }
}

fn percent_of(figure: Decimal, target: Decimal) -> Option<Decimal> {
    if target.is_zero() {
        return None;
    }
    figure
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|x| x.checked_div(target))
        .map(round2)
}

fn over(figure: Decimal, target: Decimal, measure: Measure) -> (Option<Decimal>, bool) {
    if measure.is_rate() {
        (figure.checked_sub(target).map(round2), true)
    } else if target.is_zero() {
        (None, false)
    } else {
        let relative = figure
            .checked_div(target)
            .and_then(|r| r.checked_sub(Decimal::ONE))
            .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED))
            .map(round2);
        (relative, false)
    }
}

fn bounded(
    figure: Decimal,
    target: Decimal,
    measure: Measure,
    status: AchievementStatus,
    with_percent: bool,
) -> Achievement {
    let (over_target, in_points) = over(figure, target, measure);
    Achievement {
        status,
        percent_of_target: if with_percent {
            percent_of(figure, target)
        } else {
            None
        },
        over_target,
        over_target_in_points: in_points,
        change_from_base: None,
    }
}

/// Compares `actual` with `target` for an indicator of `measure` on which
/// `better` is good ([`crate::direction::better_of`]): an exact figure or a
/// level to keep on a lower-is-better indicator is a ceiling, and beating
/// it is going under it.
///
/// `base` is the comparison figure the target needs when it does not state
/// one: the previous period's actual for growth and reductions, the named
/// period's actual for a comparison with another period. `due` is the end
/// of the period (or the milestone's deadline); `today` decides between
/// "not due" and "no data" when nothing is reported.
pub fn achievement(
    target: &TargetKind,
    measure: Measure,
    better: Better,
    actual: Option<&ResultValue>,
    base: Option<Decimal>,
    due: NaiveDate,
    today: NaiveDate,
) -> Achievement {
    use AchievementStatus::*;
    let open_or_missing =
        |deadline: NaiveDate| Achievement::status(if today <= deadline { NotDue } else { NoData });

    if let TargetKind::Milestone { deadline } = target {
        let deadline = deadline.unwrap_or(due);
        return match actual {
            Some(ResultValue::Milestone { done: true }) => Achievement::status(Met),
            Some(ResultValue::Milestone { done: false }) if today <= deadline => {
                Achievement::status(NotDue)
            }
            Some(ResultValue::Milestone { done: false }) => Achievement::status(NotMet),
            Some(_) => Achievement::status(NoData),
            None => open_or_missing(deadline),
        };
    }
    let Some(actual) = actual else {
        return open_or_missing(due);
    };
    let Some(figure) = actual.figure(measure) else {
        // A milestone report against a numeric target: only "maintain"
        // without a level can be judged by it.
        return match (target, actual) {
            (TargetKind::Maintain { level: None }, ResultValue::Milestone { done }) => {
                Achievement::status(if *done { Met } else { NotMet })
            }
            _ => Achievement::status(NoData),
        };
    };
    match target {
        TargetKind::AtLeast { value, strict } => bounded(
            figure,
            *value,
            measure,
            compare(figure, *value, *strict),
            true,
        ),
        TargetKind::Plain { value, .. } => {
            let status = if better == Better::Lower {
                compare(*value, figure, false)
            } else {
                compare(figure, *value, false)
            };
            bounded(figure, *value, measure, status, true)
        }
        TargetKind::AtMost { value, strict } => {
            let within = if *strict {
                figure < *value
            } else {
                figure <= *value
            };
            bounded(
                figure,
                *value,
                measure,
                if within { Met } else { NotMet },
                false,
            )
        }
        TargetKind::Range { low, high } => {
            let status = if *low <= figure && figure <= *high {
                Met
            } else {
                NotMet
            };
            Achievement::status(status)
        }
        // "Tốc độ tăng trưởng 12%" on an indicator whose figures are in
        // percent: the figures are the growth rates themselves.
        TargetKind::Growth {
            rate,
            base: None,
            value: None,
        } if measure == Measure::Percentage => Achievement {
            change_from_base: Some(round2(figure)),
            ..bounded(figure, *rate, measure, compare(figure, *rate, false), false)
        },
        TargetKind::Growth {
            rate,
            base: stated,
            value,
        } => {
            let base = stated.or(base);
            let growth = base.filter(|b| !b.is_zero()).and_then(|b| {
                figure
                    .checked_div(b)
                    .and_then(|r| r.checked_sub(Decimal::ONE))
                    .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED))
            });
            let mut result = match (value, growth, base) {
                (Some(v), _, _) => bounded(figure, *v, measure, compare(figure, *v, false), true),
                // No stated figure: the plan is base × (1 + rate), as the
                // documents derive it ("đạt 103,59% kế hoạch"), and the
                // growth is also compared in points with the rate.
                (None, Some(g), Some(base)) => {
                    let plan = base
                        .checked_mul(Decimal::ONE_HUNDRED + *rate)
                        .and_then(|p| p.checked_div(Decimal::ONE_HUNDRED));
                    Achievement {
                        status: compare(round2(g), round2(*rate), false),
                        percent_of_target: plan.and_then(|p| percent_of(figure, p)),
                        over_target: Some(round2(g - *rate)),
                        over_target_in_points: true,
                        change_from_base: None,
                    }
                }
                _ => Achievement::status(NoData),
            };
            result.change_from_base = growth.map(round2);
            result
        }
        TargetKind::ReduceBy {
            amount,
            measure: how,
            base: stated,
        } => {
            let Some(base) = stated.or(base) else {
                return Achievement::status(NoData);
            };
            let reduction = match how {
                Reduction::Absolute => base.checked_sub(figure),
                Reduction::PercentOfBase if base.is_zero() => None,
                Reduction::PercentOfBase => base
                    .checked_sub(figure)
                    .and_then(|d| d.checked_mul(Decimal::ONE_HUNDRED))
                    .and_then(|d| d.checked_div(base))
                    .map(round2),
            };
            match reduction {
                Some(r) => Achievement {
                    change_from_base: Some(round2(r)),
                    ..Achievement::status(compare(r, *amount, false))
                },
                None => Achievement::status(NoData),
            }
        }
        TargetKind::RelativeToPeriod { direction, .. } => match base {
            Some(base) => {
                let ok = match direction {
                    Direction::Lower => figure < base,
                    Direction::Higher => figure > base,
                };
                Achievement {
                    change_from_base: figure.checked_sub(base).map(round2),
                    ..Achievement::status(if ok { Met } else { NotMet })
                }
            }
            None => Achievement::status(NoData),
        },
        TargetKind::Maintain { level } => match level.or(base) {
            Some(level) => {
                let kept = if better == Better::Lower {
                    figure <= level
                } else {
                    figure >= level
                };
                Achievement::status(if kept { Met } else { NotMet })
            }
            None => Achievement::status(NoData),
        },
        TargetKind::Milestone { .. } => Achievement::status(NoData),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use AchievementStatus::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn check(
        target: TargetKind,
        measure: Measure,
        actual: ResultValue,
        base: Option<Decimal>,
    ) -> Achievement {
        achievement(
            &target,
            measure,
            crate::direction::better_of("", &target).0,
            Some(&actual),
            base,
            day(2022, 12, 31),
            day(2023, 3, 1),
        )
    }

    fn amount(value: Decimal) -> ResultValue {
        ResultValue::Amount { value }
    }

    #[test]
    fn total_investment_2413_of_2000_is_120_65_percent_and_exceeds_by_20_65() {
        let a = check(
            TargetKind::Plain {
                value: dec!(2000),
                base: None,
            },
            Measure::Amount,
            amount(dec!(2413)),
            None,
        );
        assert_eq!(a.status, Exceeded);
        assert_eq!(a.percent_of_target, Some(dec!(120.65)));
        assert_eq!(a.over_target, Some(dec!(20.65)));
        assert!(!a.over_target_in_points);
    }

    #[test]
    fn cash_crop_area_3171_98_of_3081_5_is_102_94_percent() {
        let a = check(
            TargetKind::Plain {
                value: dec!(3081.5),
                base: None,
            },
            Measure::Amount,
            amount(dec!(3171.98)),
            None,
        );
        assert_eq!(a.percent_of_target, Some(dec!(102.94)));
        assert_eq!(a.status, Exceeded);
    }

    #[test]
    fn enterprises_41_of_40_is_102_5_percent() {
        let a = check(
            TargetKind::Plain {
                value: dec!(40),
                base: None,
            },
            Measure::Amount,
            amount(dec!(41)),
            None,
        );
        assert_eq!(a.percent_of_target, Some(dec!(102.50)));
    }

    #[test]
    fn disbursement_366_974_of_399_505_is_91_86_percent_and_not_met() {
        let a = check(
            TargetKind::Plain {
                value: dec!(399.505),
                base: None,
            },
            Measure::Amount,
            amount(dec!(366.974)),
            None,
        );
        assert_eq!(a.percent_of_target, Some(dec!(91.86)));
        assert_eq!(a.status, NotMet);
    }

    #[test]
    fn canals_70_of_70_are_met_at_100_percent() {
        let a = check(
            TargetKind::Plain {
                value: dec!(70),
                base: None,
            },
            Measure::Amount,
            amount(dec!(70)),
            None,
        );
        assert_eq!((a.status, a.percent_of_target), (Met, Some(dec!(100))));
    }

    #[test]
    fn growth_1577_95_on_1560_781_is_1_10_percent() {
        let target = TargetKind::Growth {
            rate: dec!(1.1),
            base: Some(dec!(1560.781)),
            value: Some(dec!(1577.95)),
        };
        let a = check(target, Measure::Amount, amount(dec!(1577.95)), None);
        assert_eq!(a.change_from_base, Some(dec!(1.10)));
        assert_eq!(a.status, Met);
        assert_eq!(a.percent_of_target, Some(dec!(100)));
    }

    #[test]
    fn growth_without_stated_figure_compares_the_rate_on_the_previous_actual() {
        let target = TargetKind::Growth {
            rate: dec!(12),
            base: None,
            value: None,
        };
        // 002: gross output grew 16,02% against a 12% resolution target.
        let a = check(
            target.clone(),
            Measure::Amount,
            amount(dec!(116.02)),
            Some(dec!(100)),
        );
        assert_eq!(
            (a.status, a.change_from_base),
            (Exceeded, Some(dec!(16.02)))
        );
        // The plan is 100 × 1,12 = 112: 116,02 is 103,59% of it, and the
        // growth is 4,02 points above the rate.
        assert_eq!(a.percent_of_target, Some(dec!(103.59)));
        assert_eq!(
            (a.over_target, a.over_target_in_points),
            (Some(dec!(4.02)), true)
        );
        let none = check(target.clone(), Measure::Amount, amount(dec!(116.02)), None);
        assert_eq!(none.status, NoData);
        // On a growth-rate indicator (in percent) the figure is the rate.
        let rate = check(
            target,
            Measure::Percentage,
            amount(dec!(16.02)),
            Some(dec!(9)),
        );
        assert_eq!(rate.status, Exceeded);
        assert_eq!(
            (rate.over_target, rate.over_target_in_points),
            (Some(dec!(4.02)), true)
        );
    }

    #[test]
    fn electricity_99_89_against_99_82_exceeds_by_0_07_points() {
        let target = TargetKind::AtLeast {
            value: dec!(99.82),
            strict: false,
        };
        let a = check(target, Measure::Percentage, amount(dec!(99.89)), None);
        assert_eq!(a.status, Exceeded);
        assert_eq!(a.over_target, Some(dec!(0.07)));
        assert!(a.over_target_in_points);
    }

    #[test]
    fn health_insurance_84_51_meets_the_resolution_but_not_the_province() {
        let resolution = TargetKind::AtLeast {
            value: dec!(80),
            strict: false,
        };
        let province = TargetKind::AtLeast {
            value: dec!(88.91),
            strict: false,
        };
        assert_eq!(
            check(resolution, Measure::Percentage, amount(dec!(84.51)), None).status,
            Exceeded
        );
        let p = check(province, Measure::Percentage, amount(dec!(84.51)), None);
        assert_eq!((p.status, p.over_target), (NotMet, Some(dec!(-4.40))));
    }

    #[test]
    fn more_than_means_the_bound_itself_falls_short() {
        let target = TargetKind::AtLeast {
            value: dec!(85),
            strict: true,
        };
        assert_eq!(
            check(target.clone(), Measure::Percentage, amount(dec!(85)), None).status,
            NotMet
        );
        assert_eq!(
            check(target, Measure::Percentage, amount(dec!(85.01)), None).status,
            Exceeded
        );
    }

    #[test]
    fn at_most_late_files_1_percent() {
        let target = TargetKind::AtMost {
            value: dec!(1),
            strict: false,
        };
        assert_eq!(
            check(target.clone(), Measure::Percentage, amount(dec!(0.8)), None).status,
            Met
        );
        assert_eq!(
            check(target.clone(), Measure::Percentage, amount(dec!(1)), None).status,
            Met
        );
        let over = check(target, Measure::Percentage, amount(dec!(1.2)), None);
        assert_eq!((over.status, over.over_target), (NotMet, Some(dec!(0.2))));
        let below = TargetKind::AtMost {
            value: dec!(4),
            strict: true,
        };
        assert_eq!(
            check(below, Measure::Percentage, amount(dec!(4)), None).status,
            NotMet
        );
    }

    #[test]
    fn sex_ratio_range_103_to_105() {
        let target = TargetKind::Range {
            low: dec!(103),
            high: dec!(105),
        };
        assert_eq!(
            check(target.clone(), Measure::Amount, amount(dec!(104.2)), None).status,
            Met
        );
        assert_eq!(
            check(target.clone(), Measure::Amount, amount(dec!(103)), None).status,
            Met
        );
        assert_eq!(
            check(target, Measure::Amount, amount(dec!(106)), None).status,
            NotMet
        );
    }

    #[test]
    fn poverty_reduction_by_26_households_and_by_15_percent_of_the_stock() {
        let households = TargetKind::ReduceBy {
            amount: dec!(26),
            measure: Reduction::Absolute,
            base: Some(dec!(173)),
        };
        let a = check(households, Measure::Amount, amount(dec!(140)), None);
        assert_eq!((a.status, a.change_from_base), (Exceeded, Some(dec!(33))));
        let share = TargetKind::ReduceBy {
            amount: dec!(15),
            measure: Reduction::PercentOfBase,
            base: None,
        };
        let b = check(share, Measure::Amount, amount(dec!(150)), Some(dec!(173)));
        assert_eq!((b.status, b.change_from_base), (NotMet, Some(dec!(13.29))));
    }

    #[test]
    fn poverty_rate_reduction_in_points() {
        let target = TargetKind::ReduceBy {
            amount: dec!(1.8),
            measure: Reduction::Absolute,
            base: None,
        };
        let a = check(
            target,
            Measure::Percentage,
            amount(dec!(2.1)),
            Some(dec!(3.9)),
        );
        assert_eq!((a.status, a.change_from_base), (Met, Some(dec!(1.8))));
    }

    #[test]
    fn fewer_traffic_accidents_than_2024() {
        let target = TargetKind::RelativeToPeriod {
            period: crate::Period::Year(2024),
            direction: Direction::Lower,
        };
        assert_eq!(
            check(
                target.clone(),
                Measure::Amount,
                amount(dec!(40)),
                Some(dec!(45))
            )
            .status,
            Met
        );
        assert_eq!(
            check(
                target.clone(),
                Measure::Amount,
                amount(dec!(45)),
                Some(dec!(45))
            )
            .status,
            NotMet
        );
        assert_eq!(
            check(target, Measure::Amount, amount(dec!(45)), None).status,
            NoData
        );
    }

    #[test]
    fn milestones_are_not_due_until_their_deadline() {
        let target = TargetKind::Milestone {
            deadline: Some(day(2025, 12, 31)),
        };
        let not_done = ResultValue::Milestone { done: false };
        let before = achievement(
            &target,
            Measure::Milestone,
            Better::Higher,
            Some(&not_done),
            None,
            day(2025, 12, 31),
            day(2025, 6, 1),
        );
        assert_eq!(before.status, NotDue);
        let after = achievement(
            &target,
            Measure::Milestone,
            Better::Higher,
            Some(&not_done),
            None,
            day(2025, 12, 31),
            day(2026, 1, 1),
        );
        assert_eq!(after.status, NotMet);
        let done = ResultValue::Milestone { done: true };
        assert_eq!(
            achievement(
                &target,
                Measure::Milestone,
                Better::Higher,
                Some(&done),
                None,
                day(2025, 12, 31),
                day(2025, 6, 1)
            )
            .status,
            Met
        );
        assert_eq!(
            achievement(
                &target,
                Measure::Milestone,
                Better::Higher,
                None,
                None,
                day(2025, 12, 31),
                day(2026, 2, 1)
            )
            .status,
            NoData
        );
    }

    #[test]
    fn nothing_reported_is_not_due_while_the_period_is_open() {
        let target = TargetKind::Plain {
            value: dec!(85000),
            base: None,
        };
        let open = achievement(
            &target,
            Measure::Amount,
            Better::Higher,
            None,
            None,
            day(2025, 12, 31),
            day(2025, 3, 1),
        );
        assert_eq!(open.status, NotDue);
        let closed = achievement(
            &target,
            Measure::Amount,
            Better::Higher,
            None,
            None,
            day(2025, 12, 31),
            day(2026, 3, 1),
        );
        assert_eq!(closed.status, NoData);
    }

    #[test]
    fn maintain_15_communes_at_the_national_health_standard() {
        let target = TargetKind::Maintain {
            level: Some(dec!(15)),
        };
        assert_eq!(
            check(target.clone(), Measure::Amount, amount(dec!(15)), None).status,
            Met
        );
        assert_eq!(
            check(target, Measure::Amount, amount(dec!(14)), None).status,
            NotMet
        );
    }

    #[test]
    fn ratio_results_are_judged_as_shares() {
        // 002: "95.899/108.808 người, đạt 88,14%" against an 88% coverage target.
        let target = TargetKind::AtLeast {
            value: dec!(88),
            strict: false,
        };
        let ratio = ResultValue::Ratio {
            numerator: dec!(95899),
            denominator: dec!(108808),
        };
        let a = check(target, Measure::Ratio, ratio, None);
        assert_eq!((a.status, a.over_target), (Exceeded, Some(dec!(0.14))));
    }

    /// Every kind × direction × beat / meet / miss, on the figures of the
    /// seeds' lower-is-better indicators (001's malnutrition "11‰").
    #[test]
    fn a_target_is_judged_the_way_its_indicator_is_good() {
        let judge = |name: &str, target: TargetKind, figure: Decimal| {
            let better = crate::direction::better_of(name, &target).0;
            check_with(target, better, amount(figure)).status
        };
        let plain = |v| TargetKind::Plain {
            value: v,
            base: None,
        };
        let malnutrition = "Tỷ lệ trẻ em dưới 5 tuổi suy dinh dưỡng";
        // Exact figure, lower is better: under beats, at meets, over misses.
        assert_eq!(judge(malnutrition, plain(dec!(11)), dec!(9)), Exceeded);
        assert_eq!(judge(malnutrition, plain(dec!(11)), dec!(11)), Met);
        assert_eq!(judge(malnutrition, plain(dec!(11)), dec!(13)), NotMet);
        // Exact figure, higher is better.
        let rice = "Sản lượng lúa";
        assert_eq!(judge(rice, plain(dec!(85000)), dec!(86000)), Exceeded);
        assert_eq!(judge(rice, plain(dec!(85000)), dec!(85000)), Met);
        assert_eq!(judge(rice, plain(dec!(85000)), dec!(84000)), NotMet);
        // A floor: higher is better whatever the name.
        let floor = |v| TargetKind::AtLeast {
            value: v,
            strict: false,
        };
        assert_eq!(judge(rice, floor(dec!(78)), dec!(80)), Exceeded);
        assert_eq!(judge(rice, floor(dec!(78)), dec!(78)), Met);
        assert_eq!(judge(rice, floor(dec!(78)), dec!(70)), NotMet);
        // A ceiling: lower is better; within it is met.
        let ceiling = |v| TargetKind::AtMost {
            value: v,
            strict: false,
        };
        assert_eq!(judge("Tỷ lệ hộ nghèo", ceiling(dec!(1)), dec!(0.8)), Met);
        assert_eq!(judge("Tỷ lệ hộ nghèo", ceiling(dec!(1)), dec!(1)), Met);
        assert_eq!(judge("Tỷ lệ hộ nghèo", ceiling(dec!(1)), dec!(1.2)), NotMet);
        // A range: within.
        let range = TargetKind::Range {
            low: dec!(103),
            high: dec!(105),
        };
        assert_eq!(
            judge("Tỷ số giới tính khi sinh", range.clone(), dec!(104)),
            Met
        );
        assert_eq!(
            judge("Tỷ số giới tính khi sinh", range.clone(), dec!(103)),
            Met
        );
        assert_eq!(judge("Tỷ số giới tính khi sinh", range, dec!(107)), NotMet);
        // A level to keep on a lower-is-better indicator: not above it.
        let keep = TargetKind::Maintain {
            level: Some(dec!(2)),
        };
        assert_eq!(judge("Tỷ lệ sinh con thứ ba", keep.clone(), dec!(1.5)), Met);
        assert_eq!(judge("Tỷ lệ sinh con thứ ba", keep, dec!(2.5)), NotMet);
    }

    fn check_with(target: TargetKind, better: Better, actual: ResultValue) -> Achievement {
        achievement(
            &target,
            Measure::Amount,
            better,
            Some(&actual),
            None,
            day(2022, 12, 31),
            day(2023, 3, 1),
        )
    }
}
