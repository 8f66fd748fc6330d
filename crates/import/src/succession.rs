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
//! the document. Both units must be registered: the table records who
//! took over, it does not create units. The idempotency key comes from
//! the old unit and the date, so the same table twice plans nothing new.

use crate::{find_column, Options, Problem, Step, Table};
use chitieu_domain::{Command, DocumentId, DomainState, OrgUnitCode};
use chrono::NaiveDate;
use std::collections::BTreeMap;

const OLD: &[&str] = &["old code", "old", "ma cu", "don vi cu"];
const NEW: &[&str] = &["new code", "new", "ma moi", "don vi moi"];
const EFFECTIVE: &[&str] = &["effective", "effective date", "ngay hieu luc", "hieu luc"];
const DOCUMENT: &[&str] = &["document", "van ban", "can cu"];

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
    let mut problems = Vec::new();
    let mut units: BTreeMap<OrgUnitCode, Planned> = BTreeMap::new();
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
                .find(|d| {
                    d.id.to_string() == raw || d.number.as_ref().is_some_and(|n| n.as_str() == raw)
                })
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
        match (
            code(old, "old code", "đơn vị cũ"),
            code(new, "new code", "đơn vị mới"),
            date,
            document,
        ) {
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
    Ok(steps)
}
