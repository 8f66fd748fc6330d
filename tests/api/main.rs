//! Black-box tests: the real server on port 0 with a temporary data
//! directory, spoken to over HTTP and WebSocket as a client would.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod access;
mod clients;
mod cluster;
mod deploy;
mod evidence;
mod findings;
mod fuzz;
mod helpers;
mod import;
mod language;
mod limits;
mod log_copy;
mod metrics;
mod periods;
mod persisted;
mod reads;
mod reorganisation;
mod snapshots;
mod storage;
mod subscriptions;
mod writes;
