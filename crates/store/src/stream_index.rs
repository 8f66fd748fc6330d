//! The sled log's stream index, in memory: each stream's positions by
//! version (version `v` at index `v - 1`). Derived from the blocks, which
//! are the log: built by one scan when the log opens, extended by the
//! writer as it inserts blocks. Keeping it out of sled saves one sled
//! insert per record on every append and restore (the cost that bounded
//! both), at 4 bytes per event while positions fit in 32 bits (8 past
//! them) and a scan at open (see BENCHMARKS.md).

use std::collections::HashMap;
use std::sync::RwLock;

/// Positions of every stream, by version.
#[derive(Debug, Default)]
pub(crate) struct StreamIndex {
    streams: RwLock<HashMap<Box<str>, Positions>>,
}

/// One stream's positions, in order: 32 bits each until a position needs
/// more (four billion events into the log), then 64. At 2,000,000 events
/// in 100,000 streams a `Vec<u64>` each took 36 MB with the slack of its
/// doublings; see [`StreamIndex::shrink`].
#[derive(Debug)]
enum Positions {
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

impl Default for Positions {
    fn default() -> Self {
        Positions::Narrow(Vec::new())
    }
}

impl Positions {
    fn len(&self) -> usize {
        match self {
            Positions::Narrow(p) => p.len(),
            Positions::Wide(p) => p.len(),
        }
    }

    fn push(&mut self, position: u64) {
        match self {
            Positions::Narrow(p) => match u32::try_from(position) {
                Ok(narrow) => p.push(narrow),
                Err(_) => {
                    let mut wide: Vec<u64> = p.iter().map(|&n| u64::from(n)).collect();
                    wide.push(position);
                    *self = Positions::Wide(wide);
                }
            },
            Positions::Wide(p) => p.push(position),
        }
    }

    /// How many positions are at or below `head` (they grow with versions).
    fn count_at(&self, head: u64) -> usize {
        match self {
            Positions::Narrow(p) => p.partition_point(|n| u64::from(*n) <= head),
            Positions::Wide(p) => p.partition_point(|n| *n <= head),
        }
    }

    /// Positions from index `start` on, at or below `head`, at most `limit`.
    fn from(&self, start: usize, limit: usize, head: u64) -> Vec<u64> {
        let end = start.saturating_add(limit).min(self.count_at(head));
        if start >= end {
            return Vec::new();
        }
        match self {
            Positions::Narrow(p) => p[start..end].iter().map(|&n| u64::from(n)).collect(),
            Positions::Wide(p) => p[start..end].to_vec(),
        }
    }

    fn shrink(&mut self) {
        match self {
            Positions::Narrow(p) => p.shrink_to_fit(),
            Positions::Wide(p) => p.shrink_to_fit(),
        }
    }
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
        positions.count_at(head) as u64
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
        positions.from(start, limit, head)
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

    /// Gives back the room each stream's positions grew into: called once
    /// the scan at open has built the index, where a stream's vector is
    /// otherwise up to half empty (the writer's later pushes grow them
    /// again, one doubling at a time).
    pub(crate) fn shrink(&self) {
        if let Ok(mut streams) = self.streams.write() {
            streams.values_mut().for_each(Positions::shrink);
            streams.shrink_to_fit();
        }
    }

    /// Streams and events indexed, for logs and benchmarks.
    pub(crate) fn size(&self) -> (usize, usize) {
        self.streams
            .read()
            .map(|s| (s.len(), s.values().map(Positions::len).sum()))
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

    #[test]
    fn positions_past_32_bits_are_kept_whole() {
        let index = StreamIndex::default();
        let far = u64::from(u32::MAX) + 7;
        index
            .extend([("a", 1, 3), ("a", 2, u64::from(u32::MAX)), ("a", 3, far)])
            .unwrap();
        index.shrink();
        index.extend([("a", 4, far + 1)]).unwrap();
        assert_eq!(index.version("a"), 4);
        assert_eq!(index.version_at("a", far - 1), 2);
        assert_eq!(
            index.positions("a", 1, 10, u64::MAX),
            vec![3, u64::from(u32::MAX), far, far + 1]
        );
        assert_eq!(index.positions("a", 3, 1, u64::MAX), vec![far]);
        assert_eq!(index.positions("a", 5, 1, u64::MAX), Vec::<u64>::new());
        assert_eq!(index.positions("a", 2, 10, 3), Vec::<u64>::new());
    }
}
