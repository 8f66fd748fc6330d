//! Logging through `tracing`, filtered by `RUST_LOG` (default `info`):
//! human-readable lines when standard error is a terminal, JSON lines
//! otherwise (for a log collector), or as `--log-format` /
//! `CHITIEU_LOG_FORMAT` / `log_format` (`text`, `json`) says. Tokens are never logged.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable.
    Text,
}

impl LogFormat {
    /// The format asked for (`--log-format`, `CHITIEU_LOG_FORMAT`,
    /// `log_format`), else text on a terminal and JSON elsewhere.
    pub fn or_by_terminal(asked: Option<LogFormat>) -> Self {
        match asked {
            Some(format) => format,
            None if std::io::stderr().is_terminal() => LogFormat::Text,
            None => LogFormat::Json,
        }
    }
}

/// Installs the subscriber once.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
        LogFormat::Text => builder.compact().try_init(),
    };
}
