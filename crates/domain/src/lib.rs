//! The pure domain of chitieu: targets (chỉ tiêu) set in resolutions, the
//! results reported against them, and the rules that govern both.
//!
//! This crate does no I/O, spawns nothing and knows nothing of storage or
//! GraphQL. Everything here is a value type, a command, an event, or a pure
//! function over them:
//!
//! - [`decide`] takes the current [`DomainState`] and a [`Command`] and returns
//!   the events it causes, or a [`DomainError`]. Every business rule lives there.
//! - [`evolve`] folds an [`Event`] into the state. It holds no rules: an event
//!   is a fact that already happened.
//! - [`achievement::achievement`] reproduces the documents' own arithmetic
//!   ("2.413/2.000 → 120,65%").
//! - [`event::EventCodec`] is the stable stored form of events, with
//!   upcasters for older schema versions.

pub mod access;
pub mod achievement;
pub mod actual;
pub mod approval;
pub mod command;
pub mod decide;
pub mod direction;
pub mod document;
pub mod error;
pub mod event;
pub mod findings;
pub mod indicator;
pub mod number;
pub mod org_unit;
pub mod period;
pub mod principal;
pub mod small_map;
pub mod state;
pub mod target;
pub mod target_text;
pub mod text;
pub mod vi;

pub use access::{Authenticated, Reach};
pub use achievement::{achievement, Achievement, AchievementStatus};
pub use actual::{ActualReport, ReportId, ResultStatus, ResultValue, StatedFigures};
pub use command::Command;
pub use decide::{decide, evolve, evolve_at, read_streams};
pub use document::{Document, DocumentId, DocumentKind, DocumentNumber};
pub use error::DomainError;
pub use event::{Event, EventCodec, StreamId};
pub use indicator::{Category, IndicatorCode, IndicatorDefinition, IndicatorId, Measure, Period};
pub use org_unit::{OrgUnit, OrgUnitCode, OrgUnitLevel};
pub use period::{ApprovalId, IndicatorDigest, PeriodStatus, ReportingPeriod};
pub use principal::{AccessError, Grant, Permission, PrincipalId, Role, TokenId};
pub use state::{DomainState, Figures, IndicatorState, TargetState, UnitPeriods};
pub use target::{Direction, Reduction, Target, TargetKind, TargetTrack};
pub use text::{search_key, Reason, Text};
