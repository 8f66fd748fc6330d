//! [`Notary`]: the Merkle tree of a log, kept up to date as the log grows,
//! and the signer of its heads and proofs. Works over any [`EventLog`]
//! backend: the tree is a function of the records alone, so every node of
//! a shared log computes the same roots from its own copy.
//!
//! The tree lives in memory pruned ([`Tree::pruned`]): the subtree hashes
//! of 64 records and up, and every node of the last, incomplete 64 (about
//! 1 MB at a million records, against 64 MB for every node). It is built
//! from the log when a node opens, and then grows by the records each
//! append adds: O(log n) new nodes per record. A proof or an old root that
//! needs a node under 64 records reads that chunk's records back from the
//! log and hashes them (one or two chunks per answer).

use crate::error::StoreError;
use crate::log::Log;
use crate::merkle::{self, Tree, TreeError};
use crate::proof::{
    ConsistencyBundle, EventView, InclusionBundle, CONSISTENCY_FORMAT, INCLUSION_FORMAT,
};
use crate::signed::{LogKey, PublicKey, SignedHead, UnsignedHead};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

/// How much lower than the server's threads the tree's follower runs
/// (Linux niceness, 0 to 19): a weight of about a tenth of a writer's.
pub const FOLLOWER_NICENESS: i32 = 10;

/// Lowers the calling thread's scheduling priority (best effort: Linux
/// only; where it cannot, the thread runs at the normal priority).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let me = rustix::thread::gettid();
        if let Err(error) = rustix::process::setpriority_process(Some(me), FOLLOWER_NICENESS) {
            tracing::debug!(%error, "the Merkle tree's thread keeps the normal priority");
        }
    }
}

/// Records read per step while catching up.
const BATCH: usize = 4_096;
/// How long the follower lets appends gather before a step.
const FOLLOW_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// Why a proof or a head cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum NotaryError {
    /// The tree cannot answer that.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The log could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The Merkle tree of a log and the key that signs its heads.
pub struct Notary {
    log: Log,
    key: LogKey,
    origin: String,
    tree: RwLock<Tree>,
    size: watch::Sender<u64>,
}

impl Notary {
    /// A notary of `log`, signing as `origin` with `key`. Call
    /// [`Notary::catch_up`] (or [`Notary::spawn`]) to build its tree.
    pub fn new(log: Log, key: LogKey, origin: &str) -> Arc<Self> {
        Arc::new(Notary {
            log,
            key,
            origin: origin.to_owned(),
            tree: RwLock::new(Tree::pruned()),
            size: watch::Sender::new(0),
        })
    }

    fn tree(&self) -> std::sync::RwLockReadGuard<'_, Tree> {
        self.tree.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The log's public key.
    pub fn public_key(&self) -> PublicKey {
        self.key.public()
    }

    /// The name heads are signed under.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Writes a backup of the log as it stands now, signed with this
    /// notary's key (blocking; see [`crate::backup`]).
    pub fn backup(
        &self,
        out: impl std::io::Write,
        progress: impl FnMut(crate::backup::BackupProgress),
    ) -> Result<crate::backup::BackupSummary, crate::backup::BackupError> {
        crate::backup::write_backup(&self.log, &self.key, &self.origin, out, progress)
    }

    /// Records the tree holds.
    pub fn size(&self) -> u64 {
        *self.size.borrow()
    }

    /// The leaf hashes of `count` records from leaf index `first` (the
    /// position minus one), read back from the log: what the pruned tree
    /// no longer holds.
    fn read_leaves(&self, first: u64, count: u64) -> Result<Vec<merkle::Hash>, NotaryError> {
        let want = usize::try_from(count).unwrap_or(usize::MAX);
        let mut hashes = Vec::with_capacity(want.min(1 << merkle::PRUNED_FLOOR));
        self.log.visit_records(first + 1, want, &mut |_, bytes| {
            hashes.push(merkle::leaf_hash(bytes));
        })?;
        if hashes.len() != want {
            return Err(StoreError::Corrupt {
                position: first + 1 + hashes.len() as u64,
                reason: "missing below the tree's size".into(),
            }
            .into());
        }
        Ok(hashes)
    }

    /// Bytes the tree holds in memory.
    pub fn tree_bytes(&self) -> usize {
        self.tree().bytes()
    }

    /// Adds every record the log holds beyond the tree (blocking: reads
    /// the log). Returns the tree's size.
    pub fn catch_up(&self) -> Result<u64, StoreError> {
        loop {
            let from = self.size() + 1;
            let head = self.log.head().position;
            if from > head {
                return Ok(from - 1);
            }
            let want = usize::try_from(head - from + 1).unwrap_or(BATCH).min(BATCH);
            let mut leaves = Vec::with_capacity(want);
            self.log.visit_records(from, want, &mut |position, bytes| {
                leaves.push((position, merkle::leaf_hash(bytes)));
            })?;
            if leaves.is_empty() {
                return Err(StoreError::Corrupt {
                    position: from,
                    reason: "missing below the log's head".into(),
                });
            }
            let size = {
                let mut tree = self.tree.write().unwrap_or_else(|e| e.into_inner());
                for (position, leaf) in leaves {
                    if position != tree.size() + 1 {
                        return Err(StoreError::Corrupt {
                            position,
                            reason: format!("read at position {}", tree.size() + 1),
                        });
                    }
                    tree.push(leaf);
                }
                tree.size()
            };
            self.size.send_replace(size);
        }
    }

    /// Follows the log until it closes or the returned task is aborted:
    /// each new head grows the tree.
    ///
    /// The hashing runs on a thread of its own at a lower scheduling
    /// priority ([`FOLLOWER_NICENESS`]): under write load the writer and
    /// the flusher come first and the tree catches up in their waits (the
    /// flusher's fsyncs leave the cores idle often), so maintaining the
    /// tree costs appends little; on an idle machine it keeps up at once.
    /// A tokio task watches the head and wakes the thread; aborting it
    /// (or the log closing) ends both.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
        let notary = self.clone();
        let thread = std::thread::Builder::new()
            .name("chitieu-merkle".into())
            .spawn(move || {
                lower_priority();
                // Ends when the watching task drops its sender.
                while woken.recv().is_ok() {
                    if let Err(error) = notary.catch_up() {
                        tracing::error!(%error, "the Merkle tree stopped following the log");
                    }
                }
            });
        if let Err(error) = thread {
            tracing::error!(%error, "could not start the Merkle tree's thread");
        }
        let mut heads = self.log.watch_head();
        tokio::spawn(async move {
            loop {
                // A full channel already holds a wake-up the thread has
                // not taken: nothing is lost by dropping this one.
                let _ = wake.try_send(());
                if heads.changed().await.is_err() {
                    return;
                }
                // Let a few group commits gather: one step per burst, not
                // one per commit (a proof of a record just written waits
                // this long at most, on an idle machine).
                tokio::time::sleep(FOLLOW_PAUSE).await;
            }
        })
    }

    /// Waits (up to `timeout`) until the tree holds `size` records.
    pub async fn wait_for(&self, size: u64, timeout: std::time::Duration) -> bool {
        let mut rx = self.size.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|s| *s >= size))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The signed head of the log at `size` (its current size if `None`),
    /// signed now.
    pub fn signed_head(&self, size: Option<u64>) -> Result<SignedHead, NotaryError> {
        let size = size.unwrap_or_else(|| self.size());
        let root = self
            .tree()
            .root_with(size, &mut |first, count| self.read_leaves(first, count))?;
        let chain = self.log.head_at(size)?;
        if chain.position != size {
            return Err(TreeError::Beyond {
                asked: size,
                held: chain.position,
            }
            .into());
        }
        Ok(self.key.sign(UnsignedHead {
            origin: self.origin.clone(),
            size,
            root,
            chain_hash: chain.hash,
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        }))
    }

    /// The proof that the record at `position` is in the log at `size`
    /// (the tree's current size if `None`).
    pub fn inclusion(
        &self,
        position: u64,
        size: Option<u64>,
    ) -> Result<InclusionBundle, NotaryError> {
        let head = self.signed_head(size)?;
        if position == 0 || position > head.size {
            return Err(TreeError::NotInTree {
                position,
                size: head.size,
            }
            .into());
        }
        let (path, leaf) = {
            let tree = self.tree();
            (
                tree.inclusion_with(position - 1, head.size, &mut |first, count| {
                    self.read_leaves(first, count)
                })?,
                tree.leaf(position - 1),
            )
        };
        let record = self
            .log
            .read_raw(position, 1)?
            .into_iter()
            .next()
            .filter(|r| r.position == position)
            .ok_or(StoreError::Corrupt {
                position,
                reason: "missing below the head".into(),
            })?;
        let event = record.decode()?;
        Ok(InclusionBundle {
            format: INCLUSION_FORMAT.into(),
            public_key: self.key.public().base64(),
            signed_head: head,
            position,
            leaf_hash: hex::encode(leaf.unwrap_or_else(|| merkle::leaf_hash(&record.bytes))),
            record: B64.encode(&record.bytes),
            path: path.iter().map(hex::encode).collect(),
            event: EventView::of(&event),
        })
    }

    /// The proof that the log at `from` is a prefix of the log at `to`
    /// (the current size if `None`), with both heads signed.
    pub fn consistency(
        &self,
        from: u64,
        to: Option<u64>,
    ) -> Result<ConsistencyBundle, NotaryError> {
        let to_head = self.signed_head(to)?;
        let path = self
            .tree()
            .consistency_with(from, to_head.size, &mut |first, count| {
                self.read_leaves(first, count)
            })?;
        let from_head = self.signed_head(Some(from))?;
        Ok(ConsistencyBundle {
            format: CONSISTENCY_FORMAT.into(),
            public_key: self.key.public().base64(),
            from: from_head,
            to: to_head,
            path: path.iter().map(hex::encode).collect(),
        })
    }
}
