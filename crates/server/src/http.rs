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

/// Everything a handler needs.
#[derive(Clone)]
pub struct HttpState {
    /// The schema for HTTP requests (aliases checked here, not by an extension).
    pub schema: ChitieuSchema,
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

/// The client's address: the peer, unless the peer is a trusted proxy;
/// then the last address in `X-Forwarded-For` that is not itself a trusted
/// proxy (what the nearest untrusted hop said, which a client cannot forge
/// past the proxies).
pub fn client_address(
    headers: &HeaderMap,
    peer: SocketAddr,
    trusted: &[std::net::IpAddr],
) -> SocketAddr {
    if !trusted.contains(&peer.ip()) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    forwarded
        .iter()
        .rev()
        .filter_map(|a| a.parse::<std::net::IpAddr>().ok())
        .find(|ip| !trusted.contains(ip))
        .map_or(peer, |ip| SocketAddr::new(ip, 0))
}

/// The router.
pub fn router(state: HttpState, body_limit: usize) -> Router {
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

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

fn too_many_failures() -> Msg {
    Msg::new(
        "too many failed authentications from this address; try again later",
        "quá nhiều lần xác thực thất bại từ địa chỉ này; hãy thử lại sau",
    )
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

/// `ok`, or the code of the first error of a response.
fn outcome_code(response: &async_graphql::Response) -> String {
    response
        .errors
        .first()
        .and_then(|e| e.extensions.as_ref())
        .and_then(|x| x.get("code"))
        .and_then(|c| match c {
            async_graphql::Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| {
            if response.errors.is_empty() {
                "ok".into()
            } else {
                "VALIDATION".into()
            }
        })
}

/// How a request ended, set on its response by the handlers and read by
/// [`measure`].
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The operation's label, where the handler knew it.
    pub operation: Option<String>,
    /// `ok` or an error code.
    pub code: String,
}

/// Counts and times every request to `/graphql` (not the lifetime of a
/// WebSocket, which has gauges of its own).
pub async fn measure(
    State(state): State<HttpState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if request.headers().contains_key(header::UPGRADE) {
        return next.run(request).await;
    }
    let metrics = state.metrics.clone();
    metrics.in_flight.inc();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    metrics.in_flight.dec();
    let outcome = response.extensions().get::<Outcome>();
    let operation = outcome
        .and_then(|o| o.operation.clone())
        .unwrap_or_else(|| "unknown".into());
    let code = outcome.map_or_else(
        || {
            if response.status().is_success() {
                "ok".to_owned()
            } else {
                format!("HTTP_{}", response.status().as_u16())
            }
        },
        |o| o.code.clone(),
    );
    metrics.observe(
        &crate::metrics::Outcome { operation, code },
        started.elapsed(),
    );
    response
}

/// Why a request's credentials were not accepted.
enum AuthFailure {
    /// A malformed, unknown, revoked or expired token.
    Invalid,
    /// The log could not be read to check it: not the client's fault.
    Storage(String),
}

/// The principal of an `Authorization` header value: `Ok(None)` without
/// one. The scheme is matched case-insensitively (RFC 9110 §11.1).
fn authenticate(app: &App, header: Option<&str>) -> Result<Option<Authenticated>, AuthFailure> {
    let Some(value) = header else { return Ok(None) };
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthFailure::Invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthFailure::Invalid);
    }
    match app.service.authenticate(token.trim()) {
        Ok(principal) => Ok(Some(principal)),
        Err(chitieu_service::ServiceError::Unavailable(error)) => {
            Err(AuthFailure::Storage(error.to_string()))
        }
        Err(_) => Err(AuthFailure::Invalid),
    }
}

/// Whether a response has errors, all of them `UNAUTHENTICATED`, and no
/// data (every root field null).
fn only_unauthenticated(response: &async_graphql::Response) -> bool {
    let no_data = match &response.data {
        async_graphql::Value::Null => true,
        async_graphql::Value::Object(fields) => {
            fields.values().all(|v| *v == async_graphql::Value::Null)
        }
        _ => false,
    };
    no_data
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            e.extensions.as_ref().and_then(|x| x.get("code"))
                == Some(&async_graphql::Value::from("UNAUTHENTICATED"))
        })
}

/// Request header: answer only once this node has reached that log position.
pub const MIN_POSITION: &str = "x-chitieu-min-position";

impl HttpState {
    fn principal(
        &self,
        headers: &HeaderMap,
        client: SocketAddr,
    ) -> Result<Option<Authenticated>, Box<Response>> {
        let header = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        // A valid token goes through even from an address past its limit
        // of failures (behind a proxy every client shares one): the limit
        // refuses further failures, not valid credentials.
        match authenticate(&self.app, header) {
            Ok(principal) => Ok(principal),
            Err(AuthFailure::Storage(detail)) => {
                tracing::error!(%detail, "the log could not be read to check a token");
                Err(Box::new(request_error(
                    headers,
                    StatusCode::SERVICE_UNAVAILABLE,
                    Msg::new(
                        "the event log cannot be read right now; retry later",
                        "hiện không đọc được sổ ghi sự kiện; hãy thử lại sau",
                    ),
                    "STORAGE_UNAVAILABLE",
                )))
            }
            Err(AuthFailure::Invalid) if self.failed_auths.blocked(client.ip()) => {
                self.metrics.rate_limited.inc();
                let message = too_many_failures();
                Err(Box::new(request_error(
                    headers,
                    StatusCode::TOO_MANY_REQUESTS,
                    message,
                    "UNAUTHENTICATED",
                )))
            }
            Err(AuthFailure::Invalid) => {
                self.metrics.auth_failures.inc();
                self.failed_auths.failed(client.ip());
                tracing::warn!(client = %client.ip(), "refused an unknown, revoked, expired or malformed bearer token");
                let mut response = request_error(
                    headers,
                    StatusCode::UNAUTHORIZED,
                    Msg::new(
                        "the bearer token is not valid",
                        "mã truy cập (bearer token) không hợp lệ",
                    ),
                    "UNAUTHENTICATED",
                );
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                Err(Box::new(response))
            }
        }
    }

    async fn execute(
        &self,
        headers: &HeaderMap,
        client: SocketAddr,
        batch: BatchRequest,
    ) -> Response {
        let operation = match &batch {
            // Named in the request, else the name of the document's
            // operation (documents are parsed once, then kept).
            BatchRequest::Single(r) => match r.operation_name.as_deref() {
                Some(name) => self.metrics.operation_label(Some(name)),
                None => {
                    let parsed = self.cache.document(&r.query);
                    let name = parsed.as_ref().and_then(|d| {
                        d.document
                            .operations
                            .iter()
                            .next()
                            .and_then(|(n, _)| n.map(|n| n.to_string()))
                    });
                    self.metrics.operation_label(name.as_deref())
                }
            },
            BatchRequest::Batch(_) => "batch".to_owned(),
        };
        let mut response = self.execute_inner(headers, client, batch).await;
        match response.extensions_mut().get_mut::<Outcome>() {
            Some(outcome) => outcome.operation = Some(operation),
            None => {
                response.extensions_mut().insert(Outcome {
                    operation: Some(operation),
                    code: "ok".into(),
                });
            }
        }
        response
    }

    async fn execute_inner(
        &self,
        headers: &HeaderMap,
        client: SocketAddr,
        batch: BatchRequest,
    ) -> Response {
        // Read-your-writes across nodes: a client that wrote on another
        // node names the position its write returned, and this node answers
        // only once its read models (and its copy of the log, which
        // authentication reads) have reached it.
        if let Some(value) = headers.get(MIN_POSITION) {
            let Some(wanted) = value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
            else {
                let message = Msg::new(
                    format!("{MIN_POSITION} must be a log position (a whole number)"),
                    format!("{MIN_POSITION} phải là một vị trí trong sổ ghi (một số nguyên)"),
                );
                return request_error(headers, StatusCode::BAD_REQUEST, message, "VALIDATION");
            };
            let projector = self.app.read.projector();
            if projector.wait_for(wanted, self.timeout).await.is_err() {
                let message = Msg::new(
                    format!(
                        "this node has not reached position {wanted} in time (it is at {}); retry",
                        projector.position()
                    ),
                    format!(
                        "nút này chưa tới vị trí {wanted} kịp thời (đang ở {}); hãy thử lại",
                        projector.position()
                    ),
                );
                return request_error(headers, StatusCode::SERVICE_UNAVAILABLE, message, "TIMEOUT");
            }
        }
        let principal = match self.principal(headers, client) {
            Ok(p) => p,
            Err(response) => return *response,
        };
        let who = principal
            .as_ref()
            .map(|p| p.principal.to_string())
            .unwrap_or_default();
        let media = media_type(headers);
        // A query seen before is not parsed again; its response, if kept
        // for the current state, is sent as it is.
        let mut kept: Option<(Stamp, String, Reads)> = None;
        let mut batch = batch;
        // Every document is parsed here (once per distinct query) and its
        // aliases counted; the executor takes the parsed document.
        if let BatchRequest::Batch(requests) = &mut batch {
            for request in requests.iter_mut() {
                if let Some(document) = self.cache.document(&request.query) {
                    if let Err(e) = self.check(&document) {
                        return refused_before_execution(headers, &e);
                    }
                    request.set_parsed_query(document.document.clone());
                }
            }
        }
        if let BatchRequest::Single(request) = &mut batch {
            if let Some(document) = self.cache.document(&request.query) {
                if let Err(e) = self.check(&document) {
                    let mut response = async_graphql::Response::from_errors(vec![e]);
                    let lang = lang(headers);
                    chitieu_graphql::error::localize(&mut response, lang);
                    let status = if media == GRAPHQL_RESPONSE {
                        StatusCode::BAD_REQUEST
                    } else {
                        StatusCode::OK
                    };
                    let body = serde_json::to_vec(&response).unwrap_or_default();
                    let mut refused = respond_bytes(status, media, Bytes::from(body));
                    mark(&mut refused, &outcome_code(&response));
                    set_language(&mut refused, lang);
                    return refused;
                }
                if self.cache.enabled() {
                    let variables = serde_json::to_string(&request.variables).unwrap_or_default();
                    let key = ResponseCache::key(
                        &document.document,
                        &request.query,
                        request.operation_name.as_deref(),
                        &variables,
                        &who,
                    );
                    if let Some(key) = key {
                        let stamp = self.stamp();
                        let reads = ResponseCache::reads(
                            &document.document,
                            request.operation_name.as_deref(),
                            &request.variables,
                        );
                        let touched = |from, to| self.touched(from, to);
                        if let Some(body) = self.cache.get(stamp, &key, touched) {
                            return respond_bytes(StatusCode::OK, media, body);
                        }
                        kept = Some((stamp, key, reads));
                    }
                }
                request.set_parsed_query(document.document.clone());
            }
        }
        // What a too-complex query is measured again with, to say its cost.
        let probe = match &batch {
            BatchRequest::Single(r) => Some((
                r.query.clone(),
                r.operation_name.clone(),
                r.variables.clone(),
            )),
            BatchRequest::Batch(_) => None,
        };
        let batch = batch.data(AnonymousReads(self.anonymous_reads));
        let batch = match principal {
            Some(p) => batch.data(p),
            None => batch,
        };
        let operations: Vec<String> = match &batch {
            BatchRequest::Single(r) => vec![r.operation_name.clone().unwrap_or_default()],
            BatchRequest::Batch(rs) => rs
                .iter()
                .map(|r| r.operation_name.clone().unwrap_or_default())
                .collect(),
        };
        let span = tracing::info_span!("graphql", operation = %operations.join(","));
        let execution = tracing::Instrument::instrument(self.schema.execute_batch(batch), span);
        let mut response = match tokio::time::timeout(self.timeout, execution).await {
            Ok(r) => r,
            Err(_) => {
                return request_error(
                    headers,
                    StatusCode::SERVICE_UNAVAILABLE,
                    Msg::new("the request took too long", "yêu cầu chạy quá lâu"),
                    "TIMEOUT",
                );
            }
        };
        if let (async_graphql::BatchResponse::Single(r), Some((query, name, variables))) =
            (&mut response, probe)
        {
            if let Some(error) = r
                .errors
                .iter_mut()
                .find(|e| e.message == "Query is too complex.")
            {
                let mut request = Request::new(query).variables(variables);
                if let Some(name) = name {
                    request = request.operation_name(name);
                }
                let cost = chitieu_graphql::limits::complexity_of(&self.cost_schema, request).await;
                let message = chitieu_graphql::limits::too_complex(cost, self.max_complexity);
                error.message.clone_from(&message.en);
                error.source = Some(std::sync::Arc::new(message));
            }
        }
        let lang = lang(headers);
        let word = |r: &mut async_graphql::Response| {
            chitieu_graphql::error::ensure_codes(r);
            chitieu_graphql::error::localize(r, lang);
        };
        match &mut response {
            async_graphql::BatchResponse::Single(r) => word(r),
            async_graphql::BatchResponse::Batch(rs) => rs.iter_mut().for_each(word),
        }
        let executed =
            |r: &async_graphql::Response| !(r.data == async_graphql::Value::Null && r.is_err());
        let status = match &response {
            _ if media != GRAPHQL_RESPONSE => StatusCode::OK,
            async_graphql::BatchResponse::Single(r) if !executed(r) => StatusCode::BAD_REQUEST,
            _ => StatusCode::OK,
        };
        // A request refused only for want of credentials is 401 with the
        // scheme to use (RFC 9110), whatever the media type.
        let unauthenticated =
            matches!(&response, async_graphql::BatchResponse::Single(r) if only_unauthenticated(r));
        let code = match &response {
            async_graphql::BatchResponse::Single(r) => outcome_code(r),
            async_graphql::BatchResponse::Batch(rs) => rs
                .iter()
                .map(outcome_code)
                .find(|c| c != "ok")
                .unwrap_or_else(|| "ok".into()),
        };
        let body = Bytes::from(serde_json::to_vec(&response).unwrap_or_default());
        if unauthenticated {
            let mut refused = respond_bytes(StatusCode::UNAUTHORIZED, media, body);
            refused
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            mark(&mut refused, &code);
            set_language(&mut refused, lang);
            return refused;
        }
        if let (Some((before, key, reads)), async_graphql::BatchResponse::Single(r)) =
            (kept, &response)
        {
            if r.errors.is_empty() {
                self.cache
                    .put(before, self.stamp(), key, reads, body.clone());
            }
        }
        let mut answered = respond_bytes(status, media, body);
        mark(&mut answered, &code);
        set_language(&mut answered, lang);
        answered
    }

    /// The limits checked on a parsed document before it runs.
    fn check(&self, document: &crate::cache::Parsed) -> async_graphql::ServerResult<()> {
        use chitieu_graphql::limits;
        limits::check_alias_count(document.aliases, self.max_aliases)?;
        limits::check_directive_count(document.directives)?;
        limits::check_depth(document.depth, self.max_depth)
    }

    /// What the log's events after `from` up to `to` touched, for the
    /// response cache: an indicator's own events touch it, its parent, its
    /// previous period and the indicators whose previous period it is (their
    /// "so cùng kỳ" follows it); any other event, an event that does not
    /// read, or more events than are worth reading, touch everything.
    fn touched(&self, from: u64, to: u64) -> Touched {
        use chitieu_domain::Event as E;
        const MOST: u64 = 256;
        let count = to.saturating_sub(from);
        if count > MOST {
            return Touched::Everything;
        }
        let Ok(records) = self.app.log.read_all(from + 1, count as usize) else {
            return Touched::Everything;
        };
        if records.len() as u64 != count {
            return Touched::Everything;
        }
        let mut ids = std::collections::HashSet::new();
        for record in records {
            let Ok(event) = record.decode() else {
                return Touched::Everything;
            };
            let id = match &event {
                E::TargetSet(_)
                | E::TargetRevised(_)
                | E::ActualReported(_)
                | E::ActualCorrected(_)
                | E::IndicatorRetired(_)
                | E::IndicatorDirectionSet(_) => event.indicator(),
                _ => None,
            };
            let Some(id) = id else {
                return Touched::Everything;
            };
            let (Ok(Some(view)), Ok(next)) =
                (self.app.read.indicator(id), self.app.read.next_periods(id))
            else {
                return Touched::Everything;
            };
            ids.insert(id.to_string());
            ids.extend(next.iter().map(ToString::to_string));
            ids.extend(view.definition.parent.map(|p| p.to_string()));
            ids.extend(view.definition.previous.map(|p| p.to_string()));
        }
        Touched::Indicators(ids)
    }

    /// What the answers depend on besides the request: the log's head, the
    /// read models' position and the date.
    fn stamp(&self) -> Stamp {
        Stamp {
            head: self.app.log.head().position,
            projected: self.app.read.projector().position(),
            today: (self.app.today)(),
        }
    }
}

async fn post_graphql(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client = client_address(&headers, peer, &state.trusted_proxies);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json")
        && !content_type.starts_with("application/graphql-request+json")
    {
        return request_error(
            &headers,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Msg::new(
                "send the request as application/json",
                "hãy gửi yêu cầu dạng application/json",
            ),
            "VALIDATION",
        );
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return request_error(
                &headers,
                StatusCode::BAD_REQUEST,
                Msg::new(
                    format!("the body is not a GraphQL request: {e}"),
                    format!("nội dung không phải là một yêu cầu GraphQL: {e}"),
                ),
                "VALIDATION",
            )
        }
    };
    if let BatchRequest::Batch(requests) = &batch {
        if requests.len() > state.max_batch || requests.is_empty() {
            let message = Msg::new(
                format!(
                    "a batch holds 1 to {} operations, got {}",
                    state.max_batch,
                    requests.len()
                ),
                format!(
                    "một lô gồm từ 1 đến {} thao tác, nhận được {}",
                    state.max_batch,
                    requests.len()
                ),
            );
            return request_error(&headers, StatusCode::BAD_REQUEST, message, "VALIDATION");
        }
    }
    let mut batch = batch;
    let resolved = match &mut batch {
        BatchRequest::Single(request) => state.persisted.resolve(request),
        BatchRequest::Batch(requests) => requests
            .iter_mut()
            .try_for_each(|r| state.persisted.resolve(r)),
    };
    if let Err(e) = resolved {
        return refused_before_execution(&headers, &e);
    }
    state.execute(&headers, client, batch).await
}

/// A request refused before it ran (a limit of a batch's document, the
/// persisted-query rules): 400 with the error's code and wording.
fn refused_before_execution(headers: &HeaderMap, error: &async_graphql::ServerError) -> Response {
    let code = error
        .extensions
        .as_ref()
        .and_then(|x| x.get("code"))
        .and_then(|c| match c {
            async_graphql::Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "VALIDATION".into());
    let message = chitieu_graphql::error::worded_as(error);
    request_error(headers, StatusCode::BAD_REQUEST, message, &code)
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

/// The type of the operation a GET request would run, if it parses.
fn operation_type(query: &str, name: Option<&str>) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(query).ok()?;
    let mut operations = document.operations.iter();
    let found = match name {
        Some(n) => operations.find(|(op_name, _)| op_name.map(|o| o.as_str()) == Some(n)),
        None => operations.next(),
    };
    found.map(|(_, op)| op.node.ty)
}

async fn get_graphql(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let client = client_address(&headers, peer, &state.trusted_proxies);
    if let Ok(ws) = upgrade {
        if state.failed_auths.blocked(client.ip()) {
            state.metrics.rate_limited.inc();
            let message = too_many_failures();
            return request_error(
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                message,
                "UNAUTHENTICATED",
            );
        }
        return websocket(state, &headers, ws, client);
    }
    let mut request = Request::new(params.get("query").cloned().unwrap_or_default());
    if let Some(raw) = params.get("extensions") {
        match serde_json::from_str::<async_graphql::Extensions>(raw) {
            Ok(extensions) => request.extensions = extensions,
            Err(e) => {
                return request_error(
                    &headers,
                    StatusCode::BAD_REQUEST,
                    Msg::new(
                        format!("`extensions` is not JSON: {e}"),
                        format!("`extensions` không phải là JSON: {e}"),
                    ),
                    "VALIDATION",
                )
            }
        }
    }
    if request.query.is_empty() && request.extensions.0.is_empty() {
        return request_error(
            &headers,
            StatusCode::BAD_REQUEST,
            Msg::new(
                "GET needs a `query` parameter (or a persisted query's hash in `extensions`)",
                "GET cần tham số `query` (hoặc mã băm của một truy vấn đã lưu trong `extensions`)",
            ),
            "VALIDATION",
        );
    }
    if let Err(e) = state.persisted.resolve(&mut request) {
        return refused_before_execution(&headers, &e);
    }
    let name = params.get("operationName").map(String::as_str);
    if matches!(
        operation_type(&request.query, name),
        Some(OperationType::Mutation | OperationType::Subscription)
    ) {
        let message = Msg::new(
            "mutations and subscriptions are not allowed over GET; use POST",
            "không được gửi thao tác ghi (mutation) hay đăng ký (subscription) bằng GET; hãy dùng POST",
        );
        let mut response = request_error(
            &headers,
            StatusCode::METHOD_NOT_ALLOWED,
            message,
            "VALIDATION",
        );
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    if let Some(n) = name {
        request = request.operation_name(n);
    }
    if let Some(vars) = params.get("variables") {
        match serde_json::from_str(vars) {
            Ok(v) => request = request.variables(async_graphql::Variables::from_json(v)),
            Err(e) => {
                return request_error(
                    &headers,
                    StatusCode::BAD_REQUEST,
                    Msg::new(
                        format!("`variables` is not JSON: {e}"),
                        format!("`variables` không phải là JSON: {e}"),
                    ),
                    "VALIDATION",
                )
            }
        }
    }
    state
        .execute(&headers, client, BatchRequest::Single(request))
        .await
}

async fn graphiql(State(state): State<HttpState>) -> Response {
    if !state.graphiql {
        return StatusCode::NOT_FOUND.into_response();
    }
    crate::graphiql::page()
}

async fn graphiql_asset(
    State(state): State<HttpState>,
    name: axum::extract::Path<String>,
) -> Response {
    if !state.graphiql {
        return StatusCode::NOT_FOUND.into_response();
    }
    crate::graphiql::asset(name)
}

/// A writer that hands what it is given to an HTTP body, chunk by chunk;
/// a client that went away fails the next write, which ends the backup.
struct BodyWriter(tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>);

impl std::io::Write for BodyWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `GET /backup`: a signed, self-proving backup of the log as it stands
/// when the request arrives (`docs/proofs.md`), streamed while the server
/// goes on serving and writing. For principals whose audit grant reaches
/// everywhere: a backup holds every record.
async fn backup(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    let lang = lang(&headers);
    let header_value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let refused = |status: StatusCode, code: &str, msg: Msg| {
        let body = serde_json::json!({ "error": code, "message": msg.get(lang) });
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        set_language(&mut response, lang);
        response
    };
    let who = match authenticate(&state.app, header_value) {
        Ok(Some(who)) => who,
        Ok(None) | Err(AuthFailure::Invalid) => {
            return refused(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                Msg::new(
                    "a backup needs a bearer token",
                    "sao lưu cần mã truy cập (bearer token)",
                ),
            )
        }
        Err(AuthFailure::Storage(detail)) => {
            tracing::error!(%detail, "could not check a token");
            return refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "STORAGE_UNAVAILABLE",
                Msg::new(
                    "the store cannot be read right now",
                    "hiện không đọc được kho dữ liệu",
                ),
            );
        }
    };
    if who.reach(chitieu_domain::Permission::ReadAudit) != chitieu_domain::Reach::Everywhere {
        return refused(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            Msg::new(
                format!(
                    "{} holds no audit grant that reaches everywhere: a backup holds every record",
                    who.principal
                ),
                format!(
                    "{} không có quyền kiểm tra ở mọi nơi: bản sao lưu chứa mọi bản ghi",
                    who.principal
                ),
            ),
        );
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let notary = state.app.notary.clone();
    let principal = who.principal.to_string();
    tokio::task::spawn_blocking(move || {
        let out = std::io::BufWriter::with_capacity(256 * 1024, BodyWriter(tx.clone()));
        match notary.backup(out, |_| {}) {
            Ok(summary) => {
                tracing::info!(%principal, records = summary.records, root = %summary.head.root, "backup served")
            }
            Err(error) => {
                tracing::warn!(%principal, %error, "backup cut short");
                let _ = tx.blocking_send(Err(std::io::Error::other(error.to_string())));
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut response = axum::body::Body::from_stream(stream).into_response();
    let name = format!(
        "attachment; filename=\"chitieu-{}.backup.jsonl.gz\"",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

async fn readyz(State(state): State<HttpState>) -> Response {
    let head = state.app.log.head().position;
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

fn websocket(
    state: HttpState,
    headers: &HeaderMap,
    ws: WebSocketUpgrade,
    client: SocketAddr,
) -> Response {
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|list| {
            list.split(',')
                .map(str::trim)
                .find_map(|p| p.parse::<WebSocketProtocols>().ok())
        })
        .unwrap_or(WebSocketProtocols::GraphQLWS);
    let lang = lang(headers);
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve_socket(state, socket, protocol, client, lang))
}

/// Marks the errors of a refused `connection_init`.
const FORBIDDEN: &str = "forbidden: ";

fn token_from_init(payload: &serde_json::Value) -> Option<String> {
    let object = payload.as_object()?;
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_owned)
        .or_else(|| {
            object
                .get("authToken")
                .and_then(|v| v.as_str())
                .map(|t| format!("Bearer {t}"))
        })
}

async fn serve_socket(
    state: HttpState,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    client: SocketAddr,
    lang: Lang,
) {
    struct Open(Arc<crate::metrics::Metrics>);
    impl Drop for Open {
        fn drop(&mut self) {
            self.0.websockets.dec();
        }
    }
    state.metrics.websockets.inc();
    let _open = Open(state.metrics.clone());
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|m| futures_util::future::ready(m.is_ok()))
        .filter_map(|m| async move {
            match m {
                Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            }
        });
    let app = state.app.clone();
    let failed_auths = state.failed_auths.clone();
    let auth_metrics = state.metrics.clone();
    let anonymous_reads = state.anonymous_reads;
    // The token the connection authenticated with, re-checked at every
    // ping: a revocation closes an open subscription too.
    let authenticated_with: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let remembered = authenticated_with.clone();
    let mut output = async_graphql::http::WebSocket::new(state.ws_schema.clone(), input, protocol)
        .on_connection_init(move |payload| async move {
            let mut data = Data::default();
            data.insert(AnonymousReads(anonymous_reads));
            data.insert(lang);
            match token_from_init(&payload) {
                Some(header) => match authenticate(&app, Some(&header)) {
                    Ok(Some(principal)) => {
                        if let Ok(mut slot) = remembered.lock() {
                            *slot = Some(header);
                        }
                        data.insert(principal);
                    }
                    Err(AuthFailure::Storage(detail)) => {
                        tracing::error!(%detail, "the log could not be read to check a WebSocket token");
                        return Err(async_graphql::Error::new(match lang {
                            Lang::En => "STORAGE_UNAVAILABLE: the event log cannot be read right now; retry later",
                            Lang::Vi => "STORAGE_UNAVAILABLE: hiện không đọc được sổ ghi sự kiện; hãy thử lại sau",
                        }));
                    }
                    _ => {
                        auth_metrics.auth_failures.inc();
                        failed_auths.failed(client.ip());
                        tracing::warn!(client = %client.ip(), "refused a WebSocket connection with an invalid token");
                        return Err(async_graphql::Error::new(match lang {
                            Lang::En => format!("{FORBIDDEN}the bearer token is not valid"),
                            Lang::Vi => format!("{FORBIDDEN}mã truy cập (bearer token) không hợp lệ"),
                        }));
                    }
                },
                None if anonymous_reads => {}
                None => return Err(async_graphql::Error::new(match lang {
                    Lang::En => format!("{FORBIDDEN}authentication required in connection_init"),
                    Lang::Vi => format!("{FORBIDDEN}cần xác thực trong connection_init"),
                })),
            }
            Ok(data)
        })
        .boxed();
    let mut ping = tokio::time::interval(state.ping_every);
    ping.tick().await;
    loop {
        tokio::select! {
            message = output.next() => match message {
                Some(WsMessage::Text(text)) => {
                    if sink.send(Message::Text(text.into())).await.is_err() { break; }
                }
                Some(WsMessage::Close(code, reason)) => {
                    // async-graphql closes a refused connection_init with 1002;
                    // graphql-transport-ws says 4403 Forbidden.
                    let (code, reason) = match reason.strip_prefix(FORBIDDEN) {
                        Some(reason) => (4403, reason.to_owned()),
                        None => (code, reason),
                    };
                    let _ = sink.send(Message::Close(Some(axum::extract::ws::CloseFrame { code, reason: reason.into() }))).await;
                    break;
                }
                None => break,
            },
            _ = ping.tick() => {
                let header = authenticated_with.lock().ok().and_then(|h| h.clone());
                if let Some(header) = header {
                    if matches!(authenticate(&state.app, Some(&header)), Err(AuthFailure::Invalid)) {
                        tracing::info!("closing a WebSocket whose token is no longer valid");
                        let reason = match lang {
                            Lang::En => "the token is no longer valid",
                            Lang::Vi => "mã truy cập không còn hiệu lực",
                        };
                        let frame = axum::extract::ws::CloseFrame { code: 4403, reason: reason.into() };
                        let _ = sink.send(Message::Close(Some(frame))).await;
                        break;
                    }
                }
                let ping = match protocol {
                    WebSocketProtocols::GraphQLWS => Message::Text(r#"{"type":"ping"}"#.into()),
                    WebSocketProtocols::SubscriptionsTransportWS => Message::Text(r#"{"type":"ka"}"#.into()),
                };
                if sink.send(ping).await.is_err() { break; }
            }
        }
    }
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
