//! The indicator a row names, found or defined, with its period and category.

use super::*;

/// Indicators found in the store or planned by this file.
pub(super) struct Indicators<'a> {
    pub(super) state: &'a DomainState,
    pub(super) planned: BTreeMap<IndicatorId, IndicatorDefinition>,
    pub(super) tracks: BTreeMap<(IndicatorId, TargetTrack), (usize, TargetKind)>,
    pub(super) reports: BTreeSet<ReportId>,
}

impl<'a> Indicators<'a> {
    pub(super) fn new(state: &'a DomainState) -> Self {
        Indicators {
            state,
            planned: BTreeMap::new(),
            tracks: BTreeMap::new(),
            reports: BTreeSet::new(),
        }
    }

    pub(super) fn exists(&self, id: IndicatorId) -> bool {
        self.state.indicators.contains_key(&id) || self.planned.contains_key(&id)
    }

    /// The indicator of the unit and period with this name (under any
    /// document; where several share the name, the one of `document`).
    /// `Err` when that still leaves more than one.
    pub(super) fn by_name(
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
    pub(super) fn define(
        &mut self,
        line: usize,
        definition: IndicatorDefinition,
        steps: &mut Vec<Step>,
    ) {
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
    pub(super) fn target(
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
            .and_then(|i| i.figures.as_deref())
            .and_then(|f| f.targets.get(&track));
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

pub(super) fn period_of(row: &Row, options: &Options) -> Result<Period, Problem> {
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

pub(super) fn category_of(row: &Row) -> Result<Category, Problem> {
    let raw = row.get(row.columns.category);
    parse_category(raw).ok_or_else(|| {
        Problem::at(row.line, Some("category"), format!(
                "`{raw}` is not economy, society, environment, defense_security or party_building"
            ), format!(
                "`{raw}` không phải economy, society, environment, defense_security hay party_building"
            ))
    })
}

pub(super) fn text_of(
    row: &Row,
    column: Option<usize>,
    name: &str,
) -> Result<Option<Text>, Problem> {
    let raw = row.get(column);
    if raw.is_empty() {
        return Ok(None);
    }
    Text::parse(raw)
        .map(Some)
        .map_err(|e| Problem::of(row.line, Some(name), &e))
}
