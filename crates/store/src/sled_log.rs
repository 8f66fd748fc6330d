//! [`SledLog`]: the embedded log on sled, the default backend.
//!
//! One sled tree, `log`, holds three key ranges (`keys.rs`): blocks of
//! consecutive records, the stream index and idempotency keys. Appends go
//! through one writer thread with pipelined group commit (`writer.rs`);
//! reads run on the callers' threads and stop at the durable head. Older
//! blocks move out of sled into segment files (`archive.rs`, by the
//! archiver thread here); every read goes through [`visit_blocks`] or
//! [`block_at`], which look in both.

use crate::archive::Archive;
use crate::error::{AppendError, StoreError};
use crate::keys;
use crate::log::{
    AppendOutcome, AppendRequest, BoxFuture, ChainWalker, CommitStats, EventLog, Head,
    IdempotencyEntry, Progress, RawRecord, VerifyReport,
};
use crate::recent::{Recent, RECENT_BYTES};
use crate::record::{self, BlockView, RecordedEvent};
use crate::stream_index::StreamIndex;
use crate::writer::{self, Job};
use crate::StreamName;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::{oneshot, watch};

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Directory of the sled database.
    pub path: PathBuf,
    /// sled page cache, in bytes.
    pub cache_capacity: u64,
    /// Most appends committed by one flush.
    pub max_group: usize,
    /// Once the durable blocks still in sled hold this many bytes, the
    /// archiver moves them into a file of their own (`archive.rs`); 0 keeps
    /// every block in sled.
    pub archive_bytes: u64,
    /// How long the archiver waits between looks at sled's blocks.
    pub archive_pause: std::time::Duration,
    /// Bytes of the newest blocks also held in memory, for readers that
    /// follow the head (`recent.rs`); 0 reads every block from sled.
    pub recent_bytes: usize,
}

impl StoreConfig {
    /// Defaults for a directory.
    pub fn new(path: impl AsRef<Path>) -> Self {
        StoreConfig {
            path: path.as_ref().to_owned(),
            cache_capacity: 1024 * 1024 * 1024,
            max_group: 4096,
            archive_bytes: ARCHIVE_BYTES,
            archive_pause: std::time::Duration::from_millis(500),
            recent_bytes: RECENT_BYTES,
        }
    }
}

/// The default of [`StoreConfig::archive_bytes`]: a segment file per
/// 32 MiB of blocks.
pub const ARCHIVE_BYTES: u64 = 32 * 1024 * 1024;

struct Inner {
    db: sled::Db,
    tree: sled::Tree,
    archive: Arc<Archive>,
    archiver: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
    index: Arc<StreamIndex>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    head: watch::Receiver<Head>,
    writer: Mutex<Option<JoinHandle<()>>>,
    stats: Arc<writer::WriterStats>,
    recent: Arc<Recent>,
}

impl Inner {
    fn stop_archiver(&self) {
        let archiver = self.archiver.lock().ok().and_then(|mut a| a.take());
        if let Some((stop, handle)) = archiver {
            drop(stop);
            let _ = handle.join();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop_archiver();
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
pub struct SledLog {
    inner: Arc<Inner>,
}

/// The stream index, built from the blocks by one scan. A log written
/// before the index moved to memory kept it in sled (`S` keys): they are
/// removed once, here.
fn build_stream_index(tree: &sled::Tree, archive: &Archive) -> Result<StreamIndex, StoreError> {
    let started = std::time::Instant::now();
    let index = StreamIndex::default();
    visit_blocks(tree, archive, 1, |first, view| {
        let mut found = Vec::with_capacity(view.records.len());
        for (position, bytes) in (first..).zip(&view.records) {
            let (stream, version) = record::stream_and_version(bytes)
                .map_err(|reason| StoreError::Corrupt { position, reason })?;
            found.push((stream, version, position));
        }
        index.extend(found).map_err(|reason| StoreError::Corrupt {
            position: first,
            reason,
        })?;
        Ok(true)
    })?;
    index.shrink();
    let mut legacy = 0u64;
    for entry in tree.scan_prefix([keys::STREAM]) {
        let (key, _) = entry?;
        tree.remove(key)?;
        legacy += 1;
    }
    let (streams, events) = index.size();
    tracing::info!(
        streams,
        events,
        legacy_entries_removed = legacy,
        millis = started.elapsed().as_millis() as u64,
        "stream index built from the log"
    );
    Ok(index)
}

/// A block's bytes: held by sled, or read from an archived segment.
enum BlockBytes {
    Sled(sled::IVec),
    Archived(Vec<u8>),
}

impl std::ops::Deref for BlockBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            BlockBytes::Sled(bytes) => bytes,
            BlockBytes::Archived(bytes) => bytes,
        }
    }
}

/// The key of sled's block holding `position` if sled holds it: the last
/// block key at or before it (or `position`'s own key if there is none).
fn sled_block_key_for(tree: &sled::Tree, position: u64) -> Result<Vec<u8>, StoreError> {
    match tree
        .range(keys::log_key(0)..=keys::log_key(position))
        .next_back()
    {
        Some(entry) => Ok(entry?.0.to_vec()),
        None => Ok(keys::log_key(position).to_vec()),
    }
}

/// Visits the log's blocks in position order, from the one holding `from`,
/// while `visit(first, block)` returns true: the archived segments', then
/// sled's. A block the archiver moves while this runs is read from its
/// segment (the archiver publishes a segment before it removes its blocks
/// from sled, so a block missing from sled is found archived). Blocks
/// that do not follow one another are reported as corrupt.
fn visit_blocks(
    tree: &sled::Tree,
    archive: &Archive,
    from: u64,
    mut visit: impl FnMut(u64, &BlockView<'_>) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let mut next = from.max(1);
    if let Some(first) = archive.first() {
        next = next.max(first);
    }
    let mut visited = false;
    let archived = |next: u64| archive.last().is_some_and(|last| next <= last);
    loop {
        // Segments follow one another from `archive.first()`, so this
        // always moves `next` on.
        if archived(next) {
            let mut go_on = true;
            next = archive.visit_from(next, |first, bytes| {
                let view = record::parse_block(bytes).map_err(|reason| StoreError::Corrupt {
                    position: first,
                    reason,
                })?;
                visited = true;
                go_on = visit(first, &view)?;
                Ok(go_on)
            })?;
            if !go_on {
                return Ok(());
            }
        }
        let start = sled_block_key_for(tree, next)?;
        let mut moved = false;
        for entry in tree.range(start..=keys::log_key(u64::MAX).to_vec()) {
            let (key, bytes) = entry?;
            let first = keys::u64_at(&key, 1).unwrap_or(0);
            let view = record::parse_block(&bytes).map_err(|reason| StoreError::Corrupt {
                position: first,
                reason,
            })?;
            let after = first + view.records.len() as u64;
            if after <= next {
                continue;
            }
            if first > next {
                if archived(next) {
                    moved = true;
                    break;
                }
                if visited {
                    return Err(StoreError::Corrupt {
                        position: next,
                        reason: format!("the log has no records from {next} to {}", first - 1),
                    });
                }
            }
            visited = true;
            if !visit(first, &view)? {
                return Ok(());
            }
            next = after;
        }
        if !moved && !archived(next) {
            return Ok(());
        }
    }
}

/// How many records the block beginning at `first` holds.
fn records_in(first: u64, block: &[u8]) -> Result<u64, StoreError> {
    let records = record::block_records(block).map_err(|reason| StoreError::Corrupt {
        position: first,
        reason,
    })?;
    Ok(records.len() as u64)
}

/// The block holding `position` and its first position, wherever it is.
fn block_at(
    tree: &sled::Tree,
    archive: &Archive,
    position: u64,
) -> Result<Option<(u64, BlockBytes)>, StoreError> {
    // Twice: a block the archiver moved between the two looks is archived
    // by the second.
    for _ in 0..2 {
        if let Some((first, bytes)) = archive.block_at(position)? {
            return Ok(Some((first, BlockBytes::Archived(bytes))));
        }
        let key = sled_block_key_for(tree, position)?;
        if let (Some(bytes), Some(first)) = (tree.get(&key)?, keys::u64_at(&key, 1)) {
            let count = records_in(first, &bytes)?;
            if first <= position && position < first + count {
                return Ok(Some((first, BlockBytes::Sled(bytes))));
            }
        }
    }
    Ok(None)
}

/// The archiver thread: moves durable blocks from sled into segment files
/// whenever `archive_bytes` of them wait, until `stop` is dropped. What
/// waits is counted, not read: the blocks in sled at its start (read once),
/// plus the bytes the writer has put there since (`written`), less those
/// moved. (It read every waiting block twice a second to find out, and
/// held them all while it wrote them.)
fn archive_loop(
    tree: sled::Tree,
    archive: Arc<Archive>,
    head: watch::Receiver<Head>,
    written: Arc<writer::WriterStats>,
    (archive_bytes, every): (u64, std::time::Duration),
    stop: mpsc::Receiver<()>,
) {
    let mut seen = written
        .block_bytes
        .load(std::sync::atomic::Ordering::Relaxed);
    let mut waiting = match waiting_bytes(&tree, &archive) {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, "reading the log blocks in sled failed; archiving them anyway");
            archive_bytes
        }
    };
    let mut pause = every;
    // The durable head of the last look that found nothing to move:
    // nothing changes in sled's blocks until the head moves on.
    let mut none_at = None;
    loop {
        match stop.recv_timeout(pause) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        let now = written
            .block_bytes
            .load(std::sync::atomic::Ordering::Relaxed);
        waiting += now.saturating_sub(seen);
        seen = now;
        pause = every;
        let durable = head.borrow().position;
        if waiting < archive_bytes || none_at == Some(durable) {
            continue;
        }
        match archive_once(&tree, &archive, durable, archive_bytes) {
            Ok(0) => none_at = Some(durable),
            Ok(moved) => {
                waiting = waiting.saturating_sub(moved);
                pause = std::time::Duration::ZERO;
            }
            Err(error) => {
                tracing::error!(%error, "archiving log blocks failed; they stay in sled");
                pause = std::time::Duration::from_secs(30);
            }
        }
    }
}

/// Bytes of the log's blocks in sled past the archived ones.
fn waiting_bytes(tree: &sled::Tree, archive: &Archive) -> Result<u64, StoreError> {
    let from = archive.last().map_or(0, |last| last + 1);
    let mut bytes = 0;
    for entry in tree.range(keys::log_key(from)..=keys::log_key(u64::MAX)) {
        bytes += entry?.1.len() as u64;
    }
    Ok(bytes)
}

/// Moves the oldest durable blocks in sled, up to `archive_bytes` of them
/// (past it by less than a block), into a new segment, one block at a time,
/// keeping sled's last block (its idempotency entries are repaired from it
/// at open). Returns the bytes moved: 0 when no block may move yet.
fn archive_once(
    tree: &sled::Tree,
    archive: &Archive,
    durable: u64,
    archive_bytes: u64,
) -> Result<u64, StoreError> {
    let started = std::time::Instant::now();
    let from = archive.last().map_or(0, |last| last + 1);
    let mut blocks = tree
        .range(keys::log_key(from)..=keys::log_key(u64::MAX))
        .peekable();
    let mut segment = None;
    let mut moved = Vec::new();
    let (mut bytes, mut last) = (0u64, 0u64);
    while bytes < archive_bytes {
        let Some(entry) = blocks.next() else { break };
        let (key, block) = entry?;
        let first = keys::u64_at(&key, 1).unwrap_or(0);
        let count = records_in(first, &block)?;
        if first + count - 1 > durable || blocks.peek().is_none() {
            break;
        }
        let expected = match moved.is_empty() {
            true => (from > 0).then_some(from),
            false => Some(last + 1),
        };
        if let Some(expected) = expected.filter(|expected| first != *expected) {
            return Err(StoreError::Corrupt {
                position: expected,
                reason: format!("the log has no records from {expected} to {}", first - 1),
            });
        }
        let writer = match &mut segment {
            Some(writer) => writer,
            None => segment.insert(archive.begin(first)?),
        };
        writer.push(first, &block)?;
        bytes += block.len() as u64;
        last = first + count - 1;
        moved.push(first);
    }
    let Some(segment) = segment else {
        return Ok(0);
    };
    segment.finish(last)?;
    for first in &moved {
        tree.remove(keys::log_key(*first))?;
    }
    // Info, not debug: the first start on an older data directory moves
    // its whole log this way, and these lines are its progress.
    tracing::info!(
        first = moved[0],
        last,
        bytes,
        durable_head = durable,
        still_in_sled = durable.saturating_sub(last),
        millis = started.elapsed().as_millis() as u64,
        "log blocks archived"
    );
    Ok(bytes)
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

/// Name of the one tree that holds the log, its stream index and idempotency keys.
const LOG_TREE: &str = "log";
/// The read models' tree of versions before they moved to their own
/// database; dropped on open.
const LEGACY_PROJECTION_TREE: &str = "projection";

/// Whether opening failed because another handle holds the database's
/// file lock. sled 0.34 reports it as an `Io` error of kind `Other` whose
/// message names the lock (the OS's `WouldBlock` only inside the text).
fn held_elsewhere(error: &sled::Error) -> bool {
    match error {
        sled::Error::Io(io) => {
            io.kind() == std::io::ErrorKind::WouldBlock
                || io.to_string().starts_with("could not acquire lock")
        }
        _ => false,
    }
}

/// An open's error as the log reports it: `Locked` when the directory is
/// held by another handle.
fn open_error(config: &StoreConfig, error: sled::Error) -> StoreError {
    if held_elsewhere(&error) {
        StoreError::Locked(config.path.display().to_string())
    } else {
        error.into()
    }
}

impl SledLog {
    /// Opens (or creates) the log in a directory.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(StoreConfig::new(path))
    }

    /// Opens the log, waiting up to `patience` while another process (or a
    /// just-closed log of this one, whose sled threads linger briefly)
    /// still holds the database lock.
    pub fn open_waiting(
        path: impl AsRef<Path>,
        patience: std::time::Duration,
    ) -> Result<Self, StoreError> {
        Self::open_waiting_with(StoreConfig::new(path.as_ref()), patience)
    }

    /// [`SledLog::open_waiting`] with explicit settings.
    pub fn open_waiting_with(
        config: StoreConfig,
        patience: std::time::Duration,
    ) -> Result<Self, StoreError> {
        let deadline = std::time::Instant::now() + patience;
        loop {
            match Self::open_db(&config) {
                Err(e) if held_elsewhere(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(error) => return Err(open_error(&config, error)),
                Ok(db) => return Self::from_db(db, &config),
            }
        }
    }

    fn open_db(config: &StoreConfig) -> Result<sled::Db, sled::Error> {
        sled::Config::new()
            .path(&config.path)
            .cache_capacity(config.cache_capacity)
            .open()
    }

    /// Opens (or creates) the log with explicit settings.
    pub fn open_with(config: StoreConfig) -> Result<Self, StoreError> {
        let db = Self::open_db(&config).map_err(|e| open_error(&config, e))?;
        Self::from_db(db, &config)
    }

    fn from_db(db: sled::Db, config: &StoreConfig) -> Result<Self, StoreError> {
        if db
            .tree_names()
            .iter()
            .any(|name| name.as_ref() == LEGACY_PROJECTION_TREE.as_bytes())
        {
            tracing::info!("dropping read models kept inside the log by an older version");
            db.drop_tree(LEGACY_PROJECTION_TREE)?;
        }
        let tree = db.open_tree(LOG_TREE)?;
        let archive = Arc::new(Archive::open(&config.path)?);
        let last_block = match tree
            .range(keys::log_key(0)..=keys::log_key(u64::MAX))
            .next_back()
        {
            Some(entry) => {
                let (key, block) = entry?;
                Some((keys::u64_at(&key, 1).unwrap_or(0), BlockBytes::Sled(block)))
            }
            None => match archive.last() {
                Some(last) => block_at(&tree, &archive, last)?,
                None => None,
            },
        };
        let (head, last_micros) = match last_block {
            Some((first, block)) => repair_derived_entries(&db, &tree, first, &block)?,
            None => (Head::default(), i64::MIN),
        };
        if let Some(archived) = archive.last() {
            // A crash between publishing a segment and removing its blocks
            // from sled leaves them in both: the segment holds them.
            let mut removed = 0u64;
            for entry in tree.range(keys::log_key(0)..=keys::log_key(archived)) {
                tree.remove(entry?.0)?;
                removed += 1;
            }
            if removed > 0 {
                tracing::info!(removed, "removed blocks from sled that a segment holds");
            }
        }
        let index = Arc::new(build_stream_index(&tree, &archive)?);
        let (head_tx, head_rx) = watch::channel(head);
        let (jobs_tx, jobs_rx) = mpsc::channel();
        let stats = Arc::new(writer::WriterStats::default());
        let recent = Arc::new(Recent::new(config.recent_bytes));
        let writer = writer::Writer::new(
            (db.clone(), tree.clone(), index.clone()),
            (head, last_micros),
            head_tx,
            config.max_group.max(1),
            (stats.clone(), recent.clone()),
        );
        let handle = std::thread::Builder::new()
            .name("chitieu-log-writer".into())
            .spawn(move || writer.run(jobs_rx))
            .map_err(|e| StoreError::Backend(format!("starting the writer thread: {e}")))?;
        let archiver = match config.archive_bytes {
            0 => None,
            bytes => {
                let (stop, stopped) = mpsc::channel();
                let (tree, archive, head) = (tree.clone(), archive.clone(), head_rx.clone());
                let (written, every) = (stats.clone(), config.archive_pause);
                let handle = std::thread::Builder::new()
                    .name("chitieu-log-archiver".into())
                    .spawn(move || {
                        archive_loop(tree, archive, head, written, (bytes, every), stopped)
                    })
                    .map_err(|e| {
                        StoreError::Backend(format!("starting the archiver thread: {e}"))
                    })?;
                Some((stop, handle))
            }
        };
        Ok(SledLog {
            inner: Arc::new(Inner {
                db,
                tree,
                archive,
                archiver: Mutex::new(archiver),
                index,
                jobs: Mutex::new(Some(jobs_tx)),
                head: head_rx,
                writer: Mutex::new(Some(handle)),
                stats,
                recent,
            }),
        })
    }

    fn submit(&self, job: Job) -> Result<(), StoreError> {
        let jobs = self.inner.jobs.lock().map_err(|_| StoreError::Closed)?;
        let sender = jobs.as_ref().ok_or(StoreError::Closed)?;
        sender.send(job).map_err(|_| StoreError::Closed)
    }

    fn submit_append(
        &self,
        request: AppendRequest,
    ) -> Result<oneshot::Receiver<Result<AppendOutcome, AppendError>>, AppendError> {
        let (reply, rx) = oneshot::channel();
        self.submit(Job::Append {
            request: Box::new(request),
            reply,
        })?;
        Ok(rx)
    }

    /// [`EventLog::append`] for threads outside an async runtime. Must not
    /// be called from inside one.
    pub fn append_blocking(&self, request: AppendRequest) -> Result<AppendOutcome, AppendError> {
        let rx = self.submit_append(request)?;
        rx.blocking_recv()
            .map_err(|_| AppendError::Store(StoreError::Closed))?
    }

    /// Visits up to `limit` records from `from` to the durable head as of
    /// this call, block by block: `visit(position, bytes, idempotency
    /// entries of the block)`.
    fn walk<T>(
        &self,
        from: u64,
        limit: usize,
        mut visit: impl FnMut(u64, &[u8], &[(&[u8], &[u8])]) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let head = self.inner.head.borrow().position;
        let from = from.max(1);
        let mut out = Vec::new();
        if from > head || limit == 0 {
            return Ok(out);
        }
        let mut take = |first: u64, view: &BlockView<'_>| -> Result<bool, StoreError> {
            for (position, bytes) in (first..).zip(&view.records) {
                if position < from {
                    continue;
                }
                if position > head || out.len() >= limit {
                    return Ok(false);
                }
                out.push(visit(position, bytes, &view.idempotency)?);
            }
            Ok(true)
        };
        // The newest blocks are held in memory (`recent.rs`): a reader
        // following the head reads them there. Every block up to the head
        // read above was pushed before that head was published.
        if let Some(blocks) = self.inner.recent.from(from, limit) {
            for (first, block) in blocks {
                let view = record::parse_block(&block).map_err(|reason| StoreError::Corrupt {
                    position: first,
                    reason,
                })?;
                if !take(first, &view)? {
                    break;
                }
            }
            return Ok(out);
        }
        visit_blocks(&self.inner.tree, &self.inner.archive, from, take)?;
        Ok(out)
    }

    /// Reads up to `limit` events of one stream from `from_version` (inclusive).
    fn read_stream_indexed(
        &self,
        stream: &StreamName,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let positions = self.stream_positions(stream, from_version, limit)?;
        let mut out = Vec::new();
        // Consecutive events of a stream often share a block: keep the last one.
        let mut block: Option<(u64, BlockBytes)> = None;
        for position in positions {
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
                    let found = block_at(&self.inner.tree, &self.inner.archive, position)?;
                    let Some((first, bytes)) = found else {
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

    /// Walks the whole log (see [`EventLog::verify`]); blocking.
    pub fn verify_blocking(&self) -> Result<VerifyReport, StoreError> {
        self.verify_from_blocking(Head::default(), Progress::default())
    }

    /// Walks the log after a verified checkpoint (see
    /// [`EventLog::verify_from`]); blocking.
    pub fn verify_from_blocking(
        &self,
        from: Head,
        progress: Progress,
    ) -> Result<VerifyReport, StoreError> {
        let mut walker = ChainWalker::from(from, progress);
        let mut finding = None;
        let walked = visit_blocks(
            &self.inner.tree,
            &self.inner.archive,
            from.position + 1,
            |first, view| {
                for (position, bytes) in (first..).zip(&view.records) {
                    if position <= from.position {
                        continue;
                    }
                    let problem = walker.check(position, bytes, |stream, version| {
                        let indexed =
                            self.inner
                                .index
                                .positions(stream.as_str(), version, 1, u64::MAX);
                        Ok(indexed.first() == Some(&position))
                    })?;
                    if let Some(reason) = problem {
                        finding = Some((position, reason));
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        );
        match walked {
            Ok(()) => {}
            Err(StoreError::Corrupt { position, reason }) => {
                let reason = format!("block does not decode: {reason}");
                return Ok(walker.report(Some((position, reason))));
            }
            Err(error) => return Err(error),
        }
        if let Some(finding) = finding {
            return Ok(walker.report(Some(finding)));
        }
        Ok(walker.report(None))
    }

    /// Flushes and stops the writer, waiting for appends already submitted.
    fn close_now(&self) -> Result<(), StoreError> {
        self.inner.stop_archiver();
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

impl EventLog for SledLog {
    fn append(&self, request: AppendRequest) -> BoxFuture<'_, Result<AppendOutcome, AppendError>> {
        Box::pin(async move {
            let rx = self.submit_append(request)?;
            rx.await
                .map_err(|_| AppendError::Store(StoreError::Closed))?
        })
    }

    fn import(&self, records: Vec<RawRecord>) -> BoxFuture<'_, Result<Head, AppendError>> {
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            self.submit(Job::Import { records, reply })?;
            rx.await
                .map_err(|_| AppendError::Store(StoreError::Closed))?
        })
    }

    fn head(&self) -> Head {
        *self.inner.head.borrow()
    }

    fn watch_head(&self) -> watch::Receiver<Head> {
        self.inner.head.clone()
    }

    fn visit_records(
        &self,
        from: u64,
        limit: usize,
        visit: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<usize, StoreError> {
        // Straight from the blocks: no copy, no idempotency entries.
        self.walk(from, limit, |position, bytes, _| {
            visit(position, bytes);
            Ok(())
        })
        .map(|visited| visited.len())
    }

    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawRecord>, StoreError> {
        self.walk(from, limit, |position, bytes, entries| {
            // The idempotency key of the append this record ends, if any
            // (a block holds few: a linear search).
            let mut idempotency = None;
            for (key, entry) in entries {
                let (fingerprint, outcome) =
                    writer::decode_idempotency(entry).ok_or_else(|| StoreError::Corrupt {
                        position,
                        reason: "malformed idempotency entry".into(),
                    })?;
                if outcome.last_position == position {
                    idempotency = Some(IdempotencyEntry {
                        key: String::from_utf8_lossy(key).into_owned(),
                        fingerprint,
                        first_position: outcome.first_position,
                    });
                }
            }
            Ok(RawRecord {
                position,
                bytes: bytes.to_vec(),
                idempotency,
            })
        })
    }

    fn read_all(&self, from: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.walk(from, limit, |position, bytes, _| {
            record::decode(bytes).map_err(|reason| StoreError::Corrupt { position, reason })
        })
    }

    fn read_stream(
        &self,
        stream: &StreamName,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.read_stream_indexed(stream, from_version, limit)
    }

    fn stream_positions(
        &self,
        stream: &StreamName,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        // From the index alone, as `read_stream` finds them (no block read).
        let head = self.head().position;
        Ok(self
            .inner
            .index
            .positions(stream.as_str(), from_version, limit, head))
    }

    fn stream_version(&self, stream: &StreamName) -> Result<u64, StoreError> {
        // Not what a concurrent group has applied but not yet flushed.
        let head = self.head().position;
        Ok(self.inner.index.version_at(stream.as_str(), head))
    }

    fn idempotency_record(
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

    fn verify_from(
        &self,
        from: Head,
        progress: Progress,
    ) -> BoxFuture<'_, Result<VerifyReport, StoreError>> {
        let this = self.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || this.verify_from_blocking(from, progress))
                .await
                .map_err(|e| StoreError::Backend(format!("verification stopped: {e}")))?
        })
    }

    fn commit_stats(&self) -> CommitStats {
        use std::sync::atomic::Ordering::Relaxed;
        CommitStats {
            appends: self.inner.stats.appends.load(Relaxed),
            groups: self.inner.stats.groups.load(Relaxed),
            flushes: self.inner.stats.flushes.load(Relaxed),
            flush_micros: self.inner.stats.flush_micros.load(Relaxed),
        }
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.inner.db.size_on_disk()? + self.inner.archive.bytes())
    }

    fn describe(&self) -> String {
        "sled (embedded)".to_owned()
    }

    fn close(&self) -> Result<(), StoreError> {
        self.close_now()
    }
}
