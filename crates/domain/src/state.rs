//! [`DomainState`]: what the rules need to know, folded from events by
//! [`crate::evolve`]. It holds current facts, not history (history is the log).

use crate::actual::{ActualReport, ReportId, ResultStatus, ResultValue, StatedFigures};
use crate::document::{Document, DocumentId};
use crate::error::DomainError;
use crate::event::{Event, StreamId};
use crate::indicator::{IndicatorDefinition, IndicatorId};
use crate::org_unit::{OrgUnit, OrgUnitCode};
use crate::period::{PeriodState, ReportingPeriod};
use crate::principal::{PrincipalId, PrincipalState, TokenId};
use crate::small_map::SmallMap;
use crate::target::{Target, TargetTrack};
use crate::text::{Reason, Text};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// An org unit and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnitState {
    /// The unit as registered.
    pub unit: OrgUnit,
    /// Its successors, once it ceased.
    pub successors: Vec<OrgUnitCode>,
    /// The names it had before its renames, oldest first (a table of an
    /// earlier year names it so).
    pub former_names: Vec<Text>,
    /// Its parents before each move, with the day the next parent took
    /// over, oldest first (`unit.parent` is the latest).
    pub former_parents: Vec<(Option<OrgUnitCode>, chrono::NaiveDate)>,
    /// Events in its stream.
    pub version: u64,
}

/// The current target of one track.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TargetState {
    /// The target in force.
    pub current: Target,
    /// How many times it was revised.
    pub revisions: u32,
    /// Log position of the event that set it (0 outside a log fold).
    pub position: u64,
}

/// One report and what replaced it, as the rules hold it: the parts a
/// decision reads inline (value, date, status), the rest of the report
/// (its source, note and stated figures, mostly absent) boxed apart, so
/// that a held report takes half of what the whole [`ActualReport`]
/// would (an indicator's figures hold every report it ever had, and a
/// holder of many indicators' figures keeps as many as fit in a budget of
/// bytes). [`ReportState::report`] gives the report whole.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportState {
    /// The value.
    pub value: ResultValue,
    /// The date the figure refers to.
    pub refers_to: NaiveDate,
    /// Estimate or final.
    pub status: ResultStatus,
    /// The later report that superseded or corrected it.
    pub replaced_by: Option<ReportId>,
    /// Log position of the event that reported it (0 outside a log fold).
    pub position: u64,
    /// Its source, note and stated figures, where it gives any.
    pub rest: Option<Box<ReportRest>>,
}

/// The parts of a report no rule decides on, held apart
/// ([`ReportState::rest`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportRest {
    /// The document that reports it.
    pub source: Option<DocumentId>,
    /// Its note.
    pub note: Option<Text>,
    /// What the document writes beside the figure.
    pub stated: Option<StatedFigures>,
}

impl ReportState {
    /// `report` held, recorded at `position`, not replaced.
    pub fn of(report: &ActualReport, position: u64) -> Self {
        let rest = (report.source.is_some() || report.note.is_some() || report.stated.is_some())
            .then(|| {
                Box::new(ReportRest {
                    source: report.source,
                    note: report.note.clone(),
                    stated: report.stated.clone(),
                })
            });
        ReportState {
            value: report.value.clone(),
            refers_to: report.refers_to,
            status: report.status,
            replaced_by: None,
            position,
            rest,
        }
    }

    /// The report whole, as it was reported (it is held under its id).
    pub fn report(&self, id: ReportId) -> ActualReport {
        let rest = self.rest.as_deref();
        ActualReport {
            report_id: id,
            value: self.value.clone(),
            refers_to: self.refers_to,
            status: self.status,
            source: rest.and_then(|r| r.source),
            note: rest.and_then(|r| r.note.clone()),
            stated: rest.and_then(|r| r.stated.clone()),
        }
    }
}

/// An indicator's figures: its target per track and every report. They
/// are most of an indicator's state and grow with every report, so a
/// holder of the state may keep them for some indicators only (the
/// command service keeps a bounded set) and fold them again from the
/// indicator's own stream when a decision needs them
/// ([`Figures::apply`], [`DomainState::figures_needed`]). Serialisable
/// for a holder's snapshots of them (not an event: no frozen contract;
/// a holder keeps its own format version beside them).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Figures {
    /// Target per track.
    pub targets: SmallMap<TargetTrack, TargetState>,
    /// Every report, live or replaced.
    pub reports: SmallMap<ReportId, ReportState>,
}

impl Figures {
    /// Applies one event of the indicator's stream, recorded at
    /// `position`: the one place where an event changes figures (both
    /// [`crate::evolve`] and a fold of the stream alone come here).
    pub fn apply(&mut self, event: &Event, position: u64) {
        match event {
            Event::TargetSet(e) => {
                self.targets.insert(
                    e.track,
                    TargetState {
                        current: e.target.clone(),
                        revisions: 0,
                        position,
                    },
                );
            }
            Event::TargetRevised(e) => {
                let revisions = self.targets.get(&e.track).map_or(0, |t| t.revisions) + 1;
                self.targets.insert(
                    e.track,
                    TargetState {
                        current: e.target.clone(),
                        revisions,
                        position,
                    },
                );
            }
            Event::ActualReported(e) => self.report(&e.report, e.supersedes, position),
            Event::ActualCorrected(e) => self.report(&e.report, Some(e.corrects), position),
            _ => {}
        }
    }

    /// A new live report, and the one it replaces marked so.
    fn report(&mut self, report: &ActualReport, replaces: Option<ReportId>, position: u64) {
        if let Some(old) = replaces.and_then(|id| self.reports.get_mut(&id)) {
            old.replaced_by = Some(report.report_id);
        }
        self.reports
            .insert(report.report_id, ReportState::of(report, position));
    }

    /// The figures of an indicator folded from its stream's events, each
    /// with the log position it was recorded at.
    pub fn fold<'a>(events: impl IntoIterator<Item = (&'a Event, u64)>) -> Figures {
        let mut figures = Figures::default();
        for (event, position) in events {
            figures.apply(event, position);
        }
        figures
    }

    /// About how many bytes these figures take in memory, boxed: their
    /// entries (as many as the maps have room for) and the texts they
    /// own. What a holder of many indicators' figures bounds: an
    /// indicator's figures grow with its reports, so a count of
    /// indicators bounds nothing.
    pub fn held_bytes(&self) -> usize {
        use std::mem::size_of;
        let text = |t: &Option<crate::text::Text>| t.as_ref().map_or(0, |t| t.as_str().len());
        size_of::<Figures>()
            + self.targets.capacity() * size_of::<(TargetTrack, TargetState)>()
            + self.reports.capacity() * size_of::<(ReportId, ReportState)>()
            + self
                .targets
                .values()
                .map(|t| text(&t.current.wording))
                .sum::<usize>()
            + self
                .reports
                .values()
                .filter_map(|r| r.rest.as_deref())
                .map(|rest| size_of::<ReportRest>() + text(&rest.note))
                .sum::<usize>()
    }
}

/// An indicator's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorState {
    /// Its definition.
    pub definition: IndicatorDefinition,
    /// Its figures; `None` where the holder of the state let them go (read
    /// them through [`IndicatorState::figures`]).
    pub figures: Option<Box<Figures>>,
    /// The reason it was retired, if it was.
    pub retired: Option<Reason>,
    /// Which way is good, where a person said so (else inferred:
    /// `direction::better_of`).
    pub better: Option<crate::direction::Better>,
    /// Events in its stream.
    pub version: u64,
}

impl IndicatorState {
    /// Its figures, or [`DomainError::FiguresNotLoaded`] where the holder
    /// of the state did not load them for this decision (a defect of the
    /// holder: [`DomainState::figures_needed`] names what to load).
    pub fn figures(&self) -> Result<&Figures, DomainError> {
        self.figures
            .as_deref()
            .ok_or(DomainError::FiguresNotLoaded(self.definition.id))
    }
}

/// Everything the rules need: registered org units, documents, indicators.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainState {
    /// Org units by code.
    pub org_units: BTreeMap<OrgUnitCode, OrgUnitState>,
    /// Documents by id.
    pub documents: BTreeMap<DocumentId, Document>,
    /// Indicators by id, each boxed: a node of the map holds eleven
    /// slots and is often half full, so a slot is a pointer, not the
    /// ~270 bytes of a state.
    pub indicators: BTreeMap<IndicatorId, Box<IndicatorState>>,
    /// Principals by id.
    pub principals: BTreeMap<PrincipalId, PrincipalState>,
    /// Token digests (hex) to their principal and id.
    pub tokens: BTreeMap<String, (PrincipalId, TokenId)>,
    /// Reporting periods per org unit.
    pub periods: BTreeMap<OrgUnitCode, UnitPeriods>,
    /// Log position of the last event folded by [`crate::evolve_at`] (0
    /// when the state was folded without positions).
    pub position: u64,
}

/// The reporting periods of one org unit: one stream per unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitPeriods {
    /// Each period that left the open state at least once.
    pub periods: BTreeMap<ReportingPeriod, PeriodState>,
    /// Events in the unit's periods stream.
    pub version: u64,
}

impl DomainState {
    /// The version (number of events) of a stream; 0 when it does not exist.
    pub fn stream_version(&self, stream: &StreamId) -> u64 {
        match stream {
            StreamId::OrgUnit(code) => self.org_units.get(code).map_or(0, |u| u.version),
            StreamId::Document(id) => u64::from(self.documents.contains_key(id)),
            StreamId::Principal(id) => self.principals.get(id).map_or(0, |p| p.version),
            StreamId::Periods(code) => self.periods.get(code).map_or(0, |p| p.version),
            StreamId::Indicator(id) => self.indicators.get(id).map_or(0, |i| i.version),
        }
    }

    /// The ids of the indicators defined for `unit` itself.
    pub fn indicators_of<'a>(
        &'a self,
        unit: &'a OrgUnitCode,
    ) -> impl Iterator<Item = IndicatorId> + 'a {
        self.indicators
            .values()
            .filter(move |i| &i.definition.org_unit == unit)
            .map(|i| i.definition.id)
    }

    /// The indicators whose figures a decision on `command` reads (see
    /// [`crate::decide::figures_needed`]).
    pub fn figures_needed(&self, command: &crate::Command) -> Vec<IndicatorId> {
        crate::decide::figures_needed(self, command)
    }

    /// The first frozen (approved or locked) period of `unit` for which
    /// `touches` holds.
    pub fn frozen_period(
        &self,
        unit: &OrgUnitCode,
        touches: impl Fn(ReportingPeriod) -> bool,
    ) -> Option<(ReportingPeriod, &PeriodState)> {
        self.periods.get(unit).and_then(|p| {
            p.periods
                .iter()
                .find(|(period, state)| state.status.is_frozen() && touches(**period))
                .map(|(period, state)| (*period, state))
        })
    }

    /// Whether `ancestor` is `unit` or one of its ancestors.
    pub fn is_same_or_ancestor(&self, ancestor: &OrgUnitCode, unit: &OrgUnitCode) -> bool {
        let mut cursor = Some(unit.clone());
        let mut steps = 0;
        while let Some(code) = cursor {
            if &code == ancestor {
                return true;
            }
            steps += 1;
            if steps > 16 {
                return false;
            }
            cursor = self
                .org_units
                .get(&code)
                .and_then(|u| u.unit.parent.clone());
        }
        false
    }
}
