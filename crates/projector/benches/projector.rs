//! Benchmarks of the read side (a bench binary; see BENCHMARKS.md).
//!
//! `cargo bench -p chitieu-projector --bench projector` prints:
//! - rebuild of 1,000,000 events over 10,000 indicators (a realistic mix:
//!   definitions, targets on two tracks, estimates superseded by finals,
//!   corrections, revisions), in events/s, and the rebuilding process's
//!   peak memory (it runs in a fresh process);
//! - time-travel read of one indicator with 1,000 events in its history;
//! - projection lag (append acknowledged → visible in the read model), p50
//!   and p99, while 64 writers append;
//! - bytes on disk per event, log and read models, after the rebuild and
//!   after `BENCH_RESTARTS` (default 100) restarts of both.
//!
//! `BENCH_EVENTS` changes the number of events (default 1,000,000); the
//! generated log is kept in `target/bench-projector-<events>` and reused.
//! `BENCH_CACHE_MIB` sets sled's cache for the rebuild (default 1,024).

use chitieu_domain::*;

/// The allocator the server ships with (glibc malloc fragments under the
/// rebuild's allocation pattern), with the server's options.
#[global_allocator]
static GLOBAL: chitieu_alloc::Allocator = chitieu_alloc::Allocator;
use chitieu_projector::{Projector, ReadModel};
use chitieu_store::{Actor, AppendMeta, AppendRequest, EventLog, ExpectedVersion, Log, SledLog};
use rust_decimal::Decimal;
use std::time::{Duration, Instant};
use uuid::Uuid;

fn text(s: &str) -> Text {
    Text::parse(s).expect("valid text")
}

fn meta(actor: &str) -> AppendMeta {
    AppendMeta {
        actor: Actor {
            id: actor.into(),
            name: format!("Cán bộ {actor}"),
            role: "reporter".into(),
        },
        correlation_id: Uuid::now_v7(),
        causation_id: None,
    }
}

fn append(store: &SledLog, state: &mut DomainState, actor: &str, events: Vec<Event>) -> u64 {
    let stream = events[0].stream_id();
    let request = AppendRequest {
        conditions: Vec::new(),
        stream: (&stream).into(),
        expected: ExpectedVersion::Exact(state.stream_version(&stream)),
        events: events.iter().map(EventCodec::encode).collect(),
        idempotency_key: None,
        fingerprint: None,
        meta: meta(actor),
    };
    let outcome = store.append_blocking(request).expect("append");
    for e in &events {
        evolve(state, e);
    }
    outcome.last_position
}

const ORGS: usize = 20;

fn base(store: &SledLog, state: &mut DomainState) {
    let code = |s: &str| OrgUnitCode::parse(s).expect("code");
    let mut commands = vec![Command::RegisterOrgUnit(OrgUnit {
        code: code("TV"),
        name: text("Tỉnh Trà Vinh"),
        level: OrgUnitLevel::Province,
        parent: None,
        established: None,
    })];
    commands.push(Command::RegisterOrgUnit(OrgUnit {
        code: code("TV.TIEU-CAN"),
        name: text("Huyện Tiểu Cần"),
        level: OrgUnitLevel::District,
        parent: Some(code("TV")),
        established: None,
    }));
    for c in 0..ORGS {
        commands.push(Command::RegisterOrgUnit(OrgUnit {
            code: code(&format!("TV.TIEU-CAN.X{c:02}")),
            name: text(&format!("Xã số {c}")),
            level: OrgUnitLevel::Commune,
            parent: Some(code("TV.TIEU-CAN")),
            established: None,
        }));
    }
    for d in 1..=2u128 {
        commands.push(Command::RegisterDocument(Document {
            id: DocumentId(Uuid::from_u128(d)),
            number: None,
            kind: DocumentKind::Resolution,
            issuing_body: text("Huyện ủy Tiểu Cần"),
            org_unit: Some(code("TV.TIEU-CAN")),
            issued_on: None,
            title: text(&format!("Nghị quyết số {d}")),
        }));
    }
    for command in commands {
        let events = decide(state, &command).expect("base command");
        append(store, state, "admin", events);
    }
}

/// The history of one indicator: `events` events, decided one by one.
fn history(state: &DomainState, n: u64, events: usize) -> Vec<Event> {
    let id = IndicatorId(Uuid::from_u64_pair(0xBE7C, n));
    let doc = |d: u128| DocumentId(Uuid::from_u128(d));
    let org = OrgUnitCode::parse(&format!("TV.TIEU-CAN.X{:02}", n as usize % ORGS)).expect("code");
    let mut scratch = DomainState {
        org_units: state.org_units.clone(),
        documents: state.documents.clone(),
        indicators: Default::default(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(events);
    let run = |command: Command, scratch: &mut DomainState, out: &mut Vec<Event>| {
        let new = decide(scratch, &command).unwrap_or_else(|e| panic!("{command:?}: {e}"));
        for e in &new {
            evolve(scratch, e);
        }
        out.extend(new);
    };
    let base_value = Decimal::new(10_000 + (n as i64 % 500) * 7, 1);
    run(
        Command::DefineIndicator(IndicatorDefinition {
            id,
            org_unit: org,
            period: Period::Year(2022),
            category: [Category::Economy, Category::Society, Category::Environment][n as usize % 3],
            code: Some(text(&format!("{}.{}", n % 5 + 1, n % 7))),
            name: text(&format!("Giá trị sản xuất ngành số {n}")),
            unit: Some(text("tỷ đồng")),
            measure: Measure::Amount,
            parent: None,
            previous: None,
            document: Some(doc(1)),
        }),
        &mut scratch,
        &mut out,
    );
    run(
        Command::SetTarget {
            indicator: id,
            track: TargetTrack::Resolution,
            target: Target {
                kind: TargetKind::Plain {
                    value: base_value,
                    base: None,
                },
                document: doc(1),
                wording: None,
            },
        },
        &mut scratch,
        &mut out,
    );
    run(
        Command::SetTarget {
            indicator: id,
            track: TargetTrack::Assigned,
            target: Target {
                kind: TargetKind::AtLeast {
                    value: base_value - Decimal::TEN,
                    strict: false,
                },
                document: doc(1),
                wording: None,
            },
        },
        &mut scratch,
        &mut out,
    );
    let mut k = 0u64;
    let mut last_final: Option<ReportId> = None;
    let mut last_estimate: Option<ReportId> = None;
    let mut revision_doc = 1u128;
    while out.len() < events {
        k += 1;
        let report_id = ReportId(Uuid::from_u64_pair(n, k));
        let value = ResultValue::Amount {
            value: base_value + Decimal::new(k as i64 * 13 % 997, 1),
        };
        let report = |status| ActualReport {
            report_id,
            value: value.clone(),
            // Figures to date (lũy kế): each new one replaces the one
            // before of its kind, a final the estimate or the previous
            // final (with a reason), as offices report through the year.
            refers_to: chrono::NaiveDate::from_ymd_opt(2022, 1, 1)
                .and_then(|d| d.checked_add_days(chrono::Days::new(k)))
                .unwrap_or_default(),
            status,
            source: Some(doc(1)),
            note: Some(text("Ước thực hiện, số liệu của Chi cục Thống kê")),
            stated: None,
        };
        let command = match k % 10 {
            0 => {
                revision_doc = 3 - revision_doc;
                Command::ReviseTarget {
                    indicator: id,
                    track: TargetTrack::Resolution,
                    target: Target {
                        kind: TargetKind::Plain {
                            value: base_value + Decimal::from(k),
                            base: None,
                        },
                        document: doc(revision_doc),
                        wording: None,
                    },
                    reason: Some(text("Điều chỉnh kế hoạch giữa năm")),
                }
            }
            7 if last_final.is_some() => Command::CorrectActual {
                indicator: id,
                corrects: last_final.take().unwrap_or(report_id),
                report: report(ResultStatus::Final),
                reason: Some(text("Cập nhật số liệu chính thức")),
            },
            1 | 3 | 5 => Command::ReportActual {
                indicator: id,
                report: report(ResultStatus::Estimate),
                supersedes: last_estimate.replace(report_id),
                reason: None,
            },
            _ => {
                let (supersedes, reason) = match last_final {
                    Some(f) => (Some(f), Some(text("Số liệu chính thức lũy kế"))),
                    None => (last_estimate.take(), None),
                };
                Command::ReportActual {
                    indicator: id,
                    report: report(ResultStatus::Final),
                    supersedes,
                    reason,
                }
            }
        };
        if matches!(
            command,
            Command::ReportActual {
                report: ActualReport {
                    status: ResultStatus::Final,
                    ..
                },
                ..
            } | Command::CorrectActual { .. }
        ) {
            last_final = Some(report_id);
        }
        run(command, &mut scratch, &mut out);
    }
    out
}

fn generate(path: &std::path::Path, total: usize) -> SledLog {
    let store = SledLog::open(path).expect("open");
    if store.head().position >= total as u64 {
        return store;
    }
    assert_eq!(
        store.head().position,
        0,
        "a partial bench log is left in {}; delete it",
        path.display()
    );
    let started = Instant::now();
    let mut state = DomainState::default();
    base(&store, &mut state);
    let indicators = (total / 100).max(1);
    let state = std::sync::Arc::new(state);
    let threads: Vec<_> = (0..4usize)
        .map(|t| {
            let (store, state) = (store.clone(), state.clone());
            std::thread::spawn(move || {
                let mut local = DomainState {
                    org_units: state.org_units.clone(),
                    documents: state.documents.clone(),
                    indicators: Default::default(),
                    ..Default::default()
                };
                for n in (t..indicators).step_by(4) {
                    let events = history(&local, n as u64, 100);
                    append(&store, &mut local, &format!("reporter-{}", n % 50), events);
                    local.indicators.clear();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("generator thread");
    }
    println!(
        "generated {} events in {:.1} s",
        store.head().position,
        started.elapsed().as_secs_f64()
    );
    store
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn rebuild_only(path: &str) {
    let mut config = chitieu_store::StoreConfig::new(path);
    if let Some(mib) = std::env::var("BENCH_CACHE_MIB")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        config.cache_capacity = mib * 1024 * 1024;
    }
    println!(
        "sled cache capacity: {} MiB",
        config.cache_capacity / 1024 / 1024
    );
    let store = SledLog::open_with(config).expect("open");
    let log: Log = std::sync::Arc::new(store);
    let projector = Projector::open(&log, std::path::Path::new(&format!("{path}-read-models")))
        .expect("projector");
    let rss_before = peak_rss_mib();
    let started = Instant::now();
    let head = projector.rebuild().expect("rebuild");
    let elapsed = started.elapsed();
    println!(
        "rebuild: {head} events in {:.2} s = {:.0} events/s; peak RSS {:.0} MiB (after open {:.0} MiB)",
        elapsed.as_secs_f64(),
        head as f64 / elapsed.as_secs_f64(),
        peak_rss_mib(),
        rss_before
    );
    // 4. Footprint: bytes on disk per event, log and read models, after
    // the rebuild and after BENCH_RESTARTS (default 100) restarts.
    projector.flush().expect("flush");
    footprint("after the rebuild", &log, &projector, head);
    drop(projector);
    log.close().expect("close");
    drop(log);
    let restarts: usize = std::env::var("BENCH_RESTARTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let read_models = format!("{path}-read-models");
    for _ in 0..restarts {
        let store = SledLog::open(path).expect("reopen");
        let log: Log = std::sync::Arc::new(store);
        let projector =
            Projector::open(&log, std::path::Path::new(&read_models)).expect("projector");
        projector.catch_up().expect("catch up");
        projector.flush().expect("flush");
        drop(projector);
        log.close().expect("close");
    }
    let store = SledLog::open(path).expect("reopen");
    let log: Log = std::sync::Arc::new(store);
    let projector = Projector::open(&log, std::path::Path::new(&read_models)).expect("projector");
    footprint(
        &format!("after {restarts} restarts"),
        &log,
        &projector,
        head,
    );
}

fn footprint(when: &str, log: &Log, projector: &Projector, events: u64) {
    let log_bytes = log.size_on_disk().unwrap_or(0);
    let read_bytes = projector.size_on_disk().unwrap_or(0);
    let per = |bytes: u64| bytes as f64 / events.max(1) as f64;
    println!(
        "on disk {when}: log {:.0} B/event, read models {:.0} B/event, together {:.0} B/event ({:.0} MiB)",
        per(log_bytes),
        per(read_bytes),
        per(log_bytes + read_bytes),
        (log_bytes + read_bytes) as f64 / (1024.0 * 1024.0)
    );
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// The full and the incremental walk of `LedgerVerifier` on the log at `path`.
fn verify_figures(path: &std::path::Path) {
    let store = SledLog::open(path).expect("open");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let head = store.head();
    let started = Instant::now();
    let full = runtime
        .block_on(store.verify_from(chitieu_store::Head::default(), Default::default()))
        .expect("full walk");
    let full_time = started.elapsed();
    assert!(full.first_break.is_none() && full.head == head);
    let behind = head.position.saturating_sub(1_000);
    let checkpoint = store.head_at(behind).expect("head at");
    let mut times = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        assert_eq!(
            store.head_at(checkpoint.position).expect("head at"),
            checkpoint
        );
        let report = runtime
            .block_on(store.verify_from(checkpoint, Default::default()))
            .expect("incremental walk");
        times.push(started.elapsed());
        assert_eq!(report.checked, head.position - behind);
    }
    times.sort();
    println!(
        "verifyLedger at {} events: first full walk {:.2} s; then 1,000 new records: p50 {:.2} ms, max {:.2} ms",
        head.position,
        full_time.as_secs_f64(),
        percentile(&times, 0.5),
        percentile(&times, 1.0)
    );
}

fn main() {
    // The server's allocator options (also links them into this binary).
    let allocator = chitieu_alloc::settings();
    // As the server does (`without_huge_pages` in its main.rs).
    #[cfg(target_os = "linux")]
    if std::env::var_os("CHITIEU_ALLOW_THP").is_none() {
        let _ = rustix::thread::disable_transparent_huge_pages(true);
    }
    let args: Vec<String> = std::env::args().collect();
    if let (Some("rebuild-only"), Some(path)) = (args.get(1).map(String::as_str), args.get(2)) {
        rebuild_only(path);
        return;
    }
    let total: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let target_dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| format!("{}/../../target", env!("CARGO_MANIFEST_DIR")));
    let path = std::path::PathBuf::from(target_dir).join(format!("bench-projector-{total}"));
    println!(
        "machine: {} cores; allocator {allocator:?}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // 1. Rebuild, in a fresh process for an honest peak-memory figure.
    generate(&path, total).close().expect("close");
    let exe = std::env::current_exe().expect("exe");
    let status = std::process::Command::new(exe)
        .arg("rebuild-only")
        .arg(&path)
        .status()
        .expect("rebuild process");
    assert!(status.success());

    // 2. verifyLedger on the big log, by the store calls `LedgerVerifier`
    //    (crates/service) makes: its first full walk from the first record
    //    (a background job in the server), then the incremental check of a
    //    request (the record at the checkpoint re-read, then the walk from
    //    it) with the checkpoint 1,000 records behind the head.
    verify_figures(&path);

    // 3. Time travel on a fresh store: one indicator with 1,000 events.
    let dir = tempfile::tempdir_in(".").expect("temp dir");
    let store = SledLog::open(dir.path().join("db")).expect("open");
    let mut state = DomainState::default();
    base(&store, &mut state);
    let events = history(&state, 1, 1000);
    let id = events[0].indicator().expect("indicator");
    for slice in events.chunks(100) {
        append(&store, &mut state, "reporter-1", slice.to_vec());
    }
    let log: Log = std::sync::Arc::new(store.clone());
    let projector = Projector::open(&log, &dir.path().join("read-models")).expect("projector");
    projector.catch_up().expect("catch up");
    let read = ReadModel::new(projector.clone());
    let middle = store.head().position / 2;
    let mut times = Vec::new();
    for round in 0..200 {
        let at = if round % 2 == 0 {
            store.head().position
        } else {
            middle
        };
        let started = Instant::now();
        let view = read
            .indicator_at(id, at)
            .expect("time travel")
            .expect("exists");
        times.push(started.elapsed());
        assert!(view.version > 1);
    }
    times.sort();
    println!(
        "time travel, one indicator with 1,000 events: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        percentile(&times, 1.0)
    );

    // 4. Projection lag under the append load of 64 writers.
    let follower = projector.spawn_follower();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let state = std::sync::Arc::new(state);
    let lags = runtime.block_on(async {
        let tasks: Vec<_> = (0..64u64)
            .map(|w| {
                let (store, projector, state) = (store.clone(), projector.clone(), state.clone());
                tokio::spawn(async move {
                    let mut local = DomainState {
                        org_units: state.org_units.clone(),
                        documents: state.documents.clone(),
                        indicators: Default::default(),
                        ..Default::default()
                    };
                    let mut lags = Vec::new();
                    for n in 0..60u64 {
                        let events = history(&local, 1000 + w * 100 + n, 4);
                        let stream = events[0].stream_id();
                        let request = AppendRequest {
                            conditions: Vec::new(),
                            stream: (&stream).into(),
                            expected: ExpectedVersion::Exact(0),
                            events: events.iter().map(EventCodec::encode).collect(),
                            idempotency_key: None,
                            fingerprint: None,
                            meta: meta("lag"),
                        };
                        let outcome = store.append(request).await.expect("append");
                        let acknowledged = Instant::now();
                        projector
                            .wait_for(outcome.last_position, Duration::from_secs(10))
                            .await
                            .expect("visible");
                        lags.push(acknowledged.elapsed());
                        local.indicators.clear();
                    }
                    lags
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.expect("task"));
        }
        all
    });
    let mut lags = lags;
    lags.sort();
    println!(
        "projection lag under 64 writers ({} appends of 4 events): p50 {:.2} ms, p99 {:.2} ms",
        lags.len(),
        percentile(&lags, 0.5),
        percentile(&lags, 0.99)
    );
    projector.stop();
    let _ = follower.join();
}
