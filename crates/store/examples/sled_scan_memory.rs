//! What a full scan of a log leaves in memory, against sled's cache size.
//!
//! ```sh
//! CACHE_MIB=16 cargo run --release -p chitieu-store --example sled_scan_memory -- <data-dir>/db
//! ```
//!
//! Opens the sled database of an embedded log (a copy: sled recovers and
//! may write on open) with `CACHE_MIB` of page cache (default 128), scans
//! the log's tree `SCANS` times (default 6) and prints the process's RSS
//! after each scan, under the allocator the server ships with. If sled's
//! cache bounded the pages a scan pulls in, RSS after a scan would stay
//! near the cache size whatever the log's size (see BENCHMARKS.md, "What
//! sled's cache does not bound").

#[global_allocator]
static GLOBAL: chitieu_alloc::Allocator = chitieu_alloc::Allocator;

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: sled_scan_memory <sled directory of a log, a copy>")?;
    println!("allocator: {:?}", chitieu_alloc::settings());
    let cache = setting("CACHE_MIB", 128);
    let db = sled::Config::new()
        .path(&path)
        .cache_capacity(cache << 20)
        .open()?;
    println!("cache {cache} MiB; opened: RSS {:.0} MiB", rss_mib());
    let tree = db.open_tree("log")?;
    for scan in 1..=setting("SCANS", 6) {
        let (mut entries, mut bytes) = (0u64, 0u64);
        for entry in tree.iter() {
            let (_, value) = entry?;
            entries += 1;
            bytes += value.len() as u64;
        }
        println!(
            "scan {scan}: {entries} entries, {:.0} MiB of values; RSS {:.0} MiB",
            bytes as f64 / 1048576.0,
            rss_mib()
        );
    }
    Ok(())
}
