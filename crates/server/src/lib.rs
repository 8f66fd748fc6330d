//! The chitieu server: wires the store, the projector, the write side and
//! the GraphQL schema to HTTP, and loads the demo data.

pub mod cache;
pub mod config;
pub mod demo;
pub mod http;

pub mod telemetry;
pub mod tokens;

use anyhow::Context as _;
use chitieu_domain::{Command, PrincipalId, Text};
use chitieu_graphql::{build_http_schema, build_schema, App, Limits};
use chitieu_import as import;
use chitieu_projector::{Projector, ReadModel};
use chitieu_service::CommandService;
use chitieu_service::{BatchError, Caller, WriteOptions};
use chitieu_store::EventStore;
use config::Config;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// `chitieu token create-admin`: on a store without principals, creates an
/// admin for everywhere and returns a token for it.
pub async fn create_first_admin(
    data_dir: &std::path::Path,
    id: &str,
    name: &str,
) -> anyhow::Result<String> {
    let (store, projector, service) = open(data_dir).await?;
    if service.with_state(|s| !s.principals.is_empty())? {
        anyhow::bail!("this store has principals already; an admin issues tokens with the issueToken mutation or `chitieu token issue`");
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
    let (_, token) = service.issue_token(&system, id, None).await?;
    projector.stop();
    drop(service);
    drop(projector);
    store.close()?;
    Ok(token)
}

/// `chitieu token issue` / `revoke`, run by the operator on the server's
/// machine with the server stopped (recorded as the system).
pub async fn manage_token(
    data_dir: &std::path::Path,
    principal: &str,
    revoke: Option<uuid::Uuid>,
    days: Option<u32>,
) -> anyhow::Result<String> {
    let (store, projector, service) = open(data_dir).await?;
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
            let expires = days.map(|d| chrono::Utc::now() + chrono::Duration::days(i64::from(d)));
            let (token_id, token) = service.issue_token(&system, id, expires).await?;
            format!("token {} (id {})", token, token_id.0)
        }
    };
    projector.stop();
    drop(service);
    drop(projector);
    store.close()?;
    Ok(out)
}

/// `chitieu import`: plans the whole table, refuses it with every problem
/// if there is any, else runs its commands as `principal` (whose grants
/// must cover all of them), each with its idempotency key.
pub async fn import_file(
    data_dir: &std::path::Path,
    principal: &str,
    flags: &import::Flags,
    file: &std::path::Path,
) -> anyhow::Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let table = import::Table::read(&bytes)
        .map_err(|p| anyhow::anyhow!("{} refused, nothing imported:\n  {p}", file.display()))?;
    let (store, projector, service) = open(data_dir).await?;
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
    projector.stop();
    drop(service);
    drop(projector);
    store.close()?;
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
    data_dir: &std::path::Path,
    org_unit: &str,
    period: &str,
) -> anyhow::Result<(String, Vec<u8>)> {
    let (store, projector, service) = open(data_dir).await?;
    let org_unit = chitieu_domain::OrgUnitCode::parse(org_unit)?;
    let period = chitieu_domain::Period::parse(period)?;
    let read = ReadModel::new(projector.clone());
    let today = chitieu_graphql::today_in_vietnam();
    let csv = chitieu_projector::report::csv_report(&read, &org_unit, period, today)?;
    let workbook = chitieu_projector::report::xlsx_report(&read, &org_unit, period, today)?;
    projector.stop();
    drop(read);
    drop(service);
    drop(projector);
    store.close()?;
    Ok((csv, workbook))
}

/// `chitieu export --layout targets`: every target (of an org unit and its
/// descendants, of a period) in the seed-table layout.
pub async fn export_targets(
    data_dir: &std::path::Path,
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
    let (store, projector, service) = open(data_dir).await?;
    let read = ReadModel::new(projector.clone());
    let table = chitieu_projector::targets_table::targets_table(&read, &filter)?;
    projector.stop();
    drop(read);
    drop(service);
    drop(projector);
    store.close()?;
    Ok(table)
}

async fn open(
    data_dir: &std::path::Path,
) -> anyhow::Result<(EventStore, Arc<Projector>, CommandService)> {
    std::fs::create_dir_all(data_dir)?;
    let store = EventStore::open(data_dir.join("db"))
        .context("opening the event store (is the server running?)")?;
    let projector = Projector::open(&store)?;
    let catching_up = projector.clone();
    tokio::task::spawn_blocking(move || catching_up.catch_up()).await??;
    let _follower = projector.spawn_follower();
    let service = CommandService::new(store.clone(), projector.clone());
    Ok((store, projector, service))
}

/// Runs the server until Ctrl-C (or SIGTERM).
pub async fn serve(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let store = EventStore::open(config.data_dir.join("db")).context("opening the event store")?;
    let projector = Projector::open(&store).context("opening the read models")?;
    let catching_up = projector.clone();
    let position = tokio::task::spawn_blocking(move || catching_up.catch_up()).await??;
    tracing::info!(
        position,
        head = store.head().position,
        "read models caught up"
    );
    let follower = projector.spawn_follower();
    let service = Arc::new(CommandService::new(store.clone(), projector.clone()));

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
        // A fresh token for each demo person at every start (tokens are
        // shown once and stored only as digests).
        for person in &people {
            let id = PrincipalId::parse(person.id)?;
            let expires = chrono::Utc::now() + chrono::Duration::days(30);
            let (_, token) = service.issue_token(&system, id, Some(expires)).await?;
            printed.push((person, token));
        }
    }

    let app = App {
        read: ReadModel::new(projector.clone()),
        service,
        store: store.clone(),
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
    let schema = build_http_schema(Some(app.clone()), limits);
    let ws_schema = build_schema(Some(app.clone()), limits);
    let state = http::HttpState {
        schema,
        ws_schema,
        max_aliases: config.limits.aliases,
        app,
        failed_auths: Arc::new(tokens::FailedAuths::new(20, Duration::from_secs(60))),
        max_batch: config.limits.batch,
        timeout: Duration::from_millis(config.limits.timeout_ms),
        graphiql: config.introspection,
        anonymous_reads: config.anonymous_reads,
        ping_every: Duration::from_millis(config.limits.ws_ping_ms.max(10)),
        cache: Arc::new(cache::ResponseCache::new(
            config.limits.response_cache_mib.saturating_mul(1 << 20),
        )),
    };
    let router = http::router(state, config.limits.body_bytes);
    let router = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let address = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "chitieu: GraphQL at http://{address}/graphql")?;
        if config.introspection {
            writeln!(out, "chitieu: GraphiQL at http://{address}/graphiql")?;
        }
        writeln!(out, "chitieu: data in {}", config.data_dir.display())?;
        if printed.is_empty() {
            writeln!(out, "chitieu: authenticate with `Authorization: Bearer <token>` (`chitieu token create-admin` makes the first one)")?;
        } else {
            writeln!(
                out,
                "chitieu: demo tokens, send as `Authorization: Bearer <token>` (valid 30 days):"
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
    projector.stop();
    let _ = tokio::task::spawn_blocking(move || follower.join()).await;
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
