//! The composition root: [`Server::start`] opens a node on an already-bound
//! listener (loading the demo data into an empty store in demo mode),
//! builds the schema, the response cache and the routes; [`Server::run`]
//! serves until a shutdown future resolves, then closes the node.
//! [`run`] is both, in the spirit of mini-redis's `server::run(listener,
//! shutdown)`: tests start a server like any library, on port 0, and read
//! its address and demo tokens from the value instead of from its output.
//! [`serve`] is the binary's `chitieu serve`/`demo`: it binds, prints the
//! URL and tokens, and stops on Ctrl-C or SIGTERM.

use crate::config::Config;
use crate::node::{Location, Node};
use crate::{cache, demo, http, metrics, persisted, tokens};
use anyhow::Context as _;
use chitieu_graphql::{build_http_schema, build_schema_allowing, App, Limits};
use chitieu_projector::ReadModel;
use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The log's signing key in the data directory, unless the configuration
/// names another.
pub const LOG_KEY: &str = "log-key.pem";

/// The demo's tokens, in its data directory (readable by its owner only).
pub const DEMO_TOKENS: &str = "demo-tokens.json";

/// A demo person's token, as `chitieu demo` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoToken {
    /// The principal's id (`admin`, `vp-huyen-uy`, …).
    pub person: String,
    /// Its display name.
    pub name: String,
    /// Its role.
    pub role: String,
    /// The subtree its grant covers; `None`: everywhere.
    pub scope: Option<String>,
    /// The bearer token.
    pub token: String,
}

/// A server started on its listener, not yet serving.
pub struct Server {
    node: Node,
    listener: tokio::net::TcpListener,
    address: SocketAddr,
    metrics_listener: Option<tokio::net::TcpListener>,
    metrics_address: SocketAddr,
    router: axum::Router,
    metrics: Arc<metrics::Metrics>,
    demo_tokens: Vec<DemoToken>,
    config: Config,
    // The task that keeps the Merkle tree following the log.
    tree: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Opens the node of `config` (creating its data directory), loads the
    /// demo data into an empty store when `config.demo`, builds the Merkle
    /// tree and the routes, and binds `/metrics`' own listener if the
    /// configuration names one. `listener` is bound already (port 0 is fine:
    /// [`Server::address`] says which port it got); `config.listen` is not
    /// used.
    pub async fn start(
        listener: tokio::net::TcpListener,
        config: Config,
    ) -> anyhow::Result<Server> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
        let location = Location {
            data_dir: config.data_dir.clone(),
            log: config.log.clone(),
            memory: config.memory,
        };
        let node = Node::open(&location).await?;
        // The Merkle tree is built from the whole log at start; so is the
        // command service's domain state (by the demo loader's first look,
        // else here). Both read the log alone: they run side by side.
        let key = chitieu_store::signed::LogKey::load_or_create(&config.signing_key_path())
            .context("the log's signing key")?;
        let notary = chitieu_store::Notary::new(node.log.clone(), key, &config.log_origin);
        let started = std::time::Instant::now();
        let building = notary.clone();
        let merkle = tokio::task::spawn_blocking(move || building.catch_up());
        let demo_tokens = if config.demo {
            demo::bootstrap(&node, config.log.is_none(), &config.data_dir).await?
        } else {
            let service = node.service.clone();
            tokio::task::spawn_blocking(move || service.with_state(|_| ()))
                .await?
                .context("folding the log into the domain state")?;
            Vec::new()
        };
        let (store, projector, service) = (
            node.log.clone(),
            node.projector.clone(),
            node.service.clone(),
        );
        let verifier =
            chitieu_service::ledger::LedgerVerifier::new(store.clone(), projector.clone());
        // Without a verified checkpoint (a new store, rebuilt read models), a
        // full check runs in the background; later checks walk only the tail.
        if projector.verified_checkpoint().ok().flatten().is_none() {
            verifier.start_full();
        }
        let size = merkle.await?.context("building the log's Merkle tree")?;
        tracing::info!(size, key_id = %notary.public_key().key_id(), took_ms = started.elapsed().as_millis() as u64, tree_bytes = notary.tree_bytes(), "Merkle tree built");
        let tree = notary.spawn();
        let app = App {
            read: ReadModel::new(projector),
            service,
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
        let checked_schema = chitieu_graphql::build_checked_schema(Some(app.clone()), limits);
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
            checked_schema,
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
            cache,
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            persisted: Arc::new(persisted),
            metrics: metrics.clone(),
            metrics_here: config.metrics_listen.is_none(),
        };
        let router = http::router(state, config.limits.body_bytes);
        let address = listener.local_addr()?;
        // `/metrics` on a listener of its own, kept off the public one.
        let (metrics_listener, metrics_address) = match config.metrics_listen {
            Some(at) => {
                let bound = tokio::net::TcpListener::bind(at)
                    .await
                    .with_context(|| format!("binding {at} for /metrics"))?;
                let address = bound.local_addr()?;
                (Some(bound), address)
            }
            None => (None, address),
        };
        Ok(Server {
            node,
            listener,
            address,
            metrics_listener,
            metrics_address,
            router,
            metrics,
            demo_tokens,
            config,
            tree,
        })
    }

    /// Where GraphQL is served (`http://{address}/graphql`).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where `/metrics` is served (the main address unless the
    /// configuration gives it a listener of its own).
    pub fn metrics_address(&self) -> SocketAddr {
        self.metrics_address
    }

    /// The demo people's tokens (empty unless in demo mode).
    pub fn demo_tokens(&self) -> &[DemoToken] {
        &self.demo_tokens
    }

    /// The log's description (`sled (embedded)`, `postgres …`).
    pub fn log_description(&self) -> String {
        self.node.log.describe()
    }

    /// Serves until `shutdown` resolves, lets requests in flight finish,
    /// then stops following the log, writes the read models out and
    /// closes the log.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        let until_stopped = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            }
        };
        if let Some(listener) = self.metrics_listener {
            let metrics = self.metrics.clone();
            let router = axum::Router::new().route(
                "/metrics",
                axum::routing::get(move || async move { http::metrics_response(&metrics) }),
            );
            let stopping = until_stopped();
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, router)
                    .with_graceful_shutdown(stopping)
                    .await
                {
                    tracing::error!(%error, "the metrics listener stopped");
                }
            });
        }
        tracing::info!(address = %self.address, "listening");
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(until_stopped())
            .await?;
        // The tree's task holds the log: it ends before the log closes.
        self.tree.abort();
        let _ = self.tree.await;
        self.node.close().await?;
        tracing::info!(data = %self.config.data_dir.display(), "stopped");
        Ok(())
    }
}

/// Starts a server on `listener` and serves until `shutdown` resolves.
pub async fn run(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    Server::start(listener, config).await?.run(shutdown).await
}

/// `chitieu serve` and `chitieu demo`: binds `config.listen`, starts,
/// prints where it serves (and the demo tokens), and serves until Ctrl-C
/// or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let server = Server::start(listener, config.clone()).await?;
    let address = server.address();
    let mut out = std::io::stdout().lock();
    writeln!(out, "chitieu: GraphQL at http://{address}/graphql")?;
    if config.introspection {
        writeln!(out, "chitieu: GraphiQL at http://{address}/graphiql")?;
    }
    writeln!(out, "chitieu: data in {}", config.data_dir.display())?;
    writeln!(out, "chitieu: log {}", server.log_description())?;
    writeln!(
        out,
        "chitieu: metrics at http://{}/metrics",
        server.metrics_address()
    )?;
    if server.demo_tokens().is_empty() {
        writeln!(out, "chitieu: authenticate with `Authorization: Bearer <token>` (`chitieu token create-admin` makes the first one)")?;
    } else {
        writeln!(
            out,
            "chitieu: demo tokens, send as `Authorization: Bearer <token>` (each valid 30 days from its issue, kept across restarts in {}):",
            config.data_dir.join(DEMO_TOKENS).display()
        )?;
        for t in server.demo_tokens() {
            let scope = t.scope.as_deref().unwrap_or("everywhere");
            writeln!(
                out,
                "chitieu: token {:<17} {} {} ({} in {})",
                t.person, t.token, t.name, t.role, scope
            )?;
        }
    }
    writeln!(out, "chitieu: ready")?;
    out.flush()?;
    drop(out);
    server.run(ctrl_c_or_sigterm()).await
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
pub async fn ctrl_c_or_sigterm() {
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
