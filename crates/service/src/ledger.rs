//! [`LedgerVerifier`]: verification of the log that stays fast on any
//! store. A check walks only what was appended since the last checkpoint a
//! verification found good (kept with its hash, beside the read models),
//! and the first new record must chain to that hash, so a rewritten past,
//! even one rehashed to the end, still breaks there. A full walk from the
//! first record runs as a background job whose progress can be read while
//! it runs.

use chitieu_projector::Projector;
use chitieu_store::{Head, Log, Progress, StoreError, VerifyReport};
use chrono::{DateTime, Utc};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The checkpoint it started after (0: the first record).
    pub from: u64,
    /// The walk.
    pub report: VerifyReport,
}

/// A full walk from the first record, running or done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullCheck {
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// The head when it started: the records it will check.
    pub total: u64,
    /// Records checked so far.
    pub checked: u64,
    /// When it ended, and what it found (or why it could not finish).
    pub finished: Option<(DateTime<Utc>, Result<VerifyReport, String>)>,
}

struct Running {
    started_at: DateTime<Utc>,
    total: u64,
    progress: Progress,
    finished: Option<(DateTime<Utc>, Result<VerifyReport, String>)>,
}

/// Checks the ledger incrementally; runs full checks in the background.
pub struct LedgerVerifier {
    log: Log,
    projector: Arc<Projector>,
    /// Serialises incremental checks (each moves the checkpoint).
    checking: tokio::sync::Mutex<()>,
    full: Mutex<Option<Running>>,
}

impl LedgerVerifier {
    /// A verifier of `log` keeping its checkpoint beside `projector`'s
    /// read models.
    pub fn new(log: Log, projector: Arc<Projector>) -> Arc<Self> {
        Arc::new(LedgerVerifier {
            log,
            projector,
            checking: tokio::sync::Mutex::new(()),
            full: Mutex::new(None),
        })
    }

    fn checkpoint(&self) -> Head {
        match self.projector.verified_checkpoint() {
            Ok(Some((position, hash))) => Head { position, hash },
            _ => Head::default(),
        }
    }

    fn advance(&self, head: Head) {
        let current = self.checkpoint();
        if head.position > current.position {
            if let Err(error) = self
                .projector
                .set_verified_checkpoint(head.position, head.hash)
            {
                tracing::warn!(%error, "could not keep the ledger checkpoint");
            }
        }
    }

    /// Checks what was appended since the last good checkpoint (everything
    /// on the first check), and moves the checkpoint when it holds.
    pub async fn verify(&self) -> Result<Verification, StoreError> {
        let _one_at_a_time = self.checking.lock().await;
        let from = self.checkpoint();
        if from.position > 0 && self.log.head_at(from.position)?.hash != from.hash {
            // The record the checkpoint vouched for is not the one stored.
            return Ok(Verification {
                from: from.position,
                report: VerifyReport {
                    checked: 0,
                    head: Head::default(),
                    first_break: Some((
                        from.position,
                        "the record at the verified checkpoint changed since it was verified"
                            .to_owned(),
                    )),
                },
            });
        }
        let report = self.log.verify_from(from, Progress::default()).await?;
        if report.first_break.is_none() {
            self.advance(report.head);
        }
        Ok(Verification {
            from: from.position,
            report,
        })
    }

    /// Starts a full walk from the first record in the background, unless
    /// one is running; returns its state.
    pub fn start_full(self: &Arc<Self>) -> FullCheck {
        if let Ok(mut full) = self.full.lock() {
            let running = full.as_ref().is_some_and(|r| r.finished.is_none());
            if !running {
                let progress = Progress::default();
                *full = Some(Running {
                    started_at: Utc::now(),
                    total: self.log.head().position,
                    progress: progress.clone(),
                    finished: None,
                });
                let this = self.clone();
                tokio::spawn(async move {
                    let outcome = this.log.verify_from(Head::default(), progress).await;
                    match &outcome {
                        Ok(report) if report.first_break.is_none() => {
                            tracing::info!(checked = report.checked, "full ledger check: ok");
                            this.advance(report.head);
                        }
                        Ok(report) => {
                            tracing::error!(first_break = ?report.first_break, "full ledger check: the chain breaks")
                        }
                        Err(error) => tracing::error!(%error, "full ledger check could not finish"),
                    }
                    if let Ok(mut full) = this.full.lock() {
                        if let Some(running) = full.as_mut() {
                            running.finished =
                                Some((Utc::now(), outcome.map_err(|e| e.to_string())));
                        }
                    }
                });
            }
        }
        self.full_check().unwrap_or(FullCheck {
            started_at: Utc::now(),
            total: 0,
            checked: 0,
            finished: None,
        })
    }

    /// The last full check, running or done.
    pub fn full_check(&self) -> Option<FullCheck> {
        let full = self.full.lock().ok()?;
        full.as_ref().map(|r| FullCheck {
            started_at: r.started_at,
            total: r.total,
            checked: r.progress.load(Ordering::Relaxed),
            finished: r.finished.clone(),
        })
    }
}
