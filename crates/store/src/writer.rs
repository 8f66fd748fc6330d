//! The writer thread, the flusher thread, and their group commit.
//!
//! Appends arrive on a channel. The writer takes every append waiting (up to
//! `max_group`), checks each against the stream versions and idempotency
//! keys, seals its records onto the hash chain and packs them into blocks
//! (one sled key per block of consecutive records), then inserts each block
//! followed by the idempotency entries derived from it, and adds the
//! records to the in-memory stream index ([`StreamIndex`]).
//! It hands the group to the flusher and goes on with the next one.
//!
//! The flusher flushes sled (one flush covers every group inserted before
//! it), publishes the new durable head, and only then answers the callers.
//! So the disk wait of one group overlaps the CPU work of the next.
//!
//! A refused append inserts nothing. A failed insert or flush fails every
//! pending append and stops both threads (fail-stop: the in-memory head
//! could otherwise drift from what is on disk); the store must be reopened.

use crate::error::{AppendError, StoreError};
use crate::keys;
use crate::log::{AppendOutcome, AppendRequest, Head, RawRecord};
use crate::recent::Recent;
use crate::record::{self, BlockBuilder};
use crate::sequencer::{Lookup, Sealed, Sequencer};
use crate::stream_index::StreamIndex;
use chrono::Utc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use tokio::sync::{oneshot, watch};

pub(crate) enum Job {
    /// An append to judge and seal.
    Append {
        request: Box<AppendRequest>,
        reply: oneshot::Sender<Result<AppendOutcome, AppendError>>,
    },
    /// Records sealed elsewhere, stored verbatim (all or none).
    Import {
        records: Vec<RawRecord>,
        reply: oneshot::Sender<Result<Head, AppendError>>,
    },
}

pub(crate) struct Writer {
    db: sled::Db,
    tree: sled::Tree,
    index: Arc<StreamIndex>,
    head: Head,
    head_tx: watch::Sender<Head>,
    max_group: usize,
    stats: Arc<WriterStats>,
    /// The newest blocks, for readers that follow the head.
    recent: Arc<Recent>,
    /// Recorded-at of the last event: transaction time never goes backwards,
    /// even when the server clock does, so time maps to positions monotonically.
    last_micros: i64,
}

/// Counters of the group commit, for benchmarks and metrics.
#[derive(Debug, Default)]
pub(crate) struct WriterStats {
    /// Groups applied (each written by the writer thread in one go).
    pub groups: AtomicU64,
    /// Flushes (each covering every group applied before it).
    pub flushes: AtomicU64,
    /// Appends submitted.
    pub appends: AtomicU64,
    /// Microseconds spent flushing.
    pub flush_micros: AtomicU64,
    /// Bytes of log blocks put into sled (what the archiver moves on).
    pub block_bytes: AtomicU64,
}

fn encode_idempotency(digest: &[u8; 32], outcome: &AppendOutcome) -> Vec<u8> {
    let mut v = Vec::with_capacity(56);
    v.extend_from_slice(digest);
    v.extend_from_slice(&outcome.first_position.to_be_bytes());
    v.extend_from_slice(&outcome.last_position.to_be_bytes());
    v.extend_from_slice(&outcome.stream_version.to_be_bytes());
    v
}

pub(crate) fn decode_idempotency(bytes: &[u8]) -> Option<([u8; 32], AppendOutcome)> {
    let digest: [u8; 32] = bytes.get(..32)?.try_into().ok()?;
    Some((
        digest,
        AppendOutcome {
            first_position: keys::u64_at(bytes, 32)?,
            last_position: keys::u64_at(bytes, 40)?,
            stream_version: keys::u64_at(bytes, 48)?,
            replayed: true,
        },
    ))
}

impl Writer {
    /// A writer that continues the log at `head`, whose last record was
    /// recorded at `last_micros`.
    pub(crate) fn new(
        (db, tree, index): (sled::Db, sled::Tree, Arc<StreamIndex>),
        (head, last_micros): (Head, i64),
        head_tx: watch::Sender<Head>,
        max_group: usize,
        (stats, recent): (Arc<WriterStats>, Arc<Recent>),
    ) -> Self {
        Writer {
            db,
            tree,
            index,
            head,
            head_tx,
            max_group,
            stats,
            recent,
            last_micros,
        }
    }

    pub(crate) fn run(mut self, jobs: mpsc::Receiver<Job>) {
        let (flusher, applied) = mpsc::channel();
        let (db, head_tx, stats) = (self.db.clone(), self.head_tx.clone(), self.stats.clone());
        let flush_thread = std::thread::Builder::new()
            .name("chitieu-log-flusher".into())
            .spawn(move || flush_loop(db, applied, head_tx, &stats));
        let Ok(flush_thread) = flush_thread else {
            tracing::error!("could not start the flusher thread; the log takes no appends");
            return;
        };
        let mut held: Option<Job> = None;
        loop {
            let first = match held.take() {
                Some(job) => job,
                None => match jobs.recv() {
                    Ok(job) => job,
                    Err(_) => break,
                },
            };
            let alone = matches!(first, Job::Import { .. });
            let mut group = vec![first];
            // Take every append waiting: appends that arrived during the
            // last group's work ride along in this one. An import goes in
            // a group of its own.
            while !alone && group.len() < self.max_group {
                match jobs.try_recv() {
                    Ok(job @ Job::Import { .. }) => {
                        held = Some(job);
                        break;
                    }
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            self.stats.groups.fetch_add(1, Ordering::Relaxed);
            self.stats
                .appends
                .fetch_add(group.len() as u64, Ordering::Relaxed);
            if let Err(error) = self.commit(group, &flusher) {
                tracing::error!(%error, "event log write failed; the log stops taking appends");
                break;
            }
        }
        // Refuse what is still queued (callers see `Closed`), let the flusher
        // answer what was applied, and wait for it.
        drop(jobs);
        drop(flusher);
        let _ = flush_thread.join();
    }

    /// Prepares and applies one group, then hands it to the flusher.
    fn commit(
        &mut self,
        jobs: Vec<Job>,
        flusher: &mpsc::Sender<Applied>,
    ) -> Result<(), StoreError> {
        let mut group = Sequencer::new(self.head, self.last_micros, Utc::now().timestamp_micros());
        let mut replies = Vec::with_capacity(jobs.len());
        let mut lookup = SledLookup {
            tree: &self.tree,
            index: &self.index,
        };
        for job in jobs {
            match job {
                Job::Append { request, reply } => {
                    let result = group.append(&mut lookup, &request);
                    replies.push(Reply::Append(reply, result));
                }
                Job::Import { records, reply } => {
                    // An import has a group of its own (see `run`), so a
                    // refused one is undone by starting the group over.
                    let mut result = Ok(());
                    for raw in records {
                        result = group.import(&mut lookup, raw);
                        if result.is_err() {
                            break;
                        }
                    }
                    let result = match result {
                        Ok(()) => Ok(group.head),
                        Err(error) => {
                            group = Sequencer::new(self.head, self.last_micros, 0);
                            Err(error)
                        }
                    };
                    replies.push(Reply::Import(reply, result));
                }
            }
        }
        if !group.is_empty() {
            let inserts = pack_blocks(&group.sealed);
            // Plain inserts, not `apply_batch`: sled's batch takes a global
            // lock that waits for a running flush, which would stop this
            // group from being applied while the previous one is flushed.
            // Atomicity comes from the block instead: a group's records
            // are whole blocks, each one key, and the index entries after
            // each block are derived from it (repaired on open if a crash
            // cut them off; sled recovers a prefix of its log).
            for (key, value) in inserts {
                let value = sled::IVec::from(value);
                let block = (key.first() == Some(&keys::LOG))
                    .then(|| (keys::u64_at(&key, 1), record::block_count(&value)));
                if let Err(error) = self.tree.insert(key, value.clone()) {
                    self.recent.clear();
                    fail(replies);
                    return Err(StoreError::from(error));
                }
                if let Some((Some(first), Some(count))) = block {
                    self.stats
                        .block_bytes
                        .fetch_add(value.len() as u64, Ordering::Relaxed);
                    self.recent.push(first, count, value);
                }
            }
            let indexed = self.index.extend(
                group
                    .sealed
                    .iter()
                    .map(|s| (s.stream.as_str(), s.version, s.position)),
            );
            if let Err(reason) = indexed {
                fail(replies);
                return Err(StoreError::Corrupt {
                    position: group.head.position,
                    reason,
                });
            }
            self.head = group.head;
            self.last_micros = group.last_micros;
        }
        // Every answer, refusals and replays included, waits for the flush
        // that covers everything applied so far: a replay may point at
        // events that are applied but not yet durable.
        flusher
            .send(Applied {
                head: self.head,
                replies,
            })
            .map_err(|_| StoreError::Closed)
    }
}

/// What the sequencer sees of the log: versions from the stream index,
/// idempotency keys from their entries.
struct SledLookup<'a> {
    tree: &'a sled::Tree,
    index: &'a StreamIndex,
}

impl Lookup for SledLookup<'_> {
    fn stream_version(&mut self, stream: &str) -> Result<u64, StoreError> {
        Ok(self.index.version(stream))
    }

    fn idempotency(&mut self, key: &str) -> Result<Option<([u8; 32], AppendOutcome)>, StoreError> {
        match self.tree.get(keys::idempotency_key(key))? {
            Some(bytes) => Ok(Some(decode_idempotency(&bytes).ok_or_else(|| {
                StoreError::Corrupt {
                    position: 0,
                    reason: format!("idempotency record of `{key}` is malformed"),
                }
            })?)),
            None => Ok(None),
        }
    }
}

/// Packs sealed records into blocks (one sled key per ~64 KiB of
/// consecutive records), each followed by the idempotency entries derived
/// from it, in the order they must reach sled.
fn pack_blocks(sealed: &[Sealed]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut inserts = Vec::new();
    let mut block = BlockBuilder::default();
    let mut derived: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let seal = |block: &mut BlockBuilder,
                derived: &mut Vec<(Vec<u8>, Vec<u8>)>,
                inserts: &mut Vec<(Vec<u8>, Vec<u8>)>| {
        if let Some((first, bytes)) = block.take() {
            inserts.push((keys::log_key(first).to_vec(), bytes));
            inserts.append(derived);
        }
    };
    for record in sealed {
        if block.is_full() {
            seal(&mut block, &mut derived, &mut inserts);
        }
        block.push(record.position, &record.bytes);
        if let Some((entry, outcome)) = record.replay() {
            let value = encode_idempotency(&entry.fingerprint, &outcome);
            block.push_idempotency(&entry.key, &value);
            derived.push((keys::idempotency_key(&entry.key), value));
        }
    }
    seal(&mut block, &mut derived, &mut inserts);
    inserts
}

/// An answer waiting for the flush that makes it true.
enum Reply {
    Append(
        oneshot::Sender<Result<AppendOutcome, AppendError>>,
        Result<AppendOutcome, AppendError>,
    ),
    Import(
        oneshot::Sender<Result<Head, AppendError>>,
        Result<Head, AppendError>,
    ),
}

impl Reply {
    fn send(self) {
        match self {
            Reply::Append(reply, result) => {
                let _ = reply.send(result);
            }
            Reply::Import(reply, result) => {
                let _ = reply.send(result);
            }
        }
    }

    /// What was to be written fails; a refusal stays a refusal.
    fn fail(self) {
        match self {
            Reply::Append(reply, Ok(_)) => {
                let _ = reply.send(Err(AppendError::Store(StoreError::Closed)));
            }
            Reply::Import(reply, Ok(_)) => {
                let _ = reply.send(Err(AppendError::Store(StoreError::Closed)));
            }
            refused => refused.send(),
        }
    }
}

/// A group applied to sled, waiting for the flush that makes it durable.
struct Applied {
    head: Head,
    replies: Vec<Reply>,
}

/// Answers a group whose write failed: what would have been written fails.
fn fail(replies: Vec<Reply>) {
    replies.into_iter().for_each(Reply::fail);
}

/// The flusher thread: makes applied groups durable, publishes the new
/// head, then answers. While it waits on the disk, the writer prepares and
/// applies the next groups, so one flush covers all of them.
fn flush_loop(
    db: sled::Db,
    applied: mpsc::Receiver<Applied>,
    head_tx: watch::Sender<Head>,
    stats: &WriterStats,
) {
    while let Ok(first) = applied.recv() {
        let mut pending = vec![first];
        while let Ok(more) = applied.try_recv() {
            pending.push(more);
        }
        let flushing = std::time::Instant::now();
        let flushed = db.flush();
        stats.flush_micros.fetch_add(
            u64::try_from(flushing.elapsed().as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        if let Err(error) = flushed {
            tracing::error!(%error, "event log flush failed; the log stops taking appends");
            for group in pending {
                fail(group.replies);
            }
            return;
        }
        stats.flushes.fetch_add(1, Ordering::Relaxed);
        let head = pending.last().map(|g| g.head).unwrap_or_default();
        // Publish before answering, so a caller that reads right after its
        // append returns sees its own events.
        head_tx.send_if_modified(|h| std::mem::replace(h, head) != head);
        for group in pending {
            group.replies.into_iter().for_each(Reply::send);
        }
    }
}
