//! Who is asking: the [`Authenticated`] principal the server put in the
//! request's context after checking its token against the log, and the read
//! permissions. Writes are checked by the service against the grant's
//! org-unit subtree.

use crate::error::ApiError;
use async_graphql::Context;
pub use chitieu_domain::{Authenticated, Permission};

/// Whether anonymous requests may read current state (server setting).
#[derive(Debug, Clone, Copy)]
pub struct AnonymousReads(pub bool);

/// The principal of the request, if some grant of it allows `permission`
/// (reads are not scoped to org units).
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
        Some(p) => Err(ApiError::Forbidden(format!(
            "{} holds no grant that allows this",
            p.principal
        ))),
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
