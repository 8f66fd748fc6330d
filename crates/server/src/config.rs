//! Configuration, layered: built-in defaults, then an optional TOML file,
//! then `CHITIEU_*` environment variables, then command-line flags.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything the server can be told.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Address to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// Directory of the read models and of the embedded log.
    pub data_dir: PathBuf,
    /// The shared log (`postgres://…`), or `None` for the embedded log in
    /// `<data_dir>/db`.
    pub log: Option<String>,
    /// Load the demo data set into an empty store and print demo tokens.
    pub demo: bool,
    /// Allow introspection and serve GraphiQL at `/graphiql`.
    pub introspection: bool,
    /// Let anonymous requests read current state (not history or the audit trail).
    pub anonymous_reads: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (the
    /// limiter of failed authentications counts per client, not per proxy).
    /// Empty: the peer address is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A file of operations (GraphQL Code Generator's
    /// `persisted-documents.json` or Apollo's persisted query manifest):
    /// when set, only those operations run (by hash or exact text), and
    /// automatic persisted queries register nothing new.
    pub persisted_only: Option<PathBuf>,
    /// Serve `/metrics` on this address only (off the public listener);
    /// `None`: on the main listener.
    pub metrics_listen: Option<SocketAddr>,
    /// Request limits.
    pub limits: LimitsConfig,
}

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Deepest selection nesting.
    pub depth: usize,
    /// Highest query complexity.
    pub complexity: usize,
    /// Most aliases per request.
    pub aliases: usize,
    /// Most operations in one batch.
    pub batch: usize,
    /// Largest request body, in bytes.
    pub body_bytes: usize,
    /// Longest a request may run, in milliseconds.
    pub timeout_ms: u64,
    /// Time between WebSocket keep-alive pings (and token re-checks), in milliseconds.
    pub ws_ping_ms: u64,
    /// Memory for responses of read-only queries, kept while nothing
    /// changes (any write empties it), in MiB; 0 keeps none.
    pub response_cache_mib: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            depth: 12,
            complexity: 5000,
            aliases: 30,
            batch: 10,
            body_bytes: 256 * 1024,
            timeout_ms: 10_000,
            ws_ping_ms: 15_000,
            response_cache_mib: 64,
        }
    }
}

/// The optional configuration file (`--config chitieu.toml`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    /// See [`Config::listen`].
    pub listen: Option<SocketAddr>,
    /// See [`Config::data_dir`].
    pub data_dir: Option<PathBuf>,
    /// See [`Config::log`].
    pub log: Option<String>,
    /// See [`Config::demo`].
    pub demo: Option<bool>,
    /// See [`Config::introspection`].
    pub introspection: Option<bool>,
    /// See [`Config::anonymous_reads`].
    pub anonymous_reads: Option<bool>,
    /// See [`Config::trusted_proxies`].
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,
    /// See [`Config::persisted_only`].
    pub persisted_only: Option<PathBuf>,
    /// See [`Config::metrics_listen`].
    pub metrics_listen: Option<SocketAddr>,
    /// See [`Config::limits`].
    pub limits: Option<LimitsConfig>,
}

/// Flags and environment variables of `chitieu serve`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, env = "CHITIEU_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "CHITIEU_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Data directory [default: ./chitieu-data].
    #[arg(long, env = "CHITIEU_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The shared log, `postgres://user@host:port/database` [default: the
    /// embedded log in <data-dir>/db].
    #[arg(long, env = "CHITIEU_LOG")]
    pub log: Option<String>,
    /// Load demo data into an empty store, print demo tokens, enable introspection.
    #[arg(long, env = "CHITIEU_DEMO")]
    pub demo: Option<bool>,
    /// Allow introspection and GraphiQL.
    #[arg(long, env = "CHITIEU_INTROSPECTION")]
    pub introspection: Option<bool>,
    /// Let anonymous requests read current state.
    #[arg(long, env = "CHITIEU_ANONYMOUS_READS")]
    pub anonymous_reads: Option<bool>,
    /// Reverse proxies trusted to name the client in `X-Forwarded-For`,
    /// comma-separated addresses.
    #[arg(long, env = "CHITIEU_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,
    /// Run only the operations of this file (GraphQL Code Generator's
    /// persisted-documents.json, sha256, or an Apollo persisted query
    /// manifest).
    #[arg(long, env = "CHITIEU_PERSISTED_ONLY")]
    pub persisted_only: Option<PathBuf>,
    /// Serve /metrics on this address instead of the main listener (keep it
    /// off the public network).
    #[arg(long, env = "CHITIEU_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

impl ServeArgs {
    /// Layers defaults, the file, then these flags and variables.
    pub fn resolve(&self, demo_default: bool) -> anyhow::Result<Config> {
        let file: FileConfig = match &self.config {
            Some(path) => toml::from_str(&std::fs::read_to_string(path)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            None => FileConfig::default(),
        };
        let demo = self.demo.or(file.demo).unwrap_or(demo_default);
        let default_dir = if demo {
            "chitieu-data/demo"
        } else {
            "chitieu-data"
        };
        Ok(Config {
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir: self
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(default_dir)),
            log: self.log.clone().or(file.log).filter(|l| !l.is_empty()),
            demo,
            introspection: self.introspection.or(file.introspection).unwrap_or(demo),
            anonymous_reads: self
                .anonymous_reads
                .or(file.anonymous_reads)
                .unwrap_or(false),
            trusted_proxies: self
                .trusted_proxies
                .clone()
                .or(file.trusted_proxies)
                .unwrap_or_default(),
            persisted_only: self
                .persisted_only
                .clone()
                .or(file.persisted_only)
                .filter(|p| !p.as_os_str().is_empty()),
            metrics_listen: self.metrics_listen.or(file.metrics_listen),
            limits: file.limits.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = std::env::temp_dir().join(format!("chitieu-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let file = dir.join("chitieu.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\nanonymous_reads = true\n[limits]\ndepth = 5\n",
        )
        .unwrap_or_default();
        let args = ServeArgs {
            config: Some(file),
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 1))),
            ..ServeArgs::default()
        };
        let config = args.resolve(false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 1)));
        assert!(config.anonymous_reads);
        assert_eq!(config.limits.depth, 5);
        assert_eq!(config.limits.aliases, LimitsConfig::default().aliases);
        assert!(!config.introspection);
        assert!(
            ServeArgs::default()
                .resolve(true)
                .unwrap_or_else(|e| panic!("{e}"))
                .introspection
        );
    }
}
