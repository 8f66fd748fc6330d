//! [`EventLog`]: the one interface every log backend keeps, and the types
//! of its contract.
//!
//! The contract (checked for every backend by `tests/contract.rs`):
//! - **Order**: global positions gap-free from 1; stream versions gap-free
//!   from 1.
//! - **Atomic decisions over several streams**: an append carries the
//!   expected version of its own stream and of every other stream the
//!   decision read ([`AppendRequest::conditions`]); all are checked in the
//!   same atomic step as the append, and one that moved refuses the whole
//!   append ([`AppendError::Conflict`], nothing written).
//! - **Idempotency**: the same key with the same fingerprint returns the
//!   first outcome (`replayed`) and writes nothing; another fingerprint is
//!   [`AppendError::IdempotencyKeyReused`].
//! - **Durable before acknowledged**, and **readers see only durable
//!   events** (on a shared log: events committed and pulled to this node).
//! - **One hash chain**: each record's hash covers its bytes and the hash of
//!   the record before; [`EventLog::head_at`] gives the chain hash at any
//!   position, [`EventLog::verify`] walks it.
//! - **Verbatim copies**: [`EventLog::import`] takes records sealed by
//!   another log, checks position, chain and stream version, and stores
//!   the same bytes, so a copied log has the same head.

use crate::error::{AppendError, StoreError};
use crate::record::{self, Actor, RecordedEvent};
use chitieu_domain::event::EncodedEvent;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The name of a stream as the log keeps it: any text without NUL. The
/// log knows nothing of what streams mean; the domain's typed
/// [`chitieu_domain::StreamId`] becomes one by `From`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct StreamName(pub String);

impl StreamName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for StreamName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&chitieu_domain::StreamId> for StreamName {
    fn from(id: &chitieu_domain::StreamId) -> Self {
        StreamName(id.name())
    }
}

impl From<chitieu_domain::StreamId> for StreamName {
    fn from(id: chitieu_domain::StreamId) -> Self {
        StreamName(id.name())
    }
}
use tokio::sync::watch;
use uuid::Uuid;

/// A shared handle on a log, whatever its backend.
pub type Log = Arc<dyn EventLog>;

/// A boxed future, so the trait can be used as `dyn EventLog`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the caller believes a stream's version is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be at exactly this version (0 = does not exist).
    Exact(u64),
}

impl ExpectedVersion {
    /// Whether a stream at `current` satisfies this expectation.
    pub fn holds(self, current: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(v) => current == v,
        }
    }
}

/// A stream the decision read, and the version it read it at. The append
/// is refused if the stream is elsewhere when the append is sequenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamCondition {
    /// The stream read.
    pub stream: StreamName,
    /// The version it must still be at.
    pub expected: ExpectedVersion,
}

/// Who and what an append is part of; goes into every event's envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMeta {
    /// The authenticated principal.
    pub actor: Actor,
    /// Groups the events of one request.
    pub correlation_id: Uuid,
    /// What caused them, where known.
    pub causation_id: Option<Uuid>,
}

/// One atomic append to one stream, conditional on the versions of the
/// streams its decision read.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    /// The stream written.
    pub stream: StreamName,
    /// Optimistic-concurrency check of the stream written.
    pub expected: ExpectedVersion,
    /// Every other stream the decision read, at the version it read. Checked
    /// in the same atomic step as the append.
    pub conditions: Vec<StreamCondition>,
    /// The events, in order. At least one.
    pub events: Vec<EncodedEvent>,
    /// Makes a retry harmless: the same key and payload return the first
    /// outcome and write nothing.
    pub idempotency_key: Option<String>,
    /// What the idempotency key is bound to, when the caller knows better
    /// than the events (a command service retrying a command whose events
    /// would now differ). `None` binds the key to actor, stream and events.
    pub fingerprint: Option<[u8; 32]>,
    /// Envelope fields.
    pub meta: AppendMeta,
}

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Global position of its first event.
    pub first_position: u64,
    /// Global position of its last event.
    pub last_position: u64,
    /// The stream's version after it.
    pub stream_version: u64,
    /// Whether this was an idempotent replay of an earlier append (nothing written).
    pub replayed: bool,
}

/// A position of the log and the chain hash there: what an auditor records
/// to detect rewriting later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Head {
    /// Position of the last event (0 = empty log).
    pub position: u64,
    /// Its hash (zeros for the empty log).
    pub hash: [u8; 32],
}

/// Group-commit counters: how many appends shared each write and flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitStats {
    /// Appends submitted (accepted, refused or replayed).
    pub appends: u64,
    /// Groups written together.
    pub groups: u64,
    /// Flushes to disk, or commits.
    pub flushes: u64,
    /// Time spent in them, in microseconds (with `flushes`, the mean
    /// latency of making a group durable).
    pub flush_micros: u64,
}

/// The outcome of walking the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records checked.
    pub checked: u64,
    /// The last good record.
    pub head: Head,
    /// The first position where the chain breaks, and why.
    pub first_break: Option<(u64, String)>,
}

/// Records checked so far by a running verification.
pub type Progress = std::sync::Arc<std::sync::atomic::AtomicU64>;

/// An idempotency key recorded with the last event of its append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyEntry {
    /// The key.
    pub key: String,
    /// What it is bound to.
    pub fingerprint: [u8; 32],
    /// The first position of its append (the last is the record it travels with).
    pub first_position: u64,
}

/// A record as stored (its exact bytes), with the idempotency key of the
/// append it ends, if any: the unit of [`EventLog::import`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// Its global position.
    pub position: u64,
    /// The encoded, sealed record (see `record.rs`).
    pub bytes: Vec<u8>,
    /// The idempotency key of the append that ends with this record.
    pub idempotency: Option<IdempotencyEntry>,
}

impl RawRecord {
    /// Decodes the record's envelope.
    pub fn decode(&self) -> Result<RecordedEvent, StoreError> {
        record::decode(&self.bytes).map_err(|reason| StoreError::Corrupt {
            position: self.position,
            reason,
        })
    }
}

/// The log: every backend (sled, memory, PostgreSQL) keeps this contract
/// (see the module docs). Reads are synchronous and answer from what this
/// node holds; appends, imports and verification are asynchronous.
pub trait EventLog: Send + Sync + 'static {
    /// Appends atomically if every condition holds; returns once durable.
    fn append(&self, request: AppendRequest) -> BoxFuture<'_, Result<AppendOutcome, AppendError>>;

    /// Appends records sealed by another log, byte for byte: each must
    /// continue this log's positions, chain and stream versions.
    fn import(&self, records: Vec<RawRecord>) -> BoxFuture<'_, Result<Head, AppendError>>;

    /// The durable head as this node knows it.
    fn head(&self) -> Head;

    /// Follows the head: changes whenever more events become readable.
    fn watch_head(&self) -> watch::Receiver<Head>;

    /// Waits until this node can read every event the log had committed
    /// when called (a no-op for a log of one node). Returns that head.
    fn sync(&self) -> BoxFuture<'_, Result<Head, StoreError>> {
        let head = self.head();
        Box::pin(async move { Ok(head) })
    }

    /// Up to `limit` records from position `from` (0 and 1 both mean the
    /// start), up to the durable head.
    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawRecord>, StoreError>;

    /// Visits up to `limit` records' bytes from position `from`, up to the
    /// durable head, without copying them where the backend can (the
    /// Merkle tree's follower hashes them); returns how many it visited.
    fn visit_records(
        &self,
        from: u64,
        limit: usize,
        visit: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<usize, StoreError> {
        let records = self.read_raw(from, limit)?;
        for r in &records {
            visit(r.position, &r.bytes);
        }
        Ok(records.len())
    }

    /// Up to `limit` decoded events from position `from`.
    fn read_all(&self, from: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.read_raw(from, limit)?
            .iter()
            .map(RawRecord::decode)
            .collect()
    }

    /// Up to `limit` events of one stream from `from_version` (inclusive).
    fn read_stream(
        &self,
        stream: &StreamName,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The log positions of up to `limit` events of one stream from
    /// `from_version` (inclusive): those of what [`EventLog::read_stream`]
    /// returns, where a log can tell them without reading the events (a
    /// snapshot's check that the stream's event at its version is the one
    /// it names).
    fn stream_positions(
        &self,
        stream: &StreamName,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        Ok(self
            .read_stream(stream, from_version, limit)?
            .iter()
            .map(|r| r.position)
            .collect())
    }

    /// The current version of a stream (0 when it does not exist).
    fn stream_version(&self, stream: &StreamName) -> Result<u64, StoreError>;

    /// The fingerprint and first outcome recorded for an idempotency key,
    /// if a durable append used it.
    fn idempotency_record(
        &self,
        key: &str,
    ) -> Result<Option<([u8; 32], AppendOutcome)>, StoreError>;

    /// The position and chain hash at `position` (clamped to the head).
    fn head_at(&self, position: u64) -> Result<Head, StoreError> {
        let position = position.min(self.head().position);
        if position == 0 {
            return Ok(Head::default());
        }
        let record = self
            .read_all(position, 1)?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt {
                position,
                reason: "missing below the head".into(),
            })?;
        Ok(Head {
            position,
            hash: record.hash,
        })
    }

    /// The last durable position recorded at or before `instant` (0 when
    /// none). Recorded-at never decreases along the log: a binary search.
    fn position_at(&self, instant: chrono::DateTime<chrono::Utc>) -> Result<u64, StoreError> {
        let (mut low, mut high) = (0u64, self.head().position);
        while low < high {
            let mid = low + (high - low).div_ceil(2);
            let event = self.read_all(mid, 1)?;
            match event.first() {
                Some(e) if e.recorded_at <= instant => low = mid,
                _ => high = mid - 1,
            }
        }
        Ok(low)
    }

    /// Walks the whole log: positions gap-free from 1, every record
    /// decodes, its hash recomputes, it chains to the one before, and the
    /// stream index points back at it. Reports the first break.
    fn verify(&self) -> BoxFuture<'_, Result<VerifyReport, StoreError>> {
        self.verify_from(Head::default(), Progress::default())
    }

    /// The same walk, from a verified checkpoint: the records after
    /// `from.position`, the first of which must chain to `from.hash` (so a
    /// rewritten past, even one rehashed to the end, breaks there).
    /// `progress` counts the records checked, for a caller to show.
    fn verify_from(
        &self,
        from: Head,
        progress: Progress,
    ) -> BoxFuture<'_, Result<VerifyReport, StoreError>>;

    /// Group-commit counters since open.
    fn commit_stats(&self) -> CommitStats;

    /// Bytes this node's copy of the log occupies on disk (0 in memory).
    fn size_on_disk(&self) -> Result<u64, StoreError>;

    /// What the log is, for logs and banners ("sled at …", "postgres …").
    fn describe(&self) -> String;

    /// Stops taking appends, waits for those submitted, makes everything durable.
    fn close(&self) -> Result<(), StoreError>;
}

/// Iterates the global log from `from` to the durable head as of the call,
/// a page at a time.
pub fn iter_all(
    log: &Log,
    from: u64,
) -> impl Iterator<Item = Result<RecordedEvent, StoreError>> + Send + 'static {
    const PAGE: usize = 4096;
    let log = log.clone();
    let head = log.head().position;
    let mut next = from.max(1);
    let mut page = std::collections::VecDeque::new();
    let mut failed = false;
    std::iter::from_fn(move || loop {
        if failed {
            return None;
        }
        if let Some(event) = page.pop_front() {
            return Some(Ok(event));
        }
        if next > head {
            return None;
        }
        let want = usize::try_from(head - next + 1).unwrap_or(PAGE).min(PAGE);
        match log.read_all(next, want) {
            Ok(events) if events.is_empty() => return None,
            Ok(events) => {
                next += events.len() as u64;
                page.extend(events);
            }
            Err(error) => {
                failed = true;
                return Some(Err(error));
            }
        }
    })
}

/// Reads the log from `from` to the durable head as of the call in chunks
/// of `chunk` events, in two stages: a thread of its own reads each chunk
/// and runs `prepare` on it (decoding, the costly part) while the calling
/// thread runs `apply` on the chunk before. `apply` returns whether to go
/// on. At most one prepared chunk waits between the stages, so memory
/// holds three chunks at most. A read that fits in one chunk, or a
/// machine that cannot start the thread, runs both stages on the calling
/// thread in turn. Returns the last position applied (`from - 1` if none).
///
/// A rebuild of the read models and the command service's fold of the
/// log both read this way: reading and decoding are about half of their
/// work, so one stage alone leaves a core idle.
pub fn read_in_stages<T, E>(
    log: &Log,
    from: u64,
    chunk: usize,
    prepare: impl Fn(&[RecordedEvent]) -> Result<T, E> + Sync,
    mut apply: impl FnMut(Vec<RecordedEvent>, T) -> Result<bool, E>,
) -> Result<u64, E>
where
    T: Send,
    E: From<StoreError> + Send,
{
    type Prepared<T> = Option<(Vec<RecordedEvent>, T)>;
    let chunk = chunk.max(1);
    let from = from.max(1);
    let head = log.head().position;
    let read = |at: u64| -> Result<Prepared<T>, E> {
        if at > head {
            return Ok(None);
        }
        let want = usize::try_from(head - at + 1).unwrap_or(chunk).min(chunk);
        let events = log.read_all(at, want)?;
        if events.is_empty() {
            return Ok(None);
        }
        let prepared = prepare(&events)?;
        Ok(Some((events, prepared)))
    };
    if head < from || head - from < chunk as u64 {
        // One chunk at most (a decision catching up on a few events): no
        // thread.
        return drive(from, |applied| read(applied + 1), &mut apply);
    }
    std::thread::scope(|scope| {
        let (send, chunks) = std::sync::mpsc::sync_channel(1);
        let reader = {
            let read = &read;
            std::thread::Builder::new()
                .name("log-reader".into())
                .spawn_scoped(scope, move || {
                    let mut at = from;
                    loop {
                        let next = read(at);
                        let last = match &next {
                            Ok(Some((events, _))) => events.last().map(|e| e.position),
                            _ => None,
                        };
                        // The applying stage stopped: nothing more to read.
                        if send.send(next).is_err() {
                            return;
                        }
                        match last {
                            Some(last) => at = last + 1,
                            None => return,
                        }
                    }
                })
        };
        if reader.is_err() {
            return drive(from, |applied| read(applied + 1), &mut apply);
        }
        let received = |_| {
            chunks.recv().unwrap_or_else(|_| {
                Err(StoreError::Backend("the log's reader thread stopped".into()).into())
            })
        };
        drive(from, received, &mut apply)
    })
}

/// [`read_in_stages`]' applying stage: applies what `next` gives (asked
/// with the last position applied), in order, until it runs out or
/// `apply` says stop. Returns the last position applied.
fn drive<T, E>(
    from: u64,
    mut next: impl FnMut(u64) -> Result<Option<(Vec<RecordedEvent>, T)>, E>,
    apply: &mut impl FnMut(Vec<RecordedEvent>, T) -> Result<bool, E>,
) -> Result<u64, E> {
    let mut applied = from - 1;
    while let Some((events, prepared)) = next(applied)? {
        let last = events.last().map_or(applied, |e| e.position);
        let go_on = apply(events, prepared)?;
        applied = last;
        if !go_on {
            break;
        }
    }
    Ok(applied)
}

/// Walks records in position order and checks what [`EventLog::verify`]
/// promises, except the stream index (which each backend checks itself,
/// through `indexed`). Shared by every backend so the rule is written once.
pub(crate) struct ChainWalker {
    pub good: Head,
    pub checked: u64,
    progress: Progress,
}

impl ChainWalker {
    /// A walk that starts after `from` (the empty head: from the start).
    pub(crate) fn from(from: Head, progress: Progress) -> Self {
        ChainWalker {
            good: from,
            checked: 0,
            progress,
        }
    }

    /// Checks the record at `position`; `indexed(stream, version)` says
    /// whether the backend's stream index points at it. `Some(reason)` is
    /// the first break.
    pub(crate) fn check(
        &mut self,
        position: u64,
        bytes: &[u8],
        indexed: impl FnOnce(&StreamName, u64) -> Result<bool, StoreError>,
    ) -> Result<Option<String>, StoreError> {
        if position != self.good.position + 1 {
            return Ok(Some(format!(
                "expected position {}, found {position}",
                self.good.position + 1
            )));
        }
        let problem = match record::decode(bytes) {
            Err(reason) => Some(format!("does not decode: {reason}")),
            Ok(record) if record.position != position => {
                Some(format!("record says position {}", record.position))
            }
            Ok(record) if record.prev_hash != self.good.hash => {
                Some("previous-hash link does not match the record before".to_owned())
            }
            Ok(record) if record::recompute_hash(bytes) != Some(record.hash) => {
                Some("hash does not match the record's contents".to_owned())
            }
            Ok(record) => {
                if indexed(&record.stream, record.version)? {
                    self.good = Head {
                        position,
                        hash: record.hash,
                    };
                    self.checked += 1;
                    self.progress
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    None
                } else {
                    Some(format!(
                        "stream index of {} v{} does not point here",
                        record.stream, record.version
                    ))
                }
            }
        };
        Ok(problem)
    }

    pub(crate) fn report(self, first_break: Option<(u64, String)>) -> VerifyReport {
        VerifyReport {
            checked: self.checked,
            head: self.good,
            first_break,
        }
    }
}
