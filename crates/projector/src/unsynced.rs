//! Read models written without waiting for the disk, and how a start finds
//! out that the machine stopped under them.
//!
//! sled makes every I/O buffer it writes wait for the disk
//! (`sync_file_range`), and every sled batch writes at least one: under
//! durable writes through the API that was one disk wait per projected
//! chunk, for data the log can always give again (BENCHMARKS.md, "Read
//! models that do not wait for the disk"). The projector opens its
//! database with `sync_buffers(false)` (vendor/README.md, change 6): what
//! it writes reaches the operating system's page cache at once and the disk
//! within sled's periodic flush (half a second), at a clean close, or when
//! the kernel writes it back.
//!
//! What that can lose, and why nothing wrong is ever read:
//!
//! - **The process dies** (SIGKILL, a panic, the OOM killer): the page
//!   cache outlives it. Every write sled completed is there, in order, as
//!   if it had waited; it recovers as it always does.
//! - **The machine stops** (power, kernel panic, a VM reset): writes not
//!   yet on the disk may be lost, some but not others. Before its first
//!   write the projector leaves a marker in its directory holding the
//!   kernel's boot id (`/proc/sys/kernel/random/boot_id`, new at every
//!   boot); a clean close writes everything out and removes it. A start
//!   that finds a marker of another boot throws the read models away
//!   unopened and rebuilds them from the log, as for a change of shape.
//!
//! Where no boot id can be read (not Linux), sled waits for the disk as
//! before and no marker is written.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The marker's file name, inside the read models' directory.
pub(crate) const MARKER: &str = "unsynced";

/// This boot of the machine, or `None` where the kernel does not say.
pub(crate) fn boot_id() -> Option<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = id.trim();
    (!id.is_empty()).then(|| id.to_owned())
}

/// The boot that left the read models at `dir` written but maybe not on
/// the disk, when it is not `boot` (what its marker says, readable or
/// not): they may have lost writes.
pub(crate) fn lost_writes(dir: &Path, boot: &str) -> Option<String> {
    let left = std::fs::read(dir.join(MARKER)).ok()?;
    let left = String::from_utf8_lossy(&left).trim().to_owned();
    (left != boot).then_some(left)
}

/// Leaves the marker of `boot` in `dir` (created if missing), on the disk
/// before this returns: the file and the directory entry.
pub(crate) fn mark(dir: &Path, boot: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(MARKER);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    file.write_all(boot.as_bytes())?;
    file.sync_all()?;
    File::open(dir)?.sync_all()
}

/// Puts every file under `dir` on the disk (fsync works on the file, from
/// any descriptor): what sled wrote without waiting, its blobs included.
pub(crate) fn sync_all(dir: &Path) -> std::io::Result<()> {
    let mut pending: Vec<PathBuf> = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                File::open(entry.path())?.sync_all()?;
            }
        }
        File::open(&next)?.sync_all()?;
    }
    Ok(())
}

/// Removes the marker from `dir` once everything is on the disk.
pub(crate) fn clear(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(dir.join(MARKER)) {
        Ok(()) => File::open(dir)?.sync_all(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
