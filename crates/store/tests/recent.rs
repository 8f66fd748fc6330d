//! The newest blocks held in memory (`recent.rs`): readers that follow the
//! head while writers append read exactly what sled holds, whether a read
//! starts inside what is held, before it, or at its edge.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use chitieu_store::*;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

fn held(path: &Path, recent_bytes: usize) -> StoreConfig {
    StoreConfig {
        archive_bytes: 0,
        recent_bytes,
        ..StoreConfig::new(path)
    }
}

#[test]
fn readers_following_the_head_read_what_sled_holds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    // A few blocks' worth: reads start inside what is held, before it
    // (sled) and at its newest block, while the oldest are let go.
    let store = Arc::new(SledLog::open_with(held(&path, 3 * 1024)).unwrap());
    let seen: Arc<Mutex<BTreeMap<u64, (RecordedEvent, RawRecord)>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2u64)
        .map(|r| {
            let (store, seen, done) = (store.clone(), seen.clone(), done.clone());
            std::thread::spawn(move || {
                let mut reads = 0u64;
                let mut n = r;
                while !done.load(Ordering::Relaxed) || reads < 50 {
                    let head = store.head().position;
                    n = n
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    // Mostly near the head, now and then far behind it.
                    let back = if n % 5 == 0 {
                        (n >> 33) % 400
                    } else {
                        (n >> 33) % 12
                    };
                    let from = head.saturating_sub(back).max(1);
                    let limit = 1 + (n >> 20) as usize % 40;
                    let events = store.read_all(from, limit).unwrap();
                    let raw = store.read_raw(from, limit).unwrap();
                    let positions: Vec<u64> = events.iter().map(|e| e.position).collect();
                    let expected: Vec<u64> = (from..).take(positions.len()).collect();
                    assert_eq!(
                        positions, expected,
                        "read_all({from}, {limit}) at head {head}"
                    );
                    assert!(events.len() <= limit);
                    if head >= from {
                        let reachable = usize::try_from(head - from + 1).unwrap().min(limit);
                        assert!(
                            events.len() >= reachable,
                            "read_all({from}, {limit}) stopped short of head {head}"
                        );
                    }
                    // Read after: the head may have moved on meanwhile.
                    assert_eq!(
                        raw.iter().map(|r| r.position).collect::<Vec<_>>(),
                        (from..).take(raw.len()).collect::<Vec<_>>()
                    );
                    assert!(raw.len() >= events.len());
                    let mut seen = seen.lock().unwrap();
                    for (event, raw) in events.into_iter().zip(raw) {
                        let position = event.position;
                        if let Some(before) = seen.insert(position, (event.clone(), raw.clone())) {
                            assert_eq!(before, (event, raw), "position {position} read two ways");
                        }
                    }
                    reads += 1;
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let store = store.clone();
            std::thread::spawn(move || {
                for n in 0..150u64 {
                    let k = w * 1000 + n;
                    let events = (0..1 + k % 3).map(|i| event(k * 10 + i)).collect();
                    let mut request = request(&format!("s{}", k % 7), ExpectedVersion::Any, events);
                    if k % 4 == 0 {
                        request.idempotency_key = Some(format!("key-{k}"));
                        request.fingerprint = Some([k as u8; 32]);
                    }
                    store.append_blocking(request).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }
    let head = store.head().position;
    let live = (
        store.read_all(1, usize::MAX).unwrap(),
        store.read_raw(1, usize::MAX).unwrap(),
    );
    assert_eq!(live.0.len() as u64, head);
    Arc::into_inner(store).unwrap().close().unwrap();

    // The same log read from sled alone, after a restart.
    let reopened = SledLog::open_with(held(&path, 0)).unwrap();
    let from_sled = (
        reopened.read_all(1, usize::MAX).unwrap(),
        reopened.read_raw(1, usize::MAX).unwrap(),
    );
    assert_eq!(
        live, from_sled,
        "the log read while held differs from sled's"
    );
    let seen = seen.lock().unwrap();
    assert!(
        seen.len() > 100,
        "the readers read {} positions",
        seen.len()
    );
    for (position, (event, raw)) in seen.iter() {
        let at = usize::try_from(position - 1).unwrap();
        assert_eq!(
            event, &from_sled.0[at],
            "position {position} as read during the writes"
        );
        assert_eq!(
            raw, &from_sled.1[at],
            "position {position} (raw) as read during the writes"
        );
    }
    reopened.verify_blocking().unwrap();
}
