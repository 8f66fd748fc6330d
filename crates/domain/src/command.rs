//! Commands: what planning offices, communes and administrators ask for.
//! Each is already parsed into value types; [`crate::decide`] judges it.

use crate::actual::{ActualReport, ReportId};
use crate::document::{Document, DocumentId};
use crate::event::StreamId;
use crate::indicator::{IndicatorDefinition, IndicatorId};
use crate::org_unit::{OrgUnit, OrgUnitCode};
use crate::period::{ApprovalId, ReportingPeriod};
use crate::principal::{Grant, PrincipalId, TokenId};
use crate::target::{Target, TargetTrack};
use crate::text::Reason;
use chrono::NaiveDate;

/// Every change that can be asked of the system. Serialisable so that a
/// command can be fingerprinted (idempotent retries) and logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Register an org unit under its parent.
    RegisterOrgUnit(OrgUnit),
    /// Record that an org unit ceased and who took over.
    RecordSuccession {
        /// The unit that ceased.
        unit: OrgUnitCode,
        /// The units that took over.
        successors: Vec<OrgUnitCode>,
        /// When.
        effective: NaiveDate,
        /// The deciding document.
        document: Option<DocumentId>,
    },
    /// Move an org unit under another parent from a date (admin): its
    /// code, history and figures stay; its parent before the date stays
    /// readable (`parent(on:)`).
    MoveOrgUnit {
        /// The unit.
        unit: OrgUnitCode,
        /// Its parent from `effective` on.
        parent: OrgUnitCode,
        /// The day it moved.
        effective: NaiveDate,
        /// The document that decided it.
        document: Option<DocumentId>,
    },
    /// Give an org unit a new name from a date.
    RenameOrgUnit {
        /// The unit.
        unit: OrgUnitCode,
        /// Its new name.
        name: crate::text::Text,
        /// When.
        effective: NaiveDate,
        /// The deciding document.
        document: Option<DocumentId>,
    },
    /// Register a document.
    RegisterDocument(Document),
    /// Define an indicator.
    DefineIndicator(IndicatorDefinition),
    /// Set the first target on a track.
    SetTarget {
        /// The indicator.
        indicator: IndicatorId,
        /// The track.
        track: TargetTrack,
        /// The target and its document.
        target: Target,
    },
    /// Replace the target on a track, citing the authorising document.
    ReviseTarget {
        /// The indicator.
        indicator: IndicatorId,
        /// The track.
        track: TargetTrack,
        /// The new target and the authorising document.
        target: Target,
        /// Why; required.
        reason: Option<Reason>,
    },
    /// Report a result, possibly replacing an estimate.
    ReportActual {
        /// The indicator.
        indicator: IndicatorId,
        /// The report.
        report: ActualReport,
        /// The figure it replaces: an estimate, or a final figure (then
        /// with a reason).
        supersedes: Option<ReportId>,
        /// Why: required to supersede a final figure, and for a final
        /// figure without a source document.
        reason: Option<Reason>,
    },
    /// Correct a reported result.
    CorrectActual {
        /// The indicator.
        indicator: IndicatorId,
        /// The report that was wrong.
        corrects: ReportId,
        /// The corrected report (a new report id).
        report: ActualReport,
        /// Why; required.
        reason: Option<Reason>,
    },
    /// Create a principal.
    CreatePrincipal {
        /// Its id.
        principal: PrincipalId,
        /// Display name.
        name: crate::text::Text,
    },
    /// Grant a role over a subtree.
    GrantRole {
        /// To whom.
        principal: PrincipalId,
        /// The grant.
        grant: Grant,
    },
    /// Take a grant back.
    RevokeGrant {
        /// From whom.
        principal: PrincipalId,
        /// The grant.
        grant: Grant,
    },
    /// Record a token issued to a principal (its digest only).
    IssueToken {
        /// To whom.
        principal: PrincipalId,
        /// The token's id.
        token: TokenId,
        /// SHA-256 of the token, hex.
        digest: String,
        /// When it stops working.
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Revoke a token.
    RevokeToken {
        /// Whose.
        principal: PrincipalId,
        /// Which.
        token: TokenId,
    },
    /// Disable a principal.
    DisablePrincipal {
        /// Who.
        principal: PrincipalId,
        /// Why; required.
        reason: Option<Reason>,
    },
    /// Retire an indicator.
    RetireIndicator {
        /// The indicator.
        indicator: IndicatorId,
        /// Why; required.
        reason: Option<Reason>,
        /// The deciding document.
        document: Option<DocumentId>,
    },
    /// Say which way is good for an indicator (over its target's kind and
    /// its name), with a reason.
    SetDirection {
        /// The indicator.
        indicator: IndicatorId,
        /// Which way is good.
        better: crate::direction::Better,
        /// Why; required.
        reason: Option<Reason>,
        /// The document that says so.
        document: Option<DocumentId>,
    },
    /// Link an indicator to its counterpart of the previous period, or
    /// change the link (then with a reason).
    LinkPreviousPeriod {
        /// The indicator.
        indicator: IndicatorId,
        /// Its counterpart of the previous period.
        previous: IndicatorId,
        /// Why; required to replace a link.
        reason: Option<Reason>,
    },
    /// Record another statement of a track's target that is not in force:
    /// the same document (or another) words it differently elsewhere
    /// ("đạt 85%" in the list, "đạt trên 85%" in the body). The target in
    /// force does not change; the findings compare the two.
    RestateTarget {
        /// The indicator.
        indicator: IndicatorId,
        /// The track.
        track: TargetTrack,
        /// The other statement: its kind and figures, its document and its
        /// wording there (required).
        statement: Target,
        /// Why it is recorded.
        reason: Option<Reason>,
    },
    /// Record an indicator as a part of another (its figures add up to
    /// the other's), or as no longer a part; replacing a parent needs a
    /// reason.
    SetIndicatorParent {
        /// The indicator.
        indicator: IndicatorId,
        /// The total it is a part of; `None` to undo.
        parent: Option<IndicatorId>,
        /// Why; required to replace or remove a parent.
        reason: Option<Reason>,
    },
    /// Submit a reporting period of an org unit for approval (planner).
    SubmitPeriod {
        /// The org unit.
        unit: OrgUnitCode,
        /// The period.
        period: ReportingPeriod,
        /// A note to the approver.
        note: Option<crate::text::Text>,
    },
    /// Approve a submitted period, binding the figures as they stand
    /// (approver).
    ApprovePeriod {
        /// The org unit.
        unit: OrgUnitCode,
        /// The period.
        period: ReportingPeriod,
        /// The new approval's id.
        approval: ApprovalId,
        /// The approving document.
        document: DocumentId,
        /// The digest the approver reviewed; when given, the approval is
        /// refused unless the figures still have it.
        expected_digest: Option<String>,
    },
    /// Lock an approved period (approver).
    LockPeriod {
        /// The org unit.
        unit: OrgUnitCode,
        /// The period.
        period: ReportingPeriod,
        /// The deciding document.
        document: Option<DocumentId>,
    },
    /// Open a frozen period again, with a reason and a document (approver).
    UnlockPeriod {
        /// The org unit.
        unit: OrgUnitCode,
        /// The period.
        period: ReportingPeriod,
        /// Why; required.
        reason: Option<Reason>,
        /// The document that allows it; required.
        document: Option<DocumentId>,
    },
}

impl Command {
    /// The stream the command writes to.
    pub fn stream_id(&self) -> StreamId {
        match self {
            Command::RegisterOrgUnit(unit) => StreamId::org_unit(&unit.code),
            Command::RecordSuccession { unit, .. }
            | Command::RenameOrgUnit { unit, .. }
            | Command::MoveOrgUnit { unit, .. } => StreamId::org_unit(unit),
            Command::RegisterDocument(doc) => StreamId::document(doc.id),
            Command::DefineIndicator(def) => StreamId::indicator(def.id),
            Command::SetTarget { indicator, .. }
            | Command::ReviseTarget { indicator, .. }
            | Command::ReportActual { indicator, .. }
            | Command::CorrectActual { indicator, .. }
            | Command::RetireIndicator { indicator, .. }
            | Command::SetDirection { indicator, .. }
            | Command::LinkPreviousPeriod { indicator, .. }
            | Command::SetIndicatorParent { indicator, .. }
            | Command::RestateTarget { indicator, .. } => StreamId::indicator(*indicator),
            Command::CreatePrincipal { principal, .. }
            | Command::GrantRole { principal, .. }
            | Command::RevokeGrant { principal, .. }
            | Command::IssueToken { principal, .. }
            | Command::RevokeToken { principal, .. }
            | Command::DisablePrincipal { principal, .. } => StreamId::principal(principal),
            Command::SubmitPeriod { unit, .. }
            | Command::ApprovePeriod { unit, .. }
            | Command::LockPeriod { unit, .. }
            | Command::UnlockPeriod { unit, .. } => StreamId::periods(unit),
        }
    }
}
