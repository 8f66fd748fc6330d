//! The Merkle tree over the log, as RFC 9162 (Certificate Transparency
//! 2.0) §2.1 defines it: leaves are the records' exact bytes, in position
//! order (leaf index = position − 1).
//!
//! - leaf hash `SHA-256(0x00 ‖ record bytes)`, node hash
//!   `SHA-256(0x01 ‖ left ‖ right)`, the empty tree `SHA-256("")`;
//! - [`Tree`] keeps every *perfect* subtree hash (level k, index i covers
//!   leaves `[i·2ᵏ, (i+1)·2ᵏ)`), so an append stores O(1) amortised new
//!   nodes (at most log₂ n) and the root at any earlier size, an inclusion
//!   proof or a consistency proof reads O(log n) stored nodes; a pruned
//!   tree (the server's) keeps only the nodes over 64 leaves and up, and
//!   rebuilds the one or two chunks of 64 an answer reaches into from
//!   leaf hashes its caller reads back;
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
    /// The leaves of a chunk below a pruned tree's floor were needed and
    /// not given.
    #[error("the leaves from index {first} are not held in memory and were not read")]
    Pruned {
        /// The chunk's first leaf index.
        first: u64,
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

/// The floor of [`Tree::pruned`]: below level 6 it keeps only the nodes
/// of the last, incomplete chunk of 2⁶ = 64 leaves.
pub const PRUNED_FLOOR: u32 = 6;

/// A Merkle tree kept as its perfect subtrees, level by level.
///
/// A full tree ([`Tree::new`]) keeps every node: 64 bytes per leaf. A
/// pruned one ([`Tree::pruned`]) keeps the levels from its *floor* `f` up
/// (0.5 byte per leaf at `f` = 6) and, below it, only the nodes of the
/// leaves after the last complete chunk of 2ᶠ. A proof or an old root
/// that needs a node below the floor elsewhere asks the caller for that
/// chunk's leaf hashes (the `leaves` of the `_with` methods) and builds
/// the chunk's subtree: at most a few chunks per answer, as the
/// recursion only descends below the floor around its boundaries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// `levels[k][i − offset(k)]` is the hash of leaves `[i·2ᵏ, (i+1)·2ᵏ)`;
    /// the offset is 0 from the floor up, `base >> k` below it.
    levels: Vec<Vec<Hash>>,
    /// Leaves held.
    size: u64,
    /// Levels below this keep only the last, incomplete chunk.
    floor: u32,
}

/// Where a tree's answers get the leaves below its floor: a function of
/// (first leaf index, count) that returns those leaf hashes.
pub type Leaves<'a, E> = dyn FnMut(u64, u64) -> Result<Vec<Hash>, E> + 'a;

/// A tree that must never reach below its floor (a full tree).
fn nothing_pruned(first: u64, _: u64) -> Result<Vec<Hash>, TreeError> {
    Err(TreeError::Pruned { first })
}

impl Tree {
    /// An empty full tree: every node kept.
    pub fn new() -> Self {
        Tree::default()
    }

    /// An empty pruned tree with the floor [`PRUNED_FLOOR`].
    pub fn pruned() -> Self {
        Tree::with_floor(PRUNED_FLOOR)
    }

    /// An empty tree that keeps the nodes below level `floor` only for
    /// the last, incomplete chunk of 2^`floor` leaves (0: a full tree).
    pub fn with_floor(floor: u32) -> Self {
        Tree {
            levels: Vec::new(),
            size: 0,
            floor: floor.min(32),
        }
    }

    /// How many leaves it holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The first leaf of the chunk the nodes below the floor are kept for.
    fn base(&self) -> u64 {
        (self.size >> self.floor) << self.floor
    }

    /// The stored node `i` of level `k`, if kept.
    fn stored(&self, k: u32, i: u64) -> Option<Hash> {
        let offset = if k < self.floor { self.base() >> k } else { 0 };
        let at = usize::try_from(i.checked_sub(offset)?).ok()?;
        self.levels.get(k as usize)?.get(at).copied()
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
            // Pairs below the floor lie inside one chunk, so both halves
            // are in the kept tail; the stored count's parity is the
            // level's.
            if !nodes.len().is_multiple_of(2) {
                break;
            }
            let n = nodes.len();
            hash = node_hash(&nodes[n - 2], &nodes[n - 1]);
            level += 1;
        }
        self.size += 1;
        if self.floor > 0 && self.size.is_multiple_of(1 << self.floor) {
            // The chunk is complete: its node at the floor is stored; the
            // nodes under it go.
            for nodes in self.levels.iter_mut().take(self.floor as usize) {
                nodes.clear();
            }
        }
    }

    /// Drops the leaves from `size` on (a log that lost an unsynced tail).
    /// A pruned tree cut inside a complete chunk reads that chunk's
    /// leaves back through `leaves`.
    pub fn truncate_with<E: From<TreeError>>(
        &mut self,
        size: u64,
        leaves: &mut Leaves<'_, E>,
    ) -> Result<(), E> {
        if size >= self.size {
            return Ok(());
        }
        let base = (size >> self.floor) << self.floor;
        // The leaves of the new tail: kept, or read back.
        let tail = match (base..size).map(|i| self.stored(0, i)).collect() {
            Some(kept) => kept,
            None => leaves(base, size - base)?,
        };
        if tail.len() as u64 != size - base {
            return Err(TreeError::Pruned { first: base }.into());
        }
        // Every level cut to the nodes over leaves below `base` alone.
        for (k, nodes) in self.levels.iter_mut().enumerate() {
            if (k as u32) < self.floor {
                nodes.clear();
            } else {
                nodes.truncate(usize::try_from(base >> k).unwrap_or(usize::MAX));
            }
        }
        self.size = base;
        tail.into_iter().for_each(|leaf| self.push(leaf));
        while self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
        Ok(())
    }

    /// [`Tree::truncate_with`] for a tree whose cut needs no leaves read.
    pub fn truncate(&mut self, size: u64) -> Result<(), TreeError> {
        self.truncate_with(size, &mut nothing_pruned)
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

    /// The root of the tree of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, TreeError> {
        self.root_with(size, &mut nothing_pruned)
    }

    /// [`Tree::root`], reading leaves below the floor through `leaves`.
    pub fn root_with<E: From<TreeError>>(
        &self,
        size: u64,
        leaves: &mut Leaves<'_, E>,
    ) -> Result<Hash, E> {
        self.check(size)?;
        if size == 0 {
            return Ok(empty_root());
        }
        Reader::new(self, leaves).range(0, size)
    }

    /// The leaf hash at `index` (position − 1), if the tree keeps it.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        (index < self.size).then(|| self.stored(0, index)).flatten()
    }

    /// The audit path of leaf `index` in the tree of `size` leaves
    /// (RFC 9162 §2.1.3.1), nearest sibling first.
    pub fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        self.inclusion_with(index, size, &mut nothing_pruned)
    }

    /// [`Tree::inclusion`], reading leaves below the floor through `leaves`.
    pub fn inclusion_with<E: From<TreeError>>(
        &self,
        index: u64,
        size: u64,
        leaves: &mut Leaves<'_, E>,
    ) -> Result<Vec<Hash>, E> {
        self.check(size)?;
        if index >= size {
            return Err(TreeError::NotInTree {
                position: index + 1,
                size,
            }
            .into());
        }
        let mut path = Vec::new();
        Reader::new(self, leaves).path(index, 0, size, &mut path)?;
        Ok(path)
    }

    /// The proof that the tree of `from` leaves is a prefix of the tree of
    /// `to` leaves (RFC 9162 §2.1.4.1). Empty when `from == to`.
    pub fn consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>, TreeError> {
        self.consistency_with(from, to, &mut nothing_pruned)
    }

    /// [`Tree::consistency`], reading leaves below the floor through
    /// `leaves`.
    pub fn consistency_with<E: From<TreeError>>(
        &self,
        from: u64,
        to: u64,
        leaves: &mut Leaves<'_, E>,
    ) -> Result<Vec<Hash>, E> {
        self.check(to)?;
        if from == 0 || from > to {
            return Err(TreeError::BadRange { from, to }.into());
        }
        let mut proof = Vec::new();
        if from < to {
            Reader::new(self, leaves).subproof(from, 0, to, true, &mut proof)?;
        }
        Ok(proof)
    }
}

/// One answer's walk over a tree: RFC 9162's recursions, with the chunks
/// it had to read below the floor built once each.
struct Reader<'t, 'l, 'f, E> {
    tree: &'t Tree,
    leaves: &'l mut Leaves<'f, E>,
    /// Full subtrees of the chunks read, by chunk index.
    chunks: Vec<(u64, Tree)>,
}

impl<'t, 'l, 'f, E: From<TreeError>> Reader<'t, 'l, 'f, E> {
    fn new(tree: &'t Tree, leaves: &'l mut Leaves<'f, E>) -> Self {
        Reader {
            tree,
            leaves,
            chunks: Vec::new(),
        }
    }

    /// The hash of leaves `[start, end)`, `start < end ≤ size`: the stored
    /// node when the range is a perfect aligned subtree, a chunk's own
    /// subtree below the floor, otherwise RFC 9162's split at the largest
    /// power of two below the length.
    fn range(&mut self, start: u64, end: u64) -> Result<Hash, E> {
        let n = end - start;
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let k = n.trailing_zeros();
            if let Some(hash) = self.tree.stored(k, start >> k) {
                return Ok(hash);
            }
            if k < self.tree.floor {
                return self.in_chunk(start, end);
            }
        }
        let k = split(n);
        Ok(node_hash(
            &self.range(start, start + k)?,
            &self.range(start + k, end)?,
        ))
    }

    /// The hash of `[start, end)` inside one complete chunk, from that
    /// chunk's leaves.
    fn in_chunk(&mut self, start: u64, end: u64) -> Result<Hash, E> {
        let floor = self.tree.floor;
        let chunk = start >> floor;
        let first = chunk << floor;
        let at = match self.chunks.iter().position(|(c, _)| *c == chunk) {
            Some(at) => at,
            None => {
                let hashes = (self.leaves)(first, 1 << floor)?;
                if hashes.len() as u64 != 1 << floor {
                    return Err(TreeError::Pruned { first }.into());
                }
                let mut full = Tree::new();
                hashes.into_iter().for_each(|h| full.push(h));
                self.chunks.push((chunk, full));
                self.chunks.len() - 1
            }
        };
        let chunk = &self.chunks[at].1;
        Ok(Reader::new(chunk, &mut nothing_pruned).range(start - first, end - first)?)
    }

    fn path(&mut self, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) -> Result<(), E> {
        let n = end - start;
        if n <= 1 {
            return Ok(());
        }
        let k = split(n);
        if m < k {
            self.path(m, start, start + k, out)?;
            out.push(self.range(start + k, end)?);
        } else {
            self.path(m - k, start + k, end, out)?;
            out.push(self.range(start, start + k)?);
        }
        Ok(())
    }

    fn subproof(
        &mut self,
        m: u64,
        start: u64,
        end: u64,
        whole: bool,
        out: &mut Vec<Hash>,
    ) -> Result<(), E> {
        let n = end - start;
        if m == n {
            if !whole {
                out.push(self.range(start, end)?);
            }
            return Ok(());
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, start + k, whole, out)?;
            out.push(self.range(start + k, end)?);
        } else {
            self.subproof(m - k, start + k, end, false, out)?;
            out.push(self.range(start, start + k)?);
        }
        Ok(())
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
        t.truncate(23).unwrap();
        assert_eq!(t.size(), 23);
        assert_eq!(t.root(23).unwrap(), mth(&all[..23]));
        for l in &all[23..] {
            t.push(*l);
        }
        assert_eq!(t.root(40).unwrap(), mth(&all));
    }

    /// A pruned tree over `all`, and a reader of its leaves that counts
    /// the leaves it was asked for.
    fn pruned(all: &[Hash], floor: u32) -> Tree {
        let mut t = Tree::with_floor(floor);
        for l in all {
            t.push(*l);
        }
        t
    }

    fn reader<'a>(
        all: &'a [Hash],
        read: &'a std::cell::Cell<u64>,
    ) -> impl FnMut(u64, u64) -> Result<Vec<Hash>, TreeError> + 'a {
        move |first, count| {
            read.set(read.get() + count);
            Ok(all[first as usize..(first + count) as usize].to_vec())
        }
    }

    #[test]
    fn a_pruned_tree_answers_as_the_full_one_reading_a_few_chunks() {
        let all = leaves(100);
        let full = tree(&all);
        for floor in 1..=4u32 {
            let chunk = 1u64 << floor;
            let t = pruned(&all, floor);
            assert!(t.bytes() < full.bytes() / 2 || floor == 1, "{floor}");
            let read = std::cell::Cell::new(0);
            let mut leaves = reader(&all, &read);
            for size in 1..=100u64 {
                assert_eq!(
                    t.root_with(size, &mut leaves).unwrap(),
                    full.root(size).unwrap()
                );
                for index in 0..size {
                    read.set(0);
                    assert_eq!(
                        t.inclusion_with(index, size, &mut leaves).unwrap(),
                        full.inclusion(index, size).unwrap(),
                        "floor {floor}, {index} in {size}"
                    );
                    // The leaf's chunk and the size's: two chunks at most.
                    assert!(read.get() <= 2 * chunk, "read {}", read.get());
                }
                for from in 1..=size {
                    read.set(0);
                    assert_eq!(
                        t.consistency_with(from, size, &mut leaves).unwrap(),
                        full.consistency(from, size).unwrap(),
                        "floor {floor}, {from}..{size}"
                    );
                    assert!(read.get() <= 2 * chunk, "read {}", read.get());
                }
            }
            // The current root and a proof of the newest chunk need nothing.
            assert_eq!(t.root(100).unwrap(), full.root(100).unwrap());
            assert_eq!(t.leaf(99), (100 % chunk != 0).then_some(all[99]));
            assert_eq!(t.leaf(0), None);
            // Without a reader, a pruned node is an error, not a wrong hash.
            assert_eq!(t.inclusion(0, 100), Err(TreeError::Pruned { first: 0 }));
        }
    }

    #[test]
    fn a_pruned_tree_truncates_into_a_complete_chunk_and_grows_again() {
        let all = leaves(70);
        let read = std::cell::Cell::new(0);
        for cut in [0u64, 1, 15, 16, 17, 40, 63, 64, 65, 69] {
            let mut t = pruned(&all, 4);
            t.truncate_with(cut, &mut reader(&all, &read)).unwrap();
            assert_eq!(t.size(), cut);
            assert_eq!(
                t.root_with(cut, &mut reader(&all, &read)).unwrap(),
                mth(&all[..cut as usize])
            );
            for l in &all[cut as usize..] {
                t.push(*l);
            }
            assert_eq!(t, pruned(&all, 4), "cut at {cut}");
        }
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
            // The server's pruned tree gives the same answers.
            let read = std::cell::Cell::new(0);
            let p = pruned(&all, PRUNED_FLOOR);
            prop_assert_eq!(p.inclusion_with(index, size, &mut reader(&all, &read)).unwrap(), path.clone());
            prop_assert_eq!(p.consistency_with(from, size, &mut reader(&all, &read)).unwrap(), proof.clone());
            prop_assert_eq!(p.root_with(from, &mut reader(&all, &read)).unwrap(), t.root(from).unwrap());
            if from < size {
                prop_assert!(!verify_consistency(from, size, &t.root(from).unwrap(), &t.root(size - 1).unwrap(), &proof));
            }
        }
    }
}
