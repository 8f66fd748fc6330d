//! The place a row names: province, district and document, registered when not yet known.

use super::*;

/// Org units and documents, found in the store or planned by this file.
pub(super) struct Places<'a> {
    pub(super) state: &'a DomainState,
    pub(super) units: BTreeMap<OrgUnitCode, OrgUnit>,
    pub(super) documents: BTreeMap<DocumentId, Document>,
    pub(super) steps: Vec<Step>,
}

impl<'a> Places<'a> {
    pub(super) fn new(state: &'a DomainState) -> Self {
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
    pub(super) fn all_units(&self) -> impl Iterator<Item = &OrgUnit> {
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

    pub(super) fn code_taken(&self, code: &OrgUnitCode) -> bool {
        self.state.org_units.contains_key(code) || self.units.contains_key(code)
    }

    /// The unit named `name` at `level` under `parent`, registering it if new.
    pub(super) fn unit(
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
        // A unit renamed since the table was written: by a former name
        // (after every current name, so a new unit that took an old name
        // is found first).
        if let Some(found) = self.state.org_units.values().find(|u| {
            u.unit.level == level
                && u.unit.parent.as_ref() == parent
                && u.former_names
                    .iter()
                    .any(|n| bare_name(n.as_str()) == wanted)
        }) {
            return Ok(found.unit.code.clone());
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
            established: None,
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
    pub(super) fn org_unit_of(
        &mut self,
        row: &Row,
        options: &Options,
    ) -> Result<OrgUnitCode, Vec<Problem>> {
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
                // Else by a former name, as for a row that names its province.
                let mut former = self.state.org_units.values().filter(|u| {
                    u.unit.level == OrgUnitLevel::District
                        && u.former_names
                            .iter()
                            .any(|n| bare_name(n.as_str()) == wanted)
                });
                let one = match (found.next(), found.next()) {
                    (None, _) => match (former.next(), former.next()) {
                        (Some(one), None) => Some(&one.unit),
                        _ => None,
                    },
                    (one, None) => one,
                    _ => None,
                };
                match one {
                    Some(one) => Ok(one.code.clone()),
                    _ => Err(vec![Problem::at(row.line, Some("province"), format!("district `{d}` is not registered (or not only once); name its province"), format!("huyện `{d}` chưa được đăng ký (hoặc trùng tên); hãy ghi tỉnh của huyện"))]),
                }
            }
        }
    }

    /// The document of a row, registering it if new.
    pub(super) fn document(
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
            kind: crate::office::document_kind(number.as_ref().map(|n| n.as_str()), title),
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
pub(super) fn bare_title(name: &str) -> String {
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
