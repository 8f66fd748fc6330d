//! Released events are frozen: one stored payload per event type and
//! version lives in `tests/golden/`, and this test proves that
//!
//! - every event type at its current version encodes to exactly the bytes
//!   of its golden file, and the file decodes back to the same event (so a
//!   change to a type the events embed, a renamed field, a new default,
//!   fails here instead of silently changing what is stored);
//! - every golden file of an older version still decodes, through its
//!   upcasters, to the event its `.upcast.json` file holds;
//! - every event type and every version up to the current one has a file.
//!
//! A new event version: add its golden file (run with
//! `CHITIEU_WRITE_GOLDEN=1` once to write the missing ones, then review
//! them) and keep the old file, with its `.upcast.json`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use chitieu_domain::event::current_version;
use chitieu_domain::*;
use rust_decimal_macros::dec;
use std::path::PathBuf;
use support::*;
use uuid::Uuid;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// One event of every type, produced by the rules from commands, so the
/// golden files hold payloads the code really writes.
fn every_event() -> Vec<Event> {
    let mut state = DomainState::default();
    let mut events = Vec::new();
    let mut run = |command: Command| {
        let produced = decide(&state, &command).unwrap_or_else(|e| panic!("{command:?}: {e}"));
        for e in &produced {
            evolve(&mut state, e);
        }
        events.extend(produced);
    };
    run(Command::RegisterOrgUnit(OrgUnit {
        established: Some(day(1989, 12, 12)),
        ..province()
    }));
    run(Command::RegisterOrgUnit(district()));
    run(Command::RegisterOrgUnit(town()));
    run(Command::RegisterDocument(province_resolution()));
    run(Command::RenameOrgUnit {
        unit: town().code,
        name: text("Xã Cần Đước"),
        effective: chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
        document: Some(PROVINCE_RESOLUTION),
    });
    run(Command::RegisterDocument(programme()));
    run(Command::DefineIndicator(budget_revenue()));
    run(Command::SetTarget {
        indicator: BUDGET,
        track: TargetTrack::Resolution,
        target: Target {
            kind: TargetKind::Plain {
                value: dec!(1577.95),
                base: Some(dec!(1560.781)),
            },
            document: PROGRAMME,
            wording: Some(text("1.577,95 tỷ đồng (… /1.560,781)")),
        },
    });
    run(Command::ReviseTarget {
        indicator: BUDGET,
        track: TargetTrack::Resolution,
        target: plain(dec!(1600), PROVINCE_RESOLUTION),
        reason: Some(text("Điều chỉnh theo Nghị quyết của Tỉnh ủy")),
    });
    run(Command::RestateTarget {
        indicator: BUDGET,
        track: TargetTrack::Resolution,
        statement: Target {
            kind: TargetKind::AtLeast {
                value: dec!(1600),
                strict: true,
            },
            document: PROVINCE_RESOLUTION,
            wording: Some(text("thu ngân sách đạt trên 1.600 tỷ đồng")),
        },
        reason: Some(text("Phần nhiệm vụ ghi “trên 1.600 tỷ đồng”")),
    });
    run(Command::ReportActual {
        indicator: BUDGET,
        report: ActualReport {
            stated: StatedFigures::of(Some(dec!(102.74)), Some(dec!(16.02))),
            ..report(0x51, dec!(812.4), ResultStatus::Estimate)
        },
        supersedes: None,
        reason: None,
    });
    run(Command::CorrectActual {
        indicator: BUDGET,
        corrects: ReportId(Uuid::from_u128(0x51)),
        report: report(0x52, dec!(821.4), ResultStatus::Estimate),
        reason: Some(text("Nhầm số liệu quý III")),
    });
    let last_year = IndicatorId(Uuid::from_u128(0xb0d6_2024));
    run(Command::DefineIndicator(IndicatorDefinition {
        id: last_year,
        period: Period::Year(2024),
        ..budget_revenue()
    }));
    run(Command::LinkPreviousPeriod {
        indicator: BUDGET,
        previous: last_year,
        reason: None,
    });
    let domestic = IndicatorId(Uuid::from_u128(0xb0d6_0001));
    run(Command::DefineIndicator(IndicatorDefinition {
        id: domestic,
        name: text("Thu nội địa"),
        ..budget_revenue()
    }));
    run(Command::SetIndicatorParent {
        indicator: domestic,
        parent: Some(BUDGET),
        reason: None,
    });
    run(Command::SetDirection {
        indicator: BUDGET,
        better: chitieu_domain::direction::Better::Lower,
        reason: Some(text("Chi tiêu càng thấp càng tốt theo nghị quyết")),
        document: Some(PROVINCE_RESOLUTION),
    });
    run(Command::RetireIndicator {
        indicator: BUDGET,
        reason: Some(text("Gộp vào chỉ tiêu thu ngân sách của tỉnh")),
        document: Some(PROVINCE_RESOLUTION),
    });
    let who = PrincipalId::parse("planner.can-duoc").unwrap();
    run(Command::CreatePrincipal {
        principal: who.clone(),
        name: text("Văn phòng Huyện ủy Cần Đước"),
    });
    let grant = Grant {
        role: Role::Planner,
        scope: Some(code("LA.CAN-DUOC")),
    };
    run(Command::GrantRole {
        principal: who.clone(),
        grant: grant.clone(),
    });
    run(Command::RevokeGrant {
        principal: who.clone(),
        grant,
    });
    let token = TokenId(Uuid::from_u128(0x70));
    run(Command::IssueToken {
        principal: who.clone(),
        token,
        digest: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        expires_at: Some(
            chrono::DateTime::parse_from_rfc3339("2026-01-31T00:00:00Z")
                .unwrap()
                .into(),
        ),
    });
    run(Command::RevokeToken {
        principal: who.clone(),
        token,
    });
    run(Command::DisablePrincipal {
        principal: who,
        reason: Some(text("Nghỉ hưu")),
    });
    let unit = code("LA.CAN-DUOC");
    run(Command::SubmitPeriod {
        unit: unit.clone(),
        period: ReportingPeriod::Year(2025),
        note: Some(text("Trình phê duyệt số liệu năm 2025")),
    });
    run(Command::ApprovePeriod {
        unit: unit.clone(),
        period: ReportingPeriod::Year(2025),
        approval: ApprovalId(Uuid::from_u128(0xA1)),
        document: PROGRAMME,
        expected_digest: None,
    });
    run(Command::LockPeriod {
        unit: unit.clone(),
        period: ReportingPeriod::Year(2025),
        document: Some(PROGRAMME),
    });
    run(Command::UnlockPeriod {
        unit,
        period: ReportingPeriod::Year(2025),
        reason: Some(text("Cập nhật số liệu quyết toán")),
        document: Some(PROVINCE_RESOLUTION),
    });
    run(Command::RegisterOrgUnit(OrgUnit {
        code: code("LA.CAN-GIUOC"),
        name: text("Huyện Cần Giuộc"),
        ..district()
    }));
    run(Command::MoveOrgUnit {
        unit: code("LA.CAN-DUOC.TT"),
        parent: code("LA.CAN-GIUOC"),
        effective: day(2025, 3, 1),
        document: Some(PROVINCE_RESOLUTION),
    });
    run(Command::RecordSuccession {
        unit: code("LA.CAN-DUOC.TT"),
        successors: vec![code("LA.CAN-DUOC")],
        effective: day(2025, 7, 1),
        document: Some(PROVINCE_RESOLUTION),
    });
    events
}

fn write_golden() -> bool {
    std::env::var("CHITIEU_WRITE_GOLDEN").is_ok_and(|v| v == "1")
}

#[test]
fn every_current_event_encodes_to_its_golden_bytes_and_back() {
    let mut seen = std::collections::BTreeSet::new();
    for event in every_event() {
        let encoded = EventCodec::encode(&event);
        if !seen.insert(encoded.event_type.clone()) {
            continue;
        }
        let path = golden_dir().join(format!(
            "{}.v{}.json",
            encoded.event_type, encoded.schema_version
        ));
        if write_golden() && !path.exists() {
            std::fs::write(&path, &encoded.payload).unwrap();
        }
        let golden = std::fs::read(&path).unwrap_or_else(|_| {
            panic!(
                "{} has no golden file: a new event or version needs one (CHITIEU_WRITE_GOLDEN=1)",
                path.display()
            )
        });
        assert_eq!(
            String::from_utf8_lossy(&encoded.payload),
            String::from_utf8_lossy(&golden),
            "{}: the stored shape of a released version changed; give it a new version and an upcaster",
            path.display()
        );
        let decoded =
            EventCodec::decode(&encoded.event_type, encoded.schema_version, &golden).unwrap();
        assert_eq!(decoded, event);
    }
    let all: Vec<&str> = vec![
        "org_unit_registered",
        "org_unit_succeeded",
        "org_unit_renamed",
        "document_registered",
        "indicator_defined",
        "target_set",
        "target_revised",
        "actual_reported",
        "actual_corrected",
        "indicator_retired",
        "indicator_direction_set",
        "indicator_previous_linked",
        "indicator_parent_set",
        "target_restated",
        "org_unit_moved",
        "principal_created",
        "role_granted",
        "grant_revoked",
        "token_issued",
        "token_revoked",
        "principal_disabled",
        "period_submitted",
        "period_approved",
        "period_locked",
        "period_unlocked",
    ];
    assert_eq!(seen, all.iter().map(|s| (*s).to_owned()).collect());
}

/// Every older version of every type has a golden file, which decodes
/// through its upcasters to what its `.upcast.json` says.
#[test]
fn every_older_version_still_decodes_through_its_upcasters() {
    for event in every_event() {
        let event_type = event.type_name();
        let current = current_version(event_type).unwrap();
        for version in 1..current {
            let path = golden_dir().join(format!("{event_type}.v{version}.json"));
            let old = std::fs::read(&path).unwrap_or_else(|_| {
                panic!("{} is missing: keep released versions", path.display())
            });
            let decoded = EventCodec::decode(event_type, version, &old)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let upcast = EventCodec::encode(&decoded);
            let expected_path = golden_dir().join(format!("{event_type}.v{version}.upcast.json"));
            if write_golden() && !expected_path.exists() {
                std::fs::write(&expected_path, &upcast.payload).unwrap();
            }
            let expected = std::fs::read(&expected_path)
                .unwrap_or_else(|_| panic!("{} is missing", expected_path.display()));
            assert_eq!(
                String::from_utf8_lossy(&upcast.payload),
                String::from_utf8_lossy(&expected),
                "{}",
                path.display()
            );
        }
    }
}

/// Every golden file names a known event type at a version the code knows.
#[test]
fn golden_files_are_all_accounted_for() {
    for entry in std::fs::read_dir(golden_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let stem = name.trim_end_matches(".json").trim_end_matches(".upcast");
        let (event_type, version) = stem.rsplit_once(".v").expect("<type>.v<N>.json");
        let version: u16 = version.parse().expect("a version number");
        let current = current_version(event_type).expect("a known event type");
        assert!(version <= current, "{name}: newer than the code");
    }
}
