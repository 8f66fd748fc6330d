//! What only the embedded sled log has to show beyond the shared contract
//! (`contract.rs`): it survives reopening, detects an edit made on disk,
//! and shares flushes between concurrent appends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chitieu_store::*;
use common::*;
use std::collections::HashSet;

fn open() -> (tempfile::TempDir, SledLog) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledLog::open(dir.path().join("db")).unwrap();
    (dir, store)
}

#[test]
fn events_survive_reopening_and_the_chain_continues() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let head = {
        let store = SledLog::open(&path).unwrap();
        store
            .append_blocking(request(
                "a",
                ExpectedVersion::NoStream,
                vec![event(1), event(2)],
            ))
            .unwrap();
        let head = store.head();
        store.close().unwrap();
        head
    };
    let store = SledLog::open(&path).unwrap();
    assert_eq!(store.head(), head);
    store
        .append_blocking(request("a", ExpectedVersion::Exact(2), vec![event(3)]))
        .unwrap();
    let report = store.verify_blocking().unwrap();
    assert_eq!((report.checked, report.first_break), (3, None));
    assert_eq!(store.read_all(3, 1).unwrap()[0].prev_hash, head.hash);
}

#[test]
fn verify_reports_the_first_tampered_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store = SledLog::open(&path).unwrap();
        for n in 0..5 {
            store
                .append_blocking(request("a", ExpectedVersion::Any, vec![event(n)]))
                .unwrap();
        }
        assert_eq!(store.verify_blocking().unwrap().first_break, None);
        store.close().unwrap();
    }
    {
        // Someone with disk access edits the figure in event 3.
        let db = sled::open(&path).unwrap();
        let tree = db.open_tree("log").unwrap();
        let mut key = vec![b'L'];
        key.extend_from_slice(&3u64.to_be_bytes());
        let original = tree.get(&key).unwrap().unwrap().to_vec();
        // A Latin-1 view of the bytes, so a text edit maps back byte for byte.
        let text: String = original.iter().map(|&b| b as char).collect();
        assert!(text.contains(r#""n":2"#));
        let forged = original
            .iter()
            .copied()
            .map(|b| if b == b'2' { b'9' } else { b })
            .collect::<Vec<u8>>();
        tree.insert(&key, forged).unwrap();
        db.flush().unwrap();
    }
    let store = SledLog::open(&path).unwrap();
    let report = store.verify_blocking().unwrap();
    assert_eq!(report.checked, 2);
    let (position, reason) = report.first_break.unwrap();
    assert_eq!(position, 3);
    assert!(reason.contains("hash"), "{reason}");
}

#[test]
fn many_writers_on_one_stream_one_winner_per_round() {
    let (_dir, store) = open();
    const WRITERS: usize = 8;
    const ROUNDS: u64 = 25;
    for round in 0..ROUNDS {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(WRITERS));
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (store, barrier) = (store.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    store.append_blocking(request(
                        "contested",
                        ExpectedVersion::Exact(round),
                        vec![event(w as u64)],
                    ))
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "round {round}: {results:?}");
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                matches!(r, AppendError::Conflict { current, .. } if *current == round + 1),
                "{r:?}"
            );
        }
    }
    assert_eq!(store.stream_version(&stream("contested")).unwrap(), ROUNDS);
    let versions: HashSet<u64> = store
        .read_stream(&stream("contested"), 1, 1000)
        .unwrap()
        .iter()
        .map(|e| e.version)
        .collect();
    assert_eq!(versions, (1..=ROUNDS).collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_share_flushes_and_blocks() {
    let (_dir, store) = open();
    // Concurrent appends share groups, so records share blocks (reading
    // them back from any position is the contract suite's test).
    let tasks: Vec<_> = (0..32u64)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 0..20u64 {
                    let events = (0..1 + n % 3)
                        .map(|i| event(w * 1000 + n * 10 + i))
                        .collect();
                    store
                        .append(request(&format!("w{w}"), ExpectedVersion::Any, events))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let stats = store.commit_stats();
    assert!(
        stats.flushes < stats.appends,
        "appends shared flushes: {stats:?}"
    );
    assert_eq!(store.verify_blocking().unwrap().first_break, None);
}

/// The stream index lives in memory, built from the blocks at open: a log
/// reopened reads its streams and versions back, and the index entries an
/// earlier version kept in sled (`S` keys) are removed on open.
#[test]
fn the_stream_index_is_rebuilt_at_open_and_old_index_entries_go() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store = SledLog::open(&path).unwrap();
        for n in 0..30 {
            let stream = if n % 3 == 0 { "a" } else { "b" };
            store
                .append_blocking(request(stream, ExpectedVersion::Any, vec![event(n)]))
                .unwrap();
        }
        store.close().unwrap();
    }
    {
        // What a log written before kept: one `S` key per record.
        let db = open_raw(&path);
        let tree = db.open_tree("log").unwrap();
        tree.insert(
            b"Sa\x00\x00\x00\x00\x00\x00\x00\x00\x01",
            &1u64.to_be_bytes(),
        )
        .unwrap();
        db.flush().unwrap();
    }
    let store = SledLog::open_waiting(&path, std::time::Duration::from_secs(5)).unwrap();
    assert_eq!(store.stream_version(&stream("a")).unwrap(), 10);
    assert_eq!(store.stream_version(&stream("b")).unwrap(), 20);
    let b = store.read_stream(&stream("b"), 19, 10).unwrap();
    assert_eq!(
        b.iter()
            .map(|e| (e.version, e.position))
            .collect::<Vec<_>>(),
        vec![(19, 29), (20, 30)]
    );
    // A conditional append sees the rebuilt versions.
    let conflict = store.append_blocking(request("a", ExpectedVersion::Exact(9), vec![event(99)]));
    assert!(conflict.is_err());
    store
        .append_blocking(request("a", ExpectedVersion::Exact(10), vec![event(99)]))
        .unwrap();
    assert_eq!(store.verify_blocking().unwrap().first_break, None);
    store.close().unwrap();
    drop(store);
    let db = open_raw(&path);
    let tree = db.open_tree("log").unwrap();
    assert_eq!(
        tree.scan_prefix(b"S").count(),
        0,
        "old index entries removed"
    );
}

/// sled releases its file lock a little after the last handle is dropped.
fn open_raw(path: &std::path::Path) -> sled::Db {
    for _ in 0..250 {
        if let Ok(db) = sled::open(path) {
            return db;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    sled::open(path).unwrap()
}

/// A directory another handle holds is reported as `Locked` (sled says so
/// only in an error's text), and `open_waiting` waits for its release
/// instead of failing at once.
#[test]
fn a_held_directory_is_locked_and_open_waiting_waits_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let held = SledLog::open(&path).unwrap();
    match SledLog::open(&path) {
        Err(StoreError::Locked(at)) => assert!(at.ends_with("db"), "{at}"),
        Err(other) => panic!("expected Locked, got {other:?}"),
        Ok(_) => panic!("a held directory opened twice"),
    }
    match SledLog::open_waiting(&path, std::time::Duration::from_millis(100)) {
        Err(StoreError::Locked(_)) => {}
        other => panic!("expected Locked after waiting, got {:?}", other.err()),
    }
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        held.close().unwrap();
        drop(held);
    });
    let reopened = SledLog::open_waiting(&path, std::time::Duration::from_secs(20)).unwrap();
    release.join().unwrap();
    assert_eq!(reopened.head().position, 0);
}

#[test]
fn reading_in_stages_applies_every_event_once_in_order_and_stops_when_told() {
    let (_dir, store) = open();
    for n in 0..25u64 {
        let expected = if n == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(n * 4)
        };
        store
            .append_blocking(request(
                "a",
                expected,
                (0..4).map(|k| event(n * 4 + k)).collect(),
            ))
            .unwrap();
    }
    let log: Log = std::sync::Arc::new(store);
    let all: Vec<u64> = log
        .read_all(1, usize::MAX)
        .unwrap()
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(all.len(), 100);
    // `prepare` runs on the reading stage, and its result reaches `apply`
    // with its own chunk; chunks of 7 (two stages) and of 1,000 (one chunk:
    // in turn), from the start and from the middle.
    for (from, chunk) in [(1, 7), (1, 1000), (40, 7), (100, 3), (101, 7)] {
        let mut seen = Vec::new();
        let last = read_in_stages::<_, StoreError>(
            &log,
            from,
            chunk,
            |events| Ok(events.iter().map(|e| e.position * 10).collect::<Vec<_>>()),
            |events, prepared: Vec<u64>| {
                assert!(events.len() <= chunk);
                for (e, p) in events.iter().zip(&prepared) {
                    assert_eq!(*p, e.position * 10);
                    seen.push(e.position);
                }
                Ok(true)
            },
        )
        .unwrap();
        let expected: Vec<u64> = all.iter().copied().filter(|p| *p >= from).collect();
        assert_eq!(seen, expected, "from {from}, chunks of {chunk}");
        assert_eq!(last, 100.max(from - 1));
    }
    // Stopped after the third chunk: what was applied is returned.
    let mut chunks = 0;
    let last = read_in_stages::<_, StoreError>(
        &log,
        1,
        7,
        |_| Ok(()),
        |_, ()| {
            chunks += 1;
            Ok(chunks < 3)
        },
    )
    .unwrap();
    assert_eq!((chunks, last), (3, 21));
    // A chunk that fails to prepare stops the read with its error, after
    // the chunks before it were applied.
    let mut applied = Vec::new();
    let failed = read_in_stages::<_, StoreError>(
        &log,
        1,
        7,
        |events| match events.iter().find(|e| e.position == 30) {
            Some(e) => Err(StoreError::Corrupt {
                position: e.position,
                reason: "undecodable".into(),
            }),
            None => Ok(()),
        },
        |events, ()| {
            applied.extend(events.iter().map(|e| e.position));
            Ok(true)
        },
    );
    assert!(matches!(
        failed,
        Err(StoreError::Corrupt { position: 30, .. })
    ));
    assert_eq!(applied, (1..=28).collect::<Vec<_>>());
}
