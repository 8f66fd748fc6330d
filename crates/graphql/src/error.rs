//! [`ApiError`]: every error a client can get, each with its
//! `extensions.code`. Internal details go to the log, never to the client.

use async_graphql::ErrorExtensions;
use chitieu_projector::ProjectionError;
use chitieu_service::ServiceError;

/// An error as the client sees it.
///
/// It deliberately does not implement `Display`: async-graphql turns any
/// `Display` error into a message without a code, so every error must
/// become an `async_graphql::Error` through this type's own conversion,
/// which sets `extensions.code`.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// `VALIDATION`: the input or the command breaks a rule.
    Validation(String),
    /// `NOT_FOUND`: no such indicator, org unit or document.
    NotFound(String),
    /// `PERIOD_LOCKED`: the write would change a reporting period that is
    /// approved or locked.
    PeriodLocked(String),
    /// `CONFLICT`: someone changed it first; `currentVersion` says where it is.
    Conflict {
        /// What happened.
        message: String,
        /// The stream's current version.
        current_version: u64,
    },
    /// `UNAUTHENTICATED`: no valid token.
    Unauthenticated,
    /// `FORBIDDEN`: the principal may not do this.
    Forbidden(String),
    /// `UNAVAILABLE`: the log cannot be reached right now (a shared log
    /// restarting); retry later, with the same idempotency key.
    Unavailable(String),
    /// `STORAGE_UNAVAILABLE`: the log or the read models cannot be read
    /// (a storage fault); the detail is in the server log.
    StorageUnavailable(String),
    /// `TIMEOUT`: the work took longer than its budget.
    Timeout(String),
    /// `INTERNAL`: something failed on our side (details in the server log).
    Internal(String),
}

impl ApiError {
    /// The message shown to the client.
    pub fn message(&self) -> String {
        match self {
            ApiError::Validation(m)
            | ApiError::Forbidden(m)
            | ApiError::PeriodLocked(m)
            | ApiError::Timeout(m) => m.clone(),
            ApiError::NotFound(what) => what.clone(),
            ApiError::Conflict { message, .. } => message.clone(),
            ApiError::Unauthenticated => {
                "authentication required: send `Authorization: Bearer <token>`".into()
            }
            ApiError::Unavailable(why) => format!(
                "the event log is unavailable right now ({why}); retry with the same idempotency key"
            ),
            ApiError::StorageUnavailable(reference) => format!(
                "the stored data cannot be read right now (a storage fault, reference {reference}); operators: `chitieu verify --read-models`, `chitieu rebuild`"
            ),
            ApiError::Internal(reference) => format!("internal error (reference {reference})"),
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
        async_graphql::Error::new(self.message()).extend_with(|_, e| {
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

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Domain(e) if e.is_not_found() => ApiError::NotFound(e.to_string()),
            ServiceError::Domain(e) if e.is_period_locked() => {
                ApiError::PeriodLocked(e.to_string())
            }
            ServiceError::Domain(e) => ApiError::Validation(e.to_string()),
            ServiceError::Forbidden(e) => ApiError::Forbidden(e.to_string()),
            ServiceError::Conflict {
                stream,
                expected,
                current,
            } => ApiError::Conflict {
                message: format!(
                    "{stream} is at version {current}, not {expected}: reload and retry"
                ),
                current_version: current,
            },
            ServiceError::IdempotencyKeyReused(key) => ApiError::Validation(format!(
                "idempotency key `{key}` was already used for a different request"
            )),
            ServiceError::Invalid(message) => ApiError::Validation(message),
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
            | ProjectionError::Undecodable { .. } => ApiError::storage(&error),
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
            ApiError::Validation(String::new()),
            ApiError::NotFound(String::new()),
            ApiError::PeriodLocked(String::new()),
            ApiError::Conflict {
                message: String::new(),
                current_version: 0,
            },
            ApiError::Unauthenticated,
            ApiError::Forbidden(String::new()),
            ApiError::Unavailable(String::new()),
            ApiError::StorageUnavailable(String::new()),
            ApiError::Timeout(String::new()),
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
