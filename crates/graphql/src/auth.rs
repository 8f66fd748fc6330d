//! Who is asking: the [`Authenticated`] principal the server put in the
//! request's context after checking its token against the log, and the read
//! permissions. Reads follow the grants' org-unit subtrees as writes do
//! ([`reach`], [`check_unit`]); writes are checked by the service.

use crate::error::ApiError;
use async_graphql::Context;
use chitieu_domain::OrgUnitCode;
pub use chitieu_domain::{Authenticated, Permission, Reach};

/// Whether anonymous requests may read current state (server setting).
#[derive(Debug, Clone, Copy)]
pub struct AnonymousReads(pub bool);

/// The principal of the request, if some grant of it allows `permission`
/// somewhere (where: [`reach`]).
pub fn require(
    ctx: &Context<'_>,
    permission: Permission,
) -> Result<Option<Authenticated>, ApiError> {
    match ctx.data_opt::<Authenticated>() {
        None if permission == Permission::ReadCurrent
            && ctx.data_opt::<AnonymousReads>().is_some_and(|a| a.0) =>
        {
            Ok(None)
        }
        None => Err(ApiError::Unauthenticated),
        Some(p) if p.may(permission) => Ok(Some(p.clone())),
        Some(p) => Err(ApiError::forbidden(
            format!("{} holds no grant that allows this", p.principal),
            format!("{} không có quyền nào cho phép việc này", p.principal),
        )),
    }
}

/// The principal for a write: authenticated. Whether its grants allow the
/// command where it acts is decided once, by the service, on the state the
/// command is decided on.
pub fn writer(ctx: &Context<'_>) -> Result<Authenticated, ApiError> {
    ctx.data_opt::<Authenticated>()
        .cloned()
        .ok_or(ApiError::Unauthenticated)
}

/// Where the request may read with `permission`: anonymous reads (a
/// server setting for public current state) reach everywhere, a principal
/// where its grants allow it.
pub fn reach(ctx: &Context<'_>, permission: Permission) -> Result<Reach, ApiError> {
    Ok(match require(ctx, permission)? {
        None => Reach::Everywhere,
        Some(p) => p.reach(permission),
    })
}

/// Refuses a read of `unit` outside `reach`, with `FORBIDDEN` and nothing
/// about what is there.
pub fn check_unit(ctx: &Context<'_>, reach: &Reach, unit: &OrgUnitCode) -> Result<(), ApiError> {
    let Reach::Within(roots) = reach else {
        return Ok(());
    };
    let app = ctx.data_unchecked::<crate::App>();
    for root in roots {
        if app.read.is_within(unit, root)? {
            return Ok(());
        }
    }
    let who = ctx
        .data_opt::<Authenticated>()
        .map(|p| p.principal.to_string())
        .unwrap_or_default();
    // Nothing about what is there: not even the unit of an indicator
    // asked for by id.
    Err(ApiError::forbidden(
        format!("{who} holds no grant to read there: reads follow the org units of one's grants"),
        format!("{who} không có quyền xem ở đó: quyền xem theo các đơn vị được cấp quyền"),
    ))
}

/// `reach` and the check of `unit` in one step.
pub fn require_at(
    ctx: &Context<'_>,
    permission: Permission,
    unit: &OrgUnitCode,
) -> Result<(), ApiError> {
    check_unit(ctx, &reach(ctx, permission)?, unit)
}
