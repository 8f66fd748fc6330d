//! The mapping table of a reorganisation: one row per old unit and new
//! unit, as a decree's annex lists them.
//!
//! | old code | new code | effective | document |
//! |---|---|---|---|
//! | `LA.CAN-DUOC` | `TN` | `2025-07-01` | `72/2025/QH15` |
//!
//! Headers in English as above or in Vietnamese (`mã cũ`, `mã mới`, `ngày
//! hiệu lực`, `văn bản`); the document by number or id (registered first),
//! or for the whole table by the `document` option. Every old unit's rows
//! become one succession (several new codes: a split; several old units
//! naming one new code: a merger); its rows must agree on the date and
//! the document. The old unit must be registered; a new unit that is not
//! yet is registered from the optional columns `new name` (`tên mới`),
//! `new level` (`cấp mới`: province/tỉnh, commune/xã/phường, town/thị
//! trấn, …; the old unit's level when empty) and `new parent` (`trực
//! thuộc`, a code). The idempotency keys come from the units and the date,
//! so the same table twice plans nothing new.

use crate::{find_column, Options, Problem, Step, Table};
use chitieu_domain::text::search_key;
use chitieu_domain::{Command, DocumentId, DomainState, OrgUnit, OrgUnitCode, OrgUnitLevel, Text};
use chrono::NaiveDate;
use std::collections::BTreeMap;

const OLD: &[&str] = &["old code", "old", "ma cu", "don vi cu"];
const NEW: &[&str] = &["new code", "new", "ma moi", "don vi moi"];
const EFFECTIVE: &[&str] = &["effective", "effective date", "ngay hieu luc", "hieu luc"];
const DOCUMENT: &[&str] = &["document", "van ban", "can cu"];
const NEW_NAME: &[&str] = &["new name", "ten moi", "ten don vi moi"];
const NEW_LEVEL: &[&str] = &["new level", "cap moi"];
const NEW_PARENT: &[&str] = &["new parent", "truc thuoc", "thuoc"];

/// A level as a table writes it.
fn level(raw: &str) -> Option<OrgUnitLevel> {
    Some(match search_key(raw).as_str() {
        "province" | "tinh" | "thanh pho" => OrgUnitLevel::Province,
        "district" | "huyen" | "quan" | "thi xa" => OrgUnitLevel::District,
        "commune" | "ward" | "xa" | "phuong" | "dac khu" => OrgUnitLevel::Commune,
        "town" | "thi tran" => OrgUnitLevel::Town,
        "hamlet" | "ap" | "khom" => OrgUnitLevel::Hamlet,
        _ => return None,
    })
}

/// The row index of a mapping table's header, if the table is one.
pub fn header(table: &Table) -> Option<usize> {
    table.rows.iter().take(20).position(|(_, cells)| {
        find_column(cells, OLD).is_some()
            && find_column(cells, NEW).is_some()
            && find_column(cells, EFFECTIVE).is_some()
    })
}

/// One old unit's succession as the rows give it.
struct Planned {
    line: usize,
    successors: Vec<OrgUnitCode>,
    effective: NaiveDate,
    document: Option<DocumentId>,
}

/// Plans one `RecordSuccession` per old unit, or every problem of the table.
pub fn plan(
    table: &Table,
    at: usize,
    options: &Options,
    state: &DomainState,
) -> Result<Vec<Step>, Vec<Problem>> {
    let header = &table.rows[at].1;
    let column = |names| find_column(header, names);
    let (Some(old), Some(new), Some(effective)) = (column(OLD), column(NEW), column(EFFECTIVE))
    else {
        return Err(vec![Problem::at(
            table.rows[at].0,
            None,
            "a mapping table needs the columns old code, new code and effective",
            "bảng sắp xếp cần các cột mã cũ, mã mới và ngày hiệu lực",
        )]);
    };
    let document_column = column(DOCUMENT);
    let (name_column, level_column, parent_column) =
        (column(NEW_NAME), column(NEW_LEVEL), column(NEW_PARENT));
    let mut problems = Vec::new();
    let mut units: BTreeMap<OrgUnitCode, Planned> = BTreeMap::new();
    let mut new_units: BTreeMap<OrgUnitCode, (usize, OrgUnit)> = BTreeMap::new();
    for (line, cells) in &table.rows[at + 1..] {
        let line = *line;
        let cell = |i: usize| cells.get(i).map_or("", |c| c.text.as_str());
        let code = |i: usize, name: &str, vi: &str| match OrgUnitCode::parse(cell(i)) {
            Ok(code) if state.org_units.contains_key(&code) => Ok(code),
            Ok(code) => Err(Problem::at(
                line,
                Some(name),
                format!("org unit `{code}` is not registered (register it first)"),
                format!("đơn vị `{code}` chưa được đăng ký (hãy đăng ký trước)"),
            )),
            Err(e) => Err(Problem::at(
                line,
                Some(name),
                format!("`{}` is not an org-unit code: {e}", cell(i)),
                format!("`{}` không phải là mã {vi}", cell(i)),
            )),
        };
        let date = crate::seed::parse_date(cell(effective)).ok_or_else(|| {
            Problem::at(
                line,
                Some("effective"),
                format!(
                    "`{}` is not a date (2025-07-01 or 01/07/2025)",
                    cell(effective)
                ),
                format!(
                    "`{}` không phải là ngày (2025-07-01 hoặc 01/07/2025)",
                    cell(effective)
                ),
            )
        });
        let document = match document_column.map(cell).filter(|d| !d.is_empty()) {
            Some(raw) => state
                .documents
                .values()
                .find(|d| d.is_named(raw))
                .map(|d| Some(d.id))
                .ok_or_else(|| {
                    Problem::at(
                        line,
                        Some("document"),
                        format!("no registered document `{raw}` (give its number or id)"),
                        format!("không có văn bản `{raw}` đã đăng ký (ghi số hoặc mã)"),
                    )
                }),
            None => Ok(options.document),
        };
        let optional = |c: Option<usize>| c.map(cell).filter(|t| !t.is_empty());
        // A new code that is not registered yet, with the unit described.
        let to = match (
            code(new, "new code", "đơn vị mới"),
            optional(name_column),
            OrgUnitCode::parse(cell(new)),
        ) {
            (Err(_), Some(name), Ok(to)) => new_unit(
                line,
                &to,
                name,
                optional(level_column),
                optional(parent_column),
                cell(old),
                state,
            )
            .map(|unit| OrgUnit {
                // A unit the reorganisation makes begins on its date.
                established: date.as_ref().ok().copied(),
                ..unit
            })
            .and_then(|unit| match new_units.get(&to) {
                Some((first, planned)) if planned != &unit => Err(Problem::at(
                    line,
                    Some("new name"),
                    format!("`{to}` is described otherwise on line {first}"),
                    format!("`{to}` được mô tả khác ở dòng {first}"),
                )),
                Some(_) => Ok(to),
                None => {
                    new_units.insert(to.clone(), (line, unit));
                    Ok(to)
                }
            }),
            (to, _, _) => to,
        };
        match (code(old, "old code", "đơn vị cũ"), to, date, document) {
            (Ok(from), Ok(to), Ok(effective), Ok(document)) => match units.get_mut(&from) {
                Some(planned) if planned.effective != effective || planned.document != document => {
                    problems.push(Problem::at(
                        line,
                        Some("effective"),
                        format!(
                            "`{from}` has another date or document on line {}",
                            planned.line
                        ),
                        format!("`{from}` có ngày hoặc văn bản khác ở dòng {}", planned.line),
                    ))
                }
                Some(planned) => {
                    if !planned.successors.contains(&to) {
                        planned.successors.push(to);
                    }
                }
                None => {
                    units.insert(
                        from,
                        Planned {
                            line,
                            successors: vec![to],
                            effective,
                            document,
                        },
                    );
                }
            },
            (from, to, effective, document) => problems.extend(
                [from.err(), to.err(), effective.err(), document.err()]
                    .into_iter()
                    .flatten(),
            ),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut registrations: Vec<Step> = new_units
        .into_iter()
        .map(|(code, (line, unit))| Step {
            line,
            key: format!("org-unit/{code}"),
            command: Command::RegisterOrgUnit(unit),
            notice: None,
        })
        .collect();
    // A parent before its children.
    registrations.sort_by_key(|s| match &s.command {
        Command::RegisterOrgUnit(u) => (u.level.rank(), s.line),
        _ => (u8::MAX, s.line),
    });
    let mut steps: Vec<Step> = units
        .into_iter()
        .map(|(unit, planned)| Step {
            line: planned.line,
            key: format!("succession/{unit}/{}", planned.effective),
            command: Command::RecordSuccession {
                unit,
                successors: planned.successors,
                effective: planned.effective,
                document: planned.document,
            },
            notice: None,
        })
        .collect();
    steps.sort_by_key(|s| s.line);
    registrations.extend(steps);
    Ok(registrations)
}

/// The new unit a row describes.
fn new_unit(
    line: usize,
    code: &OrgUnitCode,
    name: &str,
    level_text: Option<&str>,
    parent: Option<&str>,
    old: &str,
    state: &DomainState,
) -> Result<OrgUnit, Problem> {
    let name = Text::parse(name).map_err(|e| {
        Problem::at(
            line,
            Some("new name"),
            format!("`{name}`: {e}"),
            format!("`{name}` không hợp lệ"),
        )
    })?;
    let old_level = OrgUnitCode::parse(old)
        .ok()
        .and_then(|c| state.org_units.get(&c))
        .map(|u| u.unit.level);
    let level = match level_text {
        Some(raw) => level(raw).ok_or_else(|| {
            Problem::at(
                line,
                Some("new level"),
                format!("`{raw}` is not a level (province, commune, town, …)"),
                format!("`{raw}` không phải là cấp (tỉnh, xã, thị trấn, …)"),
            )
        })?,
        None => old_level.ok_or_else(|| {
            Problem::at(
                line,
                Some("new level"),
                format!("`{code}` is new: give its level"),
                format!("`{code}` là đơn vị mới: hãy ghi cấp"),
            )
        })?,
    };
    let parent = parent
        .map(|raw| {
            OrgUnitCode::parse(raw).map_err(|e| {
                Problem::at(
                    line,
                    Some("new parent"),
                    format!("`{raw}` is not an org-unit code: {e}"),
                    format!("`{raw}` không phải là mã đơn vị"),
                )
            })
        })
        .transpose()?;
    Ok(OrgUnit {
        code: code.clone(),
        name,
        level,
        parent,
        established: None,
    })
}
