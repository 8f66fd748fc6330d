//! Configuration, layered: built-in defaults, then an optional TOML file,
//! then `CHITIEU_*` environment variables, then command-line flags.
//!
//! Every key is documented in `chitieu.example.toml` at the top of the
//! repository; a test keeps that file and this module in step (every key
//! present, every stated default true). [`check_file`] is `chitieu config
//! check`: every unknown key (with a suggestion), every ill-typed value and
//! every invalid setting of a file, in one report, before a restart finds
//! them. [`Config::validate`] holds the rules on values, for the check and
//! for `serve` alike.

use crate::telemetry::LogFormat;
use serde::{Deserialize, Serialize};
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
    /// How log lines are written; `None`: text on a terminal, JSON elsewhere.
    pub log_format: Option<LogFormat>,
    /// The Ed25519 key that signs the log's heads (PKCS #8 PEM); `None`:
    /// `<data_dir>/log-key.pem`, created on first start. Every node of a
    /// shared log is given the same key.
    pub signing_key: Option<PathBuf>,
    /// The log's name in its signed heads.
    pub log_origin: String,
    /// Request limits.
    pub limits: LimitsConfig,
    /// Memory the stores' caches may take.
    pub memory: MemoryConfig,
}

/// The name a log signs its heads under unless told otherwise.
pub const DEFAULT_ORIGIN: &str = "chitieu";

impl Config {
    /// Where the signing key is.
    pub fn signing_key_path(&self) -> PathBuf {
        self.signing_key
            .clone()
            .unwrap_or_else(|| self.data_dir.join(crate::LOG_KEY))
    }
}

impl Config {
    /// Every rule on the values, each problem in its own line (empty: valid).
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(log) = &self.log {
            if !(log.starts_with("postgres://") || log.starts_with("postgresql://")) {
                problems.push(format!(
                    "log: `{log}` is not a postgres:// URL (leave it out for the embedded log)"
                ));
            }
        }
        if self.data_dir.exists() && !self.data_dir.is_dir() {
            problems.push(format!(
                "data_dir: {} exists and is not a directory",
                self.data_dir.display()
            ));
        }
        if let Some(path) = &self.persisted_only {
            if let Err(e) = crate::persisted::load_manifest(path) {
                problems.push(format!("persisted_only: {e}"));
            }
        }
        if self.log_origin.is_empty() || self.log_origin.chars().any(char::is_control) {
            problems.push(format!(
                "log_origin: `{}` must be a non-empty name on one line",
                self.log_origin.escape_debug()
            ));
        }
        if let Some(key) = &self.signing_key {
            if let Err(e) = chitieu_store::signed::LogKey::load(key) {
                problems.push(format!("signing_key: {e}"));
            }
        }
        if let Some(metrics) = self.metrics_listen {
            if metrics == self.listen && metrics.port() != 0 {
                problems.push(format!(
                    "metrics_listen: {metrics} is the main listener too (leave it out to serve /metrics there)"
                ));
            }
        }
        let l = &self.limits;
        // Zero would refuse every request (aliases and the cache may be 0).
        let nonzero: [(&str, u64); 6] = [
            ("limits.depth", l.depth as u64),
            ("limits.complexity", l.complexity as u64),
            ("limits.batch", l.batch as u64),
            ("limits.body_bytes", l.body_bytes as u64),
            ("limits.timeout_ms", l.timeout_ms),
            ("limits.ws_ping_ms", l.ws_ping_ms),
        ];
        for (key, value) in nonzero {
            if value == 0 {
                problems.push(format!("{key}: 0 would refuse every request"));
            }
        }
        let m = &self.memory;
        for (key, mib) in [
            ("memory.log_cache_mib", m.log_cache_mib),
            ("memory.read_model_cache_mib", m.read_model_cache_mib),
        ] {
            if !(8..=1 << 20).contains(&mib) {
                problems.push(format!(
                    "{key}: {mib} MiB is outside 8 MiB to 1 TiB (sled needs a few MiB to work; more than a machine has is a typo)"
                ));
            }
        }
        if m.view_cache_entries == 0 {
            problems.push("memory.view_cache_entries: 0 would decode every view on every read; give at least 1".into());
        }
        if m.history_cache_entries == 0 {
            problems.push("memory.history_cache_entries: 0 would fold every history from the log on every read; give at least 1".into());
        }
        if m.decision_figures_mib == 0 {
            problems.push("memory.decision_figures_mib: 0 would fold an indicator's figures from the log for every decision; give at least 1".into());
        }
        if l.response_cache_mib > 1 << 20 {
            problems.push(format!(
                "limits.response_cache_mib: {} MiB is more memory than any machine has",
                l.response_cache_mib
            ));
        }
        problems
    }
}

/// Memory the stores' page caches may take (sled keeps this much of each
/// database in memory; what it reads beyond comes from disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryConfig {
    /// The embedded log's page cache (and a shared log's local copy), MiB.
    pub log_cache_mib: u64,
    /// The read models' page cache, MiB.
    pub read_model_cache_mib: u64,
    /// Most indicator views kept decoded in memory (a few KiB each); past
    /// it a quarter of them go.
    pub view_cache_entries: usize,
    /// Most history entries kept decoded in memory, all indicators' told
    /// (about 250 bytes each); past it a quarter of them go. A history
    /// not in it is folded from the log: twenty events read from as many
    /// log blocks.
    pub history_cache_entries: usize,
    /// What the figures (targets and reports) the command service keeps
    /// in memory for its decisions may take, MiB: those of the most
    /// recently used indicators (under 1 KB for a few reports, about 100
    /// bytes more a report); the others' figures are folded again from
    /// their streams when a decision needs them.
    pub decision_figures_mib: u64,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            log_cache_mib: 32,
            read_model_cache_mib: 32,
            view_cache_entries: chitieu_projector::VIEW_CACHE_ENTRIES,
            history_cache_entries: chitieu_projector::HISTORY_CACHE_ENTRIES,
            decision_figures_mib: (chitieu_service::FIGURES_BUDGET >> 20) as u64,
        }
    }
}

impl MemoryConfig {
    /// The log's cache in bytes.
    pub fn log_cache_bytes(&self) -> u64 {
        self.log_cache_mib.saturating_mul(1024 * 1024)
    }

    /// The read models' cache in bytes.
    pub fn read_model_cache_bytes(&self) -> u64 {
        self.read_model_cache_mib.saturating_mul(1024 * 1024)
    }

    /// The decisions' figures budget in bytes.
    pub fn decision_figures_bytes(&self) -> usize {
        usize::try_from(self.decision_figures_mib.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
    }
}

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
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
#[derive(Debug, Default, Deserialize, Serialize)]
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
    /// See [`Config::log_format`].
    pub log_format: Option<LogFormat>,
    /// See [`Config::signing_key`].
    pub signing_key: Option<PathBuf>,
    /// See [`Config::log_origin`].
    pub log_origin: Option<String>,
    /// See [`Config::limits`].
    pub limits: Option<LimitsConfig>,
    /// See [`Config::memory`].
    pub memory: Option<MemoryConfig>,
}

impl FileConfig {
    /// Every key a file may hold, dotted (`limits.depth`), as the code
    /// defines them: what `config check` accepts and what
    /// `chitieu.example.toml` must document.
    pub fn keys() -> Vec<String> {
        let full = FileConfig {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir: Some(PathBuf::from("d")),
            log: Some(String::new()),
            demo: Some(false),
            introspection: Some(false),
            anonymous_reads: Some(false),
            trusted_proxies: Some(Vec::new()),
            persisted_only: Some(PathBuf::from("p")),
            metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 9090))),
            log_format: Some(LogFormat::Json),
            signing_key: Some(PathBuf::from("k")),
            log_origin: Some(String::new()),
            limits: Some(LimitsConfig::default()),
            memory: Some(MemoryConfig::default()),
        };
        let mut keys = Vec::new();
        if let Ok(toml::Value::Table(table)) = toml::Value::try_from(&full) {
            for (key, value) in table {
                match value {
                    toml::Value::Table(inner) => {
                        keys.extend(inner.keys().map(|k| format!("{key}.{k}")));
                    }
                    _ => keys.push(key),
                }
            }
        }
        keys
    }
}

/// Reads a configuration file and reports every problem in it: TOML
/// syntax, unknown keys (with the nearest known one), ill-typed values and
/// values `serve` would refuse. `Ok` carries the configuration it gives
/// (with the defaults and no flags or variables).
pub fn check_file(path: &std::path::Path) -> Result<Config, Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![format!("{}: cannot be read: {e}", path.display())])?;
    check_str(&text)
}

/// [`check_file`] on the text of a file.
pub fn check_str(text: &str) -> Result<Config, Vec<String>> {
    let table: toml::Table = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
    let known = FileConfig::keys();
    let mut problems = Vec::new();
    let line_of = |key: &str| {
        text.lines()
            .position(|l| {
                let l = l.trim_start();
                l.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map(|i| format!(" (line {})", i + 1))
            .unwrap_or_default()
    };
    let mut unknown = |dotted: String, leaf: &str| {
        let near = known
            .iter()
            .map(|k| (edit_distance(k, &dotted), k))
            .min()
            .filter(|(d, _)| *d <= 3)
            .map(|(_, k)| format!("; did you mean `{k}`?"))
            .unwrap_or_default();
        problems.push(format!("unknown key `{dotted}`{}{near}", line_of(leaf)));
    };
    for (key, value) in &table {
        match value {
            toml::Value::Table(inner)
                if known.iter().any(|k| k.starts_with(&format!("{key}."))) =>
            {
                for inner_key in inner.keys() {
                    let dotted = format!("{key}.{inner_key}");
                    if !known.contains(&dotted) {
                        unknown(dotted, inner_key);
                    }
                }
            }
            _ if known.contains(key) => {}
            _ => unknown(key.clone(), key),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let file: FileConfig = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
    let config = ServeArgs::default().layer(file, false);
    let problems = config.validate();
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
}

/// Levenshtein distance, for suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

/// The `CHITIEU_*` variables of this process that no flag reads (a typo
/// such as `CHITIEU_LISTN` is otherwise ignored without a word). The
/// variables of the test suite (`CHITIEU_TEST_*`, `CHITIEU_REQUIRE_*`)
/// are not the server's and are left out.
pub fn unknown_variables() -> Vec<String> {
    let known: Vec<String> = environment_variables()
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    let mut unknown: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| name.starts_with("CHITIEU_"))
        .filter(|name| !name.starts_with("CHITIEU_TEST_") && !name.starts_with("CHITIEU_REQUIRE_"))
        .filter(|name| !known.contains(name))
        .collect();
    unknown.sort();
    unknown
}

/// The environment variables `serve` and `demo` read, each with the flag
/// it stands for (`CHITIEU_LISTEN` → `--listen`), from the flags' own
/// definitions.
pub fn environment_variables() -> Vec<(String, String)> {
    use clap::Args;
    let command = ServeArgs::augment_args(clap::Command::new("serve"));
    command
        .get_arguments()
        .filter_map(|a| {
            Some((
                a.get_env()?.to_string_lossy().into_owned(),
                format!("--{}", a.get_long()?),
            ))
        })
        .collect()
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
    /// Log lines as `json` or `text` [default: text on a terminal, JSON
    /// otherwise].
    #[arg(long, env = "CHITIEU_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// The Ed25519 key signing the log's heads, PKCS #8 PEM [default:
    /// <data-dir>/log-key.pem, created on first start].
    #[arg(long, env = "CHITIEU_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
    /// The log's name in its signed heads [default: chitieu].
    #[arg(long, env = "CHITIEU_LOG_ORIGIN")]
    pub log_origin: Option<String>,
    /// Resolve the configuration (the file, the CHITIEU_* variables and
    /// these flags), print it or every problem in it, and exit without
    /// serving (exit status 1 on a problem). Unknown CHITIEU_* variables
    /// are problems here.
    #[arg(long)]
    pub check_config: bool,
}

impl ServeArgs {
    /// Layers defaults, the file, then these flags and variables.
    /// Refuses what `config check` would report, naming the file.
    pub fn resolve(&self, demo_default: bool) -> anyhow::Result<Config> {
        let file: FileConfig = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                if let Err(problems) = check_str(&text) {
                    anyhow::bail!(
                        "{} (`chitieu config check` says the same):\n  {}",
                        path.display(),
                        problems.join("\n  ")
                    );
                }
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let config = self.layer(file, demo_default);
        let problems = config.validate();
        if !problems.is_empty() {
            anyhow::bail!("invalid configuration:\n  {}", problems.join("\n  "));
        }
        Ok(config)
    }

    /// These flags over a file over the defaults.
    fn layer(&self, file: FileConfig, demo_default: bool) -> Config {
        let demo = self.demo.or(file.demo).unwrap_or(demo_default);
        let default_dir = if demo {
            "chitieu-data/demo"
        } else {
            "chitieu-data"
        };
        Config {
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
            log_format: self.log_format.or(file.log_format),
            signing_key: self
                .signing_key
                .clone()
                .or(file.signing_key)
                .filter(|p| !p.as_os_str().is_empty()),
            log_origin: self
                .log_origin
                .clone()
                .or(file.log_origin)
                .unwrap_or_else(|| DEFAULT_ORIGIN.into()),
            limits: file.limits.unwrap_or_default(),
            memory: file.memory.unwrap_or_default(),
        }
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

    const EXAMPLE: &str = include_str!("../../../chitieu.example.toml");

    #[test]
    fn the_example_documents_every_key_with_its_true_default() {
        // Every key of the code is in the example, set or commented out.
        for key in FileConfig::keys() {
            let leaf = key.rsplit('.').next().unwrap_or(&key);
            let present = EXAMPLE.lines().any(|line| {
                let line = line.trim_start().trim_start_matches("# ");
                line.strip_prefix(leaf)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            });
            assert!(present, "chitieu.example.toml does not document `{key}`");
        }
        // What it sets is the default, and it passes the check.
        let config = check_str(EXAMPLE).unwrap_or_else(|p| panic!("{p:?}"));
        let defaults = ServeArgs::default()
            .resolve(false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config, defaults);
        // Uncommented, the optional keys are valid too (apart from the
        // file they name, which is the operator's).
        let uncommented: String = EXAMPLE
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|r| r.contains(" = "))
                    .unwrap_or(l)
            })
            .filter(|l| !l.starts_with("persisted_only") && !l.starts_with("signing_key"))
            .collect::<Vec<_>>()
            .join("\n");
        check_str(&uncommented).unwrap_or_else(|p| panic!("{p:?}"));
        // Every variable of the flags is documented with its flag.
        for (variable, flag) in environment_variables() {
            if variable == "CHITIEU_CONFIG" {
                continue;
            }
            let documented = EXAMPLE
                .lines()
                .any(|l| l.contains(&variable) && l.contains(&flag));
            assert!(
                documented,
                "chitieu.example.toml does not name {variable} with {flag}"
            );
        }
    }

    #[test]
    fn the_check_reports_every_problem_with_a_suggestion() {
        let text = "listen = \"127.0.0.1:8080\"\nlisten_addr = \"x\"\ndata_dri = \"d\"\n[limits]\ndepht = 3\n";
        let problems = check_str(text).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].contains("`data_dri` (line 3); did you mean `data_dir`?"),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("`limits.depht` (line 5); did you mean `limits.depth`?")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("unknown key `listen_addr`")),
            "{problems:?}"
        );
        let typed = check_str("listen = 8080\n").unwrap_err();
        assert!(typed[0].contains("listen"), "{typed:?}");
        let invalid = check_str("log = \"mysql://x\"\n[limits]\ntimeout_ms = 0\n").unwrap_err();
        assert_eq!(invalid.len(), 2, "{invalid:?}");
        assert!(invalid[0].starts_with("log: "), "{invalid:?}");
        assert!(
            invalid[1].starts_with("limits.timeout_ms: 0"),
            "{invalid:?}"
        );
        let syntax = check_str("listen = \n").unwrap_err();
        assert!(syntax[0].contains("line 1"), "{syntax:?}");
        let caches = check_str(
            "[memory]\nview_cache_entries = 0\nhistory_cache_entries = 0\ndecision_figures_mib = 0\n",
        )
        .unwrap_err();
        assert_eq!(caches.len(), 3, "{caches:?}");
        assert!(
            caches[0].starts_with("memory.view_cache_entries: 0"),
            "{caches:?}"
        );
        assert!(
            caches[1].starts_with("memory.history_cache_entries: 0"),
            "{caches:?}"
        );
        assert!(
            caches[2].starts_with("memory.decision_figures_mib: 0"),
            "{caches:?}"
        );
    }
}
