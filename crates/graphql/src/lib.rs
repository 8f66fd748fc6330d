//! The GraphQL face of chitieu: the schema, its types, and the rules every
//! request meets (authentication, roles, limits, error codes).
//!
//! Only this crate derives GraphQL types; it turns inputs into domain
//! commands (parsing every figure exactly, as strings) and read models into
//! outputs. HTTP and WebSocket transport live in the server crate.

pub mod auth;
pub mod connection;
pub mod dashboard;
pub mod error;
pub mod evidence;
pub mod fast;
pub mod import;
pub mod lang;
pub mod limits;
pub mod mutation;
pub mod periods;
pub mod query;
pub mod scalars;
pub mod subscription;
pub mod types;
pub mod validated;

use async_graphql::Schema;
use chitieu_projector::ReadModel;
use chitieu_service::CommandService;
use chrono::NaiveDate;
use std::sync::Arc;

pub use auth::AnonymousReads;
pub use error::ApiError;

/// The chitieu schema.
pub type ChitieuSchema =
    Schema<query::QueryRoot, mutation::MutationRoot, subscription::SubscriptionRoot>;

/// What resolvers need: the read models, the write side, the log, a clock.
#[derive(Clone)]
pub struct App {
    /// Read models.
    pub read: ReadModel,
    /// Write side.
    pub service: Arc<CommandService>,
    /// Ledger verification: incremental, with full checks in the background.
    pub verifier: Arc<chitieu_service::ledger::LedgerVerifier>,
    /// The log's Merkle tree and signing key: signed heads and proofs.
    pub notary: Arc<chitieu_store::Notary>,
    /// Today's date, for "not due" (injectable for tests).
    pub today: fn() -> NaiveDate,
}

/// The server's date (UTC+7, Vietnam).
pub fn today_in_vietnam() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest selection nesting of data (introspection has its own
    /// budget, [`limits::INTROSPECTION_DEPTH`]).
    pub depth: usize,
    /// Highest complexity (connections cost `first` × their children).
    pub complexity: usize,
    /// Most aliases per request.
    pub aliases: usize,
    /// Whether introspection is allowed.
    pub introspection: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            depth: 12,
            complexity: 5000,
            aliases: 30,
            introspection: false,
        }
    }
}

/// Builds the schema. `app` may be `None` only to print the SDL.
pub fn build_schema(app: Option<App>, limits: Limits) -> ChitieuSchema {
    schema(app, limits, Some(None))
}

/// The schema with its document limits as an extension, running only the
/// documents `allow` accepts (a server's allow-list of operations, for
/// transports that cannot check it themselves: WebSockets).
pub fn build_schema_allowing(
    app: Option<App>,
    limits: Limits,
    allow: Option<limits::AllowDocument>,
) -> ChitieuSchema {
    schema(app, limits, Some(allow))
}

/// The schema for a transport that checks every document with
/// [`limits::check_aliases`], [`limits::check_directive_count`] and
/// [`limits::check_depth`] before executing it (the limits are then not an
/// extension, which would cost every field resolution).
pub fn build_http_schema(app: Option<App>, limits: Limits) -> ChitieuSchema {
    schema(app, limits, None)
}

/// [`build_http_schema`] without the rules a document has already passed
/// there: only for requests [`validated::may_skip_rules`] lets through
/// (complexity is still measured and limited).
pub fn build_checked_schema(app: Option<App>, limits: Limits) -> ChitieuSchema {
    schema_with(app, limits, None, async_graphql::ValidationMode::Fast)
}

/// A schema that measures a request's complexity and runs nothing
/// ([`limits::complexity_of`]): no complexity limit, no data.
pub fn build_cost_schema(limits: Limits) -> ChitieuSchema {
    let mut builder = Schema::build(
        query::QueryRoot,
        mutation::MutationRoot::default(),
        subscription::SubscriptionRoot,
    )
    .limit_recursive_depth(32)
    .extension(limits::cost_probe());
    if !limits.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// `extension`: `None` for a transport that checks documents itself;
/// otherwise the limits as an extension, with the allow-list if any.
fn schema(
    app: Option<App>,
    limits: Limits,
    extension: Option<Option<limits::AllowDocument>>,
) -> ChitieuSchema {
    schema_with(
        app,
        limits,
        extension,
        async_graphql::ValidationMode::Strict,
    )
}

/// [`schema`] with the validation mode given.
fn schema_with(
    app: Option<App>,
    limits: Limits,
    extension: Option<Option<limits::AllowDocument>>,
    mode: async_graphql::ValidationMode,
) -> ChitieuSchema {
    let mut builder = Schema::build(
        query::QueryRoot,
        mutation::MutationRoot::default(),
        subscription::SubscriptionRoot,
    )
    .limit_complexity(limits.complexity)
    .limit_recursive_depth(32)
    .limit_directives(limits::MAX_DIRECTIVES_PER_FIELD)
    .validation_mode(mode);
    if let Some(allow) = extension {
        builder = builder.extension(limits::DocumentLimits {
            max_aliases: limits.aliases,
            max_depth: limits.depth,
            allow,
        });
    }
    if !limits.introspection {
        // Field suggestions ("Did you mean …?") would leak the schema that
        // introspection being off keeps to itself.
        builder = builder.disable_introspection().disable_suggestions();
    }
    if let Some(app) = app {
        builder = builder.data(app);
    }
    builder.finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema(None, Limits::default()).sdl()
}
