//! The seed-table layouts of `shared/data`: `targets.tsv` (one row per
//! target, with its kind and figures) and `actuals.tsv` (one row per
//! reported result). Headers in English as there, or in Vietnamese.
//!
//! Every row names its place: province and district (registered when not
//! yet known: a province's code is its initials, `AG`, a district's is
//! `AG.CHO-MOI`), document (registered when not yet known, its number read
//! from the front of the text, `38-CTr/HU …`; the issuing body, absent from
//! the tables, defaults to the district's Party committee, which issued all
//! four seeds) and period.
//!
//! Ids derive from the content (org unit, document, period, indicator
//! name), not from the file, so that a targets table and an actuals table
//! meet on the same indicator, and a row already in the store is skipped:
//! importing a table twice, or a table whose rows were entered by hand,
//! changes nothing. A row that contradicts the store (another target on
//! the same track) is a problem; revising needs a reason and a document,
//! which the API takes.

use crate::{find_column, measure_of, Cell, Options, Problem, Step, Table};
use chitieu_domain::findings;
use chitieu_domain::number::{format_vietnamese, parse_plain};
use chitieu_domain::target_text::parse_target_text;
use chitieu_domain::*;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

mod columns;
mod ids;
mod indicators;
mod kinds;
mod places;
#[cfg(test)]
mod tests;

use columns::*;
pub use columns::{actuals_header, targets_header};
pub use ids::*;
use indicators::*;
use kinds::*;
use places::*;

/// The rows after the header, each with the org unit it names (registered
/// on the way when new); a row naming none is listed as a problem.
fn rows_with_units<'a>(
    table: &'a Table,
    at: usize,
    columns: &'a Columns,
    places: &mut Places,
    options: &Options,
    problems: &mut Vec<Problem>,
) -> Vec<(Row<'a>, OrgUnitCode)> {
    let mut out = Vec::new();
    for (line, cells) in &table.rows[at + 1..] {
        let row = Row {
            line: *line,
            cells,
            columns,
        };
        match places.org_unit_of(&row, options) {
            Ok(unit) => out.push((row, unit)),
            Err(p) => problems.extend(p),
        }
    }
    out
}

/// Plans a targets table (not yet checked against the rules).
pub fn plan_targets(
    table: &Table,
    at: usize,
    options: &Options,
    state: &DomainState,
) -> Result<Vec<Step>, Vec<Problem>> {
    let columns = columns(&table.rows[at].1);
    let mut places = Places::new(state);
    let mut indicators = Indicators::new(state);
    let mut steps = Vec::new();
    let mut problems = Vec::new();
    for (row, unit) in rows_with_units(table, at, &columns, &mut places, options, &mut problems) {
        let line = row.line;
        let document = match places.document(&row, &unit, options) {
            Ok(Some(d)) => d,
            Ok(None) => {
                problems.push(Problem::at(
                    line,
                    Some("document"),
                    "no document: fill it or give --document",
                    "thiếu văn bản: hãy điền văn bản hoặc gửi --document",
                ));
                continue;
            }
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        let (period, category) = match (period_of(&row, options), category_of(&row)) {
            (Ok(p), Ok(c)) => (p, c),
            (a, b) => {
                problems.extend(a.err().into_iter().chain(b.err()));
                continue;
            }
        };
        let name = row.get(columns.name);
        if name.is_empty() {
            problems.push(Problem::at(
                line,
                Some("indicator_vi"),
                "the indicator has no name",
                "chỉ tiêu chưa có tên",
            ));
            continue;
        }
        let Some(kind) = target_kind(&row, &mut problems) else {
            continue;
        };
        let track = match row.get(columns.track) {
            "" => options.track.unwrap_or(TargetTrack::Resolution),
            raw => match crate::office::parse_track(raw) {
                Some(t) => t,
                None => {
                    problems.push(Problem::at(line, Some("track"), format!("`{raw}` is not district_resolution, assigned_by_province or stretch"), format!("`{raw}` không phải district_resolution, assigned_by_province hay stretch")));
                    continue;
                }
            },
        };
        let unit_text = row.get(columns.unit);
        let unit_text = (!unit_text.is_empty()).then_some(unit_text);
        // An exported table names its indicators by id (two may share a name).
        let id = match row.get(columns.indicator_id) {
            "" => indicator_id(&unit, Some(document), period, name),
            raw => match uuid::Uuid::parse_str(raw) {
                Ok(u) => IndicatorId(u),
                Err(e) => {
                    problems.push(Problem::at(
                        line,
                        Some("indicator_id"),
                        format!("not a UUID: {e}"),
                        format!("không phải là một UUID: {e}"),
                    ));
                    continue;
                }
            },
        };
        let texts = (
            text_of(&row, columns.name, "indicator_vi"),
            text_of(&row, columns.code, "code"),
            text_of(&row, columns.unit, "unit"),
            text_of(&row, columns.text, "target_text_vi"),
        );
        let (Ok(Some(name_text)), Ok(code), Ok(unit_name), Ok(wording)) = texts else {
            let (a, b, c, d) = texts;
            problems.extend([a.err(), b.err(), c.err(), d.err()].into_iter().flatten());
            continue;
        };
        if !indicators.exists(id) {
            // The measure: its column where the table has one (an export),
            // else what the kind and the unit say.
            let measure = match search_key(row.get(columns.measure)) {
                named if named.is_empty() => measure_of(&kind, unit_text),
                named => match Measure::from_table_name(&named) {
                    Some(m) => m,
                    None => {
                        problems.push(Problem::at(
                            line,
                            Some("measure"),
                            format!("`{named}` is not amount, percentage, per_mille, ratio or milestone"),
                            format!("`{named}` không phải amount, percentage, per_mille, ratio hay milestone"),
                        ));
                        continue;
                    }
                },
            };
            let definition = IndicatorDefinition {
                id,
                org_unit: unit.clone(),
                period,
                category,
                code,
                name: name_text,
                unit: unit_name,
                measure,
                parent: None,
                previous: None,
                document: Some(document),
            };
            indicators.define(line, definition, &mut steps);
        }
        let target = Target {
            kind,
            document,
            wording,
        };
        if let Err(p) = indicators.target(line, id, track, target, &mut steps) {
            problems.push(p);
        }
    }
    finish(places, steps, problems)
}

fn finish(
    places: Places,
    steps: Vec<Step>,
    problems: Vec<Problem>,
) -> Result<Vec<Step>, Vec<Problem>> {
    if problems.is_empty() {
        // Units and documents first: the rows' steps refer to them.
        Ok(places.steps.into_iter().chain(steps).collect())
    } else {
        Err(problems)
    }
}

/// Plans an actuals table (not yet checked against the rules). A result
/// goes to the indicator of its org unit and period with the same name
/// (from a targets table, or entered by hand), else to a new one; a target
/// written next to the result (`stated_target`) is set on the resolution
/// track unless that track already holds it.
pub fn plan_actuals(
    table: &Table,
    at: usize,
    options: &Options,
    state: &DomainState,
) -> Result<Vec<Step>, Vec<Problem>> {
    let columns = columns(&table.rows[at].1);
    let mut places = Places::new(state);
    let mut indicators = Indicators::new(state);
    let mut steps = Vec::new();
    let mut problems = Vec::new();
    for (row, unit) in rows_with_units(table, at, &columns, &mut places, options, &mut problems) {
        let line = row.line;
        // The document: the row's, the flag's, else the unit's only one,
        // or its only report (results come from reports).
        let document = match places.document(&row, &unit, options) {
            Ok(Some(d)) => Some(d),
            Ok(None) => {
                let of_unit: Vec<&Document> = state
                    .documents
                    .values()
                    .chain(places.documents.values())
                    .filter(|d| d.org_unit.as_ref() == Some(&unit))
                    .collect();
                let reports: Vec<&Document> = of_unit
                    .iter()
                    .copied()
                    .filter(|d| d.kind == DocumentKind::Report)
                    .collect();
                match (of_unit.as_slice(), reports.as_slice()) {
                    ([one], _) | (_, [one]) => Some(one.id),
                    _ => None,
                }
            }
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        let raw_period = row.get(columns.period);
        let Some((period, refers_to)) = actual_period(raw_period) else {
            problems.push(Problem::at(line, Some("period"), format!("`{raw_period}` is not a period (2022, 2015-2020, năm học 2022-2023, đến 31/12/2022 …)"), format!("`{raw_period}` không phải là một kỳ (2022, 2015-2020, năm học 2022-2023, đến 31/12/2022 …)")));
            continue;
        };
        let category = match category_of(&row) {
            Ok(c) => c,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        let name = row.get(columns.name);
        if name.is_empty() {
            problems.push(Problem::at(
                line,
                Some("indicator_vi"),
                "the indicator has no name",
                "chỉ tiêu chưa có tên",
            ));
            continue;
        }
        let value = row.number(columns.value, "value", &mut problems);
        let stated = row.number(columns.stated_target, "stated_target", &mut problems);
        let stated_pct = row.number(columns.stated_pct, "stated_achievement_pct", &mut problems);
        let stated_change = row.number(
            columns.stated_change,
            "stated_vs_prev_year_pct",
            &mut problems,
        );
        let status = match search_key(row.get(columns.status)).as_str() {
            "final" | "" | "chinh thuc" => ResultStatus::Final,
            "estimate" | "uoc" => ResultStatus::Estimate,
            other => {
                problems.push(Problem::at(
                    line,
                    Some("status"),
                    format!("`{other}` is not final or estimate"),
                    format!("`{other}` không phải final hay estimate"),
                ));
                continue;
            }
        };
        let unit_text = row.get(columns.unit);
        let verbatim = row.get(columns.text);
        let notes = row.get(columns.notes);
        let mut note = verbatim.to_owned();
        if !raw_period.is_empty() && Period::parse(raw_period).is_err() {
            note = format!("{note} [{raw_period}]");
        }
        if !notes.is_empty() {
            note = format!("{note}\n{notes}");
        }
        let id = match indicators.by_name(&unit, period, name, document) {
            Err(several) => {
                problems.push(Problem::at(line, Some("indicator_vi"), format!("{several} indicators of {unit} {period} are named `{name}`; give the document that defines the one meant"), format!("có {several} chỉ tiêu của {unit} kỳ {period} cùng tên `{name}`; hãy ghi văn bản xác lập chỉ tiêu muốn nói")));
                continue;
            }
            Ok(Some(id)) => id,
            Ok(None) => {
                let id = indicator_id(&unit, document, period, name);
                let measure = match (value, unit_text) {
                    (None, _) => Measure::Milestone,
                    (_, "%") => Measure::Percentage,
                    (_, "‰") => Measure::PerMille,
                    _ => Measure::Amount,
                };
                let texts = (
                    text_of(&row, columns.name, "indicator_vi"),
                    text_of(&row, columns.unit, "unit"),
                );
                let (Ok(Some(name_text)), Ok(unit_name)) = texts else {
                    problems.extend([texts.0.err(), texts.1.err()].into_iter().flatten());
                    continue;
                };
                let definition = IndicatorDefinition {
                    id,
                    org_unit: unit.clone(),
                    period,
                    category,
                    code: None,
                    name: name_text,
                    unit: unit_name,
                    measure,
                    parent: None,
                    previous: None,
                    document,
                };
                indicators.define(line, definition, &mut steps);
                id
            }
        };
        if let Some(stated) = stated {
            let Some(document) = document else {
                problems.push(Problem::at(line, Some("stated_target"), "a stated target needs its document: fill `document` or give --document", "mức chỉ tiêu ghi trong bảng cần văn bản của nó: hãy điền `document` hoặc gửi --document"));
                continue;
            };
            let target = Target {
                kind: TargetKind::Plain {
                    value: stated,
                    base: None,
                },
                document,
                wording: Text::parse(verbatim).ok(),
            };
            if let Err(p) = indicators.target(line, id, TargetTrack::Resolution, target, &mut steps)
            {
                problems.push(p);
            }
        }
        let report = report_id(id, refers_to, verbatim);
        let known = indicators.reports.contains(&report)
            || state
                .indicators
                .get(&id)
                .and_then(|i| i.figures.as_deref())
                .is_some_and(|f| f.reports.contains_key(&report));
        if known {
            continue;
        }
        indicators.reports.insert(report);
        // A percentage of plan the document states beside a target and a
        // result: recomputed by the findings' rule, and flagged (not
        // refused) when they disagree; kept with the result either way.
        let notice = match (value, stated, stated_pct) {
            (Some(value), Some(target), Some(pct)) => {
                findings::percent_of_plan_mismatch(value, target, pct).map(|computed| {
                    let computed = computed.map_or("—".to_owned(), format_vietnamese);
                    // Kept in the report's note, which officials read: in
                    // Vietnamese, with Vietnamese number formatting.
                    format!(
                        "văn bản ghi đạt {}% kế hoạch; {}/{} tính ra {computed}%",
                        format_vietnamese(pct),
                        format_vietnamese(value),
                        format_vietnamese(target)
                    )
                })
            }
            _ => None,
        };
        if let Some(flag) = &notice {
            note = format!("{note}\n⚠ {flag}");
        }
        let note = match Text::parse(&note) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Problem::of(line, Some("notes"), &e));
                continue;
            }
        };
        steps.push(Step {
            line,
            key: format!("seed/{report}/report"),
            notice,
            command: Command::ReportActual {
                indicator: id,
                report: ActualReport {
                    report_id: report,
                    value: match value {
                        Some(value) => ResultValue::Amount { value },
                        None => ResultValue::Milestone { done: true },
                    },
                    refers_to,
                    status,
                    source: document,
                    note: Some(note),
                    stated: StatedFigures::of(stated_pct, stated_change),
                },
                supersedes: None,
                reason: None,
            },
        });
    }
    finish(places, steps, problems)
}
