//! Given / when / then tests of reporting periods: the lifecycle, the
//! freeze of approved and locked periods, and the approval digest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chitieu_domain::event::*;
use chitieu_domain::*;
use rust_decimal_macros::dec;
use support::*;
use uuid::Uuid;

const Y2025: ReportingPeriod = ReportingPeriod::Year(2025);

fn unit() -> OrgUnitCode {
    code("LA.CAN-DUOC")
}

fn final_report(id: u128, value: rust_decimal::Decimal, on: chrono::NaiveDate) -> ActualReport {
    ActualReport {
        report_id: ReportId(Uuid::from_u128(id)),
        value: ResultValue::Amount { value },
        refers_to: on,
        status: ResultStatus::Final,
        source: Some(PROGRAMME),
        note: None,
        stated: None,
    }
}

fn with_figures() -> Vec<Event> {
    let mut events = registered();
    events.push(Event::TargetSet(TargetSet {
        indicator: BUDGET,
        track: TargetTrack::Resolution,
        target: plain(dec!(581), PROGRAMME),
    }));
    events.push(Event::ActualReported(ActualReported {
        indicator: BUDGET,
        report: final_report(1, dec!(612.4), day(2025, 12, 31)),
        supersedes: None,
        reason: None,
    }));
    events
}

/// Folds events the way the service does, positions from 1, and runs the
/// lifecycle up to `status` on the year 2025.
fn state_with(status: PeriodStatus) -> DomainState {
    let mut state = DomainState::default();
    let mut position = 0;
    let mut fold = |state: &mut DomainState, events: Vec<Event>| {
        for e in events {
            position += 1;
            evolve_at(state, &e, position);
        }
    };
    fold(&mut state, with_figures());
    let steps = [
        Command::SubmitPeriod {
            unit: unit(),
            period: Y2025,
            note: None,
        },
        Command::ApprovePeriod {
            unit: unit(),
            period: Y2025,
            approval: ApprovalId(Uuid::from_u128(0xA1)),
            document: PROGRAMME,
            expected_digest: None,
        },
        Command::LockPeriod {
            unit: unit(),
            period: Y2025,
            document: None,
        },
    ];
    let wanted = match status {
        PeriodStatus::Open => 0,
        PeriodStatus::Submitted => 1,
        PeriodStatus::Approved => 2,
        PeriodStatus::Locked => 3,
    };
    for command in steps.into_iter().take(wanted) {
        let events = decide(&state, &command).unwrap();
        fold(&mut state, events);
    }
    state
}

fn every_write_into_2025() -> Vec<Command> {
    vec![
        Command::ReportActual {
            indicator: BUDGET,
            report: final_report(2, dec!(600), day(2025, 6, 30)),
            supersedes: None,
            reason: None,
        },
        Command::CorrectActual {
            indicator: BUDGET,
            corrects: ReportId(Uuid::from_u128(1)),
            report: final_report(3, dec!(621.4), day(2025, 12, 31)),
            reason: Some(text("Nhầm số liệu")),
        },
        Command::SetTarget {
            indicator: BUDGET,
            track: TargetTrack::Stretch,
            target: plain(dec!(600), PROGRAMME),
        },
        Command::ReviseTarget {
            indicator: BUDGET,
            track: TargetTrack::Resolution,
            target: plain(dec!(590), PROVINCE_RESOLUTION),
            reason: Some(text("Điều chỉnh")),
        },
        // It changes how the figures are judged.
        Command::SetDirection {
            indicator: BUDGET,
            better: chitieu_domain::direction::Better::Lower,
            reason: Some(text("Chi càng thấp càng tốt")),
            document: None,
        },
    ]
}

#[test]
fn an_open_or_submitted_period_takes_every_write() {
    for status in [PeriodStatus::Open, PeriodStatus::Submitted] {
        let state = state_with(status);
        for command in every_write_into_2025() {
            assert!(decide(&state, &command).is_ok(), "{status:?}: {command:?}");
        }
    }
}

#[test]
fn an_approved_or_locked_period_refuses_every_write_into_it() {
    for status in [PeriodStatus::Approved, PeriodStatus::Locked] {
        let state = state_with(status);
        for command in every_write_into_2025() {
            let refused = decide(&state, &command);
            assert_eq!(
                refused,
                Err(DomainError::PeriodLocked {
                    unit: unit(),
                    period: Y2025,
                    status,
                }),
                "{command:?}"
            );
            assert!(refused.is_err_and(|e| e.is_period_locked()));
        }
    }
}

#[test]
fn a_frozen_year_does_not_freeze_another_year() {
    let state = state_with(PeriodStatus::Locked);
    let mut report = final_report(9, dec!(700), day(2026, 12, 31));
    report.source = Some(PROGRAMME);
    let command = Command::ReportActual {
        indicator: BUDGET,
        report,
        supersedes: None,
        reason: None,
    };
    assert!(decide(&state, &command).is_ok());
}

#[test]
fn a_correction_moving_a_figure_out_of_a_frozen_period_is_refused_too() {
    let state = state_with(PeriodStatus::Locked);
    let command = Command::CorrectActual {
        indicator: BUDGET,
        corrects: ReportId(Uuid::from_u128(1)),
        report: final_report(3, dec!(612.4), day(2026, 1, 31)),
        reason: Some(text("Nhầm ngày")),
    };
    assert!(decide(&state, &command).is_err_and(|e| e.is_period_locked()));
}

#[test]
fn the_lifecycle_goes_in_order() {
    let approve = Command::ApprovePeriod {
        unit: unit(),
        period: Y2025,
        approval: ApprovalId(Uuid::from_u128(0xA2)),
        document: PROGRAMME,
        expected_digest: None,
    };
    let err = decide(&state_with(PeriodStatus::Open), &approve);
    assert!(matches!(
        err,
        Err(DomainError::PeriodTransition {
            status: PeriodStatus::Open,
            ..
        })
    ));
    let lock = Command::LockPeriod {
        unit: unit(),
        period: Y2025,
        document: None,
    };
    assert!(decide(&state_with(PeriodStatus::Submitted), &lock).is_err());
    let unlock = |reason: Option<&str>, document: Option<DocumentId>| Command::UnlockPeriod {
        unit: unit(),
        period: Y2025,
        reason: reason.map(text),
        document,
    };
    let locked = state_with(PeriodStatus::Locked);
    assert_eq!(
        decide(&locked, &unlock(None, Some(PROGRAMME))),
        Err(DomainError::ReasonRequired)
    );
    assert_eq!(
        decide(&locked, &unlock(Some("Cập nhật"), None)),
        Err(DomainError::DocumentRequired)
    );
    let events = decide(&locked, &unlock(Some("Cập nhật"), Some(PROGRAMME))).unwrap();
    let mut reopened = locked.clone();
    events.iter().for_each(|e| evolve(&mut reopened, e));
    for command in every_write_into_2025() {
        assert!(decide(&reopened, &command).is_ok(), "{command:?}");
    }
    assert!(decide(
        &state_with(PeriodStatus::Open),
        &unlock(Some("x"), Some(PROGRAMME))
    )
    .is_err());
    let unknown = Command::SubmitPeriod {
        unit: code("LA.NOWHERE"),
        period: Y2025,
        note: None,
    };
    assert_eq!(
        decide(&DomainState::default(), &unknown),
        Err(DomainError::UnknownOrgUnit(code("LA.NOWHERE")))
    );
}

#[test]
fn an_approval_binds_the_digest_of_the_figures_with_their_positions() {
    let state = state_with(PeriodStatus::Approved);
    let approval = &state.periods[&unit()].periods[&Y2025].approvals[0];
    let sections = approval::sections(&state, &unit(), Y2025).unwrap();
    assert_eq!(sections.len(), 1);
    let (digest, each) = approval::digest(&unit(), Y2025, &sections);
    assert_eq!(approval.digest, digest);
    assert_eq!(each[0].indicator, BUDGET);
    let canonical = approval::canonical_json(&approval::document(&unit(), Y2025, &sections));
    // The target set at position 7 and the figure reported at 8 (after
    // the registrations), as the log holds them.
    assert!(canonical.starts_with(r#"{"format":"chitieu.approval.v1","indicators":[{"figures":[{"position":8,"report":{"note":null,"refers_to":"2025-12-31","report_id":"00000000-0000-0000-0000-000000000001","source":"00000000-0000-0000-0000-000000000038","status":"final","value":{"type":"amount","value":"612.4"}}}],"indicator":"00000000-0000-0000-0000-000000b0d6e7","targets":[{"position":7,"target":"#), "{canonical}");
    assert!(
        canonical.ends_with(r#""org_unit":"LA.CAN-DUOC","period":"2025"}"#),
        "{canonical}"
    );
}

#[test]
fn an_approval_refuses_figures_other_than_those_reviewed() {
    let state = state_with(PeriodStatus::Submitted);
    let approve = |expected: &str| Command::ApprovePeriod {
        unit: unit(),
        period: Y2025,
        approval: ApprovalId(Uuid::from_u128(0xA3)),
        document: PROGRAMME,
        expected_digest: Some(expected.to_owned()),
    };
    let sections = approval::sections(&state, &unit(), Y2025).unwrap();
    let (digest, _) = approval::digest(&unit(), Y2025, &sections);
    assert!(decide(&state, &approve(&digest)).is_ok());
    assert!(matches!(
        decide(&state, &approve("00")),
        Err(DomainError::ApprovalDigestMismatch { .. })
    ));
}

#[test]
fn a_write_into_figures_reads_the_periods_of_its_unit_and_an_approval_reads_its_indicators() {
    let state = state_with(PeriodStatus::Submitted);
    for command in every_write_into_2025() {
        assert_eq!(
            read_streams(&state, &command),
            vec![StreamId::periods(&unit())]
        );
    }
    let approve = Command::ApprovePeriod {
        unit: unit(),
        period: Y2025,
        approval: ApprovalId(Uuid::from_u128(0xA4)),
        document: PROGRAMME,
        expected_digest: None,
    };
    assert_eq!(
        read_streams(&state, &approve),
        vec![StreamId::indicator(BUDGET)]
    );
    assert_eq!(
        state.stream_version(&StreamId::periods(&unit())),
        1,
        "the submission is the stream's first event"
    );
}
