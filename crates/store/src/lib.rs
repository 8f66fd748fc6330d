//! The event store: an append-only, hash-chained, durable log on sled.
//!
//! Guarantees (see `ARCHITECTURE.md`):
//! - **Atomic**: all events of one append are stored, or none.
//! - **Ordered**: every event has a global position, gap-free from 1, and a
//!   version in its stream, gap-free from 1.
//! - **Optimistic concurrency**: an append names the stream version it
//!   expects; a stale one is refused with the current version.
//! - **Idempotent**: an append retried with the same key and payload returns
//!   the first outcome and writes nothing.
//! - **Durable before acknowledged**: an append returns only after sled has
//!   flushed it to disk. Concurrent appends share one flush (group commit).
//! - **Tamper-evident**: each record carries the SHA-256 of its contents and
//!   of the previous record's hash; [`EventStore::verify`] walks the chain.
//! - **Readers see only durable events**: reads and subscriptions stop at the
//!   last flushed position, so nothing downstream can see an event a crash
//!   could still take back.
//!
//! Only this crate knows sled. It does I/O on one dedicated writer thread and
//! on the callers' threads for reads.

mod error;
mod keys;
mod record;
mod store;
mod subscription;
mod writer;

pub use error::{AppendError, StoreError};
pub use record::{Actor, RecordedEvent, RECORD_FORMAT_VERSION};
pub use store::{
    AppendMeta, AppendOutcome, AppendRequest, EventStore, ExpectedVersion, Head, StoreConfig,
    VerifyReport,
};
pub use subscription::Subscription;
