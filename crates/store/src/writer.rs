//! The single writer thread and its group commit.
//!
//! Appends arrive on a channel. The writer takes every append waiting (up to
//! `max_group`), checks each against the stream versions and idempotency
//! keys, seals its records onto the hash chain, packs them into blocks (one
//! sled key per block of consecutive records, not per record: half the
//! sled work and a third less disk), and writes the whole group as one sled
//! batch followed by one flush. Only then does it answer the
//! callers and publish the new durable head. A refused append adds nothing
//! to the batch; a failed batch or flush fails every append in the group
//! and stops the writer (fail-stop: the in-memory head could otherwise drift
//! from what is on disk).

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
}

/// Counters of the group commit, for benchmarks and metrics.
#[derive(Debug, Default)]
pub(crate) struct WriterStats {
    /// Groups committed (each one batch and at most one flush).
    pub groups: AtomicU64,
    /// Appends submitted.
    pub appends: AtomicU64,
}

/// What one group has decided so far but not yet written.
struct Group {
    batch: sled::Batch,
    head: Head,
    versions: HashMap<String, u64>,
    keys: HashMap<String, ([u8; 32], AppendOutcome)>,
    writes: usize,
    now_micros: i64,
    /// Records of the block being filled, and its first position.
    block: BlockBuilder,
}

impl Group {
    fn push_record(&mut self, position: u64, record: &[u8]) {
        if self.block.is_full() {
            self.seal_block();
        }
        self.block.push(position, record);
    }

    fn seal_block(&mut self) {
        if let Some((first, bytes)) = self.block.take() {
            self.batch.insert(&keys::log_key(first), bytes);
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

fn decode_idempotency(bytes: &[u8]) -> Option<([u8; 32], AppendOutcome)> {
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
    ) -> Self {
        Writer {
            db,
            tree,
            head,
            versions: HashMap::new(),
            head_tx,
            max_group,
            stats,
        }
    }

    pub(crate) fn run(mut self, jobs: mpsc::Receiver<Job>) {
        while let Ok(first) = jobs.recv() {
            let mut group = vec![first];
            // Gather what is waiting, yielding the core between rounds so
            // writers woken by the previous flush can queue their next
            // append into this group; stop at the first round that adds
            // nothing (a lone writer pays one yield, not a timer).
            loop {
                let before = group.len();
                while group.len() < self.max_group {
                    match jobs.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                if group.len() >= self.max_group || (group.len() == before && before > 1) {
                    break;
                }
                std::thread::yield_now();
                if group.len() == before {
                    // One more look after the yield, then commit.
                    while group.len() < self.max_group {
                        match jobs.try_recv() {
                            Ok(job) => group.push(job),
                            Err(_) => break,
                        }
                    }
                    if group.len() == before {
                        break;
                    }
                }
            }
            self.stats.groups.fetch_add(1, Ordering::Relaxed);
            self.stats.appends.fetch_add(group.len() as u64, Ordering::Relaxed);
            if let Err(error) = self.commit(group) {
                tracing::error!(%error, "event log write failed; the writer stops");
                // Refuse everything still queued; callers see `Closed`.
                drop(jobs);
                return;
            }
        }
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
        let digest = digest(request);
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
            group.push_record(position, &bytes);
            group
                .batch
                .insert(keys::stream_key(stream, version), &position.to_be_bytes());
            group.head = Head { position, hash };
        }
        let outcome = AppendOutcome {
            first_position,
            last_position: group.head.position,
            stream_version: version,
            replayed: false,
        };
        if let Some(key) = &request.idempotency_key {
            group.batch.insert(
                keys::idempotency_key(key),
                encode_idempotency(&digest, &outcome),
            );
            group.keys.insert(key.clone(), (digest, outcome));
        }
        group.versions.insert(stream.to_owned(), version);
        group.writes += 1;
        Ok(outcome)
    }

    fn commit(&mut self, jobs: Vec<Job>) -> Result<(), StoreError> {
        let mut group = Group {
            batch: sled::Batch::default(),
            head: self.head,
            versions: HashMap::new(),
            keys: HashMap::new(),
            writes: 0,
            now_micros: Utc::now().timestamp_micros(),
            block: BlockBuilder::default(),
        };
        let mut replies = Vec::with_capacity(jobs.len());
        for job in jobs {
            let result = self.prepare(&mut group, &job.request);
            replies.push((job.reply, result));
        }
        if group.writes > 0 {
            group.seal_block();
            let written = self
                .tree
                .apply_batch(group.batch)
                .and_then(|()| self.db.flush().map(|_| ()));
            if let Err(error) = written {
                for (reply, result) in replies {
                    let answer = match result {
                        Ok(outcome) if !outcome.replayed => {
                            Err(AppendError::Store(StoreError::Closed))
                        }
                        other => other,
                    };
                    let _ = reply.send(answer);
                }
                return Err(StoreError::Sled(error));
            }
            self.head = group.head;
            self.versions.extend(group.versions);
            self.head_tx.send_replace(self.head);
        }
        for (reply, result) in replies {
            let _ = reply.send(result);
        }
        Ok(())
    }
}
