//! The operator's and the auditor's commands for evidence: `chitieu key
//! show`, `chitieu backup`, `chitieu restore`, and `chitieu verify` of a
//! backup, a proof bundle or a signed head without a server.

use crate::operations::progress;
use crate::{open_log, with_node, Location};
use anyhow::Context as _;
use chitieu_store::backup::BackupReader;
use chitieu_store::proof::{ConsistencyBundle, Failure, InclusionBundle};
use chitieu_store::signed::{LogKey, PublicKey, SignedHead};
use chitieu_store::Notary;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Records per import step of a restore.
const BATCH: usize = 10_000;

/// `chitieu key show`: the public half of the log's key (created if there
/// is none yet, as the first start would).
pub fn key_show(path: &Path) -> anyhow::Result<String> {
    let existed = path.exists();
    let key = LogKey::load_or_create(path).context("the log's signing key")?;
    let public = key.public();
    Ok(format!(
        "{}key id: {}\nEd25519 public key (base64): {}\n{}",
        if existed {
            String::new()
        } else {
            format!("created {}\n", path.display())
        },
        public.key_id(),
        public.base64(),
        public.pem()
    ))
}

/// Writes to `path` through a temporary file renamed at the end, so a
/// failed backup leaves no file that looks whole.
fn atomic_file(path: &Path) -> anyhow::Result<(std::fs::File, PathBuf)> {
    let partial = path.with_extension("partial");
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    Ok((file, partial))
}

/// `chitieu backup --to FILE` with the server stopped (or on the shared
/// log): a signed, self-proving copy of the log.
pub async fn backup_store(
    location: &Location,
    key_path: &Path,
    origin: &str,
    to: &Path,
) -> anyhow::Result<String> {
    let log = open_log(location).await?;
    let key = LogKey::load_or_create(key_path).context("the log's signing key")?;
    let notary = Notary::new(log.clone(), key, origin);
    let (file, partial) = atomic_file(to)?;
    let total = log.head().position;
    let started = std::time::Instant::now();
    let bar = progress(total, "backing up");
    let writing = notary.clone();
    let shown = bar.clone();
    let summary = tokio::task::spawn_blocking(move || {
        writing.backup(std::io::BufWriter::new(file), |p| {
            shown.set_position(p.done)
        })
    })
    .await?;
    bar.finish_and_clear();
    log.close()?;
    let summary = summary.context("writing the backup")?;
    std::fs::rename(&partial, to)?;
    Ok(describe_backup(to, summary.records, &summary.head, started))
}

fn describe_backup(
    to: &Path,
    records: u64,
    head: &SignedHead,
    started: std::time::Instant,
) -> String {
    let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    format!(
        "backed up {records} records to {} ({} KiB, {:.1} s)\nsigned head: size {} root {} (key {})",
        to.display(),
        bytes / 1024,
        started.elapsed().as_secs_f64(),
        head.size,
        head.root,
        head.key_id
    )
}

/// `chitieu backup --server URL --to FILE`: the backup of a running
/// server (`GET /backup`), which keeps serving while it is written.
pub async fn backup_from_server(url: &str, token: &str, to: &Path) -> anyhow::Result<String> {
    let started = std::time::Instant::now();
    let base = url.trim_end_matches('/');
    let mut response = reqwest::Client::new()
        .get(format!("{base}/backup"))
        .bearer_auth(token.trim())
        .send()
        .await
        .with_context(|| format!("asking {base}/backup"))?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        anyhow::bail!("{base}/backup answered {status}: {body}");
    }
    let (mut file, partial) = atomic_file(to)?;
    let mut received = 0u64;
    let mut err = std::io::stderr();
    while let Some(chunk) = response.chunk().await? {
        file.write_all(&chunk)?;
        received += chunk.len() as u64;
        let _ = write!(err, "\rchitieu: received {} KiB", received / 1024);
    }
    let _ = writeln!(err);
    file.sync_all()?;
    drop(file);
    // A backup cut short (a connection lost) does not check: say so now.
    let report = check_backup(&partial, None, None)
        .map_err(|f| anyhow::anyhow!("the received backup does not check: {f}"))?;
    std::fs::rename(&partial, to)?;
    Ok(describe_backup(to, report.records, &report.head, started))
}

fn check_backup(
    path: &Path,
    trusted: Option<&PublicKey>,
    recorded: Option<&SignedHead>,
) -> Result<chitieu_store::backup::BackupReport, Failure> {
    let file = std::fs::File::open(path).map_err(|e| Failure::Format {
        expected: chitieu_store::backup::BACKUP_FORMAT.into(),
        reason: format!("{}: {e}", path.display()),
    })?;
    let mut reader = BackupReader::open(std::io::BufReader::new(file), trusted)?;
    let bar = progress(reader.announced(), "checking");
    while reader.next_record()?.is_some() {
        if reader.records().is_multiple_of(4096) {
            bar.set_position(reader.records());
        }
    }
    bar.finish_and_clear();
    reader.finish(recorded)
}

/// `chitieu restore --from FILE`: checks the backup whole, then builds a
/// new store (embedded or shared) from it, rebuilds the read models, and
/// checks that the restored log gives the backup's signed head.
pub async fn restore(
    from: &Path,
    location: &Location,
    trusted: Option<PublicKey>,
) -> anyhow::Result<String> {
    let started = std::time::Instant::now();
    let path = from.to_owned();
    let checking = tokio::task::spawn_blocking(move || check_backup(&path, trusted.as_ref(), None));
    let report = checking
        .await?
        .map_err(|f| anyhow::anyhow!("the backup does not check, nothing restored: {f}"))?;
    let log = open_log(location).await?;
    if log.head().position != 0 {
        let held = log.head().position;
        log.close()?;
        anyhow::bail!(
            "{} already holds a log of {held} records: restore builds a new store",
            location
                .log
                .as_deref()
                .unwrap_or(&location.data_dir.display().to_string())
        );
    }
    let bar = progress(report.records, "restoring");
    let file = std::fs::File::open(from)?;
    let reader = BackupReader::open(std::io::BufReader::new(file), Some(&report.key))
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    let restored =
        chitieu_store::backup::restore_into(&log, reader, BATCH, |p| bar.set_position(p.done))
            .await;
    bar.finish_and_clear();
    restored.map_err(|e| anyhow::anyhow!("{e}"))?;
    // The restored log's own tree must give the signed root (only the
    // tree of this notary is used; its throwaway key signs nothing kept).
    let notary = Notary::new(log.clone(), LogKey::generate()?, &report.origin);
    let building = notary.clone();
    tokio::task::spawn_blocking(move || building.catch_up()).await??;
    let ours = notary.signed_head(Some(report.records))?;
    if ours.root != report.head.root || ours.chain_hash != report.head.chain_hash {
        anyhow::bail!("the restored log does not give the backup's signed head");
    }
    let verified = log.verify().await?;
    if let Some((position, reason)) = verified.first_break {
        anyhow::bail!("the restored log breaks at {position}: {reason}");
    }
    // Every handle on the log goes before the node opens it again (sled
    // holds its lock until the last one is dropped).
    drop(notary);
    log.close()?;
    drop(log);
    // Read models: built from the restored log, as at every start.
    let projected = with_node(location, async |node| Ok(node.projector.position())).await?;
    Ok(format!(
        "restored {} records into {} in {:.1} s; chain verified; Merkle root {} as signed by key {}; read models at {projected}\n\
         to sign as key {} again, give the restored server that key (signing_key, or {} in its data directory)",
        report.records,
        location.log.as_deref().unwrap_or(&location.data_dir.display().to_string()),
        started.elapsed().as_secs_f64(),
        report.head.root,
        report.key.key_id(),
        report.key.key_id(),
        crate::LOG_KEY,
    ))
}

/// What `chitieu verify` checks without a server.
#[derive(Debug, Clone)]
pub enum Offline {
    /// A backup, with an optional head recorded before.
    Backup {
        /// The file.
        file: PathBuf,
        /// A signed head the auditor kept.
        head: Option<PathBuf>,
    },
    /// A proof bundle (inclusion or consistency); for a consistency
    /// bundle, `head` is the older head the auditor kept.
    Proof {
        /// The bundle.
        file: PathBuf,
        /// A signed head the auditor kept.
        head: Option<PathBuf>,
    },
    /// A signed head alone.
    Head {
        /// The head.
        file: PathBuf,
    },
}

/// The outcome of an offline check, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Whether it checks.
    pub ok: bool,
    /// In English.
    pub en: String,
    /// In Vietnamese.
    pub vi: String,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure::Format {
        expected: what.into(),
        reason: format!("{}: {e}", path.display()),
    })?;
    serde_json::from_str(&text).map_err(|e| Failure::Format {
        expected: what.into(),
        reason: format!("{}: {e}", path.display()),
    })
}

/// Reads a public key: a file (SPKI PEM or base64) or the base64 itself.
pub fn read_public_key(text_or_path: &str) -> anyhow::Result<PublicKey> {
    let text = match std::fs::read_to_string(text_or_path) {
        Ok(text) => text,
        Err(_) => text_or_path.to_owned(),
    };
    PublicKey::parse(&text).map_err(|e| anyhow::anyhow!("--key: {e}"))
}

/// `chitieu verify --backup/--proof/--head`: checks evidence offline with
/// the key the auditor trusts (or, without `key`, the one the evidence
/// names, which the verdict says).
pub fn verify_offline(what: &Offline, key: Option<&PublicKey>) -> Verdict {
    let outcome = check_offline(what, key);
    let trust_en = match key {
        Some(k) => format!("with the trusted key {}", k.key_id()),
        None => {
            "with the key the document names (give --key to check against a key you trust)".into()
        }
    };
    let trust_vi = match key {
        Some(k) => format!("với khóa tin cậy {}", k.key_id()),
        None => {
            "với khóa ghi trong tài liệu (dùng --key để đối chiếu với khóa mình tin cậy)".into()
        }
    };
    match outcome {
        Ok((en, vi)) => Verdict {
            ok: true,
            en: format!("VALID: {en}, {trust_en}"),
            vi: format!("HỢP LỆ: {vi}, {trust_vi}"),
        },
        Err(failure) => {
            let (at_en, at_vi) = match failure.position() {
                Some(p) => (
                    format!(" (first position that does not match: {p})"),
                    format!(" (vị trí đầu tiên không khớp: {p})"),
                ),
                None => (String::new(), String::new()),
            };
            Verdict {
                ok: false,
                en: format!("NOT VALID: {failure}{at_en}"),
                vi: format!("KHÔNG HỢP LỆ: {}{at_vi}", failure.vi()),
            }
        }
    }
}

fn check_offline(what: &Offline, key: Option<&PublicKey>) -> Result<(String, String), Failure> {
    let recorded = |head: &Option<PathBuf>| -> Result<Option<SignedHead>, Failure> {
        head.as_ref()
            .map(|p| read_json::<SignedHead>(p, "signed head"))
            .transpose()
    };
    match what {
        Offline::Backup { file, head } => {
            let kept = recorded(head)?;
            let report = check_backup(file, key, kept.as_ref())?;
            let against = kept
                .map(|h| {
                    (
                        format!("; it contains the recorded head of size {}", h.size),
                        format!("; có chứa đầu nhật ký đã ghi ở cỡ {}", h.size),
                    )
                })
                .unwrap_or_default();
            Ok((
                format!(
                    "the backup holds {} records, every one chained and under the signed root {}{}",
                    report.records, report.head.root, against.0
                ),
                format!(
                    "bản sao lưu có {} bản ghi, mọi bản ghi nối chuỗi đúng và nằm dưới gốc đã ký {}{}",
                    report.records, report.head.root, against.1
                ),
            ))
        }
        Offline::Proof { file, head } => {
            let value: serde_json::Value = read_json(file, "proof bundle")?;
            match value.get("format").and_then(|f| f.as_str()) {
                Some(chitieu_store::proof::INCLUSION_FORMAT) => {
                    let bundle: InclusionBundle = read_json(file, "inclusion bundle")?;
                    let event = bundle.verify(key)?;
                    Ok((
                        format!(
                            "record {} ({} on {}, by {}, {}) is in the log of size {} under the signed root {}",
                            event.position,
                            event.event_type,
                            event.stream,
                            event.actor.id,
                            event.recorded_at.to_rfc3339(),
                            bundle.signed_head.size,
                            bundle.signed_head.root
                        ),
                        format!(
                            "bản ghi {} ({} trên {}, do {}, lúc {}) nằm trong nhật ký cỡ {} dưới gốc đã ký {}",
                            event.position,
                            event.event_type,
                            event.stream,
                            event.actor.id,
                            event.recorded_at.to_rfc3339(),
                            bundle.signed_head.size,
                            bundle.signed_head.root
                        ),
                    ))
                }
                Some(chitieu_store::proof::CONSISTENCY_FORMAT) => {
                    let bundle: ConsistencyBundle = read_json(file, "consistency bundle")?;
                    bundle.verify(key, recorded(head)?.as_ref())?;
                    Ok((
                        format!(
                            "the log of size {} (root {}) is a prefix of the log of size {} (root {})",
                            bundle.from.size, bundle.from.root, bundle.to.size, bundle.to.root
                        ),
                        format!(
                            "nhật ký cỡ {} (gốc {}) là phần đầu không đổi của nhật ký cỡ {} (gốc {})",
                            bundle.from.size, bundle.from.root, bundle.to.size, bundle.to.root
                        ),
                    ))
                }
                other => Err(Failure::Format {
                    expected: "proof bundle".into(),
                    reason: format!("unknown format {other:?}"),
                }),
            }
        }
        Offline::Head { file } => {
            let head: SignedHead = read_json(file, "signed head")?;
            let Some(key) = key else {
                return Err(Failure::Format {
                    expected: "signed head".into(),
                    reason: "a head alone is checked against a key you trust: give --key".into(),
                });
            };
            head.verify(key)?;
            Ok((
                format!(
                    "the head of size {} with root {} is signed by the log",
                    head.size, head.root
                ),
                format!(
                    "đầu nhật ký cỡ {} với gốc {} do nhật ký ký",
                    head.size, head.root
                ),
            ))
        }
    }
}
