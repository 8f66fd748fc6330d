//! An indicator: its definition, tracks, figures, judgement and history.

use super::*;

/// An indicator (chỉ tiêu) as clients see it; its plain fields are
/// written without a future each ([`crate::fast`]).
pub struct Indicator(pub std::sync::Arc<IndicatorView>);

/// The fields of [`Indicator`], as async-graphql resolves them.
pub struct IndicatorFields(pub std::sync::Arc<IndicatorView>);

impl async_graphql::OutputType for Indicator {
    fn type_name() -> std::borrow::Cow<'static, str> {
        <IndicatorFields as async_graphql::OutputType>::type_name()
    }

    fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
        <IndicatorFields as async_graphql::OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &async_graphql::ContextSelectionSet<'_>,
        _field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    ) -> async_graphql::ServerResult<async_graphql::Value> {
        crate::fast::resolve(&IndicatorFields(self.0.clone()), ctx).await
    }
}

impl crate::fast::Plain for IndicatorFields {
    const NAME: &'static str = "Indicator";

    fn plain(
        &self,
        _: &async_graphql::ContextSelectionSet<'_>,
        field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    ) -> Option<async_graphql::Value> {
        use async_graphql::{ScalarType, Value};
        let view = &self.0;
        Some(match field.node.name.node.as_str() {
            "id" => Value::String(view.definition.id.to_string()),
            "orgUnitCode" => Value::String(view.definition.org_unit.to_string()),
            "period" => Value::String(view.definition.period.to_string()),
            "name" => Value::String(view.definition.name.to_string()),
            "code" => view
                .definition
                .code
                .as_ref()
                .map_or(Value::Null, |c| Value::String(c.to_string())),
            "unit" => view
                .definition
                .unit
                .as_ref()
                .map_or(Value::Null, |u| Value::String(u.to_string())),
            "version" => view.version.to_value(),
            "updatedAt" => view.updated.recorded_at.to_value(),
            _ => return None,
        })
    }
}

/// An indicator (chỉ tiêu).
#[Object(name = "Indicator")]
impl IndicatorFields {
    /// Identity.
    async fn id(&self) -> ID {
        ID(self.0.definition.id.to_string())
    }
    /// Its org unit.
    async fn org_unit(&self, ctx: &Context<'_>) -> ApiResult<Option<OrgUnit>> {
        Ok(ctx
            .data_unchecked::<App>()
            .read
            .org_unit(&self.0.definition.org_unit)?
            .map(OrgUnit))
    }
    /// Code of its org unit.
    async fn org_unit_code(&self) -> String {
        self.0.definition.org_unit.to_string()
    }
    /// Its period: `2024`, `2020-2025`, `2022-2023`, `by 2025`.
    async fn period(&self) -> String {
        self.0.definition.period.to_string()
    }
    /// Its field.
    async fn category(&self) -> Category {
        self.0.definition.category.into()
    }
    /// Number in its document.
    async fn code(&self) -> Option<String> {
        self.0.definition.code.as_ref().map(|c| c.to_string())
    }
    /// Name as written.
    async fn name(&self) -> String {
        self.0.definition.name.to_string()
    }
    /// Unit as written.
    async fn unit(&self) -> Option<String> {
        self.0.definition.unit.as_ref().map(|u| u.to_string())
    }
    /// Kind of value.
    async fn measure(&self) -> Measure {
        self.0.definition.measure.into()
    }
    /// The indicator it is a sub-item of.
    async fn parent_id(&self) -> Option<ID> {
        self.0.definition.parent.map(|p| ID(p.to_string()))
    }
    /// The same indicator of the previous period.
    async fn previous_id(&self) -> Option<ID> {
        self.0.definition.previous.map(|p| ID(p.to_string()))
    }
    /// The defining document.
    async fn document(&self, ctx: &Context<'_>) -> ApiResult<Option<Document>> {
        match self.0.definition.document {
            Some(d) => Ok(ctx.data_unchecked::<App>().read.document(d)?.map(Document)),
            None => Ok(None),
        }
    }
    /// Stream version: pass it as `expectedVersion` to guard a write.
    async fn version(&self) -> u64 {
        self.0.version
    }
    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated.recorded_at
    }
    /// Why it was retired, if it was.
    async fn retired_reason(&self) -> Option<String> {
        self.0.retired.as_ref().map(|r| r.reason.to_string())
    }
    /// Which way is good for it: decided by the kind of its primary
    /// target, else by its name (`betterBecause` says which); achievement
    /// and status follow it (an exact "11‰" of malnutrition is a ceiling).
    async fn better(&self) -> Better {
        self.0.direction().0.into()
    }
    /// How `better` was decided.
    async fn better_because(&self) -> BetterBecause {
        self.0.direction().1.into()
    }
    /// Every target track set.
    async fn targets(&self) -> Vec<Target> {
        self.0
            .targets
            .iter()
            .map(|(track, view)| Target::new(*track, view))
            .collect()
    }
    /// The figure that counts: the latest final one, else the latest estimate.
    async fn latest_actual(&self) -> Option<Actual> {
        self.0
            .current_report()
            .map(|r| Actual::new(r.clone(), self.0.definition.measure))
    }
    /// The latest final figure.
    async fn latest_final(&self) -> Option<Actual> {
        self.0
            .latest_final()
            .cloned()
            .map(|r| Actual::new(r, self.0.definition.measure))
    }
    /// The latest standing estimate.
    async fn latest_estimate(&self) -> Option<Actual> {
        self.0
            .latest_estimate()
            .cloned()
            .map(|r| Actual::new(r, self.0.definition.measure))
    }
    /// Valid time: the figure that counted for dates up to `date`.
    async fn actual_valid_at(&self, ctx: &Context<'_>, date: Date) -> ApiResult<Option<Actual>> {
        let read = &ctx.data_unchecked::<App>().read;
        let report =
            read.report_valid_at(self.0.definition.id, date.0, Some(self.0.updated.position))?;
        Ok(report.map(|r| Actual::new(r, self.0.definition.measure)))
    }
    /// Achievement against a track (the primary one, resolution > assigned
    /// > stretch, when none is named), judged today.
    async fn achievement(
        &self,
        ctx: &Context<'_>,
        track: Option<TargetTrack>,
    ) -> Option<Achievement> {
        let track: domain::TargetTrack = match track {
            Some(t) => t.into(),
            None => self.0.primary_track()?,
        };
        let today = (ctx.data_unchecked::<App>().today)();
        let a = self.0.achievement(track, today)?;
        Some(Achievement {
            track: track.into(),
            status: a.status.into(),
            percent_of_target: a.percent_of_target.map(Decimal::computed),
            over_target: a.over_target.map(Decimal::computed),
            over_target_in_points: a.over_target_in_points,
            change_from_base: a.change_from_base.map(Decimal::computed),
        })
    }
    /// Change of the current figure against the previous period's
    /// ("so cùng kỳ"): percent for amounts, points for rates.
    async fn change_on_previous_period(&self) -> Option<Decimal> {
        self.0.change_on_previous().map(Decimal::computed)
    }
    /// The full history, one entry per event, oldest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<HistoryConnection> {
        crate::auth::require(ctx, crate::auth::Permission::ReadAudit)?;
        history_connection(ctx, self.0.definition.id, first, after)
    }
}

/// An indicator as its definition set it.
#[derive(SimpleObject)]
pub struct IndicatorDefinition {
    /// Its id.
    pub id: ID,
    /// The org unit's code.
    pub org_unit_code: String,
    /// Period.
    pub period: String,
    /// Its field.
    pub category: Category,
    /// Number in its document.
    pub code: Option<String>,
    /// Name as written.
    pub name: String,
    /// Unit.
    pub unit: Option<String>,
    /// Kind of value.
    pub measure: Measure,
    /// The indicator it is a sub-item of.
    pub parent_id: Option<ID>,
    /// The same indicator of the previous period.
    pub previous_id: Option<ID>,
    /// The defining document's id.
    pub document_id: Option<ID>,
}

impl From<domain::IndicatorDefinition> for IndicatorDefinition {
    fn from(d: domain::IndicatorDefinition) -> Self {
        IndicatorDefinition {
            id: ID(d.id.to_string()),
            org_unit_code: d.org_unit.to_string(),
            period: d.period.to_string(),
            category: d.category.into(),
            code: d.code.map(|c| c.to_string()),
            name: d.name.to_string(),
            unit: d.unit.map(|u| u.to_string()),
            measure: d.measure.into(),
            parent_id: d.parent.map(|p| ID(p.to_string())),
            previous_id: d.previous.map(|p| ID(p.to_string())),
            document_id: d.document.map(|x| ID(x.to_string())),
        }
    }
}
