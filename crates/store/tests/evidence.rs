//! Evidence an auditor takes away: backups that prove themselves (every
//! byte changed is detected, a rewritten history is caught against a head
//! signed before, a backup under load restores equal) and forked logs.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use chitieu_store::backup::{write_backup, BackupReader};
use chitieu_store::proof::Failure;
use chitieu_store::signed::{LogKey, SignedHead};
use chitieu_store::*;
use common::*;
use proptest::prelude::*;
use std::sync::Arc;
use std::time::Duration;

fn key() -> LogKey {
    LogKey::from_seed([8; 32])
}

async fn log_with(events: u64, changed: Option<u64>) -> Log {
    let log: Log = Arc::new(MemoryLog::new());
    for n in 0..events {
        let body = if Some(n) == changed { n + 1_000 } else { n };
        let mut r = request(
            &format!("s{}", n % 3),
            ExpectedVersion::Any,
            vec![event(body)],
        );
        if n % 5 == 0 {
            r.idempotency_key = Some(format!("k{n}"));
        }
        log.append(r).await.unwrap();
    }
    log
}

fn backup_of(log: &Log) -> Vec<u8> {
    let mut out = Vec::new();
    write_backup(log, &key(), "test", &mut out, |_| {}).unwrap();
    out
}

fn check(bytes: &[u8], recorded: Option<&SignedHead>) -> Result<Vec<RawRecord>, Failure> {
    let mut reader = BackupReader::open(bytes, Some(&key().public()))?;
    let mut records = Vec::new();
    while let Some(r) = reader.next_record()? {
        records.push(r);
    }
    reader.finish(recorded)?;
    Ok(records)
}

#[tokio::test]
async fn a_backup_reads_back_every_record_and_its_keys() {
    let log = log_with(40, None).await;
    let bytes = backup_of(&log);
    let records = check(&bytes, None).unwrap();
    assert_eq!(records, log.read_raw(1, 100).unwrap());
    let restored: Log = Arc::new(MemoryLog::new());
    restored.import(records).await.unwrap();
    assert_eq!(restored.head(), log.head());
    // The empty log backs up too.
    let empty: Log = Arc::new(MemoryLog::new());
    assert!(check(&backup_of(&empty), None).unwrap().is_empty());
}

fn content(gz: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut out).ok()?;
    Some(out)
}

fn compress(content: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::fast());
    e.write_all(content).unwrap();
    e.finish().unwrap()
}

/// Every byte of what a backup says (its JSON Lines: records, keys,
/// signed head, digest, signature) is covered: any change is refused.
#[tokio::test]
async fn every_single_byte_change_of_a_backups_content_is_detected() {
    let log = log_with(8, None).await;
    let bytes = backup_of(&log);
    let text = content(&bytes).unwrap();
    assert_eq!(
        compress(&text),
        bytes,
        "the backup is plain gzip of its lines"
    );
    for at in 0..text.len() {
        for flip in [0x01u8, 0x80] {
            let mut changed = text.clone();
            changed[at] ^= flip;
            assert!(
                check(&compress(&changed), None).is_err(),
                "a change of byte {at} (^{flip:#x}) of {} went unnoticed: {}",
                text.len(),
                String::from_utf8_lossy(&changed)
            );
        }
    }
}

/// A change of the compressed file is refused, unless it leaves what the
/// file says unchanged (deflate has bits that carry nothing).
#[tokio::test]
async fn every_single_byte_change_of_the_file_is_refused_or_changes_nothing() {
    let log = log_with(12, None).await;
    let bytes = backup_of(&log);
    let text = content(&bytes).unwrap();
    let mut harmless = 0;
    for at in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut changed = bytes.clone();
            changed[at] ^= flip;
            if check(&changed, None).is_ok() {
                assert_eq!(
                    content(&changed).as_ref(),
                    Some(&text),
                    "byte {at} ^{flip:#x}"
                );
                harmless += 1;
            }
        }
    }
    assert!(harmless < bytes.len() / 100, "{harmless} harmless changes");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn any_byte_set_to_any_other_value_is_refused_or_changes_nothing(at in any::<prop::sample::Index>(), value in any::<u8>()) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let log = rt.block_on(log_with(6, None));
        let bytes = backup_of(&log);
        let at = at.index(bytes.len());
        prop_assume!(bytes[at] != value);
        let mut changed = bytes.clone();
        changed[at] = value;
        let refused = check(&changed, None).is_err();
        prop_assert!(refused || content(&changed) == content(&bytes));
    }
}

/// The notary keeps its tree pruned below chunks of 64 records and reads
/// the records back when a proof reaches under them: every proof of a log
/// of two complete chunks and a tail verifies offline, at every size, and
/// the roots it signs at old sizes agree with the consistency proofs.
#[tokio::test]
async fn proofs_reaching_into_pruned_chunks_verify_at_every_size() {
    let log = log_with(150, None).await;
    let notary = Notary::new(log.clone(), key(), "test");
    notary.catch_up().unwrap();
    assert!(
        notary.tree_bytes() < 150 * 32,
        "{} bytes",
        notary.tree_bytes()
    );
    let public = key().public();
    for size in [1u64, 2, 63, 64, 65, 100, 128, 129, 150] {
        let head = notary.signed_head(Some(size)).unwrap();
        for position in 1..=size {
            let bundle = notary.inclusion(position, Some(size)).unwrap();
            let event = bundle.verify(Some(&public)).unwrap();
            assert_eq!(event.position, position);
            assert_eq!(bundle.signed_head.root, head.root, "{position} in {size}");
        }
        for from in [1u64, 5, 63, 64, 70, 127, 128, 140] {
            if from <= size {
                notary
                    .consistency(from, Some(size))
                    .unwrap()
                    .verify(
                        Some(&public),
                        Some(&notary.signed_head(Some(from)).unwrap()),
                    )
                    .unwrap();
            }
        }
    }
}

#[tokio::test]
async fn a_history_rewritten_with_its_chain_recomputed_is_caught_by_an_earlier_signed_head() {
    let honest = log_with(30, None).await;
    let notary = Notary::new(honest.clone(), key(), "test");
    notary.catch_up().unwrap();
    let recorded = notary.signed_head(Some(25)).unwrap();
    // The same history with event 10 changed, every hash after it redone:
    // a backup of it is internally perfect, and signed by the same key.
    let forged = log_with(30, Some(10)).await;
    let bytes = backup_of(&forged);
    check(&bytes, None).unwrap();
    let failure = check(&bytes, Some(&recorded)).unwrap_err();
    assert!(
        matches!(failure, Failure::HeadMismatch { size: 25, .. }),
        "{failure}"
    );
    assert!(failure.vi().contains("25"));
    // The honest backup passes against the same head.
    check(&backup_of(&honest), Some(&recorded)).unwrap();
    // A consistency proof from the honest head to the forked log fails.
    let forked_notary = Notary::new(forged.clone(), key(), "test");
    forked_notary.catch_up().unwrap();
    let proof = forked_notary.consistency(25, None).unwrap();
    assert!(proof
        .verify(Some(&key().public()), Some(&recorded))
        .is_err());
    let honest_proof = notary.consistency(25, None).unwrap();
    honest_proof
        .verify(Some(&key().public()), Some(&recorded))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_64_writers_restores_equal_and_its_head_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let log: Log = Arc::new(SledLog::open(dir.path().join("db")).unwrap());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..64u64)
        .map(|w| {
            let (log, stop) = (log.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || n < 20 {
                    log.append(request(
                        &format!("w{w}"),
                        ExpectedVersion::Any,
                        vec![event(n)],
                    ))
                    .await
                    .unwrap();
                    n += 1;
                }
            })
        })
        .collect();
    while log.head().position < 500 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let source = log.clone();
    let (bytes, summary) = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let summary = write_backup(&source, &key(), "test", &mut out, |_| {}).unwrap();
        (out, summary)
    })
    .await
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    assert!(
        log.head().position > summary.records,
        "writers went on during the backup"
    );
    let records = check(&bytes, None).unwrap();
    assert_eq!(records.len() as u64, summary.records);
    let restored_dir = tempfile::tempdir().unwrap();
    let restored: Log = Arc::new(SledLog::open(restored_dir.path().join("db")).unwrap());
    restored.import(records).await.unwrap();
    let n = summary.records;
    assert_eq!(
        restored.read_raw(1, n as usize).unwrap(),
        log.read_raw(1, n as usize).unwrap()
    );
    assert_eq!(
        restored.read_all(1, usize::MAX).unwrap(),
        log.read_all(1, n as usize).unwrap()
    );
    // The restored store's head, signed by the same key, is the backup's.
    let notary = Notary::new(restored.clone(), key(), "test");
    notary.catch_up().unwrap();
    let head = notary.signed_head(None).unwrap();
    head.verify(&key().public()).unwrap();
    assert_eq!(
        (head.size, &head.root, &head.chain_hash),
        (
            summary.head.size,
            &summary.head.root,
            &summary.head.chain_hash
        )
    );
    restored.close().unwrap();
    log.close().unwrap();
}

/// A backup restores into any backend, PostgreSQL included, with the same
/// root and the same idempotency keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_into_postgresql_with_its_root_and_keys() {
    let log = log_with(60, None).await;
    let bytes = backup_of(&log);
    let Opened { log: target, .. } = open(Backend::Postgres).await;
    let reader =
        BackupReader::open(std::io::Cursor::new(bytes.clone()), Some(&key().public())).unwrap();
    let mut seen = Vec::new();
    let report = chitieu_store::backup::restore_into(&target, reader, 7, |p| seen.push(p.done))
        .await
        .unwrap();
    assert_eq!(report.records, 60);
    assert_eq!(seen.last(), Some(&60));
    assert_eq!(target.head(), log.head());
    // A backup whose content was changed stops the restore with the
    // failure, naming the position.
    let text = content(&bytes).unwrap();
    let at = text
        .windows(13)
        .position(|w| w == b"\"position\":40")
        .unwrap();
    let mut changed = text.clone();
    changed[at + 30] ^= 1;
    let Opened { log: other, .. } = open(Backend::Memory).await;
    let reader = BackupReader::open(std::io::Cursor::new(compress(&changed)), None).unwrap();
    let failed = chitieu_store::backup::restore_into(&other, reader, 7, |_| {}).await;
    assert!(
        matches!(
            failed,
            Err(chitieu_store::backup::RestoreError::Backup(
                Failure::Record { position: 40, .. }
            ))
        ),
        "{failed:?}"
    );
    let (a, b) = (
        Notary::new(log.clone(), key(), "test"),
        Notary::new(target.clone(), key(), "test"),
    );
    a.catch_up().unwrap();
    b.catch_up().unwrap();
    assert_eq!(
        a.signed_head(None).unwrap().root,
        b.signed_head(None).unwrap().root
    );
    // A retry of an append from before the backup is still recognised.
    let mut retry = request("s0", ExpectedVersion::Any, vec![event(0)]);
    retry.idempotency_key = Some("k0".into());
    assert!(target.append(retry).await.unwrap().replayed);
}
