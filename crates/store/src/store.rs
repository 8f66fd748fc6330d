//! [`EventStore`]: the public face of the log.

use crate::error::{AppendError, StoreError};
use crate::keys;
use crate::record::{self, Actor, RecordedEvent};
use crate::subscription::Subscription;
use crate::writer::{self, Job};
use chitieu_domain::event::EncodedEvent;
use chitieu_domain::StreamId;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

/// What the caller believes the stream's version is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be at exactly this version (0 = does not exist).
    Exact(u64),
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

/// One atomic append to one stream.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    /// The stream.
    pub stream: StreamId,
    /// Optimistic-concurrency check.
    pub expected: ExpectedVersion,
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

/// The durable end of the log: what an auditor records to detect rewriting later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Head {
    /// Position of the last durable event (0 = empty log).
    pub position: u64,
    /// Its hash (zeros for the empty log).
    pub hash: [u8; 32],
}

/// Group-commit counters: how many appends shared each write and flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitStats {
    /// Appends submitted (accepted, refused or replayed).
    pub appends: u64,
    /// Groups written by the writer thread.
    pub groups: u64,
    /// Flushes to disk.
    pub flushes: u64,
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

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Directory of the sled database.
    pub path: PathBuf,
    /// sled page cache, in bytes.
    pub cache_capacity: u64,
    /// Most appends committed by one flush.
    pub max_group: usize,
}

impl StoreConfig {
    /// Defaults for a directory.
    pub fn new(path: impl AsRef<Path>) -> Self {
        StoreConfig {
            path: path.as_ref().to_owned(),
            cache_capacity: 1024 * 1024 * 1024,
            max_group: 4096,
        }
    }
}

struct Inner {
    db: sled::Db,
    tree: sled::Tree,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    head: watch::Receiver<Head>,
    writer: Mutex<Option<JoinHandle<()>>>,
    stats: Arc<writer::WriterStats>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if let Some(handle) = self.writer.lock().ok().and_then(|mut w| w.take()) {
            let _ = handle.join();
        }
    }
}

/// A durable, hash-chained, append-only event log. Cheap to clone; all
/// clones share one writer thread.
#[derive(Clone)]
pub struct EventStore {
    inner: Arc<Inner>,
}

/// Restores the stream-index and idempotency entries of the last block if a
/// crash cut them off (they are written right after their block, and sled
/// recovers a prefix of its log, so only the last block can lack them).
/// Returns the head and its recorded-at in microseconds.
fn repair_derived_entries(
    db: &sled::Db,
    tree: &sled::Tree,
    first: u64,
    block: &[u8],
) -> Result<(Head, i64), StoreError> {
    let corrupt = |reason| StoreError::Corrupt {
        position: first,
        reason,
    };
    let view = record::parse_block(block).map_err(corrupt)?;
    let mut head = Head::default();
    let mut last_micros = i64::MIN;
    let mut repaired = 0;
    for (position, bytes) in (first..).zip(&view.records) {
        let record =
            record::decode(bytes).map_err(|reason| StoreError::Corrupt { position, reason })?;
        let key = keys::stream_key(record.stream.as_str(), record.version);
        if tree.get(&key)?.is_none() {
            tree.insert(key, &position.to_be_bytes())?;
            repaired += 1;
        }
        head = Head {
            position,
            hash: record.hash,
        };
        last_micros = record.recorded_at.timestamp_micros();
    }
    for (key, entry) in &view.idempotency {
        let key = String::from_utf8_lossy(key);
        let stored_key = keys::idempotency_key(&key);
        if tree.get(&stored_key)?.is_none() {
            tree.insert(stored_key, *entry)?;
            repaired += 1;
        }
    }
    if repaired > 0 {
        tracing::warn!(
            repaired,
            block = first,
            "restored index entries cut off by a crash"
        );
        db.flush()?;
    }
    Ok((head, last_micros))
}

/// Encoded records with their positions, read lazily block by block.
type RawRecords = Box<dyn Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + Send + 'static>;

/// Name of the one tree that holds the log, its stream index and idempotency keys.
const LOG_TREE: &str = "log";

impl EventStore {
    /// Opens (or creates) the store in a directory.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(StoreConfig::new(path))
    }

    /// Opens the store, waiting up to `patience` while another process (or a
    /// just-closed store of this one, whose sled threads linger briefly)
    /// still holds the database lock.
    pub fn open_waiting(
        path: impl AsRef<Path>,
        patience: std::time::Duration,
    ) -> Result<Self, StoreError> {
        let deadline = std::time::Instant::now() + patience;
        loop {
            match Self::open(path.as_ref()) {
                Err(StoreError::Sled(sled::Error::Io(e)))
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    /// Opens (or creates) the store with explicit settings.
    pub fn open_with(config: StoreConfig) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(&config.path)
            .cache_capacity(config.cache_capacity)
            .open()?;
        Self::from_db(db, config.max_group)
    }

    /// Opens the store inside an already open sled database (which other
    /// crates may use for their own trees).
    pub fn from_db(db: sled::Db, max_group: usize) -> Result<Self, StoreError> {
        let tree = db.open_tree(LOG_TREE)?;
        let (head, last_micros) = match tree
            .range(keys::log_key(0)..=keys::log_key(u64::MAX))
            .next_back()
        {
            Some(entry) => {
                let (key, block) = entry?;
                let first = keys::u64_at(&key, 1).unwrap_or(0);
                repair_derived_entries(&db, &tree, first, &block)?
            }
            None => (Head::default(), i64::MIN),
        };
        let (head_tx, head_rx) = watch::channel(head);
        let (jobs_tx, jobs_rx) = mpsc::channel();
        let stats = Arc::new(writer::WriterStats::default());
        let writer = writer::Writer::new(
            db.clone(),
            tree.clone(),
            head,
            head_tx,
            max_group.max(1),
            stats.clone(),
            last_micros,
        );
        let handle = std::thread::Builder::new()
            .name("chitieu-log-writer".into())
            .spawn(move || writer.run(jobs_rx))
            .map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        Ok(EventStore {
            inner: Arc::new(Inner {
                db,
                tree,
                jobs: Mutex::new(Some(jobs_tx)),
                head: head_rx,
                writer: Mutex::new(Some(handle)),
                stats,
            }),
        })
    }

    /// The sled database, for crates that keep their own trees beside the log.
    pub fn db(&self) -> &sled::Db {
        &self.inner.db
    }

    fn submit(
        &self,
        request: AppendRequest,
    ) -> Result<oneshot::Receiver<Result<AppendOutcome, AppendError>>, AppendError> {
        let (reply, rx) = oneshot::channel();
        let jobs = self.inner.jobs.lock().map_err(|_| StoreError::Closed)?;
        let sender = jobs.as_ref().ok_or(StoreError::Closed)?;
        sender
            .send(Job { request, reply })
            .map_err(|_| StoreError::Closed)?;
        Ok(rx)
    }

    /// Appends atomically and returns once the events are on disk.
    pub async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, AppendError> {
        let rx = self.submit(request)?;
        rx.await
            .map_err(|_| AppendError::Store(StoreError::Closed))?
    }

    /// [`EventStore::append`] for threads outside an async runtime. Must not
    /// be called from inside one.
    pub fn append_blocking(&self, request: AppendRequest) -> Result<AppendOutcome, AppendError> {
        let rx = self.submit(request)?;
        rx.blocking_recv()
            .map_err(|_| AppendError::Store(StoreError::Closed))?
    }

    /// Group-commit counters since open.
    pub fn commit_stats(&self) -> CommitStats {
        use std::sync::atomic::Ordering::Relaxed;
        CommitStats {
            appends: self.inner.stats.appends.load(Relaxed),
            groups: self.inner.stats.groups.load(Relaxed),
            flushes: self.inner.stats.flushes.load(Relaxed),
        }
    }

    /// The fingerprint and first outcome recorded for an idempotency key, if
    /// the key was used by a durable append.
    pub fn idempotency_record(
        &self,
        key: &str,
    ) -> Result<Option<([u8; 32], AppendOutcome)>, StoreError> {
        let Some(bytes) = self.inner.tree.get(keys::idempotency_key(key))? else {
            return Ok(None);
        };
        let record = writer::decode_idempotency(&bytes).ok_or_else(|| StoreError::Corrupt {
            position: 0,
            reason: format!("idempotency record of `{key}` is malformed"),
        })?;
        if record.1.last_position > self.head().position {
            // Applied but not yet flushed: not an answer a caller may rely on.
            return Ok(None);
        }
        Ok(Some(record))
    }

    /// The durable head of the log.
    pub fn head(&self) -> Head {
        *self.inner.head.borrow()
    }

    pub(crate) fn head_receiver(&self) -> watch::Receiver<Head> {
        self.inner.head.clone()
    }

    /// The key of the block holding `position` (blocks are keyed by their
    /// first position).
    fn block_key_for(&self, position: u64) -> Result<Vec<u8>, StoreError> {
        match self
            .inner
            .tree
            .range(keys::log_key(0)..=keys::log_key(position))
            .next_back()
        {
            Some(entry) => Ok(entry?.0.to_vec()),
            None => Ok(keys::log_key(position).to_vec()),
        }
    }

    /// Raw records `(position, bytes)` from `from` to the durable head as of this call.
    fn records(&self, from: u64) -> RawRecords {
        let head = self.head().position;
        let from = from.max(1);
        if from > head {
            return Box::new(std::iter::empty());
        }
        let start = match self.block_key_for(from) {
            Ok(start) => start,
            Err(error) => return Box::new(std::iter::once(Err(error))),
        };
        Box::new(
            self.inner
                .tree
                .range(start..=keys::log_key(head).to_vec())
                .flat_map(move |entry| {
                    let (key, block) = match entry {
                        Ok(kv) => kv,
                        Err(error) => return vec![Err(StoreError::from(error))],
                    };
                    let first = keys::u64_at(&key, 1).unwrap_or(0);
                    match record::block_records(&block) {
                        Err(reason) => vec![Err(StoreError::Corrupt {
                            position: first,
                            reason,
                        })],
                        Ok(records) => (first..)
                            .zip(records)
                            .filter(|(position, _)| (from..=head).contains(position))
                            .map(|(position, bytes)| Ok((position, bytes.to_vec())))
                            .collect(),
                    }
                }),
        )
    }

    /// Iterates the global log from `from` (inclusive; 0 and 1 both mean the
    /// start) up to the durable head as of this call.
    pub fn iter_all(
        &self,
        from: u64,
    ) -> impl Iterator<Item = Result<RecordedEvent, StoreError>> + Send + 'static {
        self.records(from).map(|entry| {
            let (position, bytes) = entry?;
            record::decode(&bytes).map_err(|reason| StoreError::Corrupt { position, reason })
        })
    }

    /// Iterates the encoded records themselves (for benchmarks and digests).
    pub fn iter_raw(
        &self,
        from: u64,
    ) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> + Send + 'static {
        self.records(from)
            .map(|entry| entry.map(|(_, bytes)| bytes))
    }

    /// Reads up to `limit` events of the global log from position `from`.
    pub fn read_all(&self, from: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.iter_all(from).take(limit).collect()
    }

    /// The current version of a stream (0 when it does not exist).
    pub fn stream_version(&self, stream: &StreamId) -> Result<u64, StoreError> {
        let head = self.head().position;
        let prefix = keys::stream_prefix(stream.as_str());
        for entry in self.inner.tree.scan_prefix(&prefix).rev() {
            let (key, value) = entry?;
            // Skip entries a concurrent group has applied but not yet flushed.
            if keys::u64_at(&value, 0).unwrap_or(u64::MAX) <= head {
                return Ok(keys::u64_at(&key, prefix.len()).unwrap_or(0));
            }
        }
        Ok(0)
    }

    /// Reads up to `limit` events of one stream from `from_version` (inclusive).
    pub fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let head = self.head().position;
        let start = keys::stream_key(stream.as_str(), from_version.max(1));
        let end = keys::stream_key(stream.as_str(), u64::MAX);
        let mut out = Vec::new();
        // Consecutive events of a stream often share a block: keep the last one.
        let mut block: Option<(u64, sled::IVec)> = None;
        for entry in self.inner.tree.range(start..=end) {
            if out.len() >= limit {
                break;
            }
            let (_, value) = entry?;
            let position = keys::u64_at(&value, 0).ok_or(StoreError::Corrupt {
                position: 0,
                reason: format!("stream index of {stream} holds a malformed position"),
            })?;
            if position > head {
                break;
            }
            let corrupt = |reason: String| StoreError::Corrupt { position, reason };
            let in_block =
                |first: u64, bytes: &[u8]| -> Result<Option<RecordedEvent>, StoreError> {
                    let records = record::block_records(bytes).map_err(corrupt)?;
                    let Some(index) = position
                        .checked_sub(first)
                        .and_then(|i| usize::try_from(i).ok())
                    else {
                        return Ok(None);
                    };
                    records
                        .get(index)
                        .map(|r| record::decode(r).map_err(corrupt))
                        .transpose()
                };
            let cached = match &block {
                Some((first, bytes)) => in_block(*first, bytes)?,
                None => None,
            };
            let event = match cached {
                Some(event) => event,
                None => {
                    let key = self.block_key_for(position)?;
                    let bytes = self.inner.tree.get(&key)?;
                    let first = keys::u64_at(&key, 1);
                    let (Some(bytes), Some(first)) = (bytes, first) else {
                        return Err(corrupt(format!(
                            "stream index of {stream} points to a missing record"
                        )));
                    };
                    let event = in_block(first, &bytes)?.ok_or_else(|| {
                        corrupt(format!(
                            "stream index of {stream} points to a missing record"
                        ))
                    })?;
                    block = Some((first, bytes));
                    event
                }
            };
            if event.stream != *stream {
                return Err(corrupt(format!(
                    "stream index of {stream} points to an event of {}",
                    event.stream
                )));
            }
            out.push(event);
        }
        Ok(out)
    }

    /// The last durable position recorded at or before `instant` (0 when
    /// none): "what had been recorded by then". Recorded-at never decreases
    /// along the log, so this is a binary search.
    pub fn position_at(&self, instant: chrono::DateTime<chrono::Utc>) -> Result<u64, StoreError> {
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

    /// Follows the log from `from` (inclusive): first the events already
    /// durable, then new ones as they become durable, with no gap and no
    /// duplicate at the switch.
    pub fn subscribe(&self, from: u64) -> Subscription {
        Subscription::new(self.clone(), from.max(1))
    }

    /// Walks the whole log: positions gap-free from 1, every record decodes,
    /// its hash recomputes, it chains to the one before, and the stream
    /// index points back at it. Reports the first break.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let mut good = Head::default();
        let mut checked = 0;
        for entry in self
            .inner
            .tree
            .range(keys::log_key(0)..=keys::log_key(u64::MAX))
        {
            let (key, block) = entry?;
            let first = keys::u64_at(&key, 1).unwrap_or(0);
            let expected = good.position + 1;
            if first != expected {
                let reason =
                    format!("expected position {expected}, the next block starts at {first}");
                return Ok(VerifyReport {
                    checked,
                    head: good,
                    first_break: Some((expected, reason)),
                });
            }
            let records = match record::block_records(&block) {
                Ok(records) => records,
                Err(reason) => {
                    let reason = format!("block does not decode: {reason}");
                    return Ok(VerifyReport {
                        checked,
                        head: good,
                        first_break: Some((first, reason)),
                    });
                }
            };
            for (position, bytes) in (first..).zip(records) {
                let problem = match record::decode(bytes) {
                    Err(reason) => Some(format!("does not decode: {reason}")),
                    Ok(record) if record.position != position => {
                        Some(format!("record says position {}", record.position))
                    }
                    Ok(record) if record.prev_hash != good.hash => {
                        Some("previous-hash link does not match the record before".to_owned())
                    }
                    Ok(record) if record::recompute_hash(bytes) != Some(record.hash) => {
                        Some("hash does not match the record's contents".to_owned())
                    }
                    Ok(record) => {
                        let indexed = self
                            .inner
                            .tree
                            .get(keys::stream_key(record.stream.as_str(), record.version))?;
                        if indexed.as_deref().and_then(|v| keys::u64_at(v, 0)) == Some(position) {
                            good = Head {
                                position,
                                hash: record.hash,
                            };
                            checked += 1;
                            None
                        } else {
                            Some(format!(
                                "stream index of {} v{} does not point here",
                                record.stream, record.version
                            ))
                        }
                    }
                };
                if let Some(reason) = problem {
                    return Ok(VerifyReport {
                        checked,
                        head: good,
                        first_break: Some((position, reason)),
                    });
                }
            }
        }
        Ok(VerifyReport {
            checked,
            head: good,
            first_break: None,
        })
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.inner.db.size_on_disk()?)
    }

    /// Flushes and stops the writer, waiting for appends already submitted.
    pub fn close(self) -> Result<(), StoreError> {
        if let Ok(mut jobs) = self.inner.jobs.lock() {
            jobs.take();
        }
        if let Some(handle) = self.inner.writer.lock().ok().and_then(|mut w| w.take()) {
            let _ = handle.join();
        }
        self.inner.db.flush()?;
        Ok(())
    }
}
