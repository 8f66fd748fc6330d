//! The chitieu server: wires the store, the projector, the write side and
//! the GraphQL schema to HTTP, and loads the demo data.

pub mod cache;
pub mod config;
pub mod demo;
pub mod evidence;
pub mod graphiql;
pub mod http;
pub mod metrics;
pub mod persisted;
pub mod probe;

pub mod telemetry;
pub mod tokens;

use anyhow::Context as _;
use chitieu_domain::{Command, PrincipalId, Text};
use chitieu_graphql::{build_http_schema, build_schema_allowing, App, Limits};
use chitieu_import as import;
use chitieu_projector::{Projector, ReadModel};
use chitieu_service::CommandService;
use chitieu_service::{BatchError, Caller, WriteOptions};
use chitieu_store::{Log, PgConfig, PgLog, SledLog};
use config::Config;
use std::io::Write;
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
    let node = Node::open(location).await?;
    let service = &node.service;
    if service.with_state(|s| !s.principals.is_empty())? {
        node.close().await?;
        if how.if_none {
            return Ok("this store has principals already: no admin created".into());
        }
        anyhow::bail!("this store has principals already; an admin issues tokens with the issueToken mutation or `chitieu token issue`");
    }
    if let Some(path) = &how.token_file {
        if path.exists() {
            anyhow::bail!("{} exists: the token goes into a new file", path.display());
        }
    }
    let id = PrincipalId::parse(id)?;
    let system = Caller::System(chitieu_store::Actor {
        id: "system".into(),
        name: "chitieu token create-admin".into(),
        role: "admin".into(),
    });
    service
        .execute(
            &system,
            Command::CreatePrincipal {
                principal: id.clone(),
                name: Text::parse(name)?,
            },
            WriteOptions::default(),
        )
        .await?;
    let grant = chitieu_domain::Grant {
        role: chitieu_domain::Role::Admin,
        scope: None,
    };
    service
        .execute(
            &system,
            Command::GrantRole {
                principal: id.clone(),
                grant,
            },
            WriteOptions::default(),
        )
        .await?;
    let (_, token) = service.issue_token(&system, id.clone(), None).await?;
    node.close().await?;
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
    let node = Node::open(location).await?;
    let service = &node.service;
    let id = PrincipalId::parse(principal)?;
    let system = Caller::System(chitieu_store::Actor {
        id: "system".into(),
        name: "chitieu token".into(),
        role: "admin".into(),
    });
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
    node.close().await?;
    Ok(out)
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
    let node = Node::open(location).await?;
    let (store, service) = (&node.log, &node.service);
    let principal = PrincipalId::parse(principal)?;
    let options = service
        .with_state(|state| flags.resolve(state))?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let planned = service.with_state(|state| {
        import::plan(&table, &options, state, |key| {
            store.idempotency_record(key).ok().flatten().is_some()
        })
    })?;
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
    node.close().await?;
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
    Ok(format!(
        "imported {}: {} commands written, {} already there{noticed}",
        file.display(),
        outcome.written,
        outcome.replayed
    ))
}

/// `chitieu export`: an org unit's indicators of a period as CSV and XLSX.
pub async fn export(
    location: &Location,
    org_unit: &str,
    period: &str,
) -> anyhow::Result<(String, Vec<u8>)> {
    let node = Node::open(location).await?;
    let projector = &node.projector;
    let org_unit = chitieu_domain::OrgUnitCode::parse(org_unit)?;
    let period = chitieu_domain::Period::parse(period)?;
    let read = ReadModel::new(projector.clone());
    let today = chitieu_graphql::today_in_vietnam();
    let csv = chitieu_projector::report::csv_report(&read, &org_unit, period, today, None)?;
    let workbook = chitieu_projector::report::xlsx_report(&read, &org_unit, period, today, None)?;
    drop(read);
    node.close().await?;
    Ok((csv, workbook))
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
    let node = Node::open(location).await?;
    let projector = &node.projector;
    let read = ReadModel::new(projector.clone());
    let table = chitieu_projector::targets_table::targets_table(&read, &filter)?;
    drop(read);
    node.close().await?;
    Ok(table)
}

/// Where a node's data lives: its data directory (read models, and the
/// embedded log unless `log` names another) and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The data directory.
    pub data_dir: std::path::PathBuf,
    /// `postgres://…` for the shared log; `None` for the embedded sled log
    /// in `<data_dir>/db`.
    pub log: Option<String>,
}

impl Location {
    /// The embedded log in `data_dir`.
    pub fn embedded(data_dir: &std::path::Path) -> Self {
        Location {
            data_dir: data_dir.to_owned(),
            log: None,
        }
    }
}

/// Opens the log a location names: the shared PostgreSQL log (this node's
/// copy in `<data_dir>/log-replica`) or the embedded one in `<data_dir>/db`.
pub async fn open_log(location: &Location) -> anyhow::Result<Log> {
    std::fs::create_dir_all(&location.data_dir)
        .with_context(|| format!("creating {}", location.data_dir.display()))?;
    match &location.log {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let config = PgConfig::new(url, &location.data_dir.join("log-replica"));
            let log = PgLog::connect(config)
                .await
                .context("connecting to the shared log in PostgreSQL")?;
            Ok(Arc::new(log))
        }
        Some(other) => anyhow::bail!(
            "--log is a postgres:// URL (or absent, for the embedded log), not `{other}`"
        ),
        None => {
            let log =
                SledLog::open(location.data_dir.join("db")).context("opening the event log")?;
            Ok(Arc::new(log))
        }
    }
}

/// One node: the log, the read models following it, the write side. The
/// one place that opens and closes them, in order.
pub struct Node {
    /// The log.
    pub log: Log,
    /// The read models.
    pub projector: Arc<Projector>,
    /// The write side.
    pub service: Arc<CommandService>,
    follower: Option<std::thread::JoinHandle<Result<(), chitieu_projector::ProjectionError>>>,
}

impl Node {
    /// Opens the log and the read models (`<data_dir>/read-models`),
    /// catches the read models up, and starts following the log.
    pub async fn open(location: &Location) -> anyhow::Result<Node> {
        let log = open_log(location).await?;
        const REPAIR: &str =
            "(if they are damaged, `chitieu rebuild` builds them again from the log)";
        let projector = Projector::open(&log, &location.data_dir.join("read-models"))
            .with_context(|| format!("opening the read models {REPAIR}"))?;
        let catching_up = projector.clone();
        let position = tokio::task::spawn_blocking(move || catching_up.catch_up())
            .await?
            .with_context(|| format!("catching the read models up {REPAIR}"))?;
        tracing::info!(position, head = log.head().position, log = %log.describe(), "read models caught up");
        let follower = Some(projector.spawn_follower());
        let service = Arc::new(CommandService::new(log.clone(), projector.clone()));
        Ok(Node {
            log,
            projector,
            service,
            follower,
        })
    }

    /// Stops following, writes the read models out, closes the log.
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.projector.stop();
        if let Some(follower) = self.follower.take() {
            let _ = tokio::task::spawn_blocking(move || follower.join()).await;
        }
        self.projector.flush()?;
        self.log.close()?;
        Ok(())
    }
}

/// The log's signing key in the data directory, unless the configuration
/// names another.
pub const LOG_KEY: &str = "log-key.pem";

/// The demo's tokens, in its data directory (readable by its owner only).
pub const DEMO_TOKENS: &str = "demo-tokens.json";

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Runs the server until Ctrl-C (or SIGTERM).
pub async fn serve(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let location = Location {
        data_dir: config.data_dir.clone(),
        log: config.log.clone(),
    };
    let node = Node::open(&location).await?;
    let (store, projector, service) = (
        node.log.clone(),
        node.projector.clone(),
        node.service.clone(),
    );

    let mut printed = Vec::new();
    let people = tokens::demo_people();
    if config.demo {
        let actor = |i: usize| chitieu_store::Actor {
            id: people[i].id.to_owned(),
            name: people[i].name.to_owned(),
            role: people[i].grant.0.as_str().to_owned(),
        };
        let system = Caller::System(actor(0));
        if store.head().position == 0 {
            let actors: Vec<_> = (0..people.len()).map(actor).collect();
            demo::load(&service, &actors)
                .await
                .map_err(|e| anyhow::anyhow!("loading demo data: {e}"))?;
            for person in &people {
                let id = PrincipalId::parse(person.id)?;
                let name = Text::parse(person.name)?;
                service
                    .execute(
                        &system,
                        Command::CreatePrincipal {
                            principal: id.clone(),
                            name,
                        },
                        WriteOptions::default(),
                    )
                    .await?;
                let grant = Command::GrantRole {
                    principal: id,
                    grant: person.domain_grant(),
                };
                service
                    .execute(&system, grant, WriteOptions::default())
                    .await?;
            }
            tracing::info!(events = store.head().position, "demo data loaded");
        }
        // The demo's tokens are kept in the data directory (the log holds
        // only digests) and reused while valid: a restart changes nothing
        // for a client set up with them. A person whose kept token is gone
        // or expired has every other token revoked before a new one is
        // issued, so they never pile up. On a shared log the other tokens
        // are other nodes' (each node keeps its own file): nothing is
        // revoked there, and a node issues only when its file lacks a
        // valid token.
        let sole_user = config.log.is_none();
        let path = config.data_dir.join(DEMO_TOKENS);
        let mut kept: std::collections::BTreeMap<String, String> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        for person in &people {
            let id = PrincipalId::parse(person.id)?;
            let reusable = kept
                .get(person.id)
                .filter(|t| service.authenticate(t).is_ok_and(|a| a.principal == id))
                .cloned();
            let token = match reusable {
                Some(token) => token,
                None => {
                    let active: Vec<chitieu_domain::principal::TokenId> = if !sole_user {
                        Vec::new()
                    } else {
                        service.with_state(|s| {
                            s.principals
                                .get(&id)
                                .map(|p| {
                                    p.tokens
                                        .iter()
                                        .filter(|(_, t)| !t.revoked)
                                        .map(|(token, _)| *token)
                                        .collect()
                                })
                                .unwrap_or_default()
                        })?
                    };
                    for token in active {
                        service
                            .execute(
                                &system,
                                Command::RevokeToken {
                                    principal: id.clone(),
                                    token,
                                },
                                WriteOptions::default(),
                            )
                            .await?;
                    }
                    let expires = chrono::Utc::now() + chrono::Duration::days(30);
                    service.issue_token(&system, id, Some(expires)).await?.1
                }
            };
            kept.insert(person.id.to_owned(), token.clone());
            printed.push((person, token));
        }
        write_private(&path, &serde_json::to_string_pretty(&kept)?)
            .with_context(|| format!("keeping the demo tokens in {}", path.display()))?;
    }

    let verifier = chitieu_service::ledger::LedgerVerifier::new(store.clone(), projector.clone());
    // Without a verified checkpoint (a new store, rebuilt read models), a
    // full check runs in the background; later checks walk only the tail.
    if projector.verified_checkpoint().ok().flatten().is_none() {
        verifier.start_full();
    }
    let key = chitieu_store::signed::LogKey::load_or_create(&config.signing_key_path())
        .context("the log's signing key")?;
    let notary = chitieu_store::Notary::new(store.clone(), key, &config.log_origin);
    let started = std::time::Instant::now();
    let building = notary.clone();
    let size = tokio::task::spawn_blocking(move || building.catch_up())
        .await?
        .context("building the log's Merkle tree")?;
    tracing::info!(size, key_id = %notary.public_key().key_id(), took_ms = started.elapsed().as_millis() as u64, tree_bytes = notary.tree_bytes(), "Merkle tree built");
    let _tree = notary.spawn();
    let app = App {
        read: ReadModel::new(projector.clone()),
        service,
        log: store.clone(),
        verifier,
        notary,
        today: chitieu_graphql::today_in_vietnam,
    };
    let limits = Limits {
        depth: config.limits.depth,
        complexity: config.limits.complexity,
        aliases: config.limits.aliases,
        introspection: config.introspection,
    };
    // HTTP checks aliases on the document it parses; WebSockets let the
    // schema's extension do it.
    let persisted = match &config.persisted_only {
        Some(path) => {
            let operations = persisted::load_manifest(path)?;
            tracing::info!(operations = operations.len(), file = %path.display(), "running only the operations of the allow-list");
            persisted::PersistedQueries::only(operations)
        }
        None => persisted::PersistedQueries::open(),
    };
    let schema = build_http_schema(Some(app.clone()), limits);
    let allow: Option<chitieu_graphql::limits::AllowDocument> =
        persisted.allow_list().map(|list| {
            let allow: chitieu_graphql::limits::AllowDocument =
                Arc::new(move |query: &str| list.contains_key(&persisted::sha256_hex(query)));
            allow
        });
    let ws_schema = build_schema_allowing(Some(app.clone()), limits, allow);
    let cache = Arc::new(cache::ResponseCache::new(
        config.limits.response_cache_mib.saturating_mul(1 << 20),
    ));
    let metrics = Arc::new(metrics::Metrics::new(app.clone(), cache.clone()));
    let state = http::HttpState {
        schema,
        ws_schema,
        max_aliases: config.limits.aliases,
        max_depth: config.limits.depth,
        max_complexity: config.limits.complexity,
        cost_schema: chitieu_graphql::build_cost_schema(limits),
        app,
        failed_auths: Arc::new(tokens::FailedAuths::new(20, Duration::from_secs(60))),
        max_batch: config.limits.batch,
        timeout: Duration::from_millis(config.limits.timeout_ms),
        graphiql: config.introspection,
        anonymous_reads: config.anonymous_reads,
        ping_every: Duration::from_millis(config.limits.ws_ping_ms.max(10)),
        cache: cache.clone(),
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        persisted: Arc::new(persisted),
        metrics: metrics.clone(),
        metrics_here: config.metrics_listen.is_none(),
    };
    let router = http::router(state, config.limits.body_bytes);
    let router = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let address = listener.local_addr()?;
    // `/metrics` on a listener of its own, kept off the public one.
    let metrics_address = match config.metrics_listen {
        Some(at) => {
            let metrics_listener = tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("binding {at} for /metrics"))?;
            let bound = metrics_listener.local_addr()?;
            let metrics = metrics.clone();
            let router = axum::Router::new().route(
                "/metrics",
                axum::routing::get(move || async move { http::metrics_response(&metrics) }),
            );
            tokio::spawn(async move {
                if let Err(error) = axum::serve(metrics_listener, router)
                    .with_graceful_shutdown(shutdown())
                    .await
                {
                    tracing::error!(%error, "the metrics listener stopped");
                }
            });
            bound
        }
        None => address,
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "chitieu: GraphQL at http://{address}/graphql")?;
        if config.introspection {
            writeln!(out, "chitieu: GraphiQL at http://{address}/graphiql")?;
        }
        writeln!(out, "chitieu: data in {}", config.data_dir.display())?;
        writeln!(out, "chitieu: log {}", store.describe())?;
        writeln!(out, "chitieu: metrics at http://{metrics_address}/metrics")?;
        if printed.is_empty() {
            writeln!(out, "chitieu: authenticate with `Authorization: Bearer <token>` (`chitieu token create-admin` makes the first one)")?;
        } else {
            writeln!(
                out,
                "chitieu: demo tokens, send as `Authorization: Bearer <token>` (each valid 30 days from its issue, kept across restarts in {}):",
                config.data_dir.join(DEMO_TOKENS).display()
            )?;
            for (person, token) in &printed {
                let scope = person.grant.1.unwrap_or("everywhere");
                writeln!(
                    out,
                    "chitieu: token {:<17} {} {} ({} in {})",
                    person.id,
                    token,
                    person.name,
                    person.grant.0.as_str(),
                    scope
                )?;
            }
        }
        writeln!(out, "chitieu: ready")?;
        out.flush()?;
    }
    tracing::info!(%address, "listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await?;
    drop(projector);
    node.close().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// A log named on the command line: a `postgres://` URL (this process's
/// copy kept in memory) or a data directory (its embedded log in `db`).
async fn open_named_log(name: &str) -> anyhow::Result<Log> {
    if name.starts_with("postgres://") || name.starts_with("postgresql://") {
        let log = PgLog::connect(PgConfig::in_memory(name))
            .await
            .with_context(|| format!("connecting to {name}"))?;
        Ok(Arc::new(log))
    } else {
        open_log(&Location::embedded(std::path::Path::new(name))).await
    }
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
fn progress(total: u64, what: &str) -> indicatif::ProgressBar {
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
    projector.flush()?;
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
    let stored_digest = match caught_up {
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
