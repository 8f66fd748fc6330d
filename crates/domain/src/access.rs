//! Access rules: which token is whose, and which grant lets a principal run
//! a command here. Pure functions of the domain state, like every rule.

use crate::command::Command;
use crate::org_unit::OrgUnitCode;
use crate::principal::{
    AccessError, Grant, Permission, PrincipalId, PrincipalState, Role, TokenId,
};
use crate::state::DomainState;
use crate::text::Text;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// A principal a valid token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// Its id.
    pub principal: PrincipalId,
    /// Display name.
    pub name: Text,
    /// Its grants.
    pub grants: Vec<Grant>,
}

/// Where a principal may do something: everywhere, or within the subtrees
/// of some org units (empty: nowhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Every org unit (a grant without scope: national or provincial
    /// auditors hold the root, or no scope at all).
    Everywhere,
    /// These org units and their descendants.
    Within(Vec<OrgUnitCode>),
}

impl Authenticated {
    /// Whether some grant allows `permission` somewhere.
    pub fn may(&self, permission: Permission) -> bool {
        self.grants.iter().any(|g| g.role.allows(permission))
    }

    /// Where the grants allow `permission`: reads follow the same
    /// org-unit subtrees as writes.
    pub fn reach(&self, permission: Permission) -> Reach {
        let mut roots = Vec::new();
        for grant in self.grants.iter().filter(|g| g.role.allows(permission)) {
            match &grant.scope {
                None => return Reach::Everywhere,
                Some(unit) if !roots.contains(unit) => roots.push(unit.clone()),
                Some(_) => {}
            }
        }
        Reach::Within(roots)
    }
}

impl DomainState {
    /// The principal of a token, by the token's SHA-256 digest (hex): the
    /// token must exist, not be revoked or expired, and its principal must
    /// not be disabled.
    pub fn authenticate(
        &self,
        digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Authenticated, AccessError> {
        authenticate_in(&self.principals, &self.tokens, digest, now)
    }
}

/// [`DomainState::authenticate`] on the principals and token digests alone
/// (the one rule, for a reader that keeps a copy of just these).
pub fn authenticate_in(
    principals: &BTreeMap<PrincipalId, PrincipalState>,
    tokens: &BTreeMap<String, (PrincipalId, TokenId)>,
    digest: &str,
    now: DateTime<Utc>,
) -> Result<Authenticated, AccessError> {
    let (id, token) = tokens.get(digest).ok_or(AccessError::InvalidToken)?;
    let principal = principals.get(id).ok_or(AccessError::InvalidToken)?;
    let state = principal
        .tokens
        .get(token)
        .ok_or(AccessError::InvalidToken)?;
    let expired = state.expires_at.is_some_and(|at| at <= now);
    if state.revoked || expired || principal.disabled.is_some() {
        return Err(AccessError::InvalidToken);
    }
    Ok(Authenticated {
        principal: id.clone(),
        name: principal.name.clone(),
        grants: principal.grants.iter().cloned().collect(),
    })
}

impl DomainState {
    /// Whether `grant` covers `scope` (`None`: the whole country).
    fn covers(&self, grant: &Grant, scope: Option<&OrgUnitCode>) -> bool {
        match (&grant.scope, scope) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(root), Some(unit)) => self.is_same_or_ancestor(root, unit),
        }
    }

    /// The role under which `principal` may do `permission` in `scope`.
    pub fn authorize(
        &self,
        principal: &PrincipalId,
        permission: Permission,
        scope: Option<&OrgUnitCode>,
    ) -> Result<Role, AccessError> {
        let forbidden = || AccessError::Forbidden {
            principal: principal.clone(),
            permission,
            scope: scope.map_or_else(|| "every org unit".to_owned(), |s| s.to_string()),
        };
        let state = self.principals.get(principal).ok_or_else(forbidden)?;
        if state.disabled.is_some() {
            return Err(forbidden());
        }
        state
            .grants
            .iter()
            .filter(|g| g.role.allows(permission) && self.covers(g, scope))
            .map(|g| g.role)
            .min()
            .ok_or_else(forbidden)
    }

    /// Whether the indicator a command acts on exists: asked before
    /// [`DomainState::requirement`], because the org unit a grant must
    /// cover is the indicator's, and an unknown indicator has none (it
    /// would read as "needs a grant for everywhere").
    pub fn subject_exists(&self, command: &Command) -> Result<(), crate::DomainError> {
        match command {
            Command::SetTarget { indicator, .. }
            | Command::ReviseTarget { indicator, .. }
            | Command::ReportActual { indicator, .. }
            | Command::CorrectActual { indicator, .. }
            | Command::RetireIndicator { indicator, .. }
            | Command::SetDirection { indicator, .. }
            | Command::LinkPreviousPeriod { indicator, .. }
            | Command::SetIndicatorParent { indicator, .. }
            | Command::RestateTarget { indicator, .. }
                if !self.indicators.contains_key(indicator) =>
            {
                Err(crate::DomainError::UnknownIndicator(*indicator))
            }
            Command::SubmitPeriod { unit, .. }
            | Command::ApprovePeriod { unit, .. }
            | Command::LockPeriod { unit, .. }
            | Command::UnlockPeriod { unit, .. }
                if !self.org_units.contains_key(unit) =>
            {
                Err(crate::DomainError::UnknownOrgUnit(unit.clone()))
            }
            _ => Ok(()),
        }
    }

    /// What a command needs, and where: the permission and the org unit
    /// whose subtree a grant must cover (`None`: a grant for everywhere).
    pub fn requirement(&self, command: &Command) -> (Permission, Option<OrgUnitCode>) {
        let of_indicator = |id| {
            self.indicators
                .get(id)
                .map(|i| i.definition.org_unit.clone())
        };
        match command {
            Command::RegisterOrgUnit(unit) => (Permission::ManageOrgUnits, unit.parent.clone()),
            Command::RecordSuccession { unit, .. }
            | Command::RenameOrgUnit { unit, .. }
            | Command::MoveOrgUnit { unit, .. } => (
                Permission::ManageOrgUnits,
                self.org_units.get(unit).and_then(|u| u.unit.parent.clone()),
            ),
            Command::RegisterDocument(d) => (Permission::Plan, d.org_unit.clone()),
            Command::DefineIndicator(d) => (Permission::Plan, Some(d.org_unit.clone())),
            Command::SetTarget { indicator, .. }
            | Command::ReviseTarget { indicator, .. }
            | Command::RetireIndicator { indicator, .. }
            | Command::SetDirection { indicator, .. }
            | Command::LinkPreviousPeriod { indicator, .. }
            | Command::SetIndicatorParent { indicator, .. }
            | Command::RestateTarget { indicator, .. } => {
                (Permission::Plan, of_indicator(indicator))
            }
            Command::ReportActual { indicator, .. } | Command::CorrectActual { indicator, .. } => {
                (Permission::Report, of_indicator(indicator))
            }
            Command::GrantRole { grant, .. } | Command::RevokeGrant { grant, .. } => {
                (Permission::ManagePrincipals, grant.scope.clone())
            }
            Command::SubmitPeriod { unit, .. } => (Permission::Plan, Some(unit.clone())),
            Command::ApprovePeriod { unit, .. }
            | Command::LockPeriod { unit, .. }
            | Command::UnlockPeriod { unit, .. } => (Permission::Approve, Some(unit.clone())),
            Command::CreatePrincipal { .. }
            | Command::IssueToken { .. }
            | Command::RevokeToken { .. }
            | Command::DisablePrincipal { .. } => (Permission::ManagePrincipals, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(grants: &[(Role, Option<&str>)]) -> Authenticated {
        Authenticated {
            principal: PrincipalId::parse("p").expect("id"),
            name: Text::parse("P").expect("name"),
            grants: grants
                .iter()
                .map(|(role, scope)| Grant {
                    role: *role,
                    scope: scope.map(|s| OrgUnitCode::parse(s).expect("code")),
                })
                .collect(),
        }
    }

    #[test]
    fn reads_reach_where_the_grants_do() {
        let code = |s: &str| OrgUnitCode::parse(s).expect("code");
        let district = principal(&[(Role::Auditor, Some("TV.TIEU-CAN"))]);
        assert_eq!(
            district.reach(Permission::ReadAudit),
            Reach::Within(vec![code("TV.TIEU-CAN")])
        );
        let two = principal(&[
            (Role::Viewer, Some("TV.TIEU-CAN")),
            (Role::Reporter, Some("LA.CAN-DUOC")),
        ]);
        assert_eq!(
            two.reach(Permission::ReadCurrent),
            Reach::Within(vec![code("TV.TIEU-CAN"), code("LA.CAN-DUOC")])
        );
        // The viewer's grant does not carry audit reads.
        assert_eq!(
            two.reach(Permission::ReadAudit),
            Reach::Within(vec![code("LA.CAN-DUOC")])
        );
        let national = principal(&[(Role::Auditor, Some("TV.TIEU-CAN")), (Role::Auditor, None)]);
        assert_eq!(national.reach(Permission::ReadAudit), Reach::Everywhere);
    }
}
