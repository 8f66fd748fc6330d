//! GraphQL over HTTP and WebSocket, health endpoints.
//!
//! - `POST /graphql` (JSON body, single or batched operations) and
//!   `GET /graphql?query=…` for queries; a mutation over GET gets 405.
//! - Responses are `application/graphql-response+json` unless the client
//!   accepts only `application/json`, with the spec's status codes: 200 when
//!   the request executed (even with field errors), 400 when it could not
//!   (parse or validation errors), 401 for a bad token, 429 for an address
//!   with too many failed authentications.
//! - `GET /graphql` with an upgrade speaks `graphql-transport-ws` (and the
//!   legacy `graphql-ws`), authenticates in `connection_init`, pings, and
//!   re-checks its token at every ping (a revocation closes it with 4403).
//! - `/healthz`: alive. `/readyz`: store open and projector caught up.
//!
//! Here: the state, the routes and the response helpers every transport
//! shares; `graphql` over HTTP, `websocket`, `auth` (tokens and
//! client addresses), `backup` (`GET /backup`).

use crate::cache::{Reads, ResponseCache, Stamp, Touched};
use crate::tokens::FailedAuths;
use async_graphql::http::{WebSocketProtocols, WsMessage, ALL_WEBSOCKET_PROTOCOLS};
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, Data, Request};
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chitieu_domain::Authenticated;
use chitieu_graphql::error::Msg;
use chitieu_graphql::lang::Lang;
use chitieu_graphql::{AnonymousReads, App, ChitieuSchema};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

mod auth;
mod backup;
mod graphql;
mod websocket;

pub use auth::client_address;
use auth::*;
use backup::*;
use graphql::*;
pub use graphql::{measure, Outcome, MIN_POSITION};
use websocket::*;

/// Everything a handler needs.
#[derive(Clone)]
pub struct HttpState {
    /// The schema for HTTP requests (aliases checked here, not by an extension).
    pub schema: ChitieuSchema,
    /// The same without the validation rules a document has passed on
    /// `schema` before ([`chitieu_graphql::validated`]).
    pub checked_schema: ChitieuSchema,
    /// The schema for WebSockets (with the alias-limit extension).
    pub ws_schema: ChitieuSchema,
    /// Most aliases per request.
    pub max_aliases: usize,
    /// Deepest nesting of data fields per request.
    pub max_depth: usize,
    /// Highest complexity per request.
    pub max_complexity: usize,
    /// Measures the complexity of a refused request (runs nothing).
    pub cost_schema: ChitieuSchema,
    /// The application.
    pub app: App,
    /// Failed authentications per client address.
    pub failed_auths: Arc<FailedAuths>,
    /// Most operations per batch.
    pub max_batch: usize,
    /// Longest a request may run.
    pub timeout: Duration,
    /// Whether GraphiQL is served.
    pub graphiql: bool,
    /// Anonymous current-state reads.
    pub anonymous_reads: bool,
    /// Time between keep-alive pings (and token re-checks) on WebSockets.
    pub ping_every: Duration,
    /// Responses of read-only queries while nothing changes; parsed queries.
    pub cache: Arc<ResponseCache>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// Automatic persisted queries, and the allow-list of operations.
    pub persisted: Arc<crate::persisted::PersistedQueries>,
    /// Counters, gauges and histograms for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Whether `/metrics` is served on this listener (not when it has
    /// a listener of its own).
    pub metrics_here: bool,
}

/// The router.
pub fn router(state: HttpState, body_limit: usize) -> Router {
    // One shared state: axum clones it per request, and a clone of an
    // `Arc` is one increment where `HttpState` is ~15 of them and an `App`.
    let state = Arc::new(state);
    let graphql = Router::new()
        .route("/graphql", get(get_graphql).post(post_graphql))
        .layer(axum::middleware::from_fn_with_state(state.clone(), measure));
    let metrics = state.metrics.clone();
    let metrics_here = state.metrics_here;
    Router::new()
        .merge(graphql)
        .route(
            "/metrics",
            get(move || async move {
                if metrics_here {
                    metrics_response(&metrics)
                } else {
                    StatusCode::NOT_FOUND.into_response()
                }
            }),
        )
        .route("/graphiql", get(graphiql))
        .route("/graphiql/assets/{name}", get(graphiql_asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/backup", get(backup))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

fn error_body(message: &str, code: &str) -> serde_json::Value {
    serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

fn respond(status: StatusCode, media_type: &'static str, body: &serde_json::Value) -> Response {
    let mut response = (status, serde_json::to_vec(body).unwrap_or_default()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    response
}

fn respond_bytes(status: StatusCode, media_type: &'static str, body: Bytes) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    response
}

/// `application/graphql-response+json` unless the client accepts only `application/json`.
fn media_type(headers: &HeaderMap) -> &'static str {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("application/json")
        && !accept.contains(GRAPHQL_RESPONSE)
        && !accept.contains("*/*")
    {
        "application/json"
    } else {
        GRAPHQL_RESPONSE
    }
}

/// The language of the answer to a request (`Accept-Language`).
fn lang(headers: &HeaderMap) -> Lang {
    Lang::negotiate(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// Says which language a response's messages are in, and that they follow
/// `Accept-Language` (for caches between client and server).
fn set_language(response: &mut Response, lang: Lang) {
    response.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.tag()),
    );
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-language"));
}

fn request_error(headers: &HeaderMap, status: StatusCode, message: Msg, code: &str) -> Response {
    let lang = lang(headers);
    let message = message.get(lang).to_owned();
    let media = media_type(headers);
    let status = if media == GRAPHQL_RESPONSE || status == StatusCode::TOO_MANY_REQUESTS {
        status
    } else {
        StatusCode::OK
    };
    let mut response = respond(status, media, &error_body(&message, code));
    mark(&mut response, code);
    set_language(&mut response, lang);
    response
}

/// Notes how a request ended, for the metrics layer.
fn mark(response: &mut Response, code: &str) {
    response.extensions_mut().insert(Outcome {
        operation: None,
        code: code.to_owned(),
    });
}

/// The Prometheus exposition.
pub fn metrics_response(metrics: &crate::metrics::Metrics) -> Response {
    let mut response = (StatusCode::OK, metrics.render()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

async fn graphiql(State(state): State<Arc<HttpState>>) -> Response {
    if !state.graphiql {
        return StatusCode::NOT_FOUND.into_response();
    }
    crate::graphiql::page()
}

async fn graphiql_asset(
    State(state): State<Arc<HttpState>>,
    name: axum::extract::Path<String>,
) -> Response {
    if !state.graphiql {
        return StatusCode::NOT_FOUND.into_response();
    }
    crate::graphiql::asset(name)
}

async fn readyz(State(state): State<Arc<HttpState>>) -> Response {
    let head = state.app.service.head().position;
    let projector = state.app.read.projector();
    let projected = projector.position();
    // A follower stopped by a storage fault never catches up: not ready,
    // and saying why.
    if let Some(failure) = projector.failure() {
        let body = serde_json::json!({ "head": head, "projected": projected, "error": "STORAGE_UNAVAILABLE", "detail": failure });
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    }
    let body = serde_json::json!({ "head": head, "projected": projected });
    let status = if projected >= head {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let proxy: std::net::IpAddr = [10, 0, 0, 1].into();
        let peer = SocketAddr::new(proxy, 5000);
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.7"),
        );
        assert_eq!(client_address(&headers, peer, &[]), peer);
        assert_eq!(
            client_address(&headers, peer, &[proxy]).ip(),
            std::net::IpAddr::from([203, 0, 113, 7])
        );
        // A chain of trusted proxies is skipped; garbage falls back to the peer.
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.7, 10.0.0.2"),
        );
        let second: std::net::IpAddr = [10, 0, 0, 2].into();
        assert_eq!(
            client_address(&headers, peer, &[proxy, second]).ip(),
            std::net::IpAddr::from([203, 0, 113, 7])
        );
        headers.insert("x-forwarded-for", HeaderValue::from_static("nonsense"));
        assert_eq!(client_address(&headers, peer, &[proxy]), peer);
    }
}
