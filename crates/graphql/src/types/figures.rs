//! Targets and results as clients see them: their figures, their standing (in force, superseded), achievement.

use super::*;

/// A target as clients see it; its plain fields are written without a
/// future each ([`crate::fast`]).
pub struct Target(TargetParts);

crate::fast_output_type!(Target, TargetParts);

/// A target on one track, as it stands: where it stands (track,
/// revisions, who changed it last) and what it says.
#[derive(MergedObject)]
#[graphql(name = "Target")]
pub struct TargetParts(pub(crate) TargetStanding, pub(crate) TargetFigures);

impl Target {
    /// The target of `track` as the view holds it.
    pub(crate) fn new(track: domain::TargetTrack, view: &TrackView) -> Self {
        Target(TargetParts(
            TargetStanding {
                track,
                view: view.clone(),
            },
            TargetFigures(view.current.clone()),
        ))
    }
}

impl crate::fast::Plain for TargetParts {
    const NAME: &'static str = "Target";

    fn plain(
        &self,
        _: &async_graphql::ContextSelectionSet<'_>,
        field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    ) -> Option<async_graphql::Value> {
        use async_graphql::resolver_utils::enum_value;
        use async_graphql::{ScalarType, Value};
        let (standing, figures) = (&self.0, &self.1);
        Some(match field.node.name.node.as_str() {
            "track" => enum_value(TargetTrack::from(standing.track)),
            "revisions" => standing.view.revisions.to_value(),
            "position" => standing.view.changed.position.to_value(),
            "changedAt" => standing.view.changed.recorded_at.to_value(),
            "changedBy" => Value::String(standing.view.changed.actor.clone()),
            "kind" => enum_value(figures.kind_name()),
            "value" => figures.figure().map_or(Value::Null, |v| v.to_value()),
            _ => return None,
        })
    }
}

/// A target's standing on its track.
pub struct TargetStanding {
    pub(crate) track: domain::TargetTrack,
    pub(crate) view: TrackView,
}

#[Object]
impl TargetStanding {
    /// The track.
    async fn track(&self) -> TargetTrack {
        self.track.into()
    }
    /// How many times it was revised.
    async fn revisions(&self) -> u32 {
        self.view.revisions
    }
    /// Ids of the documents that set and revised it, in order.
    async fn documents(&self) -> Vec<ID> {
        self.view
            .documents
            .iter()
            .map(|d| ID(d.to_string()))
            .collect()
    }
    /// The reason of the last revision.
    async fn last_reason(&self) -> Option<String> {
        self.view.last_reason.as_ref().map(|r| r.to_string())
    }
    /// When it was last set or revised.
    async fn changed_at(&self) -> DateTime<Utc> {
        self.view.changed.recorded_at
    }
    /// Who last set or revised it.
    async fn changed_by(&self) -> String {
        self.view.changed.actor.clone()
    }
    /// The log position of the event that last set or revised it.
    async fn position(&self) -> u64 {
        self.view.changed.position
    }
    /// Proof that the event that set it as it stands is in the log, at
    /// the signed head of size `size` (the current head if omitted).
    #[graphql(complexity = 20)]
    async fn proof(
        &self,
        ctx: &Context<'_>,
        size: Option<u64>,
    ) -> async_graphql::Result<crate::evidence::InclusionProof> {
        crate::evidence::figure_proof(ctx, self.view.changed.position, size).await
    }
}

/// What a target says: its kind, figures, wording and document (as set
/// or revised; in a history, the value before or after a change).
pub struct TargetFigures(pub(crate) domain::Target);

impl TargetFigures {
    fn kind_name(&self) -> TargetKindName {
        match &self.0.kind {
            TargetKind::AtLeast { .. } => TargetKindName::AtLeast,
            TargetKind::AtMost { .. } => TargetKindName::AtMost,
            TargetKind::Plain { .. } => TargetKindName::Plain,
            TargetKind::Range { .. } => TargetKindName::Range,
            TargetKind::Growth { .. } => TargetKindName::Growth,
            TargetKind::ReduceBy { .. } => TargetKindName::ReduceBy,
            TargetKind::RelativeToPeriod { .. } => TargetKindName::RelativeToPeriod,
            TargetKind::Milestone { .. } => TargetKindName::Milestone,
            TargetKind::Maintain { .. } => TargetKindName::Maintain,
        }
    }

    fn figure(&self) -> Option<Decimal> {
        match &self.0.kind {
            TargetKind::AtLeast { value, .. }
            | TargetKind::AtMost { value, .. }
            | TargetKind::Plain { value, .. } => Some((*value).into()),
            TargetKind::Growth { value, .. } => value.map(Decimal),
            TargetKind::ReduceBy { amount, .. } => Some((*amount).into()),
            TargetKind::Maintain { level } => level.map(Decimal),
            _ => None,
        }
    }
}

#[Object]
impl TargetFigures {
    /// The kind.
    async fn kind(&self) -> TargetKindName {
        self.kind_name()
    }
    /// The figure (at least, at most, plain; growth's target figure; maintain's level; reduce-by's amount).
    async fn value(&self) -> Option<Decimal> {
        self.figure()
    }
    /// Whether the bound itself falls short ("trên", "dưới").
    async fn strict(&self) -> Option<bool> {
        match &self.0.kind {
            TargetKind::AtLeast { strict, .. } | TargetKind::AtMost { strict, .. } => Some(*strict),
            _ => None,
        }
    }
    /// Range bounds.
    async fn low(&self) -> Option<Decimal> {
        match &self.0.kind {
            TargetKind::Range { low, .. } => Some((*low).into()),
            _ => None,
        }
    }
    /// Range bounds.
    async fn high(&self) -> Option<Decimal> {
        match &self.0.kind {
            TargetKind::Range { high, .. } => Some((*high).into()),
            _ => None,
        }
    }
    /// Growth rate in percent.
    async fn rate(&self) -> Option<Decimal> {
        match &self.0.kind {
            TargetKind::Growth { rate, .. } => Some((*rate).into()),
            _ => None,
        }
    }
    /// The base figure of a growth, a reduction or a plain figure (the previous period's level it is set against).
    async fn base(&self) -> Option<Decimal> {
        match &self.0.kind {
            TargetKind::Growth { base, .. }
            | TargetKind::ReduceBy { base, .. }
            | TargetKind::Plain { base, .. } => base.map(Decimal),
            _ => None,
        }
    }
    /// How a reduction is measured.
    async fn reduction(&self) -> Option<Reduction> {
        match &self.0.kind {
            TargetKind::ReduceBy { measure, .. } => Some((*measure).into()),
            _ => None,
        }
    }
    /// The period compared with.
    async fn compared_period(&self) -> Option<String> {
        match &self.0.kind {
            TargetKind::RelativeToPeriod { period, .. } => Some(period.to_string()),
            _ => None,
        }
    }
    /// The direction of the comparison.
    async fn direction(&self) -> Option<Direction> {
        match &self.0.kind {
            TargetKind::RelativeToPeriod { direction, .. } => Some((*direction).into()),
            _ => None,
        }
    }
    /// A milestone's deadline.
    async fn deadline(&self) -> Option<Date> {
        match &self.0.kind {
            TargetKind::Milestone { deadline } => deadline.map(Date),
            _ => None,
        }
    }
    /// The document that set the target in force.
    async fn document(&self, ctx: &Context<'_>) -> ApiResult<Option<Document>> {
        Ok(ctx
            .data_unchecked::<App>()
            .read
            .document(self.0.document)?
            .map(Document))
    }
    /// The target's wording in its document.
    async fn wording(&self) -> Option<String> {
        self.0.wording.as_ref().map(|w| w.to_string())
    }
}

/// A reported result as clients see it; its plain fields are written
/// without a future each ([`crate::fast`]).
pub struct Actual(ActualParts);

crate::fast_output_type!(Actual, ActualParts);

/// A reported result: what was reported, and where it stands.
#[derive(MergedObject)]
#[graphql(name = "Actual")]
pub struct ActualParts(pub(crate) ReportFigures, pub(crate) ReportStanding);

impl Actual {
    /// A report of an indicator of `measure`.
    pub(crate) fn new(report: ReportView, measure: domain::Measure) -> Self {
        Actual(ActualParts(
            ReportFigures(report.report.clone(), measure),
            ReportStanding(report),
        ))
    }
}

impl crate::fast::Plain for ActualParts {
    const NAME: &'static str = "Actual";

    fn plain(
        &self,
        _: &async_graphql::ContextSelectionSet<'_>,
        field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    ) -> Option<async_graphql::Value> {
        use async_graphql::resolver_utils::enum_value;
        use async_graphql::{ScalarType, Value};
        let (figures, standing) = (&self.0, &self.1);
        Some(match field.node.name.node.as_str() {
            "figure" => figures
                .figure_in_unit()
                .map_or(Value::Null, |v| v.to_value()),
            "status" => enum_value(ResultStatus::from(figures.0.status)),
            "refersTo" => Date(figures.0.refers_to).to_value(),
            "reportedAt" => standing.0.reported.recorded_at.to_value(),
            "reportedBy" => Value::String(standing.0.reported.actor.clone()),
            "position" => standing.0.reported.position.to_value(),
            _ => return None,
        })
    }
}

impl ReportFigures {
    /// The figure in the indicator's unit (a ratio's share in percent).
    fn figure_in_unit(&self) -> Option<Decimal> {
        match &self.0.value {
            // As written, scale included.
            domain::ResultValue::Amount { value } => Some(Decimal(*value)),
            other => other
                .figure(self.1)
                .map(|d| Decimal::computed(d.round_dp(6))),
        }
    }
}

/// What a report says: the figure, its date, status, source and note (in
/// a history, the value before or after a change).
pub struct ReportFigures(pub(crate) domain::ActualReport, pub(crate) domain::Measure);

#[Object]
impl ReportFigures {
    /// Identity of the report.
    async fn report_id(&self) -> ID {
        ID(self.0.report_id.to_string())
    }
    /// The figure in the indicator's unit (a ratio's share in percent).
    async fn figure(&self) -> Option<Decimal> {
        self.figure_in_unit()
    }
    /// The amount, when reported as one.
    async fn value(&self) -> Option<Decimal> {
        match &self.0.value {
            domain::ResultValue::Amount { value } => Some((*value).into()),
            _ => None,
        }
    }
    /// Numerator of a ratio ("22" of "22/45").
    async fn numerator(&self) -> Option<Decimal> {
        match &self.0.value {
            domain::ResultValue::Ratio { numerator, .. } => Some((*numerator).into()),
            _ => None,
        }
    }
    /// Denominator of a ratio.
    async fn denominator(&self) -> Option<Decimal> {
        match &self.0.value {
            domain::ResultValue::Ratio { denominator, .. } => Some((*denominator).into()),
            _ => None,
        }
    }
    /// Whether a milestone is done.
    async fn done(&self) -> Option<bool> {
        match &self.0.value {
            domain::ResultValue::Milestone { done } => Some(*done),
            _ => None,
        }
    }
    /// The date the figure refers to.
    async fn refers_to(&self) -> Date {
        Date(self.0.refers_to)
    }
    /// Estimate or final.
    async fn status(&self) -> ResultStatus {
        self.0.status.into()
    }
    /// The reporting document's id.
    async fn source(&self) -> Option<ID> {
        self.0.source.map(|d| ID(d.to_string()))
    }
    /// The note.
    async fn note(&self) -> Option<String> {
        self.0.note.as_ref().map(|n| n.to_string())
    }
    /// What the document writes beside the figure, as written.
    async fn stated(&self) -> Option<StatedFigures> {
        self.0.stated.as_ref().map(|s| StatedFigures {
            percent_of_plan: s.percent_of_plan.map(Decimal),
            change_on_previous_pct: s.change_on_previous_pct.map(Decimal),
        })
    }
}

/// A report's standing: what it superseded or corrected, when, by whom.
pub struct ReportStanding(pub(crate) ReportView);

#[Object]
impl ReportStanding {
    /// The estimate it superseded.
    async fn supersedes(&self) -> Option<ID> {
        self.0.supersedes.map(|r| ID(r.to_string()))
    }
    /// The report it corrected.
    async fn corrects(&self) -> Option<ID> {
        self.0.corrects.map(|r| ID(r.to_string()))
    }
    /// Why it corrected.
    async fn correction_reason(&self) -> Option<String> {
        self.0.correction_reason.as_ref().map(|r| r.to_string())
    }
    /// When it was recorded.
    async fn reported_at(&self) -> DateTime<Utc> {
        self.0.reported.recorded_at
    }
    /// Who recorded it.
    async fn reported_by(&self) -> String {
        self.0.reported.actor.clone()
    }
    /// The log position of the event that recorded it.
    async fn position(&self) -> u64 {
        self.0.reported.position
    }
    /// Proof that the event that recorded it is in the log, at the signed
    /// head of size `size` (the current head if omitted).
    #[graphql(complexity = 20)]
    async fn proof(
        &self,
        ctx: &Context<'_>,
        size: Option<u64>,
    ) -> async_graphql::Result<crate::evidence::InclusionProof> {
        crate::evidence::figure_proof(ctx, self.0.reported.position, size).await
    }
}

/// How a result stands against one target.
#[derive(Debug, Clone, SimpleObject)]
pub struct Achievement {
    /// The track judged.
    pub track: TargetTrack,
    /// Status.
    pub status: AchievementStatus,
    /// actual / target × 100, rounded to 2 decimals.
    pub percent_of_target: Option<Decimal>,
    /// How far above (+) or below (−) the target.
    pub over_target: Option<Decimal>,
    /// Whether `overTarget` is in points (rates) rather than percent.
    pub over_target_in_points: bool,
    /// Growth achieved, or reduction achieved.
    pub change_from_base: Option<Decimal>,
}
