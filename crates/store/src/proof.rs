//! Proof bundles: what an auditor takes away, and how it is checked
//! without a server (format in `docs/proofs.md`).
//!
//! - [`InclusionBundle`]: one record, its leaf, its audit path to a signed
//!   head, and the record decoded for a human (checked against its bytes);
//! - [`ConsistencyBundle`]: two signed heads and the proof that the older
//!   tree is a prefix of the newer one.
//!
//! Every check returns a [`Failure`] in English and Vietnamese naming what
//! does not match, and the first position involved where there is one.

use crate::merkle::{self, Hash};
use crate::record::{self, RecordedEvent};
use crate::signed::{hash_from_hex, HeadError, PublicKey, SignedHead};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// Format tag of an inclusion bundle.
pub const INCLUSION_FORMAT: &str = "chitieu.inclusion.v1";
/// Format tag of a consistency bundle.
pub const CONSISTENCY_FORMAT: &str = "chitieu.consistency.v1";

/// A record decoded for the reader of a bundle. The verifier decodes the
/// record's bytes again and requires this to be equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventView {
    /// The stream.
    pub stream: String,
    /// Version within the stream.
    pub version: u64,
    /// Event type.
    pub event_type: String,
    /// Its schema version.
    pub schema_version: u16,
    /// Event id.
    pub event_id: String,
    /// When the log recorded it (RFC 3339, UTC, microseconds).
    pub recorded_at: String,
    /// Who: principal id.
    pub actor_id: String,
    /// Who: name at the time.
    pub actor_name: String,
    /// Who: role.
    pub actor_role: String,
    /// The event's payload.
    pub payload: serde_json::Value,
}

impl EventView {
    /// The view of a decoded record.
    pub fn of(event: &RecordedEvent) -> Self {
        EventView {
            stream: event.stream.to_string(),
            version: event.version,
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            event_id: event.event_id.to_string(),
            recorded_at: event
                .recorded_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            actor_id: event.actor.id.clone(),
            actor_name: event.actor.name.clone(),
            actor_role: event.actor.role.clone(),
            payload: serde_json::from_slice(&event.payload).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// Proof that one record is in the log at a signed head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InclusionBundle {
    /// [`INCLUSION_FORMAT`].
    pub format: String,
    /// The log's public key (base64); check it against one you trust.
    pub public_key: String,
    /// The head the proof leads to.
    pub signed_head: SignedHead,
    /// The record's position (leaf index + 1).
    pub position: u64,
    /// The record's exact bytes, base64.
    pub record: String,
    /// `SHA-256(0x00 ‖ record)`, hex.
    pub leaf_hash: String,
    /// The audit path, nearest sibling first, hex.
    pub path: Vec<String>,
    /// The record decoded.
    pub event: EventView,
}

/// Proof that the log at one signed head is a prefix of the log at another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsistencyBundle {
    /// [`CONSISTENCY_FORMAT`].
    pub format: String,
    /// The log's public key (base64).
    pub public_key: String,
    /// The older head.
    pub from: SignedHead,
    /// The newer head.
    pub to: SignedHead,
    /// The consistency proof, hex.
    pub path: Vec<String>,
}

/// A reason in English and in Vietnamese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// In English.
    pub en: String,
    /// In Vietnamese.
    pub vi: String,
}

impl std::fmt::Display for Said {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

/// A reason in both languages.
pub fn said(en: impl Into<String>, vi: impl Into<String>) -> Said {
    Said {
        en: en.into(),
        vi: vi.into(),
    }
}

/// Why evidence does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// Not a document of the expected format.
    #[error("not a {expected} document: {reason}")]
    Format {
        /// The format expected.
        expected: String,
        /// What is wrong.
        reason: String,
    },
    /// A signed head does not check.
    #[error(transparent)]
    Head(#[from] HeadError),
    /// The key in the document is not the trusted one.
    #[error("the document names key {found}, not the trusted key {trusted}")]
    UntrustedKey {
        /// The trusted key's id.
        trusted: String,
        /// The document's key id.
        found: String,
    },
    /// A record's bytes, its chain or its decoded view do not match.
    #[error("position {position}: {reason}")]
    Record {
        /// Its position.
        position: u64,
        /// What does not match.
        reason: Said,
    },
    /// The audit path does not lead to the signed root.
    #[error("position {position} is not in the log of size {size} under the signed root: the audit path does not lead there")]
    NotIncluded {
        /// The position.
        position: u64,
        /// The head's size.
        size: u64,
    },
    /// The two trees are not one the prefix of the other.
    #[error("the log of size {from} is not a prefix of the log of size {to}: the consistency proof does not hold (a rewritten or forked history)")]
    Inconsistent {
        /// The older size.
        from: u64,
        /// The newer size.
        to: u64,
    },
    /// A recorded head does not match the log.
    #[error("the head recorded at size {size} does not match this log: {reason}")]
    HeadMismatch {
        /// Its size.
        size: u64,
        /// What differs.
        reason: Said,
    },
}

impl Failure {
    /// The same, in Vietnamese.
    pub fn vi(&self) -> String {
        match self {
            Failure::Format { expected, reason } => {
                format!("không phải tài liệu {expected}: {reason}")
            }
            Failure::Head(HeadError::Malformed(what)) => {
                format!("đầu nhật ký đã ký sai định dạng: {what}")
            }
            Failure::Head(HeadError::OtherKey { expected, found }) => {
                format!("đầu nhật ký được ký bằng khóa {found}, không phải khóa {expected}")
            }
            Failure::Head(HeadError::BadSignature { size }) => {
                format!("chữ ký của đầu nhật ký cỡ {size} không khớp với nội dung")
            }
            Failure::UntrustedKey { trusted, found } => {
                format!("tài liệu ghi khóa {found}, không phải khóa tin cậy {trusted}")
            }
            Failure::Record { position, reason } => {
                format!("vị trí {position}: {}", reason.vi)
            }
            Failure::NotIncluded { position, size } => format!(
                "vị trí {position} không nằm trong nhật ký cỡ {size} dưới gốc đã ký: đường kiểm chứng không dẫn tới gốc"
            ),
            Failure::Inconsistent { from, to } => format!(
                "nhật ký cỡ {from} không phải phần đầu của nhật ký cỡ {to}: lịch sử đã bị viết lại hoặc rẽ nhánh"
            ),
            Failure::HeadMismatch { size, reason } => {
                format!(
                    "đầu nhật ký đã ghi ở cỡ {size} không khớp với nhật ký này: {}",
                    reason.vi
                )
            }
        }
    }

    /// The first position this failure names, where it names one.
    pub fn position(&self) -> Option<u64> {
        match self {
            Failure::Record { position, .. } | Failure::NotIncluded { position, .. } => {
                Some(*position)
            }
            Failure::Inconsistent { from, .. } => Some(*from),
            Failure::HeadMismatch { size, .. } => Some(*size),
            _ => None,
        }
    }
}

fn hashes(list: &[String], what: &str) -> Result<Vec<Hash>, Failure> {
    list.iter()
        .map(|h| {
            hash_from_hex(h).ok_or_else(|| Failure::Format {
                expected: what.into(),
                reason: format!("`{h}` is not a lower-case hex SHA-256"),
            })
        })
        .collect()
}

/// The key to check with: the trusted one (the document must name it), or
/// the document's own.
pub(crate) fn key_for(
    document_key: &str,
    trusted: Option<&PublicKey>,
) -> Result<PublicKey, Failure> {
    let named = PublicKey::parse(document_key).map_err(|e| Failure::Format {
        expected: "publicKey".into(),
        reason: e.to_string(),
    })?;
    match trusted {
        Some(t) if *t != named => Err(Failure::UntrustedKey {
            trusted: t.key_id(),
            found: named.key_id(),
        }),
        Some(t) => Ok(*t),
        None => Ok(named),
    }
}

/// Decodes base64 that is in its one canonical spelling.
pub fn strict_base64(text: &str) -> Option<Vec<u8>> {
    let bytes = B64.decode(text).ok()?;
    (B64.encode(&bytes) == text).then_some(bytes)
}

/// Decodes a record given as base64 (in its one spelling) and checks its
/// own bytes: what bundles and backups carry.
pub fn record_from_base64(position: u64, text: &str) -> Result<(Vec<u8>, RecordedEvent), Failure> {
    let bytes = strict_base64(text).ok_or_else(|| Failure::Record {
        position,
        reason: said(
            "the record is not canonical base64",
            "bản ghi không ở dạng base64 chuẩn",
        ),
    })?;
    let event = check_record(position, &bytes)?;
    Ok((bytes, event))
}

/// Checks a record's own bytes: its position field and its hash.
pub fn check_record(position: u64, bytes: &[u8]) -> Result<RecordedEvent, Failure> {
    let bad = |reason: Said| Failure::Record { position, reason };
    let event = record::decode(bytes).map_err(|e| {
        bad(said(
            format!("the record does not decode: {e}"),
            format!("bản ghi không giải mã được: {e}"),
        ))
    })?;
    if event.position != position {
        return Err(bad(said(
            format!("the record says position {}", event.position),
            format!("bản ghi ghi vị trí {}", event.position),
        )));
    }
    if record::recompute_hash(bytes) != Some(event.hash) {
        return Err(bad(said(
            "its hash does not match its bytes",
            "mã băm của bản ghi không khớp với nội dung",
        )));
    }
    Ok(event)
}

impl InclusionBundle {
    /// Checks the bundle with the key the auditor trusts (or, without one,
    /// the bundle's own key). Returns the decoded event.
    pub fn verify(&self, trusted: Option<&PublicKey>) -> Result<RecordedEvent, Failure> {
        if self.format != INCLUSION_FORMAT {
            return Err(Failure::Format {
                expected: INCLUSION_FORMAT.into(),
                reason: format!("format is `{}`", self.format),
            });
        }
        let key = key_for(&self.public_key, trusted)?;
        self.signed_head.verify(&key)?;
        let position = self.position;
        let (bytes, event) = record_from_base64(position, &self.record)?;
        if EventView::of(&event) != self.event {
            return Err(Failure::Record {
                position,
                reason: said(
                    "the decoded event shown differs from the record's bytes",
                    "sự kiện hiển thị khác với nội dung bản ghi",
                ),
            });
        }
        let leaf = merkle::leaf_hash(&bytes);
        if hex::encode(leaf) != self.leaf_hash {
            return Err(Failure::Record {
                position,
                reason: said(
                    "the leaf hash is not SHA-256(0x00 ‖ record)",
                    "mã băm lá không phải SHA-256(0x00 ‖ bản ghi)",
                ),
            });
        }
        let size = self.signed_head.size;
        let root = self.signed_head.root_hash()?;
        let path = hashes(&self.path, INCLUSION_FORMAT)?;
        if position == 0 || !merkle::verify_inclusion(position - 1, size, &leaf, &path, &root) {
            return Err(Failure::NotIncluded { position, size });
        }
        if position == size && self.signed_head.chain()? != event.hash {
            return Err(Failure::Record {
                position,
                reason: said(
                    "the head's chain hash is not this record's hash",
                    "mã băm chuỗi của đầu nhật ký không phải mã băm của bản ghi này",
                ),
            });
        }
        Ok(event)
    }
}

impl ConsistencyBundle {
    /// Checks the bundle. With `recorded`, a head the auditor kept from
    /// before, that head (verified on its own) must be the bundle's `from`.
    pub fn verify(
        &self,
        trusted: Option<&PublicKey>,
        recorded: Option<&SignedHead>,
    ) -> Result<(), Failure> {
        if self.format != CONSISTENCY_FORMAT {
            return Err(Failure::Format {
                expected: CONSISTENCY_FORMAT.into(),
                reason: format!("format is `{}`", self.format),
            });
        }
        let key = key_for(&self.public_key, trusted)?;
        self.from.verify(&key)?;
        self.to.verify(&key)?;
        if let Some(old) = recorded {
            old.verify(&key)?;
            if old.size != self.from.size || old.root != self.from.root {
                return Err(Failure::HeadMismatch {
                    size: old.size,
                    reason: said(
                        format!(
                            "the proof starts at size {} with root {}",
                            self.from.size, self.from.root
                        ),
                        format!(
                            "bằng chứng bắt đầu ở cỡ {} với gốc {}",
                            self.from.size, self.from.root
                        ),
                    ),
                });
            }
        }
        let path = hashes(&self.path, CONSISTENCY_FORMAT)?;
        let (from, to) = (self.from.size, self.to.size);
        let ok = merkle::verify_consistency(
            from,
            to,
            &self.from.root_hash()?,
            &self.to.root_hash()?,
            &path,
        );
        if !ok {
            return Err(Failure::Inconsistent { from, to });
        }
        Ok(())
    }
}
