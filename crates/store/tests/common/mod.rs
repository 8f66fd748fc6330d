//! Helpers shared by the store's tests.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use chitieu_domain::event::EncodedEvent;
use chitieu_domain::StreamId;
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

pub fn stream(name: &str) -> StreamId {
    StreamId(format!("indicator/{name}"))
}

pub fn request(
    stream_name: &str,
    expected: ExpectedVersion,
    events: Vec<EncodedEvent>,
) -> AppendRequest {
    AppendRequest {
        stream: stream(stream_name),
        expected,
        events,
        idempotency_key: None,
        fingerprint: None,
        meta: meta(),
    }
}
