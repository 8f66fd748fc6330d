//! Logging: JSON lines through `tracing`, filtered by `RUST_LOG`
//! (default `info`). Tokens are never logged.

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber once.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_writer(std::io::stderr)
        .try_init();
}
