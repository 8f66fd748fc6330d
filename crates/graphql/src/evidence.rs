//! Evidence for auditors over GraphQL: signed heads, inclusion proofs (of
//! any record, and of a figure through `Actual.proof` / `Target.proof`),
//! consistency proofs, and the log's public key. Every proof also comes
//! as `bundle`, the JSON document of `docs/proofs.md` that `chitieu
//! verify` and an auditor's own tools check offline.

use crate::auth::{reach as reach_of, require, Permission, Reach};
use crate::error::ApiError;
use crate::App;
use async_graphql::{Context, SimpleObject};
use chitieu_store::merkle::TreeError;
use chitieu_store::NotaryError;
use std::time::Duration;

/// How long a proof waits for the tree to reach a record just written.
const TREE_WAIT: Duration = Duration::from_secs(5);

/// A signed head: the log's size, Merkle root and chain hash at one
/// position, signed with the log's Ed25519 key.
#[derive(SimpleObject, Clone)]
pub struct SignedHead {
    /// The log's name.
    pub origin: String,
    /// Records in the log (the last position).
    pub size: u64,
    /// Merkle root (RFC 9162), hex.
    pub root: String,
    /// Chain hash of the record at `size`, hex.
    pub chain_hash: String,
    /// When it was signed (RFC 3339).
    pub time: String,
    /// The signing key's id.
    pub key_id: String,
    /// Ed25519 signature of `body`, base64.
    pub signature: String,
    /// The exact text signed.
    pub body: String,
    /// The head as a JSON document, to keep and check later.
    pub document: String,
}

impl From<chitieu_store::signed::SignedHead> for SignedHead {
    fn from(head: chitieu_store::signed::SignedHead) -> Self {
        SignedHead {
            body: head.body().unwrap_or_default(),
            document: serde_json::to_string_pretty(&head).unwrap_or_default(),
            origin: head.origin,
            size: head.size,
            root: head.root,
            chain_hash: head.chain_hash,
            time: head.time,
            key_id: head.key_id,
            signature: head.signature,
        }
    }
}

/// The log's public key, for checking signed heads.
#[derive(SimpleObject)]
pub struct LogPublicKey {
    /// Its id (the first 8 bytes of SHA-256 of the key, hex).
    pub key_id: String,
    /// The 32-byte Ed25519 key, base64.
    pub base64: String,
    /// SubjectPublicKeyInfo PEM (`openssl pkey -pubin` reads it).
    pub pem: String,
}

/// Proof that one record is in the log at a signed head.
#[derive(SimpleObject)]
pub struct InclusionProof {
    /// The record's position.
    pub position: u64,
    /// `SHA-256(0x00 ‖ record)`, hex.
    pub leaf_hash: String,
    /// The audit path, nearest sibling first, hex.
    pub path: Vec<String>,
    /// The head it leads to.
    pub signed_head: SignedHead,
    /// The record's exact bytes, base64.
    pub record: String,
    /// The event's type.
    pub event_type: String,
    /// The whole proof as a JSON document (`docs/proofs.md`).
    pub bundle: String,
}

/// Proof that the log at one signed head is a prefix of the log at another.
#[derive(SimpleObject)]
pub struct ConsistencyProof {
    /// The older head.
    pub from: SignedHead,
    /// The newer head.
    pub to: SignedHead,
    /// The proof's hashes, hex.
    pub path: Vec<String>,
    /// The whole proof as a JSON document (`docs/proofs.md`).
    pub bundle: String,
}

impl From<NotaryError> for ApiError {
    fn from(error: NotaryError) -> Self {
        match error {
            NotaryError::Tree(TreeError::Beyond { asked, held }) => ApiError::not_found(
                format!("the log holds {held} records, not {asked}"),
                format!("nhật ký có {held} bản ghi, không có {asked}"),
            ),
            NotaryError::Tree(TreeError::NotInTree { position, size }) => ApiError::not_found(
                format!("position {position} is not in the log of size {size}"),
                format!("vị trí {position} không nằm trong nhật ký cỡ {size}"),
            ),
            NotaryError::Tree(TreeError::BadRange { from, to }) => ApiError::validation(
                format!("a consistency proof runs from a size of at least 1 to one at least as large, not from {from} to {to}"),
                format!("bằng chứng nhất quán đi từ cỡ ít nhất 1 tới cỡ không nhỏ hơn, không phải từ {from} tới {to}"),
            ),
            // The notary reads pruned leaves back from the log (a short
            // read is a corrupt store): never the caller's doing.
            e @ NotaryError::Tree(TreeError::Pruned { .. }) => ApiError::internal(&e),
            NotaryError::Store(e) => ApiError::from(e),
        }
    }
}

fn app<'a>(ctx: &Context<'a>) -> &'a App {
    ctx.data_unchecked::<App>()
}

/// Waits until the tree holds `size` records (a record just written).
async fn reach(app: &App, size: u64) -> Result<(), ApiError> {
    if app.notary.size() >= size || app.notary.wait_for(size, TREE_WAIT).await {
        return Ok(());
    }
    Err(ApiError::from(NotaryError::Tree(TreeError::Beyond {
        asked: size,
        held: app.notary.size(),
    })))
}

/// The signed head at `at` (the log's head if `None`).
pub(crate) async fn signed_head(
    ctx: &Context<'_>,
    at: Option<u64>,
) -> Result<SignedHead, ApiError> {
    require(ctx, Permission::ReadAudit)?;
    let app = app(ctx);
    let size = at.unwrap_or_else(|| app.service.head().position);
    if size > app.service.head().position {
        return Err(NotaryError::Tree(TreeError::Beyond {
            asked: size,
            held: app.service.head().position,
        })
        .into());
    }
    reach(app, size).await?;
    Ok(app.notary.signed_head(Some(size))?.into())
}

/// The public key.
pub(crate) fn public_key(ctx: &Context<'_>) -> LogPublicKey {
    let key = app(ctx).notary.public_key();
    LogPublicKey {
        key_id: key.key_id(),
        base64: key.base64(),
        pem: key.pem(),
    }
}

/// Whose records a proof may carry.
pub(crate) enum Subject {
    /// Any position: the record's bytes are shown whatever it concerns, so
    /// only an auditor whose grant reaches everywhere may ask.
    AnyRecord,
    /// The record behind a figure the caller was allowed to read.
    ReadFigure,
}

/// The inclusion proof of `position` at `size` (the head if `None`).
pub(crate) async fn inclusion(
    ctx: &Context<'_>,
    position: u64,
    size: Option<u64>,
    subject: Subject,
) -> Result<InclusionProof, ApiError> {
    require(ctx, Permission::ReadAudit)?;
    if let (Subject::AnyRecord, Reach::Within(_)) = (subject, reach_of(ctx, Permission::ReadAudit)?)
    {
        return Err(ApiError::forbidden(
            "a proof of any position shows that record whatever it concerns: it needs an audit grant everywhere; ask for the proof of a figure you may read (Actual.proof, Target.proof)",
            "bằng chứng của một vị trí bất kỳ cho thấy bản ghi đó dù liên quan đến đâu: cần quyền kiểm tra ở mọi nơi; hãy hỏi bằng chứng của số liệu mình được xem (Actual.proof, Target.proof)",
        ));
    }
    let app = app(ctx);
    let head = app.service.head().position;
    let size = size.unwrap_or(head);
    if size > head || position == 0 || position > size {
        return Err(NotaryError::Tree(TreeError::NotInTree { position, size }).into());
    }
    reach(app, size).await?;
    let bundle = app.notary.inclusion(position, Some(size))?;
    Ok(InclusionProof {
        position,
        leaf_hash: bundle.leaf_hash.clone(),
        path: bundle.path.clone(),
        signed_head: bundle.signed_head.clone().into(),
        record: bundle.record.clone(),
        event_type: bundle.event.event_type.clone(),
        bundle: serde_json::to_string_pretty(&bundle).map_err(|e| ApiError::internal(&e))?,
    })
}

/// The proof of the event behind a figure the caller was allowed to read
/// (`Actual.proof`, `Target.proof`).
pub(crate) async fn figure_proof(
    ctx: &Context<'_>,
    position: u64,
    size: Option<u64>,
) -> async_graphql::Result<InclusionProof> {
    Ok(inclusion(ctx, position, size, Subject::ReadFigure).await?)
}

/// The consistency proof from `from` to `to` (the head if `None`).
pub(crate) async fn consistency(
    ctx: &Context<'_>,
    from: u64,
    to: Option<u64>,
) -> Result<ConsistencyProof, ApiError> {
    require(ctx, Permission::ReadAudit)?;
    let app = app(ctx);
    let head = app.service.head().position;
    let to = to.unwrap_or(head);
    if to > head {
        return Err(NotaryError::Tree(TreeError::Beyond {
            asked: to,
            held: head,
        })
        .into());
    }
    reach(app, to).await?;
    let bundle = app.notary.consistency(from, Some(to))?;
    Ok(ConsistencyProof {
        from: bundle.from.clone().into(),
        to: bundle.to.clone().into(),
        path: bundle.path.clone(),
        bundle: serde_json::to_string_pretty(&bundle).map_err(|e| ApiError::internal(&e))?,
    })
}
