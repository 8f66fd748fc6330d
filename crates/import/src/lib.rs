//! `chitieu import`: indicator tables as planning offices and the seed data
//! set keep them, into commands, through the same rules as the API.
//!
//! Four layouts, told apart by their header row:
//! - [`office`]: STT | NỘI DUNG | CHỈ TIÊU (the appendix of 38-CTr/HU), with
//!   the org unit, period, document and track given on the command line or
//!   in `key: value` rows above the header;
//! - [`seed`] targets: one row per target with its kind and figures
//!   (`shared/data/targets.tsv`), org unit and document in every row;
//! - [`seed`] actuals: one row per reported result (`actuals.tsv`);
//! - [`succession`]: a reorganisation's mapping table, old code | new code
//!   | effective | document, into successions.
//!
//! Files are TSV, CSV (quoted fields allowed) or spreadsheets (XLSX, XLS,
//! ODS: the first sheet, read with calamine). Every command is planned and
//! checked against the current state first; a file with any problem is
//! refused whole, with every problem listed by line and column.

pub mod office;
pub mod seed;
pub mod succession;

use chitieu_domain::vi::Vietnamese;
use chitieu_domain::*;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::str::FromStr;

/// Where the rows belong when the file does not say (command-line flags).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Org unit of the indicators.
    pub org_unit: Option<OrgUnitCode>,
    /// Period of the indicators.
    pub period: Option<Period>,
    /// The registered document that sets the targets or reports the results.
    pub document: Option<DocumentId>,
    /// Target track.
    pub track: Option<TargetTrack>,
}

/// Where the rows belong, as a person gives it (command-line flags, a
/// form): org unit by code or name, period, document by number or id,
/// track by name.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    /// Org unit (code or registered name).
    pub org_unit: Option<String>,
    /// Period (`2025`, `2020-2025`, …).
    pub period: Option<String>,
    /// Registered document (number or id).
    pub document: Option<String>,
    /// Track: assigned, resolution or stretch (or giao, nghị quyết, phấn đấu).
    pub track: Option<String>,
}

impl Flags {
    /// The options these name, looked up in `state`; an error says which
    /// one names nothing.
    pub fn resolve(&self, state: &DomainState) -> Result<Options, String> {
        let org_unit = match &self.org_unit {
            Some(raw) => Some(office::find_org_unit(state, raw).ok_or_else(|| {
                format!("no registered org unit `{raw}` (give its code or name)")
            })?),
            None => None,
        };
        let period = match &self.period {
            Some(raw) => Some(Period::parse(raw).map_err(|e| e.to_string())?),
            None => None,
        };
        let document = match &self.document {
            Some(raw) => Some(
                state
                    .documents
                    .values()
                    .find(|d| d.is_named(raw))
                    .map(|d| d.id)
                    .ok_or_else(|| {
                        format!(
                            "no registered document `{raw}` (give its number or id; register it first)"
                        )
                    })?,
            ),
            None => None,
        };
        let track = match &self.track {
            Some(raw) => Some(office::parse_track(raw).ok_or_else(|| {
                format!("the track is assigned, resolution or stretch, not `{raw}`")
            })?),
            None => None,
        };
        Ok(Options {
            org_unit,
            period,
            document,
            track,
        })
    }
}

/// A problem with the file, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Line in the file (1-based; the row number in a spreadsheet).
    pub line: usize,
    /// Column name, if it concerns one.
    pub column: Option<String>,
    /// Why, in English.
    pub why: String,
    /// Why, in Vietnamese.
    pub why_vi: String,
    /// What kind of problem (the API's code).
    pub kind: ProblemKind,
}

/// What kind of problem a table has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProblemKind {
    /// Something in the table is wrong (`VALIDATION`).
    #[default]
    Invalid,
    /// The row would change a reporting period that is approved or locked
    /// (`PERIOD_LOCKED`).
    PeriodLocked,
    /// The file is over a budget (`PAYLOAD_TOO_LARGE`).
    TooLarge,
}

impl Problem {
    pub(crate) fn at(
        line: usize,
        column: Option<&str>,
        why: impl Into<String>,
        why_vi: impl Into<String>,
    ) -> Self {
        Problem {
            line,
            column: column.map(str::to_owned),
            why: why.into(),
            why_vi: why_vi.into(),
            kind: ProblemKind::Invalid,
        }
    }

    /// A problem worded as the domain words `error`, in both languages.
    pub(crate) fn of<E: std::fmt::Display + Vietnamese + ?Sized>(
        line: usize,
        column: Option<&str>,
        error: &E,
    ) -> Self {
        Problem::at(line, column, error.to_string(), error.vi())
    }

    /// Where and why, in Vietnamese (`Display` is the English).
    pub fn vi(&self) -> String {
        match &self.column {
            Some(c) => format!("dòng {}, cột {c}: {}", self.line, self.why_vi),
            None => format!("dòng {}: {}", self.line, self.why_vi),
        }
    }
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
    /// Idempotency key.
    pub key: String,
    /// What the importer noticed about the row without refusing it (a
    /// percentage the document states that its own figures do not give).
    pub notice: Option<String>,
}

/// One cell: its text, and its exact number when a spreadsheet stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    /// The text (numbers in plain notation: `1577.95`).
    pub text: String,
    /// The number, for a numeric spreadsheet cell.
    pub number: Option<Decimal>,
}

impl Cell {
    fn text(text: &str) -> Self {
        Cell {
            text: text.trim().to_owned(),
            number: None,
        }
    }
}

/// A file's rows, each with its line (or spreadsheet row) number.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Non-empty rows.
    pub rows: Vec<(usize, Vec<Cell>)>,
    /// The first 16 hex digits of the file's SHA-256.
    pub digest: String,
}

impl Table {
    /// A delimited text file: tab-separated when a line holds a tab, else
    /// comma-separated with `"` quoting.
    pub fn from_text(text: &str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let rows = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, split(l).iter().map(|c| Cell::text(c)).collect()))
            .collect();
        Table {
            rows,
            digest: digest(text.as_bytes()),
        }
    }

    /// A file's bytes: a spreadsheet (by its signature) or UTF-8 text.
    pub fn read(bytes: &[u8]) -> Result<Self, Problem> {
        const ZIP: &[u8] = b"PK\x03\x04";
        const OLE: &[u8] = b"\xD0\xCF\x11\xE0";
        if bytes.starts_with(ZIP) || bytes.starts_with(OLE) {
            return Self::from_spreadsheet(bytes);
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            Problem::at(1, None, format!("neither a spreadsheet nor UTF-8 text ({e}); save the table as XLSX, or as CSV/TSV in UTF-8"), format!("không phải bảng tính cũng không phải văn bản UTF-8 ({e}); hãy lưu bảng dạng XLSX, hoặc CSV/TSV mã UTF-8"))
        })?;
        Ok(Self::from_text(text))
    }

    fn from_spreadsheet(bytes: &[u8]) -> Result<Self, Problem> {
        use calamine::{Data, Reader};
        let unreadable = |e: &dyn std::fmt::Display| {
            Problem::at(
                1,
                None,
                format!("the spreadsheet cannot be read: {e}"),
                format!("không đọc được bảng tính: {e}"),
            )
        };
        // Untrusted bytes: the budgets hold before any cell is read, so
        // no archive expands or allocates past them.
        let cells: Vec<((u32, u32), Data)> = if bytes.starts_with(b"PK\x03\x04") {
            check_archive(bytes)?;
            let mut book =
                calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
            let name = book.sheet_names().first().cloned().ok_or_else(|| {
                Problem::at(
                    1,
                    None,
                    "the workbook has no sheet",
                    "tệp bảng tính không có trang nào",
                )
            })?;
            let mut reader = book
                .worksheet_cells_reader(&name)
                .map_err(|e| unreadable(&e))?;
            let mut cells = Vec::new();
            while let Some(cell) = reader.next_cell().map_err(|e| unreadable(&e))? {
                let position = cell.get_position();
                within_budget(position, cells.len())?;
                let value = Data::from(cell.get_value().clone());
                if value != Data::Empty {
                    cells.push((position, value));
                }
            }
            cells
        } else {
            // Legacy .xls: no compression to expand; its size is its budget.
            let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
                .map_err(|e| unreadable(&e))?;
            let range = book
                .worksheet_range_at(0)
                .ok_or_else(|| {
                    Problem::at(
                        1,
                        None,
                        "the workbook has no sheet",
                        "tệp bảng tính không có trang nào",
                    )
                })?
                .map_err(|e| unreadable(&e))?;
            let mut cells = Vec::new();
            for (row, col, value) in range.used_cells() {
                let position = (row as u32, col as u32);
                within_budget(position, cells.len())?;
                cells.push((position, value.clone()));
            }
            cells
        };
        let mut by_row: std::collections::BTreeMap<u32, Vec<(u32, Data)>> = Default::default();
        for ((row, col), value) in cells {
            by_row.entry(row).or_default().push((col, value));
        }
        let mut rows = Vec::new();
        for (row, mut values) in by_row {
            values.sort_by_key(|(col, _)| *col);
            // Cells keep their column: the ones left of the first are empty,
            // so positions match the header's.
            let width = values.last().map_or(0, |(c, _)| *c as usize + 1);
            let mut cells = vec![Cell::default(); width];
            for (col, data) in values {
                cells[col as usize] = match data {
                    Data::Int(n) => number_cell(Decimal::from(n)),
                    // The shortest text that reads back as the same double is what
                    // the office typed (1577.95), not the double's binary expansion.
                    Data::Float(f) => match Decimal::from_str(&f.to_string())
                        .or_else(|_| Decimal::from_scientific(&f.to_string()))
                    {
                        Ok(d) => number_cell(d),
                        Err(_) => Cell::text(&f.to_string()),
                    },
                    Data::DateTime(d) => match d.as_datetime() {
                        Some(t) => Cell::text(&t.date().to_string()),
                        None => Cell::text(&d.to_string()),
                    },
                    other => Cell::text(&other.to_string()),
                };
            }
            if cells.iter().any(|c| !c.text.is_empty()) {
                rows.push((row as usize + 1, cells));
            }
        }
        Ok(Table {
            rows,
            digest: digest(bytes),
        })
    }
}

/// Most bytes a spreadsheet may expand to, all its parts together.
pub const MAX_EXPANDED_BYTES: u64 = 64 << 20;
/// Most parts (files) in a spreadsheet archive.
pub const MAX_ARCHIVE_ENTRIES: usize = 2_000;
/// Most cells read from a sheet.
pub const MAX_CELLS: usize = 500_000;
/// Most rows of a sheet (the last used row).
pub const MAX_ROWS: u32 = 100_000;
/// Most columns of a sheet (the last used column).
pub const MAX_COLUMNS: u32 = 256;

fn too_large(why: String, why_vi: String) -> Problem {
    Problem {
        kind: ProblemKind::TooLarge,
        ..Problem::at(1, None, why, why_vi)
    }
}

/// Expands every part of the archive, counting, and refuses it past
/// [`MAX_EXPANDED_BYTES`] or [`MAX_ARCHIVE_ENTRIES`]: a few kilobytes that
/// expand to gigabytes (a zip bomb) are refused after the budget, not after
/// the gigabytes. The sizes the archive declares are not trusted.
fn check_archive(bytes: &[u8]) -> Result<(), Problem> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| {
        Problem::at(
            1,
            None,
            format!("the spreadsheet cannot be read: {e}"),
            format!("không đọc được bảng tính: {e}"),
        )
    })?;
    if archive.len() > MAX_ARCHIVE_ENTRIES {
        return Err(too_large(
            format!(
                "the spreadsheet has {} parts; at most {MAX_ARCHIVE_ENTRIES} are read",
                archive.len()
            ),
            format!(
                "bảng tính có {} phần; chỉ đọc tối đa {MAX_ARCHIVE_ENTRIES} phần",
                archive.len()
            ),
        ));
    }
    let mut expanded: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|e| {
            Problem::at(
                1,
                None,
                format!("the spreadsheet cannot be read: {e}"),
                format!("không đọc được bảng tính: {e}"),
            )
        })?;
        let left = MAX_EXPANDED_BYTES - expanded;
        let read = std::io::copy(&mut entry.take(left + 1), &mut std::io::sink()).map_err(|e| {
            Problem::at(
                1,
                None,
                format!("the spreadsheet cannot be read: {e}"),
                format!("không đọc được bảng tính: {e}"),
            )
        })?;
        expanded += read;
        if expanded > MAX_EXPANDED_BYTES {
            return Err(too_large(
                format!(
                    "the spreadsheet expands to more than {} MiB; split it or save it as CSV",
                    MAX_EXPANDED_BYTES >> 20
                ),
                format!(
                    "bảng tính giải nén ra hơn {} MiB; hãy chia nhỏ hoặc lưu dạng CSV",
                    MAX_EXPANDED_BYTES >> 20
                ),
            ));
        }
    }
    Ok(())
}

fn within_budget((row, col): (u32, u32), cells: usize) -> Result<(), Problem> {
    if row >= MAX_ROWS || col >= MAX_COLUMNS || cells >= MAX_CELLS {
        return Err(too_large(
            format!(
                "the sheet is too large to import: at most {MAX_ROWS} rows, {MAX_COLUMNS} columns and {MAX_CELLS} cells (a cell at row {}, column {})",
                row + 1,
                col + 1
            ),
            format!(
                "trang tính quá lớn để nhập: tối đa {MAX_ROWS} dòng, {MAX_COLUMNS} cột và {MAX_CELLS} ô (có ô ở dòng {}, cột {})",
                row + 1,
                col + 1
            ),
        ));
    }
    Ok(())
}

fn number_cell(d: Decimal) -> Cell {
    Cell {
        text: d.normalize().to_string(),
        number: Some(d.normalize()),
    }
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))[..16].to_owned()
}

pub(crate) fn split(line: &str) -> Vec<String> {
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

/// The position of the first header cell whose folded text is one of `names`.
pub(crate) fn find_column(header: &[Cell], names: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| names.contains(&search_key(&h.text).as_str()))
}

/// Plans the commands of a table, checking them against `state`. Steps
/// whose idempotency key `done` reports as used are planned but not
/// re-checked (a re-import replays them).
///
/// Planning reads the figures ([`chitieu_domain::Figures`]) of the
/// indicators the table names; a state holding figures for some
/// indicators only must hold those of [`figures_read`] first.
pub fn plan(
    table: &Table,
    options: &Options,
    state: &DomainState,
    done: impl Fn(&str) -> bool,
) -> Result<Vec<Step>, Vec<Problem>> {
    check(draft(table, options, state)?, state, done)
}

/// The indicators whose figures [`plan`] reads for `table`: those its
/// steps write. Where `state` lacks an indicator's figures, the draft
/// takes its targets and reports for absent and plans commands on it, so
/// its id is among these; with them loaded, the plan reads no others.
pub fn figures_read(table: &Table, options: &Options, state: &DomainState) -> Vec<IndicatorId> {
    let mut ids: Vec<IndicatorId> = draft(table, options, state)
        .map(|steps| {
            steps
                .iter()
                .flat_map(|s| state.figures_needed(&s.command))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids.dedup();
    ids
}

/// The steps of a table before they are checked.
fn draft(table: &Table, options: &Options, state: &DomainState) -> Result<Vec<Step>, Vec<Problem>> {
    let mut steps = if let Some(at) = seed::targets_header(table) {
        seed::plan_targets(table, at, options, state)?
    } else if let Some(at) = seed::actuals_header(table) {
        seed::plan_actuals(table, at, options, state)?
    } else if let Some(at) = succession::header(table) {
        succession::plan(table, at, options, state)?
    } else {
        office::plan(table, options, state)?
    };
    link_periods(&mut steps, state);
    Ok(steps)
}

/// Links each indicator the plan defines to the same indicator of the
/// period just before (same org unit, same name as `search_key` reads it),
/// and the same indicator of the period just after to it, where each is
/// the only one of its name: "so cùng kỳ" and the base of growth targets
/// by name. A link goes after every definition of the plan, only where the
/// later indicator has none yet and its period is not frozen (a link
/// changes how it is judged; it is not worth refusing the table for).
fn link_periods(steps: &mut Vec<Step>, state: &DomainState) {
    type Key = (OrgUnitCode, Period, String);
    let key = |d: &IndicatorDefinition| {
        (
            d.org_unit.clone(),
            d.period,
            chitieu_domain::text::search_key(d.name.as_str()),
        )
    };
    let mut known: std::collections::HashMap<Key, Vec<&IndicatorDefinition>> = Default::default();
    let planned: Vec<&IndicatorDefinition> = steps
        .iter()
        .filter_map(|s| match &s.command {
            Command::DefineIndicator(d) => Some(d),
            _ => None,
        })
        .collect();
    for d in state
        .indicators
        .values()
        .map(|i| &i.definition)
        .chain(planned.iter().copied())
    {
        known.entry(key(d)).or_default().push(d);
    }
    let only = |k: &Key| match known.get(k).map(Vec::as_slice) {
        Some([one]) => Some(*one),
        _ => None,
    };
    let mut links = Vec::new();
    for d in &planned {
        let (unit, period, name) = key(d);
        let pairs = [
            period
                .previous()
                .and_then(|p| only(&(unit.clone(), p, name.clone())))
                .map(|earlier| (earlier, *d)),
            period
                .next()
                .and_then(|p| only(&(unit.clone(), p, name.clone())))
                .map(|later| (*d, later)),
        ];
        for (earlier, later) in pairs.into_iter().flatten() {
            let unlinked = later.previous.is_none()
                && state
                    .indicators
                    .get(&later.id)
                    .is_none_or(|i| i.definition.previous.is_none());
            let frozen = state
                .frozen_period(&later.org_unit, |p| p.covers(later.period))
                .is_some();
            let line = steps
                .iter()
                .find(|s| matches!(&s.command, Command::DefineIndicator(x) if x.id == d.id))
                .map_or(1, |s| s.line);
            if unlinked && !frozen {
                links.push(Step {
                    line,
                    command: Command::LinkPreviousPeriod {
                        indicator: later.id,
                        previous: earlier.id,
                        reason: None,
                    },
                    key: format!("import/link/{}/{}", later.id, earlier.id),
                    notice: None,
                });
            }
        }
    }
    links.sort_by(|a, b| a.key.cmp(&b.key));
    links.dedup_by(|a, b| a.key == b.key);
    steps.extend(links);
}

/// Checks every step against the state, in order, before anything is written.
fn check(
    steps: Vec<Step>,
    state: &DomainState,
    done: impl Fn(&str) -> bool,
) -> Result<Vec<Step>, Vec<Problem>> {
    let mut scratch = state.clone();
    let mut problems = Vec::new();
    for step in &steps {
        if done(&step.key) {
            continue;
        }
        match decide(&scratch, &step.command) {
            Ok(events) => events.iter().for_each(|e| evolve(&mut scratch, e)),
            Err(e) => problems.push(Problem {
                kind: if e.is_period_locked() {
                    ProblemKind::PeriodLocked
                } else {
                    ProblemKind::Invalid
                },
                ..Problem::of(step.line, None, &e)
            }),
        }
    }
    if problems.is_empty() {
        Ok(steps)
    } else {
        Err(problems)
    }
}

/// The measure a target kind and unit imply.
pub(crate) fn measure_of(kind: &TargetKind, unit: Option<&str>) -> Measure {
    match (kind, unit) {
        (TargetKind::Milestone { .. } | TargetKind::Maintain { level: None }, _) => {
            Measure::Milestone
        }
        (_, Some("%")) => Measure::Percentage,
        (_, Some("‰")) => Measure::PerMille,
        _ => Measure::Amount,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pieces tables are made of: headers of every layout, numbering,
    /// figures, separators, quotes.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("STT\tNỘI DUNG\tCHỈ TIÊU\n".to_owned()),
            Just("seed_file\tdistrict\tprovince\tdocument\tperiod\tcategory\tcode\tindicator_vi\ttarget_text_vi\tkind\tvalue\tvalue_high\tunit\tbase_value\ttrack\n".to_owned()),
            Just("seed_file\tdistrict\tprovince\tperiod\tcategory\tindicator_vi\tactual_text_vi\tvalue\tunit\tstated_target\tstatus\n".to_owned()),
            Just("Đơn vị\tCần Đước\n".to_owned()),
            Just("Văn bản\t38-CTr/HU\n".to_owned()),
            Just("Kỳ\t2025\n".to_owned()),
            Just("\t".to_owned()),
            Just("\n".to_owned()),
            Just(",".to_owned()),
            Just("\"".to_owned()),
            Just("I\t".to_owned()),
            Just("1.1\t".to_owned()),
            Just("at_least\t".to_owned()),
            Just("range\t".to_owned()),
            Just("2015-2020\t".to_owned()),
            Just("đến 31/12/2022\t".to_owned()),
            Just("economy\t".to_owned()),
            Just("Long An\t".to_owned()),
            Just("85.000 tấn\t".to_owned()),
            Just("≥78%\t".to_owned()),
            "[0-9.,%‰ ]{0,8}",
            "\\PC{0,12}",
        ]
    }

    proptest! {
        #[test]
        fn no_table_makes_the_planner_panic(pieces in prop::collection::vec(piece(), 0..40)) {
            let text: String = pieces.concat();
            let table = Table::from_text(&text);
            let _ = plan(&table, &Options::default(), &DomainState::default(), |_| false);
        }

        #[test]
        fn no_bytes_make_the_reader_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..512), zip in any::<bool>()) {
            if zip {
                // Garbage behind a spreadsheet's signature goes to calamine.
                bytes.splice(0..0, b"PK\x03\x04".iter().copied());
            }
            let _ = Table::read(&bytes);
        }
    }
}
