//! Probe: sled batch + flush costs, per-event keys vs one chunk per group.
fn main() {
    let value = vec![7u8; 573];
    for chunked in [false, true] {
        for group in [16usize, 64, 128] {
    let dir = tempfile::tempdir_in(".").unwrap();
    let db = sled::open(dir.path().join("db")).unwrap();
    let tree = db.open_tree("log").unwrap();
            let mut apply = std::time::Duration::ZERO;
            let mut flush = std::time::Duration::ZERO;
            let rounds = 100_000 / group;
            let mut k = 0u64;
            for _ in 0..rounds {
                let mut b = sled::Batch::default();
                let mut chunk = Vec::new();
                let first = k + 1;
                for _ in 0..group {
                    k += 1;
                    if chunked { chunk.extend_from_slice(&value) } else { b.insert(&k.to_be_bytes(), value.clone()); }
                    let mut s = b"S-stream-xxxx".to_vec();
                    s.extend_from_slice(&(k % 1000).to_be_bytes());
                    s.extend_from_slice(&k.to_be_bytes());
                    b.insert(s, &k.to_be_bytes());
                }
                if chunked { b.insert(&first.to_be_bytes(), chunk); }
                let t = std::time::Instant::now();
                tree.apply_batch(b).unwrap();
                apply += t.elapsed();
                let t = std::time::Instant::now();
                db.flush().unwrap();
                flush += t.elapsed();
            }
            db.flush().unwrap();
            println!("chunked {chunked} group {group}: apply {:.3} ms, flush {:.3} ms per group; {:.0} B on disk per event",
              apply.as_secs_f64()*1e3/rounds as f64, flush.as_secs_f64()*1e3/rounds as f64, db.size_on_disk().unwrap() as f64 / k as f64);
        }
    }
}
