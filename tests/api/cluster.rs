//! Three `chitieu serve` nodes on one PostgreSQL (a private cluster):
//! concurrent writes through all three, one node SIGKILLed under load and
//! restarted, PostgreSQL itself restarted under load. Afterwards every
//! acknowledged write is on every node, the heads agree, every chain
//! verifies and the read models are byte-identical.

use crate::helpers::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// What a load phase saw.
#[derive(Default, Debug)]
struct Seen {
    /// Acknowledged writes: document id and the position the node returned.
    acked: Vec<(String, u64)>,
    /// Error codes of refused or failed writes.
    errors: Vec<String>,
    /// When each node last acknowledged a write.
    last_ok: Vec<Option<Instant>>,
}

/// Registers documents through each node (two writers per node) until
/// `until`; a request that does not answer within 15 s fails the test.
async fn load(nodes: Vec<(String, String)>, until: Instant) -> Seen {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for (index, (url, token)) in nodes.iter().cloned().enumerate() {
        for _ in 0..2 {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let mut seen = Vec::new();
                while Instant::now() < until {
                    let n = NEXT.fetch_add(1, Ordering::Relaxed);
                    let body = json!({
                        "query": "mutation($t: String!) { registerDocument(input: {kind: RESOLUTION, issuingBody: \"Đảng ủy xã (minh họa)\", orgUnit: \"LA.CAN-DUOC\", title: $t}) { document { id } position } }",
                        "variables": { "t": format!("Nghị quyết minh họa số {n}") },
                    });
                    let sent = client
                        .post(&url)
                        .bearer_auth(&token)
                        .timeout(Duration::from_secs(15))
                        .json(&body)
                        .send()
                        .await
                        .expect("a node hung or dropped the connection");
                    let reply: Value = sent.json().await.expect("a JSON answer");
                    match reply["errors"][0]["extensions"]["code"].as_str() {
                        None => {
                            let payload = &reply["data"]["registerDocument"];
                            let id = payload["document"]["id"].as_str().unwrap().to_owned();
                            seen.push(Ok((id, payload["position"].as_u64().unwrap())));
                        }
                        Some(code) => {
                            seen.push(Err(code.to_owned()));
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
                (index, seen, Instant::now())
            }));
        }
    }
    let mut out = Seen {
        last_ok: vec![None; nodes.len()],
        ..Seen::default()
    };
    for task in tasks {
        let (index, seen, _) = task.await.unwrap();
        for result in seen {
            match result {
                Ok(ack) => {
                    out.acked.push(ack);
                    out.last_ok[index] = Some(Instant::now());
                }
                Err(code) => out.errors.push(code),
            }
        }
    }
    out
}

fn node(app: &TestApp) -> (String, String) {
    (app.url.clone(), app.tokens["planner"].clone())
}

async fn ledger(app: &TestApp) -> Value {
    app.gql(
        "auditor",
        "{ ledger { position hash projectedPosition readModelDigest } verifyLedger { ok checked position hash } }",
        json!({}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_on_one_postgres_converge_through_kills_and_a_database_restart() {
    let mut pg = chitieu_testkit::PgCluster::start();
    let url = pg.fresh_database().await;
    let a = spawn_node(&url).await;
    let b = spawn_node(&url).await;
    let mut c = spawn_node(&url).await;
    let mut acked = Vec::new();

    // 1. Concurrent writes through all three nodes.
    let seen = load(
        vec![node(&a), node(&b), node(&c)],
        Instant::now() + Duration::from_secs(3),
    )
    .await;
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    assert!(seen.last_ok.iter().all(Option::is_some));
    acked.extend(seen.acked);

    // 2. Node C is SIGKILLed under load and restarted: it catches up.
    let writers = tokio::spawn(load(
        vec![node(&a), node(&b)],
        Instant::now() + Duration::from_secs(3),
    ));
    tokio::time::sleep(Duration::from_millis(700)).await;
    c.stop();
    tokio::time::sleep(Duration::from_millis(500)).await;
    c.restart().await;
    let seen = writers.await.unwrap();
    // Tokens issued by C's restart move the planner's stream: a write that
    // lost that race three times is a CONFLICT, nothing else is allowed.
    assert!(
        seen.errors.iter().all(|c| c == "CONFLICT"),
        "{:?}",
        seen.errors
    );
    acked.extend(seen.acked);

    // 3. PostgreSQL restarts under load: clients get a clear, retryable
    // error meanwhile, and every node takes writes again by itself.
    let until = Instant::now() + Duration::from_secs(9);
    let writers = tokio::spawn(load(vec![node(&a), node(&b), node(&c)], until));
    tokio::time::sleep(Duration::from_secs(1)).await;
    pg.stop();
    tokio::time::sleep(Duration::from_secs(1)).await;
    pg.restart();
    let back = Instant::now();
    let seen = writers.await.unwrap();
    let unexpected: Vec<_> = seen
        .errors
        .iter()
        .filter(|c| *c != "UNAVAILABLE" && *c != "CONFLICT")
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    assert!(
        seen.errors.iter().any(|c| c == "UNAVAILABLE"),
        "writes during the outage must be refused as UNAVAILABLE: {:?}",
        seen.errors
    );
    eprintln!(
        "during the PostgreSQL restart: {} writes acknowledged, {} refused ({:?})",
        seen.acked.len(),
        seen.errors.len(),
        seen.errors
            .iter()
            .fold(std::collections::BTreeMap::new(), |mut m, c| {
                *m.entry(c.clone()).or_insert(0) += 1;
                m
            })
    );
    for (i, last) in seen.last_ok.iter().enumerate() {
        assert!(
            last.is_some_and(|t| t > back),
            "node {i} took no write after PostgreSQL came back"
        );
    }
    acked.extend(seen.acked);

    // 4. Everything converges: the same head, a chain that verifies, the
    // same read models, every acknowledged write everywhere.
    let deadline = Instant::now() + Duration::from_secs(30);
    let ledgers = loop {
        let ledgers = [ledger(&a).await, ledger(&b).await, ledger(&c).await];
        let heads: Vec<_> = ledgers
            .iter()
            .map(|l| (l["ledger"]["position"].clone(), l["ledger"]["hash"].clone()))
            .collect();
        let settled = heads.windows(2).all(|w| w[0] == w[1])
            && ledgers
                .iter()
                .all(|l| l["ledger"]["projectedPosition"] == l["ledger"]["position"]);
        if settled {
            break ledgers;
        }
        assert!(
            Instant::now() < deadline,
            "nodes did not converge: {ledgers:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for l in &ledgers {
        assert_eq!(l["verifyLedger"]["ok"], true, "{l}");
        assert_eq!(l["verifyLedger"]["position"], l["ledger"]["position"]);
        assert_eq!(
            l["ledger"]["readModelDigest"],
            ledgers[0]["ledger"]["readModelDigest"]
        );
    }
    let head = ledgers[0]["ledger"]["position"].as_u64().unwrap();
    for app in [&a, &b, &c] {
        let documents = app.gql("auditor", "{ documents { id } }", json!({})).await;
        let ids: std::collections::HashSet<&str> = documents["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        for (id, position) in &acked {
            assert!(*position <= head);
            assert!(ids.contains(id.as_str()), "acknowledged {id} is missing");
        }
    }
    let ids: std::collections::HashSet<_> = acked.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), acked.len(), "no write was doubled");
}

/// A client that wrote on node A reads it on node B by naming the position.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reads_its_write_on_another_node_by_naming_the_position() {
    let url = chitieu_testkit::shared().fresh_database().await;
    // The demo's log copied in (the three-node test above loads it through
    // a node).
    seed_shared_log(&url).await;
    let a = spawn_node(&url).await;
    // B gives up waiting for a position after 2 s (10 by default).
    let b = spawn_node_with(&url, Some("[limits]\ntimeout_ms = 2000\n")).await;
    let written = a
        .gql(
            "planner",
            "mutation { registerDocument(input: {kind: RESOLUTION, issuingBody: \"Huyện ủy (minh họa)\", orgUnit: \"LA.CAN-DUOC\", title: \"Nghị quyết đọc ở nút khác\"}) { document { id } position } }",
            json!({}),
        )
        .await;
    let position = written["registerDocument"]["position"].as_u64().unwrap();
    let id = written["registerDocument"]["document"]["id"]
        .as_str()
        .unwrap();
    let reply = b
        .client
        .post(&b.url)
        .bearer_auth(&b.tokens["auditor"])
        .header("x-chitieu-min-position", position.to_string())
        .json(&json!({ "query": "{ documents { id } ledger { projectedPosition } }" }))
        .send()
        .await
        .unwrap();
    let body: Value = reply.json().await.unwrap();
    assert!(
        body["data"]["ledger"]["projectedPosition"]
            .as_u64()
            .unwrap()
            >= position
    );
    assert!(body["data"]["documents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["id"] == id));
    // A position no node has reached is a clear TIMEOUT, not a hang.
    let far = b
        .client
        .post(&b.url)
        .bearer_auth(&b.tokens["auditor"])
        .header("x-chitieu-min-position", "999999999")
        .json(&json!({ "query": "{ today }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(far.status().as_u16(), 503);
    let body: Value = far.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "TIMEOUT");
}
