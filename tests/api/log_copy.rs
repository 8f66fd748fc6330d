//! Moving up and back: `chitieu log copy` from an embedded office's data
//! directory to PostgreSQL and from there to a new data directory gives
//! byte-identical records and the same head, and a server started on the
//! shared log answers what the embedded one did.

use crate::helpers::*;
use chitieu_store::EventLog;
use serde_json::json;
use std::process::Command;

/// What an auditor sees of one indicator, before and after the move.
const BUDGET: &str = "query($id: ID!) { indicator(id: $id) { name targets { track value } latestActual { figure } } }";

fn chitieu(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chitieu {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_copied_to_postgres_and_back_is_byte_identical() {
    let mut app = spawn_app().await;
    let ledger = app
        .gql("auditor", "{ ledger { position hash } }", json!({}))
        .await;
    let budget = app.indicator_id("Thu ngân sách").await;
    let before = app.gql("auditor", BUDGET, json!({ "id": budget })).await;
    app.stop();
    let source = app.data_dir.to_str().unwrap().to_owned();
    let url = chitieu_testkit::shared().fresh_database().await;
    let out = chitieu(&["log", "copy", "--from", &source, "--to", &url]);
    assert!(out.contains("verified"), "{out}");
    let back = tempfile::tempdir().unwrap();
    let back_dir = back.path().join("data");
    chitieu(&[
        "log",
        "copy",
        "--from",
        &url,
        "--to",
        back_dir.to_str().unwrap(),
    ]);
    // Copying again into a log that holds it all already changes nothing.
    chitieu(&[
        "log",
        "copy",
        "--from",
        &url,
        "--to",
        back_dir.to_str().unwrap(),
    ]);
    let verified = chitieu(&["log", "verify", "--data-dir", back_dir.to_str().unwrap()]);
    assert!(verified.starts_with("ok"), "{verified}");

    let original = chitieu_store::SledLog::open(app.data_dir.join("db")).unwrap();
    let copied = chitieu_store::SledLog::open(back_dir.join("db")).unwrap();
    assert_eq!(original.head(), copied.head());
    assert_eq!(
        original.head().position,
        ledger["ledger"]["position"].as_u64().unwrap()
    );
    assert_eq!(
        hex_of(&copied.head().hash),
        ledger["ledger"]["hash"].as_str().unwrap()
    );
    assert_eq!(
        original.read_raw(1, usize::MAX).unwrap(),
        copied.read_raw(1, usize::MAX).unwrap(),
        "the same bytes, the same idempotency keys"
    );
    drop((original, copied));

    // A node on the shared log answers as the embedded server did.
    let node = spawn_node(&url).await;
    let after = node.gql("auditor", BUDGET, json!({ "id": budget })).await;
    assert_eq!(before, after);
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
