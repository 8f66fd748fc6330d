//! Targets out in the seed-table layout (`shared/data/targets.tsv`): one
//! tab-separated row per target, with the org unit, the document, the
//! period, the kind and the exact figures in plain notation, so that
//! `chitieu import` reads it back to the same targets: what a kind holds
//! beyond its figures (a strict bound, how a reduction is measured, the
//! period compared with and which way) has a column of its own, never
//! left to be read again from the wording.

use crate::projector::{category_name, ProjectionError};
use crate::query::{IndicatorFilter, ReadModel};
use chitieu_domain::{Document, OrgUnitLevel, TargetKind, TargetTrack};
use std::collections::BTreeMap;

/// The header row: the seed table's columns (less its English name and
/// notes), with the indicator's id, the org unit's code and the document's
/// id (two indicators may share a name, two documents a number) and, last, what the seed layout has no
/// column for: a growth target's stated figure, a milestone's deadline,
/// whether a bound is strict ("trên", "dưới"), how a reduction is measured,
/// a comparison's period and direction, and the indicator's measure (a
/// unit of "%" does not say whether figures are percentages).
pub const TARGETS_HEADER: &str = "indicator_id\torg_unit\tdistrict\tprovince\tdocument_id\tdocument\tissued_on\tperiod\tcategory\tcode\tindicator_vi\ttarget_text_vi\tkind\tvalue\tvalue_high\tunit\tbase_value\ttrack\tgrowth_figure\tdeadline\tbound\treduction\tcompared_period\tdirection\tmeasure";

/// The seed tables' name of a kind, and its figures (value, value_high, base).
pub fn kind_columns(kind: &TargetKind) -> (&'static str, [Option<rust_decimal::Decimal>; 3]) {
    match kind {
        TargetKind::AtLeast { value, .. } => ("at_least", [Some(*value), None, None]),
        TargetKind::AtMost { value, .. } => ("at_most", [Some(*value), None, None]),
        TargetKind::Plain { value, base } => ("exact", [Some(*value), None, *base]),
        TargetKind::Range { low, high } => ("range", [Some(*low), Some(*high), None]),
        TargetKind::Growth { rate, base, .. } => ("growth_pct", [Some(*rate), None, *base]),
        TargetKind::ReduceBy { amount, base, .. } => ("reduce_by", [Some(*amount), None, *base]),
        TargetKind::Maintain { level } => ("maintain", [*level, None, None]),
        TargetKind::Milestone { .. } => ("milestone", [None, None, None]),
        TargetKind::RelativeToPeriod { .. } => ("relative_to_period", [None, None, None]),
    }
}

/// The seed tables' name of a track.
pub fn track_name(track: TargetTrack) -> &'static str {
    match track {
        TargetTrack::Assigned => "assigned_by_province",
        TargetTrack::Resolution => "district_resolution",
        TargetTrack::Stretch => "stretch",
    }
}

fn clean(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

fn document_text(document: &Document) -> String {
    match &document.number {
        Some(n) => format!("{} {}", n.as_str(), document.title),
        None => document.title.to_string(),
    }
}

/// Every target of the indicators the filter selects, one row per track.
pub fn targets_table(
    read: &ReadModel,
    filter: &IndicatorFilter,
) -> Result<String, ProjectionError> {
    let units: BTreeMap<_, _> = read
        .org_units()?
        .into_iter()
        .map(|u| (u.unit.code.clone(), u.unit))
        .collect();
    let documents: BTreeMap<_, _> = read.documents()?.into_iter().map(|d| (d.id, d)).collect();
    let mut out = String::from(TARGETS_HEADER);
    out.push('\n');
    for view in read.list(filter)? {
        let d = &view.definition;
        let unit = units.get(&d.org_unit);
        let parent = unit
            .and_then(|u| u.parent.as_ref())
            .and_then(|p| units.get(p));
        let (district, province) = match (unit, parent) {
            (Some(u), _) if u.level == OrgUnitLevel::Province => {
                (String::new(), u.name.to_string())
            }
            (Some(u), Some(p)) if u.level == OrgUnitLevel::District => {
                (u.name.to_string(), p.name.to_string())
            }
            _ => (String::new(), String::new()),
        };
        for (track, target) in &view.targets {
            let target = &target.current;
            let document = documents.get(&target.document);
            let (kind, [value, high, base]) = kind_columns(&target.kind);
            let number = |n: Option<rust_decimal::Decimal>| {
                n.map(|n| n.normalize().to_string()).unwrap_or_default()
            };
            let growth_figure = match &target.kind {
                TargetKind::Growth { value, .. } => *value,
                _ => None,
            };
            let deadline = match &target.kind {
                TargetKind::Milestone { deadline } => deadline.map(|d| d.to_string()),
                _ => None,
            };
            let bound = match &target.kind {
                TargetKind::AtLeast { strict, .. } | TargetKind::AtMost { strict, .. } => {
                    if *strict {
                        "strict"
                    } else {
                        "inclusive"
                    }
                }
                _ => "",
            };
            let reduction = match &target.kind {
                TargetKind::ReduceBy { measure, .. } => measure.table_name(),
                _ => "",
            };
            let (compared, direction) = match &target.kind {
                TargetKind::RelativeToPeriod { period, direction } => {
                    (period.to_string(), direction.table_name())
                }
                _ => (String::new(), ""),
            };
            let fields = [
                d.id.to_string(),
                d.org_unit.to_string(),
                district.clone(),
                province.clone(),
                target.document.to_string(),
                document.map(document_text).unwrap_or_default(),
                document
                    .and_then(|d| d.issued_on)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                d.period.to_string(),
                category_name(d.category).to_owned(),
                d.code.as_ref().map(|c| c.to_string()).unwrap_or_default(),
                d.name.to_string(),
                target
                    .wording
                    .as_ref()
                    .map(|w| w.to_string())
                    .unwrap_or_default(),
                kind.to_owned(),
                number(value),
                number(high),
                d.unit.as_ref().map(|u| u.to_string()).unwrap_or_default(),
                number(base),
                track_name(*track).to_owned(),
                number(growth_figure),
                deadline.unwrap_or_default(),
                bound.to_owned(),
                reduction.to_owned(),
                compared,
                direction.to_owned(),
                d.measure.table_name().to_owned(),
            ];
            let row: Vec<String> = fields.iter().map(|f| clean(f)).collect();
            out.push_str(&row.join("\t"));
            out.push('\n');
        }
    }
    Ok(out)
}
