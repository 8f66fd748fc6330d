//! Archived segments: the embedded log's older blocks in immutable files
//! beside sled, read with positional reads.
//!
//! sled keeps what a scan read in memory long after it (its page cache does
//! not bound a scan: BENCHMARKS.md, "What sled's cache does not bound"), and
//! the whole log is read at every start. So once the durable blocks still
//! in sled pass `StoreConfig::archive_bytes`, the archiver ([`crate::SledLog`]'s
//! thread) copies them, byte for byte, into one new file under
//! `<db>/archive/`, makes the file and its name durable, publishes it here,
//! and only then removes the blocks from sled. A read of an archived block is
//! a positional read of its file: what was read stays in the kernel's page
//! cache, not in the process.
//!
//! Invariants (checked at open):
//! - the files are immutable once renamed into place, and hold consecutive
//!   positions: each begins where the one before it ended;
//! - a file's blocks are the blocks sled held, verbatim; a block the log
//!   also still holds in sled (a crash between publishing a file and
//!   removing its blocks) is identical and removed from sled at open;
//! - a block's bytes are checked against their CRC-32 on every read.
//!
//! File `<first>-<last>.seg` (positions, 20 digits each):
//!
//! ```text
//! "CHTSEG01"                                   8 bytes
//! per block: first u64 | len u32 | crc u32 | the block's bytes
//! index, per block: first u64 | offset u64 | len u32 | crc u32
//! trailer: index offset u64 | blocks u64 | index crc u32 | "CHTSEGIX"
//! ```
//!
//! (integers big-endian; `offset` is where the block's bytes begin).

use crate::error::StoreError;
use crate::record;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

const MAGIC: &[u8; 8] = b"CHTSEG01";
const INDEX_MAGIC: &[u8; 8] = b"CHTSEGIX";
const FRAME: u64 = 16;
const INDEX_ENTRY: usize = 24;
const TRAILER: u64 = 28;
/// Most bytes a scan reads with one positional read (whole blocks; one
/// block may be larger).
const RUN_BYTES: u64 = 1024 * 1024;
/// A scan's second read; its first reads one block.
const FIRST_RUN_BYTES: u64 = 64 * 1024;
/// The directory of the archived segments inside sled's directory.
pub(crate) const DIR: &str = "archive";

/// Where one block lies in its file.
#[derive(Debug, Clone, Copy)]
struct BlockAt {
    first: u64,
    offset: u64,
    len: u32,
    crc: u32,
}

/// A [`BlockAt`] as a segment holds it in memory: its first position
/// counted from the segment's, its offset in a file under 4 GiB (the
/// archiver writes none larger). 16 bytes, not 24: a segment of small
/// blocks (group commits of a few records) holds tens of thousands, and
/// the index of a 2,000,000-event log took 14 MB.
#[derive(Debug, Clone, Copy)]
struct Packed {
    first: u32,
    offset: u32,
    len: u32,
    crc: u32,
}

/// Most bytes of one segment file.
const SEGMENT_MAX: u64 = u32::MAX as u64;

/// One immutable file of consecutive blocks.
#[derive(Debug)]
struct Segment {
    first: u64,
    last: u64,
    bytes: u64,
    file: File,
    path: PathBuf,
    blocks: Vec<Packed>,
}

fn io_error(path: &Path, what: &str, error: std::io::Error) -> StoreError {
    StoreError::Backend(format!("{what} {}: {error}", path.display()))
}

fn corrupt(position: u64, path: &Path, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        position,
        reason: format!("archived segment {}: {reason}", path.display()),
    }
}

fn be_u64(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_be_bytes(b)
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_be_bytes(b)
}

fn file_name(first: u64, last: u64) -> String {
    format!("{first:020}-{last:020}.seg")
}

/// `(first, last)` from a segment's file name.
fn parse_name(name: &str) -> Option<(u64, u64)> {
    let stem = name.strip_suffix(".seg")?;
    let (first, last) = stem.split_once('-')?;
    Some((first.parse().ok()?, last.parse().ok()?))
}

impl Segment {
    fn open(path: PathBuf, first: u64, last: u64) -> Result<Segment, StoreError> {
        let file = File::open(&path).map_err(|e| io_error(&path, "opening", e))?;
        let size = file
            .metadata()
            .map_err(|e| io_error(&path, "reading the size of", e))?
            .len();
        let bad = |reason: &str| corrupt(first, &path, reason);
        if size < MAGIC.len() as u64 + TRAILER {
            return Err(bad("shorter than its header and trailer"));
        }
        let mut header = [0u8; 8];
        file.read_exact_at(&mut header, 0)
            .map_err(|e| io_error(&path, "reading", e))?;
        if &header != MAGIC {
            return Err(bad("not a segment (wrong header)"));
        }
        let mut trailer = [0u8; TRAILER as usize];
        file.read_exact_at(&mut trailer, size - TRAILER)
            .map_err(|e| io_error(&path, "reading", e))?;
        if &trailer[20..28] != INDEX_MAGIC {
            return Err(bad("no index trailer (a file cut short?)"));
        }
        let index_at = be_u64(&trailer, 0);
        let count = be_u64(&trailer, 8);
        let index_len = count
            .checked_mul(INDEX_ENTRY as u64)
            .filter(|len| index_at.checked_add(*len) == Some(size - TRAILER))
            .ok_or_else(|| bad("index does not fit the file"))?;
        let mut index = vec![0u8; index_len as usize];
        file.read_exact_at(&mut index, index_at)
            .map_err(|e| io_error(&path, "reading", e))?;
        if crc32fast::hash(&index) != be_u32(&trailer, 16) {
            return Err(bad("index fails its checksum"));
        }
        if size > SEGMENT_MAX || last - first > u64::from(u32::MAX) {
            return Err(bad("larger than a segment can be (4 GiB, 2^32 positions)"));
        }
        let blocks: Vec<BlockAt> = index
            .chunks_exact(INDEX_ENTRY)
            .map(|e| BlockAt {
                first: be_u64(e, 0),
                offset: be_u64(e, 8),
                len: be_u32(e, 16),
                crc: be_u32(e, 20),
            })
            .collect();
        let ordered = blocks.windows(2).all(|w| w[0].first < w[1].first);
        let inside = blocks.iter().all(|b| {
            b.offset >= FRAME
                && b.offset + u64::from(b.len) <= index_at
                && (first..=last).contains(&b.first)
        });
        if blocks.first().map(|b| b.first) != Some(first) || !ordered || !inside {
            return Err(bad("index does not match the file's name or blocks"));
        }
        // Both fit: checked above against the file's size and positions.
        let blocks = blocks
            .iter()
            .map(|b| Packed {
                first: (b.first - first) as u32,
                offset: b.offset as u32,
                len: b.len,
                crc: b.crc,
            })
            .collect();
        let segment = Segment {
            first,
            last,
            bytes: size,
            file,
            path,
            blocks,
        };
        // The last block must end exactly at the name's last position.
        let tail = segment.blocks.len() - 1;
        let tail_first = segment.block(tail).first;
        let block = segment.read(tail)?;
        let records = record::block_records(&block)
            .map_err(|reason| corrupt(tail_first, &segment.path, reason))?;
        if tail_first + records.len() as u64 - 1 != last {
            return Err(corrupt(
                first,
                &segment.path,
                "its last block does not end at the name's last position",
            ));
        }
        Ok(segment)
    }

    /// Where block `k` lies.
    fn block(&self, k: usize) -> BlockAt {
        let b = self.blocks[k];
        BlockAt {
            first: self.first + u64::from(b.first),
            offset: u64::from(b.offset),
            len: b.len,
            crc: b.crc,
        }
    }

    /// The bytes of block `i`, checked against their CRC.
    fn read(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        let mut bytes = Vec::new();
        let run = self.read_run(i, 0, &mut bytes)?;
        debug_assert_eq!(run, i + 1);
        Ok(bytes)
    }

    /// Reads blocks `i..end` into `buf` with one positional read: block
    /// `i`, and those after it while the run stays within `budget` bytes.
    /// Returns `end`. Each block's bytes are at `blocks[k].offset -
    /// blocks[i].offset` in `buf`, unchecked (see [`Segment::checked`]).
    fn read_run(&self, i: usize, budget: u64, buf: &mut Vec<u8>) -> Result<usize, StoreError> {
        let start = self.block(i).offset;
        let mut end = i + 1;
        while end < self.blocks.len() {
            let next = self.block(end);
            if next.offset + u64::from(next.len) - start > budget {
                break;
            }
            end += 1;
        }
        let last = self.block(end - 1);
        let len = (last.offset + u64::from(last.len) - start) as usize;
        buf.clear();
        buf.resize(len, 0);
        self.file
            .read_exact_at(buf, start)
            .map_err(|e| io_error(&self.path, "reading", e))?;
        if end == i + 1 {
            self.checked(i, start, buf)?;
        }
        Ok(end)
    }

    /// Block `k`'s bytes in a run read from `start`, checked against their CRC.
    fn checked<'b>(&self, k: usize, start: u64, run: &'b [u8]) -> Result<&'b [u8], StoreError> {
        let at = self.block(k);
        let from = (at.offset - start) as usize;
        let bytes = &run[from..from + at.len as usize];
        if crc32fast::hash(bytes) != at.crc {
            return Err(corrupt(at.first, &self.path, "a block fails its checksum"));
        }
        Ok(bytes)
    }

    /// The index of the block holding `position` (which the segment holds).
    fn block_for(&self, position: u64) -> usize {
        let Some(delta) = position.checked_sub(self.first) else {
            return 0;
        };
        self.blocks
            .partition_point(|b| u64::from(b.first) <= delta)
            .saturating_sub(1)
    }
}

/// The archived segments of one log, in order.
#[derive(Debug)]
pub(crate) struct Archive {
    dir: PathBuf,
    segments: RwLock<Vec<Arc<Segment>>>,
}

impl Archive {
    /// Opens `<db>/archive`, creating it, removing files a crash left half
    /// written, and checking that the segments follow one another.
    pub(crate) fn open(db_path: &Path) -> Result<Archive, StoreError> {
        let dir = db_path.join(DIR);
        fs::create_dir_all(&dir).map_err(|e| io_error(&dir, "creating", e))?;
        let mut found = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| io_error(&dir, "listing", e))? {
            let entry = entry.map_err(|e| io_error(&dir, "listing", e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.ends_with(".tmp") {
                // Written by an archiver that never renamed it: its blocks are
                // still in sled.
                fs::remove_file(&path).map_err(|e| io_error(&path, "removing", e))?;
                continue;
            }
            match parse_name(&name) {
                Some((first, last)) if first <= last => found.push((first, last, path)),
                _ => {
                    return Err(StoreError::Backend(format!(
                        "unexpected file {} among the archived segments",
                        path.display()
                    )))
                }
            }
        }
        found.sort_by_key(|(first, _, _)| *first);
        let mut segments = Vec::with_capacity(found.len());
        let mut expected: Option<u64> = None;
        for (first, last, path) in found {
            if let Some(expected) = expected {
                if first != expected {
                    return Err(StoreError::Corrupt {
                        position: expected,
                        reason: format!(
                            "archived segments skip or repeat positions: {} follows one ending at {}",
                            path.display(),
                            expected - 1
                        ),
                    });
                }
            }
            expected = Some(last + 1);
            segments.push(Arc::new(Segment::open(path, first, last)?));
        }
        Ok(Archive {
            dir,
            segments: RwLock::new(segments),
        })
    }

    fn segments(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<Segment>>> {
        self.segments.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The first archived position, if any is archived.
    pub(crate) fn first(&self) -> Option<u64> {
        self.segments().first().map(|s| s.first)
    }

    /// The last archived position, if any is archived.
    pub(crate) fn last(&self) -> Option<u64> {
        self.segments().last().map(|s| s.last)
    }

    /// Bytes of every segment on disk.
    pub(crate) fn bytes(&self) -> u64 {
        self.segments().iter().map(|s| s.bytes).sum()
    }

    /// The segment holding `position`, if one does.
    fn segment_for(&self, position: u64) -> Option<Arc<Segment>> {
        let segments = self.segments();
        let i = segments.partition_point(|s| s.last < position);
        segments
            .get(i)
            .filter(|s| s.first <= position)
            .map(Arc::clone)
    }

    /// The block holding `position` and its first position, if archived.
    pub(crate) fn block_at(&self, position: u64) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let Some(segment) = self.segment_for(position) else {
            return Ok(None);
        };
        let i = segment.block_for(position);
        Ok(Some((segment.block(i).first, segment.read(i)?)))
    }

    /// Visits the archived blocks from the one holding `from` on, in order,
    /// while `visit(first, block)` returns true. Returns the position after
    /// the last block visited (`from` if none was).
    pub(crate) fn visit_from(
        &self,
        from: u64,
        mut visit: impl FnMut(u64, &[u8]) -> Result<bool, StoreError>,
    ) -> Result<u64, StoreError> {
        let mut next = from;
        let mut buf = Vec::new();
        // One block first (a reader of a few records stops there), then
        // runs twice as long each time, up to RUN_BYTES.
        let mut budget = 0;
        while let Some(segment) = self.segment_for(next) {
            let mut i = segment.block_for(next);
            while i < segment.blocks.len() {
                let start = segment.block(i).offset;
                let end = segment.read_run(i, budget, &mut buf)?;
                budget = (budget * 2).clamp(FIRST_RUN_BYTES, RUN_BYTES);
                for k in i..end {
                    let block = segment.checked(k, start, &buf)?;
                    next = if k + 1 < segment.blocks.len() {
                        segment.block(k + 1).first
                    } else {
                        segment.last + 1
                    };
                    if !visit(segment.block(k).first, block)? {
                        return Ok(next);
                    }
                }
                i = end;
            }
        }
        Ok(next)
    }

    /// Begins a new segment at `first`, the position right after the last
    /// archived one: blocks are written to it one at a time
    /// ([`SegmentWriter::push`]), so that archiving holds one block in
    /// memory, not the whole segment (it held 32 MiB of blocks at once,
    /// every few seconds under writes: BENCHMARKS.md, "The archiver holds
    /// one block").
    pub(crate) fn begin(&self, first: u64) -> Result<SegmentWriter<'_>, StoreError> {
        if let Some(archived) = self.last() {
            if first != archived + 1 {
                return Err(StoreError::Backend(format!(
                    "archiving from {first}, but the archived segments end at {archived}"
                )));
            }
        }
        // Named by its first position until it is whole; `.tmp` files are
        // removed at open (their blocks are still in sled).
        let partial = self.dir.join(format!("{first:020}.seg.tmp"));
        let file = File::create(&partial).map_err(|e| io_error(&partial, "creating", e))?;
        let mut writer = SegmentWriter {
            archive: self,
            first,
            partial,
            out: Some(BufWriter::with_capacity(1 << 20, file)),
            offset: MAGIC.len() as u64,
            index: Vec::new(),
            blocks: 0,
        };
        writer.write(MAGIC)?;
        Ok(writer)
    }
}

/// A segment being written ([`Archive::begin`]): its blocks in order, then
/// [`SegmentWriter::finish`] writes the index, makes the file and its name
/// durable and publishes it. Dropped unfinished, its file is removed.
pub(crate) struct SegmentWriter<'a> {
    archive: &'a Archive,
    first: u64,
    partial: PathBuf,
    out: Option<BufWriter<File>>,
    offset: u64,
    index: Vec<u8>,
    blocks: u64,
}

impl SegmentWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| StoreError::Backend("a segment written after it failed".into()))?;
        if let Err(e) = out.write_all(bytes) {
            self.out = None;
            return Err(io_error(&self.partial, "writing", e));
        }
        Ok(())
    }

    /// Appends the block whose first position is `first` (the position
    /// after the previous block's last: the caller checks).
    pub(crate) fn push(&mut self, first: u64, block: &[u8]) -> Result<(), StoreError> {
        let len = u32::try_from(block.len())
            .map_err(|_| StoreError::Backend(format!("a block over 4 GiB at {first}")))?;
        let end =
            self.offset + FRAME + u64::from(len) + (self.blocks + 1) * INDEX_ENTRY as u64 + TRAILER;
        if end > SEGMENT_MAX {
            return Err(StoreError::Backend(
                "a segment over 4 GiB (archive fewer bytes at a time)".into(),
            ));
        }
        let crc = crc32fast::hash(block);
        let mut frame = [0u8; FRAME as usize];
        frame[..8].copy_from_slice(&first.to_be_bytes());
        frame[8..12].copy_from_slice(&len.to_be_bytes());
        frame[12..].copy_from_slice(&crc.to_be_bytes());
        self.write(&frame)?;
        self.write(block)?;
        self.index.extend_from_slice(&first.to_be_bytes());
        self.index
            .extend_from_slice(&(self.offset + FRAME).to_be_bytes());
        self.index.extend_from_slice(&len.to_be_bytes());
        self.index.extend_from_slice(&crc.to_be_bytes());
        self.offset += FRAME + u64::from(len);
        self.blocks += 1;
        Ok(())
    }

    /// Writes the index, makes the segment durable under its name
    /// (`last`: the last position of its last block) and publishes it.
    pub(crate) fn finish(mut self, last: u64) -> Result<(), StoreError> {
        let index = std::mem::take(&mut self.index);
        self.write(&index)?;
        let mut trailer = Vec::with_capacity(TRAILER as usize);
        trailer.extend_from_slice(&self.offset.to_be_bytes());
        trailer.extend_from_slice(&self.blocks.to_be_bytes());
        trailer.extend_from_slice(&crc32fast::hash(&index).to_be_bytes());
        trailer.extend_from_slice(INDEX_MAGIC);
        self.write(&trailer)?;
        let path = self.archive.dir.join(file_name(self.first, last));
        let out = self
            .out
            .take()
            .ok_or_else(|| StoreError::Backend("a segment written after it failed".into()))?;
        let durable = || -> std::io::Result<()> {
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            fs::rename(&self.partial, &path)?;
            File::open(&self.archive.dir)?.sync_all()
        };
        durable().map_err(|e| io_error(&path, "writing", e))?;
        let segment = Segment::open(path, self.first, last)?;
        self.archive
            .segments
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::new(segment));
        Ok(())
    }
}

impl Drop for SegmentWriter<'_> {
    fn drop(&mut self) {
        // Unfinished (or failed): nothing names it, its blocks stay in
        // sled. (Finished, it was renamed: nothing to remove.) A file a
        // failing removal leaves goes at the next open.
        let _ = fs::remove_file(&self.partial);
    }
}
