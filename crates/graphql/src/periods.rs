//! Reporting periods in the API: their state, steps and approvals, the
//! check of an approval against the log, and the inputs of the lifecycle
//! mutations (`submitPeriod`, `approvePeriod`, `lockPeriod`,
//! `unlockPeriod`, resolved in [`crate::mutation`]).

use crate::error::{ApiError, ApiResult};
use crate::mutation::WriteGuard;
use crate::types::{Actor, Document, HistoryEntry, Indicator};
use crate::App;
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, SimpleObject, ID};
use chitieu_domain::{self as domain, approval, ApprovalId, ReportingPeriod};
use chitieu_projector::{ApprovalView, PeriodStep, PeriodView};
use chitieu_service::ServiceError;
use chrono::{DateTime, Utc};

/// Tình trạng kỳ báo cáo: where a reporting period stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PeriodStatus {
    /// Đang mở: figures may be written.
    Open,
    /// Đã trình duyệt: submitted for approval; figures may still be written.
    Submitted,
    /// Đã phê duyệt: frozen, bound to the approval's digest.
    Approved,
    /// Đã khóa sổ: locked after approval, frozen.
    Locked,
}

impl From<domain::PeriodStatus> for PeriodStatus {
    fn from(s: domain::PeriodStatus) -> Self {
        match s {
            domain::PeriodStatus::Open => PeriodStatus::Open,
            domain::PeriodStatus::Submitted => PeriodStatus::Submitted,
            domain::PeriodStatus::Approved => PeriodStatus::Approved,
            domain::PeriodStatus::Locked => PeriodStatus::Locked,
        }
    }
}

pub(crate) fn parse_reporting_period(raw: &str) -> ApiResult<ReportingPeriod> {
    ReportingPeriod::parse(raw).map_err(|e| ApiError::invalid(&e))
}

pub(crate) fn parse_approval_id(id: &ID) -> ApiResult<ApprovalId> {
    uuid::Uuid::parse_str(id.as_str())
        .map(ApprovalId)
        .map_err(|_| {
            ApiError::validation(
                format!("`{}` is not an approval id", id.as_str()),
                format!("`{}` không phải là mã của một phê duyệt", id.as_str()),
            )
        })
}

/// A reporting period of an org unit: the year (`2022`), a half
/// (`2022-H1`, "6 tháng đầu năm"), a quarter (`2022-Q3`) or a term
/// (`2020-2025`).
pub struct ReportingPeriodState(pub PeriodView);

#[Object(name = "ReportingPeriod")]
impl ReportingPeriodState {
    /// The org unit's code.
    async fn org_unit(&self) -> String {
        self.0.unit.to_string()
    }
    /// The period, as written in the API.
    async fn period(&self) -> String {
        self.0.period.to_string()
    }
    /// First day.
    async fn starts_on(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.0.period.range().0)
    }
    /// Last day.
    async fn ends_on(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.0.period.range().1)
    }
    /// Where it stands.
    async fn status(&self) -> PeriodStatus {
        self.0.status.into()
    }
    /// Whether writes into its figures are refused (`PERIOD_LOCKED`).
    async fn frozen(&self) -> bool {
        self.0.status.is_frozen()
    }
    /// Every step of its lifecycle, oldest first.
    async fn steps(&self) -> Vec<PeriodStepEntry> {
        self.0.steps.iter().cloned().map(PeriodStepEntry).collect()
    }
    /// Every approval, oldest first.
    async fn approvals(&self) -> Vec<Approval> {
        self.0.approvals.iter().cloned().map(Approval).collect()
    }
    /// The approval in force (the last one, unless unlocked since).
    async fn current_approval(&self) -> Option<Approval> {
        self.0
            .approvals
            .last()
            .filter(|a| !a.unlocked_after)
            .cloned()
            .map(Approval)
    }
}

/// One step of a period's lifecycle.
pub struct PeriodStepEntry(pub PeriodStep);

#[Object(name = "PeriodStep")]
impl PeriodStepEntry {
    /// `submitted`, `approved`, `locked` or `unlocked`.
    async fn kind(&self) -> &str {
        self.0.kind
    }
    /// Log position.
    async fn position(&self) -> u64 {
        self.0.at.position
    }
    /// When it was recorded.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.at.recorded_at
    }
    /// Who, under which role.
    async fn actor(&self) -> Actor {
        self.0.actor.clone().into()
    }
    /// The document cited.
    async fn document(&self, ctx: &Context<'_>) -> ApiResult<Option<Document>> {
        document(ctx, self.0.document)
    }
    /// The reason (an unlock) or the note (a submission).
    async fn reason(&self) -> Option<&str> {
        self.0.text.as_deref()
    }
    /// The approval given, for an `approved` step.
    async fn approval_id(&self) -> Option<ID> {
        self.0.approval.map(|a| ID(a.to_string()))
    }
}

fn document(ctx: &Context<'_>, id: Option<domain::DocumentId>) -> ApiResult<Option<Document>> {
    match id {
        Some(d) => Ok(ctx.data_unchecked::<App>().read.document(d)?.map(Document)),
        None => Ok(None),
    }
}

/// An approval: what the approver approved, bound to a digest of the
/// figures (format `chitieu.approval.v1`, documented in ARCHITECTURE.md).
pub struct Approval(pub ApprovalView);

#[Object]
impl Approval {
    /// Its id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The org unit's code.
    async fn org_unit(&self) -> String {
        self.0.unit.to_string()
    }
    /// The period.
    async fn period(&self) -> String {
        self.0.period.to_string()
    }
    /// SHA-256 of the canonical serialisation of the figures, hex.
    async fn digest(&self) -> &str {
        &self.0.digest
    }
    /// The log position the figures were read at.
    async fn as_of_position(&self) -> u64 {
        self.0.as_of
    }
    /// The log position of the approval itself.
    async fn position(&self) -> u64 {
        self.0.approved.position
    }
    /// When it was recorded.
    async fn approved_at(&self) -> DateTime<Utc> {
        self.0.approved.recorded_at
    }
    /// The approver.
    async fn approver(&self) -> Actor {
        self.0.approver.clone().into()
    }
    /// The approving document (number, date).
    async fn document(&self, ctx: &Context<'_>) -> ApiResult<Option<Document>> {
        document(ctx, Some(self.0.document))
    }
    /// How many indicators it binds.
    async fn indicator_count(&self) -> usize {
        self.0.indicators.len()
    }
    /// Whether the period was unlocked after it.
    async fn unlocked_after(&self) -> bool {
        self.0.unlocked_after
    }
}

/// An indicator whose figures differ from those approved.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ChangedIndicator {
    /// Its id.
    pub indicator_id: ID,
    /// Its digest in the approval (`null`: it had no figures then).
    pub approved_digest: Option<String>,
    /// Its digest now (`null`: it has no figures in the period now).
    pub current_digest: Option<String>,
    /// The events recorded after the approval that touch its figures of
    /// the period.
    pub events: Vec<HistoryEntry>,
    /// The indicator (resolved by `indicator`).
    #[graphql(skip)]
    pub id: domain::IndicatorId,
}

#[ComplexObject]
impl ChangedIndicator {
    /// The indicator as it stands.
    async fn indicator(&self, ctx: &Context<'_>) -> ApiResult<Option<Indicator>> {
        let read = &ctx.data_unchecked::<App>().read;
        Ok(read.indicator_shared(self.id)?.map(Indicator))
    }
}

/// Whether the figures are still those approved.
#[derive(SimpleObject)]
pub struct ApprovalCheck {
    /// The approval.
    pub approval: Approval,
    /// Whether every figure is as approved.
    pub intact: bool,
    /// The digest the approval recorded.
    pub approved_digest: String,
    /// The digest of the same figures now, recomputed from the log.
    pub current_digest: String,
    /// The log position checked at.
    pub checked_at: u64,
    /// The indicators whose figures changed, with the events that changed them.
    pub changed: Vec<ChangedIndicator>,
}

/// Recomputes an approval's digest from the log as it is now.
pub(crate) fn verify(ctx: &Context<'_>, id: ApprovalId) -> ApiResult<Option<ApprovalCheck>> {
    let app = ctx.data_unchecked::<App>();
    let Some(view) = app.read.approval(id)? else {
        return Ok(None);
    };
    let (unit, period) = (view.unit.clone(), view.period);
    let (sections, checked_at) = sections_now(app, &unit, period)?;
    let (current_digest, now) = approval::digest(&unit, period, &sections);
    let mut changed = Vec::new();
    for c in approval::changed(&view.indicators, &now) {
        let events = app
            .read
            .changes_in_period(c.indicator, period, view.approved.position)?
            .into_iter()
            .map(HistoryEntry::from)
            .collect();
        changed.push(ChangedIndicator {
            indicator_id: ID(c.indicator.to_string()),
            approved_digest: c.approved,
            current_digest: c.now,
            events,
            id: c.indicator,
        });
    }
    Ok(Some(ApprovalCheck {
        intact: current_digest == view.digest,
        approved_digest: view.digest.clone(),
        current_digest,
        checked_at,
        changed,
        approval: Approval(view),
    }))
}

/// Submit a reporting period for approval.
#[derive(InputObject)]
pub struct SubmitPeriodInput {
    /// The org unit's code.
    pub org_unit: ID,
    /// The period (`2022`, `2022-H1`, `2022-Q3`, `2020-2025`).
    pub period: String,
    /// A note to the approver.
    pub note: Option<String>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Approve a submitted period.
#[derive(InputObject)]
pub struct ApprovePeriodInput {
    /// The org unit's code.
    pub org_unit: ID,
    /// The period.
    pub period: String,
    /// The approving document (registered).
    pub document: ID,
    /// The digest the approver reviewed (from `periodDigest`); when given,
    /// the approval is refused unless the figures still have it.
    pub expected_digest: Option<String>,
    /// Identity of the approval (generated when absent).
    pub approval_id: Option<ID>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Lock an approved period.
#[derive(InputObject)]
pub struct LockPeriodInput {
    /// The org unit's code.
    pub org_unit: ID,
    /// The period.
    pub period: String,
    /// The deciding document.
    pub document: Option<ID>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Open a frozen period again.
#[derive(InputObject)]
pub struct UnlockPeriodInput {
    /// The org unit's code.
    pub org_unit: ID,
    /// The period.
    pub period: String,
    /// Why; required.
    pub reason: String,
    /// The document that allows it; required.
    pub document: ID,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// A period after a lifecycle step.
#[derive(SimpleObject)]
pub struct PeriodPayload {
    /// The period as it stands.
    pub period: ReportingPeriodState,
    /// Log position of the step.
    pub position: u64,
    /// Whether this was a replay.
    pub replayed: bool,
}

/// The digest the figures of a period have now, for an approver to
/// review and pass back as `expectedDigest`.
#[derive(SimpleObject)]
pub struct PeriodDigest {
    /// SHA-256 of the canonical serialisation, hex.
    pub digest: String,
    /// The canonical serialisation itself (format `chitieu.approval.v1`).
    pub canonical: String,
    /// The log position it was computed at.
    pub position: u64,
}

/// The approval sections of a unit's period as the figures stand, and the
/// log position they stand at (every indicator of the unit's figures
/// loaded first).
fn sections_now(
    app: &App,
    unit: &domain::OrgUnitCode,
    period: ReportingPeriod,
) -> ApiResult<(Vec<approval::Section>, u64)> {
    let (sections, position) = app
        .service
        .with_figures(
            |state| state.indicators_of(unit).collect(),
            |state| (approval::sections(state, unit, period), state.position),
        )
        .map_err(ApiError::from)?;
    let sections = sections.map_err(|e| ApiError::from(ServiceError::Domain(e)))?;
    Ok((sections, position))
}

/// The digest of a period's figures as they stand.
pub(crate) fn current_digest(
    ctx: &Context<'_>,
    unit: &domain::OrgUnitCode,
    period: ReportingPeriod,
) -> ApiResult<PeriodDigest> {
    let app = ctx.data_unchecked::<App>();
    let (sections, position) = sections_now(app, unit, period)?;
    let document = approval::document(unit, period, &sections);
    Ok(PeriodDigest {
        digest: approval::hash(&document),
        canonical: approval::canonical_json(&document),
        position,
    })
}
