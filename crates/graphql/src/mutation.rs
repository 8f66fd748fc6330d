//! The `Mutation` root: every write goes through the domain's rules, is
//! attributed to the authenticated principal, and returns the state as it is
//! after the write (read-your-writes).

use crate::auth::writer;
use crate::error::Msg;
use crate::error::{ApiError, ApiResult};
use crate::periods::*;
use crate::query::{parse_indicator_id, parse_org_unit, parse_period};
use crate::scalars::{Date, Decimal};
use crate::types::*;
use crate::App;
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chitieu_domain::{self as domain, Command, DocumentNumber, Text};
use chitieu_service::{Caller, WriteOptions};
use uuid::Uuid;

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

/// A target's kind and figures. Give the fields the kind needs.
#[derive(InputObject)]
pub struct TargetInput {
    /// Kind.
    pub kind: TargetKindName,
    /// Figure of at least / at most / plain; growth's target figure; maintain's level; reduce-by's amount.
    pub value: Option<Decimal>,
    /// For at least / at most: the bound itself falls short ("trên", "dưới").
    #[graphql(default = false)]
    pub strict: bool,
    /// Range low.
    pub low: Option<Decimal>,
    /// Range high.
    pub high: Option<Decimal>,
    /// Growth rate in percent.
    pub rate: Option<Decimal>,
    /// Base figure of a growth or reduction.
    pub base: Option<Decimal>,
    /// How a reduction is measured.
    pub reduction: Option<Reduction>,
    /// The period compared with.
    pub compared_period: Option<String>,
    /// Direction of the comparison.
    pub direction: Option<Direction>,
    /// A milestone's deadline.
    pub deadline: Option<Date>,
}

impl TargetInput {
    fn into_kind(self) -> ApiResult<domain::TargetKind> {
        let need = |field: &str, v: Option<Decimal>| {
            v.map(|d| d.0).ok_or_else(|| {
                ApiError::validation(
                    format!("a {:?} target needs `{field}`", self.kind),
                    format!("chỉ tiêu dạng {:?} cần `{field}`", self.kind),
                )
            })
        };
        Ok(match self.kind {
            TargetKindName::AtLeast => domain::TargetKind::AtLeast {
                value: need("value", self.value)?,
                strict: self.strict,
            },
            TargetKindName::AtMost => domain::TargetKind::AtMost {
                value: need("value", self.value)?,
                strict: self.strict,
            },
            TargetKindName::Plain => domain::TargetKind::Plain {
                value: need("value", self.value)?,
                base: self.base.map(|d| d.0),
            },
            TargetKindName::Range => domain::TargetKind::Range {
                low: need("low", self.low)?,
                high: need("high", self.high)?,
            },
            TargetKindName::Growth => domain::TargetKind::Growth {
                rate: need("rate", self.rate)?,
                base: self.base.map(|d| d.0),
                value: self.value.map(|d| d.0),
            },
            TargetKindName::ReduceBy => domain::TargetKind::ReduceBy {
                amount: need("value", self.value)?,
                measure: self.reduction.unwrap_or(Reduction::Absolute).into(),
                base: self.base.map(|d| d.0),
            },
            TargetKindName::RelativeToPeriod => domain::TargetKind::RelativeToPeriod {
                period: parse_period(self.compared_period.as_deref().ok_or_else(|| {
                    ApiError::validation(
                        "a RELATIVE_TO_PERIOD target needs `comparedPeriod`",
                        "chỉ tiêu dạng RELATIVE_TO_PERIOD cần `comparedPeriod`",
                    )
                })?)?,
                direction: self
                    .direction
                    .ok_or_else(|| {
                        ApiError::validation(
                            "a RELATIVE_TO_PERIOD target needs `direction`",
                            "chỉ tiêu dạng RELATIVE_TO_PERIOD cần `direction`",
                        )
                    })?
                    .into(),
            },
            TargetKindName::Milestone => domain::TargetKind::Milestone {
                deadline: self.deadline.map(|d| d.0),
            },
            TargetKindName::Maintain => domain::TargetKind::Maintain {
                level: self.value.map(|d| d.0),
            },
        })
    }
}

/// A reported value: exactly one of `amount`, `numerator` with `denominator`, or `done`.
#[derive(InputObject)]
pub struct ValueInput {
    /// A figure in the indicator's unit.
    pub amount: Option<Decimal>,
    /// Numerator of a ratio.
    pub numerator: Option<Decimal>,
    /// Denominator of a ratio.
    pub denominator: Option<Decimal>,
    /// A milestone done or not.
    pub done: Option<bool>,
}

impl ValueInput {
    fn into_value(self) -> ApiResult<domain::ResultValue> {
        match (self.amount, self.numerator, self.denominator, self.done) {
            (Some(v), None, None, None) => Ok(domain::ResultValue::Amount { value: v.0 }),
            (None, Some(n), Some(d), None) => Ok(domain::ResultValue::Ratio {
                numerator: n.0,
                denominator: d.0,
            }),
            (None, None, None, Some(done)) => Ok(domain::ResultValue::Milestone { done }),
            _ => Err(ApiError::validation(
                "give exactly one of `amount`, `numerator` with `denominator`, or `done`",
                "hãy gửi đúng một trong: `amount`, `numerator` cùng `denominator`, hoặc `done`",
            )),
        }
    }
}

/// Register an org unit.
#[derive(InputObject)]
pub struct RegisterOrgUnitInput {
    /// Code, e.g. `LA.CAN-DUOC`.
    pub code: ID,
    /// Name as written.
    pub name: String,
    /// Level.
    pub level: OrgUnitLevel,
    /// Parent's code (none only for a province).
    pub parent: Option<ID>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Rename an org unit from a date.
#[derive(InputObject)]
pub struct RenameOrgUnitInput {
    /// The unit.
    pub unit: ID,
    /// Its new name.
    pub name: String,
    /// The day the name takes effect.
    pub effective: crate::scalars::Date,
    /// The deciding document.
    pub document: Option<ID>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Record a succession: a unit ceased and its duties passed to others.
#[derive(InputObject)]
pub struct RecordSuccessionInput {
    /// The unit that ceased.
    pub unit: ID,
    /// The units that took over (registered first).
    pub successors: Vec<ID>,
    /// The day it took effect (1 July 2025 for the end of districts).
    pub effective: crate::scalars::Date,
    /// The deciding document (a resolution of the National Assembly or
    /// its Standing Committee).
    pub document: Option<ID>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

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

/// Define an indicator.
#[derive(InputObject)]
pub struct DefineIndicatorInput {
    /// Identity (generated when absent).
    pub id: Option<ID>,
    /// Org unit code.
    pub org_unit: ID,
    /// Period.
    pub period: String,
    /// Field.
    pub category: Category,
    /// Number in its document.
    pub code: Option<String>,
    /// Name as written.
    pub name: String,
    /// Unit as written.
    pub unit: Option<String>,
    /// Kind of value.
    pub measure: Measure,
    /// Parent indicator.
    pub parent: Option<ID>,
    /// Same indicator of the previous period.
    pub previous: Option<ID>,
    /// Defining document.
    pub document: Option<ID>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Set the first target of a track.
#[derive(InputObject)]
pub struct SetTargetInput {
    /// The indicator.
    pub indicator: ID,
    /// The track.
    pub track: TargetTrack,
    /// Kind and figures.
    pub target: TargetInput,
    /// The document that sets it.
    pub document: ID,
    /// The wording in the document.
    pub wording: Option<String>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Revise the target of a track.
#[derive(InputObject)]
pub struct ReviseTargetInput {
    /// The indicator.
    pub indicator: ID,
    /// The track.
    pub track: TargetTrack,
    /// The new kind and figures.
    pub target: TargetInput,
    /// The document that authorises the revision.
    pub document: ID,
    /// The wording in that document.
    pub wording: Option<String>,
    /// Why (required).
    pub reason: String,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Report a result.
#[derive(InputObject)]
pub struct ReportActualInput {
    /// The indicator.
    pub indicator: ID,
    /// Identity of the report (generated when absent).
    pub report_id: Option<ID>,
    /// The value.
    pub value: ValueInput,
    /// The date the figure refers to.
    pub refers_to: Date,
    /// Estimate or final.
    pub status: ResultStatus,
    /// The reporting document.
    pub source: Option<ID>,
    /// A note.
    pub note: Option<String>,
    /// The figure this one replaces: an estimate, or a final figure (then
    /// with a reason).
    pub supersedes: Option<ID>,
    /// Why: required to supersede a final figure, and for a final figure
    /// without a source document.
    pub reason: Option<String>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Correct a reported result.
#[derive(InputObject)]
pub struct CorrectActualInput {
    /// The indicator.
    pub indicator: ID,
    /// The report that was wrong.
    pub corrects: ID,
    /// Identity of the corrected report (generated when absent).
    pub report_id: Option<ID>,
    /// The corrected value.
    pub value: ValueInput,
    /// The date the figure refers to.
    pub refers_to: Date,
    /// Estimate or final.
    pub status: ResultStatus,
    /// The reporting document.
    pub source: Option<ID>,
    /// A note.
    pub note: Option<String>,
    /// Why (required).
    pub reason: String,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Retire an indicator.
#[derive(InputObject)]
pub struct RetireIndicatorInput {
    /// The indicator.
    pub indicator: ID,
    /// Why (required).
    pub reason: String,
    /// The deciding document.
    pub document: Option<ID>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Say which way is good for an indicator.
#[derive(InputObject)]
pub struct SetIndicatorDirectionInput {
    /// The indicator.
    pub indicator: ID,
    /// Which way is good from now on.
    pub better: crate::types::Better,
    /// Why (required): the document's intent, a ruling.
    pub reason: String,
    /// The document that says so.
    pub document: Option<ID>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// Link an indicator to its counterpart of the previous period.
#[derive(InputObject)]
pub struct LinkPreviousPeriodInput {
    /// The indicator.
    pub indicator: ID,
    /// The same indicator of the previous period (of the same unit, or of
    /// the unit it succeeded).
    pub previous: ID,
    /// Why: required to replace a link.
    pub reason: Option<String>,
    /// Concurrency and idempotency.
    #[graphql(flatten)]
    pub guard: WriteGuard,
}

/// The result of a write to an indicator.
#[derive(SimpleObject)]
pub struct IndicatorPayload {
    /// The indicator as it is after the write.
    pub indicator: Indicator,
    /// Log position of the write.
    pub position: u64,
    /// Whether this was a replay of an identical earlier request.
    pub replayed: bool,
}

/// The result of registering an org unit.
#[derive(SimpleObject)]
pub struct OrgUnitPayload {
    /// The org unit.
    pub org_unit: OrgUnit,
    /// Log position of the write.
    pub position: u64,
    /// Whether this was a replay.
    pub replayed: bool,
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

fn report(
    generated: Uuid,
    report_id: Option<&ID>,
    value: ValueInput,
    refers_to: Date,
    status: ResultStatus,
    source: Option<&ID>,
    note: Option<&str>,
) -> ApiResult<domain::ActualReport> {
    Ok(domain::ActualReport {
        report_id: domain::ReportId(
            report_id
                .map(|r| uuid("reportId", r))
                .transpose()?
                .unwrap_or(generated),
        ),
        value: value.into_value()?,
        refers_to: refers_to.0,
        status: status.into(),
        source: source.map(|s| document_id("source", s)).transpose()?,
        note: optional_text("note", note)?,
    })
}

/// The `document` field of an input, when given.
fn optional_document(id: Option<&ID>) -> ApiResult<Option<domain::DocumentId>> {
    id.map(|d| document_id("document", d)).transpose()
}

/// Runs a command on an org unit and reads the unit back.
async fn org_unit_write(
    ctx: &Context<'_>,
    principal: &crate::auth::Authenticated,
    command: Command,
    code: &domain::OrgUnitCode,
    guard: &WriteGuard,
) -> async_graphql::Result<OrgUnitPayload> {
    let app = ctx.data_unchecked::<App>();
    let written = app
        .service
        .execute(
            &Caller::Principal(principal.principal.clone()),
            command,
            guard.options(),
        )
        .await
        .map_err(ApiError::from)?;
    let unit = app
        .read
        .org_unit(code)
        .map_err(ApiError::from)?
        .ok_or_else(|| {
            ApiError::not_found(
                format!("org unit {code} not found"),
                format!("đơn vị {code} không tồn tại"),
            )
        })?;
    Ok(OrgUnitPayload {
        org_unit: OrgUnit(unit),
        position: written.position,
        replayed: written.replayed,
    })
}

async fn indicator_write(
    ctx: &Context<'_>,
    command: Command,
    guard: &WriteGuard,
) -> async_graphql::Result<IndicatorPayload> {
    let principal = writer(ctx)?;
    let app = ctx.data_unchecked::<App>();
    let id = match &command {
        Command::DefineIndicator(d) => d.id,
        Command::SetTarget { indicator, .. }
        | Command::ReviseTarget { indicator, .. }
        | Command::ReportActual { indicator, .. }
        | Command::CorrectActual { indicator, .. }
        | Command::RetireIndicator { indicator, .. }
        | Command::SetDirection { indicator, .. }
        | Command::LinkPreviousPeriod { indicator, .. } => *indicator,
        _ => return Err(ApiError::internal(&"not an indicator command").into()),
    };
    let written = app
        .service
        .execute(
            &Caller::Principal(principal.principal.clone()),
            command,
            guard.options(),
        )
        .await
        .map_err(ApiError::from)?;
    let view = app
        .read
        .indicator_shared(id)
        .map_err(ApiError::from)?
        .ok_or_else(|| {
            ApiError::not_found(
                format!("indicator {id} not found"),
                format!("chỉ tiêu {id} không tồn tại"),
            )
        })?;
    Ok(IndicatorPayload {
        indicator: Indicator(view),
        position: written.position,
        replayed: written.replayed,
    })
}

async fn period_write(
    ctx: &Context<'_>,
    command: Command,
    guard: &WriteGuard,
) -> async_graphql::Result<PeriodPayload> {
    let principal = writer(ctx)?;
    let app = ctx.data_unchecked::<App>();
    let (unit, period) = match &command {
        Command::SubmitPeriod { unit, period, .. }
        | Command::ApprovePeriod { unit, period, .. }
        | Command::LockPeriod { unit, period, .. }
        | Command::UnlockPeriod { unit, period, .. } => (unit.clone(), *period),
        _ => return Err(ApiError::internal(&"not a period command").into()),
    };
    let written = app
        .service
        .execute(
            &Caller::Principal(principal.principal.clone()),
            command,
            guard.options(),
        )
        .await
        .map_err(ApiError::from)?;
    let view = app.read.period(&unit, period).map_err(ApiError::from)?;
    Ok(PeriodPayload {
        period: ReportingPeriodState(view),
        position: written.position,
        replayed: written.replayed,
    })
}

/// Writes.
pub struct MutationRoot;

#[Object]
impl MutationRoot {
    /// Register an org unit (admin).
    async fn register_org_unit(
        &self,
        ctx: &Context<'_>,
        input: RegisterOrgUnitInput,
    ) -> async_graphql::Result<OrgUnitPayload> {
        let principal = writer(ctx)?;
        let code = parse_org_unit(&input.code)?;
        let command = Command::RegisterOrgUnit(domain::OrgUnit {
            code: code.clone(),
            name: text("name", &input.name)?,
            level: input.level.into(),
            parent: input.parent.as_ref().map(parse_org_unit).transpose()?,
        });
        org_unit_write(ctx, &principal, command, &code, &input.guard).await
    }

    /// Give an org unit a new name from a date (admin): its code, history
    /// and figures stay; `name(on:)` gives the name of an earlier day.
    async fn rename_org_unit(
        &self,
        ctx: &Context<'_>,
        input: RenameOrgUnitInput,
    ) -> async_graphql::Result<OrgUnitPayload> {
        let principal = writer(ctx)?;
        let code = parse_org_unit(&input.unit)?;
        let command = Command::RenameOrgUnit {
            unit: code.clone(),
            name: text("name", &input.name)?,
            effective: input.effective.0,
            document: optional_document(input.document.as_ref())?,
        };
        org_unit_write(ctx, &principal, command, &code, &input.guard).await
    }

    /// Record that an org unit ceased on a date and whose duties passed to
    /// whom, citing the deciding document (admin): a merger is one
    /// succession per merged unit naming the same successor, a split one
    /// succession naming several, the end of the district level one per
    /// district. The unit's history stays under its own name and is reached
    /// from its successors (`predecessors`, `lineage`).
    async fn record_succession(
        &self,
        ctx: &Context<'_>,
        input: RecordSuccessionInput,
    ) -> async_graphql::Result<OrgUnitPayload> {
        let principal = writer(ctx)?;
        let code = parse_org_unit(&input.unit)?;
        let command = Command::RecordSuccession {
            unit: code.clone(),
            successors: input
                .successors
                .iter()
                .map(parse_org_unit)
                .collect::<Result<_, _>>()?,
            effective: input.effective.0,
            document: optional_document(input.document.as_ref())?,
        };
        org_unit_write(ctx, &principal, command, &code, &input.guard).await
    }

    /// Import an indicator table (an office table, or a seed table of
    /// targets or results; TSV, CSV or XLSX, base64-encoded). Refused whole,
    /// with every problem in `extensions.problems` (`line`, `column`, `why`
    /// in English, `whyVi` in Vietnamese, `code`), if anything is wrong or
    /// not allowed; importing the same file again changes nothing.
    async fn import_table(
        &self,
        ctx: &Context<'_>,
        input: crate::import::ImportTableInput,
    ) -> async_graphql::Result<crate::import::ImportPayload> {
        crate::import::import_table(ctx, input).await
    }

    /// Register a document (planner).
    async fn register_document(
        &self,
        ctx: &Context<'_>,
        input: RegisterDocumentInput,
    ) -> async_graphql::Result<DocumentPayload> {
        let principal = writer(ctx)?;
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
        let app = ctx.data_unchecked::<App>();
        let written = app
            .service
            .execute(
                &Caller::Principal(principal.principal.clone()),
                command,
                input.guard.options(),
            )
            .await
            .map_err(ApiError::from)?;
        let document = app
            .read
            .document(id)
            .map_err(ApiError::from)?
            .ok_or_else(|| {
                ApiError::not_found(
                    format!("document {id} not found"),
                    format!("văn bản {id} không tồn tại"),
                )
            })?;
        Ok(DocumentPayload {
            document: Document(document),
            position: written.position,
            replayed: written.replayed,
        })
    }

    /// Define an indicator (planner).
    async fn define_indicator(
        &self,
        ctx: &Context<'_>,
        input: DefineIndicatorInput,
    ) -> async_graphql::Result<IndicatorPayload> {
        let id = domain::IndicatorId(
            input
                .id
                .as_ref()
                .map(|i| uuid("id", i))
                .transpose()?
                .unwrap_or_else(|| new_id(ctx, &input.guard, "indicator")),
        );
        let command = Command::DefineIndicator(domain::IndicatorDefinition {
            id,
            org_unit: parse_org_unit(&input.org_unit)?,
            period: parse_period(&input.period)?,
            category: input.category.into(),
            code: optional_text("code", input.code.as_deref())?,
            name: text("name", &input.name)?,
            unit: optional_text("unit", input.unit.as_deref())?,
            measure: input.measure.into(),
            parent: input.parent.as_ref().map(parse_indicator_id).transpose()?,
            previous: input
                .previous
                .as_ref()
                .map(parse_indicator_id)
                .transpose()?,
            document: optional_document(input.document.as_ref())?,
        });
        indicator_write(ctx, command, &input.guard).await
    }

    /// Set the first target of a track (planner).
    async fn set_target(
        &self,
        ctx: &Context<'_>,
        input: SetTargetInput,
    ) -> async_graphql::Result<IndicatorPayload> {
        let command = Command::SetTarget {
            indicator: parse_indicator_id(&input.indicator)?,
            track: input.track.into(),
            target: domain::Target {
                kind: input.target.into_kind()?,
                document: document_id("document", &input.document)?,
                wording: optional_text("wording", input.wording.as_deref())?,
            },
        };
        indicator_write(ctx, command, &input.guard).await
    }

    /// Revise a track's target, citing the authorising document and a reason (planner).
    async fn revise_target(
        &self,
        ctx: &Context<'_>,
        input: ReviseTargetInput,
    ) -> async_graphql::Result<IndicatorPayload> {
        let command = Command::ReviseTarget {
            indicator: parse_indicator_id(&input.indicator)?,
            track: input.track.into(),
            target: domain::Target {
                kind: input.target.into_kind()?,
                document: document_id("document", &input.document)?,
                wording: optional_text("wording", input.wording.as_deref())?,
            },
            reason: reason(&input.reason)?,
        };
        indicator_write(ctx, command, &input.guard).await
    }

    /// Report a result (reporter).
    async fn report_actual(
        &self,
        ctx: &Context<'_>,
        input: ReportActualInput,
    ) -> async_graphql::Result<IndicatorPayload> {
        let command = Command::ReportActual {
            indicator: parse_indicator_id(&input.indicator)?,
            report: report(
                new_id(ctx, &input.guard, "reportId"),
                input.report_id.as_ref(),
                input.value,
                input.refers_to,
                input.status,
                input.source.as_ref(),
                input.note.as_deref(),
            )?,
            supersedes: input
                .supersedes
                .as_ref()
                .map(|s| uuid("supersedes", s))
                .transpose()?
                .map(domain::ReportId),
            reason: optional_reason(input.reason.as_deref())?,
        };
        indicator_write(ctx, command, &input.guard).await
    }

    /// Correct a reported result, with a reason (reporter).
    async fn correct_actual(
        &self,
        ctx: &Context<'_>,
        input: CorrectActualInput,
    ) -> async_graphql::Result<IndicatorPayload> {
        let command = Command::CorrectActual {
            indicator: parse_indicator_id(&input.indicator)?,
            corrects: domain::ReportId(uuid("corrects", &input.corrects)?),
            report: report(
                new_id(ctx, &input.guard, "reportId"),
                input.report_id.as_ref(),
                input.value,
                input.refers_to,
                input.status,
                input.source.as_ref(),
                input.note.as_deref(),
            )?,
            reason: reason(&input.reason)?,
        };
        indicator_write(ctx, command, &input.guard).await
    }

    /// Retire an indicator, with a reason (planner).
    async fn retire_indicator(
        &self,
        ctx: &Context<'_>,
        input: RetireIndicatorInput,
    ) -> async_graphql::Result<IndicatorPayload> {
        let command = Command::RetireIndicator {
            indicator: parse_indicator_id(&input.indicator)?,
            reason: reason(&input.reason)?,
            document: optional_document(input.document.as_ref())?,
        };
        indicator_write(ctx, command, &input.guard).await
    }

    /// Say which way is good for an indicator (higher, lower, within),
    /// over what its target's kind and its name would say; with a reason
    /// (planner). Its achievement, status and "vượt" follow; `betterBecause`
    /// reads SET, and the history shows who set it, when and why.
    async fn set_indicator_direction(
        &self,
        ctx: &Context<'_>,
        input: SetIndicatorDirectionInput,
    ) -> async_graphql::Result<IndicatorPayload> {
        let command = Command::SetDirection {
            indicator: parse_indicator_id(&input.indicator)?,
            better: input.better.into(),
            reason: reason(&input.reason)?,
            document: optional_document(input.document.as_ref())?,
        };
        indicator_write(ctx, command, &input.guard).await
    }

    /// Link an indicator to its counterpart of the previous period, or
    /// change the link with a reason (planner): its "so cùng kỳ"
    /// (`changeOnPreviousPeriod`) and the base of its growth and reduction
    /// targets follow that indicator's figure.
    async fn link_previous_period(
        &self,
        ctx: &Context<'_>,
        input: LinkPreviousPeriodInput,
    ) -> async_graphql::Result<IndicatorPayload> {
        let command = Command::LinkPreviousPeriod {
            indicator: parse_indicator_id(&input.indicator)?,
            previous: parse_indicator_id(&input.previous)?,
            reason: input.reason.as_deref().map(reason).transpose()?.flatten(),
        };
        indicator_write(ctx, command, &input.guard).await
    }

    /// Submit a reporting period of an org unit for approval (planner).
    async fn submit_period(
        &self,
        ctx: &Context<'_>,
        input: SubmitPeriodInput,
    ) -> async_graphql::Result<PeriodPayload> {
        let unit = parse_org_unit(&input.org_unit)?;
        let period = parse_reporting_period(&input.period)?;
        let command = Command::SubmitPeriod {
            unit,
            period,
            note: optional_text("note", input.note.as_deref())?,
        };
        period_write(ctx, command, &input.guard).await
    }

    /// Approve a submitted period (approver): records the digest of its
    /// figures as they stand, and freezes them.
    async fn approve_period(
        &self,
        ctx: &Context<'_>,
        input: ApprovePeriodInput,
    ) -> async_graphql::Result<PeriodPayload> {
        let command = Command::ApprovePeriod {
            unit: parse_org_unit(&input.org_unit)?,
            period: parse_reporting_period(&input.period)?,
            approval: domain::ApprovalId(match &input.approval_id {
                Some(id) => uuid("approvalId", id)?,
                None => new_id(ctx, &input.guard, "approvalId"),
            }),
            document: document_id("document", &input.document)?,
            expected_digest: input.expected_digest.clone(),
        };
        period_write(ctx, command, &input.guard).await
    }

    /// Lock an approved period (approver).
    async fn lock_period(
        &self,
        ctx: &Context<'_>,
        input: LockPeriodInput,
    ) -> async_graphql::Result<PeriodPayload> {
        let command = Command::LockPeriod {
            unit: parse_org_unit(&input.org_unit)?,
            period: parse_reporting_period(&input.period)?,
            document: optional_document(input.document.as_ref())?,
        };
        period_write(ctx, command, &input.guard).await
    }

    /// Open an approved or locked period again, with a reason and a
    /// document (approver).
    async fn unlock_period(
        &self,
        ctx: &Context<'_>,
        input: UnlockPeriodInput,
    ) -> async_graphql::Result<PeriodPayload> {
        let command = Command::UnlockPeriod {
            unit: parse_org_unit(&input.org_unit)?,
            period: parse_reporting_period(&input.period)?,
            reason: reason(&input.reason)?,
            document: Some(document_id("document", &input.document)?),
        };
        period_write(ctx, command, &input.guard).await
    }

    /// Create a principal, optionally with a first grant (admin).
    async fn create_principal(
        &self,
        ctx: &Context<'_>,
        input: CreatePrincipalInput,
    ) -> async_graphql::Result<PrincipalPayload> {
        let caller = writer(ctx)?;
        let id = principal_id(&input.id)?;
        let mut last = principal_command(
            ctx,
            &caller,
            Command::CreatePrincipal {
                principal: id.clone(),
                name: text("name", &input.name)?,
            },
        )
        .await?;
        if let Some(role) = input.role {
            let grant = domain::Grant {
                role: role.into(),
                scope: input.org_unit.as_ref().map(parse_org_unit).transpose()?,
            };
            last = principal_command(
                ctx,
                &caller,
                Command::GrantRole {
                    principal: id.clone(),
                    grant,
                },
            )
            .await?;
        }
        principal_payload(ctx, &id, last)
    }

    /// Grant a role over an org unit's subtree (none: everywhere) (admin over that subtree).
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        input: GrantInput,
    ) -> async_graphql::Result<PrincipalPayload> {
        change_grant(ctx, input, true).await
    }

    /// Take a grant back (admin over that subtree).
    async fn revoke_grant(
        &self,
        ctx: &Context<'_>,
        input: GrantInput,
    ) -> async_graphql::Result<PrincipalPayload> {
        change_grant(ctx, input, false).await
    }

    /// Issue a bearer token to a principal; the token is shown here only (admin).
    async fn issue_token(
        &self,
        ctx: &Context<'_>,
        principal: ID,
        expires_in_days: Option<u32>,
    ) -> async_graphql::Result<TokenPayload> {
        let caller = writer(ctx)?;
        let id = principal_id(&principal)?;
        let expires_at = expires_in_days
            .map(|d| domain::principal::token_expiry(chrono::Utc::now(), d))
            .transpose()
            .map_err(|e| ApiError::invalid(&e))?;
        let app = ctx.data_unchecked::<App>();
        let (token_id, token) = app
            .service
            .issue_token(&Caller::Principal(caller.principal.clone()), id, expires_at)
            .await
            .map_err(ApiError::from)?;
        Ok(TokenPayload {
            token_id: ID(token_id.0.to_string()),
            token,
            expires_at,
        })
    }

    /// Revoke a token; it stops working at once, on open subscriptions too (admin).
    async fn revoke_token(
        &self,
        ctx: &Context<'_>,
        principal: ID,
        token_id: ID,
    ) -> async_graphql::Result<PrincipalPayload> {
        let caller = writer(ctx)?;
        let id = principal_id(&principal)?;
        let token = domain::TokenId(uuid("tokenId", &token_id)?);
        let position = principal_command(
            ctx,
            &caller,
            Command::RevokeToken {
                principal: id.clone(),
                token,
            },
        )
        .await?;
        principal_payload(ctx, &id, position)
    }

    /// Disable a principal: none of its tokens works any more (admin).
    async fn disable_principal(
        &self,
        ctx: &Context<'_>,
        principal: ID,
        reason: String,
    ) -> async_graphql::Result<PrincipalPayload> {
        let caller = writer(ctx)?;
        let id = principal_id(&principal)?;
        let position = principal_command(
            ctx,
            &caller,
            Command::DisablePrincipal {
                principal: id.clone(),
                reason: self::reason(&reason)?,
            },
        )
        .await?;
        principal_payload(ctx, &id, position)
    }
}

async fn change_grant(
    ctx: &Context<'_>,
    input: GrantInput,
    grant_it: bool,
) -> async_graphql::Result<PrincipalPayload> {
    let caller = writer(ctx)?;
    let principal = principal_id(&input.principal)?;
    let grant = domain::Grant {
        role: input.role.into(),
        scope: input.org_unit.as_ref().map(parse_org_unit).transpose()?,
    };
    let command = if grant_it {
        Command::GrantRole {
            principal: principal.clone(),
            grant,
        }
    } else {
        Command::RevokeGrant {
            principal: principal.clone(),
            grant,
        }
    };
    let position = principal_command(ctx, &caller, command).await?;
    principal_payload(ctx, &principal, position)
}

fn principal_id(id: &ID) -> ApiResult<domain::PrincipalId> {
    domain::PrincipalId::parse(id.as_str()).map_err(|e| ApiError::invalid(&e))
}

async fn principal_command(
    ctx: &Context<'_>,
    caller: &crate::auth::Authenticated,
    command: Command,
) -> ApiResult<u64> {
    let app = ctx.data_unchecked::<App>();
    let written = app
        .service
        .execute(
            &Caller::Principal(caller.principal.clone()),
            command,
            WriteOptions::default(),
        )
        .await?;
    Ok(written.position)
}

fn principal_payload(
    ctx: &Context<'_>,
    id: &domain::PrincipalId,
    position: u64,
) -> async_graphql::Result<PrincipalPayload> {
    let app = ctx.data_unchecked::<App>();
    let principal = app
        .service
        .with_state(|s| s.principals.get(id).map(|p| Principal::from_state(id, p)))
        .map_err(ApiError::from)?
        .ok_or_else(|| {
            ApiError::not_found(
                format!("principal {id} not found"),
                format!("người dùng {id} không tồn tại"),
            )
        })?;
    Ok(PrincipalPayload {
        principal,
        position,
    })
}

/// Create a principal.
#[derive(InputObject)]
pub struct CreatePrincipalInput {
    /// Its id (`a-z`, `0-9`, `.`, `_`, `-`).
    pub id: ID,
    /// Display name.
    pub name: String,
    /// A first grant's role.
    pub role: Option<Role>,
    /// The first grant's subtree (none: everywhere).
    pub org_unit: Option<ID>,
}

/// A grant to give or take back.
#[derive(InputObject)]
pub struct GrantInput {
    /// The principal.
    pub principal: ID,
    /// The role.
    pub role: Role,
    /// The subtree (none: everywhere).
    pub org_unit: Option<ID>,
}

/// The result of a change to a principal.
#[derive(SimpleObject)]
pub struct PrincipalPayload {
    /// The principal after the change.
    pub principal: Principal,
    /// Log position of the change.
    pub position: u64,
}

/// A token, shown once.
#[derive(SimpleObject)]
pub struct TokenPayload {
    /// Its id (for revocation).
    pub token_id: ID,
    /// The token: send it as `Authorization: Bearer <token>`. It is not stored and cannot be shown again.
    pub token: String,
    /// When it stops working.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}
