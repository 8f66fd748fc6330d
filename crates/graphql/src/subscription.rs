//! The `Subscription` root: indicator events and reporting-period steps
//! as they become visible.

use crate::auth::{check_unit, reach, Permission, Reach};
use crate::error::ApiError;
use crate::query::{parse_indicator_id, parse_org_unit};
use crate::types::{Actor, Indicator};
use crate::App;
use async_graphql::{Context, InputObject, SimpleObject, Subscription, ID};
use chitieu_domain::OrgUnitCode;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use std::time::Duration;

/// Which events to receive.
#[derive(InputObject, Default)]
pub struct IndicatorEventFilter {
    /// Of this indicator.
    pub indicator: Option<ID>,
    /// Of indicators of this org unit.
    pub org_unit: Option<ID>,
    /// With `orgUnit`: of its descendants' indicators too.
    #[graphql(default = false)]
    pub include_descendants: bool,
    /// Of these event types (`actual_reported`, `target_revised`, …).
    pub kinds: Option<Vec<String>>,
}

/// An event on an indicator, with the indicator as it is right after it.
#[derive(SimpleObject)]
pub struct IndicatorEvent {
    /// Log position.
    pub position: u64,
    /// Event type.
    pub kind: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// The indicator after the event.
    pub indicator: Indicator,
}

/// A step of a reporting period's lifecycle, with the period right after it.
#[derive(SimpleObject)]
pub struct PeriodEvent {
    /// Log position.
    pub position: u64,
    /// Event type (`period_submitted`, `period_approved`, `period_locked`,
    /// `period_unlocked`).
    pub kind: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// The period after the event (as the log holds it now).
    pub period: crate::periods::ReportingPeriodState,
}

/// Live updates.
pub struct SubscriptionRoot;

/// Subscriptions running now, on every connection (for `/metrics`).
pub static ACTIVE_SUBSCRIPTIONS: std::sync::atomic::AtomicI64 =
    std::sync::atomic::AtomicI64::new(0);

/// Counts a subscription while its stream lives.
struct Active;

impl Active {
    fn new() -> Self {
        ACTIVE_SUBSCRIPTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Active
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        ACTIVE_SUBSCRIPTIONS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The first position a subscription delivers: after `after`, or after the
/// head. A position past the head is refused (it names events that do not
/// exist; waiting for them would look like silence).
fn start(app: &App, after: Option<u64>) -> Result<u64, ApiError> {
    let head = app.service.head().position;
    match after {
        None => Ok(head + 1),
        Some(after) if after > head => Err(ApiError::validation(
            format!("`after: {after}` is past the log's head ({head}): resume from a position this log has given"),
            format!("`after: {after}` vượt quá đầu sổ ghi ({head}): hãy tiếp tục từ một vị trí sổ ghi này đã trả về"),
        )),
        Some(after) => Ok(after + 1),
    }
}

/// Whether a reader of `reach` sees events of `unit` (a scoped reader's
/// subscription without a filter carries its subtrees only).
fn visible(app: &App, reach: &Reach, unit: &OrgUnitCode) -> bool {
    match reach {
        Reach::Everywhere => true,
        Reach::Within(roots) => roots
            .iter()
            .any(|root| app.read.is_within(unit, root).unwrap_or(false)),
    }
}

/// Whether `unit` lies strictly below `ancestor` in the hierarchy (as the
/// read models hold it now).
fn is_under(app: &App, unit: &OrgUnitCode, ancestor: &OrgUnitCode) -> bool {
    unit != ancestor && app.read.is_within(unit, ancestor).unwrap_or(false)
}

#[Subscription]
impl SubscriptionRoot {
    /// Indicator events, each once the read models show it: from now on,
    /// or, to resume after a dropped connection, every event after the
    /// log position `after` (the `position` of the last event received):
    /// first those already recorded, then live ones, with no gap and no
    /// duplicate.
    async fn indicator_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<IndicatorEventFilter>,
        after: Option<u64>,
    ) -> async_graphql::Result<impl Stream<Item = IndicatorEvent>> {
        let reach = reach(ctx, Permission::ReadCurrent)?;
        let app = ctx.data_unchecked::<App>().clone();
        let from = start(&app, after)?;
        let filter = filter.unwrap_or_default();
        let indicator = filter
            .indicator
            .as_ref()
            .map(parse_indicator_id)
            .transpose()?;
        let org_unit = filter.org_unit.as_ref().map(parse_org_unit).transpose()?;
        if let Some(unit) = &org_unit {
            check_unit(ctx, &reach, unit)?;
        }
        let kinds = filter.kinds;
        let descendants = filter.include_descendants;
        let mut subscription = app.service.subscribe(from);
        Ok(async_stream::stream! {
            let _active = Active::new();
            loop {
                let recorded = match subscription.next().await {
                    Ok(r) => r,
                    Err(error) => {
                        tracing::warn!(%error, "subscription ended");
                        break;
                    }
                };
                let Some(id) = chitieu_domain::StreamId::parse(recorded.stream.as_str())
                    .and_then(|s| s.indicator_id())
                else {
                    continue;
                };
                if indicator.is_some_and(|i| i != id) {
                    continue;
                }
                if kinds.as_ref().is_some_and(|k| !k.contains(&recorded.event_type)) {
                    continue;
                }
                if app.read.projector().wait_for(recorded.position, Duration::from_secs(10)).await.is_err() {
                    continue;
                }
                let Ok(Some(view)) = app.read.indicator_at(id, recorded.position) else { continue };
                if let Some(o) = &org_unit {
                    let unit = &view.definition.org_unit;
                    if unit != o && !(descendants && is_under(&app, unit, o)) {
                        continue;
                    }
                }
                if !visible(&app, &reach, &view.definition.org_unit) {
                    continue;
                }
                yield IndicatorEvent {
                    position: recorded.position,
                    kind: recorded.event_type.clone(),
                    recorded_at: recorded.recorded_at,
                    actor: recorded.actor.clone().into(),
                    indicator: Indicator(std::sync::Arc::new(view)),
                };
            }
        })
    }

    /// Submissions, approvals, locks and unlocks of reporting periods (of
    /// one org unit when named, and of its descendants with
    /// `includeDescendants`): from now on, or every one after the log
    /// position `after`, as `indicatorEvents` resumes.
    async fn period_events(
        &self,
        ctx: &Context<'_>,
        org_unit: Option<ID>,
        #[graphql(default = false)] include_descendants: bool,
        after: Option<u64>,
    ) -> async_graphql::Result<impl Stream<Item = PeriodEvent>> {
        let reach = reach(ctx, Permission::ReadCurrent)?;
        let app = ctx.data_unchecked::<App>().clone();
        let org_unit = org_unit.as_ref().map(parse_org_unit).transpose()?;
        if let Some(unit) = &org_unit {
            check_unit(ctx, &reach, unit)?;
        }
        let from = start(&app, after)?;
        let mut subscription = app.service.subscribe(from);
        Ok(async_stream::stream! {
            let _active = Active::new();
            loop {
                let recorded = match subscription.next().await {
                    Ok(r) => r,
                    Err(error) => {
                        tracing::warn!(%error, "subscription ended");
                        break;
                    }
                };
                let stream = chitieu_domain::StreamId::parse(recorded.stream.as_str());
                if !matches!(stream, Some(chitieu_domain::StreamId::Periods(_))) {
                    continue;
                }
                let (unit, period) = match recorded.decode() {
                    Ok(chitieu_domain::Event::PeriodSubmitted(e)) => (e.unit, e.period),
                    Ok(chitieu_domain::Event::PeriodApproved(e)) => (e.unit, e.period),
                    Ok(chitieu_domain::Event::PeriodLocked(e)) => (e.unit, e.period),
                    Ok(chitieu_domain::Event::PeriodUnlocked(e)) => (e.unit, e.period),
                    _ => continue,
                };
                if let Some(o) = &org_unit {
                    if &unit != o && !(include_descendants && is_under(&app, &unit, o)) {
                        continue;
                    }
                }
                if !visible(&app, &reach, &unit) {
                    continue;
                }
                if app.read.projector().wait_for(recorded.position, Duration::from_secs(10)).await.is_err() {
                    continue;
                }
                let Ok(view) = app.read.period(&unit, period) else { continue };
                yield PeriodEvent {
                    position: recorded.position,
                    kind: recorded.event_type.clone(),
                    recorded_at: recorded.recorded_at,
                    actor: recorded.actor.clone().into(),
                    period: crate::periods::ReportingPeriodState(view),
                };
            }
        })
    }
}
