//! The server's allocator: jemalloc, purging freed memory within a second
//! from a background thread, from one arena for all threads.
//!
//! The server frees a lot at start (three scans of the whole log) and
//! under writes (views, figures and sled pages let go in turn), from many
//! threads. How much of that an allocator keeps is most of the distance
//! between the server's heap and its RSS: at 100,000 indicators after
//! 40 s of writes the heap was ~270 MB, mimalloc 3 (purge delay 10 ms)
//! held 412–429 MiB and jemalloc with these options 369–373 MiB, writing
//! as fast or faster (BENCHMARKS.md, "jemalloc instead of mimalloc").
//!
//! The options ([`MALLOC_CONF`]): a background thread purges dirty pages
//! (`background_thread`), those unused for a second go back to the OS
//! (`dirty_decay_ms:1000`, jemalloc's default is ten) and straight away,
//! not through a second, "muzzy" stage (`muzzy_decay_ms:0`), and every
//! thread allocates from one arena (`narenas:1`; jemalloc's default is
//! four per CPU): each arena keeps its own freed pages and its own
//! partly used ones, and at 100,000 indicators under writes eight arenas
//! held 440 MiB where one held 372, at 2–3 % more CPU a write at 10,000
//! (BENCHMARKS.md, "Held reports at half the size").
//! `_RJEM_MALLOC_CONF` in the environment still decides what it names
//! (jemalloc reads it after this string).
//!
//! This is the one crate of the workspace with `unsafe` code: the exported
//! options string, and the reads of jemalloc's options in [`settings`].

use std::ffi::c_char;

/// The allocator, for the binaries' `#[global_allocator]`.
pub use tikv_jemallocator::Jemalloc as Allocator;

/// The options string, NUL-terminated, as jemalloc reads it.
pub const OPTIONS: &[u8] =
    b"narenas:1,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// A pointer jemalloc reads at start; see [`MALLOC_CONF`].
#[repr(transparent)]
pub struct Conf(*const c_char);

// SAFETY: the pointer is to a `'static`, immutable byte string; nothing
// writes through it.
#[allow(unsafe_code)]
unsafe impl Sync for Conf {}

/// jemalloc's `malloc_conf` (`_rjem_malloc_conf`: tikv-jemalloc-sys
/// builds jemalloc with the `_rjem_` prefix), the options it reads before
/// the first allocation. [`settings`] refers to it, so that the linker
/// keeps it in every binary that asks for them.
#[allow(unsafe_code, non_upper_case_globals)]
// SAFETY: jemalloc declares `const char *malloc_conf` and reads it once,
// at its initialisation; `Conf` is a transparent `*const c_char` to a
// NUL-terminated `'static` string, and no other symbol of the program has
// this name (jemalloc's own definition is weak, to be overridden so).
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: Conf = Conf(OPTIONS.as_ptr().cast());

/// The options jemalloc runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Whether a background thread purges.
    pub background_thread: bool,
    /// How many arenas threads allocate from.
    pub narenas: u32,
    /// Milliseconds before unused dirty pages go back to the OS.
    pub dirty_decay_ms: isize,
    /// The same for muzzy pages.
    pub muzzy_decay_ms: isize,
}

/// The options in effect (what [`MALLOC_CONF`] and the environment set);
/// `None` if jemalloc cannot say (it is not the allocator in use).
pub fn settings() -> Option<Settings> {
    std::hint::black_box(&MALLOC_CONF);
    #[allow(unsafe_code)]
    // SAFETY: `opt.dirty_decay_ms` and `opt.muzzy_decay_ms` are `ssize_t`
    // in jemalloc's documentation (MALLCTL NAMESPACE), read as `isize`;
    // the names are NUL-terminated.
    let (dirty, muzzy) = unsafe {
        (
            tikv_jemalloc_ctl::raw::read::<isize>(b"opt.dirty_decay_ms\0"),
            tikv_jemalloc_ctl::raw::read::<isize>(b"opt.muzzy_decay_ms\0"),
        )
    };
    Some(Settings {
        background_thread: tikv_jemalloc_ctl::opt::background_thread::read().ok()?,
        narenas: tikv_jemalloc_ctl::opt::narenas::read().ok()?,
        dirty_decay_ms: dirty.ok()?,
        muzzy_decay_ms: muzzy.ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static GLOBAL: Allocator = Allocator;

    /// Set by [`the_environment_still_decides`] for the copy of this test
    /// binary it runs.
    const PROBE: &str = "CHITIEU_ALLOC_PROBE";

    #[test]
    fn jemalloc_runs_with_the_options_string() {
        if std::env::var_os("_RJEM_MALLOC_CONF").is_some() {
            return;
        }
        assert_eq!(
            settings(),
            Some(Settings {
                background_thread: true,
                narenas: 1,
                dirty_decay_ms: 1000,
                muzzy_decay_ms: 0,
            })
        );
    }

    /// Runs this test binary again with `_RJEM_MALLOC_CONF` naming one
    /// option: that one follows the environment, the others the string.
    #[test]
    fn the_environment_still_decides() {
        if std::env::var_os(PROBE).is_some() {
            let s = settings().expect("jemalloc");
            assert_eq!((s.dirty_decay_ms, s.muzzy_decay_ms), (1234, 0));
            assert!(s.background_thread);
            assert_eq!(s.narenas, 1);
            return;
        }
        let me = std::env::current_exe().expect("the test binary");
        let out = std::process::Command::new(me)
            .args(["--exact", "tests::the_environment_still_decides"])
            .env(PROBE, "1")
            .env("_RJEM_MALLOC_CONF", "dirty_decay_ms:1234")
            .output()
            .expect("runs");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{said}");
        assert!(said.contains("1 passed"), "{said}");
    }
}
