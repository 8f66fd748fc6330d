//! [`DomainError`]: every way a command can be refused.

use crate::actual::{ReportId, ResultValueError};
use crate::document::DocumentId;
use crate::indicator::{IndicatorId, Period};
use crate::org_unit::{OrgUnitCode, OrgUnitLevel};
use crate::period::{PeriodStatus, ReportingPeriod};
use crate::principal::{PrincipalId, TokenId};
use crate::target::{TargetError, TargetTrack};

/// A command refused by a business rule. Nothing is written when one is
/// returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The org unit code is taken.
    #[error("org unit {0} is already registered")]
    OrgUnitAlreadyRegistered(OrgUnitCode),
    /// No such org unit.
    #[error("org unit {0} is not registered")]
    UnknownOrgUnit(OrgUnitCode),
    /// The state a decision ran on did not hold the indicator's figures:
    /// a defect of whoever held the state, not of the command (see
    /// [`crate::DomainState::figures_needed`]); nothing is written.
    #[error("the figures of indicator {0} were not loaded for this decision")]
    FiguresNotLoaded(IndicatorId),
    /// The parent does not rank above the child (a commune under a hamlet).
    #[error("a {child:?} cannot belong to a {parent:?}")]
    ParentLevelNotAbove {
        /// The parent's level.
        parent: OrgUnitLevel,
        /// The child's level.
        child: OrgUnitLevel,
    },
    /// Only a province stands without a parent.
    #[error("a {0:?} must belong to a parent org unit")]
    ParentRequired(OrgUnitLevel),
    /// The unit already ceased.
    #[error("org unit {0} has already been succeeded")]
    OrgUnitAlreadySucceeded(OrgUnitCode),
    /// A succession without successors, or naming the unit itself.
    #[error("a succession must name at least one other registered org unit")]
    InvalidSuccessors,
    /// A move would put a unit under itself or one of its own units.
    #[error("org unit {0} cannot move under itself or a unit below it")]
    MoveUnderItself(OrgUnitCode),
    /// A move dated on or before the unit's last move.
    #[error("a move must take effect after the unit's last move, on {0}")]
    MoveOutOfOrder(chrono::NaiveDate),
    /// The document id is taken.
    #[error("document {0} is already registered")]
    DocumentAlreadyRegistered(DocumentId),
    /// No such document.
    #[error("document {0} is not registered")]
    UnknownDocument(DocumentId),
    /// The indicator id is taken.
    #[error("indicator {0} is already defined")]
    IndicatorAlreadyDefined(IndicatorId),
    /// No such indicator.
    #[error("indicator {0} is not defined")]
    UnknownIndicator(IndicatorId),
    /// The indicator is retired.
    #[error("indicator {0} is retired")]
    IndicatorRetired(IndicatorId),
    /// The indicator already has that direction.
    #[error("the indicator is already judged with {0:?} as better")]
    DirectionUnchanged(crate::direction::Better),
    /// The parent indicator is of another period, or of an org unit that is
    /// not the child's own unit or one of its ancestors.
    #[error(
        "parent indicator {0} must be of the same period and of the same org unit or an ancestor"
    )]
    ParentIndicatorMismatch(IndicatorId),
    /// The previous-period link points to a period that does not end earlier.
    #[error("indicator {previous} of period {previous_period} does not precede period {period}")]
    PreviousPeriodMismatch {
        /// The linked indicator.
        previous: IndicatorId,
        /// Its period.
        previous_period: Period,
        /// The new indicator's period.
        period: Period,
    },
    /// The target's figures do not fit the indicator.
    #[error("invalid target: {0}")]
    InvalidTarget(#[from] TargetError),
    /// A comparison with a period that is not earlier.
    #[error("a target relative to period {compared} must compare with a period before {period}")]
    ComparedPeriodNotEarlier {
        /// The period compared with.
        compared: Period,
        /// The indicator's period.
        period: Period,
    },
    /// The track already has a target: revise it instead.
    #[error("track {0:?} already has a target; revise it with a reason and a document")]
    TargetAlreadySet(TargetTrack),
    /// Nothing to revise on the track.
    #[error("track {0:?} has no target to revise")]
    NoTargetOnTrack(TargetTrack),
    /// A revision or correction without a reason.
    #[error("a reason is required")]
    ReasonRequired,
    /// A revision citing the document of the target it revises.
    #[error("a revision must cite the document that authorises it, not {0} which set the current target")]
    RevisionNeedsNewDocument(DocumentId),
    /// A restatement of a target without its wording.
    #[error("a restatement of a target needs its wording in the document")]
    RestatementNeedsWording,
    /// The command would change nothing.
    #[error("nothing changes: the new value equals the current one")]
    NoChange,
    /// The value does not fit the indicator.
    #[error("invalid result: {0}")]
    InvalidResult(#[from] ResultValueError),
    /// The report id is taken.
    #[error("report {0} already exists")]
    ReportAlreadyExists(ReportId),
    /// No such report on this indicator.
    #[error("report {0} does not exist on this indicator")]
    UnknownReport(ReportId),
    /// The report was already replaced.
    #[error("report {report} was already replaced by {by}")]
    ReportAlreadyReplaced {
        /// The report.
        report: ReportId,
        /// Its replacement.
        by: ReportId,
    },
    /// The principal id is taken.
    #[error("principal {0} already exists")]
    PrincipalAlreadyExists(PrincipalId),
    /// No such principal.
    #[error("principal {0} does not exist")]
    UnknownPrincipal(PrincipalId),
    /// The principal is disabled.
    #[error("principal {0} is disabled")]
    PrincipalDisabled(PrincipalId),
    /// The grant is already held.
    #[error("{0} already holds this grant")]
    GrantAlreadyHeld(PrincipalId),
    /// The grant is not held.
    #[error("{0} does not hold this grant")]
    GrantNotHeld(PrincipalId),
    /// The token id or digest was used before.
    #[error("token {0:?} was issued before")]
    TokenAlreadyIssued(TokenId),
    /// No such token of this principal.
    #[error("token {0:?} was not issued to this principal")]
    UnknownToken(TokenId),
    /// The token is already revoked.
    #[error("token {0:?} is already revoked")]
    TokenAlreadyRevoked(TokenId),
    /// A digest that is not 64 hex digits.
    #[error("a token digest is 64 lowercase hex digits")]
    InvalidDigest,
    /// A final figure is superseded only with a reason.
    #[error("report {0} is final: superseding it needs a reason (or correct it with correctActual and a reason)")]
    SupersedesFinal(ReportId),
    /// A second final figure for the same date that does not say which
    /// figure it replaces.
    #[error("a final figure ({existing}) is already recorded for {refers_to}: to replace it, send `supersedes: \"{existing}\"` with a reason, or correct it with correctActual")]
    FinalAlreadyReported {
        /// The live final figure for that date.
        existing: ReportId,
        /// The date.
        refers_to: chrono::NaiveDate,
    },
    /// A final figure that cites neither a source document nor a reason.
    #[error("a final figure must cite its source document (`source`) or give a reason")]
    FinalNeedsSourceOrReason,
    /// A write into a reporting period that is approved or locked.
    #[error("period {period} of {unit} is {}: unlock it (approver, with a reason and a document) before changing its figures", .status.as_str())]
    PeriodLocked {
        /// The org unit.
        unit: OrgUnitCode,
        /// The frozen period.
        period: ReportingPeriod,
        /// Approved or locked.
        status: PeriodStatus,
    },
    /// A lifecycle step the period's status does not allow.
    #[error("period {period} of {unit} is {}; {action} needs it {needs}", .status.as_str())]
    PeriodTransition {
        /// The org unit.
        unit: OrgUnitCode,
        /// The period.
        period: ReportingPeriod,
        /// Where it stands.
        status: PeriodStatus,
        /// What was asked.
        action: &'static str,
        /// What it needs.
        needs: &'static str,
    },
    /// The figures no longer have the digest the approver reviewed.
    #[error(
        "the figures changed since they were reviewed: their digest is {actual}, not {expected}"
    )]
    ApprovalDigestMismatch {
        /// The digest reviewed.
        expected: String,
        /// The digest now.
        actual: String,
    },
    /// The approval id is taken.
    #[error("approval {0} already exists")]
    ApprovalAlreadyExists(crate::period::ApprovalId),
    /// A command that needs a document and got none.
    #[error("a document is required")]
    DocumentRequired,
}

impl DomainError {
    /// Whether the refusal is a defect of the state's holder rather than
    /// of the command ([`DomainError::FiguresNotLoaded`]): the API's
    /// `INTERNAL`, not a broken rule.
    pub fn is_internal(&self) -> bool {
        matches!(self, DomainError::FiguresNotLoaded(_))
    }

    /// Whether the command names something that does not exist (an org
    /// unit, document, indicator, report, principal or token): the API's
    /// `NOT_FOUND` rather than a broken rule.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            DomainError::UnknownOrgUnit(_)
                | DomainError::UnknownDocument(_)
                | DomainError::UnknownIndicator(_)
                | DomainError::UnknownReport(_)
                | DomainError::UnknownPrincipal(_)
                | DomainError::UnknownToken(_)
        )
    }

    /// Whether the command would change a frozen period: the API's
    /// `PERIOD_LOCKED`.
    pub fn is_period_locked(&self) -> bool {
        matches!(self, DomainError::PeriodLocked { .. })
    }
}
