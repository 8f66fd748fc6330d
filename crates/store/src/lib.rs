//! The event log: one interface ([`EventLog`]) and its backends.
//!
//! - [`SledLog`]: embedded, on sled, the default: durable group commit on
//!   one writer thread, tamper-evident, SIGKILL-safe.
//! - [`MemoryLog`]: in memory, for fast tests of the service and the API.
//! - [`PgLog`]: PostgreSQL, shared by several API nodes: one sequencer in
//!   the database (a row lock on the head), each node following the log
//!   into its own local copy.
//!
//! Every backend keeps the same contract (see [`log`] and
//! `ARCHITECTURE.md`), proven by one test suite run against each
//! (`tests/contract.rs`). Only this crate knows sled's log or PostgreSQL;
//! the rest of chitieu holds a [`Log`].
//!
//! Evidence for auditors: [`merkle`] (RFC 9162's tree, proofs and their
//! checks), [`signed`] (the log's Ed25519 key and signed heads), [`proof`]
//! (proof bundles, checked offline), [`Notary`] (the tree of a running log,
//! and the signer).

mod archive;
pub mod backup;
mod copy;
mod error;
mod keys;
pub mod log;
mod memory;
pub mod merkle;
mod notary;
mod postgres;
pub mod proof;
mod recent;
mod record;
mod sequencer;
pub mod signed;
mod sled_log;
mod stream_index;
mod subscription;
mod writer;

pub use copy::{copy_log, CopyProgress};
pub use error::{AppendError, StoreError};
pub use log::{
    iter_all, read_in_stages, AppendMeta, AppendOutcome, AppendRequest, BoxFuture, CommitStats,
    EventLog, ExpectedVersion, Head, IdempotencyEntry, Log, Progress, RawRecord, StreamCondition,
    StreamName, VerifyReport,
};
pub use memory::MemoryLog;
pub use notary::{Notary, NotaryError};
pub use postgres::{PgConfig, PgLog};
pub use record::{Actor, RecordedEvent, RECORD_FORMAT_VERSION};
pub use sled_log::{SledLog, StoreConfig, ARCHIVE_BYTES};
pub use subscription::Subscription;
