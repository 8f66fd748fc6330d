//! The `Mutation` root: every write goes through the domain's rules, is
//! attributed to the authenticated principal, and returns the state as it is
//! after the write (read-your-writes).
//!
//! One object per subject, merged into [`MutationRoot`]; each subject's
//! inputs and payloads live beside its mutations. [`write`] is the one
//! execute-then-read-back: the service decides and appends, waits until the
//! read models hold the write, and the payload is read from them.

mod documents;
mod indicators;
mod org_units;
mod periods;
mod principals;

pub use documents::*;
pub use indicators::*;
pub use org_units::*;
pub use periods::*;
pub use principals::*;

use crate::auth::writer;
use crate::error::Msg;
use crate::error::{ApiError, ApiResult};
use crate::App;
use async_graphql::{Context, InputObject, MergedObject, ID};
use chitieu_domain::{self as domain, Command, Text};
use chitieu_service::{Caller, WriteOptions, Written};
use uuid::Uuid;

/// Writes.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    OrgUnitMutations,
    DocumentMutations,
    crate::import::ImportMutations,
    IndicatorMutations,
    PeriodMutations,
    PrincipalMutations,
);

fn text(field: &str, raw: &str) -> ApiResult<Text> {
    Text::parse(raw).map_err(|e| {
        ApiError::Validation(Msg::of(&e).after(&format!("{field}: "), &format!("{field}: ")))
    })
}

fn optional_text(field: &str, raw: Option<&str>) -> ApiResult<Option<Text>> {
    raw.map(|r| text(field, r)).transpose()
}

fn uuid(field: &str, id: &ID) -> ApiResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| {
        ApiError::validation(
            format!("{field}: `{}` is not a UUID", id.as_str()),
            format!("{field}: `{}` không phải là một UUID", id.as_str()),
        )
    })
}

fn document_id(field: &str, id: &ID) -> ApiResult<domain::DocumentId> {
    uuid(field, id).map(domain::DocumentId)
}

/// A new id for something the client did not name. With an idempotency
/// key it is derived from the principal, the key and the field, so that a
/// retry builds the very same command (and is recognised as a retry).
fn new_id(ctx: &Context<'_>, guard: &WriteGuard, field: &str) -> Uuid {
    match (
        &guard.idempotency_key,
        ctx.data_opt::<crate::auth::Authenticated>(),
    ) {
        (Some(key), Some(principal)) => Uuid::new_v5(
            &Uuid::NAMESPACE_OID,
            format!("chitieu/{}/{key}/{field}", principal.principal).as_bytes(),
        ),
        _ => Uuid::now_v7(),
    }
}

fn reason(raw: &str) -> ApiResult<Option<domain::Reason>> {
    // A blank reason is a missing one: the domain refuses it with its own
    // error. Any other text that does not parse (too long, a control
    // character) is refused as it is, never dropped.
    match Text::parse(raw) {
        Ok(text) => Ok(Some(text)),
        Err(domain::text::TextError::Empty) => Ok(None),
        Err(e) => Err(ApiError::Validation(Msg::of(&e).after("reason ", "lý do "))),
    }
}

fn optional_reason(raw: Option<&str>) -> ApiResult<Option<domain::Reason>> {
    raw.map_or(Ok(None), reason)
}

/// Options of every write.
#[derive(InputObject, Default, Clone)]
pub struct WriteGuard {
    /// The stream version the client has seen; a different one is a `CONFLICT`.
    pub expected_version: Option<u64>,
    /// Makes a retry harmless: the same key and request return the first result.
    pub idempotency_key: Option<String>,
}

impl WriteGuard {
    pub(crate) fn options(&self) -> WriteOptions {
        WriteOptions {
            expected_version: self.expected_version,
            idempotency_key: self.idempotency_key.clone(),
            correlation_id: None,
        }
    }
}

/// The `document` field of an input, when given.
fn optional_document(id: Option<&ID>) -> ApiResult<Option<domain::DocumentId>> {
    id.map(|d| document_id("document", d)).transpose()
}

/// What a write reads back, named in a NOT_FOUND (which only a read model
/// that lost the write would give).
pub(crate) struct Subject<'a> {
    /// English noun (`indicator`).
    pub en: &'a str,
    /// Vietnamese noun (`chỉ tiêu`).
    pub vi: &'a str,
    /// Its id or code.
    pub id: String,
}

/// Runs `command` for the signed-in principal with `options`, then reads
/// back with `read` what it wrote (the service returns once the read
/// models hold the write).
pub(crate) async fn write<T>(
    ctx: &Context<'_>,
    command: Command,
    options: WriteOptions,
    subject: Subject<'_>,
    read: impl FnOnce(&App) -> ApiResult<Option<T>>,
) -> async_graphql::Result<(T, Written)> {
    let principal = writer(ctx)?;
    let app = ctx.data_unchecked::<App>();
    let written = app
        .service
        .execute(
            &Caller::Principal(principal.principal.clone()),
            command,
            options,
        )
        .await
        .map_err(ApiError::from)?;
    let value = read(app)?.ok_or_else(|| {
        ApiError::not_found(
            format!("{} {} not found", subject.en, subject.id),
            format!("{} {} không tồn tại", subject.vi, subject.id),
        )
    })?;
    Ok((value, written))
}
