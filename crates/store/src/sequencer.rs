//! [`Sequencer`]: the one place where appends are judged and sealed, for
//! every backend.
//!
//! A backend collects a group of appends (or imported records), gives the
//! sequencer a [`Lookup`] of what is already stored (stream versions,
//! idempotency keys), and gets back, per append, its outcome or its
//! refusal, plus the sealed records to store. Later appends of a group see
//! the earlier ones' streams and keys, so a group is exactly the appends
//! one after another. The backend then stores the sealed records
//! atomically (a sled block, a memory vector, a PostgreSQL transaction)
//! and acknowledges only once that is durable.

use crate::error::{AppendError, StoreError};
use crate::log::{AppendOutcome, AppendRequest, Head, IdempotencyEntry, RawRecord};
use crate::record::{self, Unsealed};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use uuid::Uuid;

/// Most events in one append.
pub(crate) const MAX_EVENTS_PER_APPEND: usize = 1000;
/// Largest payload of one event.
pub(crate) const MAX_PAYLOAD_BYTES: usize = 1 << 20;
/// Longest stream id, actor field, event type or idempotency key.
pub(crate) const MAX_NAME_BYTES: usize = 1024;
/// Most streams one append may be conditional on: an approval reads (and
/// conditions on) every indicator of its org unit, a few hundred for a
/// province after the 2025 mergers.
pub(crate) const MAX_CONDITIONS: usize = 10_000;

/// What the sequencer needs to know of what is already stored.
pub(crate) trait Lookup {
    /// The stream's stored version (0 when it does not exist).
    fn stream_version(&mut self, stream: &str) -> Result<u64, StoreError>;
    /// The fingerprint and outcome stored for an idempotency key.
    fn idempotency(&mut self, key: &str) -> Result<Option<([u8; 32], AppendOutcome)>, StoreError>;
}

/// A record sealed by the sequencer, ready to store.
#[derive(Debug, Clone)]
pub(crate) struct Sealed {
    pub position: u64,
    pub version: u64,
    pub stream: String,
    pub bytes: Vec<u8>,
    /// The idempotency key of the append this record ends.
    pub idempotency: Option<IdempotencyEntry>,
}

impl Sealed {
    /// The outcome a retry with this record's idempotency key gets back.
    pub(crate) fn replay(&self) -> Option<(&IdempotencyEntry, AppendOutcome)> {
        self.idempotency.as_ref().map(|entry| {
            let outcome = AppendOutcome {
                first_position: entry.first_position,
                last_position: self.position,
                stream_version: self.version,
                replayed: true,
            };
            (entry, outcome)
        })
    }

    pub(crate) fn into_raw(self) -> RawRecord {
        RawRecord {
            position: self.position,
            bytes: self.bytes,
            idempotency: self.idempotency,
        }
    }
}

/// One group's state: its head so far, the versions and keys it wrote.
pub(crate) struct Sequencer {
    pub head: Head,
    /// Recorded-at of this group (never before the last stored event).
    pub now_micros: i64,
    /// Recorded-at of the last record sealed or imported.
    pub last_micros: i64,
    versions: HashMap<String, u64>,
    keys: HashMap<String, ([u8; 32], AppendOutcome)>,
    pub sealed: Vec<Sealed>,
}

fn invalid(message: impl Into<String>) -> AppendError {
    AppendError::Invalid(message.into())
}

/// Refuses what no backend could store or what would make the log ambiguous.
pub(crate) fn validate(request: &AppendRequest) -> Result<(), AppendError> {
    let check_stream = |stream: &str| {
        if stream.is_empty() || stream.len() > MAX_NAME_BYTES || stream.contains('\0') {
            Err(invalid("stream id must be 1-1024 bytes without NUL"))
        } else {
            Ok(())
        }
    };
    check_stream(request.stream.as_str())?;
    if request.conditions.len() > MAX_CONDITIONS {
        return Err(invalid(format!(
            "at most {MAX_CONDITIONS} stream conditions per append"
        )));
    }
    for condition in &request.conditions {
        check_stream(condition.stream.as_str())?;
    }
    if request.events.is_empty() {
        return Err(invalid("an append needs at least one event"));
    }
    if request.events.len() > MAX_EVENTS_PER_APPEND {
        return Err(invalid(format!(
            "at most {MAX_EVENTS_PER_APPEND} events per append"
        )));
    }
    let actor = &request.meta.actor;
    for (what, value) in [
        ("actor id", &actor.id),
        ("actor name", &actor.name),
        ("actor role", &actor.role),
    ] {
        if value.len() > MAX_NAME_BYTES {
            return Err(invalid(format!(
                "{what} is longer than {MAX_NAME_BYTES} bytes"
            )));
        }
    }
    if actor.id.is_empty() {
        return Err(invalid("every event needs an actor"));
    }
    if let Some(key) = &request.idempotency_key {
        if key.is_empty() || key.len() > MAX_NAME_BYTES || key.contains('\0') {
            return Err(invalid("idempotency key must be 1-1024 bytes without NUL"));
        }
    }
    for event in &request.events {
        if event.event_type.is_empty() || event.event_type.len() > MAX_NAME_BYTES {
            return Err(invalid("event type must be 1-1024 bytes"));
        }
        if event.payload.len() > MAX_PAYLOAD_BYTES {
            return Err(invalid(format!(
                "event payload is larger than {MAX_PAYLOAD_BYTES} bytes"
            )));
        }
    }
    Ok(())
}

/// What an idempotency key is bound to by default: the actor, the stream
/// and the events.
pub(crate) fn default_fingerprint(request: &AppendRequest) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(request.meta.actor.id.as_bytes());
    field(request.stream.as_str().as_bytes());
    for event in &request.events {
        field(event.event_type.as_bytes());
        field(&event.schema_version.to_be_bytes());
        field(&event.payload);
    }
    h.finalize().into()
}

impl Sequencer {
    /// A group starting at `head`, whose last stored event was recorded at
    /// `last_micros`; its events are recorded at `now_micros` or later.
    pub(crate) fn new(head: Head, last_micros: i64, now_micros: i64) -> Self {
        Sequencer {
            head,
            now_micros: now_micros.max(last_micros),
            last_micros,
            versions: HashMap::new(),
            keys: HashMap::new(),
            sealed: Vec::new(),
        }
    }

    /// Whether anything was sealed or imported.
    pub(crate) fn is_empty(&self) -> bool {
        self.sealed.is_empty()
    }

    fn version(&self, lookup: &mut impl Lookup, stream: &str) -> Result<u64, StoreError> {
        match self.versions.get(stream) {
            Some(v) => Ok(*v),
            None => lookup.stream_version(stream),
        }
    }

    /// Judges one append against what is stored and what this group wrote
    /// before it; seals its records if it is accepted.
    pub(crate) fn append(
        &mut self,
        lookup: &mut impl Lookup,
        request: &AppendRequest,
    ) -> Result<AppendOutcome, AppendError> {
        validate(request)?;
        // Only an idempotency key is bound to a fingerprint: none is
        // computed (a hash of every event) for an append without one.
        let keyed = request.idempotency_key.as_ref().map(|key| {
            let fingerprint = request
                .fingerprint
                .unwrap_or_else(|| default_fingerprint(request));
            (key, fingerprint)
        });
        if let Some((key, fingerprint)) = keyed {
            let earlier = match self.keys.get(key) {
                Some(found) => Some(*found),
                None => lookup.idempotency(key)?,
            };
            if let Some((earlier_fingerprint, outcome)) = earlier {
                return if earlier_fingerprint == fingerprint {
                    Ok(AppendOutcome {
                        replayed: true,
                        ..outcome
                    })
                } else {
                    Err(AppendError::IdempotencyKeyReused { key: key.clone() })
                };
            }
        }
        let stream = request.stream.as_str();
        let current = self.version(lookup, stream)?;
        if !request.expected.holds(current) {
            return Err(AppendError::Conflict {
                stream: request.stream.clone(),
                expected: request.expected,
                current,
            });
        }
        for condition in &request.conditions {
            let at = self.version(lookup, condition.stream.as_str())?;
            if !condition.expected.holds(at) {
                return Err(AppendError::Conflict {
                    stream: condition.stream.clone(),
                    expected: condition.expected,
                    current: at,
                });
            }
        }
        let first_position = self.head.position + 1;
        let mut version = current;
        for event in &request.events {
            version += 1;
            let position = self.head.position + 1;
            let (bytes, hash) = Unsealed {
                position,
                version,
                event_id: Uuid::now_v7(),
                recorded_at_micros: self.now_micros,
                correlation_id: request.meta.correlation_id,
                causation_id: request.meta.causation_id,
                schema_version: event.schema_version,
                stream,
                actor: &request.meta.actor,
                event_type: &event.event_type,
                payload: &event.payload,
                prev_hash: self.head.hash,
            }
            .seal();
            self.sealed.push(Sealed {
                position,
                version,
                stream: stream.to_owned(),
                bytes,
                idempotency: None,
            });
            self.head = Head { position, hash };
        }
        self.last_micros = self.now_micros;
        let outcome = AppendOutcome {
            first_position,
            last_position: self.head.position,
            stream_version: version,
            replayed: false,
        };
        if let Some((key, fingerprint)) = keyed {
            if let Some(last) = self.sealed.last_mut() {
                last.idempotency = Some(IdempotencyEntry {
                    key: key.clone(),
                    fingerprint,
                    first_position,
                });
            }
            self.keys.insert(key.clone(), (fingerprint, outcome));
        }
        self.versions.insert(stream.to_owned(), version);
        Ok(outcome)
    }

    /// Takes one record sealed elsewhere: it must be the next position,
    /// chain to this log's head, hash right, be its stream's next version,
    /// and not go back in time.
    pub(crate) fn import(
        &mut self,
        lookup: &mut impl Lookup,
        raw: RawRecord,
    ) -> Result<(), AppendError> {
        let expected = self.head.position + 1;
        let refuse = |reason: String| {
            AppendError::Invalid(format!("imported record {}: {reason}", raw.position))
        };
        if raw.position != expected {
            return Err(refuse(format!("this log continues at {expected}")));
        }
        let record = record::decode(&raw.bytes).map_err(&refuse)?;
        if record.position != raw.position {
            return Err(refuse(format!("record says position {}", record.position)));
        }
        if record.prev_hash != self.head.hash {
            return Err(refuse("does not chain to this log's head".into()));
        }
        if record::recompute_hash(&raw.bytes) != Some(record.hash) {
            return Err(refuse("hash does not match its contents".into()));
        }
        let stream = record.stream.as_str();
        let current = self.version(lookup, stream)?;
        if record.version != current + 1 {
            return Err(refuse(format!(
                "{stream} is at version {current}, the record is version {}",
                record.version
            )));
        }
        let micros = record.recorded_at.timestamp_micros();
        if micros < self.last_micros {
            return Err(refuse("recorded before the record it follows".into()));
        }
        if let Some(entry) = &raw.idempotency {
            if entry.key.is_empty()
                || entry.key.len() > MAX_NAME_BYTES
                || entry.key.contains('\0')
                || entry.first_position > raw.position
            {
                return Err(refuse("malformed idempotency entry".into()));
            }
            if self.keys.contains_key(&entry.key) || lookup.idempotency(&entry.key)?.is_some() {
                return Err(refuse(format!(
                    "idempotency key `{}` is in this log already",
                    entry.key
                )));
            }
            let outcome = AppendOutcome {
                first_position: entry.first_position,
                last_position: raw.position,
                stream_version: record.version,
                replayed: true,
            };
            self.keys
                .insert(entry.key.clone(), (entry.fingerprint, outcome));
        }
        self.versions.insert(stream.to_owned(), record.version);
        self.head = Head {
            position: raw.position,
            hash: record.hash,
        };
        self.last_micros = micros;
        self.sealed.push(Sealed {
            position: raw.position,
            version: record.version,
            stream: stream.to_owned(),
            bytes: raw.bytes,
            idempotency: raw.idempotency,
        });
        Ok(())
    }
}
