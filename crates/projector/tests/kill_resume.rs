//! Kill the projector (SIGKILL) during a rebuild and during live following;
//! after a restart its read models equal a fresh rebuild, byte for byte.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HARNESS: &str = env!("CARGO_BIN_EXE_projector-harness");

fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn seed_from_env() -> u64 {
    let seed = std::env::var("KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("KILL_SEED={seed}");
    seed
}

fn run_and_kill(path: &Path, args: &[&str], after: Duration) -> bool {
    let mut child = Command::new(HARNESS)
        .arg(path)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < after {
        if let Ok(Some(status)) = child.try_wait() {
            assert!(status.success(), "harness failed: {status}");
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    true
}

/// Resumes from whatever the killed process left, then compares with a
/// rebuild, in a process of its own: this test process never opens the
/// database, so no lock of it can linger while the next child starts.
fn resume_equals_rebuild(path: &Path) -> u64 {
    let output = Command::new(HARNESS)
        .arg(path)
        .arg("verify")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.starts_with("OK"),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .split_whitespace()
        .last()
        .and_then(|h| h.parse().ok())
        .unwrap_or(0)
}

#[test]
fn killed_during_rebuild_the_projector_resumes_to_the_same_read_models() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let status = Command::new(HARNESS)
        .arg(&path)
        .args(["seed", "1500"])
        .status()
        .unwrap();
    assert!(status.success());
    let mut seed = seed_from_env();
    let mut killed = 0;
    for _ in 0..8 {
        if run_and_kill(
            &path,
            &["rebuild", "300"],
            Duration::from_millis(30 + next(&mut seed) % 400),
        ) {
            killed += 1;
        }
        resume_equals_rebuild(&path);
    }
    assert!(
        killed >= 4,
        "the rebuild finished before most kills ({killed} of 8): the test proved little"
    );
}

#[test]
fn killed_while_following_live_the_projector_resumes_to_the_same_read_models() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let mut seed = seed_from_env();
    for _ in 0..8 {
        assert!(run_and_kill(
            &path,
            &["follow"],
            Duration::from_millis(150 + next(&mut seed) % 400)
        ));
        resume_equals_rebuild(&path);
    }
    assert!(
        resume_equals_rebuild(&path) > 100,
        "the follower barely ran"
    );
}
