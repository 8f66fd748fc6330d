//! GraphQL over WebSocket: `graphql-transport-ws` (and the legacy
//! `graphql-ws`), authentication in `connection_init`, pings, and the
//! token checked again at every ping (a revocation closes with 4403).

use super::*;

pub(super) fn websocket(
    state: Arc<HttpState>,
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
pub(super) const FORBIDDEN: &str = "forbidden: ";

pub(super) fn token_from_init(payload: &serde_json::Value) -> Option<String> {
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

pub(super) async fn serve_socket(
    state: Arc<HttpState>,
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
