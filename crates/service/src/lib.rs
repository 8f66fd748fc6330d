//! The write side: [`CommandService`] runs a command through the domain's
//! `decide`, appends the resulting events with optimistic concurrency and
//! idempotency, and returns once the read models show them
//! (read-your-writes).
//!
//! The service keeps the domain state the rules need in memory, as a fold
//! of the log itself: before deciding, it folds whatever the log gained
//! since (its own appends and anyone else's). It holds its lock only while
//! folding and deciding, never while waiting on the disk, so concurrent
//! commands still share group commits. A command on a stream that moved in
//! between is refused by the log's version check and retried on fresh state
//! (unless the caller named the version it expects).
//!
//! Of that state it holds every definition, but the figures (targets and
//! reports) only of the most recently used indicators, within a budget of
//! bytes (an indicator's figures grow with its reports); a decision that
//! needs others folds them first, read without the lock
//! ([`CommandService::with_figures`]): from a snapshot of them kept beside
//! the read models ([`chitieu_projector::FigureSnapshots`]) and the events
//! of their stream after it, or from the whole stream where there is no
//! snapshot or it does not check out. Figures let go that gained
//! [`SNAPSHOT_EVERY`] events since their last snapshot are snapshotted
//! again, after the lock is released.

pub mod ledger;

use chitieu_domain::{
    decide, evolve, evolve_at, read_streams, AccessError, Authenticated, Command, DomainError,
    DomainState, Event, EventCodec, Figures, IndicatorId, PrincipalId, StreamId, TokenId,
};
use chitieu_projector::Projector;
use chitieu_store::{
    read_in_stages, Actor, AppendError, AppendMeta, AppendRequest, CommitStats, ExpectedVersion,
    Head, Log, RecordedEvent, StoreError, StreamCondition, StreamName, Subscription,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// How long a write waits for the read models to show it.
const READ_YOUR_WRITES_TIMEOUT: Duration = Duration::from_secs(10);
/// Events per chunk when folding the log into the domain state (at
/// start: all of it).
const FOLD_CHUNK: usize = 20_000;
/// Attempts when the stream moved between deciding and appending.
const ATTEMPTS: usize = 3;
/// What the figures the domain state keeps may take in memory by default,
/// in bytes ([`CommandService::with_figures_budget`]): some 85,000
/// indicators of two targets and five reports each (768 bytes), fewer
/// where reports pile up (6.4 KB at 35: 10,000 such indicators). 48 MiB
/// made writes in turn through 10,000 indicators fold streams again by
/// their third round (BENCHMARKS.md).
pub const FIGURES_BUDGET: usize = 64 << 20;
/// Figures let go are snapshotted again once their stream gained this many
/// events since their last snapshot: a miss folds fewer than this many
/// events after the snapshot it reads, and writes in turn through more
/// indicators than the budget holds write one snapshot every this many
/// writes to an indicator.
pub const SNAPSHOT_EVERY: u64 = 4;

/// Whether figures as of stream version `version` are due a snapshot when
/// the one stored is of version `stored` (0: none).
fn snapshot_due(version: u64, stored: u64) -> bool {
    version >= stored.saturating_add(SNAPSHOT_EVERY)
}

/// Options every write takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// The stream version the caller has seen; a different one is a conflict.
    pub expected_version: Option<u64>,
    /// Makes a retry of the same command harmless.
    pub idempotency_key: Option<String>,
    /// Groups the events of one request.
    pub correlation_id: Option<Uuid>,
}

/// What operations watch of the log ([`CommandService::log_stats`]).
#[derive(Debug, Clone)]
pub struct LogStats {
    /// Appends, groups and flushes.
    pub commits: CommitStats,
    /// Bytes on disk (this node's copy, for a shared log).
    pub size_on_disk: Option<u64>,
    /// What the log is (`sled (embedded)`, `postgres …`).
    pub description: String,
}

/// Where a write landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The stream written to.
    pub stream: StreamId,
    /// Log position of its last event.
    pub position: u64,
    /// The stream's version after it.
    pub version: u64,
    /// Whether this was a replay of an earlier identical request.
    pub replayed: bool,
}

/// What a batch of commands did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Commands written now.
    pub written: usize,
    /// Commands whose idempotency key showed them written before.
    pub replayed: usize,
    /// Log position of the last command's events (0 for an empty batch).
    pub position: u64,
}

/// Why a batch stopped.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The caller may not run some of the commands; nothing was written.
    #[error("{} of the commands are not allowed; nothing was written", .0.len())]
    Refused(Vec<(usize, AccessError)>),
    /// A command failed after the ones before it were written; running the
    /// same batch again (same keys) finishes it.
    #[error("command {index} failed ({error}); the {index} before it were written")]
    Failed {
        /// Index of the failed command.
        index: usize,
        /// Why.
        error: ServiceError,
    },
}

/// Who runs a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An authenticated principal: the command must be covered by one of
    /// its grants, and the envelope records it under the role that allowed it.
    Principal(PrincipalId),
    /// The system itself (bootstrapping the first admin, loading the demo
    /// data), recorded as the given actor, without an access check.
    System(Actor),
}

/// Why a write was refused or failed. Nothing was written when one is returned
/// (except `Unavailable`, where the outcome is unknown: retry with the same
/// idempotency key).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A business rule refused the command.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The caller may not run this command here.
    #[error(transparent)]
    Forbidden(#[from] AccessError),
    /// The stream is not at the version the caller expected.
    #[error("{stream} is at version {current}, not the expected {expected}")]
    Conflict {
        /// The stream.
        stream: StreamId,
        /// What the caller expected.
        expected: u64,
        /// Where it is.
        current: u64,
    },
    /// The idempotency key was used for a different request.
    #[error("idempotency key `{0}` was already used for a different request")]
    IdempotencyKeyReused(String),
    /// The request is malformed for the log (too large, bad key).
    #[error("{0}")]
    Invalid(String),
    /// The storage failed or is closed.
    #[error("storage unavailable: {0}")]
    Unavailable(#[from] StoreError),
    /// The write is durable but the read models did not show it in time.
    #[error("written at position {position}, but the read models lag behind")]
    NotYetVisible {
        /// Where it was written.
        position: u64,
    },
}

struct Synced {
    state: DomainState,
    position: u64,
    /// The indicators whose figures `state` holds: when each was last
    /// written or read by a decision (a tick of `clock`) and what its
    /// figures take in memory. The least recently used are let go once
    /// `held_bytes` passes the service's budget.
    held: HashMap<IndicatorId, Held>,
    /// The sum of `held`'s bytes.
    held_bytes: usize,
    /// Held figures touched since their bytes were measured: measured
    /// when the budget is next checked ([`Synced::let_go`]), each once,
    /// not on every event folded into them (measuring walks an
    /// indicator's reports: a fold of a stream of n reports took n²/2
    /// steps, most of a start's time for indicators with thousands).
    unmeasured: Vec<IndicatorId>,
    clock: u64,
    /// Figures let go that are due a snapshot, written once the lock is
    /// released ([`CommandService::store_snapshots`]).
    to_snapshot: Vec<Snapshot>,
}

/// One indicator's figures held in the state.
#[derive(Clone, Copy)]
struct Held {
    tick: u64,
    /// What the figures took when last measured (counted in `held_bytes`).
    bytes: usize,
    /// The state's log position when `bytes` was measured: figures change
    /// only as the state folds events, so a later use at the same position
    /// keeps the measure (a decision's use right after its catch-up).
    measured_at: u64,
    /// Touched since measured: `bytes` is to be measured again (the id is
    /// in [`Synced::unmeasured`]).
    stale: bool,
    /// The stream version the figures reach and the log position of that
    /// version's event, where known (what a snapshot of them records).
    at: Option<(u64, u64)>,
    /// The version of the stored snapshot of them (0: none), known once
    /// they were folded outside the state in this process; unknown for
    /// figures the state folded itself (at start, or defined since): when
    /// those are let go, the stored snapshot's version is read first
    /// ([`CommandService::store_snapshots`]).
    snapshot: Option<u64>,
}

/// Figures to snapshot: as of stream version `version`, whose event is at
/// log position `position`; `stored` is the version of the snapshot stored
/// before, where known (else it is read, and the new one written only if
/// due against it).
struct Snapshot {
    id: IndicatorId,
    version: u64,
    position: u64,
    stored: Option<u64>,
    figures: Box<Figures>,
}

/// An indicator's figures folded outside the state: up to stream version
/// `version` (whose event is at `position`, 0 for none), from the
/// snapshot of version `snapshot` (0: from the stream's start).
struct Folded {
    figures: Figures,
    version: u64,
    position: u64,
    snapshot: u64,
}

impl Synced {
    /// Folds one event, at log `position` and stream `version`, into the
    /// state (the one place events enter it, from the log or from the
    /// write that made them). Whether it concerned principals or tokens.
    fn fold(&mut self, event: &Event, position: u64, version: u64) -> bool {
        evolve_at(&mut self.state, event, position);
        self.position = position;
        // A definition starts with (empty) figures held; a figure written
        // keeps its indicator's figures near.
        if let Some(id) = event.indicator() {
            if let Some(indicator) = self
                .state
                .indicators
                .get(&id)
                .filter(|i| i.figures.is_some())
            {
                // The event is of the indicator's own stream when its
                // version is the one the state counts now (a snapshot
                // checks the position anyway).
                let at = (version == indicator.version).then_some((version, position));
                self.touch(id, at);
            }
        }
        event.concerns_principals()
    }

    /// Marks `id`'s figures as used now; what they take is measured again
    /// before the budget is next checked, unless nothing was folded since
    /// it was. `at`: the stream version they reach now and its event's
    /// position, where the caller knows them; else what was known is kept
    /// if the version did not move, and forgotten if it did.
    fn touch(&mut self, id: IndicatorId, at: Option<(u64, u64)>) {
        self.clock += 1;
        let indicator = self.state.indicators.get(&id);
        let version = indicator.map_or(0, |i| i.version);
        let before = self.held.get(&id).copied();
        let measured = before.filter(|h| {
            !h.stale
                && h.measured_at == self.position
                && h.bytes > 0
                && indicator.is_some_and(|i| i.figures.is_some())
        });
        if measured.is_none() && !before.is_some_and(|h| h.stale) {
            self.unmeasured.push(id);
        }
        let held = Held {
            tick: self.clock,
            bytes: before.map_or(0, |h| h.bytes),
            measured_at: before.map_or(0, |h| h.measured_at),
            stale: measured.is_none(),
            at: at.or_else(|| before.and_then(|h| h.at).filter(|(v, _)| *v == version)),
            snapshot: before.and_then(|h| h.snapshot),
        };
        self.held.insert(id, held);
    }

    /// Measures the figures touched since they were last measured, each
    /// once, and counts them in `held_bytes`.
    fn measure(&mut self) {
        for id in std::mem::take(&mut self.unmeasured) {
            let Some(held) = self.held.get_mut(&id).filter(|h| h.stale) else {
                continue;
            };
            let bytes = self
                .state
                .indicators
                .get(&id)
                .and_then(|i| i.figures.as_deref())
                .map_or(0, Figures::held_bytes);
            self.held_bytes = self.held_bytes.saturating_sub(held.bytes) + bytes;
            held.bytes = bytes;
            held.measured_at = self.position;
            held.stale = false;
        }
    }

    /// Lets go of the least recently used figures until they take at most
    /// three quarters of `budget` bytes, once they take more than `budget`
    /// (a sort now and then, not a list kept in order on every use).
    /// Figures let go that are due a snapshot go to `to_snapshot`; with
    /// `unknown_too`, so do those whose stored snapshot is unknown (see
    /// [`Held::snapshot`]), to be checked against it. The start fold
    /// passes `false`: it lets go of most of a big store's figures, and
    /// reading every indicator's snapshot there would slow every start.
    fn let_go(&mut self, budget: usize, unknown_too: bool) {
        self.measure();
        if self.held_bytes <= budget {
            return;
        }
        let mut by_use: Vec<(u64, IndicatorId)> =
            self.held.iter().map(|(id, h)| (h.tick, *id)).collect();
        by_use.sort_unstable();
        let keep = budget - budget / 4;
        for (_, id) in by_use {
            if self.held_bytes <= keep {
                break;
            }
            let held = self.held.remove(&id);
            if let Some(held) = held {
                self.held_bytes = self.held_bytes.saturating_sub(held.bytes);
            }
            if let Some(indicator) = self.state.indicators.get_mut(&id) {
                let figures = indicator.figures.take();
                // Snapshotted when due, and only as of the version the
                // figures reach (a stale `at` would misname them).
                let due = held.and_then(|h| {
                    if h.snapshot.is_none() && !unknown_too {
                        return None;
                    }
                    // An unknown snapshot is at least none: not due
                    // before `SNAPSHOT_EVERY` events either way.
                    let after = h.snapshot.unwrap_or(0);
                    h.at.filter(|(version, _)| {
                        *version == indicator.version && snapshot_due(*version, after)
                    })
                    .map(|at| (at, h.snapshot))
                });
                if let (Some(((version, position), stored)), Some(figures)) = (due, figures) {
                    self.to_snapshot.push(Snapshot {
                        id,
                        version,
                        position,
                        stored,
                        figures,
                    });
                }
            }
        }
    }
}

/// Who may sign in, as of a log position: a copy of the principals and
/// the token digests, read by every request without the decision lock.
#[derive(Default)]
struct Credentials {
    principals: std::collections::BTreeMap<PrincipalId, chitieu_domain::principal::PrincipalState>,
    tokens: std::collections::BTreeMap<String, (PrincipalId, TokenId)>,
}

/// Runs commands. Cheap to share behind an `Arc`.
pub struct CommandService {
    log: Log,
    projector: Arc<Projector>,
    synced: Mutex<Synced>,
    /// The credentials and the position they are current at: replaced
    /// (a copy) when a principal's event is applied, moved forward (a
    /// pointer) otherwise, under the decision lock; read without it.
    credentials: std::sync::RwLock<(u64, Arc<Credentials>)>,
    /// One queue per stream being written: writes of one stream decide and
    /// append one after the other on this node, instead of deciding on the
    /// same version and all but one failing (a write without an expected
    /// version must not conflict with its own kind). Entries go when no
    /// write holds them.
    writing: Mutex<HashMap<StreamId, Arc<tokio::sync::Mutex<()>>>>,
    /// What the figures the domain state keeps may take, in bytes (the
    /// rest are folded again from their streams when a decision needs
    /// them).
    figures_budget: usize,
}

/// The command's name, for spans and logs.
fn command_name(command: &Command) -> &'static str {
    match command {
        Command::RegisterOrgUnit(_) => "register_org_unit",
        Command::RecordSuccession { .. } => "record_succession",
        Command::RenameOrgUnit { .. } => "rename_org_unit",
        Command::MoveOrgUnit { .. } => "move_org_unit",
        Command::RegisterDocument(_) => "register_document",
        Command::DefineIndicator(_) => "define_indicator",
        Command::SetTarget { .. } => "set_target",
        Command::ReviseTarget { .. } => "revise_target",
        Command::ReportActual { .. } => "report_actual",
        Command::CorrectActual { .. } => "correct_actual",
        Command::CreatePrincipal { .. } => "create_principal",
        Command::GrantRole { .. } => "grant_role",
        Command::RevokeGrant { .. } => "revoke_grant",
        Command::IssueToken { .. } => "issue_token",
        Command::RevokeToken { .. } => "revoke_token",
        Command::DisablePrincipal { .. } => "disable_principal",
        Command::RetireIndicator { .. } => "retire_indicator",
        Command::SetDirection { .. } => "set_direction",
        Command::LinkPreviousPeriod { .. } => "link_previous_period",
        Command::SetIndicatorParent { .. } => "set_indicator_parent",
        Command::RestateTarget { .. } => "restate_target",
        Command::SubmitPeriod { .. } => "submit_period",
        Command::ApprovePeriod { .. } => "approve_period",
        Command::LockPeriod { .. } => "lock_period",
        Command::UnlockPeriod { .. } => "unlock_period",
    }
}

/// SHA-256 of a token, hex: what the log records instead of the token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn fingerprint(actor_id: &str, command: &Command) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(actor_id.as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(command).unwrap_or_default());
    h.finalize().into()
}

impl CommandService {
    /// A service writing to `log` whose writes are read through `projector`.
    pub fn new(log: Log, projector: Arc<Projector>) -> Self {
        CommandService {
            log,
            projector,
            synced: Mutex::new(Synced {
                state: DomainState::default(),
                position: 0,
                held: HashMap::new(),
                held_bytes: 0,
                unmeasured: Vec::new(),
                clock: 0,
                to_snapshot: Vec::new(),
            }),
            credentials: std::sync::RwLock::new((0, Arc::default())),
            writing: Mutex::new(HashMap::new()),
            figures_budget: FIGURES_BUDGET,
        }
    }

    /// Keeps the figures (targets and reports) of the most recently used
    /// indicators in the domain state while they take at most `bytes`
    /// ([`Figures::held_bytes`]); past it, the least recently used go
    /// until three quarters of it are left. The others' definitions stay;
    /// their figures are folded again from their own streams when a
    /// decision needs them. A budget of a byte keeps none between
    /// decisions.
    pub fn with_figures_budget(mut self, bytes: usize) -> Self {
        self.figures_budget = bytes.max(1);
        self
    }

    /// The queue of writes of `stream`.
    fn queue(&self, stream: &StreamId) -> Result<Arc<tokio::sync::Mutex<()>>, ServiceError> {
        let mut writing = self.writing.lock().map_err(|_| StoreError::Closed)?;
        // Forget the queues nobody is in (the map only holds streams being
        // written now, not every stream ever written).
        if writing.len() > 1024 {
            writing.retain(|_, q| Arc::strong_count(q) > 1);
        }
        Ok(writing.entry(stream.clone()).or_default().clone())
    }

    /// The log's head: its last position and chain hash.
    pub fn head(&self) -> Head {
        self.log.head()
    }

    /// The head as it stood at `position` (a position the log holds).
    pub fn head_at(&self, position: u64) -> Result<Head, ServiceError> {
        Ok(self.log.head_at(position)?)
    }

    /// The last position recorded at or before `instant`.
    pub fn position_at(&self, instant: chrono::DateTime<chrono::Utc>) -> Result<u64, ServiceError> {
        Ok(self.log.position_at(instant)?)
    }

    /// At most `limit` events from position `from` on.
    pub fn events(&self, from: u64, limit: usize) -> Result<Vec<RecordedEvent>, ServiceError> {
        Ok(self.log.read_all(from, limit)?)
    }

    /// The events from position `from` on, as they are appended.
    pub fn subscribe(&self, from: u64) -> Subscription {
        Subscription::new(self.log.clone(), from)
    }

    /// Whether a write with this idempotency key is in the log.
    pub fn key_used(&self, key: &str) -> bool {
        self.log.idempotency_record(key).ok().flatten().is_some()
    }

    /// What operations watch of the log: its commits, its size on disk
    /// (`None` when it cannot be measured) and what it is.
    pub fn log_stats(&self) -> LogStats {
        LogStats {
            commits: self.log.commit_stats(),
            size_on_disk: self.log.size_on_disk().ok(),
            description: self.log.describe(),
        }
    }

    /// Runs `f` on the domain state, brought up to the durable head first.
    /// The state holds every definition, but the figures of a bounded set
    /// of indicators only: [`CommandService::with_figures`] for a reader
    /// of figures.
    pub fn with_state<T>(&self, f: impl FnOnce(&DomainState) -> T) -> Result<T, ServiceError> {
        self.with_figures(|_| Vec::new(), f)
    }

    /// Runs `f` on the domain state, brought up to the durable head, with
    /// the figures of the indicators `needs` names in it (folded from
    /// their streams where the state let them go).
    ///
    /// Streams are read without the decision lock (other decisions go on
    /// meanwhile); under it again, the state catches up, `needs` is asked
    /// again, and whatever the streams gained in between is read then.
    pub fn with_figures<T>(
        &self,
        needs: impl Fn(&DomainState) -> Vec<IndicatorId>,
        f: impl FnOnce(&DomainState) -> T,
    ) -> Result<T, ServiceError> {
        let mut synced = self.synced.lock().map_err(|_| StoreError::Closed)?;
        self.catch_up(&mut synced)?;
        let mut needed = needs(&synced.state);
        let missing: Vec<(IndicatorId, u64)> = needed
            .iter()
            .filter_map(|id| synced.state.indicators.get(id).map(|i| (*id, i)))
            .filter(|(_, i)| i.figures.is_none())
            .map(|(id, i)| (id, i.version))
            .collect();
        let mut read = HashMap::new();
        if !missing.is_empty() {
            let due = std::mem::take(&mut synced.to_snapshot);
            drop(synced);
            self.store_snapshots(due);
            for (id, version) in missing {
                read.insert(id, self.fold_figures(id, version)?);
            }
            synced = self.synced.lock().map_err(|_| StoreError::Closed)?;
            self.catch_up(&mut synced)?;
            needed = needs(&synced.state);
        }
        self.hold(&mut synced, &needed, read)?;
        let answer = f(&synced.state);
        synced.let_go(self.figures_budget, true);
        let due = std::mem::take(&mut synced.to_snapshot);
        drop(synced);
        self.store_snapshots(due);
        Ok(answer)
    }

    /// Writes the snapshots of figures let go that were due one. A
    /// snapshot is a cache: one that cannot be written is left out (the
    /// next miss folds more of the stream).
    fn store_snapshots(&self, due: Vec<Snapshot>) {
        if due.is_empty() {
            return;
        }
        let snapshots = self.projector.figure_snapshots();
        for snapshot in due {
            let stored = match snapshot.stored {
                Some(version) => version,
                None => match snapshots.version(snapshot.id) {
                    Ok(version) => version.unwrap_or(0),
                    Err(error) => {
                        tracing::warn!(%error, indicator = %snapshot.id.0, "a snapshot of figures could not be read");
                        continue;
                    }
                },
            };
            if !snapshot_due(snapshot.version, stored) {
                continue;
            }
            if let Err(error) = snapshots.put(
                snapshot.id,
                snapshot.version,
                snapshot.position,
                &snapshot.figures,
            ) {
                tracing::warn!(%error, indicator = %snapshot.id.0, "a snapshot of figures was not written");
            }
        }
    }

    /// `id`'s figures up to stream version `version`: from its snapshot
    /// and the events after it where the snapshot checks out (the log puts
    /// the stream's event at its version at the position it names), else
    /// from the whole stream.
    fn fold_figures(&self, id: IndicatorId, version: u64) -> Result<Folded, ServiceError> {
        let snapshot = match self.projector.figure_snapshots().get(id) {
            Ok(snapshot) => snapshot.filter(|s| (1..=version).contains(&s.version)),
            Err(error) => {
                tracing::warn!(%error, indicator = %id.0, "a snapshot of figures could not be read");
                None
            }
        };
        if let Some(snapshot) = snapshot {
            // Checked against the log's own account of where the stream's
            // event at that version is (an index lookup: the event itself
            // need not be read).
            let at =
                self.log
                    .stream_positions(&StreamId::indicator(id).into(), snapshot.version, 1)?;
            if at.first() == Some(&snapshot.position) {
                let events = if snapshot.version < version {
                    self.stream_events(id, snapshot.version + 1, version)?
                } else {
                    Vec::new()
                };
                let mut figures = snapshot.figures;
                for (event, position) in &events {
                    figures.apply(event, *position);
                }
                return Ok(Folded {
                    figures,
                    version,
                    position: events.last().map_or(snapshot.position, |(_, p)| *p),
                    snapshot: snapshot.version,
                });
            }
            tracing::debug!(indicator = %id.0, "a snapshot of figures does not match the log; folding the stream");
        }
        let events = self.stream_events(id, 1, version)?;
        Ok(Folded {
            figures: Figures::fold(events.iter().map(|(e, p)| (e, *p))),
            version,
            position: events.last().map_or(0, |(_, p)| *p),
            snapshot: 0,
        })
    }

    /// Events `from..=to` (versions) of an indicator's stream, decoded,
    /// with their positions.
    fn stream_events(
        &self,
        id: IndicatorId,
        from: u64,
        to: u64,
    ) -> Result<Vec<(Event, u64)>, ServiceError> {
        let from = from.max(1);
        let count = usize::try_from(to.saturating_sub(from - 1)).unwrap_or(usize::MAX);
        let recorded = self
            .log
            .read_stream(&StreamId::indicator(id).into(), from, count)?;
        if recorded.len() != count {
            return Err(StoreError::Corrupt {
                position: recorded.last().map_or(0, |r| r.position),
                reason: format!(
                    "the stream of indicator {id} holds {} events from version {from}, the state counts {count}",
                    recorded.len()
                ),
            }
            .into());
        }
        recorded
            .iter()
            .map(|r| {
                r.decode().map(|event| (event, r.position)).map_err(|e| {
                    StoreError::Corrupt {
                        position: r.position,
                        reason: e.to_string(),
                    }
                    .into()
                })
            })
            .collect()
    }

    /// Folds what the log gained since the state's position.
    fn catch_up(&self, synced: &mut Synced) -> Result<(), ServiceError> {
        let from = synced.position;
        let mut principals_changed = false;
        // Usually the few events since the last decision; at start, the
        // whole log, decoded on a second thread while this one folds.
        let decode = |events: &[RecordedEvent]| -> Result<Vec<Event>, StoreError> {
            events
                .iter()
                .map(|recorded| {
                    recorded.decode().map_err(|e| StoreError::Corrupt {
                        position: recorded.position,
                        reason: e.to_string(),
                    })
                })
                .collect()
        };
        let budget = self.figures_budget;
        let starting = from == 0;
        read_in_stages(
            &self.log,
            from + 1,
            FOLD_CHUNK,
            decode,
            |recorded, events| -> Result<bool, StoreError> {
                for (recorded, event) in recorded.iter().zip(&events) {
                    principals_changed |= synced.fold(event, recorded.position, recorded.version);
                }
                synced.let_go(budget, !starting);
                Ok(true)
            },
        )?;
        if synced.position != from {
            self.publish_credentials(synced, principals_changed);
        }
        Ok(())
    }

    /// Folds a write's own events (the first at log position `first`, the
    /// last at stream version `last_version`), durable now, into the state
    /// when they are the very next it needs: no read of the log, no
    /// decoding (the next decision or authentication re-read them, a few
    /// per cent of a write's time). Otherwise nothing: the next catch-up
    /// reads them from the log with everyone else's.
    fn absorb(&self, first: u64, last_version: u64, events: &[Event]) {
        let Ok(mut synced) = self.synced.lock() else {
            return;
        };
        let count = events.len() as u64;
        if synced.position + 1 != first || count == 0 || last_version < count {
            return;
        }
        let mut principals_changed = false;
        for (i, event) in (0u64..).zip(events) {
            let version = last_version + 1 + i - count;
            principals_changed |= synced.fold(event, first + i, version);
        }
        synced.let_go(self.figures_budget, true);
        self.publish_credentials(&synced, principals_changed);
    }

    /// Publishes the credentials as of the state's position (new ones when
    /// the events folded since concerned principals or tokens).
    fn publish_credentials(&self, synced: &Synced, principals_changed: bool) {
        if let Ok(mut credentials) = self.credentials.write() {
            let current = if principals_changed {
                Arc::new(Credentials {
                    principals: synced.state.principals.clone(),
                    tokens: synced.state.tokens.clone(),
                })
            } else {
                credentials.1.clone()
            };
            *credentials = (synced.position, current);
        }
    }

    /// Brings the figures of `ids` into the state, where it let them go,
    /// and marks them used: up to the state's version of each stream, from
    /// what was `read` before (without the lock) and whatever the stream
    /// gained since.
    fn hold(
        &self,
        synced: &mut Synced,
        ids: &[IndicatorId],
        mut read: HashMap<IndicatorId, Folded>,
    ) -> Result<(), ServiceError> {
        for id in ids {
            let Some(indicator) = synced.state.indicators.get(id) else {
                continue;
            };
            if indicator.figures.is_some() {
                synced.touch(*id, None);
                continue;
            }
            let version = indicator.version;
            let mut folded = match read.remove(id) {
                // The state only moves forward; anything else is read anew.
                Some(folded) if folded.version <= version => folded,
                _ => self.fold_figures(*id, version)?,
            };
            if folded.version < version {
                for (event, position) in self.stream_events(*id, folded.version + 1, version)? {
                    folded.figures.apply(&event, position);
                    folded.position = position;
                }
                folded.version = version;
            }
            if let Some(indicator) = synced.state.indicators.get_mut(id) {
                indicator.figures = Some(Box::new(folded.figures));
            }
            let at = (folded.position > 0).then_some((version, folded.position));
            synced.touch(*id, at);
            if let Some(held) = synced.held.get_mut(id) {
                held.snapshot = Some(folded.snapshot);
            }
        }
        Ok(())
    }

    /// The principal a bearer token belongs to, checked against the log as
    /// it is now (a revocation takes effect on the next request).
    ///
    /// Reads the credentials without the decision lock while they are
    /// current; catches up first (under the lock) when the log moved.
    pub fn authenticate(&self, token: &str) -> Result<Authenticated, ServiceError> {
        let digest = token_digest(token);
        let head = self.log.head().position;
        let current = |head: u64| {
            self.credentials
                .read()
                .ok()
                .filter(|c| c.0 >= head)
                .map(|c| c.1.clone())
        };
        let credentials = match current(head) {
            Some(credentials) => credentials,
            None => {
                // Caught up to whatever the log holds now (as a decision
                // would be).
                self.with_state(|_| ())?;
                current(0).ok_or(StoreError::Closed)?
            }
        };
        Ok(chitieu_domain::access::authenticate_in(
            &credentials.principals,
            &credentials.tokens,
            &digest,
            chrono::Utc::now(),
        )?)
    }

    /// Issues a new random token to `principal` (recording only its digest)
    /// and returns it: the only time it is shown.
    pub async fn issue_token(
        &self,
        caller: &Caller,
        principal: PrincipalId,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(TokenId, String), ServiceError> {
        use rand::RngCore;
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = format!("ct_{}", hex::encode(bytes));
        let id = TokenId(Uuid::now_v7());
        let command = Command::IssueToken {
            principal,
            token: id,
            digest: token_digest(&token),
            expires_at,
        };
        self.execute(caller, command, WriteOptions::default())
            .await?;
        Ok((id, token))
    }

    /// The actor a command will be recorded under, if the caller may run it.
    fn actor_for(
        state: &DomainState,
        caller: &Caller,
        command: &Command,
    ) -> Result<Actor, ServiceError> {
        match caller {
            Caller::System(actor) => Ok(actor.clone()),
            Caller::Principal(id) => {
                state.subject_exists(command)?;
                let (permission, scope) = state.requirement(command);
                let role = state.authorize(id, permission, scope.as_ref())?;
                let name = state
                    .principals
                    .get(id)
                    .map(|p| p.name.to_string())
                    .unwrap_or_default();
                Ok(Actor {
                    id: id.to_string(),
                    name,
                    role: role.as_str().to_owned(),
                })
            }
        }
    }

    /// Checks that `caller` may run every command of a batch, against a
    /// state that takes in the commands before each (a target is judged in
    /// the org unit of the indicator defined just before it). Writes nothing.
    pub fn authorize_all(&self, caller: &Caller, commands: &[&Command]) -> Result<(), BatchError> {
        let Caller::Principal(principal) = caller else {
            return Ok(());
        };
        let refused = self
            .with_figures(
                |state| {
                    commands
                        .iter()
                        .flat_map(|c| state.figures_needed(c))
                        .collect()
                },
                |state| {
                    let mut scratch = state.clone();
                    let mut refused = Vec::new();
                    for (index, command) in commands.iter().enumerate() {
                        let (permission, scope) = scratch.requirement(command);
                        if let Err(e) = scratch.authorize(principal, permission, scope.as_ref()) {
                            refused.push((index, e));
                        }
                        if let Ok(events) = decide(&scratch, command) {
                            events.iter().for_each(|e| evolve(&mut scratch, e));
                        }
                    }
                    refused
                },
            )
            .map_err(|error| BatchError::Failed { index: 0, error })?;
        if refused.is_empty() {
            Ok(())
        } else {
            Err(BatchError::Refused(refused))
        }
    }

    /// Runs a planned batch (an import), each command with its idempotency
    /// key. Every command's authorization is checked first, against a
    /// state that takes in the commands before it (a target is judged in
    /// the org unit of the indicator defined just before), so nothing is
    /// written unless the caller may write all of it. Not atomic across
    /// commands: if one fails (a concurrent change), those before it
    /// stay, and running the same batch again finishes it.
    pub async fn execute_all(
        &self,
        caller: &Caller,
        commands: Vec<(Command, String)>,
    ) -> Result<BatchOutcome, BatchError> {
        let plain: Vec<&Command> = commands.iter().map(|(c, _)| c).collect();
        self.authorize_all(caller, &plain)?;
        let mut outcome = BatchOutcome::default();
        for (index, (command, key)) in commands.into_iter().enumerate() {
            let options = WriteOptions {
                idempotency_key: Some(key),
                ..WriteOptions::default()
            };
            let written = self
                .execute(caller, command, options)
                .await
                .map_err(|error| BatchError::Failed { index, error })?;
            if written.replayed {
                outcome.replayed += 1;
            } else {
                outcome.written += 1;
            }
            outcome.position = written.position;
        }
        Ok(outcome)
    }

    /// Decides `command` for `caller` and appends its events; returns once
    /// they are durable and visible in the read models.
    pub async fn execute(
        &self,
        caller: &Caller,
        command: Command,
        options: WriteOptions,
    ) -> Result<Written, ServiceError> {
        use tracing::Instrument;
        // The org unit is recorded by the decision, which reads the state
        // anyway: one turn of the decision lock per command, not two.
        let span = tracing::info_span!(
            "command",
            command = command_name(&command),
            actor = %match caller {
                Caller::Principal(id) => id.to_string(),
                Caller::System(actor) => actor.id.clone(),
            },
            stream = %command.stream_id(),
            org_unit = tracing::field::Empty,
        );
        self.execute_in_span(caller, command, options)
            .instrument(span)
            .await
    }

    async fn execute_in_span(
        &self,
        caller: &Caller,
        command: Command,
        options: WriteOptions,
    ) -> Result<Written, ServiceError> {
        let stream = command.stream_id();
        // A retry is recognised by who sent which command; it writes
        // nothing, so it needs no authorization. A new write is authorized
        // once per decision, below, on the state it is decided on.
        let actor_id = match caller {
            Caller::Principal(id) => id.to_string(),
            Caller::System(actor) => actor.id.clone(),
        };
        // What an idempotency key is bound to; without a key nothing reads
        // it (the log computes none either), and hashing the command was a
        // few per cent of a write's time on the API's threads.
        let keyed = options
            .idempotency_key
            .as_ref()
            .map(|key| (key, fingerprint(&actor_id, &command)));
        if let Some((key, print)) = keyed {
            if let Some((earlier, outcome)) = self.log.idempotency_record(key)? {
                if earlier != print {
                    return Err(ServiceError::IdempotencyKeyReused(key.clone()));
                }
                self.visible(outcome.last_position).await?;
                return Ok(Written {
                    stream,
                    position: outcome.last_position,
                    version: outcome.stream_version,
                    replayed: true,
                });
            }
        }
        let correlation_id = options.correlation_id.unwrap_or_else(Uuid::now_v7);
        let queue = self.queue(&stream)?;
        let turn = queue.lock().await;
        for attempt in 1..=ATTEMPTS {
            let decided = self.with_figures(
                |state| state.figures_needed(&command),
                |state| {
                    if attempt == 1 {
                        if let Some(unit) = state.requirement(&command).1 {
                            tracing::Span::current().record("org_unit", unit.as_str());
                        }
                    }
                    let actor = Self::actor_for(state, caller, &command)?;
                    let current = state.stream_version(&stream);
                    match options.expected_version {
                        Some(expected) if expected != current => Err(ServiceError::Conflict {
                            stream: stream.clone(),
                            expected,
                            current,
                        }),
                        _ => Ok((
                            actor,
                            decide(state, &command)?,
                            current,
                            Self::conditions(state, caller, &command, &stream),
                        )),
                    }
                },
            )?;
            let (actor, events, current, conditions) = decided?;
            let read_at = conditions.clone();
            let request = AppendRequest {
                stream: (&stream).into(),
                expected: ExpectedVersion::Exact(current),
                conditions,
                events: events.iter().map(EventCodec::encode).collect(),
                idempotency_key: options.idempotency_key.clone(),
                fingerprint: keyed.map(|(_, print)| print),
                meta: AppendMeta {
                    actor: actor.clone(),
                    correlation_id,
                    causation_id: None,
                },
            };
            match self.log.append(request).await {
                Ok(outcome) => {
                    // A person's write is worth a line; the system's own
                    // (the demo loader, imports run by the CLI: hundreds at
                    // a time) only when asked for.
                    if matches!(caller, Caller::System(_)) {
                        tracing::debug!(actor = %actor.id, stream = %stream, position = outcome.last_position, "command executed");
                    } else {
                        tracing::info!(actor = %actor.id, stream = %stream, position = outcome.last_position, "command executed");
                    }
                    if !outcome.replayed {
                        self.absorb(outcome.first_position, outcome.stream_version, &events);
                    }
                    // The next write of the stream decides on this one.
                    drop(turn);
                    self.visible(outcome.last_position).await?;
                    return Ok(Written {
                        stream,
                        position: outcome.last_position,
                        version: outcome.stream_version,
                        replayed: outcome.replayed,
                    });
                }
                Err(AppendError::Conflict {
                    stream: moved,
                    current: now,
                    ..
                }) => {
                    let own = moved == StreamName::from(&stream);
                    if (own && options.expected_version.is_some()) || attempt == ATTEMPTS {
                        let expected = if own {
                            options.expected_version.unwrap_or(current)
                        } else {
                            // The version the decision read it at.
                            read_at
                                .iter()
                                .find(|c| c.stream == moved)
                                .and_then(|c| match c.expected {
                                    ExpectedVersion::Exact(v) => Some(v),
                                    _ => None,
                                })
                                .unwrap_or(0)
                        };
                        return Err(ServiceError::Conflict {
                            // The streams of a decision are the domain's.
                            stream: StreamId::parse(moved.as_str()).unwrap_or(stream),
                            expected,
                            current: now,
                        });
                    }
                    // Decide again on what the log holds now (on a shared
                    // log, including what other nodes wrote).
                    self.log.sync().await?;
                }
                Err(AppendError::IdempotencyKeyReused { key }) => {
                    return Err(ServiceError::IdempotencyKeyReused(key))
                }
                Err(AppendError::Invalid(message)) => return Err(ServiceError::Invalid(message)),
                Err(AppendError::Store(e)) => return Err(ServiceError::Unavailable(e)),
            }
        }
        Err(ServiceError::Conflict {
            stream,
            expected: 0,
            current: 0,
        })
    }

    /// The streams a decision read besides the one it writes, at the
    /// versions it read them: the caller's principal (its grants allowed
    /// the command; a revocation in between must refuse it) and whatever
    /// the domain says the decision read ([`read_streams`]: the unit's
    /// periods for a write into figures, every indicator of the unit for
    /// an approval). The log checks them in the same atomic step as the
    /// append.
    fn conditions(
        state: &DomainState,
        caller: &Caller,
        command: &Command,
        written: &StreamId,
    ) -> Vec<StreamCondition> {
        let mut streams = read_streams(state, command);
        if let Caller::Principal(id) = caller {
            streams.push(StreamId::principal(id));
        }
        streams.sort();
        streams.dedup();
        streams
            .into_iter()
            .filter(|s| s != written)
            .map(|stream| StreamCondition {
                expected: ExpectedVersion::Exact(state.stream_version(&stream)),
                stream: stream.into(),
            })
            .collect()
    }

    async fn visible(&self, position: u64) -> Result<(), ServiceError> {
        self.projector
            .wait_for(position, READ_YOUR_WRITES_TIMEOUT)
            .await
            .map_err(|_| ServiceError::NotYetVisible { position })
    }
}
