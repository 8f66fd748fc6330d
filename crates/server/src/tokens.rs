//! Bearer tokens until principals become events (issue 5): a registry of
//! SHA-256 digests of tokens, each bound to a principal. Tokens themselves
//! are never stored or logged.

use chitieu_graphql::{Principal, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A malformed or unknown bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidToken;

/// Known tokens, by digest.
#[derive(Debug, Default, Clone)]
pub struct TokenRegistry {
    by_digest: HashMap<[u8; 32], Principal>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl TokenRegistry {
    /// Binds a token to a principal.
    pub fn insert(&mut self, token: &str, principal: Principal) {
        self.by_digest.insert(digest(token), principal);
    }

    /// Issues a fresh random token for a principal and returns it (shown once).
    pub fn issue(&mut self, principal: Principal) -> String {
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = format!("ct_{}", hex::encode(bytes));
        self.insert(&token, principal);
        token
    }

    /// The principal of a token, if known.
    pub fn principal(&self, token: &str) -> Option<Principal> {
        self.by_digest.get(&digest(token)).cloned()
    }

    /// The principal of an `Authorization` header value: `Ok(None)` without
    /// one, `Err` for a malformed or unknown token.
    pub fn authenticate(&self, header: Option<&str>) -> Result<Option<Principal>, InvalidToken> {
        let Some(value) = header else { return Ok(None) };
        let token = value.strip_prefix("Bearer ").ok_or(InvalidToken)?.trim();
        self.principal(token).map(Some).ok_or(InvalidToken)
    }
}

/// The demo's people, one per role.
pub fn demo_principals() -> Vec<Principal> {
    let p = |id: &str, name: &str, role| Principal {
        id: id.into(),
        name: name.into(),
        role,
    };
    vec![
        p("admin", "Quản trị hệ thống", Role::Admin),
        p(
            "vp-huyen-uy",
            "Văn phòng Huyện ủy (lập kế hoạch)",
            Role::Planner,
        ),
        p(
            "pkt-tieu-can",
            "Phòng Tài chính – Kế hoạch (báo cáo)",
            Role::Reporter,
        ),
        p("ubkt", "Ủy ban Kiểm tra Huyện ủy", Role::Auditor),
        p("lanh-dao", "Lãnh đạo (xem)", Role::Viewer),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_authenticate_only_as_bearer_and_only_when_known() {
        let mut registry = TokenRegistry::default();
        let token = registry.issue(Principal {
            id: "a".into(),
            name: "A".into(),
            role: Role::Admin,
        });
        assert!(token.starts_with("ct_") && token.len() > 40);
        assert_eq!(
            registry
                .authenticate(Some(&format!("Bearer {token}")))
                .ok()
                .flatten()
                .map(|p| p.id),
            Some("a".into())
        );
        assert_eq!(registry.authenticate(None).ok().flatten(), None);
        assert!(registry.authenticate(None).is_ok());
        assert!(registry.authenticate(Some(&token)).is_err());
        assert!(registry.authenticate(Some("Bearer nope")).is_err());
    }
}
