//! Evidence an auditor takes away, tried as an auditor would: proofs of the
//! demo's figures checked by an independent verifier (Python's standard
//! library, written from docs/proofs.md) and by `chitieu verify` without a
//! server; a head recorded before writes proven consistent with today's; a
//! backup taken while the server writes, restored, giving the same signed
//! root under the same key.

use crate::helpers::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn verifier() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/verifier/verify_proof.py")
}

/// Runs the independent verifier; its exit status and what it printed.
fn python_verify(key: &str, document: &Path, head: Option<&Path>) -> (bool, String) {
    let mut command = Command::new("python3");
    command.arg(verifier()).arg("--key").arg(key);
    if let Some(head) = head {
        command.arg("--head").arg(head);
    }
    let out = command.arg(document).output().expect("python3 runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Runs `chitieu verify` with `args`; its exit status and output.
fn chitieu_verify(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .arg("verify")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn key_of(app: &TestApp) -> String {
    app.gql("auditor", "{ ledger { publicKey { base64 } } }", json!({}))
        .await["ledger"]["publicKey"]["base64"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_demos_figures_prove_in_an_independent_verifier() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_of(&app).await;
    let data = app
        .gql(
            "auditor",
            "{ indicators(first: 40) { nodes { name latestActual { position proof { position bundle signedHead { size } } } targets { position proof { bundle } } } } }",
            json!({}),
        )
        .await;
    let mut bundles = Vec::new();
    for node in data["indicators"]["nodes"].as_array().unwrap() {
        if let Some(proof) = node["latestActual"]["proof"].as_object() {
            assert_eq!(proof["position"], node["latestActual"]["position"]);
            bundles.push(proof["bundle"].as_str().unwrap().to_owned());
        }
        for target in node["targets"].as_array().unwrap() {
            bundles.push(target["proof"]["bundle"].as_str().unwrap().to_owned());
        }
    }
    assert!(bundles.len() >= 40, "{} proofs", bundles.len());
    for (i, bundle) in bundles.iter().enumerate() {
        let path = write(dir.path(), &format!("proof-{i}.json"), bundle);
        let (ok, said) = python_verify(&key, &path, None);
        assert!(ok, "the independent verifier refused proof {i}: {said}");
        if i % 10 == 0 {
            let (ok, said) = chitieu_verify(&["--proof", path.to_str().unwrap(), "--key", &key]);
            assert!(
                ok && said.contains("HỢP LỆ") && said.contains("VALID"),
                "{said}"
            );
        }
    }
    // A figure changed in the bundle's readable part, in its record, or a
    // path hash changed: refused by both, naming the position.
    let bundle: Value = serde_json::from_str(&bundles[0]).unwrap();
    let position = bundle["position"].as_u64().unwrap();
    let mut shown = bundle.clone();
    shown["event"]["actorId"] = json!("someone-else");
    let mut record = bundle.clone();
    let mut bytes = base64_decode(record["record"].as_str().unwrap());
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    record["record"] = json!(base64_encode(&bytes));
    let mut path = bundle.clone();
    if let Some(first) = path["path"][0].as_str() {
        let flipped = format!(
            "{}{}",
            if first.starts_with('0') { "1" } else { "0" },
            &first[1..]
        );
        path["path"][0] = json!(flipped);
    }
    for (name, forged) in [("shown", shown), ("record", record), ("path", path)] {
        let file = write(
            dir.path(),
            &format!("forged-{name}.json"),
            &forged.to_string(),
        );
        assert!(!python_verify(&key, &file, None).0, "{name}");
        let (ok, said) = chitieu_verify(&["--proof", file.to_str().unwrap(), "--key", &key]);
        assert!(!ok, "{name}: {said}");
        assert!(
            said.contains("KHÔNG HỢP LỆ") && said.contains("NOT VALID"),
            "{said}"
        );
        if name != "path" {
            assert!(said.contains(&position.to_string()), "{said}");
        }
    }
    // Another key: refused.
    let other = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOxBe+xlJzb0=";
    let file = write(dir.path(), "again.json", &bundles[1]);
    assert!(!python_verify(other, &file, None).0);
    assert!(!chitieu_verify(&["--proof", file.to_str().unwrap(), "--key", other]).0);
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn a_head_recorded_before_writes_is_proven_a_prefix_of_todays_log() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_of(&app).await;
    let old = app
        .gql(
            "auditor",
            "{ ledger { position signedHead { size document } } }",
            json!({}),
        )
        .await;
    let old_size = old["ledger"]["position"].as_u64().unwrap();
    assert_eq!(old["ledger"]["signedHead"]["size"], old_size);
    let old_head = write(
        dir.path(),
        "old-head.json",
        old["ledger"]["signedHead"]["document"].as_str().unwrap(),
    );
    app.principal("kiem-tra-moi", "VIEWER", None).await;
    let rice = app.indicator_id("Sản lượng lúa").await;
    app.gql(
        "reporter",
        r#"mutation($id: ID!) { reportActual(input: {indicator: $id, value: {amount: "41000"}, refersTo: "2025-06-30", status: ESTIMATE}) { indicator { version } } }"#,
        json!({ "id": rice }),
    )
    .await;
    let now = app
        .gql(
            "auditor",
            "query($from: Int!) { ledger { position } consistencyProof(from: $from) { bundle from { size root } to { size } } }",
            json!({ "from": old_size }),
        )
        .await;
    let new_size = now["ledger"]["position"].as_u64().unwrap();
    assert!(new_size > old_size);
    assert_eq!(now["consistencyProof"]["to"]["size"], new_size);
    let proof = write(
        dir.path(),
        "consistency.json",
        now["consistencyProof"]["bundle"].as_str().unwrap(),
    );
    let (ok, said) = python_verify(&key, &proof, Some(&old_head));
    assert!(ok, "{said}");
    let (ok, said) = chitieu_verify(&[
        "--proof",
        proof.to_str().unwrap(),
        "--head",
        old_head.to_str().unwrap(),
        "--key",
        &key,
    ]);
    assert!(ok, "{said}");
    // The old head, asked for again, has the root recorded then.
    let again = app
        .gql(
            "auditor",
            "query($at: Int!) { ledger(at: $at) { position signedHead { root } } }",
            json!({ "at": old_size }),
        )
        .await;
    assert_eq!(
        again["ledger"]["signedHead"]["root"],
        now["consistencyProof"]["from"]["root"]
    );
    // A head beyond the log, a proof from nothing: refused with a code.
    let beyond = app
        .post(
            Some("auditor"),
            json!({ "query": "query($at: Int!) { ledger(at: $at) { position } }", "variables": { "at": new_size + 5 } }),
        )
        .await;
    assert_eq!(beyond.code(), Some("NOT_FOUND"), "{}", beyond.body);
    let nothing = app
        .post(
            Some("auditor"),
            json!({ "query": "{ consistencyProof(from: 0) { bundle } }" }),
        )
        .await;
    assert_eq!(nothing.code(), Some("VALIDATION"), "{}", nothing.body);
}

#[tokio::test]
async fn proofs_of_any_record_are_for_auditors_reaching_everywhere() {
    let app = spawn_app().await;
    let auditor = app
        .post(
            Some("auditor"),
            json!({ "query": "{ inclusionProof(position: 3) { position eventType } }" }),
        )
        .await;
    assert_eq!(
        auditor.body["data"]["inclusionProof"]["position"], 3,
        "{}",
        auditor.body
    );
    let scoped = app.principal("kt-xa", "AUDITOR", Some("LA.CAN-DUOC")).await;
    let refused = app
        .post(
            Some(&scoped),
            json!({ "query": "{ inclusionProof(position: 3) { position } }" }),
        )
        .await;
    assert_eq!(refused.code(), Some("FORBIDDEN"), "{}", refused.body);
    let viewer = app
        .post(
            Some("viewer"),
            json!({ "query": "{ ledger { signedHead { root } } }" }),
        )
        .await;
    assert_eq!(viewer.code(), Some("FORBIDDEN"), "{}", viewer.body);
    // A backup is every record: not for a scoped auditor, nor anonymous.
    let backup = |token: Option<String>| {
        let mut request = app.client.get(format!("{}/backup", app.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(backup(None).await.unwrap().status(), 401);
    assert_eq!(backup(Some(scoped)).await.unwrap().status(), 403);
}

#[tokio::test]
async fn a_backup_taken_while_writing_restores_to_the_same_signed_root() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let key = key_of(&app).await;
    let token_file = write(work.path(), "token", &app.tokens["auditor"]);
    let rice = app.indicator_id("Sản lượng lúa").await;
    // Writers keep writing while the backup streams.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (client, url, token, rice, stop) = (
                app.client.clone(),
                app.url.clone(),
                app.tokens["reporter"].clone(),
                rice.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let q = r#"mutation($id: ID!, $v: Decimal!) { reportActual(input: {indicator: $id, value: {amount: $v}, refersTo: "2025-06-30", status: ESTIMATE}) { indicator { version } } }"#;
                    let body = json!({ "query": q, "variables": { "id": rice, "v": format!("{}", 40000 + w * 1000 + n) } });
                    let r = client.post(&url).bearer_auth(&token).json(&body).send().await.unwrap();
                    let status = r.status();
                    let text = r.text().await.unwrap();
                    assert!(status == 200 && !text.contains("errors"), "{status} {text}");
                    n += 1;
                }
                n
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let file = work.path().join("b.jsonl.gz");
    let out = Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .args(["backup", "--server", &app.base, "--token-file"])
        .arg(&token_file)
        .arg("--to")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut written = 0;
    for w in writers {
        written += w.await.unwrap();
    }
    assert!(written > 0);
    let (ok, said) = chitieu_verify(&["--backup", file.to_str().unwrap(), "--key", &key]);
    assert!(ok, "{said}");
    let size: u64 = said
        .split("holds ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    let original = app
        .gql(
            "auditor",
            "query($at: Int!) { ledger(at: $at) { hash signedHead { root } } }",
            json!({ "at": size }),
        )
        .await;
    // Restore into a new data directory, with the original key beside it.
    let restored = tempfile::tempdir().unwrap();
    let data = restored.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .arg("restore")
        .arg("--from")
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .args(["--key", &key])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Restoring onto a store that has a log is refused, touching nothing.
    let again = Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .arg("restore")
        .arg("--from")
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(!again.status.success());
    std::fs::copy(app.data_dir.join("log-key.pem"), data.join("log-key.pem")).unwrap();
    let twin = spawn_demo_in(restored).await;
    let copy = twin
        .gql(
            "auditor",
            "query($at: Int!) { ledger(at: $at) { hash signedHead { root keyId document } } }",
            json!({ "at": size }),
        )
        .await;
    assert_eq!(copy["ledger"]["hash"], original["ledger"]["hash"]);
    assert_eq!(
        copy["ledger"]["signedHead"]["root"],
        original["ledger"]["signedHead"]["root"]
    );
    let head = write(
        work.path(),
        "restored-head.json",
        copy["ledger"]["signedHead"]["document"].as_str().unwrap(),
    );
    assert!(python_verify(&key, &head, None).0);
    // Every event up to the backup's size reads back the same.
    let history = "query($id: ID!) { indicator(id: $id) { history(first: 100) { nodes { position kind } } } }";
    let (a, b) = (
        app.gql("auditor", history, json!({ "id": rice })).await,
        twin.gql("auditor", history, json!({ "id": rice })).await,
    );
    let upto = |v: &Value| -> Vec<Value> {
        v["indicator"]["history"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["position"].as_u64().unwrap() <= size)
            .cloned()
            .collect()
    };
    assert_eq!(upto(&a), upto(&b));
}
