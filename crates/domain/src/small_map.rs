//! [`SmallMap`]: an ordered map for the few entries one indicator holds
//! (its targets per track, its reports), kept as a sorted vector.
//!
//! The command service keeps every indicator's state in memory, so the
//! map's footprint is multiplied by the number of indicators: a
//! `BTreeMap` allocates a whole node of eleven slots for its first entry
//! (some 2 KB for three reports), a sorted vector just what it holds. It
//! iterates in key order, as the `BTreeMap` it replaces did, so nothing
//! that walks it (approval digests, decisions) sees a different order.
//! The read models' views use it too (a `BTreeMap` of two target tracks
//! took a node of eleven slots, 2.5 KB, in every view held in memory),
//! and it reads and writes the same JSON as a `BTreeMap`.

use std::borrow::Borrow;

/// An ordered map over a sorted vector: lookups by binary search, inserts
/// by shifting. Meant for a handful of entries; correct for any number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmallMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        SmallMap {
            entries: Vec::new(),
        }
    }
}

/// Up to this many entries the vector grows one slot at a time (no
/// spare capacity held per indicator); past it, by doubling (no quadratic
/// copying for an indicator with a long list of reports).
const EXACT_UP_TO: usize = 8;

impl<K: Ord, V> SmallMap<K, V> {
    /// An empty map (allocates nothing).
    pub fn new() -> Self {
        Self::default()
    }

    fn find<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// The value at `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// The value at `key`, to change.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    /// Whether `key` has a value.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                if self.entries.len() == self.entries.capacity() && self.entries.len() < EXACT_UP_TO
                {
                    self.entries.reserve_exact(1);
                }
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Removes `key`; returns its value.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Values in key order, to change.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many entries it has room for without growing: with the size of
    /// an entry, what it holds in memory.
    pub fn capacity(&self) -> usize {
        self.entries.capacity()
    }
}

impl<K: Ord, V, Q> std::ops::Index<&Q> for SmallMap<K, V>
where
    K: Borrow<Q>,
    Q: Ord + ?Sized,
{
    type Output = V;

    /// The value at `key`; panics when there is none (as `BTreeMap`'s).
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry for the key in SmallMap")
    }
}

impl<'a, K: Ord, V> IntoIterator for &'a SmallMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SmallMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = SmallMap::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

/// Written as a map, entries in key order: the same bytes a `BTreeMap`
/// of the same entries writes (views stored as JSON keep their form).
impl<K: serde::Serialize, V: serde::Serialize> serde::Serialize for SmallMap<K, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.entries.iter().map(|(k, v)| (k, v)))
    }
}

/// Read from a map, in whatever order it lists its keys (a key given
/// twice keeps its last value, as a `BTreeMap` read the same way does).
impl<'de, K, V> serde::Deserialize<'de> for SmallMap<K, V>
where
    K: Ord + serde::Deserialize<'de>,
    V: serde::Deserialize<'de>,
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K, V> serde::de::Visitor<'de> for Entries<K, V>
        where
            K: Ord + serde::Deserialize<'de>,
            V: serde::Deserialize<'de>,
        {
            type Value = SmallMap<K, V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<Self::Value, A::Error> {
                let mut map = SmallMap::new();
                while let Some((key, value)) = access.next_entry()? {
                    map.insert(key, value);
                }
                Ok(map)
            }
        }
        deserializer.deserialize_map(Entries(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Any sequence of inserts and removes leaves the same entries, in
        /// the same order, as a `BTreeMap` given the same sequence.
        #[test]
        fn behaves_as_a_btree_map(ops in proptest::collection::vec((any::<bool>(), 0u8..40, any::<u16>()), 0..200)) {
            let mut small = SmallMap::new();
            let mut reference = BTreeMap::new();
            for (insert, key, value) in ops {
                if insert {
                    prop_assert_eq!(small.insert(key, value), reference.insert(key, value));
                } else {
                    prop_assert_eq!(small.remove(&key), reference.remove(&key));
                }
                prop_assert_eq!(small.len(), reference.len());
            }
            let got: Vec<_> = small.iter().collect();
            let want: Vec<_> = reference.iter().collect();
            prop_assert_eq!(got, want);
            for key in 0u8..40 {
                prop_assert_eq!(small.get(&key), reference.get(&key));
                prop_assert_eq!(small.contains_key(&key), reference.contains_key(&key));
            }
        }
    }

    #[test]
    fn writes_and_reads_the_json_a_btree_map_does() {
        let reference: BTreeMap<String, u32> =
            [("b".into(), 2), ("a".into(), 1), ("c".into(), 3)].into();
        let small: SmallMap<String, u32> = reference.clone().into_iter().collect();
        let json = serde_json::to_string(&reference).unwrap();
        assert_eq!(serde_json::to_string(&small).unwrap(), json);
        let read: SmallMap<String, u32> = serde_json::from_str(r#"{"c":3,"a":1,"b":2}"#).unwrap();
        assert_eq!(read, small);
        assert_eq!(read.capacity(), 3);
    }

    #[test]
    fn holds_no_spare_slots_while_small() {
        let mut map = SmallMap::new();
        for key in [3u32, 1, 2] {
            map.insert(key, ());
        }
        assert_eq!(map.entries.capacity(), 3);
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
    }
}
