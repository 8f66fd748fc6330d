//! Org units, their documents, summaries and the figures of a lineage across the 2025 reorganisation.

use super::*;

/// Counts by status ("15/15 chỉ tiêu đạt và vượt"), each indicator judged
/// on its primary track as it stood at the end of its period.
#[derive(SimpleObject)]
pub struct Summary {
    /// The org unit.
    pub org_unit: String,
    /// The period.
    pub period: String,
    /// Vượt.
    pub exceeded: u64,
    /// Đạt.
    pub met: u64,
    /// Chưa đạt.
    pub not_met: u64,
    /// A target, but nothing reported yet (or nothing to judge by).
    pub no_data: u64,
    /// No target on any track: results reported for the record.
    pub without_target: u64,
    /// All indicators.
    pub total: u64,
}

impl Summary {
    /// The GraphQL shape of a read model's counts.
    pub(crate) fn of(
        org_unit: &domain::OrgUnitCode,
        period: &str,
        s: chitieu_projector::Summary,
    ) -> Self {
        Summary {
            org_unit: org_unit.to_string(),
            period: period.to_owned(),
            exceeded: s.exceeded,
            met: s.met,
            not_met: s.not_met,
            no_data: s.no_data,
            without_target: s.without_target,
            total: s.total(),
        }
    }
}

/// One indicator over a unit's lineage (`lineageFigures`).
#[derive(async_graphql::SimpleObject)]
pub struct LineageFigure {
    /// Name as written (of the first unit that has it).
    pub name: String,
    /// Unit as written.
    pub unit: Option<String>,
    /// Kind of value.
    pub measure: Measure,
    /// Whether figures of several units add up (amounts do).
    pub additive: bool,
    /// The sum over the units, where they add up and every unit has a figure.
    pub total: Option<crate::scalars::Decimal>,
    /// Why there is no total.
    pub no_total_because: Option<NoTotal>,
    /// Each unit's indicator and its current figure.
    pub parts: Vec<LineagePart>,
}

/// Vì sao không có tổng: why figures of several units have no total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum NoTotal {
    /// Tỷ lệ, tỷ suất không cộng được giữa các đơn vị: rates, shares and per-mille do not add up.
    NotAdditive,
    /// Chưa đủ số liệu của các đơn vị: not every unit has a figure.
    MissingFigures,
}

/// One unit's part of a [`LineageFigure`].
#[derive(async_graphql::SimpleObject)]
pub struct LineagePart {
    /// The org unit.
    pub org_unit: String,
    /// Its indicator.
    pub indicator: ID,
    /// Its current figure.
    pub figure: Option<crate::scalars::Decimal>,
}

/// An org unit.
pub struct OrgUnit(pub chitieu_projector::OrgUnitView);

#[Object]
impl OrgUnit {
    /// Code.
    async fn code(&self) -> ID {
        ID(self.0.unit.code.to_string())
    }
    /// Name; with `on`, the name it had that day (before a rename).
    async fn name(&self, on: Option<Date>) -> String {
        self.0.name_on(on.map(|d| d.0)).to_string()
    }
    /// Level.
    async fn level(&self) -> OrgUnitLevel {
        self.0.unit.level.into()
    }
    /// Parent's code; with `on`, the parent it had that day (a unit
    /// moved under another keeps its earlier parent on earlier days).
    async fn parent(&self, on: Option<Date>) -> Option<ID> {
        self.0.parent_on(on.map(|d| d.0)).map(|p| ID(p.to_string()))
    }
    /// The day it began, where recorded (a unit a reorganisation made).
    async fn established(&self) -> Option<Date> {
        self.0.unit.established.map(Date)
    }
    /// Units that took over after it ceased (1 July 2025 reform).
    async fn successors(&self) -> Vec<ID> {
        self.0
            .successors
            .iter()
            .map(|s| ID(s.to_string()))
            .collect()
    }
    /// The day it ceased.
    async fn ceased_on(&self) -> Option<Date> {
        self.0.ceased_on.map(Date)
    }
    /// Whether it existed on `on` (today when absent): it had not ceased
    /// by then.
    async fn exists_on(&self, on: Option<Date>) -> bool {
        exists_on(&self.0, on.map(|d| d.0))
    }
    /// The units that ceased and whose duties passed to this one (a merger
    /// names several, a split one): their history stays under their own
    /// names and is reached from here.
    async fn predecessors(&self, ctx: &Context<'_>) -> ApiResult<Vec<OrgUnit>> {
        let all = ctx.data_unchecked::<App>().read.org_units()?;
        Ok(all
            .into_iter()
            .filter(|u| u.successors.contains(&self.0.unit.code))
            .map(OrgUnit)
            .collect())
    }
    /// This unit and every unit before it by succession, nearest first
    /// (a merged commune, the communes it was made of, theirs…): where its
    /// history and audit are.
    async fn lineage(&self, ctx: &Context<'_>) -> ApiResult<Vec<OrgUnit>> {
        let read = &ctx.data_unchecked::<App>().read;
        Ok(read
            .lineage(&self.0.unit.code)?
            .into_iter()
            .map(OrgUnit)
            .collect())
    }
    /// The units directly under it that existed on `on` (today when
    /// absent).
    async fn children(&self, ctx: &Context<'_>, on: Option<Date>) -> ApiResult<Vec<OrgUnit>> {
        let all = ctx.data_unchecked::<App>().read.org_units()?;
        Ok(all
            .into_iter()
            .filter(|u| u.parent_on(on.map(|d| d.0)) == Some(&self.0.unit.code))
            .filter(|u| exists_on(u, on.map(|d| d.0)))
            .map(OrgUnit)
            .collect())
    }
}

/// Whether a unit existed on a day (today when `None`): it had begun,
/// where its start is recorded, and had not ceased by then
/// ([`chitieu_projector::OrgUnitView::exists_on`]).
pub(crate) fn exists_on(
    unit: &chitieu_projector::OrgUnitView,
    on: Option<chrono::NaiveDate>,
) -> bool {
    unit.exists_on(on.unwrap_or_else(|| chrono::Utc::now().date_naive()))
}

/// A document.
pub struct Document(pub domain::Document);

#[Object]
impl Document {
    /// Identity.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Number such as `38-CTr/HU`.
    async fn number(&self) -> Option<String> {
        self.0.number.as_ref().map(|n| n.as_str().to_owned())
    }
    /// Kind.
    async fn kind(&self) -> DocumentKind {
        self.0.kind.into()
    }
    /// Issuing body.
    async fn issuing_body(&self) -> String {
        self.0.issuing_body.to_string()
    }
    /// The issuing org unit.
    async fn org_unit(&self) -> Option<ID> {
        self.0.org_unit.as_ref().map(|o| ID(o.to_string()))
    }
    /// Date of issue.
    async fn issued_on(&self) -> Option<Date> {
        self.0.issued_on.map(Date)
    }
    /// Title.
    async fn title(&self) -> String {
        self.0.title.to_string()
    }
}
