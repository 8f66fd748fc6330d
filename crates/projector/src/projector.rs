//! [`Projector`]: follows the log and maintains the read models.
//!
//! Events are applied in chunks. A chunk loads the views it touches, folds
//! its events into them, and writes the changed views, their index entries,
//! audit entries, summaries and the new checkpoint as **one sled batch**:
//! a crash leaves the read models at a chunk boundary, never between an
//! event's effects and the checkpoint. (The database does not wait for the
//! disk: a process that dies loses nothing sled wrote, and read models a
//! stopped machine may have torn are rebuilt at the next start: see
//! [`crate::unsynced`].) The result does not depend on how
//! the log was cut into chunks, so a rebuild (big chunks) and live
//! following (small ones) produce the same bytes.

use crate::keys;
use crate::model::{OrgUnitView, Summary};
use crate::view::{IndicatorView, Stamp};
use chitieu_domain::achievement::AchievementStatus;
use chitieu_domain::{search_key, Event, IndicatorDefinition, IndicatorId, OrgUnitCode};
use chitieu_store::{read_in_stages, Log, RecordedEvent, StoreError, Subscription};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// Version of the read models' shape. Bump it whenever a view, a key or an
/// index changes: on start, a projector that finds another version drops
/// every read model and rebuilds from the log. No migrations.
pub const READ_MODEL_VERSION: u32 = 12;

/// Name of the tree that holds every read model (in the projector's own
/// sled database, never the log's).
pub const PROJECTION_TREE: &str = "projection";

/// Name of the tree holding the last verified ledger checkpoint.
const VERIFICATION_TREE: &str = "verification";

/// sled page cache of the read models by default, in bytes (the server's
/// is `memory.read_model_cache_mib`). Small: reads of views at random
/// rarely hit it, and what it holds counts whole (BENCHMARKS.md, "sled's
/// page cache held to its capacity").
const CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Events per chunk while catching up or rebuilding. Each chunk is one
/// sled batch, whose inserts pull the leaves they land in back from disk;
/// at 100,000 indicators (2,000,000 events) a rebuild in chunks of 20,000
/// peaked at 574–595 MiB, in chunks of 2,000 at 232–271 MiB and a little
/// faster (12.6–12.8 s against 13.9–14.1: BENCHMARKS.md, "Read models
/// that do not wait for the disk").
const CATCH_UP_CHUNK: usize = 2_000;

/// Why projecting failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The log or sled failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// sled failed on the read-model tree.
    #[error("read-model storage error: {0}")]
    Sled(#[from] sled::Error),
    /// The projector's thread or runtime could not start.
    #[error("could not start the projector: {0}")]
    Start(std::io::Error),
    /// An event in the log does not decode.
    #[error("event at position {position} does not decode: {reason}")]
    Undecodable {
        /// Its position.
        position: u64,
        /// Why.
        reason: String,
    },
    /// A stored read model does not decode (a bug, or a shape change
    /// without a version bump).
    #[error("read model `{key}` does not decode: {reason}")]
    CorruptReadModel {
        /// The key, printable.
        key: String,
        /// Why.
        reason: String,
    },
    /// Waiting for a position took too long.
    #[error("the read models did not reach position {wanted} in time (at {at})")]
    Timeout {
        /// The position waited for.
        wanted: u64,
        /// Where the projector was.
        at: u64,
    },
    /// The projector stopped.
    #[error("the projector has stopped")]
    Stopped,
    /// The read models' files could not be set aside, removed, marked as
    /// written without waiting for the disk, or put on the disk.
    #[error("could not {what} the read models at {path}: {source}")]
    Files {
        /// What was being done.
        what: &'static str,
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Plain data with string keys: serialisation cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// An I/O error on the read models' files at `path`, while doing `what`.
fn files(
    what: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> ProjectionError {
    let path = path.to_owned();
    move |source| ProjectionError::Files { what, path, source }
}

/// Removes the read-model database at `dir` (closed): renamed aside first,
/// so that a new one opens at `dir` at once whatever sled's threads still
/// hold of the old files, then removed on a thread of its own. One a crash
/// left aside is removed first.
fn discard(dir: &std::path::Path) -> Result<(), ProjectionError> {
    let mut aside = dir.as_os_str().to_owned();
    aside.push(".discarded");
    let aside = std::path::PathBuf::from(aside);
    let io = |what, path: &std::path::Path, source| files(what, path)(source);
    if aside.exists() {
        std::fs::remove_dir_all(&aside).map_err(|e| io("remove", &aside, e))?;
    }
    std::fs::rename(dir, &aside).map_err(|e| io("set aside", dir, e))?;
    let _ = std::thread::Builder::new()
        .name("read-models-discard".into())
        .spawn(move || {
            if let Err(error) = std::fs::remove_dir_all(&aside) {
                tracing::warn!(%error, path = %aside.display(), "could not remove discarded read models; they go at the next rebuild");
            }
        });
    Ok(())
}

/// An indicator view's stored bytes: MessagePack with fields by position
/// (`rmp_serde::to_vec`), not JSON. A view is rewritten whole on every
/// write into its indicator and read back on every miss of the caches;
/// JSON (ids as 36 characters, every field's name) was larger, slower to
/// write and to read, and made the read-model tree outgrow its page cache
/// sooner (787 MB of read models on disk at 10,000 indicators against 351
/// MB: BENCHMARKS.md). The fields' order is the encoding, so a
/// change to `IndicatorView` or what it holds bumps [`READ_MODEL_VERSION`]
/// (the read models are rebuilt from the log).
pub(crate) fn view_bytes(view: &IndicatorView) -> Vec<u8> {
    // Sized like the last view encoded: grown from `to_vec`'s 128 bytes to
    // a view's kilobytes, the buffer was reallocated and copied some five
    // times, two fifths of the encoding's time under writes.
    static LAST: AtomicUsize = AtomicUsize::new(1024);
    let mut bytes = Vec::with_capacity(LAST.load(Ordering::Relaxed) + 256);
    // Plain data: serialisation cannot fail.
    match rmp_serde::encode::write(&mut bytes, view) {
        Ok(()) => {
            LAST.store(bytes.len(), Ordering::Relaxed);
            bytes
        }
        Err(_) => Vec::new(),
    }
}

/// An indicator view read back from [`view_bytes`].
pub(crate) fn parse_view(key: &[u8], bytes: &[u8]) -> Result<IndicatorView, ProjectionError> {
    rmp_serde::from_slice(bytes).map_err(|e| corrupt(key, e))
}

/// A read model stored as JSON (summaries, org units, documents) read back.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    key: &[u8],
    bytes: &[u8],
) -> Result<T, ProjectionError> {
    serde_json::from_slice(bytes).map_err(|e| corrupt(key, e))
}

/// A stored read model at `key` that does not decode.
fn corrupt(key: &[u8], reason: impl std::fmt::Display) -> ProjectionError {
    ProjectionError::CorruptReadModel {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: reason.to_string(),
    }
}

/// The index keys of a view: org unit and period, period, category,
/// settled status, and each word of its name's search key.
fn index_keys(d: &IndicatorDefinition, settled: AchievementStatus) -> BTreeSet<Vec<u8>> {
    let period = d.period.to_string();
    let mut keys = BTreeSet::new();
    let listed = keys::listed(
        d.org_unit.as_str(),
        &period,
        d.code.as_ref().map(|c| c.as_str()),
        d.id,
    );
    keys.insert(keys::by_org(&listed));
    keys.insert(keys::by_period(&period, d.id));
    keys.insert(keys::by_category(category_name(d.category), &listed));
    keys.insert(keys::by_status(status_name(settled), &listed));
    for word in search_key(d.name.as_str())
        .split(' ')
        .filter(|w| !w.is_empty())
    {
        keys.insert(keys::by_word(word, d.id));
    }
    keys
}

/// The count cells a view stands in: its org unit and period's summary
/// (`y`) and its category's cell under them (`x`).
fn count_keys(d: &IndicatorDefinition) -> [Vec<u8>; 2] {
    let (org, period) = (d.org_unit.as_str(), d.period.to_string());
    [
        keys::summary(org, &period),
        keys::counts(org, &period, category_name(d.category)),
    ]
}

/// The stable name of a category in keys and filters.
pub fn category_name(category: chitieu_domain::Category) -> &'static str {
    use chitieu_domain::Category::*;
    match category {
        Economy => "economy",
        Society => "society",
        Environment => "environment",
        DefenseSecurity => "defense_security",
        PartyBuilding => "party_building",
    }
}

/// The stable name of a status in keys and filters.
pub fn status_name(status: AchievementStatus) -> &'static str {
    match status {
        AchievementStatus::Exceeded => "exceeded",
        AchievementStatus::Met => "met",
        AchievementStatus::NotMet => "not_met",
        AchievementStatus::NoData => "no_data",
        AchievementStatus::NotDue => "not_due",
    }
}

/// A view a chunk touches: where it stood, what it was, and as the chunk
/// leaves it.
struct Slot {
    /// Where it stood before the chunk (`None`: defined in this chunk).
    stood: Option<Stood>,
    /// What it was, to leave an unchanged view unwritten.
    original: Original,
    current: Option<IndicatorView>,
}

/// What a view's index keys and count cells are functions of
/// ([`index_keys`], [`count_keys`]), as it stood before the chunk. Only
/// this is kept of the view as it was, not a copy of the whole view (a
/// view read from the tree was copied for that alone: a tenth of the
/// projector's time under writes spread over many indicators).
struct Stood {
    definition: IndicatorDefinition,
    settled: AchievementStatus,
    standing: crate::model::Standing,
}

impl Stood {
    fn of(view: &IndicatorView) -> Self {
        let settled = view.settled_status();
        Stood {
            definition: view.definition.clone(),
            settled,
            standing: view.standing_as(settled),
        }
    }
}

/// A view as it was before the chunk.
enum Original {
    /// Not there before the chunk.
    None,
    /// The projector's own decoded copy (`Projector::written`), shared.
    Shared(Arc<IndicatorView>),
    /// Its bytes in the tree: an unchanged view encodes to them again.
    Stored(sled::IVec),
}

/// One chunk of events being applied.
struct Chunk<'a> {
    tree: &'a sled::Tree,
    /// For the rare view that must be folded again from its stream.
    log: &'a Log,
    /// Views as the projector last wrote them (see `Projector::written`).
    written: &'a HashMap<IndicatorId, Arc<IndicatorView>>,
    batch: sled::Batch,
    views: HashMap<IndicatorId, Slot>,
    org_units: HashMap<String, OrgUnitView>,
    new_links: Vec<(IndicatorId, IndicatorId)>,
    /// Links to a previous period replaced in this batch (still in the
    /// tree until it is written).
    removed_links: Vec<(IndicatorId, IndicatorId)>,
    figure_changed: BTreeSet<IndicatorId>,
    /// Audit postings to append, per bucket key.
    audit: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl<'a> Chunk<'a> {
    fn new(
        tree: &'a sled::Tree,
        log: &'a Log,
        written: &'a HashMap<IndicatorId, Arc<IndicatorView>>,
    ) -> Self {
        Chunk {
            tree,
            log,
            written,
            batch: sled::Batch::default(),
            views: HashMap::new(),
            org_units: HashMap::new(),
            new_links: Vec::new(),
            removed_links: Vec::new(),
            figure_changed: BTreeSet::new(),
            audit: BTreeMap::new(),
        }
    }

    fn view(&mut self, id: IndicatorId) -> Result<Option<&mut IndicatorView>, ProjectionError> {
        if !self.views.contains_key(&id) {
            // A view shared with the readers is copied; one read from the
            // tree is this chunk's own.
            let (original, current) = match self.written.get(&id) {
                Some(view) => (Original::Shared(view.clone()), Some((**view).clone())),
                None => {
                    let key = keys::indicator(id);
                    match self.tree.get(&key)? {
                        Some(bytes) => {
                            let view = parse_view(&key, &bytes)?;
                            (Original::Stored(bytes), Some(view))
                        }
                        None => (Original::None, None),
                    }
                }
            };
            self.views.insert(
                id,
                Slot {
                    stood: current.as_ref().map(Stood::of),
                    original,
                    current,
                },
            );
        }
        Ok(self.views.get_mut(&id).and_then(|s| s.current.as_mut()))
    }

    fn org_unit(&mut self, code: &str) -> Result<Option<&mut OrgUnitView>, ProjectionError> {
        if !self.org_units.contains_key(code) {
            let key = keys::org_unit(code);
            if let Some(bytes) = self.tree.get(&key)? {
                self.org_units.insert(code.to_owned(), parse(&key, &bytes)?);
            }
        }
        Ok(self.org_units.get_mut(code))
    }

    fn apply(&mut self, recorded: &RecordedEvent, event: &Event) -> Result<(), ProjectionError> {
        let stamp = Stamp::of(recorded);
        let mut org_unit: Option<OrgUnitCode> = None;
        match event {
            Event::OrgUnitRegistered(e) => {
                org_unit = Some(e.unit.code.clone());
                self.org_units.insert(
                    e.unit.code.as_str().to_owned(),
                    OrgUnitView {
                        unit: e.unit.clone(),
                        successors: Vec::new(),
                        ceased_on: None,
                        former_names: Vec::new(),
                        former_parents: Vec::new(),
                    },
                );
            }
            Event::OrgUnitSucceeded(e) => {
                org_unit = Some(e.unit.clone());
                if let Some(unit) = self.org_unit(e.unit.as_str())? {
                    unit.successors = e.successors.clone();
                    unit.ceased_on = Some(e.effective);
                }
            }
            Event::OrgUnitMoved(e) => {
                org_unit = Some(e.unit.clone());
                if let Some(unit) = self.org_unit(e.unit.as_str())? {
                    let old = unit.unit.parent.replace(e.parent.clone());
                    unit.former_parents.push((old, e.effective));
                }
            }
            Event::OrgUnitRenamed(e) => {
                org_unit = Some(e.unit.clone());
                if let Some(unit) = self.org_unit(e.unit.as_str())? {
                    let old = std::mem::replace(&mut unit.unit.name, e.name.clone());
                    unit.former_names.push((old, e.effective));
                }
            }
            Event::DocumentRegistered(e) => {
                org_unit = e.document.org_unit.clone();
                self.batch
                    .insert(keys::document(e.document.id.0), json(&e.document));
            }
            Event::IndicatorDefined(e) => {
                let d = &e.definition;
                org_unit = Some(d.org_unit.clone());
                let mut view = IndicatorView::defined(d.clone(), stamp);
                if let Some(previous) = d.previous {
                    view.previous_figure = self.view(previous)?.and_then(|p| p.current_figure());
                    self.new_links.push((previous, d.id));
                    self.batch
                        .insert(keys::next_period(previous, d.id), &[][..]);
                }
                let slot = self.views.entry(d.id).or_insert(Slot {
                    stood: None,
                    original: Original::None,
                    current: None,
                });
                slot.current = Some(view);
            }
            Event::IndicatorPreviousLinked(e) => {
                let figure = self.view(e.previous)?.and_then(|p| p.current_figure());
                if let Some(view) = self.view(e.indicator)? {
                    org_unit = Some(view.definition.org_unit.clone());
                    let old = view.definition.previous;
                    view.apply(event, stamp);
                    view.previous_figure = figure;
                    if let Some(old) = old {
                        self.batch.remove(keys::next_period(old, e.indicator));
                        self.new_links.retain(|link| *link != (old, e.indicator));
                        self.removed_links.push((old, e.indicator));
                    }
                    self.removed_links
                        .retain(|link| *link != (e.previous, e.indicator));
                    self.new_links.push((e.previous, e.indicator));
                    self.batch
                        .insert(keys::next_period(e.previous, e.indicator), &[][..]);
                }
            }
            Event::PeriodSubmitted(e) => org_unit = Some(e.unit.clone()),
            Event::PeriodApproved(e) => {
                org_unit = Some(e.unit.clone());
                self.batch
                    .insert(keys::approval(e.approval.0), e.unit.as_str().as_bytes());
            }
            Event::PeriodLocked(e) => org_unit = Some(e.unit.clone()),
            Event::PeriodUnlocked(e) => org_unit = Some(e.unit.clone()),
            other => {
                if let Some(id) = other.indicator() {
                    let log = self.log;
                    if let Some(view) = self.view(id)? {
                        org_unit = Some(view.definition.org_unit.clone());
                        let before = view.current_figure();
                        view.apply(other, stamp);
                        if view.needs_refold {
                            let previous_figure = view.previous_figure;
                            let stream = log.read_stream(
                                &chitieu_domain::StreamId::indicator(id).into(),
                                1,
                                usize::MAX,
                            )?;
                            let events = decode_all(&stream)?;
                            let paired: Vec<_> = stream.into_iter().zip(events).collect();
                            if let Some(mut fresh) =
                                crate::view::fold(&paired, Some(recorded.position))
                            {
                                fresh.previous_figure = previous_figure;
                                *view = fresh;
                            }
                        }
                        if view.current_figure() != before {
                            self.figure_changed.insert(id);
                        }
                    }
                }
            }
        }
        let bucket = recorded.position / keys::AUDIT_BUCKET;
        let org = org_unit.as_ref().map(|o| o.as_str());
        let by_actor = self
            .audit
            .entry(keys::audit_by_actor(&recorded.actor.id, bucket))
            .or_default();
        crate::audit::push_posting(by_actor, recorded.position, org);
        if let Some(org) = org {
            let by_org = self
                .audit
                .entry(keys::audit_by_org(org, bucket))
                .or_default();
            crate::audit::push_posting(by_org, recorded.position, Some(org));
        }
        Ok(())
    }

    /// Carries changed figures to the next period's indicators.
    fn propagate(&mut self) -> Result<(), ProjectionError> {
        let changed = std::mem::take(&mut self.figure_changed);
        for previous in changed {
            let figure = self.view(previous)?.and_then(|v| v.current_figure());
            let mut next: BTreeSet<IndicatorId> = self
                .new_links
                .iter()
                .filter(|(p, _)| *p == previous)
                .map(|(_, n)| *n)
                .collect();
            for entry in self.tree.scan_prefix(keys::next_period_prefix(previous)) {
                let (key, _) = entry?;
                if let Some(id) = keys::trailing_id(&key) {
                    if !self.removed_links.contains(&(previous, id)) {
                        next.insert(id);
                    }
                }
            }
            for id in next {
                if let Some(view) = self.view(id)? {
                    view.previous_figure = figure;
                }
            }
        }
        Ok(())
    }

    /// Writes the chunk; returns the views it changed.
    fn finish(mut self, checkpoint: u64) -> Result<Vec<IndicatorView>, ProjectionError> {
        self.propagate()?;
        let mut changed = Vec::new();
        // Each changed view leaves the count cells it stood in (as it was)
        // and joins those it stands in now: its org unit and period's
        // summary, and the cell of its category under them. The steps are
        // netted per cell first, so a view that stays where it stood (most
        // reports) reads and rewrites no summary at all.
        let mut steps: BTreeMap<Vec<u8>, Vec<(crate::model::Standing, i64)>> = BTreeMap::new();
        for (id, slot) in std::mem::take(&mut self.views) {
            let Some(current) = slot.current else {
                continue;
            };
            let bytes = match &slot.original {
                Original::Shared(original) if **original == current => continue,
                Original::Stored(stored) => {
                    let bytes = view_bytes(&current);
                    if stored.as_ref() == bytes.as_slice() {
                        continue;
                    }
                    bytes
                }
                _ => view_bytes(&current),
            };
            // The index keys and the count cells are functions of the
            // definition and the standing alone (the settled status is the
            // standing's): unchanged (most reports), none moves and no
            // count changes.
            let settled = current.settled_status();
            let standing = current.standing_as(settled);
            let stood = slot.stood.as_ref();
            let same_place = stood.is_some_and(|stood| {
                stood.standing == standing && stood.definition == current.definition
            });
            if !same_place {
                let old_keys = stood
                    .map(|s| index_keys(&s.definition, s.settled))
                    .unwrap_or_default();
                let new_keys = index_keys(&current.definition, settled);
                for key in old_keys.difference(&new_keys) {
                    self.batch.remove(key.clone());
                }
                for key in new_keys.difference(&old_keys) {
                    self.batch.insert(key.clone(), &[][..]);
                }
                let places = [
                    (stood.map(|s| (&s.definition, s.standing)), -1),
                    (Some((&current.definition, standing)), 1),
                ];
                for (place, step) in places {
                    let Some((definition, standing)) = place else {
                        continue;
                    };
                    for key in count_keys(definition) {
                        let cell = steps.entry(key).or_default();
                        match cell.iter_mut().find(|(s, _)| *s == standing) {
                            Some((_, n)) => *n += step,
                            None => cell.push((standing, step)),
                        }
                    }
                }
            }
            self.batch.insert(keys::indicator(id), bytes);
            changed.push(current);
        }
        for (key, cell) in steps {
            if cell.iter().all(|(_, n)| *n == 0) {
                continue;
            }
            let mut summary: Summary = match self.tree.get(&key)? {
                Some(bytes) => parse(&key, &bytes)?,
                None => Summary::default(),
            };
            for (standing, n) in cell {
                let slot = summary.slot(standing);
                *slot = match u64::try_from(n) {
                    Ok(up) => *slot + up,
                    Err(_) => slot.saturating_sub(n.unsigned_abs()),
                };
            }
            self.batch.insert(key, json(&summary));
        }
        for (key, postings) in std::mem::take(&mut self.audit) {
            // Positions only grow, so new postings go after the stored ones.
            let mut value = self.tree.get(&key)?.map(|v| v.to_vec()).unwrap_or_default();
            value.extend_from_slice(&postings);
            self.batch.insert(key, value);
        }
        for (code, unit) in &self.org_units {
            self.batch.insert(keys::org_unit(code), json(unit));
        }
        self.batch
            .insert(keys::CHECKPOINT, &checkpoint.to_be_bytes());
        self.tree.apply_batch(self.batch)?;
        Ok(changed)
    }
}

/// Follows the log and keeps the read models; see the module docs.
pub struct Projector {
    log: Log,
    db: sled::Db,
    /// The read-model tree: replaced by a new, empty one on a rebuild
    /// (dropping a tree frees its pages; clearing it removed every key,
    /// one by one).
    tree: std::sync::RwLock<sled::Tree>,
    position: watch::Sender<u64>,
    /// Serialises chunk application between the follower and `rebuild`.
    apply_lock: Mutex<()>,
    stop: AtomicBool,
    /// Decoded views, kept fresh by the projector itself.
    pub(crate) views: ViewCache,
    /// The views as this projector last wrote them, decoded: the next
    /// chunk starts from these instead of parsing them back out of sled
    /// (a third of the live projector's time under write load). Written
    /// only under `apply_lock`, by the projector, so never behind what it
    /// stored; readers never touch it. Bounded like the view cache.
    written: Mutex<HashMap<IndicatorId, Arc<IndicatorView>>>,
    /// Most history entries a [`crate::ReadModel`] keeps decoded.
    pub(crate) history_entries: std::sync::atomic::AtomicUsize,
    chunk: std::sync::atomic::AtomicUsize,
    /// Why the live follower stopped, if it stopped on an error.
    failure: Mutex<Option<String>>,
    /// The write side's snapshots of figures, in a tree of this database.
    snapshots: crate::snapshots::FigureSnapshots,
    /// The directory of a database written without waiting for the disk,
    /// marked so (see [`crate::unsynced`]); `None` for one that waits, or
    /// a temporary one.
    unsynced: Option<std::path::PathBuf>,
    /// Set by [`Projector::close`]: no chunk is applied after it.
    closed: AtomicBool,
}

impl Projector {
    /// Opens the read models in their own sled database in `dir`, following
    /// `log`. A tree of another [`READ_MODEL_VERSION`] is dropped, to be
    /// rebuilt by [`Projector::catch_up`]; so are read models ahead of the
    /// log (a log replaced under them).
    pub fn open(log: &Log, dir: &std::path::Path) -> Result<Arc<Self>, ProjectionError> {
        Self::open_with_cache(log, dir, CACHE_BYTES)
    }

    /// [`Projector::open`] with a page cache of `cache_bytes` (the
    /// server's `memory.read_model_cache_mib`).
    pub fn open_with_cache(
        log: &Log,
        dir: &std::path::Path,
        cache_bytes: u64,
    ) -> Result<Arc<Self>, ProjectionError> {
        Self::open_with_memory(
            log,
            dir,
            cache_bytes,
            VIEW_CACHE_ENTRIES,
            HISTORY_CACHE_ENTRIES,
        )
    }

    /// [`Projector::open`] with a page cache of `cache_bytes`, at most
    /// `views` decoded indicator views kept in memory, and at most
    /// `histories` history entries (all histories told) kept decoded by
    /// its readers (the server's `memory.read_model_cache_mib`,
    /// `memory.view_cache_entries` and `memory.history_cache_entries`).
    pub fn open_with_memory(
        log: &Log,
        dir: &std::path::Path,
        cache_bytes: u64,
        views: usize,
        histories: usize,
    ) -> Result<Arc<Self>, ProjectionError> {
        let boot = crate::unsynced::boot_id();
        if let Some(left) = boot
            .as_deref()
            .and_then(|boot| crate::unsynced::lost_writes(dir, boot))
        {
            // Thrown away unopened: what sled finds may not even be a
            // prefix of what it wrote.
            tracing::warn!(dir = %dir.display(), left_by = %left, "the machine stopped while these read models were being written; rebuilding them from the log");
            discard(dir)?;
        }
        // The marker is on the disk before the first write that does not
        // wait for it.
        let open = || -> Result<sled::Db, ProjectionError> {
            if let Some(boot) = &boot {
                crate::unsynced::mark(dir, boot).map_err(files("mark", dir))?;
            }
            Ok(sled::Config::new()
                .path(dir)
                .cache_capacity(cache_bytes)
                .sync_buffers(boot.is_none())
                .open()?)
        };
        let mut db = open()?;
        if Self::must_rebuild(log, &db)? {
            // The whole database goes, not its trees one by one: sled drops a
            // tree by reading every page of it, and at 100,000 indicators
            // that held 1.5 GiB at once (BENCHMARKS.md, "Read models of
            // another shape thrown away whole"). Nothing in it is kept: the
            // read models are rebuilt from the log, the figure snapshots
            // are a cache written again as figures are let go.
            tracing::info!(dir = %dir.display(), "read models must be rebuilt; starting from an empty database");
            drop(db);
            discard(dir)?;
            db = open()?;
        }
        let projector = Self::open_in(log, db, boot.map(|_| dir.to_owned()))?;
        projector.views.limit.store(views.max(1), Ordering::Relaxed);
        projector
            .history_entries
            .store(histories.max(1), Ordering::Relaxed);
        Ok(projector)
    }

    /// Opens the read models in a temporary database (tests, benchmarks).
    pub fn open_temporary(log: &Log) -> Result<Arc<Self>, ProjectionError> {
        Self::open_in(log, sled::Config::new().temporary(true).open()?, None)
    }

    fn open_in(
        log: &Log,
        db: sled::Db,
        unsynced: Option<std::path::PathBuf>,
    ) -> Result<Arc<Self>, ProjectionError> {
        let mut tree = db.open_tree(PROJECTION_TREE)?;
        let version = tree
            .get(keys::VERSION)?
            .and_then(|v| v.as_ref().try_into().ok())
            .map(u32::from_be_bytes);
        if version != Some(READ_MODEL_VERSION) {
            // A brand-new store has no read models yet: nothing to say.
            if version.is_some() || !tree.is_empty() {
                tracing::info!(found = ?version, wanted = READ_MODEL_VERSION, "read models are of another shape; rebuilding from the log");
            }
            tree = Self::reset(&db, &tree)?;
            db.drop_tree(VERIFICATION_TREE)?;
        }
        let mut checkpoint = read_checkpoint(&tree)?;
        if checkpoint > log.head().position {
            tracing::warn!(
                checkpoint,
                head = log.head().position,
                "read models are ahead of the log; rebuilding"
            );
            tree = Self::reset(&db, &tree)?;
            db.drop_tree(VERIFICATION_TREE)?;
            // Checked before use anyway; a log replaced makes them all stale.
            db.drop_tree(crate::snapshots::SNAPSHOT_TREE)?;
            checkpoint = 0;
        }
        let snapshots =
            crate::snapshots::FigureSnapshots::new(db.open_tree(crate::snapshots::SNAPSHOT_TREE)?);
        let (position, _) = watch::channel(checkpoint);
        Ok(Arc::new(Projector {
            log: log.clone(),
            db,
            tree: std::sync::RwLock::new(tree),
            position,
            apply_lock: Mutex::new(()),
            stop: AtomicBool::new(false),
            history_entries: HISTORY_CACHE_ENTRIES.into(),
            chunk: CATCH_UP_CHUNK.into(),
            views: ViewCache::default(),
            written: Mutex::default(),
            failure: Mutex::new(None),
            snapshots,
            unsynced,
            closed: AtomicBool::new(false),
        }))
    }

    /// Whether the read models in `db` cannot be followed on from: of
    /// another [`READ_MODEL_VERSION`], or ahead of the log (a log replaced
    /// or restored from an older backup). A database with no read models
    /// yet needs no rebuild.
    fn must_rebuild(log: &Log, db: &sled::Db) -> Result<bool, ProjectionError> {
        if !db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == PROJECTION_TREE.as_bytes())
        {
            return Ok(false);
        }
        let tree = db.open_tree(PROJECTION_TREE)?;
        if tree.is_empty() {
            return Ok(false);
        }
        let version = tree
            .get(keys::VERSION)?
            .and_then(|v| v.as_ref().try_into().ok())
            .map(u32::from_be_bytes);
        Ok(version != Some(READ_MODEL_VERSION) || read_checkpoint(&tree)? > log.head().position)
    }

    /// Drops the read-model tree `tree` of `db` and returns a new, empty
    /// one at checkpoint 0.
    fn reset(db: &sled::Db, tree: &sled::Tree) -> Result<sled::Tree, ProjectionError> {
        // Dropping is not atomic: remove the version first, so that a crash
        // anywhere in the middle leaves a tree that the next open resets
        // again (sled recovers a prefix of its operations).
        tree.remove(keys::VERSION)?;
        db.drop_tree(PROJECTION_TREE)?;
        let tree = db.open_tree(PROJECTION_TREE)?;
        let mut batch = sled::Batch::default();
        batch.insert(keys::VERSION, &READ_MODEL_VERSION.to_be_bytes());
        batch.insert(keys::CHECKPOINT, &0u64.to_be_bytes());
        tree.apply_batch(batch)?;
        Ok(tree)
    }

    /// Sets how many events a catch-up or rebuild applies per atomic chunk
    /// (default 2,000). Smaller chunks use less memory and checkpoint more
    /// often.
    pub fn set_chunk_size(&self, events: usize) {
        self.chunk.store(events.max(1), Ordering::Relaxed);
    }

    /// The read-model tree (a handle: cheap to clone).
    pub(crate) fn tree(&self) -> sled::Tree {
        self.tree
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The log the projector follows.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Bytes the read models occupy on disk.
    pub fn size_on_disk(&self) -> Result<u64, ProjectionError> {
        Ok(self.db.size_on_disk()?)
    }

    /// Writes the read models to disk (they are rebuilt from the log
    /// anyway; this only shortens the next start's catch-up): sled's
    /// buffers, then, for a database that does not wait for the disk, its
    /// files.
    pub fn flush(&self) -> Result<(), ProjectionError> {
        self.db.flush()?;
        if let Some(dir) = &self.unsynced {
            crate::unsynced::sync_all(dir).map_err(files("write out", dir))?;
        }
        Ok(())
    }

    /// Writes the read models to disk and removes the mark of writes not
    /// yet on it, so that a start after the machine's next boot keeps them
    /// (see [`crate::unsynced`]). For when nothing writes any more (the
    /// follower stopped, a rebuild or check done): no chunk is applied
    /// after it ([`ProjectionError::Stopped`]).
    pub fn close(&self) -> Result<(), ProjectionError> {
        self.closed.store(true, Ordering::SeqCst);
        // A chunk under way finishes first.
        drop(
            self.apply_lock
                .lock()
                .map_err(|_| ProjectionError::Stopped)?,
        );
        self.flush()?;
        if let Some(dir) = &self.unsynced {
            crate::unsynced::clear(dir).map_err(files("unmark", dir))?;
        }
        Ok(())
    }

    /// The last log position reflected in the read models.
    pub fn position(&self) -> u64 {
        *self.position.borrow()
    }

    /// Waits until the read models reflect `position` (read-your-writes).
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> Result<(), ProjectionError> {
        // Already there (most reads, and a write whose chunk was applied
        // before it asked): no subscription, no timer.
        if self.position() >= position {
            return Ok(());
        }
        let mut rx = self.position.subscribe();
        let reached = tokio::time::timeout(timeout, async {
            rx.wait_for(|p| *p >= position).await.map(|_| ())
        })
        .await;
        match reached {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(ProjectionError::Stopped),
            Err(_) => Err(ProjectionError::Timeout {
                wanted: position,
                at: self.position(),
            }),
        }
    }

    fn apply_events(&self, events: &[RecordedEvent]) -> Result<(), ProjectionError> {
        let decoded = decode_all(events)?;
        self.apply_decoded(events, &decoded)
    }

    /// Applies events already decoded (`decoded[i]` is `events[i]`'s) as
    /// one chunk.
    fn apply_decoded(
        &self,
        events: &[RecordedEvent],
        decoded: &[Event],
    ) -> Result<(), ProjectionError> {
        let Some(last) = events.last() else {
            return Ok(());
        };
        if self.closed.load(Ordering::SeqCst) {
            return Err(ProjectionError::Stopped);
        }
        let mut written = self.written.lock().map_err(|_| ProjectionError::Stopped)?;
        let applied = {
            let tree = self.tree();
            let mut chunk = Chunk::new(&tree, &self.log, &written);
            events
                .iter()
                .zip(decoded)
                .try_for_each(|(recorded, event)| chunk.apply(recorded, event))
                .and_then(|()| chunk.finish(last.position))
        };
        let changed = match applied {
            Ok(changed) => changed,
            Err(error) => {
                // Whatever sled holds now, start from it next time.
                written.clear();
                return Err(error);
            }
        };
        let changed: Vec<Arc<IndicatorView>> = changed.into_iter().map(Arc::new).collect();
        keep_bounded(&mut written, &changed, self.views.limit(), last.position);
        drop(written);
        self.views.refresh(changed, last.position);
        self.position.send_replace(last.position);
        Ok(())
    }

    /// Applies every durable event after the checkpoint, in big chunks:
    /// the next chunk is read and decoded on a thread of its own while
    /// this one applies the current one ([`read_in_stages`]). Returns the
    /// new position.
    pub fn catch_up(&self) -> Result<u64, ProjectionError> {
        let _guard = self
            .apply_lock
            .lock()
            .map_err(|_| ProjectionError::Stopped)?;
        let start = read_checkpoint(&self.tree())? + 1;
        let mut stopped = false;
        let at = read_in_stages(
            &self.log,
            start,
            self.chunk.load(Ordering::Relaxed),
            decode_all,
            |events, decoded| {
                self.apply_decoded(&events, &decoded)?;
                stopped = self.stop.load(Ordering::Relaxed);
                Ok(!stopped)
            },
        )?;
        if stopped {
            return Ok(self.position());
        }
        self.position.send_replace(at);
        Ok(at)
    }

    /// Drops every read model and replays the log from the start.
    pub fn rebuild(&self) -> Result<u64, ProjectionError> {
        {
            let _guard = self
                .apply_lock
                .lock()
                .map_err(|_| ProjectionError::Stopped)?;
            let fresh = Self::reset(&self.db, &self.tree())?;
            *self
                .tree
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
            self.views.clear();
            if let Ok(mut written) = self.written.lock() {
                written.clear();
            }
            self.position.send_replace(0);
        }
        self.catch_up()
    }

    /// Follows the log live on a thread of its own until [`Projector::stop`]
    /// or the store closes.
    pub fn spawn_follower(
        self: &Arc<Self>,
    ) -> std::thread::JoinHandle<Result<(), ProjectionError>> {
        let projector = self.clone();
        std::thread::Builder::new()
            .name("chitieu-projector".into())
            .spawn(move || {
                let outcome = projector.follow();
                if let Err(error) = &outcome {
                    if let Ok(mut failure) = projector.failure.lock() {
                        *failure = Some(error.to_string());
                    }
                }
                outcome
            })
            .unwrap_or_else(|e| std::thread::spawn(move || Err(ProjectionError::Start(e))))
    }

    fn follow(&self) -> Result<(), ProjectionError> {
        self.catch_up()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(ProjectionError::Start)?;
        let mut subscription = Subscription::new(self.log.clone(), self.position() + 1);
        while !self.stop.load(Ordering::Relaxed) {
            let next = runtime.block_on(async {
                tokio::time::timeout(Duration::from_millis(200), subscription.next_batch(4096))
                    .await
            });
            let events = match next {
                Err(_) => continue, // look at the stop flag now and then
                Ok(Err(StoreError::Closed)) => return Ok(()),
                Ok(Err(e)) => return Err(e.into()),
                Ok(Ok(events)) => events,
            };
            let _guard = self
                .apply_lock
                .lock()
                .map_err(|_| ProjectionError::Stopped)?;
            if let Err(error) = self.apply_events(&events) {
                tracing::error!(%error, "projector stopped");
                return Err(error);
            }
        }
        Ok(())
    }

    /// The last ledger checkpoint a verification found good (position and
    /// hash), kept beside the read models but outside them (the read-model
    /// digest does not cover it), and dropped with them.
    pub fn verified_checkpoint(&self) -> Result<Option<(u64, [u8; 32])>, ProjectionError> {
        let tree = self.db.open_tree(VERIFICATION_TREE)?;
        Ok(tree.get(b"checkpoint")?.and_then(|v| {
            let position = u64::from_be_bytes(v.get(..8)?.try_into().ok()?);
            let hash: [u8; 32] = v.get(8..40)?.try_into().ok()?;
            Some((position, hash))
        }))
    }

    /// Records a ledger checkpoint a verification found good.
    pub fn set_verified_checkpoint(
        &self,
        position: u64,
        hash: [u8; 32],
    ) -> Result<(), ProjectionError> {
        let tree = self.db.open_tree(VERIFICATION_TREE)?;
        let mut value = position.to_be_bytes().to_vec();
        value.extend_from_slice(&hash);
        tree.insert(b"checkpoint", value)?;
        Ok(())
    }

    /// Why the live follower stopped on an error (a storage fault, an
    /// event that does not decode), if it did: the node is then not ready.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    /// Asks the follower to stop; it does within 200 ms.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// The write side's snapshots of indicators' figures, kept in this
    /// database (outside the read models and their digest).
    pub fn figure_snapshots(&self) -> crate::snapshots::FigureSnapshots {
        self.snapshots.clone()
    }

    /// SHA-256 over every key and value of the read models: two projectors
    /// that agree byte for byte have the same digest.
    pub fn digest(&self) -> Result<[u8; 32], ProjectionError> {
        let mut hasher = Sha256::new();
        for entry in self.tree().iter() {
            let (key, value) = entry?;
            hasher.update((key.len() as u64).to_be_bytes());
            hasher.update(&key);
            hasher.update((value.len() as u64).to_be_bytes());
            hasher.update(&value);
        }
        Ok(hasher.finalize().into())
    }
}

/// Decodes payloads, on two threads when there are many (decoding JSON is
/// most of a rebuild's work; applying stays sequential).
fn decode_all(events: &[RecordedEvent]) -> Result<Vec<Event>, ProjectionError> {
    let decode = |part: &[RecordedEvent]| -> Result<Vec<Event>, ProjectionError> {
        part.iter()
            .map(|r| {
                r.decode().map_err(|e| ProjectionError::Undecodable {
                    position: r.position,
                    reason: e.to_string(),
                })
            })
            .collect()
    };
    if events.len() < 2048 {
        return decode(events);
    }
    let (first, second) = events.split_at(events.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| decode(second));
        let mut out = decode(first)?;
        out.extend(other.join().map_err(|_| ProjectionError::Stopped)??);
        Ok(out)
    })
}

/// Most views kept decoded in memory by default; past it a quarter of
/// them go. At 100,000 indicators read at random, 20,000 held 180 MiB less than
/// 200,000 (every view) at the same read and write rates: a view decodes
/// from the read models fast enough (BENCHMARKS.md). 10,000 holds every
/// view of a store of 10,000 indicators, where 5,000 read 10 % slower; at
/// 100,000, 2,000 read and write at the same rates in 20–30 MiB less (the
/// setting deploy/README.md gives for big stores).
pub const VIEW_CACHE_ENTRIES: usize = 10_000;

/// Most history entries kept decoded by a reader by default, all
/// histories told (about 250 bytes each with a history's texts shared,
/// as measured in BENCHMARKS.md: some 60 MiB when full); past it a quarter
/// of it is let go, picked at random. It pays where it holds every
/// history: the peer bench's store of 10,000 indicators of twenty-odd
/// events and the demo's seeds needs 210,000–230,000, and at 200,000 (the
/// default before) reads of random indicators missed often enough to run
/// 30 % slower than with every history held (BENCHMARKS.md, "A history
/// cache that holds the bench's store"). At 100,000 indicators read at
/// random it buys little, and `memory.history_cache_entries = 20000` is
/// the setting there (BENCHMARKS.md, "sled's page cache held to its
/// capacity").
pub const HISTORY_CACHE_ENTRIES: usize = 250_000;

/// Decoded indicator views, so hot reads skip JSON. The projector puts every
/// view a chunk changes (before publishing its position); a reader may add
/// a view it read only if no chunk was applied meanwhile and the cache holds
/// no newer version, so a stale view never replaces a fresh one.
pub(crate) struct ViewCache {
    views: Mutex<HashMap<IndicatorId, Arc<IndicatorView>>>,
    limit: std::sync::atomic::AtomicUsize,
    /// The position of the last chunk put: which quarter goes when a
    /// reader's view needs room ([`make_room`]).
    salt: std::sync::atomic::AtomicU64,
}

impl Default for ViewCache {
    fn default() -> Self {
        ViewCache {
            views: Mutex::default(),
            limit: VIEW_CACHE_ENTRIES.into(),
            salt: 0.into(),
        }
    }
}

impl ViewCache {
    /// A shared view: readers get the same allocation, not a deep copy.
    pub(crate) fn get(&self, id: IndicatorId) -> Option<Arc<IndicatorView>> {
        self.views.lock().ok()?.get(&id).cloned()
    }

    /// The version of a cached view, without copying it.
    pub(crate) fn version(&self, id: IndicatorId) -> Option<u64> {
        self.views.lock().ok()?.get(&id).map(|v| v.version)
    }

    fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Puts the views a chunk ending at `position` changed.
    fn refresh(&self, changed: Vec<Arc<IndicatorView>>, position: u64) {
        let limit = self.limit();
        self.salt.store(position, Ordering::Relaxed);
        if let Ok(mut views) = self.views.lock() {
            keep_bounded(&mut views, &changed, limit, position);
        }
    }

    pub(crate) fn offer(&self, view: &Arc<IndicatorView>) {
        let limit = self.limit();
        let salt = self.salt.load(Ordering::Relaxed);
        if let Ok(mut views) = self.views.lock() {
            make_room(&mut views, 1, limit, salt);
            let newer = views
                .get(&view.definition.id)
                .is_some_and(|v| v.version >= view.version);
            if !newer {
                views.insert(view.definition.id, view.clone());
            }
        }
    }

    fn clear(&self) {
        if let Ok(mut views) = self.views.lock() {
            views.clear();
        }
    }
}

/// Adds the views a chunk changed to a map of decoded views, making room
/// first when they would take it past `limit` (the one bound of the view
/// cache and of the projector's own map).
fn keep_bounded(
    map: &mut HashMap<IndicatorId, Arc<IndicatorView>>,
    changed: &[Arc<IndicatorView>],
    limit: usize,
    salt: u64,
) {
    make_room(map, changed.len(), limit, salt);
    for view in changed {
        map.insert(view.definition.id, view.clone());
    }
}

/// Makes room for `incoming` more views in a map bounded by `limit`: a
/// quarter of what it holds goes, or all of it when that is not enough.
/// Emptying it all at once made writes that go through a few more
/// indicators than the limit, each in turn, find none of their views; this
/// way three in four stay. Which quarter is a function of the ids and
/// `salt` alone (unrelated to use), not of the map's own order: the
/// projector's map and the readers' cache, given the same views and the
/// same salt (the chunk's position), let the same ones go, so together
/// they hold `limit` views, not up to twice as many (in the map's order,
/// each with its own random hasher, a simulation of the two held some
/// 40 % more than the limit under writes through more indicators).
fn make_room<V>(map: &mut HashMap<IndicatorId, V>, incoming: usize, limit: usize, salt: u64) {
    if map.len() + incoming <= limit {
        return;
    }
    map.retain(|id, _| quarter(id, salt) != 0);
    if map.len() + incoming > limit {
        map.clear();
    }
}

/// Which quarter (0–3) `id` falls in for `salt`: its bits and the salt's
/// mixed (SplitMix64's finaliser), so any salt splits any set of ids, even
/// consecutive ones, into four even parts.
fn quarter(id: &IndicatorId, salt: u64) -> u64 {
    let bits = id.0.as_u128();
    let mut x = (bits as u64) ^ ((bits >> 64) as u64) ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (x ^ (x >> 31)) >> 62
}

fn read_checkpoint(tree: &sled::Tree) -> Result<u64, ProjectionError> {
    Ok(tree
        .get(keys::CHECKPOINT)?
        .and_then(|v| v.as_ref().try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> IndicatorId {
        IndicatorId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn a_full_map_lets_a_quarter_go_and_never_passes_its_limit() {
        // Consecutive ids, any salt: about a quarter goes.
        for salt in 0..64 {
            let mut map: HashMap<IndicatorId, u32> = (0..1000).map(|n| (id(n), 0)).collect();
            make_room(&mut map, 1, 1000, salt);
            assert!((700..=800).contains(&map.len()), "{} kept", map.len());
        }
        let mut map: HashMap<IndicatorId, u32> = (0..100).map(|n| (id(n), 0)).collect();
        make_room(&mut map, 80, 100, 7);
        assert!(map.is_empty(), "room for 80 more is room for all");
        let mut map: HashMap<IndicatorId, u32> = HashMap::new();
        for n in 0..10_000 {
            make_room(&mut map, 1, 100, n as u64);
            map.insert(id(n), 0);
            assert!(map.len() <= 100);
        }
    }

    #[test]
    fn two_maps_given_the_same_views_let_the_same_ones_go() {
        // The projector's own map and the readers' cache, each with its
        // own random hasher (so its own order): given the same views and
        // salts, they hold the same ones, so no view is held by one alone.
        let mut projector: HashMap<IndicatorId, u32> = HashMap::new();
        let mut readers: HashMap<IndicatorId, u32> = HashMap::new();
        for n in 0..10_000u128 {
            let salt = n as u64 * 3;
            for map in [&mut projector, &mut readers] {
                make_room(map, 1, 100, salt);
                map.insert(id(n * 7919 % 5000), 0);
            }
            assert_eq!(projector.len(), readers.len());
        }
        let mut a: Vec<_> = projector.keys().collect();
        let mut b: Vec<_> = readers.keys().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn writes_in_turn_through_a_few_more_than_the_limit_find_most_views() {
        // 102 indicators written in turn, a map of 100: starting over
        // found none of them; letting a quarter go finds most.
        let mut map: HashMap<IndicatorId, u32> = HashMap::new();
        let mut found = 0;
        for round in 0..50 {
            for n in 0..102 {
                if map.contains_key(&id(n)) {
                    found += usize::from(round > 0);
                } else {
                    make_room(&mut map, 1, 100, (round * 102 + n) as u64);
                    map.insert(id(n), 0);
                }
            }
        }
        // (~73 % here; emptying the map found 0.)
        assert!(found > 49 * 102 * 2 / 3, "found {found}");
    }
}
