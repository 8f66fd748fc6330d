//! The chitieu server: wires the store, the projector, the write side and
//! the GraphQL schema to HTTP, and loads the demo data.
//!
//! - [`server`]: the composition root ([`Server`], [`run`], [`serve`]);
//! - [`node`]: where a node's data lives and how it opens and closes;
//! - [`operations`]: the command line's use cases with the server stopped;
//! - [`http`], [`cache`], [`persisted`], [`graphiql`], [`metrics`],
//!   [`tokens`]: the HTTP edge; [`evidence`]: backups, restores and keys;
//!   [`demo`]: the demo data set; [`config`], [`telemetry`], [`probe`]:
//!   running it.

pub mod cache;
pub mod config;
pub mod demo;
pub mod evidence;
pub mod graphiql;
pub mod http;
pub mod metrics;
pub mod node;
pub mod operations;
pub mod persisted;
pub mod probe;
pub mod server;
pub mod telemetry;
pub mod tokens;

pub use node::{open_log, with_node, Location, Node};
pub use operations::{
    copy_log, create_first_admin, export, export_targets, import_file, manage_token,
    rebuild_read_models, verify_log, verify_store, FirstAdmin,
};
pub use server::{run, serve, DemoToken, Server, DEMO_TOKENS, LOG_KEY};

use std::io::Write as _;

/// Writes a file only its owner can read.
pub(crate) fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
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
