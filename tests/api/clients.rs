//! Clients outside Rust, run against the real server: `tests/clients/`
//! (TypeScript). GraphQL Code Generator builds a typed client from the
//! server's introspection, `tsc` checks the operations against it, and
//! `node --test` runs a graphql-ws subscription that resumes after a
//! dropped connection, the error codes a client can provoke, and GraphiQL
//! in Debian's Chromium with every other host refused.
//!
//! Needs Node.js with npm (and Chromium for the browser test). Where they
//! are missing the test says so and passes, unless
//! `CHITIEU_REQUIRE_CLIENT_TESTS=1` (set by `.ci/run`, which installs
//! them) makes a missing tool a failure.

use crate::helpers::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn required() -> bool {
    std::env::var("CHITIEU_REQUIRE_CLIENT_TESTS").is_ok_and(|v| v == "1")
}

fn found(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, String)]) {
    let started = std::time::Instant::now();
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!(
        "tests/clients: {program} {} ({:.1} s)\n{stdout}{stderr}",
        args.join(" "),
        started.elapsed().as_secs_f64()
    );
    assert!(
        output.status.success(),
        "{program} {args:?} failed in tests/clients"
    );
}

#[tokio::test]
async fn typescript_and_browser_clients_pass_against_the_server() {
    for tool in ["node", "npm"] {
        if !found(tool) {
            assert!(
                !required(),
                "{tool} is required (CHITIEU_REQUIRE_CLIENT_TESTS=1)"
            );
            eprintln!("SKIPPED tests/clients: {tool} is not installed (.ci/run installs it)");
            return;
        }
    }
    let chromium = std::env::var("CHITIEU_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let has_chromium = Path::new(&chromium).exists();
    assert!(
        has_chromium || !required(),
        "{chromium} is required (CHITIEU_REQUIRE_CLIENT_TESTS=1)"
    );
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients");
    if !dir.join("node_modules/.package-lock.json").exists() {
        run(&dir, "npm", &["ci", "--no-audit", "--no-fund"], &[]);
    }
    // A low data depth: introspection must still pass under its own budget.
    let app = spawn_app_with(Some("[limits]\ndepth = 6\n")).await;
    let tokens = serde_json::to_string(&app.tokens).unwrap();
    let env = vec![
        ("CHITIEU_URL", app.url.clone()),
        ("CHITIEU_TOKEN", app.tokens["admin"].clone()),
        ("CHITIEU_TOKENS", tokens),
        ("CHITIEU_CHROMIUM", chromium.clone()),
        (
            "CHITIEU_SKIP_BROWSER",
            if has_chromium { "0" } else { "1" }.into(),
        ),
    ];
    let dir2 = dir.clone();
    let env2 = env.clone();
    tokio::task::spawn_blocking(move || {
        run(&dir2, "npm", &["run", "codegen"], &env2);
        run(&dir2, "npm", &["run", "build"], &env2);
    })
    .await
    .unwrap();
    // A production-style node running only the generated operations.
    let documents = dir.join("src/gql/persisted-documents.json");
    let locked = spawn_demo(None, &["--persisted-only", documents.to_str().unwrap()]).await;
    let mut env = env;
    env.push(("CHITIEU_PERSISTED_URL", locked.url.clone()));
    // Both demo stores hand out the same demo people, not the same tokens:
    // the persisted-only node's viewer token goes with it.
    let mut tokens = app.tokens.clone();
    tokens.insert("persisted.viewer".into(), locked.tokens["viewer"].clone());
    env.retain(|(k, _)| *k != "CHITIEU_TOKENS");
    env.push(("CHITIEU_TOKENS", serde_json::to_string(&tokens).unwrap()));
    tokio::task::spawn_blocking(move || run(&dir, "npm", &["test"], &env))
        .await
        .unwrap();
    drop(locked);
    drop(app);
}
