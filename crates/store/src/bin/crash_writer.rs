//! Test harness for the crash test (`tests/crash.rs`), not a user tool.
//!
//! Appends to the store at the given path from several threads as fast as
//! it can, and prints one `ACK <stream> <version> <first> <last>` line per
//! append only after the append has returned success, until it is killed.
//! Each append holds 1-3 events whose payloads say how many events their
//! append had, so a reader can tell a half-written append.

use chitieu_domain::event::EncodedEvent;
use chitieu_store::StreamName;
use chitieu_store::{
    Actor, AppendMeta, AppendRequest, EventLog, ExpectedVersion, SledLog, StoreConfig,
};
use std::io::Write;
use std::sync::{Arc, Mutex};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: crash-writer <db path> [archive bytes]");
        std::process::exit(2);
    };
    let mut config = StoreConfig::new(&path);
    if let Some(bytes) = std::env::args().nth(2).and_then(|b| b.parse().ok()) {
        // Archive as the writers write, so kills land inside moves too.
        config.archive_bytes = bytes;
        config.archive_pause = std::time::Duration::from_millis(1);
    }
    let store = match SledLog::open_waiting_with(config, std::time::Duration::from_secs(10)) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("open failed: {e}");
            std::process::exit(1);
        }
    };
    let stdout = Arc::new(Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (store, stdout) = (store.clone(), stdout.clone());
            std::thread::spawn(move || {
                let stream = StreamName(format!("indicator/crash-{t}"));
                let Ok(mut version) = store.stream_version(&stream) else {
                    return;
                };
                loop {
                    let size = 1 + (version % 3) as usize;
                    let events = (0..size)
                        .map(|i| EncodedEvent {
                            event_type: "crash_test".into(),
                            schema_version: 1,
                            payload: format!(
                                r#"{{"size":{size},"i":{i},"version":{}}}"#,
                                version + 1 + i as u64
                            )
                            .into_bytes(),
                        })
                        .collect();
                    let request = AppendRequest {
                        stream: stream.clone(),
                        expected: ExpectedVersion::Exact(version),
                        conditions: Vec::new(),
                        events,
                        idempotency_key: None,
                        fingerprint: None,
                        meta: AppendMeta {
                            actor: Actor {
                                id: "crash".into(),
                                name: "crash".into(),
                                role: "test".into(),
                            },
                            correlation_id: uuid::Uuid::now_v7(),
                            causation_id: None,
                        },
                    };
                    match store.append_blocking(request) {
                        Ok(outcome) => {
                            version = outcome.stream_version;
                            if let Ok(mut out) = stdout.lock() {
                                let _ = writeln!(
                                    out,
                                    "ACK {stream} {} {} {}",
                                    outcome.stream_version,
                                    outcome.first_position,
                                    outcome.last_position
                                );
                                let _ = out.flush();
                            }
                        }
                        Err(e) => {
                            eprintln!("append failed: {e}");
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}
