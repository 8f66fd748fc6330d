//! Principals and their grants.

use super::*;

/// A role over an org unit and its descendants.
#[derive(SimpleObject)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The subtree's root; none for every org unit.
    pub org_unit: Option<ID>,
}

/// A person or service account, its grants and tokens (never the tokens themselves).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Principal {
    /// Its id.
    pub id: ID,
    /// Display name.
    pub name: String,
    /// Grants held.
    pub grants: Vec<Grant>,
    /// Ids of tokens still valid (not revoked, not expired).
    pub active_tokens: Vec<ID>,
    /// Why it was disabled, if it was.
    pub disabled_reason: Option<String>,
}

impl Principal {
    /// Reads a principal from the domain state.
    pub fn from_state(id: &domain::PrincipalId, state: &domain::principal::PrincipalState) -> Self {
        let now = chrono::Utc::now();
        Principal {
            id: ID(id.to_string()),
            name: state.name.to_string(),
            grants: state
                .grants
                .iter()
                .map(|g| Grant {
                    role: g.role.into(),
                    org_unit: g.scope.as_ref().map(|s| ID(s.to_string())),
                })
                .collect(),
            active_tokens: state
                .tokens
                .iter()
                .filter(|(_, t)| !t.revoked && t.expires_at.is_none_or(|at| at > now))
                .map(|(id, _)| ID(id.0.to_string()))
                .collect(),
            disabled_reason: state.disabled.as_ref().map(|r| r.to_string()),
        }
    }
}
