//! The sled log's stream index, in memory: each stream's positions by
//! version (version `v` at index `v - 1`). Derived from the blocks, which
//! are the log: built by one scan when the log opens, extended by the
//! writer as it inserts blocks. Keeping it out of sled saves one sled
//! insert per record on every append and restore (the cost that bounded
//! both), at 8 bytes per event and a scan at open (see BENCHMARKS.md).

use std::collections::HashMap;
use std::sync::RwLock;

/// Positions of every stream, by version.
#[derive(Debug, Default)]
pub(crate) struct StreamIndex {
    streams: RwLock<HashMap<Box<str>, Vec<u64>>>,
}

impl StreamIndex {
    /// The stream's last version, counting records up to `head` only.
    pub(crate) fn version_at(&self, stream: &str, head: u64) -> u64 {
        let Ok(streams) = self.streams.read() else {
            return 0;
        };
        let Some(positions) = streams.get(stream) else {
            return 0;
        };
        // Positions grow with versions: count those at or below the head.
        positions.partition_point(|p| *p <= head) as u64
    }

    /// The stream's last version, whatever the head.
    pub(crate) fn version(&self, stream: &str) -> u64 {
        self.version_at(stream, u64::MAX)
    }

    /// Positions of up to `limit` versions from `from_version`, at or
    /// below `head`.
    pub(crate) fn positions(
        &self,
        stream: &str,
        from_version: u64,
        limit: usize,
        head: u64,
    ) -> Vec<u64> {
        let Ok(streams) = self.streams.read() else {
            return Vec::new();
        };
        let Some(positions) = streams.get(stream) else {
            return Vec::new();
        };
        let start = usize::try_from(from_version.max(1) - 1).unwrap_or(usize::MAX);
        positions
            .iter()
            .skip(start)
            .take_while(|p| **p <= head)
            .take(limit)
            .copied()
            .collect()
    }

    /// Records `(stream, version, position)`s in log order. A version the
    /// index already holds is skipped (a block seen twice); a gap is an
    /// error (the log would not be gap-free).
    pub(crate) fn extend<'a>(
        &self,
        records: impl IntoIterator<Item = (&'a str, u64, u64)>,
    ) -> Result<(), String> {
        let mut streams = self
            .streams
            .write()
            .map_err(|_| "stream index poisoned".to_owned())?;
        for (stream, version, position) in records {
            let positions = match streams.get_mut(stream) {
                Some(p) => p,
                None => streams.entry(stream.into()).or_default(),
            };
            let next = positions.len() as u64 + 1;
            if version < next {
                continue;
            }
            if version > next {
                return Err(format!(
                    "stream {stream} jumps from version {} to {version} at position {position}",
                    next - 1
                ));
            }
            positions.push(position);
        }
        Ok(())
    }

    /// Streams and events indexed, for logs and benchmarks.
    pub(crate) fn size(&self) -> (usize, usize) {
        self.streams
            .read()
            .map(|s| (s.len(), s.values().map(Vec::len).sum()))
            .unwrap_or((0, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_positions_follow_the_head() {
        let index = StreamIndex::default();
        index
            .extend([("a", 1, 1), ("b", 1, 2), ("a", 2, 3), ("a", 3, 5)])
            .unwrap();
        assert_eq!(index.version("a"), 3);
        assert_eq!(index.version_at("a", 4), 2);
        assert_eq!(index.positions("a", 2, 10, 4), vec![3]);
        assert_eq!(index.positions("a", 1, 2, 10), vec![1, 3]);
        assert_eq!(index.positions("c", 1, 2, 10), Vec::<u64>::new());
        // Seen again: skipped; a gap: refused.
        index.extend([("a", 3, 5)]).unwrap();
        assert!(index.extend([("b", 3, 9)]).is_err());
        assert_eq!(index.size(), (2, 4));
    }
}
