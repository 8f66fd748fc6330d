//! Kill writer processes with SIGKILL at random moments, 28 times (4 lanes
//! of 7 rounds, each lane on its own store), and check after each reopen that
//! every acknowledged append is there, no append is half-written, and the
//! hash chain verifies. Half the lanes archive blocks into segment files
//! as they write, so kills also land inside those moves.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chitieu_store::StreamName;
use chitieu_store::{EventLog, SledLog, StoreError};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small deterministic generator, seeded from the clock and printed, so a
/// failing run can be replayed.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Kill rounds, in lanes running side by side (each on its own store), so
/// that the waits of one lane overlap the others' work.
const LANES: u64 = 4;
const ROUNDS_PER_LANE: u64 = 7;

#[test]
fn acknowledged_appends_survive_sigkill_and_nothing_is_half_written() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("CRASH_SEED={seed}");
    let total_acked: usize = std::thread::scope(|scope| {
        let lanes: Vec<_> = (0..LANES)
            .map(|lane| scope.spawn(move || kill_rounds(lane, seed.wrapping_add(lane * 7919))))
            .collect();
        lanes.into_iter().map(|l| l.join().unwrap()).sum()
    });
    let kills = LANES * ROUNDS_PER_LANE;
    eprintln!("{total_acked} acknowledged appends over {kills} kills");
    assert!(
        total_acked > 100,
        "the writer barely wrote ({total_acked} acks): the test proved little"
    );
}

/// One lane: a store written by a child that is SIGKILLed at a random
/// moment, then checked, round after round. Returns the acknowledged
/// appends.
fn kill_rounds(lane: u64, mut seed: u64) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let mut total_acked = 0usize;
    for round in 0..ROUNDS_PER_LANE {
        let round = format!("lane {lane} round {round}");
        let mut writer = Command::new(env!("CARGO_BIN_EXE_crash-writer"));
        writer.arg(&path);
        if lane % 2 == 1 {
            // Odd lanes archive every few KiB: kills land inside moves.
            writer.arg("4096");
        }
        let mut child = writer
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut acks = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let parts: Vec<&str> = line.split(' ').collect();
                if parts.len() == 5 && parts[0] == "ACK" {
                    acks.push((
                        parts[1].to_owned(),
                        parts[2].parse::<u64>().unwrap(),
                        parts[4].parse::<u64>().unwrap(),
                    ));
                }
            }
            acks
        });
        // Let it open and write for a random while, then kill it mid-flight.
        let started = Instant::now();
        let wait = Duration::from_millis(150 + next(&mut seed) % 400);
        while started.elapsed() < wait {
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let acks = reader.join().unwrap();
        total_acked += acks.len();

        let store = SledLog::open_waiting(&path, Duration::from_secs(10)).unwrap();
        let report = store.verify_blocking().unwrap();
        assert_eq!(report.first_break, None, "{round}: chain broken");
        for (stream, version, last_position) in &acks {
            let stream = StreamName(stream.clone());
            let found = store.read_stream(&stream, *version, 1).unwrap();
            assert_eq!(
                found.first().map(|e| e.position),
                Some(*last_position),
                "{round}: acknowledged {stream} v{version} is missing"
            );
        }
        // Every append is whole: the events sharing a correlation id are as
        // many as each of them says.
        let mut appends: HashMap<uuid::Uuid, (u64, u64)> = HashMap::new();
        for event in store
            .read_all(1, usize::MAX)
            .unwrap()
            .into_iter()
            .map(Ok::<_, StoreError>)
        {
            let event = event.unwrap();
            let payload: serde_json::Value = serde_json::from_slice(&event.payload).unwrap();
            let entry = appends
                .entry(event.correlation_id)
                .or_insert((payload["size"].as_u64().unwrap(), 0));
            entry.1 += 1;
            assert_eq!(
                payload["version"].as_u64(),
                Some(event.version),
                "payload and version agree"
            );
        }
        for (correlation, (size, count)) in appends {
            assert_eq!(size, count, "{round}: append {correlation} is half-written");
        }
        store.close().unwrap();
    }
    total_acked
}
