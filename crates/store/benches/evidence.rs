//! Benchmarks of the evidence (issue 12; a bench binary, see BENCHMARKS.md).
//!
//! `cargo bench -p chitieu-store --bench evidence` prints, on this machine:
//! - durable appends by 64 writers with and without the Merkle tree
//!   following the log, in the same run;
//! - building the tree of `BENCH_EVENTS` records (default 1,000,000);
//! - inclusion and consistency proofs at that size: p50/p99 to produce
//!   (signed head included), and their size;
//! - backup and restore of the whole log: events/s, and the backup's size
//!   against the store's on disk.

use chitieu_domain::event::EncodedEvent;
use chitieu_store::backup::BackupReader;
use chitieu_store::signed::LogKey;
use chitieu_store::StreamName;
use chitieu_store::{Actor, AppendMeta, AppendRequest, ExpectedVersion, Log, Notary, SledLog};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

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

fn event(n: u64) -> EncodedEvent {
    EncodedEvent {
        event_type: "actual_reported".into(),
        schema_version: 1,
        payload: format!(
            r#"{{"indicator":"0195f3c0-0000-7000-0000-{n:012x}","report":{{"report_id":"{}","value":{{"kind":"amount","value":"1577.95"}},"refers_to":"2025-12-31","status":"estimate","source":null,"note":"Ước thực hiện cả năm, số liệu Chi cục Thống kê huyện cung cấp ngày 15/12"}},"supersedes":null,"reason":null}}"#,
            Uuid::now_v7()
        )
        .into_bytes(),
    }
}

fn request(stream: u64, events: Vec<EncodedEvent>) -> AppendRequest {
    AppendRequest {
        stream: StreamName(format!("indicator/bench-{stream}")),
        expected: ExpectedVersion::Any,
        conditions: Vec::new(),
        events,
        idempotency_key: None,
        fingerprint: None,
        meta: meta(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// The median of a few runs.
fn median(runs: &[f64]) -> f64 {
    let mut sorted = runs.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// 64 writers, one event per call: events/s.
fn writers_rate(runtime: &tokio::runtime::Runtime, log: &Log, per_writer: u64) -> f64 {
    runtime.block_on(async {
        let started = Instant::now();
        let tasks: Vec<_> = (0..64u64)
            .map(|w| {
                let log = log.clone();
                tokio::spawn(async move {
                    for n in 0..per_writer {
                        log.append(request(w * 1000 + n % 100, vec![event(n)]))
                            .await
                            .expect("append");
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("writer");
        }
        (64 * per_writer) as f64 / started.elapsed().as_secs_f64()
    })
}

fn main() {
    let dir = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into()))
        .expect("temp dir");
    let total: u64 = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let per_writer: u64 = std::env::var("BENCH_APPENDS_PER_WRITER")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    println!(
        "machine: {} cores; data dir {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        dir.path().display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let key = LogKey::from_seed([7; 32]);

    // Appends with and without the tree following, `BENCH_ROUNDS` pairs
    // (3 by default) in the order ABBA ABBA… so that a machine slowing
    // down over the run (page-cache writeback) weighs on both sides;
    // each log is removed after its run. Medians compared.
    let mut without = Vec::new();
    let mut with = Vec::new();
    let mut behind = Vec::new();
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    for run in 0..2 * rounds {
        let tree_follows = matches!(run % 4, 1 | 2);
        let path = dir.path().join(format!("appends-{run}"));
        let log: Log = Arc::new(SledLog::open(&path).expect("open"));
        if tree_follows {
            let notary = Notary::new(log.clone(), key.clone(), "bench");
            let follower = {
                let _inside = runtime.enter();
                notary.spawn()
            };
            with.push(writers_rate(&runtime, &log, per_writer));
            let started = Instant::now();
            runtime.block_on(notary.wait_for(log.head().position, Duration::from_secs(60)));
            behind.push(started.elapsed().as_secs_f64() * 1000.0);
            follower.abort();
        } else {
            without.push(writers_rate(&runtime, &log, per_writer));
        }
        log.close().expect("close");
        drop(log);
        std::fs::remove_dir_all(&path).expect("remove the run's log");
    }
    let (a, b) = (median(&without), median(&with));
    println!(
        "durable appends, 64 writers, 1 event/call, {} events per run: {a:.0} events/s without the tree, {b:.0} with it following (medians of {rounds} runs each, ABBA: {:+.1} %; runs {without:.0?} / {with:.0?}); the tree caught up {:.0?} ms after the last append",
        64 * per_writer,
        (b / a - 1.0) * 100.0,
        behind
    );

    // A log of `total` records, written in batches.
    let log: Log = Arc::new(SledLog::open(dir.path().join("big")).expect("open"));
    let started = Instant::now();
    runtime.block_on(async {
        let writers = 16u64;
        let batch = 250u64;
        let tasks: Vec<_> = (0..writers)
            .map(|w| {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut n = w;
                    while n * batch < total {
                        let events = (0..batch).map(|i| event(n * batch + i)).collect();
                        log.append(request(n % 5000, events)).await.expect("append");
                        n += writers;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("writer");
        }
    });
    let size = log.head().position;
    println!(
        "filled a log of {size} records in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let notary = Notary::new(log.clone(), key.clone(), "bench");
    let started = Instant::now();
    notary.catch_up().expect("tree");
    let built = started.elapsed();
    println!(
        "Merkle tree of {size} records built from the log in {:.2} s ({:.0} records/s), {:.1} MiB in memory",
        built.as_secs_f64(),
        size as f64 / built.as_secs_f64(),
        notary.tree_bytes() as f64 / (1 << 20) as f64
    );

    // Inclusion proofs of random positions at the head.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let samples = 10_000;
    let mut times = Vec::with_capacity(samples);
    let (mut path_bytes, mut bundle_bytes) = (0usize, 0usize);
    for _ in 0..samples {
        let position = 1 + next() % size;
        let t = Instant::now();
        let bundle = notary.inclusion(position, None).expect("inclusion");
        times.push(t.elapsed());
        path_bytes = path_bytes.max(bundle.path.len() * 32);
        bundle_bytes = bundle_bytes.max(serde_json::to_vec(&bundle).map_or(0, |b| b.len()));
    }
    times.sort();
    println!(
        "inclusion proof at {size} records ({samples} random positions; record read, path, head signed): p50 {:.3} ms, p99 {:.3} ms; proof {path_bytes} B of hashes, whole bundle (record, event, head, path as JSON) ≤ {bundle_bytes} B",
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    let mut times = Vec::with_capacity(samples);
    let (mut proof_bytes, mut bundle_bytes) = (0usize, 0usize);
    for _ in 0..samples {
        let from = 1 + next() % (size - 1);
        let t = Instant::now();
        let bundle = notary.consistency(from, None).expect("consistency");
        times.push(t.elapsed());
        proof_bytes = proof_bytes.max(bundle.path.len() * 32);
        bundle_bytes = bundle_bytes.max(serde_json::to_vec(&bundle).map_or(0, |b| b.len()));
    }
    times.sort();
    println!(
        "consistency proof to {size} records ({samples} random old sizes; two heads signed): p50 {:.3} ms, p99 {:.3} ms; proof ≤ {proof_bytes} B of hashes, whole bundle ≤ {bundle_bytes} B",
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );

    // Backup and restore.
    log.close().expect("flush");
    let store_bytes = log.size_on_disk().expect("size");
    let file = dir.path().join("backup.jsonl.gz");
    let started = Instant::now();
    let summary = notary
        .backup(
            std::io::BufWriter::new(std::fs::File::create(&file).expect("file")),
            |_| {},
        )
        .expect("backup");
    let took = started.elapsed();
    let backup_bytes = std::fs::metadata(&file).map_or(0, |m| m.len());
    println!(
        "backup of {} records: {:.1} s = {:.0} events/s; {:.0} MiB ({:.0} B/event) against {:.0} MiB of store on disk ({:.2}x)",
        summary.records,
        took.as_secs_f64(),
        summary.records as f64 / took.as_secs_f64(),
        backup_bytes as f64 / (1 << 20) as f64,
        backup_bytes as f64 / summary.records as f64,
        store_bytes as f64 / (1 << 20) as f64,
        backup_bytes as f64 / store_bytes as f64
    );
    // Reading and checking alone, then with the import.
    let started = Instant::now();
    let mut check = BackupReader::open(
        std::io::BufReader::new(std::fs::File::open(&file).expect("file")),
        Some(&key.public()),
    )
    .expect("open backup");
    while check.next_record().expect("record").is_some() {}
    let checked = check.finish(None).expect("signed head").records;
    println!(
        "check of the backup (every record, chain, root and signature): {:.0} events/s",
        checked as f64 / started.elapsed().as_secs_f64()
    );
    let restored: Log = Arc::new(SledLog::open(dir.path().join("restored")).expect("open"));
    let started = Instant::now();
    let reader = BackupReader::open(
        std::io::BufReader::new(std::fs::File::open(&file).expect("file")),
        Some(&key.public()),
    )
    .expect("open backup");
    let report = runtime
        .block_on(chitieu_store::backup::restore_into(
            &restored,
            reader,
            10_000,
            |_| {},
        ))
        .expect("restore");
    let took = started.elapsed();
    println!(
        "restore (check every record, chain and signature; import durably): {} records in {:.1} s = {:.0} events/s",
        report.records,
        took.as_secs_f64(),
        report.records as f64 / took.as_secs_f64()
    );
    assert_eq!(restored.head(), log.head());
    let head = restored.head();
    restored.close().expect("close");
    drop(restored);
    // Opening reads every block once (the stream index is built in memory).
    let started = std::time::Instant::now();
    let reopened = SledLog::open_waiting(
        dir.path().join("restored"),
        std::time::Duration::from_secs(10),
    )
    .expect("reopen");
    let took = started.elapsed();
    assert_eq!(chitieu_store::log::EventLog::head(&reopened), head);
    println!(
        "open of the restored log of {} records (stream index built from the blocks): {:.2} s",
        head.position,
        took.as_secs_f64()
    );
    chitieu_store::log::EventLog::close(&reopened).expect("close");
}
