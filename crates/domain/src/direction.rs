//! Which way is good for an indicator: higher, lower, or within a range.
//!
//! Most targets say it by their kind ("≥", "tăng", a floor: higher; "≤",
//! "giảm", a ceiling: lower; "103-105": within). An exact figure with no
//! bound word ("Tỷ lệ trẻ em dưới 5 tuổi suy dinh dưỡng 11‰") does not:
//! Vietnamese planning practice reads it as "at least" ("đạt và vượt"),
//! which is right for output and wrong for a poverty rate, malnutrition,
//! accidents or a third child. For those the indicator's name decides,
//! by the documented word list [`LOWER_IS_BETTER`]: judged the other way,
//! 9‰ against 11‰ is better than the target, 13‰ is not met.

use crate::target::TargetKind;
use serde::{Deserialize, Serialize};

/// Which way is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// More is better (output, coverage, income).
    Higher,
    /// Less is better (poverty, malnutrition, accidents, drop-outs).
    Lower,
    /// Inside the range is what is asked (sex ratio at birth).
    Within,
}

/// How the direction was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BetterBecause {
    /// The target's kind says it (a floor, a ceiling, growth, a reduction,
    /// a range, a comparison with another period).
    Kind,
    /// The indicator's name holds a word of [`LOWER_IS_BETTER`].
    Name,
    /// Neither: an exact figure is read as at least, as the documents do.
    Practice,
    /// A person said so (`setIndicatorDirection`, with a reason).
    Set,
}

/// Words in an indicator's name that make an exact target a ceiling to
/// stay under rather than a figure to reach (matched in lower case, NFC,
/// anywhere in the name). Each names something a resolution wants less
/// of.
pub const LOWER_IS_BETTER: &[&str] = &[
    "hộ nghèo",
    "tỷ lệ nghèo",
    "cận nghèo",
    "suy dinh dưỡng",
    "tai nạn",
    "con thứ ba",
    "con thứ 3",
    "bỏ học",
    "thất nghiệp",
    "tử vong",
    "tội phạm",
    "ma túy",
    "ô nhiễm",
    "cháy nổ",
    "nợ xấu",
    "mắc mới",
    "lây nhiễm",
    "khiếu nại",
    "tái nghèo",
    "thất thoát",
];

/// The direction of an indicator named `name` with a target of `kind`,
/// and why.
pub fn better_of(name: &str, kind: &TargetKind) -> (Better, BetterBecause) {
    match kind {
        TargetKind::AtLeast { .. } | TargetKind::Growth { .. } => {
            (Better::Higher, BetterBecause::Kind)
        }
        TargetKind::AtMost { .. } | TargetKind::ReduceBy { .. } => {
            (Better::Lower, BetterBecause::Kind)
        }
        TargetKind::Range { .. } => (Better::Within, BetterBecause::Kind),
        TargetKind::RelativeToPeriod { direction, .. } => (
            match direction {
                crate::target::Direction::Lower => Better::Lower,
                crate::target::Direction::Higher => Better::Higher,
            },
            BetterBecause::Kind,
        ),
        TargetKind::Plain { .. } | TargetKind::Maintain { .. } | TargetKind::Milestone { .. } => {
            if lower_is_better(name) {
                (Better::Lower, BetterBecause::Name)
            } else {
                (Better::Higher, BetterBecause::Practice)
            }
        }
    }
}

/// The direction of an indicator: what a person set, else
/// [`better_of`]. The one rule every judgement of an indicator uses.
pub fn direction_of(set: Option<Better>, name: &str, kind: &TargetKind) -> (Better, BetterBecause) {
    match set {
        Some(better) => (better, BetterBecause::Set),
        None => better_of(name, kind),
    }
}

/// Whether the name holds a word of [`LOWER_IS_BETTER`].
pub fn lower_is_better(name: &str) -> bool {
    let lower = name.to_lowercase();
    LOWER_IS_BETTER.iter().any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn plain() -> TargetKind {
        TargetKind::Plain {
            value: dec!(11),
            base: None,
        }
    }

    #[test]
    fn the_seeds_lower_is_better_names_are_recognised() {
        for name in [
            "Tỷ lệ trẻ em dưới 5 tuổi suy dinh dưỡng thể nhẹ cân",
            "Giảm tỷ lệ hộ nghèo",
            "Tỷ lệ sinh con thứ ba trở lên",
            "Tai nạn giao thông",
            "Tỷ lệ học sinh bỏ học",
        ] {
            assert_eq!(
                better_of(name, &plain()),
                (Better::Lower, BetterBecause::Name),
                "{name}"
            );
        }
        for name in [
            "Sản lượng lúa",
            "Tổng vốn đầu tư toàn xã hội",
            "Tỷ lệ hộ dùng nước sạch",
        ] {
            assert_eq!(
                better_of(name, &plain()),
                (Better::Higher, BetterBecause::Practice),
                "{name}"
            );
        }
    }

    #[test]
    fn the_kind_decides_before_the_name() {
        let floor = TargetKind::AtLeast {
            value: dec!(1),
            strict: false,
        };
        assert_eq!(better_of("Tỷ lệ hộ nghèo", &floor).0, Better::Higher);
        let range = TargetKind::Range {
            low: dec!(103),
            high: dec!(105),
        };
        assert_eq!(
            better_of("Tỷ số giới tính khi sinh", &range).0,
            Better::Within
        );
    }
}
