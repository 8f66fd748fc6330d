//! The command line's use cases that run with the server stopped, on the
//! store of a [`Location`]: the first admin and tokens, import, export,
//! copying a log between backends, rebuilding and verifying. Each opens its
//! node through [`with_node`] (or only the log), so the open/close order is
//! written once.

use crate::node::{open_log, open_named_log, with_node, Location};
use crate::write_private;
use anyhow::Context as _;
use chitieu_domain::{Command, PrincipalId, Text};
use chitieu_import as import;
use chitieu_projector::{Projector, ReadModel};
use chitieu_service::{BatchError, Caller, WriteOptions};
use chitieu_store::Log;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

/// How `chitieu token create-admin` behaves.
#[derive(Debug, Default, Clone)]
pub struct FirstAdmin {
    /// A store with principals is not an error: nothing is done.
    pub if_none: bool,
    /// Where the token goes (a new file, mode 0600); `None`: the message.
    pub token_file: Option<std::path::PathBuf>,
}

/// `chitieu token create-admin`: on a store without principals, creates an
/// admin for everywhere and issues a token for it. Returns what to print.
pub async fn create_first_admin(
    location: &Location,
    id: &str,
    name: &str,
    how: FirstAdmin,
) -> anyhow::Result<String> {
    let id = PrincipalId::parse(id)?;
    let name = Text::parse(name)?;
    let created = with_node(location, async |node| {
        let service = &node.service;
        if service.with_state(|s| !s.principals.is_empty())? {
            return Ok(None);
        }
        if let Some(path) = &how.token_file {
            if path.exists() {
                anyhow::bail!("{} exists: the token goes into a new file", path.display());
            }
        }
        let system = Caller::System(chitieu_store::Actor {
            id: "system".into(),
            name: "chitieu token create-admin".into(),
            role: "admin".into(),
        });
        let grant = chitieu_domain::Grant {
            role: chitieu_domain::Role::Admin,
            scope: None,
        };
        create_principal(service, &system, &id, name, grant).await?;
        Ok(Some(
            service.issue_token(&system, id.clone(), None).await?.1,
        ))
    })
    .await?;
    let Some(token) = created else {
        if how.if_none {
            return Ok("this store has principals already: no admin created".into());
        }
        anyhow::bail!("this store has principals already; an admin issues tokens with the issueToken mutation or `chitieu token issue`");
    };
    match &how.token_file {
        Some(path) => {
            write_private(path, &format!("{token}\n"))
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(format!(
                "admin `{id}` created; its token is in {} (readable by its owner only)",
                path.display()
            ))
        }
        None => Ok(format!("admin token (shown once): {token}")),
    }
}

/// `chitieu token issue` / `revoke`, run by the operator on the server's
/// machine with the server stopped (recorded as the system).
pub async fn manage_token(
    location: &Location,
    principal: &str,
    revoke: Option<uuid::Uuid>,
    days: Option<u32>,
) -> anyhow::Result<String> {
    let id = PrincipalId::parse(principal)?;
    let system = Caller::System(chitieu_store::Actor {
        id: "system".into(),
        name: "chitieu token".into(),
        role: "admin".into(),
    });
    with_node(location, async |node| {
        let service = &node.service;
        let out = match revoke {
            Some(token) => {
                let command = Command::RevokeToken {
                    principal: id,
                    token: chitieu_domain::TokenId(token),
                };
                service
                    .execute(&system, command, WriteOptions::default())
                    .await?;
                format!("revoked {token}")
            }
            None => {
                let expires = days
                    .map(|d| chitieu_domain::principal::token_expiry(chrono::Utc::now(), d))
                    .transpose()?;
                let (token_id, token) = service.issue_token(&system, id, expires).await?;
                format!("token {} (id {})", token, token_id.0)
            }
        };
        Ok(out)
    })
    .await
}

/// `chitieu import`: plans the whole table, refuses it with every problem
/// if there is any, else runs its commands as `principal` (whose grants
/// must cover all of them), each with its idempotency key.
pub async fn import_file(
    location: &Location,
    principal: &str,
    flags: &import::Flags,
    file: &std::path::Path,
) -> anyhow::Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let table = import::Table::read(&bytes)
        .map_err(|p| anyhow::anyhow!("{} refused, nothing imported:\n  {p}", file.display()))?;
    let principal = PrincipalId::parse(principal)?;
    let (outcome, lines, noticed, found) = with_node(location, async |node| {
        let (store, service) = (&node.log, &node.service);
        let options = service
            .with_state(|state| flags.resolve(state))?
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let planned = service.with_figures(
            |state| import::figures_read(&table, &options, state),
            |state| {
                import::plan(&table, &options, state, |key| {
                    store.idempotency_record(key).ok().flatten().is_some()
                })
            },
        )?;
        let steps = match planned {
            Ok(steps) => steps,
            Err(problems) => {
                let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
                anyhow::bail!(
                    "{} refused, nothing imported:\n{}",
                    file.display(),
                    list.join("\n")
                );
            }
        };
        let lines: Vec<usize> = steps.iter().map(|s| s.line).collect();
        let touched: std::collections::BTreeSet<chitieu_domain::IndicatorId> = steps
            .iter()
            .filter_map(|s| match s.command.stream_id() {
                chitieu_domain::StreamId::Indicator(id) => Some(id),
                _ => None,
            })
            .collect();
        let noticed: Vec<String> = steps
            .iter()
            .filter_map(|s| {
                s.notice
                    .as_ref()
                    .map(|n| format!("\n  line {}: {n}", s.line))
            })
            .collect();
        let commands = steps.into_iter().map(|s| (s.command, s.key)).collect();
        let outcome = service
            .execute_all(&Caller::Principal(principal), commands)
            .await;
        // The documents' inconsistencies the table brought in.
        let mut found = Vec::new();
        if let Ok(done) = &outcome {
            if node
                .projector
                .wait_for(done.position, std::time::Duration::from_secs(30))
                .await
                .is_ok()
            {
                let read = chitieu_projector::ReadModel::new(node.projector.clone());
                for (f, name) in read.findings_about(&touched)? {
                    found.push(format!("\n  {name}: {}", f.vi));
                }
            }
        }
        Ok((outcome, lines, noticed, found))
    })
    .await?;
    let outcome = match outcome {
        Ok(o) => o,
        Err(BatchError::Refused(refused)) => {
            let list: Vec<String> = refused
                .iter()
                .map(|(i, e)| format!("  line {}: {e}", lines[*i]))
                .collect();
            anyhow::bail!(
                "{} refused, nothing imported:\n{}",
                file.display(),
                list.join("\n")
            );
        }
        Err(BatchError::Failed { index, error }) => anyhow::bail!(
            "line {}: {error} (the lines before it were imported; run the same file again to finish)",
            lines.get(index).copied().unwrap_or(0)
        ),
    };
    let noticed = if noticed.is_empty() {
        String::new()
    } else {
        format!(
            "\nflagged in the results' notes ({}):{}",
            noticed.len(),
            noticed.concat()
        )
    };
    let found = if found.is_empty() {
        String::new()
    } else {
        format!("\nfindings ({}):{}", found.len(), found.concat())
    };
    Ok(format!(
        "imported {}: {} commands written, {} already there{noticed}{found}",
        file.display(),
        outcome.written,
        outcome.replayed
    ))
}

/// `chitieu export`: an org unit's indicators of a period (and with
/// `descendants` those of the units under it) as CSV and XLSX.
pub async fn export(
    location: &Location,
    org_unit: &str,
    period: &str,
    descendants: bool,
) -> anyhow::Result<(String, Vec<u8>)> {
    let org_unit = chitieu_domain::OrgUnitCode::parse(org_unit)?;
    let period = chitieu_domain::Period::parse(period)?;
    with_node(location, async |node| {
        let read = ReadModel::new(node.projector.clone());
        let today = chitieu_graphql::today_in_vietnam();
        let csv = chitieu_projector::report::csv_report(
            &read,
            &org_unit,
            period,
            today,
            None,
            descendants,
        )?;
        let workbook = chitieu_projector::report::xlsx_report(
            &read,
            &org_unit,
            period,
            today,
            None,
            descendants,
        )?;
        Ok((csv, workbook))
    })
    .await
}

/// `chitieu export --layout targets`: every target (of an org unit and its
/// descendants, of a period) in the seed-table layout.
pub async fn export_targets(
    location: &Location,
    org_unit: Option<&str>,
    period: Option<&str>,
) -> anyhow::Result<String> {
    let filter = chitieu_projector::IndicatorFilter {
        org_unit: org_unit
            .map(chitieu_domain::OrgUnitCode::parse)
            .transpose()?,
        include_descendants: true,
        period: period.map(chitieu_domain::Period::parse).transpose()?,
        ..Default::default()
    };
    with_node(location, async |node| {
        let read = ReadModel::new(node.projector.clone());
        Ok(chitieu_projector::targets_table::targets_table(
            &read, &filter,
        )?)
    })
    .await
}

/// `chitieu log copy`: copies every record, byte for byte, into a log that
/// is empty or holds a prefix of it, then verifies the copy and compares
/// heads. Prints progress on stderr.
pub async fn copy_log(from: &str, to: &str) -> anyhow::Result<String> {
    let source = open_named_log(from).await?;
    let target = open_named_log(to).await?;
    let started = std::time::Instant::now();
    let mut err = std::io::stderr();
    let head = chitieu_store::copy_log(&source, &target, |p| {
        let _ = write!(err, "\rchitieu: copied {} of {} records", p.copied, p.total);
        let _ = err.flush();
    })
    .await;
    let _ = writeln!(err);
    let closed = (source.close(), target.close());
    let head = head.map_err(|e| anyhow::anyhow!("copy refused or failed: {e}"))?;
    closed.0?;
    closed.1?;
    Ok(format!(
        "copied {} records from {} to {} in {:.1} s; verified; head {} {}",
        head.position,
        source.describe(),
        target.describe(),
        started.elapsed().as_secs_f64(),
        head.position,
        hex::encode(head.hash)
    ))
}

/// A progress bar on standard error for long work on `total` events
/// (hidden when standard error is not a terminal).
pub(crate) fn progress(total: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} events ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

/// Runs `work` on a blocking thread, showing the projector's position
/// against the log's head until it ends.
async fn with_progress<T: Send + 'static>(
    projector: &Arc<Projector>,
    total: u64,
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let bar = progress(total, what);
    let job = tokio::task::spawn_blocking(work);
    while !job.is_finished() {
        bar.set_position(projector.position().min(total));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bar.set_position(projector.position().min(total));
    bar.finish();
    Ok(job.await?)
}

/// `chitieu rebuild` (server stopped): drops the read models and builds
/// them again from the log, with progress. The repair for read models a
/// storage fault damaged (`chitieu verify --read-models` finds them).
pub async fn rebuild_read_models(location: &Location) -> anyhow::Result<String> {
    let log = open_log(location).await?;
    // Read models are derived data: damaged ones may not even open, so the
    // repair starts from an empty directory.
    let dir = location.data_dir.join("read-models");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let projector = Projector::open(&log, &dir).context("creating the read models")?;
    let head = log.head().position;
    let rebuilding = projector.clone();
    let rebuilt =
        with_progress(&projector, head, "rebuilding", move || rebuilding.rebuild()).await?;
    let position = rebuilt.context("rebuilding the read models")?;
    projector.close()?;
    let size = projector.size_on_disk().unwrap_or(0);
    drop(projector);
    log.close()?;
    Ok(format!(
        "read models rebuilt from {position} events ({} KiB on disk)",
        size / 1024
    ))
}

/// `chitieu verify [--read-models]` (server stopped): walks the log's hash
/// chain; with `read_models`, also builds the read models again from the
/// log in a temporary place and compares them, byte for byte (by digest),
/// with the stored ones.
pub async fn verify_store(location: &Location, read_models: bool) -> anyhow::Result<String> {
    let chain = verify_log(location).await?;
    if !read_models {
        return Ok(chain);
    }
    let log = open_log(location).await?;
    let outcome = compare_read_models(location, &log).await;
    log.close()?;
    Ok(format!(
        "{chain}
{}",
        outcome?
    ))
}

async fn compare_read_models(location: &Location, log: &Log) -> anyhow::Result<String> {
    let head = log.head().position;
    let stored = match Projector::open(log, &location.data_dir.join("read-models")) {
        Ok(stored) => stored,
        Err(error) => anyhow::bail!(
            "the read models cannot be opened ({error}): repair them with `chitieu rebuild`"
        ),
    };
    let following = stored.clone();
    let caught_up = with_progress(&stored, head, "reading stored", move || {
        following.catch_up().and_then(|_| following.digest())
    })
    .await?;
    let stored_digest = match caught_up.and_then(|digest| stored.close().map(|()| digest)) {
        Ok(digest) => digest,
        Err(error) => anyhow::bail!(
            "the read models cannot be read ({error}): repair them with `chitieu rebuild`"
        ),
    };
    let fresh = Projector::open_temporary(log)?;
    let building = fresh.clone();
    let fresh_digest = with_progress(&fresh, head, "rebuilding aside", move || {
        building.catch_up().and_then(|_| building.digest())
    })
    .await??;
    if stored_digest == fresh_digest {
        Ok(format!(
            "read models ok: identical to a rebuild from the log ({} events, digest {})",
            head,
            hex::encode(stored_digest)
        ))
    } else {
        anyhow::bail!(
            "the read models differ from a rebuild from the log (stored {}, rebuilt {}): repair them with `chitieu rebuild`",
            hex::encode(stored_digest),
            hex::encode(fresh_digest)
        )
    }
}

/// `chitieu log verify`: walks the hash chain of the log a location names.
pub async fn verify_log(location: &Location) -> anyhow::Result<String> {
    let log = open_log(location).await?;
    let report = log.verify().await;
    log.close()?;
    let report = report?;
    match report.first_break {
        None => Ok(format!(
            "ok: {} records, head {} {}",
            report.checked,
            report.head.position,
            hex::encode(report.head.hash)
        )),
        Some((position, reason)) => anyhow::bail!(
            "the chain breaks at {position}: {reason} ({} records good before it)",
            report.checked
        ),
    }
}

/// Creates a principal with one grant, as `caller` (the first admin, the
/// demo's people).
pub(crate) async fn create_principal(
    service: &chitieu_service::CommandService,
    caller: &Caller,
    id: &PrincipalId,
    name: Text,
    grant: chitieu_domain::Grant,
) -> anyhow::Result<()> {
    let create = Command::CreatePrincipal {
        principal: id.clone(),
        name,
    };
    service
        .execute(caller, create, WriteOptions::default())
        .await?;
    let grant = Command::GrantRole {
        principal: id.clone(),
        grant,
    };
    service
        .execute(caller, grant, WriteOptions::default())
        .await?;
    Ok(())
}
