//! The approval digest: what an approval is bound to, in a canonical,
//! documented serialisation an auditor can recompute without chitieu.
//!
//! The figures of org unit `U` and reporting period `P` are
//!
//! - for every indicator defined for `U` itself (not its descendants)
//!   whose own period lies inside `P` ([`ReportingPeriod::covers`]): its
//!   target on every track, with the log position of the event that set it;
//! - for every indicator of `U`: every live figure (final or estimate, not
//!   superseded or corrected) dated inside `P`, with the log position of
//!   the event that reported it.
//!
//! Serialised as one JSON document (format `chitieu.approval.v1`):
//!
//! ```json
//! {"format":"chitieu.approval.v1","org_unit":"…","period":"2022",
//!  "indicators":[{"indicator":"<uuid>",
//!    "targets":[{"position":12,"track":"resolution","target":{…}}],
//!    "figures":[{"position":40,"report":{…}}]}]}
//! ```
//!
//! `target` and `report` are the objects exactly as the events
//! `target_set`/`target_revised` (v2) and `actual_reported` (v4) /
//! `actual_corrected` (v2) store them (a report's `stated` figures appear
//! only where the document states some, so earlier digests still hold). Indicators are ordered by id (as
//! text), targets by track name, figures by position; an indicator with
//! neither targets nor figures in `P` is left out. The JSON is canonical:
//! object keys sorted by their bytes, no whitespace, strings escaped as
//! JSON requires and nothing more (UTF-8 kept), integers in decimal.
//! The approval digest is SHA-256 of that document, hex; each indicator's
//! digest is SHA-256 of its own object, so a check can say which
//! indicators changed.

use crate::error::DomainError;
use crate::indicator::IndicatorId;
use crate::org_unit::OrgUnitCode;
use crate::period::{IndicatorDigest, ReportingPeriod};
use crate::state::DomainState;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The serialisation's format name; a new layout gets a new name.
pub const FORMAT: &str = "chitieu.approval.v1";

/// One indicator's section of an approval document.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// The indicator.
    pub indicator: IndicatorId,
    /// Its canonical object.
    pub value: Value,
}

/// The figures of `unit` and `period` as they stand in `state`, one
/// section per indicator that has any, ordered by indicator id as text;
/// [`DomainError::FiguresNotLoaded`] where `state` does not hold the
/// figures of every indicator of `unit`.
pub fn sections(
    state: &DomainState,
    unit: &OrgUnitCode,
    period: ReportingPeriod,
) -> Result<Vec<Section>, DomainError> {
    let mut sections = Vec::new();
    for indicator in state
        .indicators
        .values()
        .filter(|i| &i.definition.org_unit == unit)
    {
        let held = indicator.figures()?;
        let targets: Vec<Value> = if period.covers(indicator.definition.period) {
            held.targets
                .iter()
                .map(|(track, t)| json!({"track": track, "position": t.position, "target": t.current}))
                .collect()
        } else {
            Vec::new()
        };
        let mut figures: Vec<(u64, Value)> = held
            .reports
            .iter()
            .filter(|(_, r)| r.replaced_by.is_none() && period.contains(r.refers_to))
            .map(|(id, r)| {
                (
                    r.position,
                    json!({"position": r.position, "report": r.report(*id)}),
                )
            })
            .collect();
        if targets.is_empty() && figures.is_empty() {
            continue;
        }
        figures.sort_by_key(|(position, _)| *position);
        let mut targets = targets;
        targets.sort_by(|a, b| a["track"].to_string().cmp(&b["track"].to_string()));
        sections.push(Section {
            indicator: indicator.definition.id,
            value: json!({
                "indicator": indicator.definition.id,
                "targets": targets,
                "figures": figures.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
            }),
        });
    }
    sections.sort_by_key(|s| s.indicator.to_string());
    Ok(sections)
}

/// The whole approval document of `unit` and `period`.
pub fn document(unit: &OrgUnitCode, period: ReportingPeriod, sections: &[Section]) -> Value {
    json!({
        "format": FORMAT,
        "org_unit": unit,
        "period": period,
        "indicators": sections.iter().map(|s| s.value.clone()).collect::<Vec<_>>(),
    })
}

/// SHA-256 of a value's canonical JSON, hex.
pub fn hash(value: &Value) -> String {
    hex::encode(Sha256::digest(canonical_json(value).as_bytes()))
}

/// The approval digest and each indicator's digest.
pub fn digest(
    unit: &OrgUnitCode,
    period: ReportingPeriod,
    sections: &[Section],
) -> (String, Vec<IndicatorDigest>) {
    let whole = hash(&document(unit, period, sections));
    let each = sections
        .iter()
        .map(|s| IndicatorDigest {
            indicator: s.indicator,
            digest: hash(&s.value),
        })
        .collect();
    (whole, each)
}

/// One indicator whose figures differ from those approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// The indicator.
    pub indicator: IndicatorId,
    /// Its digest in the approval (`None`: it had no figures then).
    pub approved: Option<String>,
    /// Its digest now (`None`: it has no figures now).
    pub now: Option<String>,
}

/// The indicators whose digest differs between an approval and now, in
/// indicator order.
pub fn changed(approved: &[IndicatorDigest], now: &[IndicatorDigest]) -> Vec<Changed> {
    use std::collections::BTreeMap;
    let mut all: BTreeMap<String, Changed> = BTreeMap::new();
    for d in approved {
        all.insert(
            d.indicator.to_string(),
            Changed {
                indicator: d.indicator,
                approved: Some(d.digest.clone()),
                now: None,
            },
        );
    }
    for d in now {
        all.entry(d.indicator.to_string())
            .or_insert(Changed {
                indicator: d.indicator,
                approved: None,
                now: None,
            })
            .now = Some(d.digest.clone());
    }
    all.into_values().filter(|c| c.approved != c.now).collect()
}

/// Canonical JSON: keys sorted by their bytes, no whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_keeps_utf8() {
        let v = json!({"b": [1, {"z": null, "a": "Cần Đước"}], "a": "x\"y"});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":"x\"y","b":[1,{"a":"Cần Đước","z":null}]}"#
        );
    }
}
