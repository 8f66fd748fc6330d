//! Output types: how indicators, targets, results, history and the audit
//! trail look to clients.

use crate::connection::{history_connection, HistoryConnection};
use crate::error::ApiResult;
use crate::scalars::{Date, Decimal};
use crate::App;
use async_graphql::{ComplexObject, Context, Enum, MergedObject, Object, SimpleObject, Union, ID};
use chitieu_domain::achievement::AchievementStatus as DomainStatus;
use chitieu_domain::{self as domain, TargetKind};
use chitieu_projector::{view::ReportView, IndicatorView, TrackView};
use chrono::{DateTime, Utc};

macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident <=> $domain:path { $($(#[$vmeta:meta])* $variant:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
        pub enum $name { $($(#[$vmeta])* $variant),* }
        impl From<$domain> for $name {
            fn from(v: $domain) -> Self { match v { $(<$domain>::$variant => $name::$variant),* } }
        }
        impl From<$name> for $domain {
            fn from(v: $name) -> Self { match v { $($name::$variant => <$domain>::$variant),* } }
        }
    };
}

mirror_enum!(
    /// Lĩnh vực: the field of an indicator.
    Category <=> domain::Category {
        /// Kinh tế: economy.
        Economy,
        /// Văn hóa – xã hội: society and culture.
        Society,
        /// Môi trường: environment.
        Environment,
        /// Quốc phòng – an ninh: defence and security.
        DefenseSecurity,
        /// Xây dựng Đảng, chính quyền, Mặt trận và đoàn thể: Party and government building.
        PartyBuilding,
    }
);
mirror_enum!(
    /// Đơn vị đo: the kind of value an indicator has.
    Measure <=> domain::Measure {
        /// Số lượng theo đơn vị tính (tỷ đồng, tấn, hộ…): an amount in the indicator's unit.
        Amount,
        /// Tỷ lệ %: a percentage (differences in percentage points).
        Percentage,
        /// Tỷ lệ ‰: a per-mille rate.
        PerMille,
        /// Tỷ số (22/45 trường): numerator over denominator, valued as a share in percent.
        Ratio,
        /// Mốc hoàn thành: something done or not.
        Milestone,
    }
);
mirror_enum!(
    /// Loại chỉ tiêu: whose target it is.
    TargetTrack <=> domain::TargetTrack {
        /// Chỉ tiêu trên giao (tỉnh giao, pháp lệnh): assigned by the upper level.
        Assigned,
        /// Chỉ tiêu nghị quyết: the unit's own resolution.
        Resolution,
        /// Chỉ tiêu phấn đấu: a stretch target the unit sets itself.
        Stretch,
    }
);
mirror_enum!(
    /// Tính chất số liệu: an estimate or final.
    ResultStatus <=> domain::ResultStatus {
        /// Ước thực hiện: an estimate before the period's figures are in.
        Estimate,
        /// Số liệu chính thức: final.
        Final,
    }
);
mirror_enum!(
    /// Mức độ đạt: where a result stands against a target.
    AchievementStatus <=> DomainStatus {
        /// Vượt chỉ tiêu: exceeded.
        Exceeded,
        /// Đạt chỉ tiêu: met.
        Met,
        /// Không đạt: not met.
        NotMet,
        /// Chưa có số liệu: no figure to judge.
        NoData,
        /// Chưa đến hạn: not due yet.
        NotDue,
    }
);
mirror_enum!(
    /// Cấp hành chính: administrative level.
    OrgUnitLevel <=> domain::OrgUnitLevel {
        /// Tỉnh, thành phố trực thuộc trung ương: province.
        Province,
        /// Huyện, thị xã, thành phố thuộc tỉnh (ended on 1 July 2025): district.
        District,
        /// Xã, phường: commune.
        Commune,
        /// Thị trấn: a town at commune level.
        Town,
        /// Ấp, khóm: hamlet.
        Hamlet,
    }
);
mirror_enum!(
    /// Loại văn bản: kind of document.
    DocumentKind <=> domain::DocumentKind {
        /// Nghị quyết: resolution.
        Resolution,
        /// Chương trình hành động: action programme.
        ActionProgramme,
        /// Kế hoạch: plan.
        Plan,
        /// Báo cáo: report.
        Report,
        /// Quyết định: decision.
        Decision,
        /// Văn bản khác: other.
        Other,
    }
);
mirror_enum!(
    /// Vai trò: what a grant lets its holder do.
    Role <=> domain::Role {
        /// Quản trị: principals, grants, tokens and org units; everything in its scope.
        Admin,
        /// Lập kế hoạch: documents, indicators and targets.
        Planner,
        /// Báo cáo: results.
        Reporter,
        /// Kiểm tra, giám sát (Ủy ban Kiểm tra): reads everything, history and the audit trail included.
        Auditor,
        /// Phê duyệt: approves, locks and unlocks reporting periods.
        Approver,
        /// Xem: current state.
        Viewer,
    }
);
mirror_enum!(
    /// Cách tính mức giảm: how a reduction is measured.
    Reduction <=> domain::Reduction {
        /// Giảm theo số tuyệt đối (or percentage points on a rate): absolute.
        Absolute,
        /// Giảm theo % của giá trị gốc: a percentage of the base.
        PercentOfBase,
    }
);
mirror_enum!(
    /// Hướng so sánh với kỳ khác: direction of a comparison with another period.
    Direction <=> domain::Direction {
        /// Thấp hơn: lower.
        Lower,
        /// Cao hơn: higher.
        Higher,
    }
);

mirror_enum!(
    /// Chiều tốt: which way is good for an indicator.
    Better <=> chitieu_domain::direction::Better {
        /// Càng cao càng tốt: higher is better.
        Higher,
        /// Càng thấp càng tốt (hộ nghèo, suy dinh dưỡng, tai nạn…): lower is better.
        Lower,
        /// Trong khoảng là đạt: within the range.
        Within,
    }
);
mirror_enum!(
    /// Căn cứ xác định chiều tốt: how the direction was decided.
    BetterBecause <=> chitieu_domain::direction::BetterBecause {
        /// Theo dạng chỉ tiêu (trở lên, không quá, tăng, giảm, khoảng): by the target's kind.
        Kind,
        /// Theo tên chỉ tiêu (danh mục từ ngữ đã công bố): by the indicator's name, from the documented word list.
        Name,
        /// Theo thông lệ (một con số được hiểu là "đạt và vượt"): by practice, an exact figure read as at least.
        Practice,
        /// Do người có thẩm quyền xác định, có lý do (setIndicatorDirection): set by a person, with a reason.
        Set,
    }
);

/// Dạng chỉ tiêu: kind of target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TargetKindName {
    /// Trở lên, ít nhất: ≥ value (`strict`: trên, more than).
    AtLeast,
    /// Không quá, tối đa: ≤ value (`strict`: dưới, below).
    AtMost,
    /// Một con số (đạt …): a bare figure, read as at least.
    Plain,
    /// Từ … đến …: low ≤ actual ≤ high.
    Range,
    /// Tăng trưởng `rate` % so với `base`: growth.
    Growth,
    /// Giảm `amount`: a reduction.
    ReduceBy,
    /// Thấp hơn hoặc cao hơn kỳ khác: lower or higher than another period's actual.
    RelativeToPeriod,
    /// Hoàn thành trước hạn: done by the deadline.
    Milestone,
    /// Duy trì: keep the level.
    Maintain,
}

/// Who did something.
#[derive(Debug, Clone, SimpleObject)]
pub struct Actor {
    /// Principal id.
    pub id: String,
    /// Display name at the time.
    pub name: String,
    /// Role at the time.
    pub role: String,
}

impl From<chitieu_store::Actor> for Actor {
    fn from(a: chitieu_store::Actor) -> Self {
        Actor {
            id: a.id,
            name: a.name,
            role: a.role,
        }
    }
}

/// A target on one track, as it stands: where it stands (track,
/// revisions, who changed it last) and what it says.
#[derive(MergedObject)]
pub struct Target(pub(crate) TargetStanding, pub(crate) TargetFigures);

impl Target {
    /// The target of `track` as the view holds it.
    pub(crate) fn new(track: domain::TargetTrack, view: &TrackView) -> Self {
        Target(
            TargetStanding {
                track,
                view: view.clone(),
            },
            TargetFigures(view.current.clone()),
        )
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

#[Object]
impl TargetFigures {
    /// The kind.
    async fn kind(&self) -> TargetKindName {
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
    /// The figure (at least, at most, plain; growth's target figure; maintain's level; reduce-by's amount).
    async fn value(&self) -> Option<Decimal> {
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

/// A reported result: what was reported, and where it stands.
#[derive(MergedObject)]
pub struct Actual(pub(crate) ReportFigures, pub(crate) ReportStanding);

impl Actual {
    /// A report of an indicator of `measure`.
    pub(crate) fn new(report: ReportView, measure: domain::Measure) -> Self {
        Actual(
            ReportFigures(report.report.clone(), measure),
            ReportStanding(report),
        )
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
        match &self.0.value {
            // As written, scale included.
            domain::ResultValue::Amount { value } => Some(Decimal(*value)),
            other => other
                .figure(self.1)
                .map(|d| Decimal::computed(d.round_dp(6))),
        }
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

/// An indicator (chỉ tiêu).
pub struct Indicator(pub std::sync::Arc<IndicatorView>);

impl Indicator {
    /// The direction by its primary target (or, without one, its name).
    fn direction(
        &self,
    ) -> (
        chitieu_domain::direction::Better,
        chitieu_domain::direction::BetterBecause,
    ) {
        let name = self.0.definition.name.as_str();
        match self.0.primary_track().and_then(|t| self.0.targets.get(&t)) {
            Some(view) => {
                chitieu_domain::direction::direction_of(self.0.better, name, &view.current.kind)
            }
            None => chitieu_domain::direction::direction_of(
                self.0.better,
                name,
                &domain::TargetKind::Maintain { level: None },
            ),
        }
    }
}

#[Object]
impl Indicator {
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
        self.direction().0.into()
    }
    /// How `better` was decided.
    async fn better_because(&self) -> BetterBecause {
        self.direction().1.into()
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

/// One entry of an indicator's history.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct HistoryEntry {
    /// Log position.
    pub position: u64,
    /// Stream version.
    pub version: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// Event type.
    pub kind: String,
    /// Track, for target events.
    pub track: Option<TargetTrack>,
    /// The value it replaced, as stored in its event (JSON; `beforeValue`
    /// is the same, typed).
    pub before: Option<async_graphql::Json<serde_json::Value>>,
    /// The value it set, as stored in its event (JSON; `afterValue` is the
    /// same, typed).
    pub after: Option<async_graphql::Json<serde_json::Value>>,
    /// The value it replaced.
    pub before_value: Option<ChangedValue>,
    /// The value it set.
    pub after_value: Option<ChangedValue>,
    /// The reason given.
    pub reason: Option<String>,
    /// The document cited (resolved by `document`).
    #[graphql(skip)]
    pub document_id: Option<domain::DocumentId>,
}

#[ComplexObject]
impl HistoryEntry {
    /// The document cited.
    async fn document(&self, ctx: &Context<'_>) -> ApiResult<Option<Document>> {
        match self.document_id {
            Some(d) => Ok(ctx.data_unchecked::<App>().read.document(d)?.map(Document)),
            None => Ok(None),
        }
    }
}

impl From<chitieu_projector::HistoryEntry> for HistoryEntry {
    fn from(h: chitieu_projector::HistoryEntry) -> Self {
        HistoryEntry {
            position: h.position,
            version: h.version,
            recorded_at: h.recorded_at,
            actor: h.actor.into(),
            kind: h.kind,
            track: h.track.map(Into::into),
            before: h.before.as_ref().map(|v| async_graphql::Json(v.to_json())),
            after: h.after.as_ref().map(|v| async_graphql::Json(v.to_json())),
            before_value: h.before.map(|v| ChangedValue::of(v, h.measure)),
            after_value: h.after.map(|v| ChangedValue::of(v, h.measure)),
            reason: h.reason,
            document_id: h.document,
        }
    }
}

/// A value an indicator event replaced or set: the definition, a target,
/// a reported figure.
#[derive(Union)]
pub enum ChangedValue {
    /// The indicator as defined.
    Definition(IndicatorDefinition),
    /// A target.
    Target(TargetFigures),
    /// A reported figure.
    Report(ReportFigures),
}

impl ChangedValue {
    fn of(value: chitieu_projector::HistoryValue, measure: Option<domain::Measure>) -> Self {
        use chitieu_projector::HistoryValue as V;
        match value {
            V::Definition(d) => ChangedValue::Definition(IndicatorDefinition::from(*d)),
            V::Target(t) => ChangedValue::Target(TargetFigures(t)),
            V::Report(r) => {
                ChangedValue::Report(ReportFigures(r, measure.unwrap_or(domain::Measure::Amount)))
            }
        }
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

/// One event in the audit trail: who, when, where, and what it recorded
/// (the change with its values before and after, the reason, the
/// document, the rights given or taken).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AuditEntry {
    /// Log position.
    pub position: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// The org unit concerned.
    pub org_unit: Option<String>,
    /// The stream.
    pub stream: String,
    /// Event type.
    pub kind: String,
    /// The indicator concerned.
    pub indicator_id: Option<ID>,
    /// The reason given.
    pub reason: Option<String>,
    /// The principal whose rights or tokens changed (principal events).
    pub principal: Option<String>,
    /// The grant given or taken back, with its role and scope
    /// (`role_granted`, `grant_revoked`).
    pub grant: Option<Grant>,
    /// The reporting period concerned (period events).
    pub period: Option<String>,
    #[graphql(skip)]
    pub(crate) document_id: Option<domain::DocumentId>,
    #[graphql(skip)]
    pub(crate) indicator: Option<domain::IndicatorId>,
}

#[ComplexObject]
impl AuditEntry {
    /// The document cited.
    async fn document(&self, ctx: &Context<'_>) -> ApiResult<Option<Document>> {
        match self.document_id {
            Some(d) => Ok(ctx.data_unchecked::<App>().read.document(d)?.map(Document)),
            None => Ok(None),
        }
    }

    /// For an indicator event, the change as the indicator's history
    /// holds it: the value it replaced and the one it set.
    async fn change(&self, ctx: &Context<'_>) -> ApiResult<Option<HistoryEntry>> {
        let Some(id) = self.indicator else {
            return Ok(None);
        };
        let history = ctx.data_unchecked::<App>().read.history(id)?;
        Ok(history
            .iter()
            .find(|h| h.position == self.position)
            .cloned()
            .map(HistoryEntry::from))
    }
}

impl From<chitieu_projector::AuditEntry> for AuditEntry {
    fn from(e: chitieu_projector::AuditEntry) -> Self {
        let detail = e.detail;
        AuditEntry {
            position: e.position,
            recorded_at: e.recorded_at,
            actor: e.actor.into(),
            org_unit: e.org_unit.map(|o| o.to_string()),
            stream: e.stream,
            kind: e.kind,
            indicator_id: e.indicator.map(|i| ID(i.to_string())),
            reason: detail.reason,
            principal: detail.principal,
            grant: detail.grant.map(|g| Grant {
                role: g.role.into(),
                org_unit: g.scope.map(|s| ID(s.to_string())),
            }),
            period: detail.period,
            document_id: detail.document,
            indicator: e.indicator,
        }
    }
}

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
    /// Parent's code.
    async fn parent(&self) -> Option<ID> {
        self.0.unit.parent.as_ref().map(|p| ID(p.to_string()))
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
            .filter(|u| u.unit.parent.as_ref() == Some(&self.0.unit.code))
            .filter(|u| exists_on(u, on.map(|d| d.0)))
            .map(OrgUnit)
            .collect())
    }
}

/// Whether a unit existed on a day (today when `None`): it had not ceased
/// by then. (When a unit began is not recorded: one registered for a
/// reorganisation reads as existing before it too.)
pub(crate) fn exists_on(
    unit: &chitieu_projector::OrgUnitView,
    on: Option<chrono::NaiveDate>,
) -> bool {
    match (unit.ceased_on, on) {
        (None, _) => true,
        (Some(ceased), Some(day)) => day < ceased,
        (Some(_), None) => false,
    }
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

/// The head of the log, for an auditor to write down: if the log were ever
/// rewritten, this position's hash would no longer match.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Ledger {
    /// Position of the last durable event.
    pub position: u64,
    /// Its SHA-256 chain hash, hex.
    pub hash: String,
    /// The read models' position.
    pub projected_position: u64,
}

#[ComplexObject]
impl Ledger {
    /// SHA-256 over every key and value of this node's read models, hex.
    /// Nodes whose read models agree byte for byte give the same digest
    /// (compare them at the same `projectedPosition`). Reads every read
    /// model: for operators and tests, not for every request.
    #[graphql(complexity = 1000)]
    async fn read_model_digest(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let projector = ctx.data_unchecked::<App>().read.projector().clone();
        let digest = tokio::task::spawn_blocking(move || projector.digest())
            .await
            .map_err(|e| crate::error::ApiError::internal(&e))?
            .map_err(crate::error::ApiError::from)?;
        Ok(hex::encode(digest))
    }

    /// The head at `position`, signed: its Merkle root (RFC 9162) and
    /// chain hash, with the log's Ed25519 signature.
    async fn signed_head(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<crate::evidence::SignedHead> {
        Ok(crate::evidence::signed_head(ctx, Some(self.position)).await?)
    }

    /// The key that signs the log's heads.
    async fn public_key(&self, ctx: &Context<'_>) -> crate::evidence::LogPublicKey {
        crate::evidence::public_key(ctx)
    }
}

/// The outcome of walking the hash chain.
#[derive(SimpleObject)]
pub struct LedgerVerification {
    /// Whether the chain checks, from the checkpoint to the head.
    pub ok: bool,
    /// Records checked by this call (those appended since the checkpoint).
    pub checked: u64,
    /// The verified checkpoint this check started after (0: the first
    /// record); the first record after it must chain to its hash.
    pub from: u64,
    /// Position of the last good record.
    pub position: u64,
    /// Its hash.
    pub hash: String,
    /// The first position where the chain breaks.
    pub broken_at: Option<u64>,
    /// Why it breaks there.
    pub reason: Option<String>,
    /// The last full check from the first record (`verifyLedger(full:
    /// true)` starts one in the background), with its progress.
    pub full_check: Option<FullLedgerCheck>,
}

/// A full walk of the ledger from the first record, running or done.
#[derive(SimpleObject)]
pub struct FullLedgerCheck {
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Records to check (the head when it started).
    pub total: u64,
    /// Records checked so far.
    pub checked: u64,
    /// Whether it is still running.
    pub running: bool,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Whether the whole chain checked (`null` while running).
    pub ok: Option<bool>,
    /// The first position where the chain breaks.
    pub broken_at: Option<u64>,
    /// Why it breaks there, or why the check could not finish.
    pub reason: Option<String>,
}

impl From<chitieu_service::ledger::FullCheck> for FullLedgerCheck {
    fn from(c: chitieu_service::ledger::FullCheck) -> Self {
        let (finished_at, ok, broken_at, reason) = match c.finished {
            None => (None, None, None, None),
            Some((at, Ok(report))) => {
                let broken = report.first_break;
                (
                    Some(at),
                    Some(broken.is_none()),
                    broken.as_ref().map(|b| b.0),
                    broken.map(|b| b.1),
                )
            }
            Some((at, Err(why))) => (Some(at), Some(false), None, Some(why)),
        };
        FullLedgerCheck {
            started_at: c.started_at,
            total: c.total,
            checked: c.checked,
            running: finished_at.is_none(),
            finished_at,
            ok,
            broken_at,
            reason,
        }
    }
}

/// A role over an org unit and its descendants.
#[derive(SimpleObject)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The subtree's root; none for every org unit.
    pub org_unit: Option<ID>,
}

/// A person or service account, its grants and tokens (never the tokens themselves).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Principal {
    /// Its id.
    pub id: ID,
    /// Display name.
    pub name: String,
    /// Grants held.
    pub grants: Vec<Grant>,
    /// Ids of tokens still valid (not revoked, not expired).
    pub active_tokens: Vec<ID>,
    /// Why it was disabled, if it was.
    pub disabled_reason: Option<String>,
}

impl Principal {
    /// Reads a principal from the domain state.
    pub fn from_state(id: &domain::PrincipalId, state: &domain::principal::PrincipalState) -> Self {
        let now = chrono::Utc::now();
        Principal {
            id: ID(id.to_string()),
            name: state.name.to_string(),
            grants: state
                .grants
                .iter()
                .map(|g| Grant {
                    role: g.role.into(),
                    org_unit: g.scope.as_ref().map(|s| ID(s.to_string())),
                })
                .collect(),
            active_tokens: state
                .tokens
                .iter()
                .filter(|(_, t)| !t.revoked && t.expires_at.is_none_or(|at| at > now))
                .map(|(id, _)| ID(id.0.to_string()))
                .collect(),
            disabled_reason: state.disabled.as_ref().map(|r| r.to_string()),
        }
    }
}
