//! Test harness for the projector's kill-and-resume test
//! (`tests/kill_resume.rs`), not a user tool.
//!
//! - `projector-harness <db> seed <indicators>`: writes a realistic history
//!   (per indicator: definition, two targets, an estimate, the final figure,
//!   a revision) through `decide`, one append per indicator, from 4 threads.
//! - `projector-harness <db> rebuild <chunk>`: rebuilds the read models in
//!   chunks of that many events, then prints `DONE`.
//! - `projector-harness <db> follow`: follows the log live while writing
//!   more indicators, printing each acknowledged position, until killed.
//! - `projector-harness <db> verify`: resumes the projector from whatever
//!   a killed run left, catches up, and checks that its read models equal a
//!   fresh rebuild byte for byte; prints `OK` or exits with 1.

use chitieu_domain::*;
use chitieu_projector::Projector;
use chitieu_store::{Actor, AppendMeta, AppendRequest, EventLog, ExpectedVersion, Log, SledLog};
use rust_decimal::Decimal;
use std::io::Write;
use uuid::Uuid;

fn fail(message: String) -> ! {
    eprintln!("{message}");
    std::process::exit(1)
}

fn text(s: &str) -> Text {
    Text::parse(s).unwrap_or_else(|e| fail(format!("{s}: {e}")))
}

/// Registers the org units and documents the indicators need, if missing.
fn base(store: &SledLog, state: &mut DomainState) {
    let province = OrgUnit {
        code: OrgUnitCode::parse("HG").unwrap_or_else(|e| fail(e.to_string())),
        name: text("Tỉnh Hậu Giang"),
        level: OrgUnitLevel::Province,
        parent: None,
        established: None,
    };
    let district = OrgUnit {
        code: OrgUnitCode::parse("HG.PHUNG-HIEP").unwrap_or_else(|e| fail(e.to_string())),
        name: text("Huyện Phụng Hiệp"),
        level: OrgUnitLevel::District,
        parent: Some(province.code.clone()),
        established: None,
    };
    let document = |n: u128, title: &str| Document {
        id: DocumentId(Uuid::from_u128(n)),
        number: None,
        kind: DocumentKind::Resolution,
        issuing_body: text("Huyện ủy Phụng Hiệp"),
        org_unit: Some(district.code.clone()),
        issued_on: None,
        title: text(title),
    };
    let commands = vec![
        Command::RegisterOrgUnit(province.clone()),
        Command::RegisterOrgUnit(district.clone()),
        Command::RegisterDocument(document(1, "Chương trình công tác năm 2024")),
        Command::RegisterDocument(document(2, "Nghị quyết điều chỉnh chỉ tiêu")),
    ];
    for command in commands {
        if let Ok(events) = decide(state, &command) {
            append(store, state, &command.stream_id(), events);
        }
    }
}

fn append(store: &SledLog, state: &mut DomainState, stream: &StreamId, events: Vec<Event>) -> u64 {
    let request = AppendRequest {
        stream: stream.into(),
        expected: ExpectedVersion::Exact(state.stream_version(stream)),
        conditions: Vec::new(),
        events: events.iter().map(EventCodec::encode).collect(),
        idempotency_key: None,
        fingerprint: None,
        meta: AppendMeta {
            actor: Actor {
                id: "harness".into(),
                name: "Harness".into(),
                role: "planner".into(),
            },
            correlation_id: Uuid::now_v7(),
            causation_id: None,
        },
    };
    let outcome = store
        .append_blocking(request)
        .unwrap_or_else(|e| fail(e.to_string()));
    for e in &events {
        evolve(state, e);
    }
    outcome.last_position
}

/// The events of one indicator's realistic history, decided one by one.
fn indicator_history(state: &DomainState, n: u64) -> Vec<Event> {
    let id = IndicatorId(Uuid::from_u64_pair(0xC417, n));
    let doc = DocumentId(Uuid::from_u128(1));
    let value = Decimal::new(1000 + (n as i64 % 97) * 10, 1);
    let report = |r: u64, v: Decimal, status| ActualReport {
        report_id: ReportId(Uuid::from_u64_pair(0xAC7, n * 10 + r)),
        value: ResultValue::Amount { value: v },
        refers_to: chrono::NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default(),
        status,
        source: None,
        note: Some(text("Số liệu ước tính của Phòng Tài chính – Kế hoạch")),
        stated: None,
    };
    let commands = vec![
        Command::DefineIndicator(IndicatorDefinition {
            id,
            org_unit: OrgUnitCode::parse("HG.PHUNG-HIEP").unwrap_or_else(|e| fail(e.to_string())),
            period: Period::Year(2024),
            category: Category::Economy,
            code: Some(text(&n.to_string())),
            name: text(&format!("Chỉ tiêu kinh tế số {n}")),
            unit: Some(text("tỷ đồng")),
            measure: Measure::Amount,
            parent: None,
            previous: None,
            document: Some(doc),
        }),
        Command::SetTarget {
            indicator: id,
            track: TargetTrack::Resolution,
            target: Target {
                kind: TargetKind::Plain { value, base: None },
                document: doc,
                wording: None,
            },
        },
        Command::SetTarget {
            indicator: id,
            track: TargetTrack::Stretch,
            target: Target {
                kind: TargetKind::AtLeast {
                    value: value + Decimal::TEN,
                    strict: false,
                },
                document: doc,
                wording: None,
            },
        },
        Command::ReportActual {
            indicator: id,
            report: report(1, value - Decimal::ONE, ResultStatus::Estimate),
            supersedes: None,
            reason: None,
        },
        Command::ReportActual {
            indicator: id,
            report: report(2, value + Decimal::ONE, ResultStatus::Final),
            supersedes: Some(ReportId(Uuid::from_u64_pair(0xAC7, n * 10 + 1))),
            reason: Text::parse("Số liệu quyết toán").ok(),
        },
        Command::ReviseTarget {
            indicator: id,
            track: TargetTrack::Resolution,
            target: Target {
                kind: TargetKind::Plain {
                    value: value + Decimal::TWO,
                    base: None,
                },
                document: DocumentId(Uuid::from_u128(2)),
                wording: None,
            },
            reason: Some(text("Điều chỉnh theo nghị quyết giữa năm")),
        },
    ];
    let mut scratch = state.clone();
    let mut events = Vec::new();
    for command in commands {
        let new = decide(&scratch, &command).unwrap_or_else(|e| fail(format!("{command:?}: {e}")));
        for e in &new {
            evolve(&mut scratch, e);
        }
        events.extend(new);
    }
    events
}

fn load(store: &SledLog) -> DomainState {
    let mut state = DomainState::default();
    let all = store
        .read_all(1, usize::MAX)
        .unwrap_or_else(|e| fail(e.to_string()));
    for recorded in all {
        evolve(
            &mut state,
            &recorded.decode().unwrap_or_else(|e| fail(e.to_string())),
        );
    }
    state
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(mode)) = (args.get(1), args.get(2)) else {
        fail("usage: projector-harness <db> seed <n> | rebuild <chunk> | follow".into())
    };
    let store = SledLog::open_waiting(path, std::time::Duration::from_secs(10))
        .unwrap_or_else(|e| fail(e.to_string()));
    let log: Log = std::sync::Arc::new(store.clone());
    let read_models = std::path::PathBuf::from(format!("{path}-read-models"));
    let mut state = load(&store);
    base(&store, &mut state);
    let next = state.indicators.len() as u64;
    match mode.as_str() {
        "seed" => {
            let count: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);
            let state = std::sync::Arc::new(state);
            let threads: Vec<_> = (0..4u64)
                .map(|t| {
                    let (store, state) = (store.clone(), state.clone());
                    std::thread::spawn(move || {
                        let mut local = (*state).clone();
                        for n in (next + t..next + count).step_by(4) {
                            let events = indicator_history(&local, n);
                            let stream = events[0].stream_id();
                            append(&store, &mut local, &stream, events);
                        }
                    })
                })
                .collect();
            for t in threads {
                let _ = t.join();
            }
        }
        "rebuild" => {
            let chunk = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(500);
            let projector =
                Projector::open(&log, &read_models).unwrap_or_else(|e| fail(e.to_string()));
            projector.set_chunk_size(chunk);
            projector.rebuild().unwrap_or_else(|e| fail(e.to_string()));
            println!("DONE");
        }
        "follow" => {
            let projector =
                Projector::open(&log, &read_models).unwrap_or_else(|e| fail(e.to_string()));
            let _follower = projector.spawn_follower();
            let mut out = std::io::stdout();
            for n in next.. {
                let events = indicator_history(&state, n);
                let stream = events[0].stream_id();
                let position = append(&store, &mut state, &stream, events);
                let _ = writeln!(out, "ACK {position}");
                let _ = out.flush();
            }
        }
        "verify" => {
            let projector =
                Projector::open(&log, &read_models).unwrap_or_else(|e| fail(e.to_string()));
            let resumed_from = projector.position();
            let head = projector.catch_up().unwrap_or_else(|e| fail(e.to_string()));
            if head != store.head().position {
                fail(format!(
                    "caught up to {head}, but the log ends at {}",
                    store.head().position
                ));
            }
            let resumed = projector.digest().unwrap_or_else(|e| fail(e.to_string()));
            projector.rebuild().unwrap_or_else(|e| fail(e.to_string()));
            let rebuilt = projector.digest().unwrap_or_else(|e| fail(e.to_string()));
            if resumed != rebuilt {
                fail(format!(
                    "resumed from {resumed_from}: read models differ from a rebuild"
                ));
            }
            println!("OK resumed from {resumed_from} to {head}");
        }
        other => fail(format!("unknown mode {other}")),
    }
    drop(log);
    drop(store);
}
