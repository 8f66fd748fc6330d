//! Mutations of indicators: definition, targets, results, retirement,
//! direction, links between periods.

use super::*;
use crate::query::{parse_indicator_id, parse_org_unit, parse_period};
use crate::scalars::{Date, Decimal};
use crate::types::*;
use async_graphql::{Object, SimpleObject};

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

/// Record another statement of a track's target, not in force.
#[derive(InputObject)]
pub struct RestateTargetInput {
    /// The indicator.
    pub indicator: ID,
    /// The track.
    pub track: TargetTrack,
    /// The kind and figures the other statement gives.
    pub target: TargetInput,
    /// The document that words it so.
    pub document: ID,
    /// The wording there (required).
    pub wording: String,
    /// Why it is recorded.
    pub reason: Option<String>,
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
    /// What the document writes beside the figure ("đạt 102,74% kế hoạch",
    /// "tăng 16,02% so cùng kỳ"), kept so the findings can check it.
    pub stated: Option<StatedFiguresInput>,
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

/// Figures a document writes beside a result.
#[derive(InputObject)]
pub struct StatedFiguresInput {
    /// "đạt X% kế hoạch / so nghị quyết / chỉ tiêu / dự toán".
    pub percent_of_plan: Option<Decimal>,
    /// "tăng/giảm X% (so) cùng kỳ", signed.
    pub change_on_previous_pct: Option<Decimal>,
}

impl StatedFiguresInput {
    fn into_domain(self) -> Option<domain::StatedFigures> {
        // Both empty is refused by the rules, as a clear VALIDATION error.
        Some(domain::StatedFigures {
            percent_of_plan: self.percent_of_plan.map(|d| d.0),
            change_on_previous_pct: self.change_on_previous_pct.map(|d| d.0),
        })
    }
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
    /// What the document writes beside the figure.
    pub stated: Option<StatedFiguresInput>,
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

/// Record an indicator as a part of another, or as no longer a part.
#[derive(InputObject)]
pub struct SetIndicatorParentInput {
    /// The indicator.
    pub indicator: ID,
    /// The total it is a part of (same period; same unit or one above);
    /// absent: no longer a part.
    pub parent: Option<ID>,
    /// Why: required to replace or remove a parent.
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
        stated: None,
    })
}

/// Runs a command on an indicator and reads the indicator back.
async fn indicator_write(
    ctx: &Context<'_>,
    command: Command,
    guard: &WriteGuard,
) -> async_graphql::Result<IndicatorPayload> {
    let id = match &command {
        Command::DefineIndicator(d) => d.id,
        Command::SetTarget { indicator, .. }
        | Command::ReviseTarget { indicator, .. }
        | Command::ReportActual { indicator, .. }
        | Command::CorrectActual { indicator, .. }
        | Command::RetireIndicator { indicator, .. }
        | Command::SetDirection { indicator, .. }
        | Command::LinkPreviousPeriod { indicator, .. }
        | Command::SetIndicatorParent { indicator, .. }
        | Command::RestateTarget { indicator, .. } => *indicator,
        _ => return Err(ApiError::internal(&"not an indicator command").into()),
    };
    let subject = Subject {
        en: "indicator",
        vi: "chỉ tiêu",
        id: id.to_string(),
    };
    let (view, written) = write(ctx, command, guard.options(), subject, |app| {
        Ok(app.read.indicator_shared(id)?)
    })
    .await?;
    Ok(IndicatorPayload {
        indicator: Indicator(view),
        position: written.position,
        replayed: written.replayed,
    })
}

/// Writes to indicators.
#[derive(Default)]
pub struct IndicatorMutations;

#[Object]
impl IndicatorMutations {
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

    /// Record another statement of a track's target that is not in force:
    /// the document words it differently elsewhere ("đạt 85%" in the list,
    /// "đạt trên 85%" in the body). The target in force stays; the findings
    /// show the two (planner).
    async fn restate_target(
        &self,
        ctx: &Context<'_>,
        input: RestateTargetInput,
    ) -> async_graphql::Result<IndicatorPayload> {
        let command = Command::RestateTarget {
            indicator: parse_indicator_id(&input.indicator)?,
            track: input.track.into(),
            statement: domain::Target {
                kind: input.target.into_kind()?,
                document: document_id("document", &input.document)?,
                wording: optional_text("wording", Some(&input.wording))?,
            },
            reason: optional_reason(input.reason.as_deref())?,
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
            report: domain::ActualReport {
                stated: input.stated.and_then(StatedFiguresInput::into_domain),
                ..report(
                    new_id(ctx, &input.guard, "reportId"),
                    input.report_id.as_ref(),
                    input.value,
                    input.refers_to,
                    input.status,
                    input.source.as_ref(),
                    input.note.as_deref(),
                )?
            },
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
            report: domain::ActualReport {
                stated: input.stated.and_then(StatedFiguresInput::into_domain),
                ..report(
                    new_id(ctx, &input.guard, "reportId"),
                    input.report_id.as_ref(),
                    input.value,
                    input.refers_to,
                    input.status,
                    input.source.as_ref(),
                    input.note.as_deref(),
                )?
            },
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

    /// Record an indicator as a part of a total, whose figures its parts
    /// add up to (the findings check that they do), or as no longer a
    /// part (planner).
    async fn set_indicator_parent(
        &self,
        ctx: &Context<'_>,
        input: SetIndicatorParentInput,
    ) -> async_graphql::Result<IndicatorPayload> {
        let command = Command::SetIndicatorParent {
            indicator: parse_indicator_id(&input.indicator)?,
            parent: input.parent.as_ref().map(parse_indicator_id).transpose()?,
            reason: input.reason.as_deref().map(reason).transpose()?.flatten(),
        };
        indicator_write(ctx, command, &input.guard).await
    }
}
