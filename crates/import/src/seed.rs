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

use super::{find_column, measure_of, Cell, Options, Problem, Step, Table};
use chitieu_domain::number::parse_plain;
use chitieu_domain::target_text::parse_target_text;
use chitieu_domain::*;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// A unit's name without its level word: "Huyện Cần Đước" → "can duoc".
pub fn bare_name(raw: &str) -> String {
    let key = search_key(raw);
    for prefix in [
        "tinh ",
        "thanh pho ",
        "huyen ",
        "thi xa ",
        "quan ",
        "thi tran ",
        "xa ",
        "phuong ",
    ] {
        if let Some(rest) = key.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
    key
}

/// `2025-02-04` or `04/02/2025`.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .ok()
}

/// The id a seed document gets: from its org unit and its text as written.
pub fn document_id(org_unit: &OrgUnitCode, document: &str) -> DocumentId {
    DocumentId(Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("chitieu-seed/document/{org_unit}/{}", search_key(document)).as_bytes(),
    ))
}

/// The id a seed indicator gets: from its org unit, document, period and name.
pub fn indicator_id(
    org_unit: &OrgUnitCode,
    document: Option<DocumentId>,
    period: Period,
    name: &str,
) -> IndicatorId {
    let document = document.map(|d| d.to_string()).unwrap_or_default();
    IndicatorId(Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!(
            "chitieu-seed/indicator/{org_unit}/{document}/{period}/{}",
            search_key(name)
        )
        .as_bytes(),
    ))
}

/// The id a seed result gets: from its indicator, date and text.
pub fn report_id(indicator: IndicatorId, refers_to: NaiveDate, text: &str) -> ReportId {
    ReportId(Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!(
            "chitieu-seed/report/{indicator}/{refers_to}/{}",
            search_key(text)
        )
        .as_bytes(),
    ))
}

/// The tables' category names, and the Vietnamese ones.
pub fn parse_category(raw: &str) -> Option<Category> {
    match search_key(raw).as_str() {
        "economy" | "kinh te" => Some(Category::Economy),
        "society" | "xa hoi" | "van hoa - xa hoi" | "van hoa xa hoi" => Some(Category::Society),
        "environment" | "moi truong" => Some(Category::Environment),
        "defense_security" | "quoc phong - an ninh" | "quoc phong an ninh" => {
            Some(Category::DefenseSecurity)
        }
        "party_building" | "xay dung dang" | "xay dung dang, chinh quyen" => {
            Some(Category::PartyBuilding)
        }
        _ => None,
    }
}

/// The period of a result as the tables write it, and the date it refers
/// to: `2022`, `2015-2020`, `năm học 2022-2023`, `đầu năm 2015`,
/// `đến 16/12/2022`, `lũy kế đến nay (2022)`.
pub fn actual_period(raw: &str) -> Option<(Period, NaiveDate)> {
    let end_of = |y: i32| NaiveDate::from_ymd_opt(y, 12, 31);
    let key = search_key(raw);
    if let Some(rest) = key.strip_prefix("nam hoc ") {
        let period = Period::parse(rest).ok()?;
        return match period {
            Period::SchoolYear(y) => Some((period, NaiveDate::from_ymd_opt(y + 1, 5, 31)?)),
            _ => None,
        };
    }
    if let Some(rest) = key.strip_prefix("dau nam ") {
        let y: i32 = rest.trim().parse().ok()?;
        return Some((Period::Year(y), NaiveDate::from_ymd_opt(y, 1, 1)?));
    }
    if let Some(rest) = key.strip_prefix("den ") {
        if let Some(day) = parse_date(rest) {
            return Some((Period::Year(day.year()), day));
        }
    }
    if let Ok(period) = Period::parse(raw) {
        let last = match period {
            Period::Year(y) | Period::By(y) => y,
            Period::Term(_, b) => b,
            Period::SchoolYear(y) => y + 1,
        };
        return Some((period, end_of(last)?));
    }
    // "lũy kế … đến nay (2022)": cumulative to the report of that year.
    let year = key
        .rsplit('(')
        .next()
        .and_then(|t| t.trim_end_matches(')').trim().parse::<i32>().ok())?;
    key.contains("luy ke")
        .then(|| Some((Period::Year(year), end_of(year)?)))
        .flatten()
}

/// The columns of the seed layouts.
#[derive(Debug, Default, Clone, Copy)]
struct Columns {
    indicator_id: Option<usize>,
    document_id: Option<usize>,
    org_unit: Option<usize>,
    growth_figure: Option<usize>,
    deadline: Option<usize>,
    bound: Option<usize>,
    reduction: Option<usize>,
    compared_period: Option<usize>,
    direction: Option<usize>,
    measure: Option<usize>,
    province: Option<usize>,
    district: Option<usize>,
    document: Option<usize>,
    issued_on: Option<usize>,
    issuing_body: Option<usize>,
    period: Option<usize>,
    category: Option<usize>,
    code: Option<usize>,
    name: Option<usize>,
    text: Option<usize>,
    kind: Option<usize>,
    value: Option<usize>,
    value_high: Option<usize>,
    unit: Option<usize>,
    base: Option<usize>,
    track: Option<usize>,
    stated_target: Option<usize>,
    stated_pct: Option<usize>,
    status: Option<usize>,
    notes: Option<usize>,
}

fn columns(header: &[Cell]) -> Columns {
    let f = |names: &[&str]| find_column(header, names);
    Columns {
        indicator_id: f(&["indicator_id"]),
        document_id: f(&["document_id"]),
        org_unit: f(&["org_unit", "ma don vi"]),
        growth_figure: f(&["growth_figure"]),
        deadline: f(&["deadline", "thoi han"]),
        bound: f(&["bound"]),
        reduction: f(&["reduction"]),
        compared_period: f(&["compared_period"]),
        direction: f(&["direction"]),
        measure: f(&["measure"]),
        province: f(&["province", "tinh", "tinh/thanh pho"]),
        district: f(&["district", "huyen", "quan/huyen", "huyen/thi xa"]),
        document: f(&["document", "van ban"]),
        issued_on: f(&["issued_on", "ngay ban hanh"]),
        issuing_body: f(&["issuing_body", "co quan ban hanh"]),
        period: f(&["period", "ky"]),
        category: f(&["category", "linh vuc"]),
        code: f(&["code", "stt", "ma"]),
        name: f(&["indicator_vi", "indicator", "ten chi tieu"]),
        text: f(&[
            "target_text_vi",
            "actual_text_vi",
            "target_text",
            "actual_text",
            "nguyen van",
        ]),
        kind: f(&["kind", "loai chi tieu"]),
        value: f(&["value", "gia tri"]),
        value_high: f(&["value_high", "gia tri tren"]),
        unit: f(&["unit", "don vi tinh", "dvt"]),
        base: f(&["base_value", "gia tri goc"]),
        track: f(&["track", "cap giao"]),
        stated_target: f(&["stated_target", "chi tieu ghi kem"]),
        stated_pct: f(&["stated_achievement_pct", "ty le dat ghi kem"]),
        status: f(&["status", "tinh trang so lieu"]),
        notes: f(&["notes", "ghi chu"]),
    }
}

fn header_where(table: &Table, wanted: impl Fn(&Columns) -> bool) -> Option<usize> {
    table
        .rows
        .iter()
        .take(20)
        .position(|(_, cells)| wanted(&columns(cells)))
}

/// The row index of a targets-table header, if the table is one.
pub fn targets_header(table: &Table) -> Option<usize> {
    header_where(table, |c| {
        c.name.is_some() && c.kind.is_some() && c.value.is_some()
    })
}

/// The row index of an actuals-table header, if the table is one.
pub fn actuals_header(table: &Table) -> Option<usize> {
    header_where(table, |c| {
        c.name.is_some() && c.value.is_some() && c.status.is_some() && c.kind.is_none()
    })
}

/// One row's cells by column.
struct Row<'a> {
    line: usize,
    cells: &'a [Cell],
    columns: &'a Columns,
}

impl Row<'_> {
    fn get(&self, column: Option<usize>) -> &str {
        column
            .and_then(|i| self.cells.get(i))
            .map_or("", |c| c.text.as_str())
    }

    fn number(
        &self,
        column: Option<usize>,
        name: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<Decimal> {
        let cell = column.and_then(|i| self.cells.get(i))?;
        if let Some(n) = cell.number {
            return Some(n);
        }
        if cell.text.is_empty() {
            return None;
        }
        match parse_plain(&cell.text) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(Problem::of(self.line, Some(name), &e));
                None
            }
        }
    }
}

/// Org units and documents, found in the store or planned by this file.
struct Places<'a> {
    state: &'a DomainState,
    units: BTreeMap<OrgUnitCode, OrgUnit>,
    documents: BTreeMap<DocumentId, Document>,
    steps: Vec<Step>,
}

impl<'a> Places<'a> {
    fn new(state: &'a DomainState) -> Self {
        Places {
            state,
            units: BTreeMap::new(),
            documents: BTreeMap::new(),
            steps: Vec::new(),
        }
    }

    /// Units a row may name: those that exist, those this table adds, then
    /// those that ceased (the seed documents predate the 2025
    /// reorganisation: their district is the one that was).
    fn all_units(&self) -> impl Iterator<Item = &OrgUnit> {
        let live = self
            .state
            .org_units
            .values()
            .filter(|u| u.successors.is_empty());
        let ceased = self
            .state
            .org_units
            .values()
            .filter(|u| !u.successors.is_empty());
        live.map(|u| &u.unit)
            .chain(self.units.values())
            .chain(ceased.map(|u| &u.unit))
    }

    fn code_taken(&self, code: &OrgUnitCode) -> bool {
        self.state.org_units.contains_key(code) || self.units.contains_key(code)
    }

    /// The unit named `name` at `level` under `parent`, registering it if new.
    fn unit(
        &mut self,
        line: usize,
        name: &str,
        level: OrgUnitLevel,
        parent: Option<&OrgUnitCode>,
        code: Option<OrgUnitCode>,
    ) -> Result<OrgUnitCode, Problem> {
        let wanted = bare_name(name);
        if let Some(found) = self.all_units().find(|u| {
            u.level == level && u.parent.as_ref() == parent && bare_name(u.name.as_str()) == wanted
        }) {
            return Ok(found.code.clone());
        }
        let words: Vec<&str> = wanted.split_whitespace().collect();
        let initials: String = words
            .iter()
            .filter_map(|w| w.chars().next())
            .collect::<String>()
            .to_ascii_uppercase();
        let full = words.join("-").to_ascii_uppercase();
        let local = if level == OrgUnitLevel::Province {
            vec![initials, full]
        } else {
            vec![full]
        };
        let derived = local
            .iter()
            .filter_map(|l| {
                let raw = match parent {
                    Some(p) => format!("{p}.{l}"),
                    None => l.clone(),
                };
                OrgUnitCode::parse(&raw).ok()
            })
            .find(|c| !self.code_taken(c));
        let code = code
            .filter(|c| !self.code_taken(c))
            .or(derived)
            .ok_or_else(|| {
                Problem::at(
                    line,
                    None,
                    format!("no free org unit code for `{name}`; register it first"),
                    format!("không còn mã đơn vị trống cho `{name}`; hãy đăng ký đơn vị trước"),
                )
            })?;
        let unit = OrgUnit {
            code: code.clone(),
            name: Text::parse(name).map_err(|e| Problem::of(line, None, &e))?,
            level,
            parent: parent.cloned(),
        };
        self.units.insert(code.clone(), unit.clone());
        self.steps.push(Step {
            line,
            command: Command::RegisterOrgUnit(unit),
            key: format!("seed/unit/{code}"),
            notice: None,
        });
        Ok(code)
    }

    /// The org unit of a row: its district (under its province), or the flag.
    fn org_unit_of(&mut self, row: &Row, options: &Options) -> Result<OrgUnitCode, Vec<Problem>> {
        // A code (an exported table has it) names a registered unit, or
        // the code to register the province and district under.
        let code = row.get(row.columns.org_unit);
        let mut wanted = None;
        if !code.is_empty() {
            match OrgUnitCode::parse(code) {
                Ok(c) if self.code_taken(&c) => return Ok(c),
                Ok(c) => wanted = Some(c),
                Err(e) => return Err(vec![Problem::of(row.line, Some("org_unit"), &e)]),
            }
        }
        let district = row.get(row.columns.district);
        let province = row.get(row.columns.province);
        if let Some(c) = &wanted {
            if province.is_empty() {
                return Err(vec![Problem::at(row.line, Some("org_unit"), format!("org unit `{c}` is not registered; fill province (and district) to register it"), format!("đơn vị `{c}` chưa được đăng ký; hãy điền tỉnh (và huyện) để đăng ký"))]);
            }
        }
        let (province_code, district_code) = match &wanted {
            Some(c) => match c.as_str().split_once('.') {
                Some((p, _)) => (OrgUnitCode::parse(p).ok(), Some(c.clone())),
                None => (Some(c.clone()), None),
            },
            None => (None, None),
        };
        match (province, district) {
            ("", "") => options.org_unit.clone().ok_or_else(|| {
                vec![Problem::at(
                    row.line,
                    Some("district"),
                    "no org unit: fill province and district, or give --org-unit",
                    "thiếu đơn vị: hãy điền tỉnh và huyện, hoặc gửi --org-unit",
                )]
            }),
            (p, d) if !p.is_empty() => {
                let province = self
                    .unit(row.line, p, OrgUnitLevel::Province, None, province_code)
                    .map_err(|e| vec![e])?;
                if d.is_empty() {
                    Ok(province)
                } else {
                    self.unit(
                        row.line,
                        d,
                        OrgUnitLevel::District,
                        Some(&province),
                        district_code,
                    )
                    .map_err(|e| vec![e])
                }
            }
            (_, d) => {
                let wanted = bare_name(d);
                let mut found = self.all_units().filter(|u| {
                    u.level == OrgUnitLevel::District && bare_name(u.name.as_str()) == wanted
                });
                match (found.next(), found.next()) {
                    (Some(one), None) => Ok(one.code.clone()),
                    _ => Err(vec![Problem::at(row.line, Some("province"), format!("district `{d}` is not registered (or not only once); name its province"), format!("huyện `{d}` chưa được đăng ký (hoặc trùng tên); hãy ghi tỉnh của huyện"))]),
                }
            }
        }
    }

    /// The document of a row, registering it if new.
    fn document(
        &mut self,
        row: &Row,
        unit: &OrgUnitCode,
        options: &Options,
    ) -> Result<Option<DocumentId>, Problem> {
        // An exported table names its documents by id (two may share a number).
        let named = row.get(row.columns.document_id);
        let mut wanted = None;
        if !named.is_empty() {
            let id = uuid::Uuid::parse_str(named).map(DocumentId).map_err(|e| {
                Problem::at(
                    row.line,
                    Some("document_id"),
                    format!("`{named}` is not a UUID: {e}"),
                    format!("`{named}` không phải là một UUID: {e}"),
                )
            })?;
            if self.state.documents.contains_key(&id) || self.documents.contains_key(&id) {
                return Ok(Some(id));
            }
            wanted = Some(id);
        }
        let raw = row.get(row.columns.document);
        if raw.is_empty() {
            return Ok(options.document);
        }
        let id = wanted.unwrap_or_else(|| document_id(unit, raw));
        if self.state.documents.contains_key(&id) || self.documents.contains_key(&id) {
            return Ok(Some(id));
        }
        let first = raw.split_whitespace().next().unwrap_or("");
        let number = DocumentNumber::parse(first).ok();
        if let Some(n) = &number {
            let same_number = self
                .state
                .documents
                .values()
                .chain(self.documents.values())
                .find(|d| d.number.as_ref() == Some(n) && d.org_unit.as_ref() == Some(unit));
            if let Some(d) = same_number {
                return Ok(Some(d.id));
            }
        }
        let title = match &number {
            Some(_) => raw[first.len()..].trim(),
            None => raw,
        };
        let title = if title.is_empty() { raw } else { title };
        let unit_name = self
            .all_units()
            .find(|u| &u.code == unit)
            .map(|u| (u.level, bare_title(u.name.as_str())));
        let body = row.get(row.columns.issuing_body);
        let body = if !body.is_empty() {
            body.to_owned()
        } else {
            match unit_name {
                Some((OrgUnitLevel::Province, n)) => format!("Tỉnh ủy {n}"),
                Some((OrgUnitLevel::District, n)) => format!("Huyện ủy {n}"),
                Some((_, n)) => format!("Đảng ủy {n}"),
                None => "Cấp ủy".to_owned(),
            }
        };
        let issued = row.get(row.columns.issued_on);
        let issued_on = if issued.is_empty() {
            None
        } else {
            Some(parse_date(issued).ok_or_else(|| {
                Problem::at(
                    row.line,
                    Some("issued_on"),
                    format!("`{issued}` is not a date (2025-02-04 or 04/02/2025)"),
                    format!("`{issued}` không phải là ngày (2025-02-04 hoặc 04/02/2025)"),
                )
            })?)
        };
        let text =
            |v: &str| Text::parse(v).map_err(|e| Problem::of(row.line, Some("document"), &e));
        let document = Document {
            id,
            kind: super::office::document_kind(number.as_ref().map(|n| n.as_str()), title),
            number,
            issuing_body: text(&body)?,
            org_unit: Some(unit.clone()),
            issued_on,
            title: text(title)?,
        };
        self.documents.insert(id, document.clone());
        self.steps.push(Step {
            line: row.line,
            command: Command::RegisterDocument(document),
            key: format!("seed/document/{id}"),
            notice: None,
        });
        Ok(Some(id))
    }
}

/// A unit's name with its level word, as written after "Huyện ủy": "Cần Đước".
fn bare_title(name: &str) -> String {
    let lower = name.to_lowercase();
    for prefix in ["tỉnh ", "thành phố ", "huyện ", "thị xã ", "quận "] {
        if lower.starts_with(prefix) {
            // By characters: lowercasing may change a string's byte length.
            let rest: String = name.chars().skip(prefix.chars().count()).collect();
            return rest.trim().to_owned();
        }
    }
    name.to_owned()
}

/// Indicators found in the store or planned by this file.
struct Indicators<'a> {
    state: &'a DomainState,
    planned: BTreeMap<IndicatorId, IndicatorDefinition>,
    tracks: BTreeMap<(IndicatorId, TargetTrack), (usize, TargetKind)>,
    reports: BTreeSet<ReportId>,
}

impl<'a> Indicators<'a> {
    fn new(state: &'a DomainState) -> Self {
        Indicators {
            state,
            planned: BTreeMap::new(),
            tracks: BTreeMap::new(),
            reports: BTreeSet::new(),
        }
    }

    fn exists(&self, id: IndicatorId) -> bool {
        self.state.indicators.contains_key(&id) || self.planned.contains_key(&id)
    }

    /// The indicator of the unit and period with this name (under any
    /// document; where several share the name, the one of `document`).
    /// `Err` when that still leaves more than one.
    fn by_name(
        &self,
        unit: &OrgUnitCode,
        period: Period,
        name: &str,
        document: Option<DocumentId>,
    ) -> Result<Option<IndicatorId>, usize> {
        let key = search_key(name);
        let found: Vec<&IndicatorDefinition> = self
            .state
            .indicators
            .values()
            .filter(|i| i.retired.is_none())
            .map(|i| &i.definition)
            .chain(self.planned.values())
            .filter(|d| {
                &d.org_unit == unit && d.period == period && search_key(d.name.as_str()) == key
            })
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.id)),
            several => {
                let mut of_document = several
                    .iter()
                    .filter(|d| document.is_some() && d.document == document);
                match (of_document.next(), of_document.next()) {
                    (Some(one), None) => Ok(Some(one.id)),
                    _ => Err(several.len()),
                }
            }
        }
    }

    /// Plans an indicator's definition.
    fn define(&mut self, line: usize, definition: IndicatorDefinition, steps: &mut Vec<Step>) {
        let id = definition.id;
        self.planned.insert(id, definition.clone());
        steps.push(Step {
            line,
            command: Command::DefineIndicator(definition),
            key: format!("seed/{id}/define"),
            notice: None,
        });
    }

    /// Plans a target on a track unless the same one is there already.
    fn target(
        &mut self,
        line: usize,
        indicator: IndicatorId,
        track: TargetTrack,
        target: Target,
        steps: &mut Vec<Step>,
    ) -> Result<(), Problem> {
        if let Some((earlier, _)) = self.tracks.get(&(indicator, track)) {
            return Err(Problem::at(
                line,
                Some("track"),
                format!("line {earlier} already sets the {track:?} target of this indicator"),
                format!("dòng {earlier} đã đặt chỉ tiêu {track:?} của chỉ tiêu này"),
            ));
        }
        let stored = self
            .state
            .indicators
            .get(&indicator)
            .and_then(|i| i.targets.get(&track));
        if let Some(stored) = stored {
            if stored.current.kind == target.kind {
                return Ok(());
            }
            return Err(Problem::at(line, Some("value"), format!(
                    "the {track:?} target is already {:?}, the file says {:?}; revise it with a reason and a document (reviseTarget)",
                    stored.current.kind, target.kind
                ), format!(
                    "chỉ tiêu {track:?} hiện là {:?}, tệp ghi {:?}; hãy điều chỉnh kèm lý do và văn bản (reviseTarget)",
                    stored.current.kind, target.kind
                )));
        }
        self.tracks
            .insert((indicator, track), (line, target.kind.clone()));
        steps.push(Step {
            line,
            key: format!("seed/{indicator}/target/{track:?}"),
            notice: None,
            command: Command::SetTarget {
                indicator,
                track,
                target,
            },
        });
        Ok(())
    }
}

fn period_of(row: &Row, options: &Options) -> Result<Period, Problem> {
    let raw = row.get(row.columns.period);
    if raw.is_empty() {
        return options.period.ok_or_else(|| {
            Problem::at(
                row.line,
                Some("period"),
                "no period: fill it or give --period",
                "thiếu kỳ: hãy điền kỳ hoặc gửi --period",
            )
        });
    }
    Period::parse(raw).map_err(|e| Problem::of(row.line, Some("period"), &e))
}

fn category_of(row: &Row) -> Result<Category, Problem> {
    let raw = row.get(row.columns.category);
    parse_category(raw).ok_or_else(|| {
        Problem::at(row.line, Some("category"), format!(
                "`{raw}` is not economy, society, environment, defense_security or party_building"
            ), format!(
                "`{raw}` không phải economy, society, environment, defense_security hay party_building"
            ))
    })
}

/// The target of a row from its kind and figure columns; the verbatim text
/// adds what the columns do not say (strict bounds, how a reduction is
/// measured, a milestone's deadline).
fn target_kind(row: &Row, problems: &mut Vec<Problem>) -> Option<TargetKind> {
    let kind = search_key(row.get(row.columns.kind));
    let value = row.number(row.columns.value, "value", problems);
    let high = row.number(row.columns.value_high, "value_high", problems);
    let base = row.number(row.columns.base, "base_value", problems);
    let parsed = parse_target_text(row.get(row.columns.text));
    let value_given = !row.get(row.columns.value).is_empty();
    let need = |v: Option<Decimal>, problems: &mut Vec<Problem>| {
        // An unreadable figure is listed once, by `Row::number`.
        if v.is_none() && !value_given {
            problems.push(Problem::at(
                row.line,
                Some("value"),
                format!("a `{kind}` target needs a value"),
                format!("chỉ tiêu dạng `{kind}` cần một giá trị"),
            ));
        }
        v
    };
    // What a kind holds beyond its figures: from its own column where the
    // table has one (an export), else from the wording (the seed tables).
    let column = |c: Option<usize>| {
        let v = search_key(row.get(c));
        (!v.is_empty()).then_some(v)
    };
    let unknown = |name: &str, value: &str, allowed: &str, problems: &mut Vec<Problem>| {
        problems.push(Problem::at(
            row.line,
            Some(name),
            format!("`{value}` is not {allowed}"),
            format!("`{value}` không phải {allowed}"),
        ));
    };
    let bound = column(row.columns.bound);
    let strict = |v: Decimal, problems: &mut Vec<Problem>| -> Option<bool> {
        match bound.as_deref() {
            Some("strict") => Some(true),
            Some("inclusive") => Some(false),
            Some(other) => {
                unknown("bound", other, "strict / inclusive", problems);
                None
            }
            None => Some(parsed.iter().any(|p| {
                matches!(p.kind,
                    TargetKind::AtLeast { value, strict: true } | TargetKind::AtMost { value, strict: true }
                    if value == v)
            })),
        }
    };
    Some(match kind.as_str() {
        "at_least" => {
            let value = need(value, problems)?;
            TargetKind::AtLeast {
                value,
                strict: strict(value, problems)?,
            }
        }
        "at_most" => {
            let value = need(value, problems)?;
            TargetKind::AtMost {
                value,
                strict: strict(value, problems)?,
            }
        }
        "exact" | "plain" => TargetKind::Plain {
            value: need(value, problems)?,
            base,
        },
        "range" => {
            let low = need(value, problems)?;
            let Some(high) = high else {
                problems.push(Problem::at(
                    row.line,
                    Some("value_high"),
                    "a range needs value_high",
                    "khoảng chỉ tiêu cần value_high",
                ));
                return None;
            };
            TargetKind::Range { low, high }
        }
        "growth_pct" | "growth" => TargetKind::Growth {
            rate: need(value, problems)?,
            base,
            value: row.number(row.columns.growth_figure, "growth_figure", problems),
        },
        "reduce_by" => {
            let amount = need(value, problems)?;
            let measure = match column(row.columns.reduction) {
                Some(name) => match Reduction::from_table_name(&name) {
                    Some(m) => m,
                    None => {
                        unknown("reduction", &name, "absolute / percent_of_base", problems);
                        return None;
                    }
                },
                None => parsed
                    .iter()
                    .find_map(|p| match p.kind {
                        TargetKind::ReduceBy {
                            amount: a, measure, ..
                        } if a == amount => Some(measure),
                        _ => None,
                    })
                    .unwrap_or(Reduction::Absolute),
            };
            TargetKind::ReduceBy {
                amount,
                measure,
                base,
            }
        }
        "maintain" => TargetKind::Maintain { level: value },
        "relative_to_period" => {
            let stated = parsed.iter().find_map(|p| match &p.kind {
                TargetKind::RelativeToPeriod { period, direction } => Some((*period, *direction)),
                _ => None,
            });
            let period = match column(row.columns.compared_period) {
                Some(_) => {
                    let raw = row.get(row.columns.compared_period);
                    match Period::parse(raw) {
                        Ok(p) => Some(p),
                        Err(_) => {
                            unknown(
                                "compared_period",
                                raw,
                                "a period (2024, 2020-2025)",
                                problems,
                            );
                            return None;
                        }
                    }
                }
                None => stated.map(|s| s.0),
            };
            let direction = match column(row.columns.direction) {
                Some(name) => match Direction::from_table_name(&name) {
                    Some(d) => Some(d),
                    None => {
                        unknown("direction", &name, "lower / higher", problems);
                        return None;
                    }
                },
                None => stated.map(|s| s.1),
            };
            let (Some(period), Some(direction)) = (period, direction) else {
                problems.push(Problem::at(
                    row.line,
                    Some("compared_period"),
                    "a relative_to_period target needs the period it is compared with and its direction (compared_period, direction, or the wording: \"giảm … so với năm 2024\")",
                    "chỉ tiêu so sánh với kỳ khác cần kỳ so sánh và chiều (compared_period, direction, hoặc lời văn: \"giảm … so với năm 2024\")",
                ));
                return None;
            };
            TargetKind::RelativeToPeriod { period, direction }
        }
        "milestone" => {
            let written = row.get(row.columns.deadline);
            let deadline = if written.is_empty() {
                // Absent the column, the deadline the text states, if any.
                parsed.iter().find_map(|p| match p.kind {
                    TargetKind::Milestone { deadline } => deadline,
                    _ => None,
                })
            } else {
                match parse_date(written) {
                    Some(d) => Some(d),
                    None => {
                        problems.push(Problem::at(
                            row.line,
                            Some("deadline"),
                            format!("`{written}` is not a date (2025-12-31 or 31/12/2025)"),
                            format!("`{written}` không phải là ngày (2025-12-31 hoặc 31/12/2025)"),
                        ));
                        return None;
                    }
                }
            };
            TargetKind::Milestone { deadline }
        }
        other => {
            problems.push(Problem::at(row.line, Some("kind"), format!("`{other}` is not at_least, at_most, exact, range, growth_pct, reduce_by, relative_to_period, maintain or milestone"), format!("`{other}` không phải at_least, at_most, exact, range, growth_pct, reduce_by, relative_to_period, maintain hay milestone")));
            return None;
        }
    })
}

fn text_of(row: &Row, column: Option<usize>, name: &str) -> Result<Option<Text>, Problem> {
    let raw = row.get(column);
    if raw.is_empty() {
        return Ok(None);
    }
    Text::parse(raw)
        .map(Some)
        .map_err(|e| Problem::of(row.line, Some(name), &e))
}

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
            raw => match super::office::parse_track(raw) {
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
                .is_some_and(|i| i.reports.contains_key(&report));
        if known {
            continue;
        }
        indicators.reports.insert(report);
        // A percentage of plan the document states beside a target and a
        // result: recomputed, and flagged (not refused) when they disagree.
        let stated_pct = row.number(columns.stated_pct, "stated_achievement_pct", &mut problems);
        let notice = match (value, stated, stated_pct) {
            (Some(value), Some(target), Some(pct)) => {
                let computed = chitieu_domain::achievement::achievement(
                    &TargetKind::Plain {
                        value: target,
                        base: None,
                    },
                    Measure::Amount,
                    // Only the percentage is used: the same either way.
                    chitieu_domain::direction::Better::Higher,
                    Some(&ResultValue::Amount { value }),
                    None,
                    refers_to,
                    refers_to,
                )
                .percent_of_target;
                let agrees = computed.is_some_and(|c| (c - pct).abs() <= Decimal::new(1, 2));
                (!agrees).then(|| {
                    let computed = computed.map_or("—".to_owned(), |c| {
                        chitieu_domain::number::format_vietnamese(c)
                    });
                    // Kept in the report's note, which officials read: in
                    // Vietnamese, with Vietnamese number formatting.
                    format!(
                        "văn bản ghi đạt {}% kế hoạch; {}/{} tính ra {computed}%",
                        chitieu_domain::number::format_vietnamese(pct),
                        chitieu_domain::number::format_vietnamese(value),
                        chitieu_domain::number::format_vietnamese(target)
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
                },
                supersedes: None,
                reason: None,
            },
        });
    }
    finish(places, steps, problems)
}

#[cfg(test)]
mod tests {
    use super::super::{plan, Options, Table};
    use super::*;

    const TARGETS: &str = include_str!("../../../fixtures/seeds/targets.tsv");
    const ACTUALS: &str = include_str!("../../../fixtures/seeds/actuals.tsv");

    fn apply(state: &mut DomainState, steps: &[Step]) {
        for step in steps {
            let events = decide(state, &step.command).unwrap_or_else(|e| panic!("{e}"));
            events.iter().for_each(|e| evolve(state, e));
        }
    }

    fn count(steps: &[Step], f: impl Fn(&Command) -> bool) -> usize {
        steps.iter().filter(|s| f(&s.command)).count()
    }

    #[test]
    fn every_seed_target_and_result_plans_and_a_second_import_plans_nothing() {
        let mut state = DomainState::default();
        let targets = Table::from_text(TARGETS);
        let steps = plan(&targets, &Options::default(), &state, |_| false)
            .unwrap_or_else(|p| panic!("{p:#?}"));
        assert_eq!(
            count(&steps, |c| matches!(c, Command::SetTarget { .. })),
            183
        );
        // 182 indicators: 004's budget revenue carries two tracks.
        assert_eq!(
            count(&steps, |c| matches!(c, Command::DefineIndicator(_))),
            182
        );
        assert_eq!(
            count(&steps, |c| matches!(c, Command::RegisterOrgUnit(_))),
            8
        );
        assert_eq!(
            count(&steps, |c| matches!(c, Command::RegisterDocument(_))),
            4
        );
        apply(&mut state, &steps);
        let codes: Vec<String> = state.org_units.keys().map(|c| c.to_string()).collect();
        assert!(codes.contains(&"LA.CAN-DUOC".to_owned()), "{codes:?}");
        assert!(codes.contains(&"HG.PHUNG-HIEP".to_owned()), "{codes:?}");

        let actuals = Table::from_text(ACTUALS);
        let steps = plan(&actuals, &Options::default(), &state, |_| false)
            .unwrap_or_else(|p| panic!("{p:#?}"));
        assert_eq!(
            count(&steps, |c| matches!(c, Command::ReportActual { .. })),
            242
        );
        assert_eq!(
            count(&steps, |c| matches!(c, Command::RegisterOrgUnit(_))),
            0
        );
        // The eight targets written next to their results.
        assert_eq!(count(&steps, |c| matches!(c, Command::SetTarget { .. })), 8);
        apply(&mut state, &steps);

        for table in [&targets, &actuals] {
            let again = plan(table, &Options::default(), &state, |_| false)
                .unwrap_or_else(|p| panic!("{p:#?}"));
            assert!(again.is_empty(), "{again:#?}");
        }
    }

    #[test]
    fn a_row_that_contradicts_the_store_is_refused_with_its_line() {
        let mut state = DomainState::default();
        let targets = Table::from_text(TARGETS);
        let steps = plan(&targets, &Options::default(), &state, |_| false)
            .unwrap_or_else(|p| panic!("{p:#?}"));
        apply(&mut state, &steps);
        let changed = TARGETS.replacen("\t581\t", "\t590\t", 1);
        let problems = plan(
            &Table::from_text(&changed),
            &Options::default(),
            &state,
            |_| false,
        )
        .err()
        .unwrap_or_default();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].why.contains("reviseTarget"), "{}", problems[0]);
        let line = TARGETS
            .lines()
            .position(|l| l.contains("\t581\t"))
            .unwrap_or(0)
            + 1;
        assert_eq!(problems[0].line, line);
    }

    #[test]
    fn bad_rows_are_all_listed() {
        let header = TARGETS.lines().next().unwrap_or("");
        let good = TARGETS.lines().nth(1).unwrap_or("");
        let bad_kind = good.replace("at_least", "more_or_less");
        let bad_value = good.replace("\t707\t", "\t7,07x\t");
        let bad_period = good.replace("\t2025\t", "\t2025-2027\t");
        let text = [header, good, &bad_kind, &bad_value, &bad_period].join("\n");
        let problems = plan(
            &Table::from_text(&text),
            &Options::default(),
            &DomainState::default(),
            |_| false,
        )
        .err()
        .unwrap_or_default();
        let lines: Vec<(usize, Option<&str>)> = problems
            .iter()
            .map(|p| (p.line, p.column.as_deref()))
            .collect();
        assert_eq!(
            lines,
            vec![(3, Some("kind")), (4, Some("value")), (5, Some("period"))],
            "{problems:#?}"
        );
    }

    #[test]
    fn a_result_named_like_two_indicators_needs_its_document() {
        let mut state = DomainState::default();
        let targets = Table::from_text(TARGETS);
        let steps = plan(&targets, &Options::default(), &state, |_| false)
            .unwrap_or_else(|p| panic!("{p:#?}"));
        apply(&mut state, &steps);
        // A second document of Cần Đước defines another "Thu ngân sách" of 2025.
        let header = TARGETS.lines().next().unwrap_or("");
        let budget = TARGETS
            .lines()
            .find(|l| l.contains("\t4\tThu ngân sách\t"))
            .unwrap_or("");
        let other = budget.replace("38-CTr/HU Chương trình", "39-CTr/HU Chương trình");
        let steps = plan(
            &Table::from_text(&format!("{header}\n{other}\n")),
            &Options::default(),
            &state,
            |_| false,
        )
        .unwrap_or_else(|p| panic!("{p:#?}"));
        apply(&mut state, &steps);
        let result = "seed_file\tdistrict\tprovince\tperiod\tcategory\tindicator_vi\tactual_text_vi\tvalue\tunit\tstatus\n\
             x\tCần Đước\tLong An\t2025\teconomy\tThu ngân sách\tước thu 590 tỷ đồng\t590\ttỷ đồng\testimate\n";
        let problems = plan(
            &Table::from_text(result),
            &Options::default(),
            &state,
            |_| false,
        )
        .err()
        .unwrap_or_default();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].why.contains("2 indicators"), "{}", problems[0]);
        // Naming the document settles it.
        let document = state
            .documents
            .values()
            .find(|d| d.number.as_ref().map(|n| n.as_str()) == Some("39-CTr/HU"))
            .map(|d| d.id);
        let options = Options {
            document,
            ..Options::default()
        };
        let steps = plan(&Table::from_text(result), &options, &state, |_| false)
            .unwrap_or_else(|p| panic!("{p:#?}"));
        assert_eq!(steps.len(), 1);
    }

    #[test]
    fn a_percentage_the_figures_do_not_give_is_flagged_not_agreed_with() {
        let mut state = DomainState::default();
        let steps = plan(
            &Table::from_text(TARGETS),
            &Options::default(),
            &state,
            |_| false,
        )
        .unwrap_or_else(|p| panic!("{p:#?}"));
        apply(&mut state, &steps);
        let steps = plan(
            &Table::from_text(ACTUALS),
            &Options::default(),
            &state,
            |_| false,
        )
        .unwrap_or_else(|p| panic!("{p:#?}"));
        assert!(
            steps.iter().all(|s| s.notice.is_none()),
            "the seeds' five stated percentages agree with their figures"
        );
        // 41/40 enterprises is 102,5 %; a table saying 105 % is flagged.
        let wrong = ACTUALS.replace(
            "\t41\tdoanh nghiệp\t40\t102.5\t",
            "\t41\tdoanh nghiệp\t40\t105\t",
        );
        assert_ne!(wrong, ACTUALS);
        let steps = plan(
            &Table::from_text(&wrong),
            &Options::default(),
            &state,
            |_| false,
        )
        .unwrap_or_else(|p| panic!("{p:#?}"));
        let flagged: Vec<&Step> = steps.iter().filter(|s| s.notice.is_some()).collect();
        assert_eq!(flagged.len(), 1);
        let notice = flagged[0].notice.as_deref().unwrap_or("");
        assert!(
            notice.starts_with("văn bản ghi đạt 105% kế hoạch;") && notice.contains("102,5%"),
            "{notice}"
        );
        match &flagged[0].command {
            Command::ReportActual { report, .. } => {
                let note = report
                    .note
                    .as_ref()
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                assert!(note.contains("⚠"), "{note}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn result_periods_as_the_tables_write_them() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap_or_default();
        assert_eq!(
            actual_period("2022"),
            Some((Period::Year(2022), d(2022, 12, 31)))
        );
        assert_eq!(
            actual_period("2015-2020"),
            Some((Period::Term(2015, 2020), d(2020, 12, 31)))
        );
        assert_eq!(
            actual_period("đến 16/12/2022"),
            Some((Period::Year(2022), d(2022, 12, 16)))
        );
        assert_eq!(
            actual_period("đầu năm 2015"),
            Some((Period::Year(2015), d(2015, 1, 1)))
        );
        assert_eq!(
            actual_period("năm học 2022-2023"),
            Some((Period::SchoolYear(2022), d(2023, 5, 31)))
        );
        assert_eq!(
            actual_period("lũy kế từ khi xuất hiện dịch đến nay (2022)"),
            Some((Period::Year(2022), d(2022, 12, 31)))
        );
        assert_eq!(actual_period("sometime"), None);
    }
}
