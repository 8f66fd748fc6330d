//! Backups that prove themselves (format `chitieu.backup.v1`, documented in
//! `docs/proofs.md`): gzip of JSON Lines,
//!
//! ```text
//! {"format":"chitieu.backup.v1","origin":…,"publicKey":…,"records":N}
//! {"position":1,"record":"<base64 of the record's bytes>"}           one per record,
//! {"position":2,"record":…,"idempotency":{…}}                      in order
//! {"signedHead":{…},"digest":"<hex>","signature":"<base64>"}
//! ```
//!
//! `digest` is SHA-256 of every line before the last (their bytes, line
//! breaks included); `signature` is the log key's Ed25519 signature of
//! `chitieu.backup.v1\n<digest>\n<signed head's body>`. So every byte is
//! covered: the records by their chain and the Merkle root in the signed
//! head, everything else by the digest, the last line by its signature,
//! the gzip header by being required byte for byte. Every line has one
//! spelling (re-encoding it must give the same bytes).
//!
//! Writing reads the log up to the head it started at, without stopping
//! writers; reading checks everything as it goes and hands the records
//! out for a restore.

use crate::log::{IdempotencyEntry, Log, RawRecord};
use crate::merkle::{self, Tree};
use crate::proof::{key_for, record_from_base64, said, strict_base64, Failure};
use crate::signed::{hash_from_hex, LogKey, PublicKey, SignedHead, UnsignedHead};
use crate::StoreError;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use flate2::{read::GzDecoder, write::GzEncoder, Compression, GzBuilder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};

/// The format tag of a backup.
pub const BACKUP_FORMAT: &str = "chitieu.backup.v1";
/// Records read from the log per step.
const BATCH: usize = 4_096;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Header {
    format: String,
    origin: String,
    public_key: String,
    /// Records that follow (for progress; checked at the end).
    records: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Idempotency {
    key: String,
    fingerprint: String,
    first_position: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Line {
    position: u64,
    record: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    idempotency: Option<Idempotency>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Trailer {
    signed_head: SignedHead,
    digest: String,
    signature: String,
}

fn signed_text(digest: &str, head: &str) -> String {
    format!("{BACKUP_FORMAT}\n{digest}\n{head}")
}

/// How far a backup, a check or a restore has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupProgress {
    /// Records done.
    pub done: u64,
    /// Records in all (0 while unknown).
    pub total: u64,
}

/// Why a backup could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The log could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The output could not be written.
    #[error("writing the backup: {0}")]
    Io(#[from] std::io::Error),
}

fn encoder<W: Write>(out: W) -> GzEncoder<W> {
    GzBuilder::new().mtime(0).write(out, Compression::fast())
}

/// The gzip header every backup starts with, byte for byte.
fn expected_gzip_header() -> Vec<u8> {
    let mut e = encoder(Vec::new());
    let _ = e.flush();
    let bytes = e.finish().unwrap_or_default();
    bytes.into_iter().take(10).collect()
}

struct Digesting<W: Write> {
    inner: W,
    digest: Sha256,
}

impl<W: Write> Digesting<W> {
    fn line(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec(value)?;
        bytes.push(b'\n');
        self.digest.update(&bytes);
        self.inner.write_all(&bytes)
    }
}

/// What a finished backup holds.
#[derive(Debug, Clone)]
pub struct BackupSummary {
    /// Records written.
    pub records: u64,
    /// The signed head it ends with.
    pub head: SignedHead,
}

/// Writes a backup of `log` as it stands now (later appends are not in
/// it) to `out`, signed with `key` under `origin`. Blocking.
pub fn write_backup(
    log: &Log,
    key: &LogKey,
    origin: &str,
    out: impl Write,
    mut progress: impl FnMut(BackupProgress),
) -> Result<BackupSummary, BackupError> {
    let head = log.head();
    let mut w = Digesting {
        inner: std::io::BufWriter::with_capacity(1 << 20, encoder(out)),
        digest: Sha256::new(),
    };
    w.line(&Header {
        format: BACKUP_FORMAT.into(),
        origin: origin.into(),
        public_key: key.public().base64(),
        records: head.position,
    })?;
    let mut tree = Tree::new();
    let mut last_hash = [0u8; 32];
    let mut next = 1;
    while next <= head.position {
        let want = usize::try_from(head.position - next + 1)
            .unwrap_or(BATCH)
            .min(BATCH);
        let records = log.read_raw(next, want)?;
        if records.is_empty() {
            return Err(StoreError::Corrupt {
                position: next,
                reason: "missing below the head".into(),
            }
            .into());
        }
        for raw in records {
            if raw.position != next {
                return Err(StoreError::Corrupt {
                    position: next,
                    reason: format!("read position {} there", raw.position),
                }
                .into());
            }
            tree.push(merkle::leaf_hash(&raw.bytes));
            last_hash = crate::record::stored_hash(&raw.bytes).unwrap_or_default();
            w.line(&Line {
                position: raw.position,
                record: B64.encode(&raw.bytes),
                idempotency: raw.idempotency.map(|i| Idempotency {
                    key: i.key,
                    fingerprint: hex::encode(i.fingerprint),
                    first_position: i.first_position,
                }),
            })?;
            next += 1;
        }
        progress(BackupProgress {
            done: next - 1,
            total: head.position,
        });
    }
    if head.position > 0 && last_hash != head.hash {
        return Err(StoreError::Corrupt {
            position: head.position,
            reason: "the last record's hash is not the head's".into(),
        }
        .into());
    }
    let signed = key.sign(UnsignedHead {
        origin: origin.into(),
        size: head.position,
        root: tree
            .root(head.position)
            .unwrap_or_else(|_| merkle::empty_root()),
        chain_hash: head.hash,
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    });
    let digest = hex::encode(w.digest.clone().finalize());
    let body = signed
        .body()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let signature = B64.encode(key.sign_bytes(signed_text(&digest, &body).as_bytes()));
    w.line(&Trailer {
        signed_head: signed.clone(),
        digest,
        signature,
    })?;
    let encoder = w.inner.into_inner().map_err(|e| e.into_error())?;
    encoder.finish()?.flush()?;
    Ok(BackupSummary {
        records: head.position,
        head: signed,
    })
}

/// What a checked backup holds.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// Records in it.
    pub records: u64,
    /// The signed head it ends with (checked).
    pub head: SignedHead,
    /// The key that signed it.
    pub key: PublicKey,
    /// The log's name.
    pub origin: String,
}

/// Reads a backup, checking every line as it goes.
pub struct BackupReader<R: Read> {
    input: BufReader<GzDecoder<std::io::Chain<std::io::Cursor<Vec<u8>>, R>>>,
    line: Vec<u8>,
    line_number: u64,
    digest: Sha256,
    tree: Tree,
    previous: [u8; 32],
    key: PublicKey,
    origin: String,
    announced: u64,
    trailer: Option<Trailer>,
}

fn format_error(reason: impl Into<String>) -> Failure {
    Failure::Format {
        expected: BACKUP_FORMAT.into(),
        reason: reason.into(),
    }
}

impl<R: Read> BackupReader<R> {
    /// Opens a backup; with `trusted`, its key must be that one.
    pub fn open(mut input: R, trusted: Option<&PublicKey>) -> Result<Self, Failure> {
        let expected = expected_gzip_header();
        let mut header = vec![0u8; expected.len()];
        input
            .read_exact(&mut header)
            .map_err(|_| format_error("shorter than a gzip header"))?;
        if header != expected {
            return Err(format_error(format!(
                "the gzip header is {} where a backup has {}",
                hex::encode(&header),
                hex::encode(&expected)
            )));
        }
        let decoder = GzDecoder::new(std::io::Cursor::new(header).chain(input));
        let mut reader = BackupReader {
            input: BufReader::with_capacity(1 << 20, decoder),
            line: Vec::new(),
            line_number: 0,
            digest: Sha256::new(),
            tree: Tree::new(),
            previous: [0; 32],
            key: trusted
                .copied()
                .unwrap_or(LogKey::from_seed([0; 32]).public()),
            origin: String::new(),
            announced: 0,
            trailer: None,
        };
        let line = reader.next_line()?.ok_or_else(|| format_error("empty"))?;
        let header: Header = reader.parse(&line)?;
        reader.digest.update(&line);
        reader.digest.update(b"\n");
        if header.format != BACKUP_FORMAT {
            return Err(format_error(format!("format is `{}`", header.format)));
        }
        reader.key = key_for(&header.public_key, trusted)?;
        reader.origin = header.origin;
        reader.announced = header.records;
        Ok(reader)
    }

    /// The next line, without its line break; `None` at the end.
    fn next_line(&mut self) -> Result<Option<Vec<u8>>, Failure> {
        self.line.clear();
        let n = self
            .input
            .read_until(b'\n', &mut self.line)
            .map_err(|e| format_error(format!("line {}: {e}", self.line_number + 1)))?;
        if n == 0 {
            return Ok(None);
        }
        self.line_number += 1;
        if self.line.last() != Some(&b'\n') {
            return Err(format_error(format!(
                "line {} is cut short",
                self.line_number
            )));
        }
        let mut line = std::mem::take(&mut self.line);
        line.pop();
        Ok(Some(line))
    }

    /// Parses a line that must be in its one spelling.
    fn parse<T: Serialize + for<'de> Deserialize<'de>>(&self, line: &[u8]) -> Result<T, Failure> {
        let n = self.line_number;
        let value: T =
            serde_json::from_slice(line).map_err(|e| format_error(format!("line {n}: {e}")))?;
        let again = serde_json::to_vec(&value).map_err(|e| format_error(e.to_string()))?;
        if again != line {
            return Err(format_error(format!("line {n} is not in its one spelling")));
        }
        Ok(value)
    }

    /// The next record, checked (its position, its hash, its chain); `None`
    /// once the signed head is reached (then [`BackupReader::finish`]).
    pub fn next_record(&mut self) -> Result<Option<RawRecord>, Failure> {
        if self.trailer.is_some() {
            return Ok(None);
        }
        let position = self.tree.size() + 1;
        let Some(line) = self.next_line()? else {
            return Err(format_error(format!(
                "it ends at position {} without its signed head",
                position - 1
            )));
        };
        if line.starts_with(b"{\"signedHead\"") {
            self.trailer = Some(self.parse(&line)?);
            return Ok(None);
        }
        let parsed: Line = self.parse(&line)?;
        self.digest.update(&line);
        self.digest.update(b"\n");
        if parsed.position != position {
            return Err(Failure::Record {
                position,
                reason: said(
                    format!("the line says position {}", parsed.position),
                    format!("dòng ghi vị trí {}", parsed.position),
                ),
            });
        }
        let (bytes, event) = record_from_base64(position, &parsed.record)?;
        if event.prev_hash != self.previous {
            return Err(Failure::Record {
                position,
                reason: said(
                    "it does not chain to the record before",
                    "bản ghi không nối chuỗi với bản ghi trước",
                ),
            });
        }
        self.previous = event.hash;
        self.tree.push(merkle::leaf_hash(&bytes));
        let idempotency = match parsed.idempotency {
            None => None,
            Some(i) => Some(IdempotencyEntry {
                key: i.key,
                fingerprint: hash_from_hex(&i.fingerprint).ok_or_else(|| Failure::Record {
                    position,
                    reason: said(
                        "its idempotency fingerprint is not a lower-case hex SHA-256",
                        "dấu vân tay chống trùng không phải SHA-256 dạng hex chữ thường",
                    ),
                })?,
                first_position: i.first_position,
            }),
        };
        Ok(Some(RawRecord {
            position,
            bytes,
            idempotency,
        }))
    }

    /// Records read so far.
    pub fn records(&self) -> u64 {
        self.tree.size()
    }

    /// Records the backup says it holds (its first line; checked at the
    /// end against what it does hold).
    pub fn announced(&self) -> u64 {
        self.announced
    }

    /// Reads the rest, then checks the signed head and the signature over
    /// the whole file; with `recorded`, a head the auditor kept must be a
    /// head of this log (same root and chain at its size).
    pub fn finish(mut self, recorded: Option<&SignedHead>) -> Result<BackupReport, Failure> {
        while self.next_record()?.is_some() {}
        if self.next_line()?.is_some() {
            return Err(format_error("lines after the signed head"));
        }
        let Some(trailer) = self.trailer.take() else {
            return Err(format_error("no signed head"));
        };
        let head = trailer.signed_head;
        head.verify(&self.key)?;
        let size = self.tree.size();
        if head.size != size || self.announced != size {
            return Err(Failure::HeadMismatch {
                size: head.size,
                reason: said(
                    format!("the backup holds {size} records"),
                    format!("bản sao lưu có {size} bản ghi"),
                ),
            });
        }
        let root = self
            .tree
            .root(size)
            .unwrap_or_else(|_| merkle::empty_root());
        if head.root_hash()? != root || head.chain()? != self.previous {
            return Err(Failure::HeadMismatch {
                size,
                reason: said(
                    "its records do not give the signed root and chain hash",
                    "các bản ghi không cho ra gốc và mã băm chuỗi đã ký",
                ),
            });
        }
        let digest = hex::encode(self.digest.clone().finalize());
        let signature = strict_base64(&trailer.signature).unwrap_or_default();
        let body = head.body()?;
        if trailer.digest != digest
            || !self
                .key
                .verify(signed_text(&digest, &body).as_bytes(), &signature)
        {
            return Err(format_error(
                "the file's signature does not match its contents",
            ));
        }
        if let Some(old) = recorded {
            old.verify(&self.key)?;
            if old.size > size {
                return Err(Failure::HeadMismatch {
                    size: old.size,
                    reason: said(
                        format!("the backup holds only {size} records"),
                        format!("bản sao lưu chỉ có {size} bản ghi"),
                    ),
                });
            }
            let old_root = self
                .tree
                .root(old.size)
                .unwrap_or_else(|_| merkle::empty_root());
            if old.root_hash()? != old_root {
                return Err(Failure::HeadMismatch {
                    size: old.size,
                    reason: said(
                        format!(
                            "the backup's records up to {} give another Merkle root: the history before it was rewritten",
                            old.size
                        ),
                        format!(
                            "các bản ghi của bản sao lưu tới vị trí {} cho ra gốc Merkle khác: lịch sử trước đó đã bị viết lại",
                            old.size
                        ),
                    ),
                });
            }
        }
        Ok(BackupReport {
            records: size,
            head,
            key: self.key,
            origin: self.origin,
        })
    }
}

/// Why a restore stopped.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The backup does not check (nothing after the failing record is
    /// imported; check the whole file first to import nothing at all).
    #[error(transparent)]
    Backup(#[from] Failure),
    /// The target log refused the records or could not store them.
    #[error("importing: {0}")]
    Import(#[from] crate::AppendError),
}

/// Imports a backup into `log` (empty, or holding a prefix of it), reading
/// and checking the next batch while the last one is being stored; checks
/// the whole file at the end. `progress` gets the records stored so far.
pub async fn restore_into<R: Read + Send + 'static>(
    log: &Log,
    reader: BackupReader<R>,
    batch: usize,
    mut progress: impl FnMut(BackupProgress),
) -> Result<BackupReport, RestoreError> {
    let total = reader.announced();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<RawRecord>, Failure>>(2);
    let reading = tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        loop {
            let mut records = Vec::with_capacity(batch);
            while records.len() < batch {
                match reader.next_record() {
                    Ok(Some(r)) => records.push(r),
                    Ok(None) => break,
                    Err(f) => {
                        let _ = tx.blocking_send(Err(f));
                        return None;
                    }
                }
            }
            if records.is_empty() {
                return Some(reader);
            }
            if tx.blocking_send(Ok(records)).is_err() {
                return None;
            }
        }
    });
    while let Some(records) = rx.recv().await {
        log.import(records?).await?;
        progress(BackupProgress {
            done: log.head().position,
            total,
        });
    }
    let reader = reading
        .await
        .map_err(|e| format_error(format!("the reader stopped: {e}")))?
        .ok_or_else(|| format_error("the reader stopped"))?;
    Ok(reader.finish(None)?)
}
