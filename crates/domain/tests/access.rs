//! Given / when / then for principals, grants and tokens, and the access
//! rules: who may run which command where.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chitieu_domain::event::*;
use chitieu_domain::*;
use support::*;
use uuid::Uuid;

fn pid(s: &str) -> PrincipalId {
    PrincipalId::parse(s).unwrap()
}

fn digest(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn people() -> Vec<Event> {
    let mut events = registered();
    events.push(Event::PrincipalCreated(PrincipalCreated {
        principal: pid("planner.cd"),
        name: text("Văn phòng Huyện ủy Cần Đước"),
    }));
    events.push(Event::RoleGranted(RoleGranted {
        principal: pid("planner.cd"),
        grant: Grant {
            role: Role::Planner,
            scope: Some(code("LA.CAN-DUOC")),
        },
    }));
    events.push(Event::TokenIssued(TokenIssued {
        principal: pid("planner.cd"),
        token: TokenId(Uuid::from_u128(1)),
        digest: digest(1),
        expires_at: None,
    }));
    events
}

#[test]
fn a_principal_is_created_once_and_granted_only_over_known_org_units() {
    given(people())
        .when(Command::CreatePrincipal {
            principal: pid("planner.cd"),
            name: text("x"),
        })
        .then_expect_error(DomainError::PrincipalAlreadyExists(pid("planner.cd")));
    given(people())
        .when(Command::GrantRole {
            principal: pid("planner.cd"),
            grant: Grant {
                role: Role::Viewer,
                scope: Some(code("HG")),
            },
        })
        .then_expect_error(DomainError::UnknownOrgUnit(code("HG")));
    given(people())
        .when(Command::GrantRole {
            principal: pid("planner.cd"),
            grant: Grant {
                role: Role::Planner,
                scope: Some(code("LA.CAN-DUOC")),
            },
        })
        .then_expect_error(DomainError::GrantAlreadyHeld(pid("planner.cd")));
}

#[test]
fn tokens_are_recorded_by_digest_and_revoked_once() {
    given(people())
        .when(Command::IssueToken {
            principal: pid("planner.cd"),
            token: TokenId(Uuid::from_u128(2)),
            digest: "not hex".into(),
            expires_at: None,
        })
        .then_expect_error(DomainError::InvalidDigest);
    given(people())
        .when(Command::IssueToken {
            principal: pid("planner.cd"),
            token: TokenId(Uuid::from_u128(2)),
            digest: digest(1),
            expires_at: None,
        })
        .then_expect_error(DomainError::TokenAlreadyIssued(TokenId(Uuid::from_u128(2))));
    let revoked = Event::TokenRevoked(TokenRevoked {
        principal: pid("planner.cd"),
        token: TokenId(Uuid::from_u128(1)),
    });
    given(people().into_iter().chain([revoked]))
        .when(Command::RevokeToken {
            principal: pid("planner.cd"),
            token: TokenId(Uuid::from_u128(1)),
        })
        .then_expect_error(DomainError::TokenAlreadyRevoked(TokenId(Uuid::from_u128(
            1,
        ))));
}

#[test]
fn a_token_stops_working_when_revoked_expired_or_its_principal_disabled() {
    let now = chrono::Utc::now();
    let ok = given(people());
    assert_eq!(
        ok.state.authenticate(&digest(1), now).unwrap().principal,
        pid("planner.cd")
    );
    assert_eq!(
        ok.state.authenticate(&digest(9), now),
        Err(AccessError::InvalidToken)
    );
    let revoked = given(
        people()
            .into_iter()
            .chain([Event::TokenRevoked(TokenRevoked {
                principal: pid("planner.cd"),
                token: TokenId(Uuid::from_u128(1)),
            })]),
    );
    assert_eq!(
        revoked.state.authenticate(&digest(1), now),
        Err(AccessError::InvalidToken)
    );
    let mut expiring = people();
    expiring.push(Event::TokenIssued(TokenIssued {
        principal: pid("planner.cd"),
        token: TokenId(Uuid::from_u128(3)),
        digest: digest(3),
        expires_at: Some(now - chrono::Duration::seconds(1)),
    }));
    assert_eq!(
        given(expiring).state.authenticate(&digest(3), now),
        Err(AccessError::InvalidToken)
    );
    let disabled = given(people().into_iter().chain([Event::PrincipalDisabled(
        PrincipalDisabled {
            principal: pid("planner.cd"),
            reason: text("Nghỉ hưu"),
        },
    )]));
    assert_eq!(
        disabled.state.authenticate(&digest(1), now),
        Err(AccessError::InvalidToken)
    );
}

#[test]
fn a_grant_covers_its_org_unit_and_descendants_only() {
    let scenario = given(people());
    let s = &scenario.state;
    let planner = pid("planner.cd");
    let define = |org: &str| {
        Command::DefineIndicator(IndicatorDefinition {
            id: IndicatorId(Uuid::from_u128(99)),
            org_unit: code(org),
            ..budget_revenue()
        })
    };
    for (org, allowed) in [
        ("LA.CAN-DUOC", true),
        ("LA.CAN-DUOC.TT", true),
        ("LA", false),
    ] {
        let (permission, scope) = s.requirement(&define(org));
        assert_eq!(permission, Permission::Plan);
        assert_eq!(
            s.authorize(&planner, permission, scope.as_ref()).is_ok(),
            allowed,
            "{org}"
        );
    }
    // Results need a reporter's grant; a planner's does not do.
    let report = Command::ReportActual {
        indicator: BUDGET,
        report: support::report(1, rust_decimal_macros::dec!(1), ResultStatus::Final),
        supersedes: None,
        reason: None,
    };
    let (permission, scope) = s.requirement(&report);
    assert_eq!(
        (permission, scope.clone()),
        (Permission::Report, Some(code("LA.CAN-DUOC")))
    );
    assert!(matches!(
        s.authorize(&planner, permission, scope.as_ref()),
        Err(AccessError::Forbidden { .. })
    ));
    // Provinces and principals need a grant for everywhere.
    let (permission, scope) = s.requirement(&Command::RegisterOrgUnit(province()));
    assert_eq!(scope, None);
    assert!(s.authorize(&planner, permission, None).is_err());
    assert!(s
        .authorize(&pid("nobody"), Permission::ReadCurrent, None)
        .is_err());
}
