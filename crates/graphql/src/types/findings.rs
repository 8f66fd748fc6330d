//! Findings: the documents' internal inconsistencies, as clients see them.

use super::*;

/// One figure a finding rests on.
#[derive(SimpleObject)]
pub struct FindingFigure {
    /// The indicator it belongs to.
    pub indicator: ID,
    /// What it is: `result`, `target:resolution` (`:assigned`, `:stretch`),
    /// `stated_percent_of_plan`, `stated_change_on_previous_pct`,
    /// `computed_percent`, `implied_plan`, `previous_result`,
    /// `sum_of_parts`, `part:result`, `part:target:resolution`.
    pub role: String,
    /// The figure, exact.
    pub value: Decimal,
}

/// An inconsistency inside the recorded figures of a document or between
/// documents: what is involved and why it does not add up.
#[derive(SimpleObject)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// How much it matters.
    pub severity: Severity,
    /// The indicator it is about.
    pub indicator: ID,
    /// Its name.
    pub indicator_name: String,
    /// Other indicators involved (parts, the previous period).
    pub related: Vec<ID>,
    /// The report it is about, where one.
    pub report: Option<ID>,
    /// The figures it rests on.
    pub figures: Vec<FindingFigure>,
    /// In Vietnamese.
    pub message: String,
    /// In English.
    pub message_en: String,
}

impl Finding {
    /// A finding about the indicator named `name`.
    pub fn of(f: chitieu_domain::findings::Finding, name: String) -> Self {
        Finding {
            kind: f.kind.into(),
            severity: f.severity.into(),
            indicator: ID(f.indicator.to_string()),
            indicator_name: name,
            related: f.related.iter().map(|r| ID(r.to_string())).collect(),
            report: f.report.map(|r| ID(r.to_string())),
            figures: f
                .figures
                .into_iter()
                .map(|g| FindingFigure {
                    indicator: ID(g.indicator.to_string()),
                    role: g.role,
                    value: Decimal(g.value),
                })
                .collect(),
            message: f.vi,
            message_en: f.en,
        }
    }
}

/// What a document writes beside a result.
#[derive(SimpleObject)]
pub struct StatedFigures {
    /// "đạt X% kế hoạch / so nghị quyết / chỉ tiêu / dự toán".
    pub percent_of_plan: Option<Decimal>,
    /// "tăng/giảm X% (so) cùng kỳ", signed.
    pub change_on_previous_pct: Option<Decimal>,
}
