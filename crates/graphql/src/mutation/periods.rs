//! Mutations of reporting periods: submission, approval, locks.

use super::*;
use crate::periods::*;
use crate::query::parse_org_unit;
use async_graphql::Object;

/// Runs a command on a reporting period and reads the period back.
async fn period_write(
    ctx: &Context<'_>,
    command: Command,
    guard: &WriteGuard,
) -> async_graphql::Result<PeriodPayload> {
    let (unit, period) = match &command {
        Command::SubmitPeriod { unit, period, .. }
        | Command::ApprovePeriod { unit, period, .. }
        | Command::LockPeriod { unit, period, .. }
        | Command::UnlockPeriod { unit, period, .. } => (unit.clone(), *period),
        _ => return Err(ApiError::internal(&"not a period command").into()),
    };
    let subject = Subject {
        en: "period",
        vi: "kỳ",
        id: format!("{unit} {period}"),
    };
    let (view, written) = write(ctx, command, guard.options(), subject, |app| {
        Ok(Some(app.read.period(&unit, period)?))
    })
    .await?;
    Ok(PeriodPayload {
        period: ReportingPeriodState(view),
        position: written.position,
        replayed: written.replayed,
    })
}

/// Writes to reporting periods.
#[derive(Default)]
pub struct PeriodMutations;

#[Object]
impl PeriodMutations {
    /// Submit a reporting period of an org unit for approval (planner).
    async fn submit_period(
        &self,
        ctx: &Context<'_>,
        input: SubmitPeriodInput,
    ) -> async_graphql::Result<PeriodPayload> {
        let unit = parse_org_unit(&input.org_unit)?;
        let period = parse_reporting_period(&input.period)?;
        let command = Command::SubmitPeriod {
            unit,
            period,
            note: optional_text("note", input.note.as_deref())?,
        };
        period_write(ctx, command, &input.guard).await
    }

    /// Approve a submitted period (approver): records the digest of its
    /// figures as they stand, and freezes them.
    async fn approve_period(
        &self,
        ctx: &Context<'_>,
        input: ApprovePeriodInput,
    ) -> async_graphql::Result<PeriodPayload> {
        let command = Command::ApprovePeriod {
            unit: parse_org_unit(&input.org_unit)?,
            period: parse_reporting_period(&input.period)?,
            approval: domain::ApprovalId(match &input.approval_id {
                Some(id) => uuid("approvalId", id)?,
                None => new_id(ctx, &input.guard, "approvalId"),
            }),
            document: document_id("document", &input.document)?,
            expected_digest: input.expected_digest.clone(),
        };
        period_write(ctx, command, &input.guard).await
    }

    /// Lock an approved period (approver).
    async fn lock_period(
        &self,
        ctx: &Context<'_>,
        input: LockPeriodInput,
    ) -> async_graphql::Result<PeriodPayload> {
        let command = Command::LockPeriod {
            unit: parse_org_unit(&input.org_unit)?,
            period: parse_reporting_period(&input.period)?,
            document: optional_document(input.document.as_ref())?,
        };
        period_write(ctx, command, &input.guard).await
    }

    /// Open an approved or locked period again, with a reason and a
    /// document (approver).
    async fn unlock_period(
        &self,
        ctx: &Context<'_>,
        input: UnlockPeriodInput,
    ) -> async_graphql::Result<PeriodPayload> {
        let command = Command::UnlockPeriod {
            unit: parse_org_unit(&input.org_unit)?,
            period: parse_reporting_period(&input.period)?,
            reason: reason(&input.reason)?,
            document: Some(document_id("document", &input.document)?),
        };
        period_write(ctx, command, &input.guard).await
    }
}
