//! [`decide`] holds every business rule; [`evolve`] holds none.

use crate::actual::{ReportId, ResultStatus};
use crate::command::Command;
use crate::document::DocumentId;
use crate::error::DomainError;
use crate::event::*;
use crate::indicator::IndicatorId;
use crate::org_unit::{OrgUnitCode, OrgUnitLevel};
use crate::period::{PeriodState, PeriodStatus, ReportingPeriod};
use crate::principal::{PrincipalId, PrincipalState, TokenState};
use crate::state::{DomainState, IndicatorState, OrgUnitState, ReportState, TargetState};
use crate::target::TargetKind;

fn known_document(state: &DomainState, id: &DocumentId) -> Result<(), DomainError> {
    if state.documents.contains_key(id) {
        Ok(())
    } else {
        Err(DomainError::UnknownDocument(*id))
    }
}

fn known_optional_document(
    state: &DomainState,
    id: Option<&DocumentId>,
) -> Result<(), DomainError> {
    id.map_or(Ok(()), |id| known_document(state, id))
}

fn writable_indicator(
    state: &DomainState,
    id: IndicatorId,
) -> Result<&IndicatorState, DomainError> {
    let indicator = state
        .indicators
        .get(&id)
        .ok_or(DomainError::UnknownIndicator(id))?;
    if indicator.retired.is_some() {
        return Err(DomainError::IndicatorRetired(id));
    }
    Ok(indicator)
}

fn check_target(indicator: &IndicatorState, kind: &TargetKind) -> Result<(), DomainError> {
    kind.validate_for(indicator.definition.measure)?;
    if let TargetKind::RelativeToPeriod { period, .. } = kind {
        if !period.ends_before(indicator.definition.period) {
            return Err(DomainError::ComparedPeriodNotEarlier {
                compared: *period,
                period: indicator.definition.period,
            });
        }
    }
    Ok(())
}

fn live_report(indicator: &IndicatorState, id: ReportId) -> Result<&ReportState, DomainError> {
    let report = indicator
        .figures()?
        .reports
        .get(&id)
        .ok_or(DomainError::UnknownReport(id))?;
    match report.replaced_by {
        Some(by) => Err(DomainError::ReportAlreadyReplaced { report: id, by }),
        None => Ok(report),
    }
}

/// An org unit that is registered and has not ceased.
fn live_org_unit<'a>(
    state: &'a DomainState,
    unit: &OrgUnitCode,
) -> Result<&'a crate::state::OrgUnitState, DomainError> {
    let current = state
        .org_units
        .get(unit)
        .ok_or_else(|| DomainError::UnknownOrgUnit(unit.clone()))?;
    if current.successors.is_empty() {
        Ok(current)
    } else {
        Err(DomainError::OrgUnitAlreadySucceeded(unit.clone()))
    }
}

/// An indicator can be the previous-period counterpart of one of `period`:
/// it exists and its period ends earlier.
fn previous_fits(
    state: &DomainState,
    previous_id: IndicatorId,
    period: crate::indicator::Period,
) -> Result<(), DomainError> {
    let previous = state
        .indicators
        .get(&previous_id)
        .ok_or(DomainError::UnknownIndicator(previous_id))?;
    if previous.definition.period.ends_before(period) {
        Ok(())
    } else {
        Err(DomainError::PreviousPeriodMismatch {
            previous: previous_id,
            previous_period: previous.definition.period,
            period,
        })
    }
}

/// Refuses a write into the figures of `unit` that touches a frozen period.
fn not_frozen(
    state: &DomainState,
    unit: &OrgUnitCode,
    touches: impl Fn(ReportingPeriod) -> bool,
) -> Result<(), DomainError> {
    match state.frozen_period(unit, touches) {
        Some((period, p)) => Err(DomainError::PeriodLocked {
            unit: unit.clone(),
            period,
            status: p.status,
        }),
        None => Ok(()),
    }
}

/// A period's state (open when it never moved), checked against the
/// statuses an action needs.
fn period_in<'a>(
    state: &'a DomainState,
    unit: &OrgUnitCode,
    period: ReportingPeriod,
    action: &'static str,
    allowed: &[PeriodStatus],
    needs: &'static str,
) -> Result<Option<&'a PeriodState>, DomainError> {
    if !state.org_units.contains_key(unit) {
        return Err(DomainError::UnknownOrgUnit(unit.clone()));
    }
    let current = state.periods.get(unit).and_then(|p| p.periods.get(&period));
    let status = current.map_or(PeriodStatus::Open, |p| p.status);
    if allowed.contains(&status) {
        Ok(current)
    } else {
        Err(DomainError::PeriodTransition {
            unit: unit.clone(),
            period,
            status,
            action,
            needs,
        })
    }
}

/// The streams a decision on `command` reads besides the one it writes:
/// the log checks that none moved between the decision and the append
/// (the service adds the caller's principal stream). A write into an
/// indicator's figures reads its unit's periods (a lock in between must
/// refuse it); an approval reads every indicator of its unit (a figure
/// landing in between must not escape the digest).
pub fn read_streams(state: &DomainState, command: &Command) -> Vec<StreamId> {
    let unit_of = |id: &crate::indicator::IndicatorId| {
        state
            .indicators
            .get(id)
            .map(|i| StreamId::periods(&i.definition.org_unit))
    };
    match command {
        Command::SetTarget { indicator, .. }
        | Command::ReviseTarget { indicator, .. }
        | Command::SetDirection { indicator, .. }
        | Command::LinkPreviousPeriod { indicator, .. }
        | Command::SetIndicatorParent { indicator, .. }
        | Command::RestateTarget { indicator, .. }
        | Command::ReportActual { indicator, .. }
        | Command::CorrectActual { indicator, .. } => unit_of(indicator).into_iter().collect(),
        Command::ApprovePeriod { unit, .. } => state
            .indicators
            .values()
            .filter(|i| &i.definition.org_unit == unit)
            .map(|i| StreamId::indicator(i.definition.id))
            .collect(),
        _ => Vec::new(),
    }
}

/// The indicators whose figures ([`crate::Figures`]) a decision on
/// `command` reads: the indicator it writes, and for an approval every
/// indicator of its unit (their figures are what it approves). A holder
/// of the state that keeps figures for some indicators only loads these
/// before deciding; everything else a decision reads is always held.
pub fn figures_needed(state: &DomainState, command: &Command) -> Vec<IndicatorId> {
    match command {
        Command::ApprovePeriod { unit, .. } => state.indicators_of(unit).collect(),
        _ => match command.stream_id() {
            StreamId::Indicator(id) => vec![id],
            _ => Vec::new(),
        },
    }
}

/// A track's target in force, of an indicator that may be written and
/// whose period is not frozen (what a revision and a restatement need).
fn open_track(
    state: &DomainState,
    indicator: IndicatorId,
    track: crate::TargetTrack,
) -> Result<(&IndicatorState, &TargetState), DomainError> {
    let current = writable_indicator(state, indicator)?;
    let period = current.definition.period;
    not_frozen(state, &current.definition.org_unit, |p| p.covers(period))?;
    let on_track = current
        .figures()?
        .targets
        .get(&track)
        .ok_or(DomainError::NoTargetOnTrack(track))?;
    Ok((current, on_track))
}

/// A parent (a total) must be of the same period, of the same org unit or
/// one above it, and not the indicator itself.
fn parent_fits(
    state: &DomainState,
    parent_id: IndicatorId,
    child: &crate::indicator::IndicatorDefinition,
) -> Result<(), DomainError> {
    let parent = state
        .indicators
        .get(&parent_id)
        .ok_or(DomainError::UnknownIndicator(parent_id))?;
    let fits = parent_id != child.id
        && parent.definition.period == child.period
        && state.is_same_or_ancestor(&parent.definition.org_unit, &child.org_unit);
    if !fits {
        return Err(DomainError::ParentIndicatorMismatch(parent_id));
    }
    Ok(())
}

fn active_principal<'a>(
    state: &'a DomainState,
    id: &PrincipalId,
) -> Result<&'a PrincipalState, DomainError> {
    let principal = state
        .principals
        .get(id)
        .ok_or_else(|| DomainError::UnknownPrincipal(id.clone()))?;
    if principal.disabled.is_some() {
        return Err(DomainError::PrincipalDisabled(id.clone()));
    }
    Ok(principal)
}

/// Judges a command against the current state: the events it causes, or
/// why it is refused. Pure: the same state and command give the same answer.
pub fn decide(state: &DomainState, command: &Command) -> Result<Vec<Event>, DomainError> {
    let event = match command {
        Command::RegisterOrgUnit(unit) => {
            if state.org_units.contains_key(&unit.code) {
                return Err(DomainError::OrgUnitAlreadyRegistered(unit.code.clone()));
            }
            match &unit.parent {
                None if unit.level != OrgUnitLevel::Province => {
                    return Err(DomainError::ParentRequired(unit.level));
                }
                None => {}
                Some(parent) => {
                    let parent = state
                        .org_units
                        .get(parent)
                        .ok_or_else(|| DomainError::UnknownOrgUnit(parent.clone()))?;
                    if parent.unit.level.rank() >= unit.level.rank() {
                        return Err(DomainError::ParentLevelNotAbove {
                            parent: parent.unit.level,
                            child: unit.level,
                        });
                    }
                }
            }
            Event::OrgUnitRegistered(OrgUnitRegistered { unit: unit.clone() })
        }
        Command::RecordSuccession {
            unit,
            successors,
            effective,
            document,
        } => {
            live_org_unit(state, unit)?;
            if successors.is_empty() || successors.contains(unit) {
                return Err(DomainError::InvalidSuccessors);
            }
            if let Some(missing) = successors
                .iter()
                .find(|s| !state.org_units.contains_key(*s))
            {
                return Err(DomainError::UnknownOrgUnit(missing.clone()));
            }
            known_optional_document(state, document.as_ref())?;
            Event::OrgUnitSucceeded(OrgUnitSucceeded {
                unit: unit.clone(),
                successors: successors.clone(),
                effective: *effective,
                document: *document,
            })
        }
        Command::MoveOrgUnit {
            unit,
            parent,
            effective,
            document,
        } => {
            let current = live_org_unit(state, unit)?;
            if current.unit.parent.as_ref() == Some(parent) {
                return Err(DomainError::NoChange);
            }
            let new_parent = live_org_unit(state, parent)?;
            if new_parent.unit.level.rank() >= current.unit.level.rank() {
                return Err(DomainError::ParentLevelNotAbove {
                    parent: new_parent.unit.level,
                    child: current.unit.level,
                });
            }
            // Not under itself, and in date order with its earlier moves.
            if state.is_same_or_ancestor(unit, parent) {
                return Err(DomainError::MoveUnderItself(unit.clone()));
            }
            if let Some((_, since)) = current.former_parents.last() {
                if *effective <= *since {
                    return Err(DomainError::MoveOutOfOrder(*since));
                }
            }
            known_optional_document(state, document.as_ref())?;
            Event::OrgUnitMoved(OrgUnitMoved {
                unit: unit.clone(),
                parent: parent.clone(),
                effective: *effective,
                document: *document,
            })
        }
        Command::RenameOrgUnit {
            unit,
            name,
            effective,
            document,
        } => {
            let current = live_org_unit(state, unit)?;
            if current.unit.name == *name {
                return Err(DomainError::NoChange);
            }
            known_optional_document(state, document.as_ref())?;
            Event::OrgUnitRenamed(OrgUnitRenamed {
                unit: unit.clone(),
                name: name.clone(),
                effective: *effective,
                document: *document,
            })
        }
        Command::RegisterDocument(document) => {
            if state.documents.contains_key(&document.id) {
                return Err(DomainError::DocumentAlreadyRegistered(document.id));
            }
            if let Some(unit) = &document.org_unit {
                if !state.org_units.contains_key(unit) {
                    return Err(DomainError::UnknownOrgUnit(unit.clone()));
                }
            }
            Event::DocumentRegistered(DocumentRegistered {
                document: document.clone(),
            })
        }
        Command::DefineIndicator(definition) => {
            if state.indicators.contains_key(&definition.id) {
                return Err(DomainError::IndicatorAlreadyDefined(definition.id));
            }
            if !state.org_units.contains_key(&definition.org_unit) {
                return Err(DomainError::UnknownOrgUnit(definition.org_unit.clone()));
            }
            known_optional_document(state, definition.document.as_ref())?;
            if let Some(parent_id) = definition.parent {
                parent_fits(state, parent_id, definition)?;
            }
            if let Some(previous_id) = definition.previous {
                previous_fits(state, previous_id, definition.period)?;
            }
            Event::IndicatorDefined(IndicatorDefined {
                definition: definition.clone(),
            })
        }
        Command::SetTarget {
            indicator,
            track,
            target,
        } => {
            let current = writable_indicator(state, *indicator)?;
            let period = current.definition.period;
            not_frozen(state, &current.definition.org_unit, |p| p.covers(period))?;
            if current.figures()?.targets.contains_key(track) {
                return Err(DomainError::TargetAlreadySet(*track));
            }
            known_document(state, &target.document)?;
            check_target(current, &target.kind)?;
            Event::TargetSet(TargetSet {
                indicator: *indicator,
                track: *track,
                target: target.clone(),
            })
        }
        Command::ReviseTarget {
            indicator,
            track,
            target,
            reason,
        } => {
            let (current, on_track) = open_track(state, *indicator, *track)?;
            let reason = reason.clone().ok_or(DomainError::ReasonRequired)?;
            known_document(state, &target.document)?;
            if target.document == on_track.current.document {
                return Err(DomainError::RevisionNeedsNewDocument(target.document));
            }
            check_target(current, &target.kind)?;
            if target.kind == on_track.current.kind {
                return Err(DomainError::NoChange);
            }
            Event::TargetRevised(TargetRevised {
                indicator: *indicator,
                track: *track,
                target: target.clone(),
                reason,
            })
        }
        Command::RestateTarget {
            indicator,
            track,
            statement,
            reason,
        } => {
            let (current, on_track) = open_track(state, *indicator, *track)?;
            known_document(state, &statement.document)?;
            check_target(current, &statement.kind)?;
            if statement.wording.is_none() {
                return Err(DomainError::RestatementNeedsWording);
            }
            if *statement == on_track.current {
                return Err(DomainError::NoChange);
            }
            Event::TargetRestated(TargetRestated {
                indicator: *indicator,
                track: *track,
                statement: statement.clone(),
                reason: reason.clone(),
            })
        }
        Command::ReportActual {
            indicator,
            report,
            supersedes,
            reason,
        } => {
            let current = writable_indicator(state, *indicator)?;
            report.value.validate_for(current.definition.measure)?;
            if let Some(stated) = &report.stated {
                stated.validate()?;
            }
            known_optional_document(state, report.source.as_ref())?;
            if current.figures()?.reports.contains_key(&report.report_id) {
                return Err(DomainError::ReportAlreadyExists(report.report_id));
            }
            let old = supersedes
                .map(|old| live_report(current, old))
                .transpose()?;
            let unit = &current.definition.org_unit;
            not_frozen(state, unit, |p| {
                p.contains(report.refers_to) || old.is_some_and(|o| p.contains(o.refers_to))
            })?;
            if let (Some(old), Some(id)) = (old, supersedes) {
                if old.status == ResultStatus::Final && reason.is_none() {
                    return Err(DomainError::SupersedesFinal(*id));
                }
            }
            if report.status == ResultStatus::Final {
                if report.source.is_none() && reason.is_none() {
                    return Err(DomainError::FinalNeedsSourceOrReason);
                }
                let same_day = current.figures()?.reports.iter().find(|(id, r)| {
                    r.replaced_by.is_none()
                        && r.status == ResultStatus::Final
                        && r.refers_to == report.refers_to
                        && Some(**id) != *supersedes
                });
                if let Some((existing, _)) = same_day {
                    return Err(DomainError::FinalAlreadyReported {
                        existing: *existing,
                        refers_to: report.refers_to,
                    });
                }
            }
            Event::ActualReported(ActualReported {
                indicator: *indicator,
                report: report.clone(),
                supersedes: *supersedes,
                reason: reason.clone(),
            })
        }
        Command::CorrectActual {
            indicator,
            corrects,
            report,
            reason,
        } => {
            let current = writable_indicator(state, *indicator)?;
            let wrong = live_report(current, *corrects)?;
            not_frozen(state, &current.definition.org_unit, |p| {
                p.contains(report.refers_to) || p.contains(wrong.refers_to)
            })?;
            let reason = reason.clone().ok_or(DomainError::ReasonRequired)?;
            report.value.validate_for(current.definition.measure)?;
            if let Some(stated) = &report.stated {
                stated.validate()?;
            }
            known_optional_document(state, report.source.as_ref())?;
            if current.figures()?.reports.contains_key(&report.report_id) {
                return Err(DomainError::ReportAlreadyExists(report.report_id));
            }
            let same = wrong.value == report.value
                && wrong.refers_to == report.refers_to
                && wrong.status == report.status;
            if same {
                return Err(DomainError::NoChange);
            }
            Event::ActualCorrected(ActualCorrected {
                indicator: *indicator,
                corrects: *corrects,
                report: report.clone(),
                reason,
            })
        }
        Command::CreatePrincipal { principal, name } => {
            if state.principals.contains_key(principal) {
                return Err(DomainError::PrincipalAlreadyExists(principal.clone()));
            }
            Event::PrincipalCreated(PrincipalCreated {
                principal: principal.clone(),
                name: name.clone(),
            })
        }
        Command::GrantRole { principal, grant } => {
            let current = active_principal(state, principal)?;
            if let Some(scope) = &grant.scope {
                if !state.org_units.contains_key(scope) {
                    return Err(DomainError::UnknownOrgUnit(scope.clone()));
                }
            }
            if current.grants.contains(grant) {
                return Err(DomainError::GrantAlreadyHeld(principal.clone()));
            }
            Event::RoleGranted(RoleGranted {
                principal: principal.clone(),
                grant: grant.clone(),
            })
        }
        Command::RevokeGrant { principal, grant } => {
            let current = state
                .principals
                .get(principal)
                .ok_or_else(|| DomainError::UnknownPrincipal(principal.clone()))?;
            if !current.grants.contains(grant) {
                return Err(DomainError::GrantNotHeld(principal.clone()));
            }
            Event::GrantRevoked(GrantRevoked {
                principal: principal.clone(),
                grant: grant.clone(),
            })
        }
        Command::IssueToken {
            principal,
            token,
            digest,
            expires_at,
        } => {
            active_principal(state, principal)?;
            if digest.len() != 64
                || !digest
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(DomainError::InvalidDigest);
            }
            let reused = state.tokens.contains_key(digest)
                || state
                    .principals
                    .values()
                    .any(|p| p.tokens.contains_key(token));
            if reused {
                return Err(DomainError::TokenAlreadyIssued(*token));
            }
            Event::TokenIssued(TokenIssued {
                principal: principal.clone(),
                token: *token,
                digest: digest.clone(),
                expires_at: *expires_at,
            })
        }
        Command::RevokeToken { principal, token } => {
            let current = state
                .principals
                .get(principal)
                .ok_or_else(|| DomainError::UnknownPrincipal(principal.clone()))?;
            let issued = current
                .tokens
                .get(token)
                .ok_or(DomainError::UnknownToken(*token))?;
            if issued.revoked {
                return Err(DomainError::TokenAlreadyRevoked(*token));
            }
            Event::TokenRevoked(TokenRevoked {
                principal: principal.clone(),
                token: *token,
            })
        }
        Command::DisablePrincipal { principal, reason } => {
            active_principal(state, principal)?;
            let reason = reason.clone().ok_or(DomainError::ReasonRequired)?;
            Event::PrincipalDisabled(PrincipalDisabled {
                principal: principal.clone(),
                reason,
            })
        }
        Command::RetireIndicator {
            indicator,
            reason,
            document,
        } => {
            writable_indicator(state, *indicator)?;
            let reason = reason.clone().ok_or(DomainError::ReasonRequired)?;
            known_optional_document(state, document.as_ref())?;
            Event::IndicatorRetired(IndicatorRetired {
                indicator: *indicator,
                reason,
                document: *document,
            })
        }
        Command::LinkPreviousPeriod {
            indicator,
            previous,
            reason,
        } => {
            let current = writable_indicator(state, *indicator)?;
            // It moves the base of growth and reduction targets.
            let period = current.definition.period;
            not_frozen(state, &current.definition.org_unit, |p| p.covers(period))?;
            previous_fits(state, *previous, period)?;
            match current.definition.previous {
                Some(linked) if linked == *previous => return Err(DomainError::NoChange),
                Some(_) if reason.is_none() => return Err(DomainError::ReasonRequired),
                _ => {}
            }
            Event::IndicatorPreviousLinked(IndicatorPreviousLinked {
                indicator: *indicator,
                previous: *previous,
                reason: reason.clone(),
            })
        }
        Command::SetIndicatorParent {
            indicator,
            parent,
            reason,
        } => {
            let current = writable_indicator(state, *indicator)?;
            // It changes what the totals' figures are checked against.
            let period = current.definition.period;
            not_frozen(state, &current.definition.org_unit, |p| p.covers(period))?;
            if let Some(parent_id) = parent {
                parent_fits(state, *parent_id, &current.definition)?;
                // No indicator may be (through others) a part of itself.
                let mut up = Some(*parent_id);
                while let Some(id) = up {
                    if id == *indicator {
                        return Err(DomainError::ParentIndicatorMismatch(*parent_id));
                    }
                    up = state.indicators.get(&id).and_then(|i| i.definition.parent);
                }
            }
            match current.definition.parent {
                old if old == *parent => return Err(DomainError::NoChange),
                Some(_) if reason.is_none() => return Err(DomainError::ReasonRequired),
                _ => {}
            }
            Event::IndicatorParentSet(IndicatorParentSet {
                indicator: *indicator,
                parent: *parent,
                reason: reason.clone(),
            })
        }
        Command::SetDirection {
            indicator,
            better,
            reason,
            document,
        } => {
            let current = writable_indicator(state, *indicator)?;
            // It changes how the figures are judged: as a target revision.
            let period = current.definition.period;
            not_frozen(state, &current.definition.org_unit, |p| p.covers(period))?;
            let reason = reason.clone().ok_or(DomainError::ReasonRequired)?;
            known_optional_document(state, document.as_ref())?;
            if current.better == Some(*better) {
                return Err(DomainError::DirectionUnchanged(*better));
            }
            Event::IndicatorDirectionSet(IndicatorDirectionSet {
                indicator: *indicator,
                better: *better,
                reason,
                document: *document,
            })
        }
        Command::SubmitPeriod { unit, period, note } => {
            use PeriodStatus::*;
            period_in(state, unit, *period, "submitting", &[Open], "open")?;
            Event::PeriodSubmitted(PeriodSubmitted {
                unit: unit.clone(),
                period: *period,
                note: note.clone(),
            })
        }
        Command::ApprovePeriod {
            unit,
            period,
            approval,
            document,
            expected_digest,
        } => {
            use PeriodStatus::*;
            period_in(state, unit, *period, "approving", &[Submitted], "submitted")?;
            known_document(state, document)?;
            let taken = state
                .periods
                .values()
                .flat_map(|u| u.periods.values())
                .any(|p| p.approvals.iter().any(|a| a.id == *approval));
            if taken {
                return Err(DomainError::ApprovalAlreadyExists(*approval));
            }
            let sections = crate::approval::sections(state, unit, *period)?;
            let (digest, indicators) = crate::approval::digest(unit, *period, &sections);
            if let Some(expected) = expected_digest {
                if !expected.eq_ignore_ascii_case(&digest) {
                    return Err(DomainError::ApprovalDigestMismatch {
                        expected: expected.clone(),
                        actual: digest,
                    });
                }
            }
            Event::PeriodApproved(PeriodApproved {
                unit: unit.clone(),
                period: *period,
                approval: *approval,
                document: *document,
                digest,
                as_of: state.position,
                indicators,
            })
        }
        Command::LockPeriod {
            unit,
            period,
            document,
        } => {
            use PeriodStatus::*;
            period_in(state, unit, *period, "locking", &[Approved], "approved")?;
            known_optional_document(state, document.as_ref())?;
            Event::PeriodLocked(PeriodLocked {
                unit: unit.clone(),
                period: *period,
                document: *document,
            })
        }
        Command::UnlockPeriod {
            unit,
            period,
            reason,
            document,
        } => {
            use PeriodStatus::*;
            let allowed = [Approved, Locked];
            period_in(
                state,
                unit,
                *period,
                "unlocking",
                &allowed,
                "approved or locked",
            )?;
            let reason = reason.clone().ok_or(DomainError::ReasonRequired)?;
            let document = document.ok_or(DomainError::DocumentRequired)?;
            known_document(state, &document)?;
            Event::PeriodUnlocked(PeriodUnlocked {
                unit: unit.clone(),
                period: *period,
                reason,
                document,
            })
        }
    };
    Ok(vec![event])
}

/// Folds one event recorded at log `position` into the state, stamping
/// the targets and figures it sets with that position (the approval
/// digest binds them).
pub fn evolve_at(state: &mut DomainState, event: &Event, position: u64) {
    state.position = position;
    evolve(state, event);
}

/// Folds one event into the state. No rules: the event already happened.
/// Positions stamped are `state.position` (see [`evolve_at`]).
pub fn evolve(state: &mut DomainState, event: &Event) {
    match event {
        Event::PeriodSubmitted(e) => {
            let unit = state.periods.entry(e.unit.clone()).or_default();
            unit.periods.entry(e.period).or_default().status = PeriodStatus::Submitted;
            unit.version += 1;
        }
        Event::PeriodApproved(e) => {
            let unit = state.periods.entry(e.unit.clone()).or_default();
            let period = unit.periods.entry(e.period).or_default();
            period.status = PeriodStatus::Approved;
            period.approvals.push(crate::period::ApprovalState {
                id: e.approval,
                digest: e.digest.clone(),
                document: e.document,
            });
            unit.version += 1;
        }
        Event::PeriodLocked(e) => {
            let unit = state.periods.entry(e.unit.clone()).or_default();
            unit.periods.entry(e.period).or_default().status = PeriodStatus::Locked;
            unit.version += 1;
        }
        Event::PeriodUnlocked(e) => {
            let unit = state.periods.entry(e.unit.clone()).or_default();
            let period = unit.periods.entry(e.period).or_default();
            period.status = PeriodStatus::Open;
            period.last_unlock = Some(e.reason.clone());
            unit.version += 1;
        }
        Event::OrgUnitRegistered(e) => {
            state.org_units.insert(
                e.unit.code.clone(),
                OrgUnitState {
                    unit: e.unit.clone(),
                    successors: Vec::new(),
                    former_names: Vec::new(),
                    former_parents: Vec::new(),
                    version: 1,
                },
            );
        }
        Event::OrgUnitSucceeded(e) => {
            if let Some(unit) = state.org_units.get_mut(&e.unit) {
                unit.successors = e.successors.clone();
                unit.version += 1;
            }
        }
        Event::OrgUnitMoved(e) => {
            if let Some(unit) = state.org_units.get_mut(&e.unit) {
                let former = unit.unit.parent.replace(e.parent.clone());
                unit.former_parents.push((former, e.effective));
                unit.version += 1;
            }
        }
        Event::OrgUnitRenamed(e) => {
            if let Some(unit) = state.org_units.get_mut(&e.unit) {
                let former = std::mem::replace(&mut unit.unit.name, e.name.clone());
                unit.former_names.push(former);
                unit.version += 1;
            }
        }
        Event::DocumentRegistered(e) => {
            state.documents.insert(e.document.id, e.document.clone());
        }
        Event::IndicatorDefined(e) => {
            state.indicators.insert(
                e.definition.id,
                Box::new(IndicatorState {
                    definition: e.definition.clone(),
                    figures: Some(Box::default()),
                    retired: None,
                    better: None,
                    version: 1,
                }),
            );
        }
        Event::TargetSet(TargetSet { indicator, .. })
        | Event::TargetRevised(TargetRevised { indicator, .. })
        | Event::ActualReported(ActualReported { indicator, .. })
        | Event::ActualCorrected(ActualCorrected { indicator, .. }) => {
            let position = state.position;
            if let Some(current) = state.indicators.get_mut(indicator) {
                // Figures let go stay in the stream; they are folded again
                // from it when needed.
                if let Some(figures) = current.figures.as_deref_mut() {
                    figures.apply(event, position);
                }
                current.version += 1;
            }
        }
        Event::IndicatorRetired(e) => {
            if let Some(indicator) = state.indicators.get_mut(&e.indicator) {
                indicator.retired = Some(e.reason.clone());
                indicator.version += 1;
            }
        }
        Event::IndicatorPreviousLinked(e) => {
            if let Some(indicator) = state.indicators.get_mut(&e.indicator) {
                indicator.definition.previous = Some(e.previous);
                indicator.version += 1;
            }
        }
        Event::TargetRestated(e) => {
            if let Some(indicator) = state.indicators.get_mut(&e.indicator) {
                indicator.version += 1;
            }
        }
        Event::IndicatorParentSet(e) => {
            if let Some(indicator) = state.indicators.get_mut(&e.indicator) {
                indicator.definition.parent = e.parent;
                indicator.version += 1;
            }
        }
        Event::IndicatorDirectionSet(e) => {
            if let Some(indicator) = state.indicators.get_mut(&e.indicator) {
                indicator.better = Some(e.better);
                indicator.version += 1;
            }
        }
        Event::PrincipalCreated(e) => {
            state.principals.insert(
                e.principal.clone(),
                PrincipalState {
                    name: e.name.clone(),
                    grants: Default::default(),
                    tokens: Default::default(),
                    disabled: None,
                    version: 1,
                },
            );
        }
        Event::RoleGranted(e) => {
            if let Some(p) = state.principals.get_mut(&e.principal) {
                p.grants.insert(e.grant.clone());
                p.version += 1;
            }
        }
        Event::GrantRevoked(e) => {
            if let Some(p) = state.principals.get_mut(&e.principal) {
                p.grants.remove(&e.grant);
                p.version += 1;
            }
        }
        Event::TokenIssued(e) => {
            if let Some(p) = state.principals.get_mut(&e.principal) {
                p.tokens.insert(
                    e.token,
                    TokenState {
                        digest: e.digest.clone(),
                        expires_at: e.expires_at,
                        revoked: false,
                    },
                );
                p.version += 1;
                state
                    .tokens
                    .insert(e.digest.clone(), (e.principal.clone(), e.token));
            }
        }
        Event::TokenRevoked(e) => {
            if let Some(p) = state.principals.get_mut(&e.principal) {
                if let Some(t) = p.tokens.get_mut(&e.token) {
                    t.revoked = true;
                }
                p.version += 1;
            }
        }
        Event::PrincipalDisabled(e) => {
            if let Some(p) = state.principals.get_mut(&e.principal) {
                p.disabled = Some(e.reason.clone());
                p.version += 1;
            }
        }
    }
}
