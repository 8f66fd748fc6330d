//! [`ApiError`]: every error a client can get, each with its
//! `extensions.code`, its message in Vietnamese and in English ([`Msg`]),
//! and [`localize`], which gives a response's errors the language the
//! client asked for ([`Lang`]). Internal details go to the log, never to
//! the client.

use crate::lang::Lang;
use async_graphql::ErrorExtensions;
use chitieu_domain::vi::Vietnamese;
use chitieu_projector::ProjectionError;
use chitieu_service::ServiceError;
use std::sync::Arc;

/// A message in both languages the API speaks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Msg {
    /// English.
    pub en: String,
    /// Tiếng Việt.
    pub vi: String,
}

impl Msg {
    /// A message given in both languages.
    pub fn new(en: impl Into<String>, vi: impl Into<String>) -> Self {
        Msg {
            en: en.into(),
            vi: vi.into(),
        }
    }

    /// The message of an error that has both wordings (every error of the
    /// domain).
    pub fn of<E: std::fmt::Display + Vietnamese + ?Sized>(error: &E) -> Self {
        Msg {
            en: error.to_string(),
            vi: error.vi(),
        }
    }

    /// The same message after a prefix (a field name) in both languages.
    pub fn after(self, en: &str, vi: &str) -> Self {
        Msg {
            en: format!("{en}{}", self.en),
            vi: format!("{vi}{}", self.vi),
        }
    }

    /// The wording in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }
}

/// An error as the client sees it.
///
/// It deliberately does not implement `Display`: async-graphql turns any
/// `Display` error into a message without a code, so every error must
/// become an `async_graphql::Error` through this type's own conversion,
/// which sets `extensions.code` and keeps the error itself as the source
/// [`localize`] words the message from.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// `VALIDATION`: the input or the command breaks a rule.
    Validation(Msg),
    /// `NOT_FOUND`: no such indicator, org unit or document.
    NotFound(Msg),
    /// `PERIOD_LOCKED`: the write would change a reporting period that is
    /// approved or locked.
    PeriodLocked(Msg),
    /// `CONFLICT`: someone changed it first; `currentVersion` says where it is.
    Conflict {
        /// What happened.
        message: Msg,
        /// The stream's current version.
        current_version: u64,
    },
    /// `UNAUTHENTICATED`: no valid token.
    Unauthenticated,
    /// `FORBIDDEN`: the principal may not do this.
    Forbidden(Msg),
    /// `UNAVAILABLE`: the log cannot be reached right now (a shared log
    /// restarting); retry later, with the same idempotency key. The detail
    /// is the store's own words.
    Unavailable(String),
    /// `STORAGE_UNAVAILABLE`: the log or the read models cannot be read
    /// (a storage fault); the detail is in the server log under this
    /// reference.
    StorageUnavailable(String),
    /// `TIMEOUT`: the work took longer than its budget.
    Timeout(Msg),
    /// `INTERNAL`: something failed on our side (details in the server log
    /// under this reference).
    Internal(String),
}

impl ApiError {
    /// `VALIDATION` with its wording in both languages.
    pub fn validation(en: impl Into<String>, vi: impl Into<String>) -> Self {
        ApiError::Validation(Msg::new(en, vi))
    }

    /// `VALIDATION` for an input the domain refused to parse.
    pub fn invalid<E: std::fmt::Display + Vietnamese + ?Sized>(error: &E) -> Self {
        ApiError::Validation(Msg::of(error))
    }

    /// `NOT_FOUND` with its wording in both languages.
    pub fn not_found(en: impl Into<String>, vi: impl Into<String>) -> Self {
        ApiError::NotFound(Msg::new(en, vi))
    }

    /// `FORBIDDEN` with its wording in both languages.
    pub fn forbidden(en: impl Into<String>, vi: impl Into<String>) -> Self {
        ApiError::Forbidden(Msg::new(en, vi))
    }

    /// The message shown to the client, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let en = lang == Lang::En;
        match self {
            ApiError::Validation(m)
            | ApiError::Forbidden(m)
            | ApiError::PeriodLocked(m)
            | ApiError::NotFound(m)
            | ApiError::Timeout(m) => m.get(lang).to_owned(),
            ApiError::Conflict { message, .. } => message.get(lang).to_owned(),
            ApiError::Unauthenticated if en => {
                "authentication required: send `Authorization: Bearer <token>`".into()
            }
            ApiError::Unauthenticated => {
                "cần xác thực: gửi kèm `Authorization: Bearer <mã truy cập>`".into()
            }
            ApiError::Unavailable(why) if en => format!(
                "the event log is unavailable right now ({why}); retry with the same idempotency key"
            ),
            ApiError::Unavailable(why) => format!(
                "sổ ghi sự kiện tạm thời không truy cập được ({why}); hãy gửi lại với cùng khóa chống trùng (idempotency key)"
            ),
            ApiError::StorageUnavailable(reference) if en => format!(
                "the stored data cannot be read right now (a storage fault, reference {reference}); operators: `chitieu verify --read-models`, `chitieu rebuild`"
            ),
            ApiError::StorageUnavailable(reference) => format!(
                "hiện không đọc được dữ liệu đã lưu (lỗi lưu trữ, mã tham chiếu {reference}); người vận hành: `chitieu verify --read-models`, `chitieu rebuild`"
            ),
            ApiError::Internal(reference) if en => {
                format!("internal error (reference {reference})")
            }
            ApiError::Internal(reference) => {
                format!("lỗi nội bộ (mã tham chiếu {reference})")
            }
        }
    }

    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "VALIDATION",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::PeriodLocked(_) => "PERIOD_LOCKED",
            ApiError::Conflict { .. } => "CONFLICT",
            ApiError::Unauthenticated => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::Unavailable(_) => "UNAVAILABLE",
            ApiError::Timeout(_) => "TIMEOUT",
            ApiError::StorageUnavailable(_) => "STORAGE_UNAVAILABLE",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    /// Logs an internal failure and returns what the client may see.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        let reference = uuid::Uuid::now_v7().to_string();
        tracing::error!(%reference, %error, "internal error");
        ApiError::Internal(reference)
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        let error = async_graphql::Error {
            message: self.message(Lang::En),
            // What `localize` words the message from.
            source: Some(Arc::new(self.clone())),
            extensions: None,
        };
        error.extend_with(|_, e| {
            e.set("code", self.code());
            if let ApiError::Conflict {
                current_version, ..
            } = self
            {
                e.set("currentVersion", *current_version);
            }
            if let ApiError::Unavailable(_) | ApiError::StorageUnavailable(_) = self {
                e.set("retryable", true);
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        error.extend()
    }
}

/// An error worded in both languages whose code and extensions the caller
/// sets (errors that are not an [`ApiError`], such as a refused import).
pub fn worded(message: Msg) -> async_graphql::Error {
    async_graphql::Error {
        message: message.en.clone(),
        source: Some(Arc::new(message)),
        extensions: None,
    }
}

/// Words every error of a response in `lang`: an [`ApiError`] by its own
/// wording, an error of async-graphql itself (parsing, validation,
/// coercion, limits) by [`graphql_vi`] when Vietnamese is asked.
pub fn localize(response: &mut async_graphql::Response, lang: Lang) {
    for error in &mut response.errors {
        if let Some(api) = error.source::<ApiError>() {
            error.message = api.message(lang);
        } else if let Some(message) = error.source::<Msg>() {
            error.message = message.get(lang).to_owned();
        } else if lang == Lang::Vi {
            error.message = graphql_vi(&error.message);
        }
    }
}

/// The wording of one error in both languages (for a transport that
/// answers it outside a response).
pub fn worded_as(error: &async_graphql::ServerError) -> Msg {
    if let Some(api) = error.source::<ApiError>() {
        Msg::new(api.message(Lang::En), api.message(Lang::Vi))
    } else if let Some(message) = error.source::<Msg>() {
        message.clone()
    } else {
        Msg::new(error.message.clone(), graphql_vi(&error.message))
    }
}

/// The Vietnamese of async-graphql's own messages: the common ones word
/// for word, the rest with a Vietnamese lead and the original (names of
/// fields and types are the schema's, in English either way).
pub fn graphql_vi(message: &str) -> String {
    let rules: [(&str, &str); 14] = [
        ("Unknown field ", "Trường không tồn tại: "),
        ("Unknown argument ", "Tham số không tồn tại: "),
        ("Unknown type ", "Kiểu không tồn tại: "),
        ("Unknown operation named ", "Không có thao tác tên "),
        (
            "Invalid value for argument ",
            "Giá trị không hợp lệ cho tham số ",
        ),
        ("Variable ", "Biến "),
        ("Failed to parse ", "Không đọc được "),
        ("Query is nested too deep.", "Truy vấn lồng quá sâu."),
        ("Query is too complex.", "Truy vấn quá phức tạp."),
        ("Fields ", "Các trường "),
        ("Field ", "Trường "),
        ("Unknown fragment ", "Đoạn (fragment) không tồn tại: "),
        (" --> ", " --> "),
        ("Missing operation", "Thiếu thao tác"),
    ];
    for (en, vi) in rules {
        if let Some(rest) = message.strip_prefix(en) {
            return format!("{vi}{rest}");
        }
    }
    format!("Yêu cầu GraphQL không hợp lệ: {message}")
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Domain(e) if e.is_internal() => ApiError::internal(&e),
            ServiceError::Domain(e) if e.is_not_found() => ApiError::NotFound(Msg::of(&e)),
            ServiceError::Domain(e) if e.is_period_locked() => {
                ApiError::PeriodLocked(Msg::of(&e))
            }
            ServiceError::Domain(e) => ApiError::Validation(Msg::of(&e)),
            ServiceError::Forbidden(e) => ApiError::Forbidden(Msg::of(&e)),
            ServiceError::Conflict {
                stream,
                expected,
                current,
            } => ApiError::Conflict {
                message: Msg::new(
                    format!("{stream} is at version {current}, not {expected}: reload and retry"),
                    format!(
                        "{stream} đang ở phiên bản {current}, không phải {expected}: hãy tải lại rồi thử lại"
                    ),
                ),
                current_version: current,
            },
            ServiceError::IdempotencyKeyReused(key) => ApiError::validation(
                format!("idempotency key `{key}` was already used for a different request"),
                format!("khóa chống trùng `{key}` đã được dùng cho một yêu cầu khác"),
            ),
            ServiceError::Invalid(message) => ApiError::validation(
                message.clone(),
                format!("yêu cầu ghi không hợp lệ: {message}"),
            ),
            ServiceError::Unavailable(error) => ApiError::from(error),
            other => ApiError::internal(&other),
        }
    }
}

impl ApiError {
    /// Logs a storage fault and returns what the client may see.
    pub fn storage(error: &dyn std::fmt::Display) -> Self {
        let reference = uuid::Uuid::now_v7().to_string();
        tracing::error!(%reference, %error, "storage fault");
        ApiError::StorageUnavailable(reference)
    }
}

impl From<ProjectionError> for ApiError {
    fn from(error: ProjectionError) -> Self {
        match error {
            ProjectionError::Store(e) => ApiError::from(e),
            ProjectionError::Sled(_)
            | ProjectionError::CorruptReadModel { .. }
            | ProjectionError::Undecodable { .. }
            | ProjectionError::Files { .. } => ApiError::storage(&error),
            other => ApiError::internal(&other),
        }
    }
}

impl From<chitieu_store::StoreError> for ApiError {
    fn from(error: chitieu_store::StoreError) -> Self {
        match error {
            e if e.is_retryable() => {
                tracing::warn!(error = %e, "the log is unavailable");
                ApiError::Unavailable(e.to_string())
            }
            e @ (chitieu_store::StoreError::Corrupt { .. }
            | chitieu_store::StoreError::Backend(_)) => ApiError::storage(&e),
            other => ApiError::internal(&other),
        }
    }
}

/// Gives every error of a response an `extensions.code`. Resolver errors
/// carry theirs ([`ApiError`]); what async-graphql itself refuses (a
/// document that does not parse or validate, a variable or argument that
/// does not coerce, a scalar that does not parse, a limit) comes without
/// one: `LIMIT_EXCEEDED` for the depth and complexity limits, else
/// `VALIDATION`.
pub fn ensure_codes(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        let code = if error.message.contains("too complex")
            || error.message.contains("complexity limit")
            || error.message.contains("too deep")
        {
            "LIMIT_EXCEEDED"
        } else {
            "VALIDATION"
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
}

/// Every `extensions.code` a client can get, from resolvers ([`ApiError`]),
/// from [`ensure_codes`] and from the transport. The schema's description
/// of the query root documents each (a test holds them together).
pub const CODES: [&str; 14] = [
    "VALIDATION",
    "LIMIT_EXCEEDED",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "CONFLICT",
    "PERIOD_LOCKED",
    "PAYLOAD_TOO_LARGE",
    "TIMEOUT",
    "UNAVAILABLE",
    "STORAGE_UNAVAILABLE",
    "PERSISTED_QUERY_NOT_FOUND",
    "PERSISTED_QUERY_REQUIRED",
    "INTERNAL",
];

/// Results of resolvers.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_documents_every_code() {
        let sdl = crate::sdl();
        for code in CODES {
            assert!(
                sdl.contains(&format!("`{code}`")),
                "{code} is not documented"
            );
        }
        let errors = [
            ApiError::Validation(Msg::default()),
            ApiError::NotFound(Msg::default()),
            ApiError::PeriodLocked(Msg::default()),
            ApiError::Conflict {
                message: Msg::default(),
                current_version: 0,
            },
            ApiError::Unauthenticated,
            ApiError::Forbidden(Msg::default()),
            ApiError::Unavailable(String::new()),
            ApiError::StorageUnavailable(String::new()),
            ApiError::Timeout(Msg::default()),
            ApiError::Internal(String::new()),
        ];
        for error in errors {
            assert!(
                CODES.contains(&error.code()),
                "{} is not listed",
                error.code()
            );
        }
    }
}
