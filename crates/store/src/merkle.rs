//! The Merkle tree over the log, as RFC 9162 (Certificate Transparency
//! 2.0) §2.1 defines it: leaves are the records' exact bytes, in position
//! order (leaf index = position − 1).
//!
//! - leaf hash `SHA-256(0x00 ‖ record bytes)`, node hash
//!   `SHA-256(0x01 ‖ left ‖ right)`, the empty tree `SHA-256("")`;
//! - [`Tree`] keeps every *perfect* subtree hash (level k, index i covers
//!   leaves `[i·2ᵏ, (i+1)·2ᵏ)`), so an append stores O(1) amortised new
//!   nodes (at most log₂ n) and the root at any earlier size, an inclusion
//!   proof or a consistency proof reads O(log n) stored nodes: nothing is
//!   recomputed from the leaves;
//! - [`verify_inclusion`] and [`verify_consistency`] are RFC 9162
//!   §2.1.3.2 and §2.1.4.2 word for word: what an auditor's own tool does.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The leaf hash of a record's bytes.
pub fn leaf_hash(record: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(record);
    h.finalize().into()
}

/// The hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Why a tree cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A size beyond what the tree holds.
    #[error("the tree holds {held} records, not {asked}")]
    Beyond {
        /// What was asked for.
        asked: u64,
        /// What the tree holds.
        held: u64,
    },
    /// A leaf index outside the tree it is asked about.
    #[error("position {position} is not in a tree of {size} records")]
    NotInTree {
        /// The position (index + 1).
        position: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof needs `0 < from ≤ to`.
    #[error("a consistency proof runs from a size of at least 1 up to a size at least as large, not from {from} to {to}")]
    BadRange {
        /// The old size.
        from: u64,
        /// The new size.
        to: u64,
    },
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// A Merkle tree kept as its perfect subtrees, level by level.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// `levels[k][i]` is the hash of leaves `[i·2ᵏ, (i+1)·2ᵏ)`.
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Tree::default()
    }

    /// How many leaves it holds.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash, storing every perfect subtree it completes.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let nodes = &mut self.levels[level];
            nodes.push(hash);
            if !nodes.len().is_multiple_of(2) {
                return;
            }
            let n = nodes.len();
            hash = node_hash(&nodes[n - 2], &nodes[n - 1]);
            level += 1;
        }
    }

    /// Drops the leaves from `size` on (a log that lost an unsynced tail).
    pub fn truncate(&mut self, size: u64) {
        for (k, nodes) in self.levels.iter_mut().enumerate() {
            nodes.truncate(usize::try_from(size >> k).unwrap_or(usize::MAX));
        }
        while self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
    }

    /// Bytes held by the stored nodes.
    pub fn bytes(&self) -> usize {
        self.levels.iter().map(|l| l.len() * 32).sum()
    }

    fn check(&self, size: u64) -> Result<(), TreeError> {
        if size > self.size() {
            return Err(TreeError::Beyond {
                asked: size,
                held: self.size(),
            });
        }
        Ok(())
    }

    /// The hash of leaves `[start, end)`, `start < end ≤ size`: the stored
    /// node when the range is a perfect aligned subtree, otherwise RFC
    /// 9162's split at the largest power of two below the length.
    fn range(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n.is_power_of_two() {
            let k = n.trailing_zeros();
            if start.is_multiple_of(n) {
                let index = usize::try_from(start >> k).unwrap_or(usize::MAX);
                return self.levels[k as usize][index];
            }
        }
        if n == 1 {
            return self.levels[0][start as usize];
        }
        let k = split(n);
        node_hash(&self.range(start, start + k), &self.range(start + k, end))
    }

    /// The root of the tree of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, TreeError> {
        self.check(size)?;
        Ok(if size == 0 {
            empty_root()
        } else {
            self.range(0, size)
        })
    }

    /// The leaf hash at `index` (position − 1).
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels
            .first()
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
    }

    /// The audit path of leaf `index` in the tree of `size` leaves
    /// (RFC 9162 §2.1.3.1), nearest sibling first.
    pub fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        self.check(size)?;
        if index >= size {
            return Err(TreeError::NotInTree {
                position: index + 1,
                size,
            });
        }
        let mut path = Vec::new();
        self.path(index, 0, size, &mut path);
        Ok(path)
    }

    fn path(&self, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
        let n = end - start;
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            self.path(m, start, start + k, out);
            out.push(self.range(start + k, end));
        } else {
            self.path(m - k, start + k, end, out);
            out.push(self.range(start, start + k));
        }
    }

    /// The proof that the tree of `from` leaves is a prefix of the tree of
    /// `to` leaves (RFC 9162 §2.1.4.1). Empty when `from == to`.
    pub fn consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>, TreeError> {
        self.check(to)?;
        if from == 0 || from > to {
            return Err(TreeError::BadRange { from, to });
        }
        let mut proof = Vec::new();
        if from < to {
            self.subproof(from, 0, to, true, &mut proof);
        }
        Ok(proof)
    }

    fn subproof(&self, m: u64, start: u64, end: u64, whole: bool, out: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !whole {
                out.push(self.range(start, end));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, start + k, whole, out);
            out.push(self.range(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, out);
            out.push(self.range(start, start + k));
        }
    }
}

/// Checks an audit path (RFC 9162 §2.1.3.2): that the leaf `leaf` at
/// `index` is in the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

/// Checks a consistency proof (RFC 9162 §2.1.4.2): that the tree of
/// `from` leaves with root `old` is a prefix of the tree of `to` leaves
/// with root `new`.
pub fn verify_consistency(from: u64, to: u64, old: &Hash, new: &Hash, proof: &[Hash]) -> bool {
    if from == 0 || from > to {
        return false;
    }
    if from == to {
        return proof.is_empty() && old == new;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if from.is_power_of_two() {
        path.push(*old);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut fnode, mut snode) = (from - 1, to - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    fr == *old && sr == *new && snode == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 9162's MTH, straight from the definition.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    fn tree(leaves: &[Hash]) -> Tree {
        let mut t = Tree::new();
        for l in leaves {
            t.push(*l);
        }
        t
    }

    #[test]
    fn the_empty_tree_and_one_leaf_are_as_the_rfc_says() {
        let t = Tree::new();
        assert_eq!(
            hex::encode(t.root(0).unwrap()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // RFC 6962's test vector: the leaf of the empty string.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn every_root_of_every_prefix_matches_the_definition() {
        let all = leaves(70);
        let t = tree(&all);
        for size in 0..=70u64 {
            assert_eq!(t.root(size).unwrap(), mth(&all[..size as usize]), "{size}");
        }
        assert!(t.root(71).is_err());
    }

    #[test]
    fn every_proof_of_small_trees_verifies_and_a_wrong_one_does_not() {
        let all = leaves(33);
        let t = tree(&all);
        for size in 1..=33u64 {
            let root = t.root(size).unwrap();
            for index in 0..size {
                let path = t.inclusion(index, size).unwrap();
                assert!(verify_inclusion(
                    index,
                    size,
                    &all[index as usize],
                    &path,
                    &root
                ));
                assert!(!verify_inclusion(
                    index,
                    size,
                    &all[(index as usize + 1) % 33],
                    &path,
                    &root
                ));
                if let Some((first, _)) = path.split_first() {
                    let mut bad = path.clone();
                    bad[0] = node_hash(first, first);
                    assert!(!verify_inclusion(
                        index,
                        size,
                        &all[index as usize],
                        &bad,
                        &root
                    ));
                }
            }
            for from in 1..=size {
                let proof = t.consistency(from, size).unwrap();
                let old = t.root(from).unwrap();
                assert!(
                    verify_consistency(from, size, &old, &root, &proof),
                    "{from}..{size}"
                );
                let forked = leaf_hash(b"fork");
                assert!(!verify_consistency(from, size, &forked, &root, &proof));
            }
        }
    }

    #[test]
    fn truncating_forgets_the_tail_exactly() {
        let all = leaves(40);
        let mut t = tree(&all);
        t.truncate(23);
        assert_eq!(t.size(), 23);
        assert_eq!(t.root(23).unwrap(), mth(&all[..23]));
        for l in &all[23..] {
            t.push(*l);
        }
        assert_eq!(t.root(40).unwrap(), mth(&all));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn proofs_of_any_sizes_verify(size in 1u64..3000, a in 0u64..3000, b in 0u64..3000) {
            let all = leaves(size);
            let t = tree(&all);
            let index = a % size;
            let root = t.root(size).unwrap();
            let path = t.inclusion(index, size).unwrap();
            prop_assert!(path.len() <= 64);
            prop_assert!(verify_inclusion(index, size, &all[index as usize], &path, &root));
            prop_assert!(!verify_inclusion(index, size, &leaf_hash(b"forged"), &path, &root));
            if index ^ 1 < size {
                prop_assert!(!verify_inclusion(index ^ 1, size, &all[index as usize], &path, &root));
            }
            let from = 1 + b % size;
            let proof = t.consistency(from, size).unwrap();
            prop_assert!(verify_consistency(from, size, &t.root(from).unwrap(), &root, &proof));
            if from < size {
                prop_assert!(!verify_consistency(from, size, &t.root(from).unwrap(), &t.root(size - 1).unwrap(), &proof));
            }
        }
    }
}
