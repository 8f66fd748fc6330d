//! `GET /backup`: a consistent backup of the log streamed while the
//! server runs (auditors and admins).

use super::*;

/// A writer that hands what it is given to an HTTP body, chunk by chunk;
/// a client that went away fails the next write, which ends the backup.
pub(super) struct BodyWriter(tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>);

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
pub(super) async fn backup(State(state): State<Arc<HttpState>>, headers: HeaderMap) -> Response {
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
