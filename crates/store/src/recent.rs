//! The embedded log's newest blocks, held in memory as the writer put them
//! into sled, so that readers who follow the head (the service catching its
//! decision state up, the projector, the Merkle follower) read fresh
//! records without a reverse range scan of sled and a page lookup per
//! block.
//!
//! Invariants:
//! - the blocks are consecutive (each begins where the one before it ends)
//!   and byte for byte the blocks in sled under the same first position:
//!   the writer pushes each block it inserted, in order, sharing its bytes;
//! - a block is pushed once it is in sled and before any head that covers
//!   it is published, so a reader that read the head finds every record up
//!   to it either here or, older than the oldest block held, in sled or
//!   the archive;
//! - at most `limit` bytes are held, beside the newest block: the oldest
//!   go first;
//! - a writer that starts over (a group whose insert failed) clears what
//!   is held before it goes on, so nothing here can disagree with sled.
//!
//! Readers take what they need under a short lock (the blocks' handles,
//! not their bytes) and parse outside it.

use std::collections::VecDeque;
use std::sync::Mutex;

/// Bytes of blocks held by default: a fraction of a second of writes at
/// the rates measured (BENCHMARKS.md), more than a follower lags.
pub(crate) const RECENT_BYTES: usize = 4 * 1024 * 1024;

/// The newest blocks of the log; see the module docs.
#[derive(Debug)]
pub(crate) struct Recent {
    inner: Mutex<Held>,
    limit: usize,
}

#[derive(Debug, Default)]
struct Held {
    /// (first position, count of records, bytes), oldest first.
    blocks: VecDeque<(u64, u64, sled::IVec)>,
    bytes: usize,
}

impl Recent {
    /// Holds at most `limit` bytes of blocks beside the newest one (0: none
    /// at all).
    pub(crate) fn new(limit: usize) -> Recent {
        Recent {
            inner: Mutex::new(Held::default()),
            limit,
        }
    }

    /// Adds the block of `count` records beginning at `first`, the next
    /// after the newest held; a block that does not follow on clears what
    /// was held first (the blocks held stay consecutive).
    pub(crate) fn push(&self, first: u64, count: u64, block: sled::IVec) {
        if self.limit == 0 {
            return;
        }
        let Ok(mut held) = self.inner.lock() else {
            return;
        };
        let follows = held
            .blocks
            .back()
            .is_none_or(|(f, c, _)| f.saturating_add(*c) == first);
        if !follows {
            held.blocks.clear();
            held.bytes = 0;
        }
        held.bytes += block.len();
        held.blocks.push_back((first, count, block));
        while held.bytes > self.limit && held.blocks.len() > 1 {
            if let Some((_, _, gone)) = held.blocks.pop_front() {
                held.bytes -= gone.len();
            }
        }
    }

    /// Lets go of everything held.
    pub(crate) fn clear(&self) {
        if let Ok(mut held) = self.inner.lock() {
            held.blocks.clear();
            held.bytes = 0;
        }
    }

    /// The blocks from the one holding `from` on, with their first
    /// positions: up to the newest, or fewer once they hold `limit`
    /// records from `from`; if a block held holds `from`. `None` when
    /// `from` is older than the oldest block held or past the newest (or
    /// nothing is held).
    pub(crate) fn from(&self, from: u64, limit: usize) -> Option<Vec<(u64, sled::IVec)>> {
        let held = self.inner.lock().ok()?;
        let (oldest, _, _) = held.blocks.front()?;
        if from < *oldest {
            return None;
        }
        let at = held.blocks.partition_point(|(first, _, _)| *first <= from) - 1;
        let (first, count, _) = &held.blocks[at];
        if from >= first + count {
            // Past the newest block: not held (yet); the caller reads sled.
            return None;
        }
        let wanted = u64::try_from(limit).unwrap_or(u64::MAX);
        let mut covered = 0u64;
        let mut blocks = Vec::new();
        for (first, count, block) in held.blocks.range(at..) {
            if covered >= wanted {
                break;
            }
            blocks.push((*first, block.clone()));
            covered += first + count - from.max(*first);
        }
        Some(blocks)
    }

    /// Bytes held (blocks only).
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.inner.lock().map_or(0, |h| h.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Recent {
        fn all_from(&self, from: u64) -> Option<Vec<(u64, sled::IVec)>> {
            self.from(from, usize::MAX)
        }
    }

    fn block(n: usize) -> sled::IVec {
        sled::IVec::from(vec![7u8; n])
    }

    fn firsts(blocks: Option<Vec<(u64, sled::IVec)>>) -> Option<Vec<u64>> {
        blocks.map(|b| b.into_iter().map(|(f, _)| f).collect())
    }

    #[test]
    fn serves_from_the_block_holding_a_position_to_the_newest() {
        let recent = Recent::new(1 << 20);
        assert_eq!(firsts(recent.all_from(1)), None, "nothing held");
        recent.push(10, 5, block(100));
        recent.push(15, 1, block(100));
        recent.push(16, 4, block(100));
        assert_eq!(firsts(recent.all_from(9)), None, "older than the oldest");
        assert_eq!(firsts(recent.all_from(10)), Some(vec![10, 15, 16]));
        assert_eq!(firsts(recent.all_from(14)), Some(vec![10, 15, 16]));
        assert_eq!(firsts(recent.all_from(15)), Some(vec![15, 16]));
        assert_eq!(firsts(recent.all_from(19)), Some(vec![16]));
        assert_eq!(firsts(recent.all_from(20)), None, "past the newest");
        assert_eq!(firsts(recent.all_from(500)), None);
        // Only as many blocks as hold `limit` records from `from`.
        assert_eq!(firsts(recent.from(12, 3)), Some(vec![10]));
        assert_eq!(firsts(recent.from(12, 4)), Some(vec![10, 15]));
        assert_eq!(firsts(recent.from(12, 5)), Some(vec![10, 15, 16]));
        assert_eq!(firsts(recent.from(16, 1)), Some(vec![16]));
    }

    #[test]
    fn holds_at_most_its_limit_beside_the_newest_block() {
        let recent = Recent::new(250);
        recent.push(1, 1, block(100));
        recent.push(2, 1, block(100));
        recent.push(3, 1, block(100));
        assert_eq!(recent.bytes(), 200);
        assert_eq!(firsts(recent.all_from(1)), None, "the oldest went");
        assert_eq!(firsts(recent.all_from(2)), Some(vec![2, 3]));
        recent.push(4, 1, block(1000));
        assert_eq!(
            firsts(recent.all_from(4)),
            Some(vec![4]),
            "a block over the limit alone"
        );
        assert_eq!(recent.bytes(), 1000);
    }

    #[test]
    fn a_block_that_does_not_follow_on_starts_over() {
        let recent = Recent::new(1 << 20);
        recent.push(1, 3, block(10));
        recent.push(9, 1, block(10));
        assert_eq!(firsts(recent.all_from(1)), None);
        assert_eq!(firsts(recent.all_from(9)), Some(vec![9]));
        recent.clear();
        assert_eq!(firsts(recent.all_from(9)), None);
        let off = Recent::new(0);
        off.push(1, 1, block(10));
        assert_eq!(firsts(off.all_from(1)), None, "a limit of 0 holds nothing");
    }
}
