//! [`MemoryLog`]: the log in memory, for fast tests of the service and the
//! API. It keeps the whole contract except durability: records are sealed
//! by the same sequencer as every backend, so positions, versions,
//! conditions, idempotency and the hash chain behave exactly as on disk.

use crate::error::{AppendError, StoreError};
use crate::log::{
    AppendOutcome, AppendRequest, BoxFuture, ChainWalker, CommitStats, EventLog, Head, Progress,
    RawRecord, VerifyReport,
};
use crate::record::RecordedEvent;
use crate::sequencer::{Lookup, Sequencer};
use crate::StreamName;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::watch;

#[derive(Default)]
struct State {
    records: Vec<RawRecord>,
    /// Positions of each stream's events, in version order.
    streams: HashMap<String, Vec<u64>>,
    keys: HashMap<String, ([u8; 32], AppendOutcome)>,
    head: Head,
    last_micros: i64,
    stats: CommitStats,
}

impl Lookup for &State {
    fn stream_version(&mut self, stream: &str) -> Result<u64, StoreError> {
        Ok(self.streams.get(stream).map_or(0, |v| v.len() as u64))
    }

    fn idempotency(&mut self, key: &str) -> Result<Option<([u8; 32], AppendOutcome)>, StoreError> {
        Ok(self.keys.get(key).copied())
    }
}

impl State {
    fn store(&mut self, group: Sequencer) {
        for sealed in group.sealed {
            self.streams
                .entry(sealed.stream.clone())
                .or_default()
                .push(sealed.position);
            if let Some((entry, outcome)) = sealed.replay() {
                self.keys
                    .insert(entry.key.clone(), (entry.fingerprint, outcome));
            }
            self.records.push(sealed.into_raw());
        }
        self.head = group.head;
        self.last_micros = group.last_micros;
    }

    fn record(&self, position: u64) -> Option<&RawRecord> {
        let index = usize::try_from(position.checked_sub(1)?).ok()?;
        self.records.get(index)
    }
}

/// The log in memory. Not durable: for tests.
pub struct MemoryLog {
    state: Mutex<State>,
    head: watch::Sender<Head>,
}

impl Default for MemoryLog {
    fn default() -> Self {
        MemoryLog {
            state: Mutex::new(State {
                last_micros: i64::MIN,
                ..State::default()
            }),
            head: watch::Sender::new(Head::default()),
        }
    }
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Closed)
    }

    /// Publishes `head` unless a later one is already out: appends publish
    /// after releasing the state lock, so two of them can arrive here in
    /// either order, and the head must never move backwards.
    fn publish(&self, head: Head) {
        self.head.send_if_modified(|h| {
            let later = head.position > h.position;
            if later {
                *h = head;
            }
            later
        });
    }
}

impl EventLog for MemoryLog {
    fn append(&self, request: AppendRequest) -> BoxFuture<'_, Result<AppendOutcome, AppendError>> {
        Box::pin(async move {
            let mut state = self.state()?;
            let mut group = Sequencer::new(
                state.head,
                state.last_micros,
                chrono::Utc::now().timestamp_micros(),
            );
            let outcome = group.append(&mut &*state, &request);
            state.stats.appends += 1;
            if !group.is_empty() {
                state.stats.groups += 1;
                state.store(group);
            }
            let head = state.head;
            drop(state);
            self.publish(head);
            outcome
        })
    }

    fn import(&self, records: Vec<RawRecord>) -> BoxFuture<'_, Result<Head, AppendError>> {
        Box::pin(async move {
            let mut state = self.state()?;
            let mut group = Sequencer::new(state.head, state.last_micros, i64::MIN);
            for raw in records {
                group.import(&mut &*state, raw)?;
            }
            state.store(group);
            let head = state.head;
            drop(state);
            self.publish(head);
            Ok(head)
        })
    }

    fn head(&self) -> Head {
        *self.head.borrow()
    }

    fn watch_head(&self) -> watch::Receiver<Head> {
        self.head.subscribe()
    }

    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawRecord>, StoreError> {
        let state = self.state()?;
        let start = usize::try_from(from.max(1) - 1).unwrap_or(usize::MAX);
        Ok(state
            .records
            .iter()
            .skip(start)
            .take(limit)
            .cloned()
            .collect())
    }

    fn read_stream(
        &self,
        stream: &StreamName,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let state = self.state()?;
        let Some(positions) = state.streams.get(stream.as_str()) else {
            return Ok(Vec::new());
        };
        let start = usize::try_from(from_version.max(1) - 1).unwrap_or(usize::MAX);
        positions
            .iter()
            .skip(start)
            .take(limit)
            .map(|&position| {
                state
                    .record(position)
                    .ok_or(StoreError::Corrupt {
                        position,
                        reason: "stream index points past the log".into(),
                    })?
                    .decode()
            })
            .collect()
    }

    fn stream_version(&self, stream: &StreamName) -> Result<u64, StoreError> {
        let state = self.state()?;
        Ok(state
            .streams
            .get(stream.as_str())
            .map_or(0, |v| v.len() as u64))
    }

    fn idempotency_record(
        &self,
        key: &str,
    ) -> Result<Option<([u8; 32], AppendOutcome)>, StoreError> {
        Ok(self.state()?.keys.get(key).copied())
    }

    fn verify_from(
        &self,
        from: Head,
        progress: Progress,
    ) -> BoxFuture<'_, Result<VerifyReport, StoreError>> {
        Box::pin(async move {
            let state = self.state()?;
            let mut walker = ChainWalker::from(from, progress);
            let skip = usize::try_from(from.position).unwrap_or(usize::MAX);
            for raw in state.records.iter().skip(skip) {
                let problem = walker.check(raw.position, &raw.bytes, |stream, version| {
                    let index = usize::try_from(version.saturating_sub(1)).unwrap_or(usize::MAX);
                    Ok(state
                        .streams
                        .get(stream.as_str())
                        .and_then(|v| v.get(index))
                        == Some(&raw.position))
                })?;
                if let Some(reason) = problem {
                    return Ok(walker.report(Some((raw.position, reason))));
                }
            }
            Ok(walker.report(None))
        })
    }

    fn commit_stats(&self) -> CommitStats {
        self.state().map(|s| s.stats).unwrap_or_default()
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    fn describe(&self) -> String {
        "memory (not durable)".to_owned()
    }

    fn close(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
