//! Who is asking: the [`Principal`] the server put in the request's context
//! after checking its token, and what each [`Role`] may do.

use crate::error::ApiError;
use async_graphql::{Context, Enum};
use chitieu_store::Actor;

/// What a principal may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages org units and principals; may do everything.
    Admin,
    /// Planning office: defines indicators, sets and revises targets.
    Planner,
    /// Departments and communes: report and correct results.
    Reporter,
    /// Auditors and inspection committees: read everything.
    Auditor,
    /// Reads current state.
    Viewer,
}

impl Role {
    /// The role's name as stored in event envelopes.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Planner => "planner",
            Role::Reporter => "reporter",
            Role::Auditor => "auditor",
            Role::Viewer => "viewer",
        }
    }
}

/// An authenticated principal. The actor of every event comes from here,
/// never from the request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
}

impl Principal {
    /// The actor recorded in the envelope of the events it causes.
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.id.clone(),
            name: self.name.clone(),
            role: self.role.as_str().to_owned(),
        }
    }
}

/// What a request may need permission for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Current state.
    ReadCurrent,
    /// History, the audit trail, the ledger.
    ReadAudit,
    /// Org units.
    ManageOrgUnits,
    /// Documents, indicators, targets.
    Plan,
    /// Results.
    Report,
}

fn allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Admin => true,
        Role::Planner => matches!(permission, ReadCurrent | ReadAudit | Plan),
        Role::Reporter => matches!(permission, ReadCurrent | ReadAudit | Report),
        Role::Auditor => matches!(permission, ReadCurrent | ReadAudit),
        Role::Viewer => matches!(permission, ReadCurrent),
    }
}

/// Whether anonymous requests may read current state (server setting).
#[derive(Debug, Clone, Copy)]
pub struct AnonymousReads(pub bool);

/// The principal of the request, if it is allowed `permission`.
pub fn require(ctx: &Context<'_>, permission: Permission) -> Result<Option<Principal>, ApiError> {
    let principal = ctx.data_opt::<Principal>().cloned();
    match principal {
        None if permission == Permission::ReadCurrent
            && ctx.data_opt::<AnonymousReads>().is_some_and(|a| a.0) =>
        {
            Ok(None)
        }
        None => Err(ApiError::Unauthenticated),
        Some(p) if allows(p.role, permission) => Ok(Some(p)),
        Some(p) => Err(ApiError::Forbidden(format!(
            "role {} may not do this",
            p.role.as_str()
        ))),
    }
}

/// The principal for a write; writes always need one.
pub fn writer(ctx: &Context<'_>, permission: Permission) -> Result<Principal, ApiError> {
    require(ctx, permission)?.ok_or(ApiError::Unauthenticated)
}
