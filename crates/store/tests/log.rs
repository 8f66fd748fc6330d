//! The log's contract: atomic, ordered, optimistic, idempotent, durable,
//! hash-chained, readable by stream and globally, and followable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chitieu_domain::event::EncodedEvent;
use chitieu_domain::{Event, ResultStatus, ResultValue};
use chitieu_store::*;
use common::*;
use std::collections::HashSet;
use std::time::Duration;

fn open() -> (tempfile::TempDir, EventStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path().join("db")).unwrap();
    (dir, store)
}

#[test]
fn appended_events_read_back_with_their_envelope() {
    let (_dir, store) = open();
    let before = chrono::Utc::now();
    let outcome = store
        .append_blocking(request(
            "a",
            ExpectedVersion::NoStream,
            vec![event(1), event(2)],
        ))
        .unwrap();
    assert_eq!(
        outcome,
        AppendOutcome {
            first_position: 1,
            last_position: 2,
            stream_version: 2,
            replayed: false
        }
    );
    let second = store
        .append_blocking(request("b", ExpectedVersion::Exact(0), vec![event(3)]))
        .unwrap();
    assert_eq!((second.first_position, second.stream_version), (3, 1));

    let all = store.read_all(0, 100).unwrap();
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let first = &all[0];
    assert_eq!(first.stream, stream("a"));
    assert_eq!(first.version, 1);
    assert_eq!(first.actor, actor());
    assert_eq!(first.event_id.get_version_num(), 7);
    assert!(first.recorded_at >= before - chrono::Duration::seconds(1));
    assert_eq!(first.prev_hash, [0; 32]);
    assert_eq!(all[1].prev_hash, first.hash);
    assert_eq!(
        all[1].correlation_id, first.correlation_id,
        "one append, one correlation"
    );
    assert_eq!(first.payload, event(1).payload);

    let a = store.read_stream(&stream("a"), 2, 10).unwrap();
    assert_eq!(
        a.iter()
            .map(|e| (e.version, e.position))
            .collect::<Vec<_>>(),
        vec![(2, 2)]
    );
    assert_eq!(store.stream_version(&stream("a")).unwrap(), 2);
    assert_eq!(store.stream_version(&stream("nope")).unwrap(), 0);
    assert_eq!(store.head().position, 3);
    assert_eq!(store.head().hash, all[2].hash);
}

#[test]
fn a_stale_expected_version_is_a_conflict_with_the_current_version() {
    let (_dir, store) = open();
    store
        .append_blocking(request("a", ExpectedVersion::NoStream, vec![event(1)]))
        .unwrap();
    let err = store
        .append_blocking(request("a", ExpectedVersion::Exact(0), vec![event(2)]))
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppendError::Conflict {
                current: 1,
                expected: ExpectedVersion::Exact(0),
                ..
            }
        ),
        "{err:?}"
    );
    let err = store
        .append_blocking(request("a", ExpectedVersion::NoStream, vec![event(2)]))
        .unwrap_err();
    assert!(matches!(err, AppendError::Conflict { current: 1, .. }));
    assert_eq!(store.head().position, 1, "a refused append writes nothing");
    store
        .append_blocking(request("a", ExpectedVersion::Exact(1), vec![event(2)]))
        .unwrap();
    store
        .append_blocking(request("a", ExpectedVersion::Any, vec![event(3)]))
        .unwrap();
    assert_eq!(store.stream_version(&stream("a")).unwrap(), 3);
}

#[test]
fn a_retry_with_the_same_key_returns_the_first_outcome_and_writes_nothing() {
    let (_dir, store) = open();
    let mut req = request("a", ExpectedVersion::NoStream, vec![event(1)]);
    req.idempotency_key = Some("import-38-CTr/HU-row-4".into());
    let first = store.append_blocking(req.clone()).unwrap();
    // The retry's expected version is now stale, yet it is recognised as a retry.
    let again = store.append_blocking(req.clone()).unwrap();
    assert_eq!(
        again,
        AppendOutcome {
            replayed: true,
            ..first
        }
    );
    assert_eq!(store.head().position, 1);

    let mut different = req.clone();
    different.events = vec![event(99)];
    let err = store.append_blocking(different).unwrap_err();
    assert!(
        matches!(err, AppendError::IdempotencyKeyReused { .. }),
        "{err:?}"
    );
    assert_eq!(store.head().position, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_in_one_group_write_once() {
    let (_dir, store) = open();
    let mut req = request("a", ExpectedVersion::Any, vec![event(1)]);
    req.idempotency_key = Some("k".into());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (s, r) = (store.clone(), req.clone());
            tokio::spawn(async move { s.append(r).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap().unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| !o.replayed).count(), 1);
    assert!(outcomes.iter().all(|o| o.first_position == 1));
    assert_eq!(store.head().position, 1);
}

#[test]
fn malformed_appends_are_refused_whole() {
    let (_dir, store) = open();
    let empty = request("a", ExpectedVersion::Any, vec![]);
    assert!(matches!(
        store.append_blocking(empty),
        Err(AppendError::Invalid(_))
    ));
    let mut nul = request("a", ExpectedVersion::Any, vec![event(1)]);
    nul.stream = chitieu_domain::StreamId("a\0b".into());
    assert!(matches!(
        store.append_blocking(nul),
        Err(AppendError::Invalid(_))
    ));
    let mut huge = request("a", ExpectedVersion::Any, vec![event(1)]);
    huge.events.push(EncodedEvent {
        event_type: "x".into(),
        schema_version: 1,
        payload: vec![b' '; (1 << 20) + 1],
    });
    assert!(matches!(
        store.append_blocking(huge),
        Err(AppendError::Invalid(_))
    ));
    let mut anonymous = request("a", ExpectedVersion::Any, vec![event(1)]);
    anonymous.meta.actor.id.clear();
    assert!(matches!(
        store.append_blocking(anonymous),
        Err(AppendError::Invalid(_))
    ));
    assert_eq!(store.head().position, 0);
    assert_eq!(store.verify().unwrap().checked, 0);
}

#[test]
fn events_survive_reopening_and_the_chain_continues() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let head = {
        let store = EventStore::open(&path).unwrap();
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
    let store = EventStore::open(&path).unwrap();
    assert_eq!(store.head(), head);
    store
        .append_blocking(request("a", ExpectedVersion::Exact(2), vec![event(3)]))
        .unwrap();
    let report = store.verify().unwrap();
    assert_eq!((report.checked, report.first_break), (3, None));
    assert_eq!(store.read_all(3, 1).unwrap()[0].prev_hash, head.hash);
}

#[test]
fn verify_reports_the_first_tampered_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store = EventStore::open(&path).unwrap();
        for n in 0..5 {
            store
                .append_blocking(request("a", ExpectedVersion::Any, vec![event(n)]))
                .unwrap();
        }
        assert_eq!(store.verify().unwrap().first_break, None);
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
    let store = EventStore::open(&path).unwrap();
    let report = store.verify().unwrap();
    assert_eq!(report.checked, 2);
    let (position, reason) = report.first_break.unwrap();
    assert_eq!(position, 3);
    assert!(reason.contains("hash"), "{reason}");
}

#[test]
fn an_old_event_version_is_read_back_through_its_upcaster() {
    let (_dir, store) = open();
    // The first shape of `actual_reported`: a bare figure, always final.
    let v1 = EncodedEvent {
        event_type: "actual_reported".into(),
        schema_version: 1,
        payload: br#"{"indicator":"0195f3c0-0000-7000-8000-000000000001","report_id":"0195f3c0-0000-7000-8000-000000000002","value":"713.275","refers_to":"2022-12-31","note":null}"#.to_vec(),
    };
    store
        .append_blocking(request("x", ExpectedVersion::NoStream, vec![v1]))
        .unwrap();
    let stored = &store.read_all(1, 1).unwrap()[0];
    assert_eq!(
        stored.schema_version, 1,
        "the stored bytes are never rewritten"
    );
    let Ok(Event::ActualReported(e)) = stored.decode() else {
        panic!("not upcast")
    };
    assert_eq!(
        e.report.value,
        ResultValue::Amount {
            value: rust_decimal_macros::dec!(713.275)
        }
    );
    assert_eq!(e.report.status, ResultStatus::Final);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_catches_up_then_follows_live_without_gap_or_duplicate() {
    let (_dir, store) = open();
    for n in 0..300 {
        store
            .append(request("a", ExpectedVersion::Any, vec![event(n)]))
            .await
            .unwrap();
    }
    let mut sub = store.subscribe(1);
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 0..700u64 {
                let stream_name = format!("s{}", n % 7);
                store
                    .append(request(
                        &stream_name,
                        ExpectedVersion::Any,
                        vec![event(n), event(n + 1)],
                    ))
                    .await
                    .unwrap();
            }
        })
    };
    let mut seen = Vec::new();
    while seen.len() < 300 + 1400 {
        let e = tokio::time::timeout(Duration::from_secs(20), sub.next())
            .await
            .expect("stalled")
            .unwrap();
        seen.push(e.position);
    }
    writer.await.unwrap();
    let expected: Vec<u64> = (1..=1700).collect();
    assert_eq!(seen, expected);
    // Nothing more arrives until something is written.
    assert!(tokio::time::timeout(Duration::from_millis(50), sub.next())
        .await
        .is_err());
    store
        .append(request("a", ExpectedVersion::Any, vec![event(0)]))
        .await
        .unwrap();
    assert_eq!(sub.next().await.unwrap().position, 1701);
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
async fn reads_from_any_position_agree_with_one_full_read_across_shared_blocks() {
    let (_dir, store) = open();
    // Concurrent appends share groups, so records share blocks.
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
    let all = store.read_all(1, usize::MAX).unwrap();
    assert_eq!(all.len() as u64, store.head().position);
    for from in [1u64, 2, 3, 17, 100, all.len() as u64] {
        let part = store.read_all(from, 5).unwrap();
        let expected: Vec<_> = all
            .iter()
            .skip(from as usize - 1)
            .take(5)
            .cloned()
            .collect();
        assert_eq!(part, expected, "from {from}");
    }
    assert!(store.read_all(all.len() as u64 + 1, 5).unwrap().is_empty());
    for w in 0..32u64 {
        let events = store
            .read_stream(&stream(&format!("w{w}")), 1, usize::MAX)
            .unwrap();
        let expected: Vec<_> = all
            .iter()
            .filter(|e| e.stream == stream(&format!("w{w}")))
            .cloned()
            .collect();
        assert_eq!(events, expected);
        assert_eq!(
            events.iter().map(|e| e.version).collect::<Vec<_>>(),
            (1..=events.len() as u64).collect::<Vec<_>>()
        );
    }
    assert_eq!(store.verify().unwrap().first_break, None);
}

#[test]
fn recorded_at_never_decreases_and_maps_instants_to_positions() {
    let (_dir, store) = open();
    assert_eq!(store.position_at(chrono::Utc::now()).unwrap(), 0);
    let mut marks = Vec::new();
    for n in 0..20 {
        store
            .append_blocking(request("a", ExpectedVersion::Any, vec![event(n)]))
            .unwrap();
        std::thread::sleep(Duration::from_millis(2));
        marks.push((chrono::Utc::now(), store.head().position));
    }
    let all = store.read_all(1, 100).unwrap();
    assert!(all.windows(2).all(|w| w[0].recorded_at <= w[1].recorded_at));
    for (instant, position) in marks {
        assert_eq!(store.position_at(instant).unwrap(), position);
    }
    assert_eq!(
        store
            .position_at(all[0].recorded_at - chrono::Duration::microseconds(1))
            .unwrap(),
        0
    );
    assert_eq!(store.position_at(all[4].recorded_at).unwrap(), 5);
}
