//! Storage faults surface as what they are: damaged read models are found
//! by `chitieu verify --read-models` and repaired by `chitieu rebuild`.

use crate::helpers::*;
use serde_json::json;

fn chitieu(app: &TestApp, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .args(args)
        .arg("--data-dir")
        .arg(&app.data_dir)
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[tokio::test]
async fn damaged_read_models_are_found_by_verify_and_repaired_by_rebuild() {
    let mut app = spawn_app().await;
    let before = app
        .gql(
            "auditor",
            "{ summary(orgUnit: \"TV.TIEU-CAN\", period: \"2022\") { total exceeded met notMet } }",
            json!({}),
        )
        .await;
    app.stop();
    let (ok, out) = chitieu(&app, &["verify", "--read-models"]);
    assert!(ok && out.contains("read models ok"), "{out}");

    // Damage the read models' data file: one byte in every 512.
    let file = app.data_dir.join("read-models").join("db");
    let mut bytes = std::fs::read(&file).unwrap();
    for i in (100..bytes.len()).step_by(512) {
        bytes[i] ^= 0x5A;
    }
    std::fs::write(&file, bytes).unwrap();
    let (ok, out) = chitieu(&app, &["verify", "--read-models"]);
    assert!(!ok, "damaged read models passed: {out}");
    assert!(out.contains("chitieu rebuild"), "{out}");
    // The log itself is untouched and says so.
    let (ok, out) = chitieu(&app, &["verify"]);
    assert!(ok && out.starts_with("ok:"), "{out}");

    let (ok, out) = chitieu(&app, &["rebuild"]);
    assert!(ok && out.contains("read models rebuilt"), "{out}");
    let (ok, out) = chitieu(&app, &["verify", "--read-models"]);
    assert!(ok && out.contains("read models ok"), "{out}");
    app.restart().await;
    let after = app
        .gql(
            "auditor",
            "{ summary(orgUnit: \"TV.TIEU-CAN\", period: \"2022\") { total exceeded met notMet } }",
            json!({}),
        )
        .await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn verify_ledger_walks_only_what_was_appended_since_its_checkpoint() {
    let app = spawn_app().await;
    let q = "query($full: Boolean!) { verifyLedger(full: $full) { ok checked from position hash fullCheck { running total checked ok } } }";
    // A new store starts a full check in the background; it moves the
    // checkpoint when it ends (to wherever the log then is), so the
    // incremental figures below are read once it has ended.
    let full_check_running =
        |reply: &serde_json::Value| reply["verifyLedger"]["fullCheck"]["running"] == true;
    loop {
        let reply = app.gql("auditor", q, json!({ "full": false })).await;
        if !full_check_running(&reply) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let first = app.gql("auditor", q, json!({ "full": false })).await["verifyLedger"].clone();
    assert_eq!(first["ok"], true, "{first}");
    let head = app.ledger().await;
    assert_eq!(first["position"], head);
    // Nothing new: nothing walked.
    let again = app.gql("auditor", q, json!({ "full": false })).await["verifyLedger"].clone();
    assert_eq!(again["from"], head, "{first} {again}");
    assert_eq!(again["checked"], 0);
    assert_eq!(again["hash"], first["hash"]);
    // One write: one record walked, chained to the checkpoint.
    let rice = app.indicator_id("Sản lượng lúa").await;
    app.gql(
        "reporter",
        r#"mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: "84500"}, refersTo: "2025-06-30", status: ESTIMATE}) { position } }"#,
        json!({ "id": rice }),
    )
    .await;
    let tail = app.gql("auditor", q, json!({ "full": false })).await["verifyLedger"].clone();
    assert_eq!(tail["ok"], true);
    assert_eq!(tail["from"], head);
    assert_eq!(tail["checked"], 1);
    // A full check runs in the background; its progress is readable.
    let started = app.gql("auditor", q, json!({ "full": true })).await["verifyLedger"].clone();
    assert_eq!(started["fullCheck"]["total"], head + 1, "{started}");
    let done = loop {
        let now = app.gql("auditor", q, json!({ "full": false })).await["verifyLedger"]
            ["fullCheck"]
            .clone();
        if now["running"] == false {
            break now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(done["ok"], true, "{done}");
    assert_eq!(done["checked"], head + 1);
}

/// The read models are written without waiting for the disk: while the
/// server runs, their directory holds the machine's boot id; a clean stop
/// writes them out and removes it; a start that finds another boot's (the
/// machine stopped under them) throws them away, rebuilds them from the
/// log and answers as before.
#[tokio::test]
async fn read_models_left_by_a_machine_that_stopped_are_rebuilt_on_start() {
    let mut app = spawn_app().await;
    let dir = app.data_dir.join("read-models");
    let marker = dir.join("unsynced");
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), boot.trim());
    let q = "{ summary(orgUnit: \"TV.TIEU-CAN\", period: \"2022\") { total exceeded met notMet } }";
    let before = app.gql("auditor", q, json!({})).await;
    app.stop();
    assert!(!marker.exists(), "a clean stop removes the marker");
    // As a power cut leaves them: marked by another boot.
    std::fs::write(&marker, "00000000-0000-0000-0000-000000000000").unwrap();
    std::fs::write(dir.join("stale"), "left by the old database").unwrap();
    app.restart().await;
    assert!(!dir.join("stale").exists(), "thrown away whole");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), boot.trim());
    assert_eq!(app.gql("auditor", q, json!({})).await, before);
}
