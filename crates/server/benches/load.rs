//! Load benchmark of the running server (a bench binary; see BENCHMARKS.md).
//!
//! `cargo bench -p chitieu-server --bench load` starts the `chitieu` binary
//! that Cargo built for the bench (optimised, `CARGO_BIN_EXE_chitieu`) in
//! demo mode on a temporary data directory, grows the data to 10,000
//! indicators through the API (definition, target, reported figure
//! and a revision each), then runs each scenario with 32 concurrent
//! connections for `BENCH_SECONDS` (default 10) and prints throughput and
//! latency percentiles:
//! - `{ __typename }`: the ceiling of the HTTP and GraphQL stack;
//! - one indicator with targets, latest actual and 20 history entries;
//! - a page of 50 indicators with targets and latest actual, of one org
//!   unit and period, and with no filter at all;
//! - `reportActual` (durable, read-your-writes);
//! - random indicators read alone, then with one `reportActual` in 100 and
//!   in 1,000 (the read rate kept and the reads' latency: a write anywhere
//!   empties the response cache).
//!
//!
//! Every scenario runs twice on the same data: with the response cache on
//! (the default: a query's response is kept until the log moves) and off
//! (every request resolved in full).
//!
//! The load generator runs on the same 2-core machine as the server.

mod support;

use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 32;

struct Server {
    url: String,
    tokens: std::collections::HashMap<String, String>,
    child: std::process::Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server on `dir` (demo data loaded when empty) with a response
/// cache of `cache_mib` MiB.
fn start(dir: &std::path::Path, cache_mib: usize) -> Server {
    // Cargo builds the binary with the bench profile and says where it is.
    let binary = env!("CARGO_BIN_EXE_chitieu");
    let config = dir.join("chitieu.toml");
    // BENCH_MEMORY: a `[memory]` section to compare page-cache sizes.
    let memory = std::env::var("BENCH_MEMORY").unwrap_or_default();
    std::fs::write(
        &config,
        format!("[limits]\nresponse_cache_mib = {cache_mib}\n{memory}\n"),
    )
    .expect("config");
    let mut child = Command::new(binary)
        .args(["demo", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start chitieu");
    let (url, mut tokens) = support::read_banner(&mut child);
    // Role names for the demo's people who hold that role everywhere.
    for (role, id) in [
        ("planner", "vp-huyen-uy"),
        ("reporter", "pkt-tieu-can"),
        ("auditor", "ubkt"),
        ("viewer", "lanh-dao"),
    ] {
        if let Some(token) = tokens.get(id).cloned() {
            tokens.insert(role.to_owned(), token);
        }
    }
    Server { url, tokens, child }
}

async fn call(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request");
    let body: Value = response.json().await.expect("json");
    if body.get("errors").is_some() {
        panic!("errors: {body}");
    }
    body["data"].clone()
}

/// Grows the data to `total` indicators, 32 writers at a time.
async fn grow(server: &Server, total: usize) -> Vec<String> {
    let client = reqwest::Client::new();
    let docs = call(
        &client,
        &server.url,
        &server.tokens["planner"],
        "{ documents { id number } }",
        json!({}),
    )
    .await;
    let docs: Vec<String> = docs["documents"]
        .as_array()
        .expect("docs")
        .iter()
        .map(|d| d["id"].as_str().expect("id").to_owned())
        .collect();
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, url, next, docs) = (
            client.clone(),
            server.url.clone(),
            next.clone(),
            docs.clone(),
        );
        let planner = server.tokens["planner"].clone();
        let reporter = server.tokens["reporter"].clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return ids;
                }
                let org = ["LA.CAN-DUOC", "TV.TIEU-CAN", "AG.CHO-MOI", "HG.PHUNG-HIEP"][n % 4];
                let defined = call(&client, &url, &planner,
                    "mutation($org: ID!, $name: String!, $doc: ID!) { defineIndicator(input: {orgUnit: $org, period: \"2025\", category: ECONOMY, name: $name, unit: \"tỷ đồng\", measure: AMOUNT, document: $doc}) { indicator { id } } }",
                    json!({ "org": org, "name": format!("Giá trị sản xuất ngành số {n}"), "doc": docs[0] })).await;
                let id = defined["defineIndicator"]["indicator"]["id"].as_str().expect("id").to_owned();
                call(&client, &url, &planner,
                    "mutation($id: ID!, $doc: ID!) { setTarget(input: {indicator: $id, track: RESOLUTION, target: {kind: PLAIN, value: \"1000\"}, document: $doc}) { position } }",
                    json!({ "id": id, "doc": docs[0] })).await;
                call(&client, &url, &reporter,
                    "mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: \"1043.5\"}, refersTo: \"2025-12-31\", status: FINAL, reason: \"Số liệu thống kê\"}) { position } }",
                    json!({ "id": id })).await;
                call(&client, &url, &planner,
                    "mutation($id: ID!, $doc: ID!) { reviseTarget(input: {indicator: $id, track: RESOLUTION, target: {kind: PLAIN, value: \"1050\"}, document: $doc, reason: \"Điều chỉnh\"}) { position } }",
                    json!({ "id": id, "doc": docs[1] })).await;
                ids.push(id);
            }
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.extend(t.await.expect("task"));
    }
    println!(
        "grew the data by {} indicators (4 mutations each) in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    ids
}

struct Outcome {
    requests: usize,
    /// Mutations among them.
    writes: usize,
    seconds: f64,
    /// Latency percentiles of the reads (of every request when none read).
    p50: f64,
    p99: f64,
}

async fn load(
    server: &Server,
    role: &str,
    seconds: f64,
    make: impl Fn(usize) -> (String, Value) + Send + Sync + 'static,
) -> Outcome {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .expect("client");
    let make = Arc::new(make);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let (client, url, token, make) = (
            client.clone(),
            server.url.clone(),
            server.tokens[role].clone(),
            make.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut writes = Vec::new();
            let mut n = c;
            while Instant::now() < deadline {
                let (query, variables) = make(n);
                let t = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({ "query": query, "variables": variables }))
                    .send()
                    .await
                    .expect("request");
                let ok = response.status().is_success();
                let body = response.bytes().await.expect("body");
                assert!(
                    ok && !body.windows(9).any(|w| w == b"\"errors\":"),
                    "{}",
                    String::from_utf8_lossy(&body)
                );
                if query.starts_with("mutation") {
                    writes.push(t.elapsed());
                } else {
                    latencies.push(t.elapsed());
                }
                n += CONNECTIONS;
            }
            (latencies, writes)
        }));
    }
    let (mut all, mut written) = (Vec::new(), Vec::new());
    for t in tasks {
        let (reads, writes) = t.await.expect("task");
        all.extend(reads);
        written.extend(writes);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let writes = written.len();
    let requests = all.len() + writes;
    if all.is_empty() {
        all = written;
    }
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Outcome {
        requests,
        writes,
        seconds: elapsed,
        p50: pct(0.5),
        p99: pct(0.99),
    }
}

fn report(name: &str, o: &Outcome, ceiling: Option<f64>) {
    let rate = o.requests as f64 / o.seconds;
    let share = ceiling
        .map(|c| format!(" ({:.0}% of the ceiling)", rate / c * 100.0))
        .unwrap_or_default();
    println!(
        "{name}: {rate:.0} req/s{share}, p50 {:.2} ms, p99 {:.2} ms",
        o.p50, o.p99
    );
}

/// Reads of random indicators with one write in `every` (the write
/// anywhere that empties the response cache), against the same reads
/// alone: the read rate kept, and the reads' latency.
async fn mixed(server: &Server, ids: Arc<Vec<String>>, seconds: f64) {
    const READ: &str = "query($id: ID!) { indicator(id: $id) { id name version targets { track kind value } latestActual { figure status refersTo } } }";
    let only = ids.clone();
    let alone = load(server, "reporter", seconds, move |n| {
        // A spread of indicators, not one after the other.
        let i = n.wrapping_mul(2_654_435_761) % only.len();
        (READ.to_owned(), json!({ "id": only[i] }))
    })
    .await;
    let alone_rate = (alone.requests - alone.writes) as f64 / alone.seconds;
    report("random indicators, reads only", &alone, None);
    for every in [100, 1000] {
        let ids = ids.clone();
        let o = load(server, "reporter", seconds, move |n| {
            let i = n.wrapping_mul(2_654_435_761) % ids.len();
            if n % every == every - 1 {
                (
                    "mutation($id: ID!, $v: Decimal!) { reportActual(input: {indicator: $id, value: {amount: $v}, refersTo: \"2025-12-31\", status: ESTIMATE}) { position } }".to_owned(),
                    json!({ "id": ids[i], "v": format!("{}.5", 1000 + n % 97) }),
                )
            } else {
                (READ.to_owned(), json!({ "id": ids[i] }))
            }
        })
        .await;
        let reads = (o.requests - o.writes) as f64 / o.seconds;
        println!(
            "random indicators, 1 write in {every}: reads {reads:.0} /s ({:.0}% of reads alone), read p50 {:.2} ms, p99 {:.2} ms; {} writes",
            reads / alone_rate * 100.0,
            o.p50,
            o.p99,
            o.writes
        );
    }
}

fn main() {
    let seconds: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let total: usize = std::env::var("BENCH_INDICATORS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir_in(".").expect("temp dir");
    println!(
        "machine: {} cores; {CONNECTIONS} connections; server and load generator share the machine",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut ids: Option<Arc<Vec<String>>> = None;
    // The same data, served with the response cache on (the default) and off.
    for (label, cache_mib) in [
        ("response cache on (64 MiB, the default)", 64),
        ("response cache off", 0),
    ] {
        let server = start(dir.path(), cache_mib);
        println!("-- {label}");
        runtime.block_on(async {
            let ids = match &ids {
                Some(ids) => ids.clone(),
                None => {
                    let grown = Arc::new(grow(&server, total).await);
                    ids = Some(grown.clone());
                    grown
                }
            };
            scenarios(&server, ids, seconds).await;
        });
        let (now, peak) = rss_mib(server.child.id());
        println!("server memory after the scenarios: RSS {now} MiB, peak {peak} MiB");
        drop(server);
    }
}

/// A process's resident memory now and at its peak, in MiB (Linux).
fn rss_mib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn scenarios(server: &Server, ids: Arc<Vec<String>>, seconds: f64) {
    let ceiling = load(server, "viewer", seconds, |_| {
        ("{ __typename }".to_owned(), json!({}))
    })
    .await;
    report("{ __typename } (ceiling)", &ceiling, None);
    let c = ceiling.requests as f64 / ceiling.seconds;
    let one_ids = ids.clone();
    let one = load(server, "auditor", seconds, move |n| {
        (
            "query($id: ID!) { indicator(id: $id) { id name version targets { track kind value revisions } latestActual { figure status refersTo } history(first: 20) { edges { node { position kind recordedAt actor { id name } before after reason } } } } }".to_owned(),
            json!({ "id": one_ids[n % one_ids.len()] }),
        )
    })
    .await;
    report(
        "one indicator with targets, latest actual, 20 history entries",
        &one,
        Some(c),
    );
    let page = load(server, "viewer", seconds, |n| {
        let org = ["LA.CAN-DUOC", "TV.TIEU-CAN", "AG.CHO-MOI", "HG.PHUNG-HIEP"][n % 4];
        (
            "query($org: ID!) { indicators(filter: {orgUnit: $org, period: \"2025\"}, first: 50) { totalCount edges { node { id name targets { track value } latestActual { figure status } } } } }".to_owned(),
            json!({ "org": org }),
        )
    })
    .await;
    report(
        "a page of 50 indicators with targets and latest actual",
        &page,
        Some(c),
    );
    let unfiltered = load(server, "viewer", seconds, |_| {
        (
            "{ indicators(first: 50) { totalCount edges { node { id name targets { track value } latestActual { figure status } } } } }".to_owned(),
            json!({}),
        )
    })
    .await;
    report(
        "a page of 50 indicators, no filter (the index, not a listing of the store)",
        &unfiltered,
        Some(c),
    );
    let write_ids = ids.clone();
    let writes = load(server, "reporter", seconds, move |n| {
        (
            "mutation($id: ID!, $v: Decimal!) { reportActual(input: {indicator: $id, value: {amount: $v}, refersTo: \"2025-12-31\", status: ESTIMATE}) { position indicator { version } } }".to_owned(),
            json!({ "id": write_ids[n % write_ids.len()], "v": format!("{}.5", 1000 + n % 97) }),
        )
    })
    .await;
    report("reportActual (durable, read-your-writes)", &writes, None);
    mixed(server, ids, seconds).await;
}
