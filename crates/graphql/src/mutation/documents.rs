//! Mutations of documents.

use super::*;
use crate::query::parse_org_unit;
use crate::scalars::Date;
use crate::types::*;
use async_graphql::{Object, SimpleObject};
use chitieu_domain::DocumentNumber;

/// Register a document.
#[derive(InputObject)]
pub struct RegisterDocumentInput {
    /// Identity (generated when absent).
    pub id: Option<ID>,
    /// Number such as `38-CTr/HU`, where it has one.
    pub number: Option<String>,
    /// Kind.
    pub kind: DocumentKind,
    /// Issuing body as written.
    pub issuing_body: String,
    /// The issuing org unit.
    pub org_unit: Option<ID>,
    /// Date of issue.
    pub issued_on: Option<Date>,
    /// Title.
    pub title: String,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// The result of registering a document.
#[derive(SimpleObject)]
pub struct DocumentPayload {
    /// The document.
    pub document: Document,
    /// Log position of the write.
    pub position: u64,
    /// Whether this was a replay.
    pub replayed: bool,
}

/// Writes of documents.
#[derive(Default)]
pub struct DocumentMutations;

#[Object]
impl DocumentMutations {
    /// Register a document (planner).
    async fn register_document(
        &self,
        ctx: &Context<'_>,
        input: RegisterDocumentInput,
    ) -> async_graphql::Result<DocumentPayload> {
        writer(ctx)?;
        let id = domain::DocumentId(
            input
                .id
                .as_ref()
                .map(|i| uuid("id", i))
                .transpose()?
                .unwrap_or_else(|| new_id(ctx, &input.guard, "document")),
        );
        let command = Command::RegisterDocument(domain::Document {
            id,
            number: input
                .number
                .as_deref()
                .map(DocumentNumber::parse)
                .transpose()
                .map_err(|e| ApiError::invalid(&e))?,
            kind: input.kind.into(),
            issuing_body: text("issuingBody", &input.issuing_body)?,
            org_unit: input.org_unit.as_ref().map(parse_org_unit).transpose()?,
            issued_on: input.issued_on.map(|d| d.0),
            title: text("title", &input.title)?,
        });
        let subject = Subject {
            en: "document",
            vi: "văn bản",
            id: id.to_string(),
        };
        let (document, written) = write(ctx, command, input.guard.options(), subject, |app| {
            Ok(app.read.document(id)?)
        })
        .await?;
        Ok(DocumentPayload {
            document: Document(document),
            position: written.position,
            replayed: written.replayed,
        })
    }
}
