//! The read side of chitieu: read models in sled, built from the event log.
//!
//! - [`Projector`] follows the log and keeps the read models, committing
//!   each chunk of events with its checkpoint atomically; it rebuilds from
//!   zero when [`READ_MODEL_VERSION`] changes, and its position can be
//!   awaited for read-your-writes.
//! - [`ReadModel`] answers queries: current state, listings by index,
//!   history with before/after values, the audit trail, summaries, and time
//!   travel to any past instant or log position.
//! - [`IndicatorView`] and [`view::fold`] are the one fold that every read
//!   path shares.
//! - [`FigureSnapshots`] keeps the write side's snapshots of indicators'
//!   figures beside the read models (derived data, checked before use).

mod audit;
pub mod findings;
mod history;
mod keys;
pub mod model;
pub mod periods;
mod projector;
mod query;
pub mod report;
pub mod snapshots;
pub mod targets_table;
mod unsynced;
pub mod view;

pub use model::{
    AuditDetail, AuditEntry, Change, ChangeKind, HistoryEntry, HistoryValue, OrgUnitView, Standing,
    Summary,
};
pub use periods::{ApprovalView, PeriodStep, PeriodView};
pub use projector::{
    category_name, status_name, ProjectionError, Projector, HISTORY_CACHE_ENTRIES, PROJECTION_TREE,
    READ_MODEL_VERSION, VIEW_CACHE_ENTRIES,
};
pub use query::{AuditFilter, IndicatorFilter, ReadModel};
pub use snapshots::{FigureSnapshot, FigureSnapshots};
pub use view::{IndicatorView, ReportView, Stamp, TrackView};
