//! Soak benchmark: the server SIGKILLed again and again under concurrent
//! writers through the HTTP API (a bench binary; see BENCHMARKS.md).
//!
//! `cargo bench -p chitieu-server --bench soak` starts the `chitieu` binary
//! Cargo built for the bench in demo mode on a temporary data directory,
//! then `SOAK_WRITERS` (default 16) clients send `reportActual` mutations,
//! each with an idempotency key of its own, retrying the same key on any
//! failure (a refused connection, a timeout, a 5xx) until it is answered.
//! Every `SOAK_KILL_MS` (default 1500, jittered ±50 %) the server is
//! SIGKILLed and started again on the same directory, `SOAK_CYCLES`
//! (default 50) times. At the end:
//!
//! - every key ever sent is replayed: each returns `replayed: true` with
//!   the position its first answer gave (nothing acknowledged was lost),
//!   and the head does not move (the replay wrote nothing);
//! - the head moved by exactly the number of distinct keys (nothing was
//!   written twice, even when the answer was lost in a kill and the client
//!   retried), and no two keys share a position;
//! - `verifyLedger` is ok.
//!
//! It prints the figures (acknowledged writes, the rate, retries, answers
//! lost in a kill and resolved by the retry, the time from SIGKILL to
//! ready) and fails loudly on any broken guarantee.

mod support;

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server {
    url: String,
    tokens: HashMap<String, String>,
    child: std::process::Child,
}

/// Starts the demo on `dir` and waits for its banner.
fn start(dir: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start chitieu");
    let (url, tokens) = support::read_banner(&mut child);
    Server { url, tokens, child }
}

/// A refusal to retry (the server was down, busy or lost a race) or not.
#[derive(Debug)]
struct Failure {
    retry: bool,
    text: String,
}

async fn call(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Result<Value, Failure> {
    let retry = |text: String| Failure { retry: true, text };
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .map_err(|e| retry(e.to_string()))?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| retry(e.to_string()))?;
    if let Some(errors) = body.get("errors") {
        let code = errors[0]["extensions"]["code"].as_str().unwrap_or("");
        return Err(Failure {
            retry: status.is_server_error()
                || matches!(
                    code,
                    "CONFLICT" | "TIMEOUT" | "STORAGE_UNAVAILABLE" | "UNAVAILABLE"
                ),
            text: format!("{status}: {body}"),
        });
    }
    if status.is_server_error() {
        return Err(retry(format!("{status}: {body}")));
    }
    Ok(body["data"].clone())
}

/// The log's head, as the auditor reads it.
async fn ledger_head(client: &reqwest::Client, url: &str, auditor: &str) -> u64 {
    call(client, url, auditor, "{ ledger { position } }", json!({}))
        .await
        .expect("ledger")["ledger"]["position"]
        .as_u64()
        .expect("head")
}

const REPORT: &str = r#"mutation($id: ID!, $value: Decimal!, $key: String!) { reportActual(input: {indicator: $id, value: {amount: $value}, refersTo: "2025-06-30", status: ESTIMATE, reason: "soak", idempotencyKey: $key}) { position replayed } }"#;

#[derive(Default)]
struct Tally {
    /// key → (the variables sent, position of its first answer, replayed then).
    acked: BTreeMap<String, (Value, u64, bool)>,
    retries: u64,
}

fn main() {
    let cycles = env_or("SOAK_CYCLES", 50);
    let writers = env_or("SOAK_WRITERS", 16);
    let kill_ms = env_or("SOAK_KILL_MS", 1500);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut server = start(&data);
    let token = server.tokens["pkt-tieu-can"].clone();
    let auditor = server.tokens["ubkt"].clone();
    let url = Arc::new(RwLock::new(server.url.clone()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");

    let (indicators, base) = runtime.block_on(async {
        let found = call(&client, &server.url, &auditor, r#"{ indicators(filter: {orgUnit: "LA.CAN-DUOC", period: "2025"}, first: 100) { edges { node { id } } } }"#, json!({})).await.expect("indicators");
        // The indicators that take a plain amount (one report each).
        let mut ids = Vec::new();
        for (i, edge) in found["indicators"]["edges"].as_array().expect("edges").iter().enumerate() {
            let id = edge["node"]["id"].as_str().expect("id").to_owned();
            let vars = json!({ "id": id, "value": "1", "key": format!("soak-probe-{i}") });
            if call(&client, &server.url, &token, REPORT, vars).await.is_ok() {
                ids.push(id);
            }
        }
        (ids, ledger_head(&client, &server.url, &auditor).await)
    });
    assert!(
        indicators.len() >= 8,
        "too few indicators: {}",
        indicators.len()
    );
    println!(
        "soak: {writers} writers, {cycles} SIGKILLs every ~{kill_ms} ms, demo head {base}, {} indicators",
        indicators.len()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (client, url, stop, tally, token, sent) = (
            client.clone(),
            url.clone(),
            stop.clone(),
            tally.clone(),
            token.clone(),
            sent.clone(),
        );
        let indicators = indicators.clone();
        tasks.push(runtime.spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("soak-{w}-{n}");
                let value = format!("{w}.{n:04}");
                let id = &indicators[w as usize % indicators.len()];
                let vars = json!({ "id": id, "value": value, "key": key });
                let mut retried = false;
                // The same key until answered: a write is never given up.
                let answer = loop {
                    let at = url.read().expect("url").clone();
                    match call(&client, &at, &token, REPORT, vars.clone()).await {
                        Ok(data) => break data,
                        Err(failure) if !failure.retry => {
                            panic!("{key}: refused: {}", failure.text)
                        }
                        Err(_) => {
                            retried = true;
                            tally.lock().expect("tally").retries += 1;
                            tokio::time::sleep(Duration::from_millis(25)).await;
                        }
                    }
                };
                let position = answer["reportActual"]["position"]
                    .as_u64()
                    .expect("position");
                let replayed = answer["reportActual"]["replayed"]
                    .as_bool()
                    .expect("replayed");
                assert!(!replayed || retried, "{key}: replayed on its first try");
                tally
                    .lock()
                    .expect("tally")
                    .acked
                    .insert(key, (vars, position, replayed));
                sent.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        }));
    }

    // The killer.
    let mut restarts = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for cycle in 0..cycles {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wait = kill_ms / 2 + seed % kill_ms.max(1);
        std::thread::sleep(Duration::from_millis(wait));
        let _ = server.child.kill();
        let _ = server.child.wait();
        let killed = Instant::now();
        server = start(&data);
        restarts.push(killed.elapsed());
        *url.write().expect("url") = server.url.clone();
        if (cycle + 1) % 10 == 0 {
            println!(
                "  {} kills, {} writes acknowledged",
                cycle + 1,
                sent.load(Ordering::Relaxed)
            );
        }
    }
    std::thread::sleep(Duration::from_millis(kill_ms));
    stop.store(true, Ordering::Relaxed);
    runtime.block_on(async {
        for task in tasks {
            task.await.expect("writer");
        }
    });
    let elapsed = started.elapsed();
    let tally = Arc::try_unwrap(tally)
        .ok()
        .expect("tally")
        .into_inner()
        .expect("tally");
    let acked = tally.acked.len() as u64;
    let resolved = tally
        .acked
        .values()
        .filter(|(_, _, replayed)| *replayed)
        .count();

    // Checks.
    let (head, verified) = runtime.block_on(async {
        let url = server.url.clone();
        let head = ledger_head(&client, &url, &auditor).await;
        // Replay every key: the first answer's position, nothing written.
        let mut mismatches = Vec::new();
        for (key, (vars, position, _)) in &tally.acked {
            let again = call(&client, &url, &token, REPORT, vars.clone())
                .await
                .expect("replay");
            let at = again["reportActual"]["position"]
                .as_u64()
                .expect("position");
            if at != *position || again["reportActual"]["replayed"] != true {
                mismatches.push(format!(
                    "{key}: acknowledged at {position}, replayed {again}"
                ));
            }
        }
        assert!(mismatches.is_empty(), "LOST OR CHANGED: {mismatches:?}");
        let after = ledger_head(&client, &url, &auditor).await;
        assert_eq!(
            after, head,
            "the replay of acknowledged keys wrote something"
        );
        let verified = call(
            &client,
            &url,
            &auditor,
            "{ verifyLedger { ok checked } }",
            json!({}),
        )
        .await
        .expect("verify");
        (head, verified)
    });
    let mut positions: Vec<u64> = tally.acked.values().map(|(_, p, _)| *p).collect();
    positions.sort_unstable();
    positions.dedup();
    assert_eq!(positions.len() as u64, acked, "two keys share a position");
    assert_eq!(
        head - base,
        acked,
        "the head moved by {} for {acked} distinct writes",
        head - base
    );
    assert_eq!(verified["verifyLedger"]["ok"], true, "{verified}");
    let _ = server.child.kill();
    let _ = server.child.wait();

    restarts.sort();
    let pick = |q: f64| restarts[((restarts.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "soak: {cycles} SIGKILLs in {:.0} s; {acked} writes acknowledged ({:.0} /s through the kills), {} retries, {resolved} answers lost in a kill and resolved by the retry (replayed, not rewritten)",
        elapsed.as_secs_f64(),
        acked as f64 / elapsed.as_secs_f64(),
        tally.retries,
    );
    println!(
        "soak: SIGKILL → ready p50 {:.0} ms, p90 {:.0} ms, max {:.0} ms",
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.9).as_secs_f64() * 1e3,
        pick(1.0).as_secs_f64() * 1e3
    );
    println!(
        "soak: lost 0, doubled 0; head {base} → {head} (+{acked}); verifyLedger ok ({} checked since its checkpoint)",
        verified["verifyLedger"]["checked"]
    );
}
