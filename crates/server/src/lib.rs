//! The chitieu server: wires the store, the projector, the write side and
//! the GraphQL schema to HTTP, and loads the demo data.

pub mod config;
pub mod demo;
pub mod http;
pub mod telemetry;
pub mod tokens;

use anyhow::Context as _;
use chitieu_graphql::{build_schema, App, Limits, Principal, Role};
use chitieu_projector::{Projector, ReadModel};
use chitieu_service::CommandService;
use chitieu_store::EventStore;
use config::Config;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

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

    let mut tokens = tokens::TokenRegistry::default();
    let mut printed = Vec::new();
    if let Ok(token) = std::env::var("CHITIEU_ADMIN_TOKEN") {
        if token.len() >= 16 {
            tokens.insert(
                &token,
                Principal {
                    id: "admin".into(),
                    name: "Administrator".into(),
                    role: Role::Admin,
                },
            );
        } else {
            anyhow::bail!("CHITIEU_ADMIN_TOKEN must be at least 16 characters");
        }
    }
    if config.demo {
        let people = tokens::demo_principals();
        if store.head().position == 0 {
            demo::load(&service, &people)
                .await
                .map_err(|e| anyhow::anyhow!("loading demo data: {e}"))?;
            tracing::info!(events = store.head().position, "demo data loaded");
        }
        for person in people {
            let token = tokens.issue(person.clone());
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
    let schema = build_schema(Some(app.clone()), limits);
    let state = http::HttpState {
        schema,
        app,
        tokens: Arc::new(tokens),
        max_batch: config.limits.batch,
        timeout: Duration::from_millis(config.limits.timeout_ms),
        graphiql: config.introspection,
        anonymous_reads: config.anonymous_reads,
        ping_every: Duration::from_secs(15),
    };
    let router = http::router(state, config.limits.body_bytes);
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
            writeln!(out, "chitieu: authenticate with `Authorization: Bearer <token>` (set CHITIEU_ADMIN_TOKEN for an admin token)")?;
        } else {
            writeln!(out, "chitieu: demo tokens, send as `Authorization: Bearer <token>` (valid until the server stops):")?;
            for (person, token) in &printed {
                writeln!(
                    out,
                    "chitieu: token {:<8} {} {}",
                    person.role.as_str(),
                    token,
                    person.name
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
