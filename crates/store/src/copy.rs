//! [`copy_log`]: copies a log into an empty one of any backend, record for
//! record, with every position and hash unchanged, and verifies the copy.

use crate::error::{AppendError, StoreError};
use crate::log::{Head, Log};

/// Records per import (one atomic step on the target).
const BATCH: usize = 2_000;

/// How far a copy has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyProgress {
    /// Records copied so far.
    pub copied: u64,
    /// Records to copy in all.
    pub total: u64,
}

/// Copies every record of `from` into `to`, which must be empty or a
/// prefix of `from` (a copy that stopped midway continues), then verifies
/// `to` and checks that both heads agree. Reports progress after each batch.
pub async fn copy_log(
    from: &Log,
    to: &Log,
    mut progress: impl FnMut(CopyProgress),
) -> Result<Head, AppendError> {
    let source = from.head();
    let start = to.head();
    if start.position > source.position || from.head_at(start.position)? != start {
        return Err(AppendError::Invalid(format!(
            "the target log (at {}) is not a prefix of the source log",
            start.position
        )));
    }
    let mut next = start.position + 1;
    while next <= source.position {
        let want = usize::try_from(source.position - next + 1)
            .unwrap_or(BATCH)
            .min(BATCH);
        let records = from.read_raw(next, want)?;
        if records.is_empty() {
            return Err(StoreError::Corrupt {
                position: next,
                reason: "missing below the source's head".into(),
            }
            .into());
        }
        next += records.len() as u64;
        to.import(records).await?;
        progress(CopyProgress {
            copied: next - 1,
            total: source.position,
        });
    }
    let report = to.verify().await?;
    if let Some((position, reason)) = report.first_break {
        return Err(StoreError::Corrupt { position, reason }.into());
    }
    let copied = to.head_at(source.position)?;
    if copied != source {
        return Err(StoreError::Corrupt {
            position: source.position,
            reason: "the copy's head differs from the source's".into(),
        }
        .into());
    }
    Ok(copied)
}
