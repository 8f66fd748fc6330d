//! [`IndicatorView`]: one indicator as clients and auditors see it, and the
//! fold that builds it from its events. The same fold serves the live read
//! model, time travel and the before/after of every history entry, so the
//! three can never disagree.

use chitieu_domain::achievement::{achievement, Achievement, AchievementStatus};
use chitieu_domain::actual::{
    figure_that_counts, latest_with_status, ActualReport, ReportId, ResultStatus,
};
use chitieu_domain::direction::direction_of;
use chitieu_domain::small_map::SmallMap;
use chitieu_domain::{
    DocumentId, Event, IndicatorDefinition, Measure, Reason, Target, TargetTrack,
};
use chitieu_store::RecordedEvent;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Who did something and when, from the event's envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Log position.
    pub position: u64,
    /// Transaction time.
    pub recorded_at: DateTime<Utc>,
    /// Principal id.
    pub actor: String,
}

impl Stamp {
    /// The stamp of a recorded event.
    pub fn of(recorded: &RecordedEvent) -> Self {
        Stamp {
            position: recorded.position,
            recorded_at: recorded.recorded_at,
            actor: recorded.actor.id.clone(),
        }
    }
}

/// Most restatements a track keeps in its view (all are in the log).
pub const MAX_RESTATED: usize = 16;

/// One target track as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackView {
    /// The target in force.
    pub current: Target,
    /// How many times it was revised.
    pub revisions: u32,
    /// The document of the first setting and of each revision, in order.
    pub documents: Vec<DocumentId>,
    /// Other statements of it that are not in force (`restateTarget`),
    /// oldest first, at most [`MAX_RESTATED`]: what the findings compare
    /// a document's two wordings with.
    #[serde(default)]
    pub restated: Vec<Target>,
    /// The reason of the last revision.
    pub last_reason: Option<Reason>,
    /// When and by whom it was last set or revised.
    pub changed: Stamp,
}

/// One reported figure and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportView {
    /// The report.
    pub report: ActualReport,
    /// The estimate it superseded.
    pub supersedes: Option<ReportId>,
    /// The report it corrected.
    pub corrects: Option<ReportId>,
    /// Why it corrected (or superseded a final figure).
    pub correction_reason: Option<Reason>,
    /// The later report that replaced it.
    pub replaced_by: Option<ReportId>,
    /// When and by whom it was reported.
    pub reported: Stamp,
}

/// A live report as the figure-that-counts rule needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveReport {
    /// Its id.
    pub report_id: ReportId,
    /// Estimate or final.
    pub status: ResultStatus,
    /// The date it refers to.
    pub refers_to: NaiveDate,
    /// Log position of the event that reported it.
    pub position: u64,
}

impl LiveReport {
    fn of(view: &ReportView) -> Self {
        LiveReport {
            report_id: view.report.report_id,
            status: view.report.status,
            refers_to: view.report.refers_to,
            position: view.reported.position,
        }
    }

    fn key(&self) -> (ResultStatus, NaiveDate, u64) {
        (self.status, self.refers_to, self.position)
    }
}

impl ReportView {
    /// Status, date and log position, for the figure-that-counts rule.
    pub fn key(&self) -> (ResultStatus, NaiveDate, u64) {
        (
            self.report.status,
            self.report.refers_to,
            self.reported.position,
        )
    }

    /// The report an event brings and the report it replaces, if it is a
    /// report or a correction.
    pub fn from_event(event: &Event, stamp: &Stamp) -> Option<(ReportView, Option<ReportId>)> {
        let (report, supersedes, corrects, correction_reason) = match event {
            Event::ActualReported(e) => (&e.report, e.supersedes, None, e.reason.clone()),
            Event::ActualCorrected(e) => {
                (&e.report, None, Some(e.corrects), Some(e.reason.clone()))
            }
            _ => return None,
        };
        let view = ReportView {
            report: report.clone(),
            supersedes,
            corrects,
            correction_reason,
            replaced_by: None,
            reported: stamp.clone(),
        };
        Some((view, supersedes.or(corrects)))
    }
}

/// An indicator's retirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retirement {
    /// Why.
    pub reason: Reason,
    /// The deciding document.
    pub document: Option<DocumentId>,
    /// When and by whom.
    pub at: Stamp,
}

/// Everything the read side knows of one indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorView {
    /// Its definition.
    pub definition: IndicatorDefinition,
    /// Its stream version.
    pub version: u64,
    /// When it was defined.
    pub defined: Stamp,
    /// Its last change.
    pub updated: Stamp,
    /// Targets per track, in a sorted vector: a `BTreeMap` took a node of
    /// eleven slots (2.5 KB) in every view held in memory. Stored as the
    /// same JSON object.
    pub targets: SmallMap<TargetTrack, TrackView>,
    /// The latest live final figure, by the domain's one rule
    /// ([`chitieu_domain::actual::figure_that_counts`]) over `live`.
    latest_final: Option<ReportView>,
    /// The latest live estimate (ước), the same way.
    latest_estimate: Option<ReportView>,
    /// The live reports (not superseded, not corrected) the rule chooses
    /// among, compactly: of each status the [`LIVE_KEPT`] latest by the
    /// rule's order, in log order, so that a correction that moves the
    /// latest figure's date back hands the slot to the right earlier one.
    /// Every live report was kept before: a view, written on every report,
    /// grew with them (an indicator reported daily without bound).
    live: Vec<LiveReport>,
    /// Set when a slot must go to a live report whose full view this one
    /// does not hold (a correction moved the latest figure's date back):
    /// the projector then folds the indicator again from its stream.
    #[serde(skip)]
    pub(crate) needs_refold: bool,
    /// Reports and corrections received, all told.
    pub report_count: u32,
    /// Retirement, if retired.
    pub retired: Option<Retirement>,
    /// Which way is good, where a person set it (else inferred).
    #[serde(default)]
    pub better: Option<chitieu_domain::direction::Better>,
    /// The latest figure of the linked previous-period indicator, the base
    /// of "so cùng kỳ" and of growth and reduction targets.
    pub previous_figure: Option<Decimal>,
    /// The latest (by the rule's order) of the live final reports `live`
    /// let go, or a later one (a report let go may since have been
    /// replaced): while `live`'s latest final is later, it is the latest of
    /// all. None when none was let go.
    dropped_final: Option<(NaiveDate, u64)>,
    /// The same for estimates.
    dropped_estimate: Option<(NaiveDate, u64)>,
}

/// Most live reports of each status a view keeps ([`IndicatorView`]'s
/// `live`): a correction of the latest figure falls back on the next one
/// without reading the stream while fewer than this many are corrected in
/// a row.
pub const LIVE_KEPT: usize = 4;

/// The track whose status stands for the indicator in summaries and the
/// status index: the unit's own resolution, else the assigned target, else
/// the stretch target.
pub const PRIMARY_TRACKS: [TargetTrack; 3] = [
    TargetTrack::Resolution,
    TargetTrack::Assigned,
    TargetTrack::Stretch,
];

impl IndicatorView {
    /// Starts a view from its definition event.
    pub fn defined(definition: IndicatorDefinition, stamp: Stamp) -> Self {
        IndicatorView {
            definition,
            version: 1,
            defined: stamp.clone(),
            updated: stamp,
            targets: SmallMap::new(),
            latest_final: None,
            latest_estimate: None,
            live: Vec::new(),
            needs_refold: false,
            report_count: 0,
            retired: None,
            better: None,
            previous_figure: None,
            dropped_final: None,
            dropped_estimate: None,
        }
    }

    /// Applies one event of this indicator's stream.
    pub fn apply(&mut self, event: &Event, stamp: Stamp) {
        match event {
            Event::TargetSet(e) => {
                self.targets.insert(
                    e.track,
                    TrackView {
                        current: e.target.clone(),
                        revisions: 0,
                        documents: vec![e.target.document],
                        restated: Vec::new(),
                        last_reason: None,
                        changed: stamp.clone(),
                    },
                );
            }
            Event::TargetRevised(e) => {
                let (revisions, mut documents, restated) = self
                    .targets
                    .get(&e.track)
                    .map(|t| (t.revisions, t.documents.clone(), t.restated.clone()))
                    .unwrap_or_default();
                documents.push(e.target.document);
                self.targets.insert(
                    e.track,
                    TrackView {
                        current: e.target.clone(),
                        revisions: revisions + 1,
                        documents,
                        restated,
                        last_reason: Some(e.reason.clone()),
                        changed: stamp.clone(),
                    },
                );
            }
            Event::ActualReported(_) | Event::ActualCorrected(_) => {
                if let Some((report, replaces)) = ReportView::from_event(event, &stamp) {
                    self.receive(report, replaces);
                }
            }
            Event::IndicatorDirectionSet(e) => self.better = Some(e.better),
            Event::IndicatorPreviousLinked(e) => self.definition.previous = Some(e.previous),
            Event::IndicatorParentSet(e) => self.definition.parent = e.parent,
            Event::TargetRestated(e) => {
                if let Some(track) = self.targets.get_mut(&e.track) {
                    track.restated.push(e.statement.clone());
                    // The oldest go first when a track is restated often.
                    if track.restated.len() > MAX_RESTATED {
                        track.restated.remove(0);
                    }
                }
            }
            Event::IndicatorRetired(e) => {
                self.retired = Some(Retirement {
                    reason: e.reason.clone(),
                    document: e.document,
                    at: stamp.clone(),
                });
            }
            Event::IndicatorDefined(_)
            | Event::OrgUnitRegistered(_)
            | Event::OrgUnitSucceeded(_)
            | Event::OrgUnitRenamed(_)
            | Event::OrgUnitMoved(_)
            | Event::DocumentRegistered(_)
            | Event::PrincipalCreated(_)
            | Event::RoleGranted(_)
            | Event::GrantRevoked(_)
            | Event::TokenIssued(_)
            | Event::TokenRevoked(_)
            | Event::PrincipalDisabled(_)
            | Event::PeriodSubmitted(_)
            | Event::PeriodApproved(_)
            | Event::PeriodLocked(_)
            | Event::PeriodUnlocked(_) => return,
        }
        self.version += 1;
        self.updated = stamp;
    }

    /// Takes in a new report that may replace an earlier one.
    fn receive(&mut self, report: ReportView, replaces: Option<ReportId>) {
        self.report_count += 1;
        self.live.retain(|r| Some(r.report_id) != replaces);
        self.keep_live(LiveReport::of(&report));
        for status in [ResultStatus::Final, ResultStatus::Estimate] {
            let lost = *self.dropped(status);
            let best = latest_with_status(&self.live, LiveReport::key, status, None);
            // The latest kept is the latest of all unless one let go may
            // be later.
            let certain = match (best, lost) {
                (_, None) => true,
                (Some(b), Some(lost)) => (b.refers_to, b.position) > lost,
                (None, Some(_)) => false,
            };
            let best = best.map(|l| l.report_id);
            let slot = match status {
                ResultStatus::Final => &mut self.latest_final,
                ResultStatus::Estimate => &mut self.latest_estimate,
            };
            let held = slot.as_ref().map(|r| r.report.report_id);
            match best {
                _ if !certain => {
                    *slot = None;
                    self.needs_refold = true;
                }
                None => *slot = None,
                Some(id) if held == Some(id) => {}
                Some(id) if id == report.report.report_id => *slot = Some(report.clone()),
                Some(_) => {
                    *slot = None;
                    self.needs_refold = true;
                }
            }
        }
    }

    /// The bound on the live reports of `status` that `live` let go.
    fn dropped(&mut self, status: ResultStatus) -> &mut Option<(NaiveDate, u64)> {
        match status {
            ResultStatus::Final => &mut self.dropped_final,
            ResultStatus::Estimate => &mut self.dropped_estimate,
        }
    }

    /// Adds a live report to `live`, letting the earliest of its status go
    /// (by the rule's order) past [`LIVE_KEPT`].
    fn keep_live(&mut self, report: LiveReport) {
        let status = report.status;
        self.live.push(report);
        if self.live.iter().filter(|r| r.status == status).count() <= LIVE_KEPT {
            return;
        }
        let earliest = self
            .live
            .iter()
            .enumerate()
            .filter(|(_, r)| r.status == status)
            .min_by_key(|(_, r)| (r.refers_to, r.position))
            .map(|(i, r)| (i, (r.refers_to, r.position)));
        if let Some((i, key)) = earliest {
            self.live.remove(i);
            let bound = self.dropped(status);
            *bound = Some(bound.map_or(key, |b| b.max(key)));
        }
    }

    /// Sets the slots from every report of the stream (a fold has them all),
    /// and `live` with them where it had let some go.
    fn settle(&mut self, reports: &HashMap<ReportId, ReportView>) {
        let live: Vec<&ReportView> = reports
            .values()
            .filter(|r| r.replaced_by.is_none())
            .collect();
        let pick = |status| {
            latest_with_status(live.iter().copied(), ReportView::key, status, None).cloned()
        };
        self.latest_final = pick(ResultStatus::Final);
        self.latest_estimate = pick(ResultStatus::Estimate);
        self.needs_refold = false;
        if self.dropped_final.is_none() && self.dropped_estimate.is_none() {
            // `live` holds every live report already, as the incremental
            // path holds them.
            return;
        }
        self.live.clear();
        for status in [ResultStatus::Final, ResultStatus::Estimate] {
            let mut of: Vec<LiveReport> = live
                .iter()
                .filter(|r| r.report.status == status)
                .map(|r| LiveReport::of(r))
                .collect();
            of.sort_by_key(|r| std::cmp::Reverse((r.refers_to, r.position)));
            *self.dropped(status) = of.get(LIVE_KEPT).map(|r| (r.refers_to, r.position));
            of.truncate(LIVE_KEPT);
            self.live.extend(of);
        }
        self.live.sort_by_key(|r| r.position);
    }

    /// The figure that counts: the latest final one, else the latest estimate.
    pub fn current_report(&self) -> Option<&ReportView> {
        self.latest_final.as_ref().or(self.latest_estimate.as_ref())
    }

    /// The latest live final figure.
    pub fn latest_final(&self) -> Option<&ReportView> {
        self.latest_final.as_ref()
    }

    /// The latest live estimate (ước).
    pub fn latest_estimate(&self) -> Option<&ReportView> {
        self.latest_estimate.as_ref()
    }

    /// The current figure in the indicator's unit, if numeric.
    pub fn current_figure(&self) -> Option<Decimal> {
        self.current_report()
            .and_then(|r| r.report.value.figure(self.definition.measure))
    }

    /// Achievement against one track of the current figure, judged on `today`.
    pub fn achievement(&self, track: TargetTrack, today: NaiveDate) -> Option<Achievement> {
        self.achievement_of(track, today, self.current_report())
    }

    /// Achievement against one track of a given report (for valid-time views).
    pub fn achievement_of(
        &self,
        track: TargetTrack,
        today: NaiveDate,
        report: Option<&ReportView>,
    ) -> Option<Achievement> {
        let target = self.targets.get(&track)?;
        Some(achievement(
            &target.current.kind,
            self.definition.measure,
            direction_of(
                self.better,
                self.definition.name.as_str(),
                &target.current.kind,
            )
            .0,
            report.map(|r| &r.report.value),
            // The previous period's figure; else what the report's stated
            // change on it implies.
            self.previous_figure.or_else(|| {
                let r = &report?.report;
                let figure = r.value.figure(self.definition.measure)?;
                r.stated
                    .as_ref()?
                    .implied_previous(figure, self.definition.measure)
            }),
            self.definition.period.due(),
            today,
        ))
    }

    /// Which way is good for the indicator, and why: as set, else by its
    /// primary target's kind, else by its name (the one rule the API and
    /// the findings use).
    pub fn direction(
        &self,
    ) -> (
        chitieu_domain::direction::Better,
        chitieu_domain::direction::BetterBecause,
    ) {
        let name = self.definition.name.as_str();
        match self.primary_track().and_then(|t| self.targets.get(&t)) {
            Some(view) => direction_of(self.better, name, &view.current.kind),
            None => direction_of(
                self.better,
                name,
                &chitieu_domain::TargetKind::Maintain { level: None },
            ),
        }
    }

    /// The track that stands for the indicator, if any is set.
    pub fn primary_track(&self) -> Option<TargetTrack> {
        PRIMARY_TRACKS
            .into_iter()
            .find(|t| self.targets.contains_key(t))
    }

    /// The status as it stands at the end of its period, for the status
    /// index and the summaries (independent of the clock, so rebuilding on
    /// another day gives the same bytes). "Not due" counts as no data.
    pub fn settled_status(&self) -> AchievementStatus {
        let status = self
            .primary_track()
            .and_then(|t| self.achievement(t, self.definition.period.due()))
            .map_or(AchievementStatus::NoData, |a| a.status);
        match status {
            AchievementStatus::NotDue => AchievementStatus::NoData,
            s => s,
        }
    }

    /// Where it counts in its summary: judged at the end of its period, or
    /// without a target.
    pub fn standing(&self) -> crate::model::Standing {
        self.standing_as(self.settled_status())
    }

    /// Its standing, given its [`IndicatorView::settled_status`] (computed
    /// once by a caller that needs both).
    pub(crate) fn standing_as(&self, settled: AchievementStatus) -> crate::model::Standing {
        match self.primary_track() {
            Some(_) => crate::model::Standing::Judged(settled),
            None => crate::model::Standing::WithoutTarget,
        }
    }

    /// Change of the current figure against the previous period's, in
    /// percent for amounts and in points for rates ("tăng 16,02% so cùng kỳ").
    pub fn change_on_previous(&self) -> Option<Decimal> {
        let now = self.current_figure()?;
        let before = self.previous_figure?;
        if self.definition.measure.is_rate() || self.definition.measure == Measure::Milestone {
            return now.checked_sub(before).map(chitieu_domain::number::round2);
        }
        if before.is_zero() {
            return None;
        }
        now.checked_div(before)
            .and_then(|r| r.checked_sub(Decimal::ONE))
            .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED))
            .map(chitieu_domain::number::round2)
    }
}

/// Builds a view by folding a stream's events, optionally stopping after a
/// log position (transaction-time travel).
pub fn fold(events: &[(RecordedEvent, Event)], until: Option<u64>) -> Option<IndicatorView> {
    let mut view: Option<IndicatorView> = None;
    let mut reports: HashMap<ReportId, ReportView> = HashMap::new();
    for (recorded, event) in events {
        if until.is_some_and(|p| recorded.position > p) {
            break;
        }
        match (event, view.as_mut()) {
            (Event::IndicatorDefined(e), _) => {
                view = Some(IndicatorView::defined(
                    e.definition.clone(),
                    Stamp::of(recorded),
                ))
            }
            (_, Some(v)) => v.apply(event, Stamp::of(recorded)),
            (_, None) => {}
        }
        if let Some((report, replaces)) = ReportView::from_event(event, &Stamp::of(recorded)) {
            if let Some(old) = replaces.and_then(|id| reports.get_mut(&id)) {
                old.replaced_by = Some(report.report.report_id);
            }
            reports.insert(report.report.report_id, report);
        }
    }
    // With every report at hand, the slots are settled by the rule itself
    // (the incremental path may have lacked an earlier report's view).
    if let Some(v) = view.as_mut() {
        v.settle(&reports);
    }
    view
}

/// Valid time: the report that counted for figures referring to dates on or
/// before `date`, from a stream's events up to `until` (transaction time):
/// among reports not replaced by then, the latest final one by the date it
/// refers to, else the latest estimate.
pub fn report_valid_at(
    events: &[(RecordedEvent, Event)],
    until: Option<u64>,
    date: NaiveDate,
) -> Option<ReportView> {
    let mut reports: HashMap<ReportId, ReportView> = HashMap::new();
    for (recorded, event) in events {
        if until.is_some_and(|p| recorded.position > p) {
            break;
        }
        let Some((view, replaces)) = ReportView::from_event(event, &Stamp::of(recorded)) else {
            continue;
        };
        if let Some(old) = replaces.and_then(|id| reports.get_mut(&id)) {
            old.replaced_by = Some(view.report.report_id);
        }
        reports.insert(view.report.report_id, view);
    }
    let live: Vec<&ReportView> = reports
        .values()
        .filter(|r| r.replaced_by.is_none())
        .collect();
    figure_that_counts(&live, |r| r.key(), Some(date)).map(|r| (*r).clone())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use chitieu_domain::event::{ActualCorrected, ActualReported, IndicatorDefined};
    use chitieu_domain::{ActualReport, ResultValue, Text};
    use proptest::prelude::*;

    /// One report: a new one (replacing the `supersedes`-th latest live
    /// one, if any) or a correction of the `corrects`-th latest live one:
    /// mostly the latest, which a view keeps, so that the ones it let go
    /// are needed.
    #[derive(Debug, Clone)]
    enum Step {
        Report {
            final_: bool,
            day: u32,
            supersedes: Option<usize>,
        },
        Correct {
            final_: bool,
            day: u32,
            corrects: usize,
        },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            2 => (any::<bool>(), 1..5u32, proptest::option::weighted(0.2, 0..8usize))
                .prop_map(|(final_, day, supersedes)| Step::Report { final_, day, supersedes }),
            1 => (any::<bool>(), 1..5u32, 0..6usize)
                .prop_map(|(final_, day, corrects)| Step::Correct { final_, day, corrects }),
        ]
    }

    fn recorded(position: u64) -> RecordedEvent {
        RecordedEvent {
            position,
            version: position,
            event_id: uuid::Uuid::nil(),
            stream: chitieu_domain::StreamId::indicator(id()).into(),
            recorded_at: DateTime::<Utc>::UNIX_EPOCH,
            actor: chitieu_store::Actor {
                id: "reporter".into(),
                name: "Reporter".into(),
                role: "reporter".into(),
            },
            correlation_id: uuid::Uuid::nil(),
            causation_id: None,
            event_type: String::new(),
            schema_version: 1,
            payload: Vec::new(),
            prev_hash: [0; 32],
            hash: [0; 32],
        }
    }

    fn id() -> chitieu_domain::IndicatorId {
        chitieu_domain::IndicatorId(uuid::Uuid::from_u128(1))
    }

    fn defined() -> Event {
        let definition = serde_json::json!({
            "id": id(), "org_unit": "LA", "period": "2025", "category": "economy",
            "code": "1", "name": "Thu ngân sách", "unit": "tỷ đồng", "measure": "amount",
            "parent": null, "previous": null, "document": null
        });
        Event::IndicatorDefined(IndicatorDefined {
            definition: serde_json::from_value(definition).unwrap(),
        })
    }

    /// Applies `steps` to a view as the projector does (folding the stream
    /// again when the view asks for it) and checks, after each, that it
    /// holds the figures a fold of every report holds, and no more than a
    /// few live reports.
    fn check(steps: Vec<Step>) {
        let mut events = vec![(recorded(1), defined())];
        let mut view = IndicatorView::defined(
            match &events[0].1 {
                Event::IndicatorDefined(e) => e.definition.clone(),
                _ => unreachable!(),
            },
            Stamp::of(&events[0].0),
        );
        // Live reports with their keys, the latest first.
        let mut live: Vec<(NaiveDate, u64, ReportId)> = Vec::new();
        for (n, step) in steps.into_iter().enumerate() {
            let position = n as u64 + 2;
            let new = ReportId(uuid::Uuid::from_u128(position as u128));
            let report = |final_: bool, day: u32| ActualReport {
                report_id: new,
                value: ResultValue::Amount {
                    value: Decimal::from(position),
                },
                refers_to: NaiveDate::from_ymd_opt(2025, 12, day).unwrap(),
                status: if final_ {
                    ResultStatus::Final
                } else {
                    ResultStatus::Estimate
                },
                source: None,
                note: None,
                stated: None,
            };
            let event = match step {
                Step::Report {
                    final_,
                    day,
                    supersedes,
                } => {
                    let supersedes = supersedes
                        .and_then(|i| live.get(i % live.len().max(1)))
                        .map(|l| l.2);
                    live.retain(|l| Some(l.2) != supersedes);
                    Event::ActualReported(ActualReported {
                        indicator: id(),
                        report: report(final_, day),
                        supersedes,
                        reason: None,
                    })
                }
                Step::Correct {
                    final_,
                    day,
                    corrects,
                } => {
                    let Some(corrects) = live.get(corrects % live.len().max(1)).map(|l| l.2) else {
                        continue;
                    };
                    live.retain(|l| l.2 != corrects);
                    Event::ActualCorrected(ActualCorrected {
                        indicator: id(),
                        corrects,
                        report: report(final_, day),
                        reason: Text::parse("Sai số liệu").unwrap(),
                    })
                }
            };
            let day = match &event {
                Event::ActualReported(e) => e.report.refers_to,
                Event::ActualCorrected(e) => e.report.refers_to,
                _ => unreachable!(),
            };
            live.push((day, position, new));
            live.sort_by(|a, b| b.cmp(a));
            events.push((recorded(position), event));
            let (at, event) = events.last().unwrap();
            view.apply(event, Stamp::of(at));
            if view.needs_refold {
                // As the projector does.
                view = fold(&events, Some(position)).unwrap();
            }
            let all = fold(&events, None).unwrap();
            assert_eq!(&view.latest_final, &all.latest_final);
            assert_eq!(&view.latest_estimate, &all.latest_estimate);
            assert!(view.live.len() <= 2 * LIVE_KEPT);
            assert!(!view.needs_refold);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// Whatever reports, supersessions and corrections come, a view
        /// that keeps a few live reports of each status holds the figures
        /// of all.
        #[test]
        fn a_view_that_keeps_a_few_live_reports_holds_the_figures_of_all(
            steps in proptest::collection::vec(step(), 1..60)
        ) {
            check(steps);
        }
    }

    /// The latest estimate let go counts again when the only one kept, the
    /// one that counts, is corrected to an earlier date: the others kept
    /// were corrected into final figures before.
    #[test]
    fn a_report_let_go_counts_again_when_the_one_kept_is_corrected_back() {
        let estimate = |day| Step::Report {
            final_: false,
            day,
            supersedes: None,
        };
        // Day 4 four times, then day 3, which the view lets go.
        let mut steps = vec![
            estimate(4),
            estimate(4),
            estimate(4),
            estimate(4),
            estimate(3),
        ];
        // The second latest live one each time (a day-4 estimate) becomes
        // a final figure, then the latest (the day-4 estimate that counts)
        // an estimate of day 1: the day-3 one counts.
        let correct = |final_, corrects| Step::Correct {
            final_,
            day: 1,
            corrects,
        };
        steps.extend([
            correct(true, 1),
            correct(true, 1),
            correct(true, 1),
            correct(false, 0),
        ]);
        check(steps);
    }
}
