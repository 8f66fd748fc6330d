//! Typed errors at the log's boundary, the same for every backend.

use crate::log::ExpectedVersion;
use crate::StreamName;

/// A failure of the storage itself, or a record that does not read back.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend reported an I/O or database error.
    #[error("storage error: {0}")]
    Backend(String),
    /// The shared log cannot be reached right now (a lost connection, a
    /// database restarting). Retrying later, with the same idempotency
    /// key, is safe.
    #[error("the log is unreachable right now: {0}")]
    Unavailable(String),
    /// Another process holds the embedded log's directory.
    #[error("{0} is in use by another process (is a server running on it?)")]
    Locked(String),
    /// A stored record does not decode.
    #[error("record at position {position} is corrupt: {reason}")]
    Corrupt {
        /// Its global position.
        position: u64,
        /// What is wrong.
        reason: String,
    },
    /// The log was closed, or its writer stopped after a failure.
    #[error("the event log is closed")]
    Closed,
}

impl StoreError {
    /// Whether retrying the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

impl From<sled::Error> for StoreError {
    fn from(error: sled::Error) -> Self {
        StoreError::Backend(error.to_string())
    }
}

/// Why an append was refused. Nothing was written when one is returned
/// (for `Store`, see the variant).
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// A stream the decision depends on is not at the expected version.
    #[error("stream {stream} is at version {current}, expected {expected:?}")]
    Conflict {
        /// The stream that moved.
        stream: StreamName,
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
    /// The request is malformed (no events, bad stream id, too large), or
    /// imported records do not continue this log.
    #[error("invalid append: {0}")]
    Invalid(String),
    /// The storage failed. The append may nevertheless have reached the
    /// log (a write that failed on its way back, a lost connection during
    /// a commit): retry it with its idempotency key.
    #[error(transparent)]
    Store(#[from] StoreError),
}
