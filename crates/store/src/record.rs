//! The stored record: an event in its envelope, in a versioned binary
//! encoding, hash-chained to the record before it.
//!
//! Layout of format 1 (integers big-endian, strings as u16 length + UTF-8):
//!
//! ```text
//! u8 format = 1 | u64 position | u64 stream version | [16] event id
//! i64 recorded-at (µs since the Unix epoch, UTC) | [16] correlation id
//! u8 has-causation | [16] causation id | u16 schema version
//! str stream | str actor id | str actor name | str actor role | str event type
//! u32 payload length | payload | [32] previous hash | [32] hash
//! ```
//!
//! `hash` = SHA-256 of every byte before it, previous hash included. The
//! first record's previous hash is all zeros.

use crate::StreamName;
use chitieu_domain::{event::DecodeError, Event, EventCodec};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The current record format. Bump it, and keep reading the old one, if
/// the layout ever changes.
pub const RECORD_FORMAT_VERSION: u8 = 1;

/// Who caused an event: the authenticated principal, never request input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// Stable principal id.
    pub id: String,
    /// Display name at the time.
    pub name: String,
    /// Role under which the change was made.
    pub role: String,
}

/// An event as stored, with its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Global position, from 1, gap-free.
    pub position: u64,
    /// Version within its stream, from 1, gap-free.
    pub version: u64,
    /// Event id (UUID v7: time-ordered).
    pub event_id: Uuid,
    /// The stream.
    pub stream: StreamName,
    /// When the store recorded it (server clock, UTC; transaction time).
    pub recorded_at: DateTime<Utc>,
    /// Who caused it.
    pub actor: Actor,
    /// Groups the events of one user action or request.
    pub correlation_id: Uuid,
    /// The event or command that caused this one, where known.
    pub causation_id: Option<Uuid>,
    /// Event type name.
    pub event_type: String,
    /// Schema version of `payload`.
    pub schema_version: u16,
    /// The event's JSON payload.
    pub payload: Vec<u8>,
    /// Hash of the record before (zeros for the first).
    pub prev_hash: [u8; 32],
    /// SHA-256 over this record's bytes and `prev_hash`.
    pub hash: [u8; 32],
}

impl RecordedEvent {
    /// Decodes the payload into a domain event, upcasting old versions.
    pub fn decode(&self) -> Result<Event, DecodeError> {
        EventCodec::decode(&self.event_type, self.schema_version, &self.payload)
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Lengths are checked on append (every string ≤ u16::MAX bytes).
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&s.as_bytes()[..usize::from(len)]);
}

/// Fields of a record before it is sealed with its hash.
pub(crate) struct Unsealed<'a> {
    pub position: u64,
    pub version: u64,
    pub event_id: Uuid,
    pub recorded_at_micros: i64,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub schema_version: u16,
    pub stream: &'a str,
    pub actor: &'a Actor,
    pub event_type: &'a str,
    pub payload: &'a [u8],
    pub prev_hash: [u8; 32],
}

impl Unsealed<'_> {
    /// Encodes and seals the record; returns its bytes and hash.
    pub fn seal(&self) -> (Vec<u8>, [u8; 32]) {
        let mut out = Vec::with_capacity(160 + self.payload.len() + self.stream.len());
        out.push(RECORD_FORMAT_VERSION);
        out.extend_from_slice(&self.position.to_be_bytes());
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(self.event_id.as_bytes());
        out.extend_from_slice(&self.recorded_at_micros.to_be_bytes());
        out.extend_from_slice(self.correlation_id.as_bytes());
        match self.causation_id {
            Some(id) => {
                out.push(1);
                out.extend_from_slice(id.as_bytes());
            }
            None => {
                out.push(0);
                out.extend_from_slice(&[0; 16]);
            }
        }
        out.extend_from_slice(&self.schema_version.to_be_bytes());
        put_str(&mut out, self.stream);
        put_str(&mut out, &self.actor.id);
        put_str(&mut out, &self.actor.name);
        put_str(&mut out, &self.actor.role);
        put_str(&mut out, self.event_type);
        let len = u32::try_from(self.payload.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(self.payload);
        out.extend_from_slice(&self.prev_hash);
        let hash: [u8; 32] = Sha256::digest(&out).into();
        out.extend_from_slice(&hash);
        (out, hash)
    }
}

/// Format of a block: consecutive records stored under one key (the
/// position of the first). Layout: `u8 format = 1 | u32 count | (u32 length,
/// record)* | u32 key count | (u16 length, idempotency key, 56-byte
/// idempotency entry)*`. The idempotency entries of the appends that end
/// in the block travel with it, so a crash between the block and its
/// derived keys can be repaired from the block alone.
pub(crate) const BLOCK_FORMAT_VERSION: u8 = 1;

/// A block is sealed once it holds this many bytes (a single larger record
/// still gets a block of its own).
const BLOCK_TARGET_BYTES: usize = 64 * 1024;

/// Packs consecutive records into one block.
#[derive(Default)]
pub(crate) struct BlockBuilder {
    first: u64,
    count: u32,
    bytes: Vec<u8>,
    keys: Vec<u8>,
    key_count: u32,
}

/// A block split into its parts.
pub(crate) struct BlockView<'a> {
    /// Records' bytes, in position order.
    pub records: Vec<&'a [u8]>,
    /// Idempotency keys and their stored entries.
    pub idempotency: Vec<(&'a [u8], &'a [u8])>,
}

impl BlockBuilder {
    pub(crate) fn is_full(&self) -> bool {
        self.bytes.len() >= BLOCK_TARGET_BYTES
    }

    pub(crate) fn push(&mut self, position: u64, record: &[u8]) {
        if self.count == 0 {
            self.first = position;
            self.bytes.clear();
            self.bytes.push(BLOCK_FORMAT_VERSION);
            self.bytes.extend_from_slice(&[0; 4]);
            self.keys.clear();
            self.key_count = 0;
        }
        self.count += 1;
        let len = u32::try_from(record.len()).unwrap_or(u32::MAX);
        self.bytes.extend_from_slice(&len.to_be_bytes());
        self.bytes.extend_from_slice(record);
    }

    /// Records an idempotency entry of an append ending in this block.
    pub(crate) fn push_idempotency(&mut self, key: &str, entry: &[u8]) {
        let len = u16::try_from(key.len()).unwrap_or(u16::MAX);
        self.keys.extend_from_slice(&len.to_be_bytes());
        self.keys
            .extend_from_slice(&key.as_bytes()[..usize::from(len)]);
        self.keys.extend_from_slice(entry);
        self.key_count += 1;
    }

    /// The finished block and its first position, if it holds any record.
    pub(crate) fn take(&mut self) -> Option<(u64, Vec<u8>)> {
        if self.count == 0 {
            return None;
        }
        self.bytes[1..5].copy_from_slice(&self.count.to_be_bytes());
        self.bytes.extend_from_slice(&self.key_count.to_be_bytes());
        self.bytes.extend_from_slice(&self.keys);
        self.count = 0;
        Some((self.first, std::mem::take(&mut self.bytes)))
    }
}

/// How many records a block says it holds (its header), if it has one.
pub(crate) fn block_count(block: &[u8]) -> Option<u64> {
    let count: [u8; 4] = block.get(1..5)?.try_into().ok()?;
    Some(u64::from(u32::from_be_bytes(count)))
}

/// Size of a stored idempotency entry: digest and three positions.
pub(crate) const IDEMPOTENCY_ENTRY_BYTES: usize = 56;

/// Splits a block into its parts.
pub(crate) fn parse_block(block: &[u8]) -> Result<BlockView<'_>, String> {
    let mut r = Reader {
        bytes: block,
        at: 0,
    };
    let format = r.u8()?;
    if format != BLOCK_FORMAT_VERSION {
        return Err(format!("unknown block format {format}"));
    }
    let count = r.u32()?;
    let mut records = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let len = r.u32()? as usize;
        records.push(r.take(len)?);
    }
    let key_count = r.u32()?;
    let mut idempotency = Vec::with_capacity(key_count as usize);
    for _ in 0..key_count {
        let len = usize::from(r.u16()?);
        idempotency.push((r.take(len)?, r.take(IDEMPOTENCY_ENTRY_BYTES)?));
    }
    if r.at != block.len() {
        return Err(format!(
            "{} trailing bytes after the block",
            block.len() - r.at
        ));
    }
    if records.is_empty() {
        return Err("empty block".into());
    }
    Ok(BlockView {
        records,
        idempotency,
    })
}

/// Splits a block into its records' bytes.
pub(crate) fn block_records(block: &[u8]) -> Result<Vec<&[u8]>, String> {
    parse_block(block).map(|view| view.records)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).ok_or("length overflow")?;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| format!("truncated at byte {}", self.at))?;
        self.at = end;
        Ok(slice)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        self.take(N)?
            .try_into()
            .map_err(|_| "bad length".to_owned())
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn string(&mut self) -> Result<String, String> {
        let len = usize::from(self.u16()?);
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| "string is not UTF-8".to_owned())
    }
}

/// A record's stream and version, read from its header without decoding
/// the rest (the stream index is built from them at open).
pub(crate) fn stream_and_version(bytes: &[u8]) -> Result<(&str, u64), String> {
    // format | position | version | event id | recorded-at | correlation
    // | has-causation | causation | schema version | stream
    const VERSION_AT: usize = 1 + 8;
    const STREAM_AT: usize = VERSION_AT + 8 + 16 + 8 + 16 + 1 + 16 + 2;
    if bytes.first() != Some(&RECORD_FORMAT_VERSION) {
        return Err("unknown record format".into());
    }
    let version = crate::keys::u64_at(bytes, VERSION_AT).ok_or("record too short")?;
    let len = bytes
        .get(STREAM_AT..STREAM_AT + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
        .ok_or("record too short")?;
    let stream = bytes
        .get(STREAM_AT + 2..STREAM_AT + 2 + len)
        .ok_or("record too short")?;
    let stream = std::str::from_utf8(stream).map_err(|_| "stream is not UTF-8")?;
    Ok((stream, version))
}

/// Decodes a record; `Err` says what is wrong with it.
pub(crate) fn decode(bytes: &[u8]) -> Result<RecordedEvent, String> {
    let mut r = Reader { bytes, at: 0 };
    let format = r.u8()?;
    if format != RECORD_FORMAT_VERSION {
        return Err(format!("unknown record format {format}"));
    }
    let position = r.u64()?;
    let version = r.u64()?;
    let event_id = Uuid::from_bytes(r.array()?);
    let micros = i64::from_be_bytes(r.array()?);
    let recorded_at = DateTime::from_timestamp_micros(micros).ok_or("recorded-at out of range")?;
    let correlation_id = Uuid::from_bytes(r.array()?);
    let has_causation = r.u8()?;
    let causation = Uuid::from_bytes(r.array()?);
    let schema_version = r.u16()?;
    let stream = StreamName(r.string()?);
    let actor = Actor {
        id: r.string()?,
        name: r.string()?,
        role: r.string()?,
    };
    let event_type = r.string()?;
    let payload_len = r.u32()? as usize;
    let payload = r.take(payload_len)?.to_vec();
    let prev_hash = r.array()?;
    let hash = r.array()?;
    if r.at != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - r.at));
    }
    Ok(RecordedEvent {
        position,
        version,
        event_id,
        stream,
        recorded_at,
        actor,
        correlation_id,
        causation_id: (has_causation == 1).then_some(causation),
        event_type,
        schema_version,
        payload,
        prev_hash,
        hash,
    })
}

/// Recomputes the hash of an encoded record (everything before its last 32 bytes).
pub(crate) fn recompute_hash(bytes: &[u8]) -> Option<[u8; 32]> {
    let body = bytes.get(..bytes.len().checked_sub(32)?)?;
    Some(Sha256::digest(body).into())
}

/// The hash an encoded record carries (its last 32 bytes).
pub(crate) fn stored_hash(bytes: &[u8]) -> Option<[u8; 32]> {
    bytes.get(bytes.len().checked_sub(32)?..)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_record_decodes_back_and_its_hash_checks() {
        let actor = Actor {
            id: "u-1".into(),
            name: "Nguyễn Văn A".into(),
            role: "reporter".into(),
        };
        let unsealed = Unsealed {
            position: 42,
            version: 3,
            event_id: Uuid::now_v7(),
            recorded_at_micros: 1_700_000_000_123_456,
            correlation_id: Uuid::from_u128(9),
            causation_id: None,
            schema_version: 2,
            stream: "indicator/x",
            actor: &actor,
            event_type: "actual_reported",
            payload: br#"{"a":1}"#,
            prev_hash: [7; 32],
        };
        let (bytes, hash) = unsealed.seal();
        let record = decode(&bytes).unwrap();
        assert_eq!(record.position, 42);
        assert_eq!(record.version, 3);
        assert_eq!(record.actor, actor);
        assert_eq!(record.payload, br#"{"a":1}"#);
        assert_eq!(record.prev_hash, [7; 32]);
        assert_eq!(record.hash, hash);
        assert_eq!(recompute_hash(&bytes), Some(hash));
        assert_eq!(record.recorded_at.timestamp_micros(), 1_700_000_000_123_456);

        let mut flipped = bytes.clone();
        flipped[60] ^= 1;
        assert_ne!(recompute_hash(&flipped), Some(hash));
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn blocks_hold_consecutive_records_and_refuse_garbage() {
        let mut builder = BlockBuilder::default();
        assert!(builder.take().is_none());
        builder.push(5, b"abc");
        builder.push(6, b"");
        builder.push(7, b"defg");
        builder.push_idempotency("key-1", &[3; IDEMPOTENCY_ENTRY_BYTES]);
        let (first, block) = builder.take().unwrap();
        assert_eq!(first, 5);
        let view = parse_block(&block).unwrap();
        assert_eq!(view.records, vec![&b"abc"[..], b"", b"defg"]);
        assert_eq!(
            view.idempotency,
            vec![(&b"key-1"[..], &[3u8; IDEMPOTENCY_ENTRY_BYTES][..])]
        );
        assert!(block_records(&block[..block.len() - 1]).is_err());
        let mut extra = block.clone();
        extra.push(0);
        assert!(block_records(&extra).is_err());
    }
}
