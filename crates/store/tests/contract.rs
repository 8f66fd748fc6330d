//! The log's contract, one suite run against every backend: sled, memory
//! and PostgreSQL (a private cluster, see `chitieu-testkit`). A backend
//! that breaks any of these is not a log chitieu can stand on.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use chitieu_domain::event::EncodedEvent;
use chitieu_domain::{Event, ResultStatus, ResultValue};
use chitieu_store::StreamName;
use chitieu_store::*;
use common::*;
use std::time::Duration;

async fn append(log: &Log, request: AppendRequest) -> Result<AppendOutcome, AppendError> {
    log.append(request).await
}

async fn appended_events_read_back_with_their_envelope(backend: Backend) {
    let Opened { log, .. } = &open(backend).await;
    let before = chrono::Utc::now();
    let outcome = append(
        log,
        request("a", ExpectedVersion::NoStream, vec![event(1), event(2)]),
    )
    .await
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
    let second = append(log, request("b", ExpectedVersion::Exact(0), vec![event(3)]))
        .await
        .unwrap();
    assert_eq!((second.first_position, second.stream_version), (3, 1));

    let all = log.read_all(0, 100).unwrap();
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
    assert_eq!(all[1].correlation_id, first.correlation_id);
    assert_eq!(first.payload, event(1).payload);

    let a = log.read_stream(&stream("a"), 2, 10).unwrap();
    assert_eq!(
        a.iter()
            .map(|e| (e.version, e.position))
            .collect::<Vec<_>>(),
        vec![(2, 2)]
    );
    assert_eq!(log.stream_version(&stream("a")).unwrap(), 2);
    assert_eq!(log.stream_version(&stream("nope")).unwrap(), 0);
    assert_eq!(log.head().position, 3);
    assert_eq!(log.head().hash, all[2].hash);
    // The chain hash at any position, not only the head.
    for e in &all {
        assert_eq!(
            log.head_at(e.position).unwrap(),
            Head {
                position: e.position,
                hash: e.hash
            }
        );
    }
    assert_eq!(log.head_at(0).unwrap(), Head::default());
    let raw = log.read_raw(1, 10).unwrap();
    assert_eq!(raw.len(), 3);
    assert_eq!(raw[2].decode().unwrap(), all[2]);
}

async fn a_stale_expected_version_is_a_conflict_and_writes_nothing(backend: Backend) {
    let Opened { log, .. } = &open(backend).await;
    append(log, request("a", ExpectedVersion::NoStream, vec![event(1)]))
        .await
        .unwrap();
    let err = append(log, request("a", ExpectedVersion::Exact(0), vec![event(2)]))
        .await
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
    let err = append(log, request("a", ExpectedVersion::NoStream, vec![event(2)]))
        .await
        .unwrap_err();
    assert!(matches!(err, AppendError::Conflict { current: 1, .. }));
    assert_eq!(log.head().position, 1, "a refused append writes nothing");
    append(log, request("a", ExpectedVersion::Exact(1), vec![event(2)]))
        .await
        .unwrap();
    append(log, request("a", ExpectedVersion::Any, vec![event(3)]))
        .await
        .unwrap();
    assert_eq!(log.stream_version(&stream("a")).unwrap(), 3);
}

/// The decision read the period's stream (at version 1) and writes to the
/// indicator's: if the period moved in between, the append is refused.
async fn a_decision_over_two_streams_is_refused_when_the_other_moved(backend: Backend) {
    let Opened { log, .. } = &open(backend).await;
    append(
        log,
        request("period", ExpectedVersion::NoStream, vec![event(1)]),
    )
    .await
    .unwrap();
    append(
        log,
        request("figure", ExpectedVersion::NoStream, vec![event(2)]),
    )
    .await
    .unwrap();
    let read_at = log.stream_version(&stream("period")).unwrap();
    let conditional = |n| {
        let mut r = request("figure", ExpectedVersion::Exact(1), vec![event(n)]);
        r.conditions = vec![StreamCondition {
            stream: stream("period"),
            expected: ExpectedVersion::Exact(read_at),
        }];
        r
    };
    // Meanwhile, the period is locked (another decision on its stream).
    append(
        log,
        request("period", ExpectedVersion::Exact(1), vec![event(3)]),
    )
    .await
    .unwrap();
    let head = log.head();
    let err = append(log, conditional(4)).await.unwrap_err();
    assert!(
        matches!(&err, AppendError::Conflict { stream: s, current: 2, expected: ExpectedVersion::Exact(1) } if *s == stream("period")),
        "{err:?}"
    );
    assert_eq!(log.head(), head, "nothing appended");
    assert_eq!(log.stream_version(&stream("figure")).unwrap(), 1);
    // Decided again on what the period is now, it goes through.
    let mut again = conditional(5);
    again.conditions[0].expected = ExpectedVersion::Exact(2);
    append(log, again).await.unwrap();
    // A condition that a stream does not exist holds until it does.
    let mut absent = request("figure", ExpectedVersion::Any, vec![event(6)]);
    absent.conditions = vec![StreamCondition {
        stream: stream("lock"),
        expected: ExpectedVersion::NoStream,
    }];
    append(log, absent.clone()).await.unwrap();
    append(
        log,
        request("lock", ExpectedVersion::NoStream, vec![event(7)]),
    )
    .await
    .unwrap();
    assert!(matches!(
        append(log, absent).await,
        Err(AppendError::Conflict { current: 1, .. })
    ));
}

/// Many writers race on a condition: exactly one wins each round, even
/// when they share one group commit.
async fn racing_conditional_appends_have_one_winner_per_round(backend: Backend) {
    let Opened { log, .. } = &open(backend).await;
    for round in 0..10u64 {
        let tasks: Vec<_> = (0..8u64)
            .map(|w| {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut r = request(&format!("w{w}"), ExpectedVersion::Any, vec![event(w)]);
                    r.conditions = vec![StreamCondition {
                        stream: stream("shared"),
                        expected: ExpectedVersion::Exact(round),
                    }];
                    // The winner also moves the shared stream: one append
                    // per round, written as two conditions on one stream.
                    let mut claim =
                        request("shared", ExpectedVersion::Exact(round), vec![event(w)]);
                    claim.conditions = r.conditions.clone();
                    log.append(claim).await
                })
            })
            .collect();
        let mut winners = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => winners += 1,
                Err(AppendError::Conflict { current, .. }) => assert_eq!(current, round + 1),
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(winners, 1, "round {round}");
    }
    assert_eq!(log.head().position, 10);
}

async fn a_retry_with_the_same_key_returns_the_first_outcome(backend: Backend) {
    let Opened { log, .. } = &open(backend).await;
    let mut req = request("a", ExpectedVersion::NoStream, vec![event(1)]);
    req.idempotency_key = Some("import-38-CTr/HU-row-4".into());
    let first = append(log, req.clone()).await.unwrap();
    let again = append(log, req.clone()).await.unwrap();
    assert_eq!(
        again,
        AppendOutcome {
            replayed: true,
            ..first
        }
    );
    assert_eq!(log.head().position, 1);
    let recorded = log
        .idempotency_record("import-38-CTr/HU-row-4")
        .unwrap()
        .unwrap();
    assert_eq!(recorded.1.last_position, 1);
    let mut different = req.clone();
    different.events = vec![event(99)];
    let err = append(log, different).await.unwrap_err();
    assert!(
        matches!(err, AppendError::IdempotencyKeyReused { .. }),
        "{err:?}"
    );
    assert_eq!(log.head().position, 1);
}

async fn concurrent_retries_write_once(backend: Backend) {
    let Opened { log, .. } = &open(backend).await;
    let mut req = request("a", ExpectedVersion::Any, vec![event(1)]);
    req.idempotency_key = Some("k".into());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (log, r) = (log.clone(), req.clone());
            tokio::spawn(async move { log.append(r).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap().unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| !o.replayed).count(), 1);
    assert!(outcomes.iter().all(|o| o.first_position == 1));
    assert_eq!(log.head().position, 1);
}

async fn malformed_appends_are_refused_whole(backend: Backend) {
    let Opened { log, .. } = &open(backend).await;
    let empty = request("a", ExpectedVersion::Any, vec![]);
    assert!(matches!(
        append(log, empty).await,
        Err(AppendError::Invalid(_))
    ));
    let mut nul = request("a", ExpectedVersion::Any, vec![event(1)]);
    nul.stream = StreamName("a\0b".into());
    assert!(matches!(
        append(log, nul).await,
        Err(AppendError::Invalid(_))
    ));
    let mut nul_condition = request("a", ExpectedVersion::Any, vec![event(1)]);
    nul_condition.conditions = vec![StreamCondition {
        stream: StreamName("x\0".into()),
        expected: ExpectedVersion::Any,
    }];
    assert!(matches!(
        append(log, nul_condition).await,
        Err(AppendError::Invalid(_))
    ));
    let mut huge = request("a", ExpectedVersion::Any, vec![event(1)]);
    huge.events.push(EncodedEvent {
        event_type: "x".into(),
        schema_version: 1,
        payload: vec![b' '; (1 << 20) + 1],
    });
    assert!(matches!(
        append(log, huge).await,
        Err(AppendError::Invalid(_))
    ));
    let mut anonymous = request("a", ExpectedVersion::Any, vec![event(1)]);
    anonymous.meta.actor.id.clear();
    assert!(matches!(
        append(log, anonymous).await,
        Err(AppendError::Invalid(_))
    ));
    assert_eq!(log.head().position, 0);
    assert_eq!(log.verify().await.unwrap().checked, 0);
}

async fn an_old_event_version_is_read_back_through_its_upcaster(backend: Backend) {
    let Opened { log, .. } = &open(backend).await;
    let v1 = EncodedEvent {
        event_type: "actual_reported".into(),
        schema_version: 1,
        payload: br#"{"indicator":"0195f3c0-0000-7000-8000-000000000001","report_id":"0195f3c0-0000-7000-8000-000000000002","value":"713.275","refers_to":"2022-12-31","note":null}"#.to_vec(),
    };
    append(log, request("x", ExpectedVersion::NoStream, vec![v1]))
        .await
        .unwrap();
    let stored = &log.read_all(1, 1).unwrap()[0];
    assert_eq!(stored.schema_version, 1, "stored bytes are never rewritten");
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

async fn a_subscriber_catches_up_then_follows_live(backend: Backend) {
    let Opened { log, .. } = &open(backend).await;
    for n in 0..100 {
        append(log, request("a", ExpectedVersion::Any, vec![event(n)]))
            .await
            .unwrap();
    }
    let mut sub = Subscription::new(log.clone(), 1);
    let writer = {
        let log = log.clone();
        tokio::spawn(async move {
            for n in 0..200u64 {
                let name = format!("s{}", n % 7);
                log.append(request(
                    &name,
                    ExpectedVersion::Any,
                    vec![event(n), event(n + 1)],
                ))
                .await
                .unwrap();
            }
        })
    };
    let mut seen = Vec::new();
    while seen.len() < 100 + 400 {
        let e = tokio::time::timeout(Duration::from_secs(20), sub.next())
            .await
            .expect("stalled")
            .unwrap();
        seen.push(e.position);
    }
    writer.await.unwrap();
    assert_eq!(seen, (1..=500).collect::<Vec<u64>>());
    assert!(tokio::time::timeout(Duration::from_millis(50), sub.next())
        .await
        .is_err());
    append(log, request("a", ExpectedVersion::Any, vec![event(0)]))
        .await
        .unwrap();
    assert_eq!(sub.next().await.unwrap().position, 501);
}

async fn concurrent_appends_read_back_alike_from_any_position(backend: Backend) {
    let Opened { log, .. } = &open(backend).await;
    let tasks: Vec<_> = (0..16u64)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move {
                for n in 0..15u64 {
                    let events = (0..1 + n % 3)
                        .map(|i| event(w * 1000 + n * 10 + i))
                        .collect();
                    log.append(request(&format!("w{w}"), ExpectedVersion::Any, events))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let all = log.read_all(1, usize::MAX).unwrap();
    assert_eq!(all.len() as u64, log.head().position);
    for from in [1u64, 2, 3, 17, 100, all.len() as u64] {
        let part = log.read_all(from, 5).unwrap();
        let expected: Vec<_> = all
            .iter()
            .skip(from as usize - 1)
            .take(5)
            .cloned()
            .collect();
        assert_eq!(part, expected, "from {from}");
    }
    assert!(log.read_all(all.len() as u64 + 1, 5).unwrap().is_empty());
    for w in 0..16u64 {
        let events = log
            .read_stream(&stream(&format!("w{w}")), 1, usize::MAX)
            .unwrap();
        assert_eq!(
            events.iter().map(|e| e.version).collect::<Vec<_>>(),
            (1..=events.len() as u64).collect::<Vec<_>>()
        );
        // Positions alone, from anywhere in the stream, are those of the
        // events read (what a snapshot is checked against).
        for from in [1u64, 2, events.len() as u64, events.len() as u64 + 1] {
            for limit in [1usize, 3, usize::MAX] {
                let positions = log
                    .stream_positions(&stream(&format!("w{w}")), from, limit)
                    .unwrap();
                let read = log
                    .read_stream(&stream(&format!("w{w}")), from, limit)
                    .unwrap();
                assert_eq!(
                    positions,
                    read.iter().map(|e| e.position).collect::<Vec<_>>(),
                    "w{w} from {from}, {limit}"
                );
            }
        }
    }
    assert!(log
        .stream_positions(&stream("nope"), 1, 10)
        .unwrap()
        .is_empty());
    let report = log.verify().await.unwrap();
    assert_eq!(report.first_break, None);
    assert_eq!(report.head, log.head());
    assert_eq!(report.checked, log.head().position);
    // From a verified checkpoint only the tail is walked, and it must
    // chain to the checkpoint's hash.
    for at in [1u64, 17, 64, log.head().position] {
        let checkpoint = log.head_at(at).unwrap();
        let progress = Progress::default();
        let tail = log.verify_from(checkpoint, progress.clone()).await.unwrap();
        assert_eq!(tail.first_break, None, "from {at}");
        assert_eq!(tail.checked, log.head().position - at);
        assert_eq!(
            progress.load(std::sync::atomic::Ordering::Relaxed),
            tail.checked
        );
        assert_eq!(tail.head, log.head());
        if at < log.head().position {
            let forged = Head {
                position: at,
                hash: [7; 32],
            };
            let broken = log.verify_from(forged, Progress::default()).await.unwrap();
            assert_eq!(broken.first_break.map(|b| b.0), Some(at + 1), "from {at}");
        }
    }
}

async fn recorded_at_never_decreases_and_maps_instants_to_positions(backend: Backend) {
    let Opened { log, .. } = &open(backend).await;
    assert_eq!(log.position_at(chrono::Utc::now()).unwrap(), 0);
    let mut marks = Vec::new();
    for n in 0..10 {
        append(log, request("a", ExpectedVersion::Any, vec![event(n)]))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
        marks.push((chrono::Utc::now(), log.head().position));
        // Times are recorded to the microsecond: an append within the
        // mark's own microsecond (a memory log's is that quick) would be
        // recorded at or before the mark.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let all = log.read_all(1, 100).unwrap();
    assert!(all.windows(2).all(|w| w[0].recorded_at <= w[1].recorded_at));
    for (instant, position) in marks {
        assert_eq!(log.position_at(instant).unwrap(), position);
    }
    assert_eq!(
        log.position_at(all[0].recorded_at - chrono::Duration::microseconds(1))
            .unwrap(),
        0
    );
}

/// A log copied into another backend has the same records, byte for byte,
/// the same head, and keeps its idempotency keys.
async fn a_copy_is_byte_identical_and_keeps_its_keys(backend: Backend) {
    let source = MemoryLog::new();
    let source: Log = std::sync::Arc::new(source);
    for n in 0..50u64 {
        let mut r = request(&format!("s{}", n % 4), ExpectedVersion::Any, vec![event(n)]);
        r.idempotency_key = (n % 5 == 0).then(|| format!("key-{n}"));
        source.append(r).await.unwrap();
    }
    let Opened { log: target, .. } = &open(backend).await;
    let mut seen = Vec::new();
    let head = copy_log(&source, target, |p| seen.push(p)).await.unwrap();
    assert_eq!(head, source.head());
    assert_eq!(target.head(), source.head());
    assert_eq!(seen.last().map(|p| p.copied), Some(50));
    assert_eq!(
        target.read_raw(1, 100).unwrap(),
        source.read_raw(1, 100).unwrap()
    );
    // A retry after the move is still recognised.
    let mut retry = request("s0", ExpectedVersion::Any, vec![event(0)]);
    retry.idempotency_key = Some("key-0".into());
    assert!(target.append(retry).await.unwrap().replayed);
    // Appends continue the same chain.
    let next = target
        .append(request("s0", ExpectedVersion::Exact(13), vec![event(99)]))
        .await
        .unwrap();
    assert_eq!(next.first_position, 51);
    assert_eq!(
        target.read_all(51, 1).unwrap()[0].prev_hash,
        source.head().hash
    );
    // Records that do not continue a log are refused whole.
    let again = source.read_raw(1, 2).unwrap();
    let head = target.head();
    assert!(matches!(
        target.import(again).await,
        Err(AppendError::Invalid(_))
    ));
    assert_eq!(target.head(), head);
}

async fn the_merkle_tree_follows_the_log_and_its_proofs_verify(backend: Backend) {
    let Opened { log, .. } = &open(backend).await;
    let key = chitieu_store::signed::LogKey::from_seed([5; 32]);
    let notary = Notary::new(log.clone(), key.clone(), "test");
    let follower = notary.spawn();
    for n in 0..20u64 {
        append(log, request("a", ExpectedVersion::Any, vec![event(n)]))
            .await
            .unwrap();
    }
    assert!(notary.wait_for(20, Duration::from_secs(10)).await);
    let old = notary.signed_head(Some(7)).unwrap();
    old.verify(&key.public()).unwrap();
    assert_eq!(old.chain_hash, hex::encode(log.head_at(7).unwrap().hash));
    for n in 20..45u64 {
        let events = vec![event(n), event(n + 100)];
        append(log, request("b", ExpectedVersion::Any, events))
            .await
            .unwrap();
    }
    assert!(notary.wait_for(70, Duration::from_secs(10)).await);
    let now = notary.signed_head(None).unwrap();
    assert_eq!(now.size, 70);
    assert_eq!(now.chain_hash, hex::encode(log.head().hash));
    for position in [1u64, 7, 8, 33, 70] {
        let bundle = notary.inclusion(position, None).unwrap();
        let json = serde_json::to_string(&bundle).unwrap();
        let back: chitieu_store::proof::InclusionBundle = serde_json::from_str(&json).unwrap();
        let event = back.verify(Some(&key.public())).unwrap();
        assert_eq!(event.position, position);
        // The same record proven against the old head, where it is in it.
        let at_old = notary.inclusion(position, Some(7));
        assert_eq!(at_old.is_ok(), position <= 7);
    }
    let proof = notary.consistency(7, None).unwrap();
    proof.verify(Some(&key.public()), Some(&old)).unwrap();
    assert!(notary.inclusion(71, None).is_err());
    assert!(notary.consistency(0, None).is_err());
    follower.abort();
}

macro_rules! contract {
    ($backend:ident, $variant:expr) => {
        mod $backend {
            use super::*;
            contract!(@tests $variant;
                appended_events_read_back_with_their_envelope,
                a_stale_expected_version_is_a_conflict_and_writes_nothing,
                a_decision_over_two_streams_is_refused_when_the_other_moved,
                racing_conditional_appends_have_one_winner_per_round,
                a_retry_with_the_same_key_returns_the_first_outcome,
                concurrent_retries_write_once,
                malformed_appends_are_refused_whole,
                an_old_event_version_is_read_back_through_its_upcaster,
                a_subscriber_catches_up_then_follows_live,
                concurrent_appends_read_back_alike_from_any_position,
                recorded_at_never_decreases_and_maps_instants_to_positions,
                a_copy_is_byte_identical_and_keeps_its_keys,
                the_merkle_tree_follows_the_log_and_its_proofs_verify,
            );
        }
    };
    (@tests $variant:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($variant).await;
            }
        )*
    };
}

contract!(sled, Backend::Sled);
contract!(sled_archiving, Backend::SledArchiving);
contract!(memory, Backend::Memory);
contract!(postgres, Backend::Postgres);

/// Two PostgreSQL nodes on one database: one chain, gap-free positions,
/// conditions checked across nodes, and each node reads the other's writes
/// once it syncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_nodes_share_one_chain() {
    let url = chitieu_testkit::shared().fresh_database().await;
    let a = pg_node(&url).await;
    let b = pg_node(&url).await;
    let tasks: Vec<_> = (0..8u64)
        .map(|w| {
            let node = if w % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                for n in 0..25u64 {
                    let mut r =
                        request(&format!("w{}", w % 3), ExpectedVersion::Any, vec![event(n)]);
                    r.idempotency_key = Some(format!("{w}-{n}"));
                    node.append(r).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let head_a = a.sync().await.unwrap();
    let head_b = b.sync().await.unwrap();
    assert_eq!(head_a, head_b);
    assert_eq!(head_a.position, 200);
    assert_eq!(a.read_raw(1, 500).unwrap(), b.read_raw(1, 500).unwrap());
    assert_eq!(a.verify().await.unwrap().first_break, None);
    // A key used on one node is a replay on the other.
    let mut r = request("w0", ExpectedVersion::Any, vec![event(0)]);
    r.idempotency_key = Some("0-0".into());
    assert!(b.append(r).await.unwrap().replayed);
    // A condition read on node A is checked against a write made on node B.
    let seen = a.stream_version(&stream("w1")).unwrap();
    b.append(request("w1", ExpectedVersion::Exact(seen), vec![event(1)]))
        .await
        .unwrap();
    let mut stale = request("other", ExpectedVersion::Any, vec![event(2)]);
    stale.conditions = vec![StreamCondition {
        stream: stream("w1"),
        expected: ExpectedVersion::Exact(seen),
    }];
    assert!(matches!(
        a.append(stale).await,
        Err(AppendError::Conflict { .. })
    ));
}
