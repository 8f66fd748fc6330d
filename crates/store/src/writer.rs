//! The writer thread, the flusher thread, and their group commit.
//!
//! Appends arrive on a channel. The writer takes every append waiting (up to
//! `max_group`), checks each against the stream versions and idempotency
//! keys, seals its records onto the hash chain and packs them into blocks
//! (one sled key per block of consecutive records), then inserts each block
//! followed by the stream-index and idempotency entries derived from it.
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
use crate::record::{BlockBuilder, Unsealed};
use crate::store::{AppendOutcome, AppendRequest, ExpectedVersion, Head};
use chrono::Utc;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

/// Most events in one append.
pub(crate) const MAX_EVENTS_PER_APPEND: usize = 1000;
/// Largest payload of one event.
pub(crate) const MAX_PAYLOAD_BYTES: usize = 1 << 20;
/// Longest stream id, actor field, event type or idempotency key.
pub(crate) const MAX_NAME_BYTES: usize = 1024;

pub(crate) struct Job {
    pub request: AppendRequest,
    pub reply: oneshot::Sender<Result<AppendOutcome, AppendError>>,
}

pub(crate) struct Writer {
    db: sled::Db,
    tree: sled::Tree,
    head: Head,
    versions: HashMap<String, u64>,
    head_tx: watch::Sender<Head>,
    max_group: usize,
    stats: Arc<WriterStats>,
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
}

/// What one group has decided so far but not yet written.
struct Group {
    /// Inserts in the order they must reach sled: each block, then the
    /// stream-index and idempotency entries derived from it.
    inserts: Vec<(Vec<u8>, Vec<u8>)>,
    head: Head,
    versions: HashMap<String, u64>,
    keys: HashMap<String, ([u8; 32], AppendOutcome)>,
    writes: usize,
    now_micros: i64,
    /// The block being filled, and the entries derived from its records.
    block: BlockBuilder,
    block_entries: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Group {
    fn push_record(&mut self, position: u64, record: &[u8], stream: &str, version: u64) {
        if self.block.is_full() {
            self.seal_block();
        }
        self.block.push(position, record);
        self.block_entries.push((
            keys::stream_key(stream, version),
            position.to_be_bytes().to_vec(),
        ));
    }

    fn push_idempotency(&mut self, key: &str, digest: [u8; 32], outcome: AppendOutcome) {
        let value = encode_idempotency(&digest, &outcome);
        self.block.push_idempotency(key, &value);
        self.block_entries.push((keys::idempotency_key(key), value));
    }

    fn seal_block(&mut self) {
        if let Some((first, bytes)) = self.block.take() {
            self.inserts.push((keys::log_key(first).to_vec(), bytes));
            self.inserts.append(&mut self.block_entries);
        }
    }
}

fn invalid(message: impl Into<String>) -> AppendError {
    AppendError::Invalid(message.into())
}

fn validate(request: &AppendRequest) -> Result<(), AppendError> {
    let stream = request.stream.as_str();
    if stream.is_empty() || stream.len() > MAX_NAME_BYTES || stream.contains('\0') {
        return Err(invalid("stream id must be 1-1024 bytes without NUL"));
    }
    if request.events.is_empty() {
        return Err(invalid("an append needs at least one event"));
    }
    if request.events.len() > MAX_EVENTS_PER_APPEND {
        return Err(invalid(format!(
            "at most {MAX_EVENTS_PER_APPEND} events per append"
        )));
    }
    let actor = &request.meta.actor;
    for (what, value) in [
        ("actor id", &actor.id),
        ("actor name", &actor.name),
        ("actor role", &actor.role),
    ] {
        if value.len() > MAX_NAME_BYTES {
            return Err(invalid(format!(
                "{what} is longer than {MAX_NAME_BYTES} bytes"
            )));
        }
    }
    if actor.id.is_empty() {
        return Err(invalid("every event needs an actor"));
    }
    if let Some(key) = &request.idempotency_key {
        if key.is_empty() || key.len() > MAX_NAME_BYTES {
            return Err(invalid("idempotency key must be 1-1024 bytes"));
        }
    }
    for event in &request.events {
        if event.event_type.is_empty() || event.event_type.len() > MAX_NAME_BYTES {
            return Err(invalid("event type must be 1-1024 bytes"));
        }
        if event.payload.len() > MAX_PAYLOAD_BYTES {
            return Err(invalid(format!(
                "event payload is larger than {MAX_PAYLOAD_BYTES} bytes"
            )));
        }
    }
    Ok(())
}

/// What an idempotency key is bound to: the actor, the stream and the events.
fn digest(request: &AppendRequest) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(request.meta.actor.id.as_bytes());
    field(request.stream.as_str().as_bytes());
    for event in &request.events {
        field(event.event_type.as_bytes());
        field(&event.schema_version.to_be_bytes());
        field(&event.payload);
    }
    h.finalize().into()
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
    pub(crate) fn new(
        db: sled::Db,
        tree: sled::Tree,
        head: Head,
        head_tx: watch::Sender<Head>,
        max_group: usize,
        stats: Arc<WriterStats>,
        last_micros: i64,
    ) -> Self {
        Writer {
            db,
            tree,
            head,
            versions: HashMap::new(),
            head_tx,
            max_group,
            stats,
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
        while let Ok(first) = jobs.recv() {
            let mut group = vec![first];
            // Take everything waiting: appends that arrived during the
            // last group's work ride along in this one.
            while group.len() < self.max_group {
                match jobs.try_recv() {
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

    fn current_version(&self, group: &Group, stream: &str) -> Result<u64, StoreError> {
        if let Some(v) = group
            .versions
            .get(stream)
            .or_else(|| self.versions.get(stream))
        {
            return Ok(*v);
        }
        let prefix = keys::stream_prefix(stream);
        match self.tree.scan_prefix(&prefix).next_back() {
            Some(entry) => {
                let (key, _) = entry?;
                Ok(keys::u64_at(&key, prefix.len()).unwrap_or(0))
            }
            None => Ok(0),
        }
    }

    fn prepare(
        &self,
        group: &mut Group,
        request: &AppendRequest,
    ) -> Result<AppendOutcome, AppendError> {
        validate(request)?;
        let digest = request.fingerprint.unwrap_or_else(|| digest(request));
        if let Some(key) = &request.idempotency_key {
            let earlier = match group.keys.get(key) {
                Some(found) => Some(*found),
                None => match self
                    .tree
                    .get(keys::idempotency_key(key))
                    .map_err(StoreError::from)?
                {
                    Some(bytes) => {
                        Some(
                            decode_idempotency(&bytes).ok_or_else(|| StoreError::Corrupt {
                                position: 0,
                                reason: format!("idempotency record of `{key}` is malformed"),
                            })?,
                        )
                    }
                    None => None,
                },
            };
            if let Some((earlier_digest, outcome)) = earlier {
                return if earlier_digest == digest {
                    Ok(AppendOutcome {
                        replayed: true,
                        ..outcome
                    })
                } else {
                    Err(AppendError::IdempotencyKeyReused { key: key.clone() })
                };
            }
        }
        let stream = request.stream.as_str();
        let current = self.current_version(group, stream)?;
        let ok = match request.expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(v) => current == v,
        };
        if !ok {
            return Err(AppendError::Conflict {
                stream: request.stream.clone(),
                expected: request.expected,
                current,
            });
        }
        let first_position = group.head.position + 1;
        let mut version = current;
        for event in &request.events {
            version += 1;
            let position = group.head.position + 1;
            let (bytes, hash) = Unsealed {
                position,
                version,
                event_id: Uuid::now_v7(),
                recorded_at_micros: group.now_micros,
                correlation_id: request.meta.correlation_id,
                causation_id: request.meta.causation_id,
                schema_version: event.schema_version,
                stream,
                actor: &request.meta.actor,
                event_type: &event.event_type,
                payload: &event.payload,
                prev_hash: group.head.hash,
            }
            .seal();
            group.push_record(position, &bytes, stream, version);
            group.head = Head { position, hash };
        }
        let outcome = AppendOutcome {
            first_position,
            last_position: group.head.position,
            stream_version: version,
            replayed: false,
        };
        if let Some(key) = &request.idempotency_key {
            group.push_idempotency(key, digest, outcome);
            group.keys.insert(key.clone(), (digest, outcome));
        }
        group.versions.insert(stream.to_owned(), version);
        group.writes += 1;
        Ok(outcome)
    }

    /// Prepares and applies one group, then hands it to the flusher.
    fn commit(
        &mut self,
        jobs: Vec<Job>,
        flusher: &mpsc::Sender<Applied>,
    ) -> Result<(), StoreError> {
        let mut group = Group {
            inserts: Vec::new(),
            head: self.head,
            versions: HashMap::new(),
            keys: HashMap::new(),
            writes: 0,
            now_micros: Utc::now().timestamp_micros().max(self.last_micros),
            block: BlockBuilder::default(),
            block_entries: Vec::new(),
        };
        let mut replies = Vec::with_capacity(jobs.len());
        for job in jobs {
            let result = self.prepare(&mut group, &job.request);
            replies.push((job.reply, result));
        }
        if group.writes > 0 {
            group.seal_block();
            // Plain inserts, not `apply_batch`: sled's batch takes a global
            // lock that waits for a running flush, which would stop this
            // group from being applied while the previous one is flushed.
            // Atomicity comes from the block instead: a group's records
            // are whole blocks, each one key, and the index entries after
            // each block are derived from it (repaired on open if a crash
            // cut them off; sled recovers a prefix of its log).
            for (key, value) in group.inserts {
                if let Err(error) = self.tree.insert(key, value) {
                    fail(replies);
                    return Err(StoreError::Sled(error));
                }
            }
            self.head = group.head;
            self.last_micros = group.now_micros;
            self.versions.extend(group.versions);
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

type Reply = (
    oneshot::Sender<Result<AppendOutcome, AppendError>>,
    Result<AppendOutcome, AppendError>,
);

/// A group applied to sled, waiting for the flush that makes it durable.
struct Applied {
    head: Head,
    replies: Vec<Reply>,
}

/// Answers a group whose write failed: what would have been written fails.
fn fail(replies: Vec<Reply>) {
    for (reply, result) in replies {
        let answer = match result {
            Ok(_) => Err(AppendError::Store(StoreError::Closed)),
            refused => refused,
        };
        let _ = reply.send(answer);
    }
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
        if let Err(error) = db.flush() {
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
            for (reply, result) in group.replies {
                let _ = reply.send(result);
            }
        }
    }
}
