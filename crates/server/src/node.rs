//! One node of chitieu: where its data lives ([`Location`]), the log it
//! names ([`open_log`]), and [`Node`], the log with the read models that
//! follow it and the write side, opened and closed in one order, in one
//! place ([`Node::open`], [`Node::close`], [`with_node`]).

use anyhow::Context as _;
use chitieu_projector::Projector;
use chitieu_service::CommandService;
use chitieu_store::{Log, PgConfig, PgLog, SledLog};
use std::sync::Arc;

/// Where a node's data lives: its data directory (read models, and the
/// embedded log unless `log` names another) and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The data directory.
    pub data_dir: std::path::PathBuf,
    /// `postgres://…` for the shared log; `None` for the embedded sled log
    /// in `<data_dir>/db`.
    pub log: Option<String>,
    /// The stores' page caches.
    pub memory: crate::config::MemoryConfig,
}

impl Location {
    /// The embedded log in `data_dir`.
    pub fn embedded(data_dir: &std::path::Path) -> Self {
        Location {
            data_dir: data_dir.to_owned(),
            log: None,
            memory: crate::config::MemoryConfig::default(),
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
            let config = chitieu_store::StoreConfig {
                cache_capacity: location.memory.log_cache_bytes(),
                ..chitieu_store::StoreConfig::new(location.data_dir.join("db"))
            };
            let log = SledLog::open_with(config).context("opening the event log")?;
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
        let projector = Projector::open_with_memory(
            &log,
            &location.data_dir.join("read-models"),
            location.memory.read_model_cache_bytes(),
            location.memory.view_cache_entries,
            location.memory.history_cache_entries,
        )
        .with_context(|| format!("opening the read models {REPAIR}"))?;
        let catching_up = projector.clone();
        let position = tokio::task::spawn_blocking(move || catching_up.catch_up())
            .await?
            .with_context(|| format!("catching the read models up {REPAIR}"))?;
        tracing::info!(position, head = log.head().position, log = %log.describe(), "read models caught up");
        let follower = Some(projector.spawn_follower());
        let service = Arc::new(
            CommandService::new(log.clone(), projector.clone())
                .with_figures_budget(location.memory.decision_figures_bytes()),
        );
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
        self.projector.close()?;
        self.log.close()?;
        Ok(())
    }
}

/// Opens the node of `location`, runs `work` on it, and closes it, whether
/// `work` succeeded or not (the read models are written out and the log is
/// closed before an error is returned).
pub async fn with_node<T>(
    location: &Location,
    work: impl AsyncFnOnce(&Node) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let node = Node::open(location).await?;
    let outcome = work(&node).await;
    let closed = node.close().await;
    let value = outcome?;
    closed?;
    Ok(value)
}

/// A log named on the command line: a `postgres://` URL (this process's
/// copy kept in memory) or a data directory (its embedded log in `db`).
pub async fn open_named_log(name: &str) -> anyhow::Result<Log> {
    if name.starts_with("postgres://") || name.starts_with("postgresql://") {
        let log = PgLog::connect(PgConfig::in_memory(name))
            .await
            .with_context(|| format!("connecting to {name}"))?;
        Ok(Arc::new(log))
    } else {
        open_log(&Location::embedded(std::path::Path::new(name))).await
    }
}
