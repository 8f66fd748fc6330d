//! Findings: the documents' internal inconsistencies, found in what is
//! recorded. Every rule here is pure and works on [`Facts`], which a read
//! side assembles from its views; nothing is flagged that the recorded
//! figures do not show, and each finding names the indicators and the
//! figures involved.
//!
//! The rules:
//!
//! - **A stated percentage its own figures do not give**
//!   ([`FindingKind::PercentNotReproduced`]): a result's "đạt X% kế hoạch"
//!   against the target of any track (value ÷ target); against a growth
//!   target and the stated change on the year before ((100 + change) ÷
//!   (100 + rate)); and, with no target recorded, for a count ("sản
//!   phẩm", "hộ", "người" …, see [`COUNT_UNITS`]) for which no whole plan
//!   gives the percentage; and a growth target's own figures (value ÷
//!   base against its rate: "1.577,95 tỷ đồng, tăng trưởng 1,1%
//!   (1.577,95/1.560,781)"). A percentage is reproduced when it is within
//!   half a unit of its last written decimal (at least 0,01).
//! - **Parts that do not sum to their total**
//!   ([`FindingKind::PartsDoNotSum`]): the indicators recorded as parts of
//!   another (their `parent`), additive and in the same unit, against the
//!   total's figure and the total's resolution target. More than the total
//!   is a warning; less is informative (something is not broken down).
//! - **A result reported as met that misses a target**
//!   ([`FindingKind::ReportedMetBelowTarget`]): it meets one track and
//!   misses another, or its document states ≥ 100 % of plan while a
//!   recorded target is not met.
//! - **Tracks of one indicator that disagree**: informative
//!   ([`FindingKind::TracksDisagree`]) when the figures differ, a warning
//!   when the stretch ("phấn đấu") asks less than the main target
//!   ([`FindingKind::StretchLessAmbitious`]).
//! - **One document stating a target two ways**
//!   ([`FindingKind::StatedTwice`]): a track's target in force and a
//!   restatement of it cite the same document with different wordings
//!   and different targets.
//! - **A stated change on the year before that the previous figure does
//!   not give** ([`FindingKind::PreviousFigureDiffers`]), for amounts.
//! - **A target that plans no improvement** on the previous period's
//!   result ([`FindingKind::NoImprovementPlanned`], informative): equal to
//!   it, or on the wrong side of it; far below it, the scopes may differ.

use crate::achievement::{achievement, AchievementStatus};
use crate::actual::{ReportId, ResultValue, StatedFigures};
use crate::direction::Better;
use crate::indicator::{IndicatorId, Measure};
use crate::number::{format_vietnamese, round2};
use crate::target::{Target, TargetKind, TargetTrack};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What kind of inconsistency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A stated percentage of plan the recorded figures do not give.
    PercentNotReproduced,
    /// Parts that do not sum to their total.
    PartsDoNotSum,
    /// A result reported as met that misses a recorded target.
    ReportedMetBelowTarget,
    /// Two tracks of one indicator with different figures.
    TracksDisagree,
    /// A stretch target that asks less than the main one.
    StretchLessAmbitious,
    /// One document states the same target two ways.
    StatedTwice,
    /// A stated change on the year before the previous figure does not give.
    PreviousFigureDiffers,
    /// A target equal to, or worse than, the previous period's result.
    NoImprovementPlanned,
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The figures cannot all be true as written.
    Warning,
    /// Worth a look; the figures can be reconciled.
    Info,
}

/// One figure a finding rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingFigure {
    /// The indicator it belongs to.
    pub indicator: IndicatorId,
    /// What it is: `result`, `target:<track>`, `stated_percent_of_plan`,
    /// `stated_change_on_previous_pct`, `computed_percent`, `previous_result`,
    /// `sum_of_parts`, `part`.
    pub role: String,
    /// The figure.
    pub value: Decimal,
}

/// One inconsistency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// How much it matters.
    pub severity: Severity,
    /// The indicator it is about.
    pub indicator: IndicatorId,
    /// Other indicators involved (parts, the previous period).
    pub related: Vec<IndicatorId>,
    /// The report it is about, where one.
    pub report: Option<ReportId>,
    /// The figures it rests on.
    pub figures: Vec<FindingFigure>,
    /// In English.
    pub en: String,
    /// In Vietnamese.
    pub vi: String,
}

/// One track of an indicator, as recorded.
#[derive(Debug, Clone, Copy)]
pub struct TrackFacts<'a> {
    /// The track.
    pub track: TargetTrack,
    /// Its current target.
    pub current: &'a Target,
    /// Other statements of it not in force (restatements), oldest first.
    pub restated: &'a [Target],
}

/// The figure that counts of an indicator.
#[derive(Debug, Clone, Copy)]
pub struct FigureFacts<'a> {
    /// Its report.
    pub report: ReportId,
    /// The value as reported.
    pub value: &'a ResultValue,
    /// The date it refers to.
    pub refers_to: NaiveDate,
    /// What the document states beside it.
    pub stated: Option<&'a StatedFigures>,
}

/// What the rules need of one indicator.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The indicator.
    pub id: IndicatorId,
    /// Its name.
    pub name: &'a str,
    /// Its unit as written.
    pub unit: Option<&'a str>,
    /// Its measure.
    pub measure: Measure,
    /// Which way is good.
    pub better: Better,
    /// Its tracks.
    pub tracks: Vec<TrackFacts<'a>>,
    /// The figure that counts, if any.
    pub figure: Option<FigureFacts<'a>>,
    /// The linked previous period's indicator and its figure.
    pub previous: Option<(IndicatorId, Decimal)>,
}

/// Units that count whole things, for the "no whole plan gives it" rule
/// (matched on the unit's first words, case-insensitively).
pub const COUNT_UNITS: &[&str] = &[
    "sản phẩm",
    "doanh nghiệp",
    "hợp tác xã",
    "học sinh",
    "lao động",
    "người",
    "hộ",
    "con",
    "xã",
    "đồng chí",
    "đảng viên",
    "chi bộ",
    "tổ",
    "công trình",
    "trường",
    "tuyến",
    "cơ sở",
    "dự án",
    "căn",
    "cuộc",
    "lượt",
];

fn is_count_unit(unit: Option<&str>) -> bool {
    let Some(unit) = unit else { return false };
    let unit = unit.trim().to_lowercase();
    COUNT_UNITS.iter().any(|u| {
        unit == *u
            || unit
                .strip_prefix(u)
                .is_some_and(|rest| rest.starts_with(' ') && !rest.contains('/'))
    })
}

fn vn(d: Decimal) -> String {
    format_vietnamese(d)
}

/// Half a unit of the last decimal written, at least 0,01: how far a
/// computed percentage may be from a stated one and still be the same.
pub fn tolerance(stated: Decimal) -> Decimal {
    let half = Decimal::new(5, stated.normalize().scale() + 1);
    half.max(Decimal::new(1, 2))
}

/// Whether `computed` is what a document writing `stated` meant.
pub fn reproduces(computed: Decimal, stated: Decimal) -> bool {
    (computed - stated).abs() <= tolerance(stated)
}

/// value ÷ target × 100 (rounded to 2 decimals) when a document stating
/// `stated` % of plan for `value` against `target` is not reproduced by
/// them; `None` when it is. The importer's notice and the findings share it.
pub fn percent_of_plan_mismatch(
    value: Decimal,
    target: Decimal,
    stated: Decimal,
) -> Option<Option<Decimal>> {
    match percent(value, target) {
        Some(c) if reproduces(c, stated) => None,
        c => Some(c.map(round2)),
    }
}

/// value ÷ target × 100, where the target is a level.
fn percent(value: Decimal, target: Decimal) -> Option<Decimal> {
    if target.is_zero() {
        return None;
    }
    value
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|v| v.checked_div(target))
}

fn level(kind: &TargetKind) -> Option<Decimal> {
    match kind {
        TargetKind::Plain { value, .. }
        | TargetKind::AtLeast { value, .. }
        | TargetKind::AtMost { value, .. } => Some(*value),
        _ => None,
    }
}

/// A target's figure for comparing tracks, with its family: a level, a
/// growth rate, a reduction (in its measure). Tracks compare within one.
fn ambition(kind: &TargetKind) -> Option<(u8, Decimal)> {
    match kind {
        TargetKind::Plain { value, .. }
        | TargetKind::AtLeast { value, .. }
        | TargetKind::AtMost { value, .. } => Some((0, *value)),
        TargetKind::Growth { rate, .. } => Some((1, *rate)),
        TargetKind::ReduceBy {
            amount, measure, ..
        } => Some((2 + *measure as u8, *amount)),
        _ => None,
    }
}

fn track_vi(track: TargetTrack) -> &'static str {
    match track {
        TargetTrack::Resolution => "nghị quyết",
        TargetTrack::Assigned => "cấp trên giao",
        TargetTrack::Stretch => "phấn đấu",
    }
}

fn track_en(track: TargetTrack) -> &'static str {
    match track {
        TargetTrack::Resolution => "resolution",
        TargetTrack::Assigned => "assigned",
        TargetTrack::Stretch => "stretch",
    }
}

fn figure(indicator: IndicatorId, role: impl Into<String>, value: Decimal) -> FindingFigure {
    FindingFigure {
        indicator,
        role: role.into(),
        value,
    }
}

/// The findings about one indicator on its own (and its previous period).
pub fn of_indicator(facts: &Facts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    growth_arithmetic(facts, &mut out);
    percent_of_plan(facts, &mut out);
    previous_figure(facts, &mut out);
    met_below_target(facts, &mut out);
    tracks(facts, &mut out);
    stated_twice(facts, &mut out);
    no_improvement(facts, &mut out);
    out
}

fn growth_arithmetic(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    for t in &facts.tracks {
        let TargetKind::Growth {
            rate,
            base: Some(base),
            value: Some(value),
        } = t.current.kind
        else {
            continue;
        };
        let Some(computed) = percent(value, base).map(|p| p - Decimal::ONE_HUNDRED) else {
            continue;
        };
        if reproduces(computed, rate) {
            continue;
        }
        let computed = round2(computed);
        let role = format!("target:{}", track_en(t.track));
        out.push(Finding {
            kind: FindingKind::PercentNotReproduced,
            severity: Severity::Warning,
            indicator: facts.id,
            related: Vec::new(),
            report: None,
            figures: vec![
                figure(facts.id, role.clone(), rate),
                figure(facts.id, format!("{role}:value"), value),
                figure(facts.id, format!("{role}:base"), base),
                figure(facts.id, "computed_percent", computed),
            ],
            en: format!(
                "the target states growth of {}%, but {} / {} is {}%",
                rate.normalize(),
                value.normalize(),
                base.normalize(),
                computed
            ),
            vi: format!(
                "chỉ tiêu ghi tăng trưởng {}%, nhưng {}/{} chỉ là {}%",
                vn(rate),
                vn(value),
                vn(base),
                vn(computed)
            ),
        });
    }
}

fn percent_of_plan(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    let Some(fig) = &facts.figure else { return };
    let Some(stated) = fig.stated.and_then(|s| s.percent_of_plan) else {
        return;
    };
    let Some(value) = fig.value.figure(facts.measure) else {
        return;
    };
    let id = facts.id;
    let base = |extra: Vec<FindingFigure>| {
        let mut figures = vec![
            figure(id, "result", value),
            figure(id, "stated_percent_of_plan", stated),
        ];
        figures.extend(extra);
        figures
    };
    // Against the level of each track: reproduced by one is enough.
    let levels: Vec<(TargetTrack, Decimal)> = facts
        .tracks
        .iter()
        .filter_map(|t| level(&t.current.kind).map(|l| (t.track, l)))
        .collect();
    if !levels.is_empty() {
        let computed: Vec<(TargetTrack, Decimal, Option<Decimal>)> = levels
            .iter()
            .map(|(t, l)| (*t, *l, percent(value, *l)))
            .collect();
        let any = computed
            .iter()
            .any(|(_, _, c)| c.is_some_and(|c| reproduces(c, stated)));
        if !any {
            let (track, target, c) = computed[0];
            let c = c.map(round2);
            let shown = c.map_or("—".to_owned(), vn);
            out.push(Finding {
                kind: FindingKind::PercentNotReproduced,
                severity: Severity::Warning,
                indicator: id,
                related: Vec::new(),
                report: Some(fig.report),
                figures: base(
                    [figure(id, format!("target:{}", track_en(track)), target)]
                        .into_iter()
                        .chain(c.map(|c| figure(id, "computed_percent", c)))
                        .collect(),
                ),
                en: format!(
                    "the document states {}% of plan; {} / {} ({} target) gives {}%",
                    stated,
                    value.normalize(),
                    target.normalize(),
                    track_en(track),
                    c.map_or("—".to_owned(), |c| c.to_string())
                ),
                vi: format!(
                    "văn bản ghi đạt {}% kế hoạch; {}/{} (mức {}) tính ra {}%",
                    vn(stated),
                    vn(value),
                    vn(target),
                    track_vi(track),
                    shown
                ),
            });
        }
        return;
    }
    // Against a growth target and the stated change on the year before.
    let growth = facts.tracks.iter().find_map(|t| match t.current.kind {
        TargetKind::Growth { rate, .. } => Some((t.track, rate)),
        _ => None,
    });
    let change = fig.stated.and_then(|s| s.change_on_previous_pct);
    if let (Some((track, rate)), Some(change)) = (growth, change) {
        let implied = (Decimal::ONE_HUNDRED + change)
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|v| v.checked_div(Decimal::ONE_HUNDRED + rate));
        if let Some(implied) = implied {
            // The stated change is itself rounded: allow for it.
            let slack = tolerance(change) * Decimal::ONE_HUNDRED / (Decimal::ONE_HUNDRED + rate);
            if (implied - stated).abs() > tolerance(stated) + slack {
                let implied = round2(implied);
                out.push(Finding {
                    kind: FindingKind::PercentNotReproduced,
                    severity: Severity::Warning,
                    indicator: id,
                    related: Vec::new(),
                    report: Some(fig.report),
                    figures: base(vec![
                        figure(id, "stated_change_on_previous_pct", change),
                        figure(id, format!("target:{}", track_en(track)), rate),
                        figure(id, "computed_percent", implied),
                    ]),
                    en: format!(
                        "the document states {}% of plan and {:+}% on the year before; against a growth target of {}% that is {}%",
                        stated, change.normalize(), rate.normalize(), implied
                    ),
                    vi: format!(
                        "văn bản ghi đạt {}% kế hoạch và tăng {}% so cùng kỳ; với chỉ tiêu tăng trưởng {}% thì phải là {}% ((100 + {}) / (100 + {}))",
                        vn(stated), vn(change), vn(rate), vn(implied), vn(change), vn(rate)
                    ),
                });
            }
        }
        return;
    }
    // No target recorded: a count needs a whole plan.
    if is_count_unit(facts.unit)
        && value.fract().is_zero()
        && stated > Decimal::ZERO
        && value > Decimal::ZERO
    {
        let Some(plan) = value
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|v| v.checked_div(stated))
        else {
            return;
        };
        let candidates = [plan.floor(), plan.ceil()];
        let whole = candidates
            .iter()
            .any(|p| percent(value, *p).is_some_and(|c| reproduces(c, stated)));
        if !whole {
            let unit = facts.unit.unwrap_or_default();
            let tries: Vec<String> = candidates
                .iter()
                .filter(|p| !p.is_zero())
                .filter_map(|p| percent(value, *p).map(|c| (p, round2(c))))
                .map(|(p, c)| format!("{}/{} = {}%", vn(value), vn(*p), vn(c)))
                .collect();
            out.push(Finding {
                kind: FindingKind::PercentNotReproduced,
                severity: Severity::Warning,
                indicator: id,
                related: Vec::new(),
                report: Some(fig.report),
                figures: base(vec![figure(id, "implied_plan", round2(plan))]),
                en: format!(
                    "{} {unit} at {}% of plan implies a plan of {} {unit}, not a whole number ({})",
                    value.normalize(),
                    stated,
                    round2(plan),
                    tries.join(", ")
                ),
                vi: format!(
                    "{} {unit} đạt {}% kế hoạch thì kế hoạch là {} {unit}, không phải số nguyên ({})",
                    vn(value),
                    vn(stated),
                    vn(round2(plan)),
                    tries.join("; ")
                ),
            });
        }
    }
}

fn previous_figure(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    let (Some(fig), Some((previous, before))) = (&facts.figure, facts.previous) else {
        return;
    };
    let Some(change) = fig.stated.and_then(|s| s.change_on_previous_pct) else {
        return;
    };
    // "tăng X%" of a rate may be points or percent: only amounts.
    if facts.measure != Measure::Amount || before <= Decimal::ZERO {
        return;
    }
    let Some(value) = fig.value.figure(facts.measure) else {
        return;
    };
    let Some(computed) = percent(value, before).map(|p| p - Decimal::ONE_HUNDRED) else {
        return;
    };
    if reproduces(computed, change) {
        return;
    }
    let computed = round2(computed);
    out.push(Finding {
        kind: FindingKind::PreviousFigureDiffers,
        severity: Severity::Warning,
        indicator: facts.id,
        related: vec![previous],
        report: Some(fig.report),
        figures: vec![
            figure(facts.id, "result", value),
            figure(facts.id, "stated_change_on_previous_pct", change),
            figure(previous, "previous_result", before),
            figure(facts.id, "computed_percent", computed),
        ],
        en: format!(
            "the document states {:+}% on the year before; the previous period's recorded {} gives {:+}%",
            change.normalize(),
            before.normalize(),
            computed
        ),
        vi: format!(
            "văn bản ghi {} {}% so cùng kỳ; số liệu kỳ trước đã ghi nhận là {} thì tính ra {}%",
            if change.is_sign_negative() { "giảm" } else { "tăng" },
            vn(change.abs()),
            vn(before),
            vn(computed)
        ),
    });
}

fn judge(
    facts: &Facts<'_>,
    kind: &TargetKind,
    value: &ResultValue,
    on: NaiveDate,
) -> AchievementStatus {
    let base = facts.previous.map(|(_, b)| b);
    achievement(kind, facts.measure, facts.better, Some(value), base, on, on).status
}

fn met(status: AchievementStatus) -> bool {
    matches!(status, AchievementStatus::Met | AchievementStatus::Exceeded)
}

fn met_below_target(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    let Some(fig) = &facts.figure else { return };
    let Some(value) = fig.value.figure(facts.measure) else {
        return;
    };
    let judged: Vec<(TargetTrack, Option<Decimal>, AchievementStatus)> = facts
        .tracks
        .iter()
        .filter(|t| {
            level(&t.current.kind).is_some() || matches!(t.current.kind, TargetKind::Range { .. })
        })
        .map(|t| {
            (
                t.track,
                level(&t.current.kind),
                judge(facts, &t.current.kind, fig.value, fig.refers_to),
            )
        })
        .collect();
    let stated_met = fig
        .stated
        .and_then(|s| s.percent_of_plan)
        .is_some_and(|p| p >= Decimal::ONE_HUNDRED);
    let met_one = judged.iter().find(|(_, _, s)| met(*s));
    let Some(missed) = judged
        .iter()
        .find(|(t, _, s)| *s == AchievementStatus::NotMet && *t != TargetTrack::Stretch)
    else {
        return;
    };
    if met_one.is_none() && !stated_met {
        return;
    }
    let (missed_track, missed_level, _) = *missed;
    let mut figures = vec![figure(facts.id, "result", value)];
    for (t, l, _) in &judged {
        if let Some(l) = l {
            figures.push(figure(facts.id, format!("target:{}", track_en(*t)), *l));
        }
    }
    let missed_text = missed_level.map_or(String::new(), |l| format!(" {}", vn(l)));
    let (en_why, vi_why) = match met_one {
        Some((t, l, _)) => {
            let l = l.map_or(String::new(), |l| format!(" {}", vn(l)));
            (
                format!("it meets the {} target{l}", track_en(*t)),
                format!("đạt mức {}{l}", track_vi(*t)),
            )
        }
        None => (
            "the document states at least 100% of plan".to_owned(),
            "văn bản ghi đạt từ 100% kế hoạch".to_owned(),
        ),
    };
    out.push(Finding {
        kind: FindingKind::ReportedMetBelowTarget,
        severity: Severity::Warning,
        indicator: facts.id,
        related: Vec::new(),
        report: Some(fig.report),
        figures,
        en: format!(
            "the result {} is reported as met ({en_why}) but misses the {} target{}",
            value.normalize(),
            track_en(missed_track),
            missed_level.map_or(String::new(), |l| format!(" {}", l.normalize()))
        ),
        vi: format!(
            "kết quả {} được báo cáo là đạt ({vi_why}) nhưng không đạt mức {}{missed_text}",
            vn(value),
            track_vi(missed_track)
        ),
    });
}

fn tracks(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    let mut by_family: std::collections::BTreeMap<u8, Vec<(TargetTrack, Decimal)>> =
        std::collections::BTreeMap::new();
    for t in &facts.tracks {
        if let Some((family, figure)) = ambition(&t.current.kind) {
            by_family.entry(family).or_default().push((t.track, figure));
        }
    }
    for (family, figures) in by_family {
        let first = figures[0].1;
        if figures.iter().all(|(_, f)| *f == first) {
            continue;
        }
        // Which is more ambitious: a level by the direction, a growth or a
        // reduction by its size.
        let more = |a: Decimal, b: Decimal| match (family, facts.better) {
            (0, Better::Lower) => a < b,
            _ => a > b,
        };
        let stretch = figures.iter().find(|(t, _)| *t == TargetTrack::Stretch);
        let main = figures.iter().find(|(t, _)| *t != TargetTrack::Stretch);
        let less_ambitious = match (stretch, main) {
            (Some((_, s)), Some((_, m))) => more(*m, *s),
            _ => false,
        };
        let listed_en: Vec<String> = figures
            .iter()
            .map(|(t, f)| format!("{} {}", track_en(*t), f.normalize()))
            .collect();
        let listed_vi: Vec<String> = figures
            .iter()
            .map(|(t, f)| format!("mức {} {}", track_vi(*t), vn(*f)))
            .collect();
        let figures_out = figures
            .iter()
            .map(|(t, f)| figure(facts.id, format!("target:{}", track_en(*t)), *f))
            .collect();
        let (kind, severity, en, vi) = if less_ambitious {
            (
                FindingKind::StretchLessAmbitious,
                Severity::Warning,
                format!(
                    "the stretch target asks less than the main one: {}",
                    listed_en.join(", ")
                ),
                format!(
                    "mức phấn đấu thấp hơn mức chỉ tiêu chính: {}",
                    listed_vi.join("; ")
                ),
            )
        } else {
            (
                FindingKind::TracksDisagree,
                Severity::Info,
                format!(
                    "the tracks state different figures: {}",
                    listed_en.join(", ")
                ),
                format!("các mức chỉ tiêu khác nhau: {}", listed_vi.join("; ")),
            )
        };
        out.push(Finding {
            kind,
            severity,
            indicator: facts.id,
            related: Vec::new(),
            report: None,
            figures: figures_out,
            en,
            vi,
        });
    }
}

fn stated_twice(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    for t in &facts.tracks {
        let current = t.current;
        let Some(wording) = &current.wording else {
            continue;
        };
        let other = t.restated.iter().rev().find(|e| {
            e.document == current.document
                && e.kind != current.kind
                && e.wording
                    .as_ref()
                    .is_some_and(|w| w.as_str() != wording.as_str())
        });
        let Some(other) = other else { continue };
        let other_wording = other.wording.as_ref().map_or("", |w| w.as_str());
        let figures = [other, current]
            .iter()
            .filter_map(|x| level(&x.kind).or_else(|| ambition(&x.kind).map(|a| a.1)))
            .map(|v| figure(facts.id, format!("target:{}", track_en(t.track)), v))
            .collect();
        out.push(Finding {
            kind: FindingKind::StatedTwice,
            severity: Severity::Warning,
            indicator: facts.id,
            related: Vec::new(),
            report: None,
            figures,
            en: format!(
                "one document states the {} target two ways: “{}” ({}) and “{}” ({})",
                track_en(t.track),
                other_wording,
                other.kind.name(),
                wording.as_str(),
                current.kind.name()
            ),
            vi: format!(
                "cùng một văn bản nêu mức {} theo hai cách: “{}” và “{}”",
                track_vi(t.track),
                other_wording,
                wording.as_str()
            ),
        });
    }
}

fn no_improvement(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    let Some((previous, before)) = facts.previous else {
        return;
    };
    let primary = [
        TargetTrack::Resolution,
        TargetTrack::Assigned,
        TargetTrack::Stretch,
    ];
    let Some(t) = primary
        .iter()
        .find_map(|track| facts.tracks.iter().find(|t| t.track == *track))
    else {
        return;
    };
    let (target, worse_or_equal) = match (&t.current.kind, facts.better) {
        (TargetKind::Plain { value, .. } | TargetKind::AtLeast { value, .. }, Better::Higher) => {
            (*value, *value <= before)
        }
        (TargetKind::Plain { value, .. } | TargetKind::AtMost { value, .. }, Better::Lower) => {
            (*value, *value >= before)
        }
        _ => return,
    };
    if !worse_or_equal {
        return;
    }
    let far = before > Decimal::ZERO && target * Decimal::TWO < before;
    let (en, vi) = if target == before {
        (
            format!(
                "the target {} equals the previous period's result: no improvement planned",
                target.normalize()
            ),
            format!(
                "chỉ tiêu {} bằng kết quả kỳ trước: không đặt mức cải thiện",
                vn(target)
            ),
        )
    } else if far {
        (
            format!(
                "the target {} is far below the previous period's result {}: the scopes may differ",
                target.normalize(),
                before.normalize()
            ),
            format!(
                "chỉ tiêu {} thấp hơn nhiều so với kết quả kỳ trước {}: phạm vi số liệu có thể khác nhau",
                vn(target),
                vn(before)
            ),
        )
    } else {
        (
            format!(
                "the target {} is worse than the previous period's result {}",
                target.normalize(),
                before.normalize()
            ),
            format!(
                "chỉ tiêu {} kém hơn kết quả kỳ trước {}",
                vn(target),
                vn(before)
            ),
        )
    };
    out.push(Finding {
        kind: FindingKind::NoImprovementPlanned,
        severity: Severity::Info,
        indicator: facts.id,
        related: vec![previous],
        report: None,
        figures: vec![
            figure(facts.id, format!("target:{}", track_en(t.track)), target),
            figure(previous, "previous_result", before),
        ],
        en,
        vi,
    });
}

/// The findings about a total and the indicators recorded as its parts.
pub fn of_parts(total: &Facts<'_>, parts: &[Facts<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    if parts.len() < 2 || !total.measure.is_additive() {
        return out;
    }
    let same_unit = |f: &Facts<'_>| {
        f.measure.is_additive()
            && f.unit.map(str::trim).map(str::to_lowercase)
                == total.unit.map(str::trim).map(str::to_lowercase)
    };
    if !parts.iter().all(same_unit) {
        return out;
    }
    // The figures that count.
    let result = |f: &Facts<'_>| f.figure.and_then(|g| g.value.figure(f.measure));
    if let Some(whole) = result(total) {
        let each: Option<Vec<Decimal>> = parts.iter().map(result).collect();
        if let Some(each) = each {
            compare_parts(total, parts, whole, &each, "result", "kết quả", &mut out);
        }
    }
    // The resolution targets.
    let target = |f: &Facts<'_>| {
        f.tracks
            .iter()
            .find(|t| t.track == TargetTrack::Resolution)
            .and_then(|t| match t.current.kind {
                TargetKind::Plain { value, .. } => Some(value),
                _ => None,
            })
    };
    if let Some(whole) = target(total) {
        let each: Option<Vec<Decimal>> = parts.iter().map(target).collect();
        if let Some(each) = each {
            compare_parts(
                total,
                parts,
                whole,
                &each,
                "target:resolution",
                "chỉ tiêu",
                &mut out,
            );
        }
    }
    out
}

fn compare_parts(
    total: &Facts<'_>,
    parts: &[Facts<'_>],
    whole: Decimal,
    each: &[Decimal],
    role: &str,
    what_vi: &str,
    out: &mut Vec<Finding>,
) {
    let sum: Decimal = each.iter().copied().sum();
    if sum == whole {
        return;
    }
    let unit = total.unit.unwrap_or_default();
    let terms_vi: Vec<String> = each.iter().map(|v| vn(*v)).collect();
    let terms_en: Vec<String> = each.iter().map(|v| v.normalize().to_string()).collect();
    let mut figures = vec![
        figure(total.id, role, whole),
        figure(total.id, "sum_of_parts", sum),
    ];
    figures.extend(
        parts
            .iter()
            .zip(each)
            .map(|(p, v)| figure(p.id, format!("part:{role}"), *v)),
    );
    let (severity, en, vi) = if sum > whole {
        (
            Severity::Warning,
            format!(
                "the parts ({}) sum to {} {unit}, more than the total {}",
                terms_en.join(" + "),
                sum.normalize(),
                whole.normalize()
            ),
            format!(
                "{what_vi} các thành phần ({}) cộng lại {} {unit}, lớn hơn tổng {}",
                terms_vi.join(" + "),
                vn(sum),
                vn(whole)
            ),
        )
    } else {
        (
            Severity::Info,
            format!(
                "the parts ({}) sum to {} {unit} of the total {}: {} not broken down",
                terms_en.join(" + "),
                sum.normalize(),
                whole.normalize(),
                (whole - sum).normalize()
            ),
            format!(
                "{what_vi} các thành phần ({}) cộng lại {} {unit}, tổng ghi {}: {} chưa được phân loại",
                terms_vi.join(" + "),
                vn(sum),
                vn(whole),
                vn(whole - sum)
            ),
        )
    };
    out.push(Finding {
        kind: FindingKind::PartsDoNotSum,
        severity,
        indicator: total.id,
        related: parts.iter().map(|p| p.id).collect(),
        report: total.figure.map(|f| f.report).filter(|_| role == "result"),
        figures,
        en,
        vi,
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::document::DocumentId;
    use crate::target::Reduction;
    use crate::text::Text;
    use rust_decimal_macros::dec;
    use uuid::Uuid;

    const DOC: DocumentId = DocumentId(Uuid::from_u128(1));

    fn target(kind: TargetKind) -> Target {
        Target {
            kind,
            document: DOC,
            wording: None,
        }
    }

    fn plain(value: Decimal) -> TargetKind {
        TargetKind::Plain { value, base: None }
    }

    fn facts<'a>(
        unit: &'a str,
        measure: Measure,
        tracks: Vec<TrackFacts<'a>>,
        value: Option<&'a ResultValue>,
        stated: Option<&'a StatedFigures>,
    ) -> Facts<'a> {
        Facts {
            id: IndicatorId(Uuid::from_u128(7)),
            name: "chỉ tiêu",
            unit: Some(unit),
            measure,
            better: Better::Higher,
            tracks,
            figure: value.map(|value| FigureFacts {
                report: ReportId(Uuid::from_u128(9)),
                value,
                refers_to: NaiveDate::from_ymd_opt(2022, 12, 31).unwrap(),
                stated,
            }),
            previous: None,
        }
    }

    fn amount(value: Decimal) -> ResultValue {
        ResultValue::Amount { value }
    }

    fn kinds(found: &[Finding]) -> Vec<FindingKind> {
        found.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn the_tolerance_is_half_a_unit_of_the_last_written_decimal() {
        assert_eq!(tolerance(dec!(75)), dec!(0.5));
        assert_eq!(tolerance(dec!(102.3)), dec!(0.05));
        assert_eq!(tolerance(dec!(102.74)), dec!(0.01), "at least 0,01");
        assert_eq!(
            tolerance(dec!(99.700)),
            dec!(0.05),
            "trailing zeros are not decimals written"
        );
        assert!(reproduces(dec!(102.333), dec!(102.3)));
        assert!(!reproduces(dec!(102.36), dec!(102.3)));
    }

    #[test]
    fn the_five_consistent_rows_of_the_seeds_are_reproduced() {
        for (value, target, stated) in [
            (dec!(3171.98), dec!(3081.5), dec!(102.94)),
            (dec!(70), dec!(70), dec!(100)),
            (dec!(41), dec!(40), dec!(102.5)),
            (dec!(366.974), dec!(399.505), dec!(91.86)),
            (dec!(2413), dec!(2000), dec!(120.65)),
        ] {
            assert_eq!(
                percent_of_plan_mismatch(value, target, stated),
                None,
                "{value}/{target}"
            );
            let t = target_of(plain(target));
            let v = amount(value);
            let s = StatedFigures::of(Some(stated), None).unwrap();
            let f = facts(
                "ha",
                Measure::Amount,
                vec![track(TargetTrack::Resolution, &t)],
                Some(&v),
                Some(&s),
            );
            assert!(of_indicator(&f).is_empty(), "{value}/{target}");
        }
        assert_eq!(
            percent_of_plan_mismatch(dec!(41), dec!(40), dec!(104)),
            Some(Some(dec!(102.50)))
        );
    }

    fn target_of(kind: TargetKind) -> Target {
        target(kind)
    }

    fn track(track: TargetTrack, current: &Target) -> TrackFacts<'_> {
        TrackFacts {
            track,
            current,
            restated: &[],
        }
    }

    #[test]
    fn a_growth_target_and_the_stated_change_must_give_the_stated_percentage() {
        let growth = target(TargetKind::Growth {
            rate: dec!(12),
            base: None,
            value: None,
        });
        let v = amount(dec!(8839.9));
        let wrong = StatedFigures::of(Some(dec!(102.74)), Some(dec!(16.02))).unwrap();
        let f = facts(
            "tỷ đồng",
            Measure::Amount,
            vec![track(TargetTrack::Resolution, &growth)],
            Some(&v),
            Some(&wrong),
        );
        let found = of_indicator(&f);
        assert_eq!(kinds(&found), [FindingKind::PercentNotReproduced]);
        let computed = found[0]
            .figures
            .iter()
            .find(|g| g.role == "computed_percent")
            .unwrap();
        assert_eq!(computed.value, dec!(103.59));
        // 1,1602 / 1,12 = 103,589…: what the document should have said.
        let right = StatedFigures::of(Some(dec!(103.59)), Some(dec!(16.02))).unwrap();
        let f = facts(
            "tỷ đồng",
            Measure::Amount,
            vec![track(TargetTrack::Resolution, &growth)],
            Some(&v),
            Some(&right),
        );
        assert!(of_indicator(&f).is_empty());
    }

    #[test]
    fn a_growth_target_s_own_figures_must_give_its_rate() {
        // 004's three sectors: 1,100%, 9,300% and 5,9999% ≈ 6,0%.
        for (rate, base, value) in [
            (dec!(1.1), dec!(1560.781), dec!(1577.95)),
            (dec!(9.3), dec!(32665.544), dec!(35703.44)),
            (dec!(6), dec!(3229.002), dec!(3422.74)),
        ] {
            let t = target(TargetKind::Growth {
                rate,
                base: Some(base),
                value: Some(value),
            });
            let f = facts(
                "tỷ đồng",
                Measure::Amount,
                vec![track(TargetTrack::Resolution, &t)],
                None,
                None,
            );
            assert!(of_indicator(&f).is_empty(), "{rate}");
        }
        let t = target(TargetKind::Growth {
            rate: dec!(12),
            base: Some(dec!(100)),
            value: Some(dec!(110)),
        });
        let f = facts(
            "tỷ đồng",
            Measure::Amount,
            vec![track(TargetTrack::Resolution, &t)],
            None,
            None,
        );
        let found = of_indicator(&f);
        assert_eq!(kinds(&found), [FindingKind::PercentNotReproduced]);
        assert!(
            found[0].vi.contains("110/100 chỉ là 10%"),
            "{}",
            found[0].vi
        );
    }

    #[test]
    fn a_count_needs_a_whole_plan_and_an_amount_does_not() {
        let sixteen = amount(dec!(16));
        let s = StatedFigures::of(Some(dec!(75)), None).unwrap();
        let f = facts(
            "sản phẩm",
            Measure::Amount,
            vec![],
            Some(&sixteen),
            Some(&s),
        );
        assert_eq!(
            kinds(&of_indicator(&f)),
            [FindingKind::PercentNotReproduced]
        );
        // The same figures in hectares: a plan of 21,33 ha is fine.
        let f = facts("ha", Measure::Amount, vec![], Some(&sixteen), Some(&s));
        assert!(of_indicator(&f).is_empty());
        // 1.535 party members at 102,3%: a plan of 1.500 gives 102,33%.
        let members = amount(dec!(1535));
        let s = StatedFigures::of(Some(dec!(102.3)), None).unwrap();
        let f = facts(
            "đồng chí",
            Measure::Amount,
            vec![],
            Some(&members),
            Some(&s),
        );
        assert!(of_indicator(&f).is_empty());
        // "sản phẩm/xã" is a rate, not a count.
        assert!(!is_count_unit(Some("sản phẩm/xã")));
        assert!(is_count_unit(Some("lượt hộ")));
        assert!(!is_count_unit(Some("tỷ đồng")));
    }

    #[test]
    fn a_stated_change_is_checked_against_the_previous_figure_for_amounts_only() {
        let v = amount(dec!(110));
        let s = StatedFigures::of(None, Some(dec!(12))).unwrap();
        let mut f = facts("tấn", Measure::Amount, vec![], Some(&v), Some(&s));
        f.previous = Some((IndicatorId(Uuid::from_u128(8)), dec!(100)));
        let found = of_indicator(&f);
        assert_eq!(kinds(&found), [FindingKind::PreviousFigureDiffers]);
        assert_eq!(found[0].related, [IndicatorId(Uuid::from_u128(8))]);
        let s = StatedFigures::of(None, Some(dec!(10))).unwrap();
        let mut f = facts("tấn", Measure::Amount, vec![], Some(&v), Some(&s));
        f.previous = Some((IndicatorId(Uuid::from_u128(8)), dec!(100)));
        assert!(of_indicator(&f).is_empty());
        // A rate's "tăng 12%" may be points: not judged.
        let mut f = facts("%", Measure::Percentage, vec![], Some(&v), Some(&s));
        f.previous = Some((IndicatorId(Uuid::from_u128(8)), dec!(50)));
        assert!(of_indicator(&f).is_empty());
    }

    #[test]
    fn a_result_meeting_one_track_and_missing_another_is_flagged() {
        let resolution = target(plain(dec!(80)));
        let assigned = target(TargetKind::AtLeast {
            value: dec!(88.91),
            strict: false,
        });
        let v = amount(dec!(84.51));
        let f = facts(
            "%",
            Measure::Percentage,
            vec![
                track(TargetTrack::Assigned, &assigned),
                track(TargetTrack::Resolution, &resolution),
            ],
            Some(&v),
            None,
        );
        let found = kinds(&of_indicator(&f));
        assert!(
            found.contains(&FindingKind::ReportedMetBelowTarget),
            "{found:?}"
        );
        assert!(found.contains(&FindingKind::TracksDisagree), "{found:?}");
        // Meeting both, or missing both without a claim: nothing to say
        // about the result.
        for figure in [dec!(90), dec!(70)] {
            let v = amount(figure);
            let f = facts(
                "%",
                Measure::Percentage,
                vec![
                    track(TargetTrack::Assigned, &assigned),
                    track(TargetTrack::Resolution, &resolution),
                ],
                Some(&v),
                None,
            );
            assert!(
                !kinds(&of_indicator(&f)).contains(&FindingKind::ReportedMetBelowTarget),
                "{figure}"
            );
        }
        // Missing the only target while the document states 100% of plan.
        let v = amount(dec!(70));
        let s = StatedFigures::of(Some(dec!(100)), None).unwrap();
        let f = facts(
            "%",
            Measure::Percentage,
            vec![track(TargetTrack::Resolution, &resolution)],
            Some(&v),
            Some(&s),
        );
        assert!(kinds(&of_indicator(&f)).contains(&FindingKind::ReportedMetBelowTarget));
    }

    #[test]
    fn a_stretch_asking_less_is_a_warning_and_more_is_information() {
        let reduce = |amount| {
            target(TargetKind::ReduceBy {
                amount,
                measure: Reduction::Absolute,
                base: None,
            })
        };
        let (main, stretch) = (reduce(dec!(1.8)), reduce(dec!(1)));
        let f = facts(
            "%",
            Measure::Percentage,
            vec![
                track(TargetTrack::Resolution, &main),
                track(TargetTrack::Stretch, &stretch),
            ],
            None,
            None,
        );
        assert_eq!(
            kinds(&of_indicator(&f)),
            [FindingKind::StretchLessAmbitious]
        );
        let (main, stretch) = (target(plain(dec!(581))), target(plain(dec!(600))));
        let f = facts(
            "tỷ đồng",
            Measure::Amount,
            vec![
                track(TargetTrack::Resolution, &main),
                track(TargetTrack::Stretch, &stretch),
            ],
            None,
            None,
        );
        let found = of_indicator(&f);
        assert_eq!(kinds(&found), [FindingKind::TracksDisagree]);
        assert_eq!(found[0].severity, Severity::Info);
        // Lower is better: a stretch ceiling above the main one asks less.
        let (main, stretch) = (target(plain(dec!(4))), target(plain(dec!(5))));
        let mut f = facts(
            "%",
            Measure::Percentage,
            vec![
                track(TargetTrack::Resolution, &main),
                track(TargetTrack::Stretch, &stretch),
            ],
            None,
            None,
        );
        f.better = Better::Lower;
        assert_eq!(
            kinds(&of_indicator(&f)),
            [FindingKind::StretchLessAmbitious]
        );
    }

    #[test]
    fn a_restatement_in_the_same_document_with_other_words_and_figures_is_flagged() {
        let mut current = target(plain(dec!(85)));
        current.wording = Some(Text::parse("đạt 85%").unwrap());
        let mut other = target(TargetKind::AtLeast {
            value: dec!(85),
            strict: true,
        });
        other.wording = Some(Text::parse("đạt trên 85%").unwrap());
        let restated = [other.clone()];
        let f = facts(
            "%",
            Measure::Percentage,
            vec![TrackFacts {
                track: TargetTrack::Resolution,
                current: &current,
                restated: &restated,
            }],
            None,
            None,
        );
        assert_eq!(kinds(&of_indicator(&f)), [FindingKind::StatedTwice]);
        // Another document's wording is not this document's inconsistency.
        let mut elsewhere = other;
        elsewhere.document = DocumentId(Uuid::from_u128(2));
        let restated = [elsewhere];
        let f = facts(
            "%",
            Measure::Percentage,
            vec![TrackFacts {
                track: TargetTrack::Resolution,
                current: &current,
                restated: &restated,
            }],
            None,
            None,
        );
        assert!(of_indicator(&f).is_empty());
    }

    #[test]
    fn a_target_equal_to_or_below_the_last_result_plans_no_improvement() {
        for (target_value, previous, flagged) in [
            (dec!(82.46), dec!(82.46), true),
            (dec!(86), dec!(92.91), true),
            (dec!(90), dec!(85), false),
        ] {
            let t = target(plain(target_value));
            let mut f = facts(
                "%",
                Measure::Percentage,
                vec![track(TargetTrack::Resolution, &t)],
                None,
                None,
            );
            f.previous = Some((IndicatorId(Uuid::from_u128(8)), previous));
            assert_eq!(
                kinds(&of_indicator(&f)) == [FindingKind::NoImprovementPlanned],
                flagged,
                "{target_value} after {previous}"
            );
        }
        // Lower is better: a ceiling at or above last year's level.
        let t = target(TargetKind::AtMost {
            value: dec!(3),
            strict: false,
        });
        let mut f = facts(
            "%",
            Measure::Percentage,
            vec![track(TargetTrack::Resolution, &t)],
            None,
            None,
        );
        f.better = Better::Lower;
        f.previous = Some((IndicatorId(Uuid::from_u128(8)), dec!(2.5)));
        assert_eq!(
            kinds(&of_indicator(&f)),
            [FindingKind::NoImprovementPlanned]
        );
    }

    #[test]
    fn parts_are_added_in_one_unit_and_compared_with_their_total() {
        let total_value = amount(dec!(29643));
        let total = facts("hộ", Measure::Amount, vec![], Some(&total_value), None);
        let values: Vec<ResultValue> = [233, 1067, 12940, 14241, 1013]
            .into_iter()
            .map(|n| amount(Decimal::from(n)))
            .collect();
        let parts: Vec<Facts<'_>> = values
            .iter()
            .map(|v| facts("hộ", Measure::Amount, vec![], Some(v), None))
            .collect();
        let found = of_parts(&total, &parts);
        assert_eq!(kinds(&found), [FindingKind::PartsDoNotSum]);
        assert_eq!(found[0].severity, Severity::Info, "fewer than the total");
        let sum = found[0]
            .figures
            .iter()
            .find(|g| g.role == "sum_of_parts")
            .unwrap();
        assert_eq!(sum.value, dec!(29494));
        // Parts in another unit, or rates, are not added.
        let other: Vec<Facts<'_>> = values
            .iter()
            .map(|v| facts("người", Measure::Amount, vec![], Some(v), None))
            .collect();
        assert!(of_parts(&total, &other).is_empty());
        // A part without a figure: nothing to compare.
        let mut missing = parts.clone();
        missing[0].figure = None;
        assert!(of_parts(&total, &missing).is_empty());
        // More than the total is a warning.
        let small_value = amount(dec!(20000));
        let small = facts("hộ", Measure::Amount, vec![], Some(&small_value), None);
        assert_eq!(of_parts(&small, &parts)[0].severity, Severity::Warning);
    }
}
