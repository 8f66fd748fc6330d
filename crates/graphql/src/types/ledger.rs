//! The ledger: the log's head and its verification.

use super::*;

/// The head of the log, for an auditor to write down: if the log were ever
/// rewritten, this position's hash would no longer match.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Ledger {
    /// Position of the last durable event.
    pub position: u64,
    /// Its SHA-256 chain hash, hex.
    pub hash: String,
    /// The read models' position.
    pub projected_position: u64,
}

#[ComplexObject]
impl Ledger {
    /// SHA-256 over every key and value of this node's read models, hex.
    /// Nodes whose read models agree byte for byte give the same digest
    /// (compare them at the same `projectedPosition`). Reads every read
    /// model: for operators and tests, not for every request.
    #[graphql(complexity = 1000)]
    async fn read_model_digest(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let projector = ctx.data_unchecked::<App>().read.projector().clone();
        let digest = tokio::task::spawn_blocking(move || projector.digest())
            .await
            .map_err(|e| crate::error::ApiError::internal(&e))?
            .map_err(crate::error::ApiError::from)?;
        Ok(hex::encode(digest))
    }

    /// The head at `position`, signed: its Merkle root (RFC 9162) and
    /// chain hash, with the log's Ed25519 signature.
    async fn signed_head(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<crate::evidence::SignedHead> {
        Ok(crate::evidence::signed_head(ctx, Some(self.position)).await?)
    }

    /// The key that signs the log's heads.
    async fn public_key(&self, ctx: &Context<'_>) -> crate::evidence::LogPublicKey {
        crate::evidence::public_key(ctx)
    }
}

/// The outcome of walking the hash chain.
#[derive(SimpleObject)]
pub struct LedgerVerification {
    /// Whether the chain checks, from the checkpoint to the head.
    pub ok: bool,
    /// Records checked by this call (those appended since the checkpoint).
    pub checked: u64,
    /// The verified checkpoint this check started after (0: the first
    /// record); the first record after it must chain to its hash.
    pub from: u64,
    /// Position of the last good record.
    pub position: u64,
    /// Its hash.
    pub hash: String,
    /// The first position where the chain breaks.
    pub broken_at: Option<u64>,
    /// Why it breaks there.
    pub reason: Option<String>,
    /// The last full check from the first record (`verifyLedger(full:
    /// true)` starts one in the background), with its progress.
    pub full_check: Option<FullLedgerCheck>,
}

/// A full walk of the ledger from the first record, running or done.
#[derive(SimpleObject)]
pub struct FullLedgerCheck {
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Records to check (the head when it started).
    pub total: u64,
    /// Records checked so far.
    pub checked: u64,
    /// Whether it is still running.
    pub running: bool,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Whether the whole chain checked (`null` while running).
    pub ok: Option<bool>,
    /// The first position where the chain breaks.
    pub broken_at: Option<u64>,
    /// Why it breaks there, or why the check could not finish.
    pub reason: Option<String>,
}

impl From<chitieu_service::ledger::FullCheck> for FullLedgerCheck {
    fn from(c: chitieu_service::ledger::FullCheck) -> Self {
        let (finished_at, ok, broken_at, reason) = match c.finished {
            None => (None, None, None, None),
            Some((at, Ok(report))) => {
                let broken = report.first_break;
                (
                    Some(at),
                    Some(broken.is_none()),
                    broken.as_ref().map(|b| b.0),
                    broken.map(|b| b.1),
                )
            }
            Some((at, Err(why))) => (Some(at), Some(false), None, Some(why)),
        };
        FullLedgerCheck {
            started_at: c.started_at,
            total: c.total,
            checked: c.checked,
            running: finished_at.is_none(),
            finished_at,
            ok,
            broken_at,
            reason,
        }
    }
}
