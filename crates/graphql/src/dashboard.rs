//! What a home screen needs in one query: `me { units { orgUnit roles
//! periods { period summary rollUp reporting { status } } } }`: the org
//! units a principal's grants reach, each with the periods its subtree has
//! indicators for, the unit's own counts and the counts rolled up over
//! its descendants, and the reporting period's lifecycle where there is one.

use crate::error::ApiResult;
use crate::periods::ReportingPeriodState;
use crate::types::{OrgUnit, Principal, Role, Summary};
use crate::App;
use async_graphql::{ComplexObject, Context, Object};
use chitieu_domain::{OrgUnitCode, ReportingPeriod};
use chitieu_projector::OrgUnitView;

/// An org unit a principal's grants reach (the root of a subtree), with
/// the roles held there.
pub struct ReachedUnit {
    unit: OrgUnitView,
    roles: Vec<Role>,
}

#[Object]
impl ReachedUnit {
    /// The org unit.
    async fn org_unit(&self) -> OrgUnit {
        OrgUnit(self.unit.clone())
    }
    /// The roles held over it (and its descendants).
    async fn roles(&self) -> Vec<Role> {
        self.roles.clone()
    }
    /// Every period its subtree has indicators for, newest first.
    async fn periods(&self, ctx: &Context<'_>) -> ApiResult<Vec<UnitPeriod>> {
        let app = ctx.data_unchecked::<App>();
        let code = self.unit.unit.code.clone();
        let mut periods: Vec<UnitPeriod> = app
            .read
            .periods_rolled_up(&code)?
            .into_iter()
            .map(|(period, (own, rolled))| UnitPeriod {
                unit: code.clone(),
                summary: Summary::of(&code, &period, own),
                roll_up: Summary::of(&code, &period, rolled),
                period,
            })
            .collect();
        periods.reverse();
        Ok(periods)
    }
}

/// One period of an org unit on the home screen.
pub struct UnitPeriod {
    unit: OrgUnitCode,
    period: String,
    summary: Summary,
    roll_up: Summary,
}

#[Object]
impl UnitPeriod {
    /// The period (`2025`, `2020-2025`, …).
    async fn period(&self) -> &str {
        &self.period
    }
    /// Counts of the unit's own indicators.
    async fn summary(&self) -> &Summary {
        &self.summary
    }
    /// Counts over the unit and all its descendants.
    async fn roll_up(&self) -> &Summary {
        &self.roll_up
    }
    /// The reporting period's lifecycle (submitted, approved, locked),
    /// when the period is one a unit reports on.
    async fn reporting(&self, ctx: &Context<'_>) -> ApiResult<Option<ReportingPeriodState>> {
        let Ok(period) = ReportingPeriod::parse(&self.period) else {
            return Ok(None);
        };
        let app = ctx.data_unchecked::<App>();
        Ok(Some(ReportingPeriodState(
            app.read.period(&self.unit, period)?,
        )))
    }
}

#[ComplexObject]
impl Principal {
    /// The org units its grants reach, each the root of a subtree (a grant
    /// for every org unit reaches the top-level units), with their periods
    /// and roll-ups: a home screen in one query.
    async fn units(&self, ctx: &Context<'_>) -> ApiResult<Vec<ReachedUnit>> {
        let app = ctx.data_unchecked::<App>();
        let all = app.read.org_units()?;
        let mut reached: Vec<ReachedUnit> = Vec::new();
        let mut add = |unit: &OrgUnitView, role: Role| match reached
            .iter_mut()
            .find(|r| r.unit.unit.code == unit.unit.code)
        {
            Some(r) if !r.roles.contains(&role) => r.roles.push(role),
            Some(_) => {}
            None => reached.push(ReachedUnit {
                unit: unit.clone(),
                roles: vec![role],
            }),
        };
        for grant in &self.grants {
            match &grant.org_unit {
                Some(code) => {
                    if let Some(unit) = all.iter().find(|u| u.unit.code.as_str() == code.as_str()) {
                        add(unit, grant.role);
                    }
                }
                None => all
                    .iter()
                    .filter(|u| u.unit.parent.is_none())
                    .for_each(|u| add(u, grant.role)),
            }
        }
        Ok(reached)
    }
}
