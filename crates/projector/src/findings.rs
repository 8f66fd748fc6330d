//! Findings on the read side: the inputs of the domain's rules
//! ([`chitieu_domain::findings`]) assembled from the indicator views of an
//! org unit (and its descendants) and a period, and the rules run over
//! them. Derived on read from the indicator read model, so a finding
//! appears and disappears with the figures it rests on, and never lags
//! them.

use crate::query::{IndicatorFilter, ReadModel};
use crate::view::IndicatorView;
use crate::ProjectionError;
use chitieu_domain::findings::{of_indicator, of_parts, Facts, FigureFacts, Finding, TrackFacts};
use chitieu_domain::{IndicatorId, OrgUnitCode, Period};

/// The rules' view of one indicator.
pub fn facts(view: &IndicatorView) -> Facts<'_> {
    Facts {
        id: view.definition.id,
        name: view.definition.name.as_str(),
        unit: view.definition.unit.as_ref().map(|u| u.as_str()),
        measure: view.definition.measure,
        better: view.direction().0,
        tracks: view
            .targets
            .iter()
            .map(|(track, t)| TrackFacts {
                track: *track,
                current: &t.current,
                restated: &t.restated,
            })
            .collect(),
        figure: view.current_report().map(|r| FigureFacts {
            report: r.report.report_id,
            value: &r.report.value,
            refers_to: r.report.refers_to,
            stated: r.report.stated.as_ref(),
        }),
        previous: view.definition.previous.zip(view.previous_figure),
    }
}

/// The findings among a list of views (as they stand, or as of a
/// position): each one's own, and each total's in the list against its
/// parts in the list. The reports use it on the views they print.
pub fn among(views: &[IndicatorView]) -> Vec<Finding> {
    let live: Vec<&IndicatorView> = views.iter().filter(|v| v.retired.is_none()).collect();
    let mut out: Vec<Finding> = live.iter().flat_map(|v| of_indicator(&facts(v))).collect();
    // Parts by their total, in one pass (a report may list thousands).
    let mut parts: std::collections::HashMap<IndicatorId, Vec<Facts<'_>>> =
        std::collections::HashMap::new();
    for view in &live {
        if let Some(parent) = view.definition.parent {
            parts.entry(parent).or_default().push(facts(view));
        }
    }
    for total in &live {
        if let Some(parts) = parts.get(&total.definition.id) {
            out.extend(of_parts(&facts(total), parts));
        }
    }
    out
}

impl ReadModel {
    /// The findings about the indicators of `org_unit` (and of its
    /// descendants when asked) in `period` (every period when `None`):
    /// each indicator's own, then each total's against its parts, in the
    /// order of the indicator list.
    pub fn findings(
        &self,
        org_unit: &OrgUnitCode,
        period: Option<Period>,
        include_descendants: bool,
    ) -> Result<Vec<Finding>, ProjectionError> {
        let views: Vec<IndicatorView> = self
            .list(&IndicatorFilter {
                org_unit: Some(org_unit.clone()),
                include_descendants,
                period,
                ..IndicatorFilter::default()
            })?
            .into_iter()
            .filter(|v| v.retired.is_none())
            .collect();
        let mut out = Vec::new();
        for view in &views {
            out.extend(of_indicator(&facts(view)));
        }
        // Totals and their parts. Every part of a total counts, wherever
        // it is listed: they are in the total's period, in its unit or
        // below it.
        let totals: std::collections::BTreeSet<IndicatorId> =
            views.iter().filter_map(|v| v.definition.parent).collect();
        for total in totals {
            let Some(total) = self.indicator(total)? else {
                continue;
            };
            if total.retired.is_some() {
                continue;
            }
            let candidates = self.list(&IndicatorFilter {
                org_unit: Some(total.definition.org_unit.clone()),
                include_descendants: true,
                period: Some(total.definition.period),
                ..IndicatorFilter::default()
            })?;
            let parts: Vec<Facts<'_>> = candidates
                .iter()
                .filter(|v| v.definition.parent == Some(total.definition.id) && v.retired.is_none())
                .map(facts)
                .collect();
            out.extend(of_parts(&facts(&total), &parts));
        }
        Ok(out)
    }

    /// The findings about some indicators (or naming them among the
    /// indicators involved), with their names: what an import reports
    /// about the indicators it wrote.
    pub fn findings_about(
        &self,
        indicators: &std::collections::BTreeSet<IndicatorId>,
    ) -> Result<Vec<(Finding, String)>, ProjectionError> {
        let mut places = std::collections::BTreeSet::new();
        for id in indicators {
            if let Some(view) = self.indicator(*id)? {
                places.insert((view.definition.org_unit.clone(), view.definition.period));
            }
        }
        let mut out = Vec::new();
        for (unit, period) in places {
            for f in self.findings(&unit, Some(period), false)? {
                let about = indicators.contains(&f.indicator)
                    || f.related.iter().any(|r| indicators.contains(r));
                if about {
                    let name = self
                        .indicator(f.indicator)?
                        .map(|v| v.definition.name.to_string())
                        .unwrap_or_default();
                    out.push((f, name));
                }
            }
        }
        Ok(out)
    }
}
