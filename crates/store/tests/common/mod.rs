//! Helpers shared by the store's tests.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use chitieu_domain::event::EncodedEvent;
use chitieu_store::StreamName;
use chitieu_store::*;
use uuid::Uuid;

pub fn actor() -> Actor {
    Actor {
        id: "planner-1".into(),
        name: "Trần Thị Bình".into(),
        role: "planner".into(),
    }
}

pub fn meta() -> AppendMeta {
    AppendMeta {
        actor: actor(),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
    }
}

pub fn event(n: u64) -> EncodedEvent {
    EncodedEvent {
        event_type: "test_event".into(),
        schema_version: 1,
        payload: format!(r#"{{"n":{n},"note":"Ước thực hiện năm 2025"}}"#).into_bytes(),
    }
}

pub fn stream(name: &str) -> StreamName {
    StreamName(format!("indicator/{name}"))
}

pub fn request(
    stream_name: &str,
    expected: ExpectedVersion,
    events: Vec<EncodedEvent>,
) -> AppendRequest {
    AppendRequest {
        stream: stream(stream_name),
        expected,
        conditions: Vec::new(),
        events,
        idempotency_key: None,
        fingerprint: None,
        meta: meta(),
    }
}

/// A log of one backend, with whatever keeps it alive.
pub struct Opened {
    pub log: Log,
    _keep: Box<dyn std::any::Any + Send>,
}

/// The backends every contract test runs against.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sled,
    /// sled archiving every durable block but the last into segment files
    /// as soon as it can: reads race the archiver all the time.
    SledArchiving,
    Memory,
    Postgres,
}

/// A fresh, empty log of `backend`.
pub async fn open(backend: Backend) -> Opened {
    match backend {
        Backend::Sled => {
            let dir = tempfile::tempdir().unwrap();
            let log = SledLog::open(dir.path().join("db")).unwrap();
            Opened {
                log: std::sync::Arc::new(log),
                _keep: Box::new(dir),
            }
        }
        Backend::SledArchiving => {
            let dir = tempfile::tempdir().unwrap();
            let config = StoreConfig {
                archive_bytes: 1,
                archive_pause: std::time::Duration::from_millis(1),
                // Reads from sled and the segments only: the plain sled
                // backend reads its newest blocks from memory.
                recent_bytes: 0,
                ..StoreConfig::new(dir.path().join("db"))
            };
            let log = SledLog::open_with(config).unwrap();
            Opened {
                log: std::sync::Arc::new(log),
                _keep: Box::new(dir),
            }
        }
        Backend::Memory => Opened {
            log: std::sync::Arc::new(MemoryLog::new()),
            _keep: Box::new(()),
        },
        Backend::Postgres => {
            let url = chitieu_testkit::shared().fresh_database().await;
            let log = PgLog::connect(PgConfig::in_memory(&url)).await.unwrap();
            Opened {
                log: std::sync::Arc::new(log),
                _keep: Box::new(()),
            }
        }
    }
}

/// A second node on the same PostgreSQL database as `url`.
pub async fn pg_node(url: &str) -> Log {
    std::sync::Arc::new(PgLog::connect(PgConfig::in_memory(url)).await.unwrap())
}
