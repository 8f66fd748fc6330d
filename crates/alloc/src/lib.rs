//! The server's allocator: mimalloc, with a shorter purge delay.
//!
//! mimalloc 3 keeps memory it has freed committed for a second
//! (`purge_delay`, 1,000 ms) before it gives it back to the OS, in case it
//! is wanted again. The server frees a lot at start (three scans of the
//! whole log) and under writes (views, figures and sled pages let go in
//! turn), so a second of it is a lot: at 100,000 indicators the server's
//! RSS was ~290 MiB when ready and ~440 MiB after two rounds of writes,
//! where its heap was ~240 and ~270 MB. With 10 ms (mimalloc 2's default)
//! it is ~230 and ~390 MiB, at about the same write rate (BENCHMARKS.md,
//! "Fixed costs found by heaptrack, and the allocator's purge delay").
//! `MIMALLOC_PURGE_DELAY` in the environment still decides where it is
//! set.
//!
//! This is the one crate of the workspace with `unsafe` code: the two calls
//! into mimalloc's C API below.

pub use mimalloc::MiMalloc;
use std::ffi::c_long;

/// The purge delay the server sets unless `MIMALLOC_PURGE_DELAY` is set,
/// in milliseconds.
pub const PURGE_DELAY_MS: c_long = 10;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_t` (its header,
/// `mimalloc.h`; the bindings name no constant for it). A test checks that
/// it is the option `MIMALLOC_PURGE_DELAY` sets.
const OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets the purge delay to [`PURGE_DELAY_MS`] unless the environment set
/// it (`mi_option_set_default` leaves an option read from the environment
/// as it is). Called first thing in `main`.
pub fn tune() {
    #[allow(unsafe_code)]
    // SAFETY: `mi_option_set_default` takes an option's index and a value
    // and only writes that option's entry in mimalloc's static table,
    // after checking the index is in range; it reads and keeps no pointer.
    // mimalloc reads the delay afresh at every purge, so setting it at any
    // time is sound.
    unsafe {
        libmimalloc_sys::mi_option_set_default(OPTION_PURGE_DELAY, PURGE_DELAY_MS);
    }
}

/// The purge delay mimalloc is using, in milliseconds.
pub fn purge_delay_ms() -> c_long {
    #[allow(unsafe_code)]
    // SAFETY: `mi_option_get` reads one entry of mimalloc's static option
    // table (reading the environment the first time), index checked.
    unsafe {
        libmimalloc_sys::mi_option_get(OPTION_PURGE_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Set by [`the_environment_still_decides`] for the copy of this test
    /// binary it runs.
    const PROBE: &str = "CHITIEU_ALLOC_PROBE";

    #[test]
    fn tune_sets_the_delay_unless_the_environment_did() {
        tune();
        match std::env::var("MIMALLOC_PURGE_DELAY") {
            Ok(set) => assert_eq!(purge_delay_ms().to_string(), set),
            Err(_) => assert_eq!(purge_delay_ms(), PURGE_DELAY_MS),
        }
    }

    /// Runs this test binary again with `MIMALLOC_PURGE_DELAY=1234`: there
    /// option 15 must read 1234 after `tune`, which proves both that 15 is
    /// the option the variable names and that `tune` leaves it alone.
    #[test]
    fn the_environment_still_decides() {
        if std::env::var_os(PROBE).is_some() {
            tune();
            assert_eq!(purge_delay_ms(), 1234);
            return;
        }
        let me = std::env::current_exe().expect("the test binary");
        let out = std::process::Command::new(me)
            .args(["--exact", "tests::the_environment_still_decides"])
            .env(PROBE, "1")
            .env("MIMALLOC_PURGE_DELAY", "1234")
            .output()
            .expect("runs");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{said}");
        assert!(said.contains("1 passed"), "{said}");
    }
}
