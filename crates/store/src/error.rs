//! Typed errors at the store's boundary.

use crate::store::ExpectedVersion;
use chitieu_domain::StreamId;

/// A failure of the storage itself, or a record that does not read back.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled reported an I/O or corruption error.
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    /// A stored record does not decode.
    #[error("record at position {position} is corrupt: {reason}")]
    Corrupt {
        /// Its global position.
        position: u64,
        /// What is wrong.
        reason: String,
    },
    /// The writer thread is gone (the store was closed or it failed).
    #[error("the event store is closed")]
    Closed,
}

/// Why an append was refused. Nothing was written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The stream is not at the expected version.
    #[error("stream {stream} is at version {current}, expected {expected:?}")]
    Conflict {
        /// The stream.
        stream: StreamId,
        /// What the caller expected.
        expected: ExpectedVersion,
        /// Where the stream actually is.
        current: u64,
    },
    /// The idempotency key was used before for a different append.
    #[error("idempotency key `{key}` was already used for a different request")]
    IdempotencyKeyReused {
        /// The key.
        key: String,
    },
    /// The request is malformed (no events, bad stream id, too large).
    #[error("invalid append: {0}")]
    Invalid(String),
    /// The storage failed; the append did not happen.
    #[error(transparent)]
    Store(#[from] StoreError),
}
