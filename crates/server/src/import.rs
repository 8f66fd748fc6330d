//! `chitieu import`: an indicator table as planning offices keep it (STT |
//! NỘI DUNG | CHỈ TIÊU, tab- or comma-separated) into indicators and
//! targets, through the same commands and rules as the API.
//!
//! - Columns are recognised by their Vietnamese or English headers; a
//!   header repeated at a page break is skipped.
//! - Roman numerals (I, II …) are section headings and give the category;
//!   `1`, `1.1` build the tree; a row with neither number nor target
//!   continues the name of the row before.
//! - Target cells go through `chitieu_domain::target_text`.
//! - Every command is planned and checked against the current state first;
//!   a file with any problem is refused whole, with every problem listed.
//! - Ids and idempotency keys derive from the file's SHA-256, so importing
//!   the same file again changes nothing.

use chitieu_domain::target_text::parse_target_text;
use chitieu_domain::*;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Where the table's indicators belong.
#[derive(Debug, Clone)]
pub struct ImportContext {
    /// Their org unit.
    pub org_unit: OrgUnitCode,
    /// Their period.
    pub period: Period,
    /// The document that sets their targets (registered already).
    pub document: DocumentId,
    /// The track of the targets.
    pub track: TargetTrack,
}

/// A problem with the file, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Line in the file (1-based).
    pub line: usize,
    /// Column name, if it concerns one.
    pub column: Option<String>,
    /// Why.
    pub why: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.why),
            None => write!(f, "line {}: {}", self.line, self.why),
        }
    }
}

/// One command of the plan, with its idempotency key and where it came from.
#[derive(Debug, Clone)]
pub struct Step {
    /// Line of the row.
    pub line: usize,
    /// The command.
    pub command: Command,
    /// Idempotency key (from the file's digest, the line and the step).
    pub key: String,
}

fn split(line: &str) -> Vec<String> {
    let delimiter = if line.contains('\t') { '\t' } else { ',' };
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == delimiter && !quoted => out.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    out.push(cell);
    out.into_iter().map(|c| c.trim().to_owned()).collect()
}

#[derive(Debug, Default, Clone, Copy)]
struct Columns {
    code: Option<usize>,
    name: Option<usize>,
    target: Option<usize>,
    unit: Option<usize>,
}

fn columns(header: &[String]) -> Option<Columns> {
    let key = |h: &str| search_key(h);
    let find = |names: &[&str]| header.iter().position(|h| names.contains(&key(h).as_str()));
    let code = find(&["stt", "tt", "so tt", "no", "no.", "code", "ma"]);
    let target = find(&["chi tieu", "target", "muc tieu", "ke hoach"]);
    let name = find(&["noi dung", "ten chi tieu", "indicator", "name"]);
    let unit = find(&["dvt", "don vi", "don vi tinh", "unit"]);
    (name.is_some() && target.is_some()).then_some(Columns {
        code,
        name,
        target,
        unit,
    })
}

/// A row of the table: line, code, name, target cell, unit, category.
type Row = (
    usize,
    Option<String>,
    String,
    String,
    Option<String>,
    Category,
);

fn is_roman(code: &str) -> bool {
    !code.is_empty() && code.chars().all(|c| matches!(c, 'I' | 'V' | 'X' | 'L'))
}

fn category_of(heading: &str) -> Option<Category> {
    let h = search_key(heading);
    if h.contains("kinh te") {
        Some(Category::Economy)
    } else if h.contains("moi truong") {
        Some(Category::Environment)
    } else if h.contains("quoc phong") || h.contains("an ninh") {
        Some(Category::DefenseSecurity)
    } else if h.contains("dang") || h.contains("chinh quyen") || h.contains("he thong chinh tri") {
        Some(Category::PartyBuilding)
    } else if h.contains("xa hoi") || h.contains("van hoa") {
        Some(Category::Society)
    } else {
        None
    }
}

fn measure_of(kind: &TargetKind, unit: Option<&str>) -> Measure {
    match (kind, unit) {
        (TargetKind::Milestone { .. } | TargetKind::Maintain { level: None }, _) => {
            Measure::Milestone
        }
        (_, Some("%")) => Measure::Percentage,
        (_, Some("‰")) => Measure::PerMille,
        _ => Measure::Amount,
    }
}

/// Plans the commands of a table, checking them against `state`. Steps
/// whose idempotency key `done` reports as used are planned but not
/// re-checked (a re-import replays them).
pub fn plan(
    text: &str,
    context: &ImportContext,
    state: &DomainState,
    done: impl Fn(&str) -> bool,
) -> Result<Vec<Step>, Vec<Problem>> {
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    let file = &digest[..16];
    let mut problems = Vec::new();
    let mut cols: Option<Columns> = None;
    let mut category = Category::Economy;
    let mut rows: Vec<Row> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let cells = split(raw);
        if let Some(found) = columns(&cells) {
            cols = Some(found);
            continue;
        }
        let Some(c) = cols else {
            problems.push(Problem {
                line,
                column: None,
                why: "no header row (STT | NỘI DUNG | CHỈ TIÊU) before this row".into(),
            });
            continue;
        };
        let cell = |idx: Option<usize>| idx.and_then(|i| cells.get(i)).cloned().unwrap_or_default();
        let code = cell(c.code);
        let name = cell(c.name);
        let target = cell(c.target);
        let unit = c.unit.map(|_| cell(c.unit)).filter(|u| !u.is_empty());
        if is_roman(&code) {
            match category_of(&name) {
                Some(found) => category = found,
                None => problems.push(Problem {
                    line,
                    column: Some("NỘI DUNG".into()),
                    why: format!("section `{name}` names no known field"),
                }),
            }
            continue;
        }
        if code.is_empty() && target.is_empty() {
            // The name runs on from the row before (a page break).
            match rows.last_mut() {
                Some(last) if !name.is_empty() => {
                    last.2.push(' ');
                    last.2.push_str(&name);
                }
                _ => problems.push(Problem {
                    line,
                    column: None,
                    why: "a row with neither number, name nor target".into(),
                }),
            }
            continue;
        }
        if name.is_empty() {
            problems.push(Problem {
                line,
                column: Some("NỘI DUNG".into()),
                why: "the indicator has no name".into(),
            });
        }
        if target.is_empty() {
            problems.push(Problem {
                line,
                column: Some("CHỈ TIÊU".into()),
                why: "the indicator has no target".into(),
            });
        }
        rows.push((
            line,
            (!code.is_empty()).then_some(code),
            name,
            target,
            unit,
            category,
        ));
    }
    if cols.is_none() {
        problems.push(Problem {
            line: 1,
            column: None,
            why: "no header row with a name and a target column".into(),
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut steps = Vec::new();
    let mut by_code: std::collections::HashMap<String, IndicatorId> = Default::default();
    for (line, code, name, cell, unit, category) in &rows {
        let parsed = parse_target_text(cell);
        for (n, target) in parsed.iter().enumerate() {
            let id = IndicatorId(Uuid::new_v5(
                &Uuid::NAMESPACE_OID,
                format!("chitieu-import/{file}/{line}/{n}").as_bytes(),
            ));
            let parent = match (n, code) {
                (0, Some(c)) => c
                    .rsplit_once('.')
                    .and_then(|(p, _)| by_code.get(p).copied()),
                (0, None) => None,
                _ => by_code.get(&format!("{line}")).copied(),
            };
            let unit_text = unit.clone().or_else(|| target.unit.clone());
            let name = if n == 0 {
                name.clone()
            } else {
                format!("{name}: {}", target.wording)
            };
            let text = |field: &str, raw: &str| {
                Text::parse(raw).map_err(|e| Problem {
                    line: *line,
                    column: Some(field.into()),
                    why: e.to_string(),
                })
            };
            let definition = IndicatorDefinition {
                id,
                org_unit: context.org_unit.clone(),
                period: context.period,
                category: *category,
                code: code
                    .as_deref()
                    .map(|c| text("STT", c))
                    .transpose()
                    .map_err(|p| vec![p])?,
                name: text("NỘI DUNG", &name).map_err(|p| vec![p])?,
                unit: unit_text.as_deref().and_then(|u| Text::parse(u).ok()),
                measure: measure_of(&target.kind, unit_text.as_deref()),
                parent,
                previous: None,
                document: Some(context.document),
            };
            if n == 0 {
                if let Some(c) = code {
                    by_code.insert(c.clone(), id);
                }
                by_code.insert(format!("{line}"), id);
            }
            steps.push(Step {
                line: *line,
                command: Command::DefineIndicator(definition),
                key: format!("import/{file}/{line}/{n}/define"),
            });
            let set = Command::SetTarget {
                indicator: id,
                track: context.track,
                target: Target {
                    kind: target.kind.clone(),
                    document: context.document,
                    wording: Text::parse(&target.wording).ok(),
                },
            };
            steps.push(Step {
                line: *line,
                command: set,
                key: format!("import/{file}/{line}/{n}/target"),
            });
        }
    }
    // Check every step against the state, in order, before anything is written.
    let mut scratch = state.clone();
    let mut problems = Vec::new();
    for step in &steps {
        if done(&step.key) {
            continue;
        }
        match decide(&scratch, &step.command) {
            Ok(events) => events.iter().for_each(|e| evolve(&mut scratch, e)),
            Err(e) => problems.push(Problem {
                line: step.line,
                column: None,
                why: e.to_string(),
            }),
        }
    }
    if problems.is_empty() {
        Ok(steps)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> (DomainState, ImportContext) {
        let mut state = DomainState::default();
        let code = |c: &str| OrgUnitCode::parse(c).unwrap_or_else(|e| panic!("{e}"));
        let text = |t: &str| Text::parse(t).unwrap_or_else(|e| panic!("{e}"));
        let document = DocumentId(Uuid::from_u128(38));
        for command in [
            Command::RegisterOrgUnit(OrgUnit {
                code: code("LA"),
                name: text("Long An"),
                level: OrgUnitLevel::Province,
                parent: None,
            }),
            Command::RegisterOrgUnit(OrgUnit {
                code: code("LA.CAN-DUOC"),
                name: text("Cần Đước"),
                level: OrgUnitLevel::District,
                parent: Some(code("LA")),
            }),
            Command::RegisterDocument(Document {
                id: document,
                number: DocumentNumber::parse("38-CTr/HU").ok(),
                kind: DocumentKind::ActionProgramme,
                issuing_body: text("Ban Thường vụ Huyện ủy"),
                org_unit: Some(code("LA.CAN-DUOC")),
                issued_on: None,
                title: text("Chương trình hành động"),
            }),
        ] {
            for e in decide(&state, &command).unwrap_or_else(|e| panic!("{e}")) {
                evolve(&mut state, &e);
            }
        }
        let context = ImportContext {
            org_unit: code("LA.CAN-DUOC"),
            period: Period::Year(2025),
            document,
            track: TargetTrack::Resolution,
        };
        (state, context)
    }

    #[test]
    fn the_appendix_of_38_ctr_hu_imports_as_it_is_in_the_document() {
        let (state, context) = state();
        let table = include_str!("../tests/data/38-CTr-HU-phu-luc.tsv");
        let steps = plan(table, &context, &state, |_| false).unwrap_or_else(|p| panic!("{p:?}"));
        let defined: Vec<&IndicatorDefinition> = steps
            .iter()
            .filter_map(|s| match &s.command {
                Command::DefineIndicator(d) => Some(d),
                _ => None,
            })
            .collect();
        // 26 numbered rows and the unnumbered one; cells with two targets
        // (20, 22, 19, 25, 24) give sub-indicators.
        assert!(defined.len() >= 27, "{}", defined.len());
        let rice = defined
            .iter()
            .find(|d| d.name.as_str() == "Sản lượng lúa")
            .unwrap_or_else(|| panic!("rice"));
        let sector_one = defined
            .iter()
            .find(|d| d.code.as_ref().map(|c| c.as_str()) == Some("1"))
            .unwrap_or_else(|| panic!("1"));
        assert_eq!(rice.parent, Some(sector_one.id), "1.1 nests under 1");
        assert_eq!(rice.category, Category::Economy);
        let row14 = defined
            .iter()
            .find(|d| d.code.as_ref().map(|c| c.as_str()) == Some("14"))
            .unwrap_or_else(|| panic!("14"));
        assert!(
            row14.name.as_str().ends_with("sinh đủ 02 con"),
            "the name runs on across the page break: {}",
            row14.name
        );
        assert_eq!(row14.category, Category::Society);
        let party = defined
            .iter()
            .find(|d| d.code.as_ref().map(|c| c.as_str()) == Some("26"))
            .unwrap_or_else(|| panic!("26"));
        assert_eq!(party.category, Category::PartyBuilding);
        // Importing again plans the same ids (and keys), so nothing changes.
        let again = plan(table, &context, &state, |_| false).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(
            again.iter().map(|s| &s.key).collect::<Vec<_>>(),
            steps.iter().map(|s| &s.key).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_bad_file_is_refused_whole_with_every_problem_listed() {
        let (state, context) = state();
        let table =
            "STT\tNỘI DUNG\tCHỈ TIÊU\nI\tChỉ tiêu gì đó\t\n1\t\t85.000 tấn\n2\tSản lượng tôm\t\n";
        let problems = plan(table, &context, &state, |_| false)
            .err()
            .unwrap_or_default();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 3, 4], "{problems:?}");
        assert!(problems[1].to_string().contains("NỘI DUNG"));
        let unknown_unit = ImportContext {
            org_unit: OrgUnitCode::parse("HG").unwrap_or_else(|e| panic!("{e}")),
            ..context
        };
        let refused = plan(
            "STT\tNỘI DUNG\tCHỈ TIÊU\n1\tLúa\t85.000 tấn\n",
            &unknown_unit,
            &state,
            |_| false,
        )
        .err()
        .unwrap_or_default();
        assert!(refused[0].why.contains("HG"), "{refused:?}");
    }
}
