//! Mutations of org units: registration, renaming, succession.

use super::*;
use crate::query::parse_org_unit;
use crate::types::*;
use async_graphql::{Object, SimpleObject};

/// Register an org unit.
#[derive(InputObject)]
pub struct RegisterOrgUnitInput {
    /// Code, e.g. `LA.CAN-DUOC`.
    pub code: ID,
    /// Name as written.
    pub name: String,
    /// Level.
    pub level: OrgUnitLevel,
    /// Parent's code (none only for a province).
    pub parent: Option<ID>,
    /// The day it began, for a unit a reorganisation makes (before it, it
    /// does not exist: `orgUnits(on:)`); absent for a unit older than the
    /// records.
    pub established: Option<crate::scalars::Date>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Rename an org unit from a date.
#[derive(InputObject)]
pub struct RenameOrgUnitInput {
    /// The unit.
    pub unit: ID,
    /// Its new name.
    pub name: String,
    /// The day the name takes effect.
    pub effective: crate::scalars::Date,
    /// The deciding document.
    pub document: Option<ID>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Move an org unit under another parent from a date.
#[derive(InputObject)]
pub struct MoveOrgUnitInput {
    /// The unit.
    pub unit: ID,
    /// Its new parent (a unit of a higher level).
    pub parent: ID,
    /// The day the move takes effect.
    pub effective: crate::scalars::Date,
    /// The deciding document.
    pub document: Option<ID>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Record a succession: a unit ceased and its duties passed to others.
#[derive(InputObject)]
pub struct RecordSuccessionInput {
    /// The unit that ceased.
    pub unit: ID,
    /// The units that took over (registered first).
    pub successors: Vec<ID>,
    /// The day it took effect (1 July 2025 for the end of districts).
    pub effective: crate::scalars::Date,
    /// The deciding document (a resolution of the National Assembly or
    /// its Standing Committee).
    pub document: Option<ID>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// The result of registering an org unit.
#[derive(SimpleObject)]
pub struct OrgUnitPayload {
    /// The org unit.
    pub org_unit: OrgUnit,
    /// Log position of the write.
    pub position: u64,
    /// Whether this was a replay.
    pub replayed: bool,
}

/// Runs a command on an org unit and reads the unit back.
async fn org_unit_write(
    ctx: &Context<'_>,
    command: Command,
    code: &domain::OrgUnitCode,
    guard: &WriteGuard,
) -> async_graphql::Result<OrgUnitPayload> {
    let subject = Subject {
        en: "org unit",
        vi: "đơn vị",
        id: code.to_string(),
    };
    let (unit, written) = write(ctx, command, guard.options(), subject, |app| {
        Ok(app.read.org_unit(code)?)
    })
    .await?;
    Ok(OrgUnitPayload {
        org_unit: OrgUnit(unit),
        position: written.position,
        replayed: written.replayed,
    })
}

/// Writes to org units.
#[derive(Default)]
pub struct OrgUnitMutations;

#[Object]
impl OrgUnitMutations {
    /// Register an org unit (admin).
    async fn register_org_unit(
        &self,
        ctx: &Context<'_>,
        input: RegisterOrgUnitInput,
    ) -> async_graphql::Result<OrgUnitPayload> {
        writer(ctx)?;
        let code = parse_org_unit(&input.code)?;
        let command = Command::RegisterOrgUnit(domain::OrgUnit {
            code: code.clone(),
            name: text("name", &input.name)?,
            level: input.level.into(),
            parent: input.parent.as_ref().map(parse_org_unit).transpose()?,
            established: input.established.map(|d| d.0),
        });
        org_unit_write(ctx, command, &code, &input.guard).await
    }

    /// Give an org unit a new name from a date (admin): its code, history
    /// and figures stay; `name(on:)` gives the name of an earlier day.
    async fn rename_org_unit(
        &self,
        ctx: &Context<'_>,
        input: RenameOrgUnitInput,
    ) -> async_graphql::Result<OrgUnitPayload> {
        writer(ctx)?;
        let code = parse_org_unit(&input.unit)?;
        let command = Command::RenameOrgUnit {
            unit: code.clone(),
            name: text("name", &input.name)?,
            effective: input.effective.0,
            document: optional_document(input.document.as_ref())?,
        };
        org_unit_write(ctx, command, &code, &input.guard).await
    }

    /// Move an org unit under another parent from a date, citing the
    /// deciding document (admin): its code, history and figures stay;
    /// `parent(on:)` and `children(on:)` give the hierarchy of an earlier
    /// day, and summaries count it under its new parent from now on.
    async fn move_org_unit(
        &self,
        ctx: &Context<'_>,
        input: MoveOrgUnitInput,
    ) -> async_graphql::Result<OrgUnitPayload> {
        writer(ctx)?;
        let code = parse_org_unit(&input.unit)?;
        let command = Command::MoveOrgUnit {
            unit: code.clone(),
            parent: parse_org_unit(&input.parent)?,
            effective: input.effective.0,
            document: optional_document(input.document.as_ref())?,
        };
        org_unit_write(ctx, command, &code, &input.guard).await
    }

    /// Record that an org unit ceased on a date and whose duties passed to
    /// whom, citing the deciding document (admin): a merger is one
    /// succession per merged unit naming the same successor, a split one
    /// succession naming several, the end of the district level one per
    /// district. The unit's history stays under its own name and is reached
    /// from its successors (`predecessors`, `lineage`).
    async fn record_succession(
        &self,
        ctx: &Context<'_>,
        input: RecordSuccessionInput,
    ) -> async_graphql::Result<OrgUnitPayload> {
        writer(ctx)?;
        let code = parse_org_unit(&input.unit)?;
        let command = Command::RecordSuccession {
            unit: code.clone(),
            successors: input
                .successors
                .iter()
                .map(parse_org_unit)
                .collect::<Result<_, _>>()?,
            effective: input.effective.0,
            document: optional_document(input.document.as_ref())?,
        };
        org_unit_write(ctx, command, &code, &input.guard).await
    }
}
