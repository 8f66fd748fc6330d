//! Logging through `tracing`, filtered by `RUST_LOG` (default `info`):
//! human-readable lines when standard error is a terminal, JSON lines
//! otherwise (for a log collector), or as `CHITIEU_LOG_FORMAT` (`text`,
//! `json`) says. Tokens are never logged.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable.
    Text,
}

impl LogFormat {
    /// `CHITIEU_LOG_FORMAT` if set (`json`, `text`), else text on a
    /// terminal and JSON elsewhere.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("CHITIEU_LOG_FORMAT")
            .ok()
            .filter(|v| !v.is_empty())
            .as_deref()
        {
            Some("json") => Ok(LogFormat::Json),
            Some("text") => Ok(LogFormat::Text),
            Some(other) => Err(format!(
                "CHITIEU_LOG_FORMAT must be `json` or `text`, not `{other}`"
            )),
            None if std::io::stderr().is_terminal() => Ok(LogFormat::Text),
            None => Ok(LogFormat::Json),
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
