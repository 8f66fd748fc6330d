//! The office layout: STT | NỘI DUNG | CHỈ TIÊU (| ĐVT), as in the appendix
//! of 38-CTr/HU.
//!
//! - Columns are recognised by their Vietnamese or English headers; a
//!   header repeated at a page break is skipped.
//! - Rows above the header may say where the table belongs, one
//!   `key | value` pair per row: `Đơn vị` (org unit code or name), `Kỳ`
//!   (period), `Văn bản` (document number or id), `Cơ quan ban hành`,
//!   `Ngày ban hành` and `Trích yếu` (to register a document not yet
//!   known), `Loại chỉ tiêu` (track). Command-line flags say the same; when
//!   both say it, they must agree.
//! - Roman numerals (I, II …) are section headings and give the category;
//!   `1`, `1.1` build the tree; a row with neither number nor target
//!   continues the name of the row before.
//! - Target cells go through `chitieu_domain::target_text`; a numeric
//!   spreadsheet cell is read as its exact number.
//! - Ids and idempotency keys derive from the file's SHA-256, so importing
//!   the same file again changes nothing.

use super::{find_column, measure_of, Cell, Options, Problem, Step, Table};
use chitieu_domain::number::format_vietnamese;
use chitieu_domain::target_text::{read_target_cell, CellReading};
use chitieu_domain::*;
use uuid::Uuid;

#[derive(Debug, Default, Clone, Copy)]
struct Columns {
    code: Option<usize>,
    name: Option<usize>,
    target: Option<usize>,
    unit: Option<usize>,
}

fn columns(header: &[Cell]) -> Option<Columns> {
    let code = find_column(header, &["stt", "tt", "so tt", "no", "no.", "code", "ma"]);
    let target = find_column(header, &["chi tieu", "target", "muc tieu", "ke hoach"]);
    let name = find_column(header, &["noi dung", "ten chi tieu", "indicator", "name"]);
    let unit = find_column(header, &["dvt", "don vi tinh", "unit"]);
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

/// What the rows above the header say, by line.
#[derive(Debug, Default)]
struct Metadata {
    org_unit: Option<(usize, String)>,
    period: Option<(usize, String)>,
    document: Option<(usize, String)>,
    issuing_body: Option<(usize, String)>,
    issued_on: Option<(usize, String)>,
    title: Option<(usize, String)>,
    track: Option<(usize, String)>,
}

impl Metadata {
    /// Takes a `key | value` row; false when the key is not one of ours.
    fn take(&mut self, line: usize, cells: &[Cell]) -> bool {
        let key = search_key(cells.first().map_or("", |c| c.text.as_str()));
        let key = key.trim_end_matches(':').trim();
        let value = cells
            .iter()
            .skip(1)
            .find(|c| !c.text.is_empty())
            .map(|c| (line, c.text.clone()));
        let slot = match key {
            "don vi" | "org unit" | "dia ban" => &mut self.org_unit,
            "ky" | "nam" | "period" | "ky ke hoach" => &mut self.period,
            "van ban" | "so van ban" | "so" | "document" => &mut self.document,
            "co quan ban hanh" | "issuing body" => &mut self.issuing_body,
            "ngay ban hanh" | "issued on" => &mut self.issued_on,
            "trich yeu" | "ten van ban" | "title" => &mut self.title,
            "loai chi tieu" | "track" => &mut self.track,
            _ => return false,
        };
        *slot = value;
        true
    }
}

/// Parses a track name in English or Vietnamese.
pub fn parse_track(raw: &str) -> Option<TargetTrack> {
    match search_key(raw).as_str() {
        "assigned" | "assigned_by_province" | "giao" | "tinh giao" | "tren giao" => {
            Some(TargetTrack::Assigned)
        }
        "resolution" | "district_resolution" | "nghi quyet" => Some(TargetTrack::Resolution),
        "stretch" | "phan dau" => Some(TargetTrack::Stretch),
        _ => None,
    }
}

/// The kind of a document, from the abbreviation in its number or its title.
pub fn document_kind(number: Option<&str>, title: &str) -> DocumentKind {
    let abbreviation = number
        .and_then(|n| n.split_once('-'))
        .map(|(_, rest)| rest.split('/').next().unwrap_or("").to_uppercase());
    match abbreviation.as_deref() {
        Some("NQ") => return DocumentKind::Resolution,
        Some("CTR") => return DocumentKind::ActionProgramme,
        Some("KH") => return DocumentKind::Plan,
        Some("BC") => return DocumentKind::Report,
        Some("QĐ" | "QD") => return DocumentKind::Decision,
        _ => {}
    }
    let t = search_key(title);
    if t.starts_with("nghi quyet") {
        DocumentKind::Resolution
    } else if t.starts_with("chuong trinh") {
        DocumentKind::ActionProgramme
    } else if t.starts_with("ke hoach") {
        DocumentKind::Plan
    } else if t.starts_with("bao cao") {
        DocumentKind::Report
    } else if t.starts_with("quyet dinh") {
        DocumentKind::Decision
    } else {
        DocumentKind::Other
    }
}

/// A registered org unit by code or by name (with or without "Huyện", "Tỉnh" …).
pub fn find_org_unit(state: &DomainState, raw: &str) -> Option<OrgUnitCode> {
    if let Ok(code) = OrgUnitCode::parse(raw) {
        if state.org_units.contains_key(&code) {
            return Some(code);
        }
    }
    // A unit that exists; else one that ceased (a table of an earlier
    // year names the district that was); else one that had the name before
    // a rename; each when only one has the name.
    let wanted = super::seed::bare_name(raw);
    let wanted = &wanted;
    let named = |live: bool, former: bool| {
        let mut found = state.org_units.values().filter(move |u| {
            let names = if former {
                u.former_names.iter().collect::<Vec<_>>()
            } else {
                vec![&u.unit.name]
            };
            u.successors.is_empty() == live
                && names
                    .iter()
                    .any(|n| super::seed::bare_name(n.as_str()) == *wanted)
        });
        match (found.next(), found.next()) {
            (Some(one), None) => Some(one.unit.code.clone()),
            _ => None,
        }
    };
    named(true, false)
        .or_else(|| named(false, false))
        .or_else(|| named(true, true))
        .or_else(|| named(false, true))
}

/// Where the table belongs: the command line and the file, reconciled.
struct Place {
    org_unit: OrgUnitCode,
    period: Period,
    document: DocumentId,
    track: TargetTrack,
    register: Option<Document>,
}

fn place(meta: &Metadata, options: &Options, state: &DomainState) -> Result<Place, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut both = |what: &str, flag: Option<String>, row: &Option<(usize, String)>| {
        if let (Some(flag), Some((line, value))) = (&flag, row) {
            if search_key(flag) != search_key(value) {
                problems.push(Problem::at(
                    *line,
                    None,
                    format!("the file says {what} `{value}`, the command line `{flag}`"),
                    format!("tệp ghi {what} `{value}`, còn dòng lệnh ghi `{flag}`"),
                ));
            }
        }
    };
    both(
        "org unit",
        options.org_unit.as_ref().map(|c| c.to_string()),
        &meta.org_unit,
    );
    both(
        "period",
        options.period.map(|p| p.to_string()),
        &meta.period,
    );
    let missing = |what: &str, flag: &str| {
        Problem::at(
            1,
            None,
            format!("no {what}: give `{flag}` or a `{what}` row above the header"),
            format!(
                "thiếu {what}: hãy gửi `{flag}` hoặc thêm dòng `{what}` phía trên dòng tiêu đề"
            ),
        )
    };
    let org_unit = match (&options.org_unit, &meta.org_unit) {
        (Some(code), _) => Some(code.clone()),
        (None, Some((line, raw))) => {
            let found = find_org_unit(state, raw);
            if found.is_none() {
                problems.push(Problem::at(
                    *line,
                    None,
                    format!("no registered org unit `{raw}` (code or name)"),
                    format!("không có đơn vị đã đăng ký nào là `{raw}` (mã hoặc tên)"),
                ));
            }
            found
        }
        (None, None) => {
            problems.push(missing("Đơn vị", "--org-unit"));
            None
        }
    };
    let period = match (options.period, &meta.period) {
        (Some(p), _) => Some(p),
        (None, Some((line, raw))) => match Period::parse(raw) {
            Ok(p) => Some(p),
            Err(e) => {
                problems.push(Problem::of(*line, None, &e));
                None
            }
        },
        (None, None) => {
            problems.push(missing("Kỳ", "--period"));
            None
        }
    };
    let track = match (options.track, &meta.track) {
        (Some(t), _) => t,
        (None, Some((line, raw))) => parse_track(raw).unwrap_or_else(|| {
            problems.push(Problem::at(*line, None, format!("track `{raw}` is not assigned (giao), resolution (nghị quyết) or stretch (phấn đấu)"), format!("loại chỉ tiêu `{raw}` không phải giao, nghị quyết hay phấn đấu")));
            TargetTrack::Resolution
        }),
        (None, None) => TargetTrack::Resolution,
    };
    let mut register = None;
    let document = match (options.document, &meta.document) {
        (Some(id), Some((line, raw))) => {
            let same = state.documents.get(&id).is_some_and(|d| d.is_named(raw));
            if !same {
                problems.push(Problem::at(
                    *line,
                    None,
                    format!("the file names document `{raw}`, the command line another"),
                    format!("tệp ghi văn bản `{raw}`, còn dòng lệnh ghi văn bản khác"),
                ));
            }
            Some(id)
        }
        (Some(id), None) => Some(id),
        (None, Some((line, raw))) => {
            let known = state.documents.values().find(|d| d.is_named(raw));
            match (known, &meta.issuing_body, &meta.title, &org_unit) {
                (Some(d), ..) => Some(d.id),
                (None, Some((_, body)), Some((_, title)), Some(unit)) => {
                    let issued_on = match &meta.issued_on {
                        Some((l, d)) => match super::seed::parse_date(d) {
                            Some(d) => Some(d),
                            None => {
                                problems.push(Problem::at(
                                    *l,
                                    None,
                                    format!("`{d}` is not a date (2025-02-04 or 04/02/2025)"),
                                    format!(
                                        "`{d}` không phải là ngày (2025-02-04 hoặc 04/02/2025)"
                                    ),
                                ));
                                None
                            }
                        },
                        None => None,
                    };
                    let number = DocumentNumber::parse(raw).ok();
                    let id = DocumentId(Uuid::new_v5(
                        &Uuid::NAMESPACE_OID,
                        format!("chitieu-import/document/{unit}/{raw}").as_bytes(),
                    ));
                    let text =
                        |l: usize, v: &str| Text::parse(v).map_err(|e| Problem::of(l, None, &e));
                    match (text(*line, body), text(*line, title)) {
                        (Ok(issuing_body), Ok(title_text)) => {
                            register = Some(Document {
                                id,
                                kind: document_kind(number.as_ref().map(|n| n.as_str()), title),
                                number,
                                issuing_body,
                                org_unit: Some(unit.clone()),
                                issued_on,
                                title: title_text,
                            });
                        }
                        (a, b) => problems.extend(a.err().into_iter().chain(b.err())),
                    }
                    Some(id)
                }
                _ => {
                    problems.push(Problem::at(*line, None, format!("no registered document `{raw}`; to register it, add `Cơ quan ban hành` and `Trích yếu` rows"), format!("chưa đăng ký văn bản `{raw}`; muốn đăng ký, hãy thêm các dòng `Cơ quan ban hành` và `Trích yếu`")));
                    None
                }
            }
        }
        (None, None) => {
            problems.push(missing("Văn bản", "--document"));
            None
        }
    };
    match (org_unit, period, document) {
        (Some(org_unit), Some(period), Some(document)) if problems.is_empty() => Ok(Place {
            org_unit,
            period,
            document,
            track,
            register,
        }),
        _ => Err(problems),
    }
}

/// Plans the commands of an office table (not yet checked against the rules).
pub fn plan(
    table: &Table,
    options: &Options,
    state: &DomainState,
) -> Result<Vec<Step>, Vec<Problem>> {
    let file = table.digest.as_str();
    let mut problems = Vec::new();
    let mut cols: Option<Columns> = None;
    let mut meta = Metadata::default();
    let mut category = Category::Economy;
    let mut rows: Vec<Row> = Vec::new();
    for (line, cells) in &table.rows {
        let line = *line;
        if let Some(found) = columns(cells) {
            cols = Some(found);
            continue;
        }
        let Some(c) = cols else {
            if !meta.take(line, cells) {
                problems.push(Problem::at(
                    line,
                    None,
                    "no header row (STT | NỘI DUNG | CHỈ TIÊU) before this row",
                    "chưa có dòng tiêu đề (STT | NỘI DUNG | CHỈ TIÊU) trước dòng này",
                ));
            }
            continue;
        };
        let cell = |idx: Option<usize>| -> String {
            match idx.and_then(|i| cells.get(i)) {
                Some(Cell {
                    number: Some(n), ..
                }) => format_vietnamese(*n),
                Some(c) => c.text.clone(),
                None => String::new(),
            }
        };
        let code = idx_text(cells, c.code);
        let name = cell(c.name);
        let target = cell(c.target);
        let unit = c.unit.map(|_| cell(c.unit)).filter(|u| !u.is_empty());
        if is_roman(&code) {
            match category_of(&name) {
                Some(found) => category = found,
                None => problems.push(Problem::at(
                    line,
                    Some("NỘI DUNG"),
                    format!("section `{name}` names no known field"),
                    format!("mục `{name}` không thuộc lĩnh vực nào đã biết"),
                )),
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
                _ => problems.push(Problem::at(
                    line,
                    None,
                    "a row with neither number, name nor target",
                    "dòng không có số thứ tự, tên hay chỉ tiêu",
                )),
            }
            continue;
        }
        if name.is_empty() {
            problems.push(Problem::at(
                line,
                Some("NỘI DUNG"),
                "the indicator has no name",
                "chỉ tiêu chưa có tên",
            ));
        }
        if target.is_empty() {
            problems.push(Problem::at(
                line,
                Some("CHỈ TIÊU"),
                "the indicator has no target",
                "chỉ tiêu chưa có mức chỉ tiêu",
            ));
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
        problems.push(Problem::at(1, None, "no header row with a name and a target column (STT | NỘI DUNG | CHỈ TIÊU), nor the columns of a seed table", "không có dòng tiêu đề với cột tên và cột chỉ tiêu (STT | NỘI DUNG | CHỈ TIÊU), cũng không có các cột của bảng số liệu mẫu"));
    }
    let place = match place(&meta, options, state) {
        Ok(p) => Some(p),
        Err(found) => {
            problems.extend(found);
            None
        }
    };
    let Some(place) = place.filter(|_| problems.is_empty()) else {
        problems.sort_by_key(|p| p.line);
        return Err(problems);
    };

    let mut steps = Vec::new();
    if let Some(document) = place.register.clone() {
        steps.push(Step {
            line: meta.document.as_ref().map_or(1, |(l, _)| *l),
            command: Command::RegisterDocument(document),
            key: format!("import/{file}/document"),
            notice: None,
        });
    }
    let mut by_code: std::collections::HashMap<String, IndicatorId> = Default::default();
    for (line, code, name, cell, unit, category) in &rows {
        let reading = read_target_cell(cell);
        // Numbers of the cell the reader did not use: told, not guessed.
        let mut notice = unread_notice(&reading);
        let mut main: Option<IndicatorId> = None;
        for (n, target) in reading.targets.iter().enumerate() {
            // "80% (phấn đấu 85%)": the stretch goes on the main target's
            // indicator, on the stretch track.
            if let (true, Some(id)) = (target.stretch, main) {
                if place.track != TargetTrack::Stretch {
                    steps.push(Step {
                        line: *line,
                        command: Command::SetTarget {
                            indicator: id,
                            track: TargetTrack::Stretch,
                            target: Target {
                                kind: target.kind.clone(),
                                document: place.document,
                                wording: Text::parse(&target.wording).ok(),
                            },
                        },
                        key: format!("import/{file}/{line}/{n}/stretch"),
                        notice: notice.take(),
                    });
                    continue;
                }
            }
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
                Text::parse(raw).map_err(|e| vec![Problem::of(*line, Some(field), &e)])
            };
            let definition = IndicatorDefinition {
                id,
                org_unit: place.org_unit.clone(),
                period: place.period,
                category: *category,
                code: code.as_deref().map(|c| text("STT", c)).transpose()?,
                name: text("NỘI DUNG", &name)?,
                unit: unit_text.as_deref().and_then(|u| Text::parse(u).ok()),
                measure: measure_of(&target.kind, unit_text.as_deref()),
                parent,
                previous: None,
                document: Some(place.document),
            };
            main = Some(id);
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
                notice: None,
            });
            let set = Command::SetTarget {
                indicator: id,
                track: place.track,
                target: Target {
                    kind: target.kind.clone(),
                    document: place.document,
                    wording: Text::parse(&target.wording).ok(),
                },
            };
            steps.push(Step {
                line: *line,
                command: set,
                key: format!("import/{file}/{line}/{n}/target"),
                notice: notice.take(),
            });
        }
    }
    Ok(steps)
}

/// The numbers of a cell the reader left out and that a person should
/// look at, in Vietnamese (notices are read by officials).
fn unread_notice(reading: &CellReading) -> Option<String> {
    let listed: Vec<String> = reading
        .unread()
        .map(|l| format!("{} ({})", l.number, l.because.vi()))
        .collect();
    (!listed.is_empty()).then(|| {
        format!(
            "số trong ô chỉ tiêu chưa được đọc thành chỉ tiêu: {}",
            listed.join("; ")
        )
    })
}

fn idx_text(cells: &[Cell], idx: Option<usize>) -> String {
    idx.and_then(|i| cells.get(i))
        .map(|c| c.text.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::{plan, Options, Table};
    use chitieu_domain::*;
    use uuid::Uuid;

    fn state() -> (DomainState, Options) {
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
                established: None,
            }),
            Command::RegisterOrgUnit(OrgUnit {
                code: code("LA.CAN-DUOC"),
                name: text("Cần Đước"),
                level: OrgUnitLevel::District,
                parent: Some(code("LA")),
                established: None,
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
        let context = Options {
            org_unit: Some(code("LA.CAN-DUOC")),
            period: Some(Period::Year(2025)),
            document: Some(document),
            track: Some(TargetTrack::Resolution),
        };
        (state, context)
    }

    #[test]
    fn the_appendix_of_38_ctr_hu_imports_as_it_is_in_the_document() {
        let (state, context) = state();
        let table = include_str!("../../server/tests/data/38-CTr-HU-phu-luc.tsv");
        let steps = plan(&Table::from_text(table), &context, &state, |_| false)
            .unwrap_or_else(|p| panic!("{p:?}"));
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
        let again = plan(&Table::from_text(table), &context, &state, |_| false)
            .unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(
            again.iter().map(|s| &s.key).collect::<Vec<_>>(),
            steps.iter().map(|s| &s.key).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_stretch_goes_on_its_indicator_and_unread_numbers_are_told() {
        let (state, context) = state();
        let table = "STT\tNỘI DUNG\tCHỈ TIÊU\n1\tTỷ lệ tiêm chủng\t95% (phấn đấu 98%)\n2\tThu ngân sách\tTăng 10% so với năm 2020\n";
        let steps = plan(&Table::from_text(table), &context, &state, |_| false)
            .unwrap_or_else(|p| panic!("{p:?}"));
        let targets: Vec<(IndicatorId, TargetTrack, TargetKind)> = steps
            .iter()
            .filter_map(|s| match &s.command {
                Command::SetTarget {
                    indicator,
                    track,
                    target,
                } => Some((*indicator, *track, target.kind.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(targets.len(), 3, "{targets:?}");
        let (main, stretch) = (&targets[0], &targets[1]);
        assert_eq!(main.0, stretch.0, "one indicator, two tracks");
        assert_eq!(main.1, TargetTrack::Resolution);
        assert_eq!(stretch.1, TargetTrack::Stretch);
        assert!(
            matches!(stretch.2, TargetKind::Plain { value, .. } if value == rust_decimal::Decimal::from(98))
        );
        // The comparison with 2020 is not guessed: a milestone, and the
        // importer says which number it left and why.
        assert!(matches!(targets[2].2, TargetKind::Milestone { .. }));
        let notices: Vec<&str> = steps.iter().filter_map(|s| s.notice.as_deref()).collect();
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(
            notices[0].contains("10 (so với một năm hoặc kỳ khác"),
            "{}",
            notices[0]
        );
        assert_eq!(
            steps.iter().find(|s| s.notice.is_some()).map(|s| s.line),
            Some(3)
        );
    }

    #[test]
    fn a_bad_file_is_refused_whole_with_every_problem_listed() {
        let (state, context) = state();
        let table =
            "STT\tNỘI DUNG\tCHỈ TIÊU\nI\tChỉ tiêu gì đó\t\n1\t\t85.000 tấn\n2\tSản lượng tôm\t\n";
        let problems = plan(&Table::from_text(table), &context, &state, |_| false)
            .err()
            .unwrap_or_default();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 3, 4], "{problems:?}");
        assert!(problems[1].to_string().contains("NỘI DUNG"));
        let unknown_unit = Options {
            org_unit: Some(OrgUnitCode::parse("HG").unwrap_or_else(|e| panic!("{e}"))),
            ..context
        };
        let refused = plan(
            &Table::from_text("STT\tNỘI DUNG\tCHỈ TIÊU\n1\tLúa\t85.000 tấn\n"),
            &unknown_unit,
            &state,
            |_| false,
        )
        .err()
        .unwrap_or_default();
        assert!(refused[0].why.contains("HG"), "{refused:?}");
    }
}
