//! Principals, their grants and their tokens: who may change what. These
//! are events too, so "who gave this person the right to change that
//! figure" has an audit trail like every figure.

use crate::org_unit::OrgUnitCode;
use crate::text::{Reason, Text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use uuid::Uuid;

/// Why a principal id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalIdError {
    /// Wrong length or characters.
    #[error("principal id must be 1-64 characters of a-z, 0-9, `.`, `_` or `-`, got `{0}`")]
    Invalid(String),
}

/// Stable id of a person or a service account, e.g. `ubkt.can-duoc`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PrincipalId(String);

impl PrincipalId {
    /// Parses an id; uppercase letters are lower-cased.
    pub fn parse(raw: &str) -> Result<Self, PrincipalIdError> {
        let id = raw.trim().to_ascii_lowercase();
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok {
            Ok(PrincipalId(id))
        } else {
            Err(PrincipalIdError::Invalid(raw.to_owned()))
        }
    }

    /// The id itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PrincipalId {
    type Error = PrincipalIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PrincipalId::parse(&value)
    }
}

impl From<PrincipalId> for String {
    fn from(value: PrincipalId) -> Self {
        value.0
    }
}

impl fmt::Display for PrincipalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a grant lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages principals and org units; may do everything in its scope.
    Admin,
    /// Planning office: documents, indicators, targets.
    Planner,
    /// Departments and communes: results.
    Reporter,
    /// Auditors, inspection committees: read everything.
    Auditor,
    /// The Standing Committee or the People's Committee of a unit:
    /// approves, locks and unlocks its reporting periods.
    Approver,
    /// Reads current state.
    Viewer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Planner,
        Role::Reporter,
        Role::Auditor,
        Role::Approver,
        Role::Viewer,
    ];

    /// The role's name as stored in event envelopes.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Planner => "planner",
            Role::Reporter => "reporter",
            Role::Auditor => "auditor",
            Role::Approver => "approver",
            Role::Viewer => "viewer",
        }
    }

    /// Whether the role carries a permission.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Planner => matches!(permission, ReadCurrent | ReadAudit | Plan),
            Role::Reporter => matches!(permission, ReadCurrent | ReadAudit | Report),
            Role::Auditor => matches!(permission, ReadCurrent | ReadAudit),
            Role::Approver => matches!(permission, ReadCurrent | ReadAudit | Approve),
            Role::Viewer => matches!(permission, ReadCurrent),
        }
    }
}

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read current state.
    ReadCurrent,
    /// Read history, the audit trail, the ledger.
    ReadAudit,
    /// Manage principals, grants, tokens.
    ManagePrincipals,
    /// Register org units.
    ManageOrgUnits,
    /// Documents, indicators, targets.
    Plan,
    /// Results.
    Report,
    /// Approve, lock and unlock reporting periods.
    Approve,
}

/// A role over an org unit and its descendants (`scope: None`: everywhere).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The subtree it applies to; `None` for every org unit.
    pub scope: Option<OrgUnitCode>,
}

/// The longest a token may live, in days (ten years).
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// Why a token lifetime was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenLifetimeError {
    /// Zero days: the token would be expired when issued.
    #[error("a token must live at least 1 day (expiresInDays: 0 would issue an expired token)")]
    Zero,
    /// More than [`MAX_TOKEN_DAYS`].
    #[error("a token may live at most {MAX_TOKEN_DAYS} days, not {0}")]
    TooLong(u32),
}

/// When a token issued at `now` for `days` days expires: checked, so no
/// input reaches a date overflow.
pub fn token_expiry(now: DateTime<Utc>, days: u32) -> Result<DateTime<Utc>, TokenLifetimeError> {
    if days == 0 {
        return Err(TokenLifetimeError::Zero);
    }
    if days > MAX_TOKEN_DAYS {
        return Err(TokenLifetimeError::TooLong(days));
    }
    now.checked_add_signed(chrono::Duration::days(i64::from(days)))
        .ok_or(TokenLifetimeError::TooLong(days))
}

/// Identity of an issued token (the token itself is never stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenId(pub Uuid);

/// A token as the log knows it: its SHA-256 digest (hex) and expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenState {
    /// SHA-256 of the token, hex.
    pub digest: String,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// A principal as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalState {
    /// Display name.
    pub name: Text,
    /// Grants held.
    pub grants: BTreeSet<Grant>,
    /// Tokens issued.
    pub tokens: BTreeMap<TokenId, TokenState>,
    /// Why it was disabled, if it was.
    pub disabled: Option<Reason>,
    /// Events in its stream.
    pub version: u64,
}

/// Why a request was not let through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// No such token, or revoked, or expired, or its principal disabled.
    #[error("the token is not valid")]
    InvalidToken,
    /// No grant of the principal allows this here.
    #[error("{principal} has no grant that allows {permission:?} on {scope}")]
    Forbidden {
        /// Who asked.
        principal: PrincipalId,
        /// What was needed.
        permission: Permission,
        /// Where.
        scope: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_ids_are_normalised_and_checked() {
        assert_eq!(
            PrincipalId::parse(" UBKT.Can-Duoc ").map(|p| p.0),
            Ok("ubkt.can-duoc".into())
        );
        assert!(PrincipalId::parse("").is_err());
        assert!(PrincipalId::parse("nguyễn").is_err());
        assert!(PrincipalId::parse("a b").is_err());
    }

    #[test]
    fn token_lifetimes_are_bounded_and_never_overflow() {
        let now = Utc::now();
        assert_eq!(token_expiry(now, 0), Err(TokenLifetimeError::Zero));
        assert_eq!(
            token_expiry(now, u32::MAX),
            Err(TokenLifetimeError::TooLong(u32::MAX))
        );
        assert_eq!(token_expiry(now, 30).map(|t| (t - now).num_days()), Ok(30));
        assert!(token_expiry(DateTime::<Utc>::MAX_UTC, 1).is_err());
    }

    #[test]
    fn roles_carry_their_permissions() {
        use Permission::*;
        assert!(Role::Planner.allows(Plan) && !Role::Planner.allows(Report));
        assert!(Role::Reporter.allows(Report) && !Role::Reporter.allows(Plan));
        assert!(Role::Auditor.allows(ReadAudit) && !Role::Auditor.allows(Report));
        assert!(Role::Viewer.allows(ReadCurrent) && !Role::Viewer.allows(ReadAudit));
        assert!(Role::ALL.iter().all(|r| r.allows(ReadCurrent)));
        assert!(
            Role::ALL
                .iter()
                .filter(|r| r.allows(ManagePrincipals))
                .count()
                == 1
        );
    }
}
