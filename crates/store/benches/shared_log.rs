//! The PostgreSQL log against a plain-INSERT baseline, in one run on a
//! private cluster (`chitieu-testkit`), and the lag from an append on node
//! A to the same event in node B's copy of the log.
//!
//! - baseline: 64 connections, each event one `INSERT` into a table with
//!   `UNIQUE (stream, version)` in its own transaction
//!   (`synchronous_commit = on`);
//! - chitieu: 64 writers spread over 3 nodes (three `PgLog`s, each with its
//!   own connections, writer task and follower), durable single-event
//!   appends, grouped per node into one transaction;
//! - lag: while that load runs, a probe appends on node A and waits until
//!   node B's copy holds the event.
//!
//! `BENCH_SECONDS` (default 10) per phase.

#![allow(missing_docs, clippy::unwrap_used)]

use chitieu_domain::event::EncodedEvent;
use chitieu_store::StreamName;
use chitieu_store::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WRITERS: usize = 64;

fn seconds() -> Duration {
    Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10),
    )
}

fn payload(n: u64) -> Vec<u8> {
    format!(
        r#"{{"indicator":"0195f3c0-0000-7000-8000-{n:012}","report_id":"0195f3c0-0000-7000-8000-000000000002","report":{{"value":{{"kind":"amount","value":"713.275"}},"refers_to":"2025-06-30","status":"estimate","note":"Ước thực hiện 6 tháng đầu năm, theo báo cáo của Phòng Tài chính - Kế hoạch huyện"}}}}"#
    )
    .into_bytes()
}

fn request(stream: u64, n: u64) -> AppendRequest {
    AppendRequest {
        stream: StreamName(format!("indicator/bench-{stream}")),
        expected: ExpectedVersion::Any,
        conditions: Vec::new(),
        events: vec![EncodedEvent {
            event_type: "actual_reported".into(),
            schema_version: 2,
            payload: payload(n),
        }],
        idempotency_key: None,
        fingerprint: None,
        meta: AppendMeta {
            actor: Actor {
                id: "pkt-tieu-can".into(),
                name: "Phòng Kinh tế huyện Tiểu Cần".into(),
                role: "reporter".into(),
            },
            correlation_id: uuid::Uuid::now_v7(),
            causation_id: None,
        },
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

async fn baseline(url: &str) -> (f64, Vec<Duration>) {
    let (setup, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    setup
        .batch_execute(
            "CREATE TABLE baseline (stream text NOT NULL, version bigint NOT NULL, \
             payload bytea NOT NULL, UNIQUE (stream, version))",
        )
        .await
        .unwrap();
    let until = Instant::now() + seconds();
    let started = Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let url = url.to_owned();
            tokio::spawn(async move {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(connection);
                client
                    .batch_execute("SET synchronous_commit TO on")
                    .await
                    .unwrap();
                let insert = client
                    .prepare("INSERT INTO baseline (stream, version, payload) VALUES ($1, $2, $3)")
                    .await
                    .unwrap();
                let stream = format!("indicator/bench-{w}");
                let mut latencies = Vec::new();
                let mut version = 0i64;
                while Instant::now() < until {
                    version += 1;
                    let t = Instant::now();
                    client
                        .execute(&insert, &[&stream, &version, &payload(version as u64)])
                        .await
                        .unwrap();
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

async fn shared_log(url: &str) -> (f64, Vec<Duration>, Vec<Duration>, CommitStats) {
    let mut nodes: Vec<Log> = Vec::new();
    for _ in 0..3 {
        nodes.push(Arc::new(
            PgLog::connect(PgConfig::in_memory(url)).await.unwrap(),
        ));
    }
    let until = Instant::now() + seconds();
    let started = Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let node = nodes[w % 3].clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = 0u64;
                while Instant::now() < until {
                    n += 1;
                    let t = Instant::now();
                    node.append(request(w as u64, n)).await.unwrap();
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    // The probe: append on A, wait until B's copy holds it.
    let (a, b) = (nodes[0].clone(), nodes[1].clone());
    let probe = tokio::spawn(async move {
        let mut lags = Vec::new();
        let mut watch = b.watch_head();
        let mut n = 0u64;
        while Instant::now() < until {
            n += 1;
            let outcome = a.append(request(1_000_000, n)).await.unwrap();
            let acked = Instant::now();
            watch
                .wait_for(|h| h.position >= outcome.last_position)
                .await
                .unwrap();
            lags.push(acked.elapsed());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        lags
    });
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    let mut lags = probe.await.unwrap();
    let rate = all.len() as f64 / elapsed.as_secs_f64();
    all.sort();
    lags.sort();
    let mut stats = CommitStats::default();
    for node in &nodes {
        let s = node.commit_stats();
        stats.appends += s.appends;
        stats.groups += s.groups;
        stats.flushes += s.flushes;
    }
    let report = nodes[2].verify().await.unwrap();
    assert_eq!(report.first_break, None);
    for node in &nodes {
        node.close().unwrap();
    }
    (rate, all, lags, stats)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let cluster = chitieu_testkit::PgCluster::start();
        println!(
            "PostgreSQL: a private cluster (fsync on, synchronous_commit on); {WRITERS} writers; {} s per phase",
            seconds().as_secs()
        );
        let url = cluster.fresh_database().await;
        let (base, base_latencies) = baseline(&url).await;
        println!(
            "baseline, one INSERT per event in its own transaction: {base:.0} events/s (p50 {:.2} ms, p99 {:.2} ms)",
            percentile(&base_latencies, 0.5),
            percentile(&base_latencies, 0.99)
        );
        let url = cluster.fresh_database().await;
        let (rate, latencies, lags, stats) = shared_log(&url).await;
        println!(
            "chitieu PgLog, 3 nodes, durable single-event appends: {rate:.0} events/s = {:.2}x the baseline (p50 {:.2} ms, p99 {:.2} ms)",
            rate / base,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99)
        );
        println!(
            "  group commit: {} appends in {} transactions ({:.1} per transaction)",
            stats.appends,
            stats.flushes,
            stats.appends as f64 / stats.flushes.max(1) as f64
        );
        println!(
            "lag from an acknowledged append on node A to node B's copy: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} probes)",
            percentile(&lags, 0.5),
            percentile(&lags, 0.99),
            lags.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
            lags.len()
        );
    });
}
