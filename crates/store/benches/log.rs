//! Benchmarks of the event log (a bench binary; see BENCHMARKS.md).
//!
//! `cargo bench -p chitieu-store --bench log` prints, on this machine:
//! - the disk's raw `fdatasync` rate (4 KiB write + fdatasync, one thread);
//! - durable appends by one writer, one event per call, beside that rate;
//! - durable appends by 64 concurrent writers, one event per call;
//! - reading the global log (records decoded; and through the domain codec);
//! - bytes on disk per realistic event against its encoded size.
//!
//! `BENCH_SECONDS` sets the duration of the timed single-writer phases
//! (default 5); `BENCH_APPENDS_PER_WRITER` the appends of each of the 64
//! writers (default 4,000, so 256,000 events: sled slows as its tree grows,
//! so a fixed count makes runs comparable).

use chitieu_domain::actual::{ActualReport, ReportId, ResultStatus, ResultValue};
use chitieu_domain::event::{ActualReported, EncodedEvent};
use chitieu_domain::{Event, EventCodec, IndicatorId, Text};
use chitieu_store::StreamName;
use chitieu_store::{iter_all, Actor, AppendMeta, AppendRequest, ExpectedVersion, Log, SledLog};
use rust_decimal::Decimal;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

fn seconds() -> Duration {
    Duration::from_secs_f64(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5.0),
    )
}

fn meta() -> AppendMeta {
    AppendMeta {
        actor: Actor {
            id: "reporter-tieu-can".into(),
            name: "Nguyễn Văn An".into(),
            role: "reporter".into(),
        },
        correlation_id: Uuid::now_v7(),
        causation_id: None,
    }
}

/// An actual reported with a note, as a commune would send it.
fn realistic_event(indicator: u64, n: u64) -> EncodedEvent {
    let event = Event::ActualReported(ActualReported {
        indicator: IndicatorId(Uuid::from_u64_pair(0x0195_f3c0_0000_7000, indicator)),
        report: ActualReport {
            report_id: ReportId(Uuid::now_v7()),
            value: ResultValue::Amount {
                value: Decimal::new(1_577_950 + n as i64, 3),
            },
            refers_to: chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or_default(),
            status: ResultStatus::Estimate,
            source: None,
            note: Text::parse(
                "Ước thực hiện cả năm, số liệu Chi cục Thống kê huyện cung cấp ngày 15/12",
            )
            .ok(),
            stated: None,
        },
        supersedes: None,
        reason: None,
    });
    EventCodec::encode(&event)
}

/// A request carrying an already encoded event: the store's cost only
/// (encoding an event is measured on its own below).
fn request(stream: u64, event: &EncodedEvent) -> AppendRequest {
    AppendRequest {
        stream: StreamName(format!("indicator/bench-{stream}")),
        expected: ExpectedVersion::Any,
        conditions: Vec::new(),
        events: vec![event.clone()],
        idempotency_key: None,
        fingerprint: None,
        meta: meta(),
    }
}

fn fdatasync_rate(dir: &std::path::Path) -> f64 {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).expect("create probe file");
    let block = vec![0xA5u8; 4096];
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < seconds().min(Duration::from_secs(3)) {
        file.write_all(&block).expect("write");
        file.sync_data().expect("fdatasync");
        n += 1;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(path);
    rate
}

fn main() {
    let dir = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into()))
        .expect("temp dir");
    println!(
        "machine: {} cores; data dir {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        dir.path().display()
    );

    let sync_rate = fdatasync_rate(dir.path());
    println!("raw fdatasync (4 KiB write + fdatasync, 1 thread): {sync_rate:.0} /s");

    // Encoding an event (domain value to JSON payload), for scale.
    let started = Instant::now();
    let mut bytes = 0usize;
    for n in 0..100_000 {
        bytes += realistic_event(n % 1000, n).payload.len();
    }
    println!(
        "encode a realistic event (NFC note, JSON): {:.2} µs/event ({bytes} bytes)",
        started.elapsed().as_secs_f64() * 1e6 / 100_000.0
    );
    let event = realistic_event(1, 1);

    // One writer, one event per call.
    // Through the interface, as every caller uses it.
    let store: Log = Arc::new(SledLog::open(dir.path().join("single")).expect("open"));
    let single_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < seconds() {
        single_runtime
            .block_on(store.append(request(n % 1000, &event)))
            .expect("append");
        n += 1;
    }
    let single = n as f64 / started.elapsed().as_secs_f64();
    println!(
        "durable appends, 1 writer, 1 event/call: {single:.0} events/s ({:.2}x the fdatasync rate)",
        single / sync_rate
    );
    store.close().expect("close");

    // 64 concurrent writers, one event per call.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let store: Log = Arc::new(SledLog::open(dir.path().join("concurrent")).expect("open"));
    let writers = 64u64;
    let per_writer = std::env::var("BENCH_APPENDS_PER_WRITER")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4000u64);
    let (events, elapsed, p50, p99) = runtime.block_on(async {
        let started = Instant::now();
        let tasks: Vec<_> = (0..writers)
            .map(|w| {
                let store = store.clone();
                let event = realistic_event(w, w);
                tokio::spawn(async move {
                    let mut n = 0u64;
                    let mut latencies = Vec::new();
                    while n < per_writer {
                        let t = Instant::now();
                        store
                            .append(request(w * 1000 + n % 100, &event))
                            .await
                            .expect("append");
                        latencies.push(t.elapsed());
                        n += 1;
                    }
                    (n, latencies)
                })
            })
            .collect();
        let mut total = 0;
        let mut all = Vec::new();
        for t in tasks {
            let (n, l) = t.await.expect("task");
            total += n;
            all.extend(l);
        }
        all.sort();
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        (total, started.elapsed(), pct(0.5), pct(0.99))
    });
    println!(
        "durable appends, {writers} concurrent writers, 1 event/call: {:.0} events/s (latency p50 {:.2} ms, p99 {:.2} ms)",
        events as f64 / elapsed.as_secs_f64(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    let head = store.head().position;
    let stats = store.commit_stats();
    println!(
        "  group commit: {} appends in {} groups and {} flushes ({:.1} appends per flush)",
        stats.appends,
        stats.groups,
        stats.flushes,
        stats.appends as f64 / stats.flushes.max(1) as f64
    );

    // Reading the global log.
    let started = Instant::now();
    let mut read = 0u64;
    for e in iter_all(&store, 1) {
        let e = e.expect("read");
        read += e.position & 1;
        read += 1 - (e.position & 1);
    }
    let elapsed = started.elapsed();
    println!(
        "read global log (records decoded): {read} events in {:.2} s = {:.0} events/s",
        elapsed.as_secs_f64(),
        read as f64 / elapsed.as_secs_f64()
    );
    let started = Instant::now();
    let mut decoded = 0u64;
    for e in iter_all(&store, 1) {
        let e = e.expect("read");
        if e.decode().is_ok() {
            decoded += 1;
        }
    }
    let elapsed = started.elapsed();
    println!(
        "read global log (records and domain events decoded): {:.0} events/s",
        decoded as f64 / elapsed.as_secs_f64()
    );

    // Space.
    store.close().expect("flush");
    let record_bytes: u64 = store
        .read_raw(1, usize::MAX)
        .expect("read")
        .iter()
        .map(|r| r.bytes.len() as u64)
        .sum();
    let payload_bytes = realistic_event(1, 1).payload.len();
    let on_disk = store.size_on_disk().expect("size");
    println!(
        "space: {head} realistic events; payload {payload_bytes} B, encoded record {:.0} B/event, on disk {:.0} B/event ({:.2}x)",
        record_bytes as f64 / head as f64,
        on_disk as f64 / head as f64,
        on_disk as f64 / record_bytes as f64
    );
}
