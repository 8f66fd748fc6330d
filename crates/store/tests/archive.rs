//! The embedded log's archive (`archive.rs`): blocks moved from sled into
//! segment files read back exactly as before, across restarts, after a
//! crash at any step of a move, and a damaged segment is found and named.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chitieu_store::*;
use chitieu_testkit::copy_dir;
use common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Settings that archive every durable block but the last at once.
fn eager(path: &Path) -> StoreConfig {
    StoreConfig {
        archive_bytes: 1,
        archive_pause: Duration::from_millis(1),
        // Every read goes to sled or the segments, not the newest blocks
        // held in memory.
        recent_bytes: 0,
        ..StoreConfig::new(path)
    }
}

/// Settings that never archive.
fn never(path: &Path) -> StoreConfig {
    StoreConfig {
        archive_bytes: 0,
        recent_bytes: 0,
        ..StoreConfig::new(path)
    }
}

fn segments(path: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(path.join("archive"))
        .map(|dir| dir.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == "seg"));
    found.sort();
    found
}

/// The last position archived, from the segments' names.
fn archived_through(path: &Path) -> u64 {
    segments(path)
        .last()
        .and_then(|p| {
            let name = p.file_stem()?.to_str()?.to_owned();
            name.split_once('-')?.1.parse().ok()
        })
        .unwrap_or(0)
}

fn wait_until_archived(path: &Path, through: u64) {
    let started = Instant::now();
    while archived_through(path) < through {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "archived through {} of {through}",
            archived_through(path)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// 120 appends of one event, one block each, over three streams, with an
/// idempotency key on every fifth.
fn fill(store: &SledLog) {
    for n in 0..120u64 {
        let mut request = request(&format!("s{}", n % 3), ExpectedVersion::Any, vec![event(n)]);
        if n % 5 == 0 {
            request.idempotency_key = Some(format!("key-{n}"));
            request.fingerprint = Some([n as u8; 32]);
        }
        store.append_blocking(request).unwrap();
    }
}

/// A closed log of [`fill`]'s appends in a new directory, written with
/// `config` (and archived, when it archives).
fn written(config: fn(&Path) -> StoreConfig) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let store = SledLog::open_with(config(&path)).unwrap();
    fill(&store);
    if config(&path).archive_bytes > 0 {
        wait_until_archived(&path, 119);
    }
    store.close().unwrap();
    (dir, path)
}

/// Everything a reader can see of a log, to compare two of them.
fn everything(store: &SledLog) -> (Vec<RawRecord>, Vec<Vec<RecordedEvent>>, VerifyReport) {
    let raw = store.read_raw(0, usize::MAX).unwrap();
    let streams = (0..3)
        .map(|s| {
            store
                .read_stream(&stream(&format!("s{s}")), 1, usize::MAX)
                .unwrap()
        })
        .collect();
    (raw, streams, store.verify_blocking().unwrap())
}

#[test]
fn archived_blocks_read_back_alike_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (kept, moved) = (dir.path().join("kept"), dir.path().join("moved"));
    let expected = {
        let store = SledLog::open_with(never(&kept)).unwrap();
        fill(&store);
        let all = everything(&store);
        store.close().unwrap();
        all
    };
    assert!(
        segments(&kept).is_empty(),
        "archive_bytes = 0 archives nothing"
    );
    let store = SledLog::open_with(eager(&moved)).unwrap();
    fill(&store);
    wait_until_archived(&moved, 119);
    assert!(segments(&moved).len() > 1);
    let got = everything(&store);
    // The same records, byte for byte but for their own times and ids.
    assert_eq!(got.0.len(), 120);
    assert_eq!(got.2.first_break, None);
    assert_eq!(got.2.checked, 120);
    for (a, b) in got.1.iter().zip(&expected.1) {
        assert_eq!(
            a.iter()
                .map(|e| (e.position, e.version))
                .collect::<Vec<_>>(),
            b.iter()
                .map(|e| (e.position, e.version))
                .collect::<Vec<_>>()
        );
    }
    let keys = |raw: &[RawRecord]| {
        raw.iter()
            .map(|r| r.idempotency.as_ref().map(|i| (r.position, i.key.clone())))
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&got.0), keys(&expected.0));
    let replay = {
        let mut request = request("s0", ExpectedVersion::Any, vec![event(0)]);
        request.idempotency_key = Some("key-0".into());
        request.fingerprint = Some([0; 32]);
        request
    };
    let outcome = store.append_blocking(replay).unwrap();
    assert!(outcome.replayed, "an archived append's key still answers");
    let archived_bytes: u64 = segments(&moved)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(store.size_on_disk().unwrap() >= archived_bytes);
    let head = store.head();
    let before = store.read_raw(0, usize::MAX).unwrap();
    store.close().unwrap();
    drop(store);

    // Reopened without archiving: the segments are read all the same, and
    // appends go on from the head.
    let store = SledLog::open_waiting_with(never(&moved), Duration::from_secs(20)).unwrap();
    assert_eq!(store.head(), head);
    let after = store.read_raw(0, usize::MAX).unwrap();
    assert_eq!(
        after.iter().map(|r| &r.bytes).collect::<Vec<_>>(),
        before.iter().map(|r| &r.bytes).collect::<Vec<_>>()
    );
    let next = store
        .append_blocking(request("s1", ExpectedVersion::Any, vec![event(999)]))
        .unwrap();
    assert_eq!(next.first_position, head.position + 1);
    assert_eq!(
        store
            .read_stream(&stream("s1"), 1, usize::MAX)
            .unwrap()
            .len(),
        41
    );
    assert_eq!(store.verify_blocking().unwrap().first_break, None);
}

#[test]
fn a_crash_at_any_step_of_a_move_loses_nothing() {
    let (dir, path) = written(never);
    // The state before any move: every block in sled.
    let before_move = dir.path().join("before");
    copy_dir(&path, &before_move);
    let expected = {
        let store = SledLog::open_waiting_with(eager(&path), Duration::from_secs(20)).unwrap();
        wait_until_archived(&path, 119);
        let all = store.read_raw(0, usize::MAX).unwrap();
        store.close().unwrap();
        all
    };
    let bytes = |raw: &[RawRecord]| raw.iter().map(|r| r.bytes.clone()).collect::<Vec<_>>();

    // 1. Killed while writing a segment: a `.tmp` file, blocks in sled.
    let half = dir.path().join("half");
    copy_dir(&before_move, &half);
    std::fs::create_dir_all(half.join("archive")).unwrap();
    let first = segments(&path)[0].clone();
    // Named as the archiver names a segment it has not finished: its first
    // position.
    let name = format!(
        "{}.seg.tmp",
        &first.file_name().unwrap().to_str().unwrap()[..20]
    );
    let partial = std::fs::read(&first).unwrap();
    std::fs::write(
        half.join("archive").join(&name),
        &partial[..partial.len() / 2],
    )
    .unwrap();
    let store = SledLog::open_with(never(&half)).unwrap();
    assert!(
        !half.join("archive").join(&name).exists(),
        "the half file is gone"
    );
    assert_eq!(
        bytes(&store.read_raw(0, usize::MAX).unwrap()),
        bytes(&expected)
    );
    assert_eq!(store.verify_blocking().unwrap().first_break, None);
    store.close().unwrap();

    // 2. Killed after publishing the segments, before sled forgot the
    // blocks: both hold them; the segments win and sled's copies go.
    let both = dir.path().join("both");
    copy_dir(&before_move, &both);
    copy_dir(&path.join("archive"), &both.join("archive"));
    let store = SledLog::open_with(never(&both)).unwrap();
    assert_eq!(
        bytes(&store.read_raw(0, usize::MAX).unwrap()),
        bytes(&expected)
    );
    assert_eq!(store.verify_blocking().unwrap().first_break, None);
    let stream_s2 = store.read_stream(&stream("s2"), 1, usize::MAX).unwrap();
    assert_eq!(stream_s2.len(), 40);
    store.close().unwrap();
    drop(store);
    let db = sled::open(&both).unwrap();
    let tree = db.open_tree("log").unwrap();
    let in_sled = tree.scan_prefix([b'L']).count();
    assert_eq!(in_sled, 1, "only the last block stays in sled");
}

/// The archiver moves blocks once `archive_bytes` of them wait (counting
/// those in sled when it starts, and those written since), in segments of
/// about that many bytes, and none before.
#[test]
fn blocks_move_once_archive_bytes_of_them_wait() {
    const BYTES: u64 = 4000;
    let sized = |path: &Path| StoreConfig {
        archive_bytes: BYTES,
        archive_pause: Duration::from_millis(1),
        recent_bytes: 0,
        ..StoreConfig::new(path)
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let store = SledLog::open_with(sized(&path)).unwrap();
    store
        .append_blocking(request("s0", ExpectedVersion::Any, vec![event(0)]))
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        segments(&path).is_empty(),
        "one block is far from {BYTES} bytes"
    );
    fill(&store);
    let started = Instant::now();
    while archived_through(&path) < 60 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "archived through {}",
            archived_through(&path)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    store.close().unwrap();
    drop(store);
    let sizes: Vec<u64> = segments(&path)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .collect();
    assert!(sizes.len() > 1, "{sizes:?}");
    for size in &sizes {
        // Blocks of a few hundred bytes each: a segment holds at least
        // half the bound (the count may include sled's last block, which
        // stays) and at most the bound and one block more.
        assert!(*size >= BYTES / 2 && *size < 2 * BYTES, "{sizes:?}");
    }

    // Written with no archiving, then opened with it: the blocks in sled
    // are counted at start and move with no new write.
    let (dir, path) = written(never);
    assert!(segments(&path).is_empty());
    let store = SledLog::open_waiting_with(sized(&path), Duration::from_secs(20)).unwrap();
    let started = Instant::now();
    while segments(&path).len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "nothing archived"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    store.close().unwrap();
    drop(dir);
}

#[test]
fn a_damaged_segment_is_found_and_named() {
    let (_dir, path) = written(eager);
    // A bit flipped in the middle of the largest segment's blocks.
    let largest = segments(&path)
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(&largest).unwrap();
    bytes[40] ^= 0x10;
    std::fs::write(&largest, &bytes).unwrap();

    let store = SledLog::open_waiting_with(never(&path), Duration::from_secs(20));
    // Opening reads the whole log (the stream index): the damage is named
    // then, or by the first read and by verification.
    match store {
        Err(StoreError::Corrupt { reason, .. }) => {
            assert!(reason.contains("checksum"), "{reason}");
            assert!(reason.contains(".seg"), "{reason}");
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(store) => {
            let report = store.verify_blocking().unwrap();
            let (_, reason) = report.first_break.expect("the damage is found");
            assert!(reason.contains("checksum"), "{reason}");
            assert!(store.read_raw(0, usize::MAX).is_err());
        }
    }
}

#[test]
fn a_stray_file_among_the_segments_is_refused_by_name() {
    let (_dir, path) = written(never);
    std::fs::write(path.join("archive").join("notes.txt"), b"hello").unwrap();
    match SledLog::open_waiting_with(never(&path), Duration::from_secs(20)) {
        Err(error) => assert!(error.to_string().contains("notes.txt"), "{error}"),
        Ok(_) => panic!("a stray file must not be ignored"),
    }
}
