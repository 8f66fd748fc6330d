//! GraphQL over HTTP: `POST /graphql` (single or batched) and `GET
//! /graphql?query=…` (queries only), media types and the spec's status
//! codes, the response cache, read-your-writes by `x-chitieu-min-position`,
//! and the measures behind `/metrics`.

use super::*;

pub(super) const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// `ok`, or the code of the first error of a response.
pub(super) fn outcome_code(response: &async_graphql::Response) -> String {
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
    State(state): State<Arc<HttpState>>,
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
        // The single request's document, and whether it may skip the
        // validation rules it passed before ([`chitieu_graphql::validated`]).
        let mut single: Option<(Arc<crate::cache::Parsed>, bool)> = None;
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
                let skip = chitieu_graphql::validated::may_skip_rules(
                    document
                        .validated
                        .load(std::sync::atomic::Ordering::Relaxed),
                    &document.document,
                    request.operation_name.as_deref(),
                    &request.variables,
                );
                single = Some((document, skip));
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
        let schema = match &single {
            Some((_, true)) => &self.checked_schema,
            _ => &self.schema,
        };
        let execution = tracing::Instrument::instrument(schema.execute_batch(batch), span);
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
        if let (Some((document, false)), async_graphql::BatchResponse::Single(r)) =
            (&single, &response)
        {
            let name = operations[0].as_str();
            let name = (!name.is_empty()).then_some(name);
            if chitieu_graphql::validated::proves_rules(&document.document, name, r) {
                document
                    .validated
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
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
        let Ok(records) = self.app.service.events(from + 1, count as usize) else {
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
            head: self.app.service.head().position,
            projected: self.app.read.projector().position(),
            today: (self.app.today)(),
        }
    }
}

pub(super) async fn post_graphql(
    State(state): State<Arc<HttpState>>,
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
pub(super) fn refused_before_execution(
    headers: &HeaderMap,
    error: &async_graphql::ServerError,
) -> Response {
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

/// The type of the operation a GET request would run, if it parses.
pub(super) fn operation_type(query: &str, name: Option<&str>) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(query).ok()?;
    let mut operations = document.operations.iter();
    let found = match name {
        Some(n) => operations.find(|(op_name, _)| op_name.map(|o| o.as_str()) == Some(n)),
        None => operations.next(),
    };
    found.map(|(_, op)| op.node.ty)
}

pub(super) async fn get_graphql(
    State(state): State<Arc<HttpState>>,
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
