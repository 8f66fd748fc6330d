//! Reporting periods as clients and auditors see them: each period's
//! status, every step of its lifecycle (who, when, on what document, why)
//! and every approval with its digest. Folded from the unit's
//! `periods/<unit>` stream in the log (a handful of events per period);
//! the projector keeps only an index from approval id to org unit.

use crate::keys;
use crate::query::ReadModel;
use crate::view::Stamp;
use crate::ProjectionError;
use chitieu_domain::{
    ApprovalId, DocumentId, Event, IndicatorDigest, OrgUnitCode, PeriodStatus, ReportingPeriod,
    StreamId,
};
use chitieu_store::{Actor, RecordedEvent};
use std::collections::BTreeMap;

/// One step of a period's lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodStep {
    /// `submitted`, `approved`, `locked` or `unlocked`.
    pub kind: &'static str,
    /// Where and when.
    pub at: Stamp,
    /// Who, under which role.
    pub actor: Actor,
    /// The document cited.
    pub document: Option<DocumentId>,
    /// The reason (unlock) or note (submission).
    pub text: Option<String>,
    /// The approval given (approved steps).
    pub approval: Option<ApprovalId>,
}

/// One approval of a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalView {
    /// Its id.
    pub id: ApprovalId,
    /// The org unit.
    pub unit: OrgUnitCode,
    /// The period.
    pub period: ReportingPeriod,
    /// The approving document.
    pub document: DocumentId,
    /// SHA-256 of the canonical serialisation of the figures, hex.
    pub digest: String,
    /// The log position the figures were read at.
    pub as_of: u64,
    /// Each indicator's digest.
    pub indicators: Vec<IndicatorDigest>,
    /// When, and the log position of the approval itself.
    pub approved: Stamp,
    /// The approver.
    pub approver: Actor,
    /// Whether the period was unlocked after it (a later approval, if
    /// any, stands instead).
    pub unlocked_after: bool,
}

/// One reporting period of one org unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodView {
    /// The org unit.
    pub unit: OrgUnitCode,
    /// The period.
    pub period: ReportingPeriod,
    /// Where it stands.
    pub status: PeriodStatus,
    /// Every step, oldest first.
    pub steps: Vec<PeriodStep>,
    /// Every approval, oldest first.
    pub approvals: Vec<ApprovalView>,
}

impl PeriodView {
    /// A period that never left the open state.
    pub fn open(unit: OrgUnitCode, period: ReportingPeriod) -> Self {
        PeriodView {
            unit,
            period,
            status: PeriodStatus::Open,
            steps: Vec::new(),
            approvals: Vec::new(),
        }
    }
}

/// Folds a unit's periods stream.
pub fn fold_periods(
    unit: &OrgUnitCode,
    events: &[(RecordedEvent, Event)],
) -> BTreeMap<ReportingPeriod, PeriodView> {
    let mut out: BTreeMap<ReportingPeriod, PeriodView> = BTreeMap::new();
    for (recorded, event) in events {
        let (period, status, kind, document, text, approval) = match event {
            Event::PeriodSubmitted(e) => (
                e.period,
                PeriodStatus::Submitted,
                "submitted",
                None,
                e.note.as_ref().map(|n| n.to_string()),
                None,
            ),
            Event::PeriodApproved(e) => (
                e.period,
                PeriodStatus::Approved,
                "approved",
                Some(e.document),
                None,
                Some(e.approval),
            ),
            Event::PeriodLocked(e) => (
                e.period,
                PeriodStatus::Locked,
                "locked",
                e.document,
                None,
                None,
            ),
            Event::PeriodUnlocked(e) => (
                e.period,
                PeriodStatus::Open,
                "unlocked",
                Some(e.document),
                Some(e.reason.to_string()),
                None,
            ),
            _ => continue,
        };
        let view = out
            .entry(period)
            .or_insert_with(|| PeriodView::open(unit.clone(), period));
        view.status = status;
        let at = Stamp::of(recorded);
        if let Event::PeriodApproved(e) = event {
            view.approvals.push(ApprovalView {
                id: e.approval,
                unit: unit.clone(),
                period,
                document: e.document,
                digest: e.digest.clone(),
                as_of: e.as_of,
                indicators: e.indicators.clone(),
                approved: at.clone(),
                approver: recorded.actor.clone(),
                unlocked_after: false,
            });
        }
        if let Event::PeriodUnlocked(_) = event {
            if let Some(last) = view.approvals.last_mut() {
                last.unlocked_after = true;
            }
        }
        view.steps.push(PeriodStep {
            kind,
            at,
            actor: recorded.actor.clone(),
            document,
            text,
            approval,
        });
    }
    out
}

impl ReadModel {
    /// Every period of `unit` that ever left the open state.
    pub fn periods(
        &self,
        unit: &OrgUnitCode,
    ) -> Result<BTreeMap<ReportingPeriod, PeriodView>, ProjectionError> {
        let events = self.decoded_stream(&StreamId::periods(unit))?;
        Ok(fold_periods(unit, &events))
    }

    /// One period of `unit` (open when it never moved).
    pub fn period(
        &self,
        unit: &OrgUnitCode,
        period: ReportingPeriod,
    ) -> Result<PeriodView, ProjectionError> {
        Ok(self
            .periods(unit)?
            .remove(&period)
            .unwrap_or_else(|| PeriodView::open(unit.clone(), period)))
    }

    /// The history entries of an indicator recorded after `position` that
    /// touch the figures of `period` (what an approval check lists as the
    /// events that changed it): a target when the indicator's period lies
    /// inside it, a figure dated inside it, or one replacing such a figure.
    pub fn changes_in_period(
        &self,
        id: chitieu_domain::IndicatorId,
        period: ReportingPeriod,
        position: u64,
    ) -> Result<Vec<crate::HistoryEntry>, ProjectionError> {
        let mut dates = std::collections::HashMap::new();
        let mut covers = false;
        let mut touching = std::collections::BTreeSet::new();
        for (recorded, event) in self.stream(id)? {
            let touches = match &event {
                Event::IndicatorDefined(e) => {
                    covers = period.covers(e.definition.period);
                    false
                }
                Event::TargetSet(_) | Event::TargetRevised(_) => covers,
                Event::ActualReported(e) => {
                    dates.insert(e.report.report_id, e.report.refers_to);
                    period.contains(e.report.refers_to)
                        || e.supersedes
                            .and_then(|r| dates.get(&r))
                            .is_some_and(|d| period.contains(*d))
                }
                Event::ActualCorrected(e) => {
                    dates.insert(e.report.report_id, e.report.refers_to);
                    period.contains(e.report.refers_to)
                        || dates.get(&e.corrects).is_some_and(|d| period.contains(*d))
                }
                _ => false,
            };
            if touches && recorded.position > position {
                touching.insert(recorded.position);
            }
        }
        Ok(self
            .history(id)?
            .iter()
            .filter(|h| touching.contains(&h.position))
            .cloned()
            .collect())
    }

    /// An approval by its id.
    pub fn approval(&self, id: ApprovalId) -> Result<Option<ApprovalView>, ProjectionError> {
        let Some(unit) = self.projector().tree().get(keys::approval(id.0))? else {
            return Ok(None);
        };
        let Ok(unit) = OrgUnitCode::parse(&String::from_utf8_lossy(&unit)) else {
            return Ok(None);
        };
        Ok(self
            .periods(&unit)?
            .into_values()
            .flat_map(|p| p.approvals)
            .find(|a| a.id == id))
    }
}
