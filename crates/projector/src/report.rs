//! Reports out: an org unit's indicators for a period in the documents'
//! layout (indicator, target, result, % achieved, vượt / đạt / chưa đạt,
//! change on the same period last year, and the findings about each
//! indicator), as CSV or XLSX. Figures are written
//! exactly, in plain notation (`1577.95`), so the file round-trips; the
//! `%` column is the documents' rounding (two decimals).

use crate::projector::ProjectionError;
use crate::query::{IndicatorFilter, ReadModel};
use crate::view::IndicatorView;
use chitieu_domain::achievement::AchievementStatus;
use chitieu_domain::{OrgUnitCode, Period, TargetKind};
use chrono::NaiveDate;

/// The header row.
pub const CSV_HEADER: &str =
    "STT,Chỉ tiêu,Đơn vị,Chỉ tiêu kế hoạch,Kết quả,Tình trạng số liệu,% đạt,Đánh giá,So cùng kỳ,Phát hiện";

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn target_text(view: &IndicatorView) -> String {
    let Some(track) = view.primary_track() else {
        return String::new();
    };
    let target = &view.targets[&track].current;
    if let Some(wording) = &target.wording {
        return wording.to_string();
    }
    match &target.kind {
        TargetKind::AtLeast { value, strict } => {
            format!("{}{}", if *strict { ">" } else { "≥" }, value.normalize())
        }
        TargetKind::AtMost { value, strict } => {
            format!("{}{}", if *strict { "<" } else { "≤" }, value.normalize())
        }
        TargetKind::Plain { value, .. } => value.normalize().to_string(),
        TargetKind::Range { low, high } => format!("{}-{}", low.normalize(), high.normalize()),
        TargetKind::Growth { rate, value, .. } => match value {
            Some(v) => format!("{} (tăng {}%)", v.normalize(), rate.normalize()),
            None => format!("tăng {}%", rate.normalize()),
        },
        TargetKind::ReduceBy { amount, .. } => format!("giảm {}", amount.normalize()),
        TargetKind::RelativeToPeriod { period, .. } => format!("so với {period}"),
        TargetKind::Milestone { .. } => "hoàn thành".to_owned(),
        TargetKind::Maintain { level } => level.map_or("giữ vững".to_owned(), |l| {
            format!("giữ vững {}", l.normalize())
        }),
    }
}

/// The Vietnamese word for a status, as the documents write it.
pub fn status_vi(status: AchievementStatus) -> &'static str {
    match status {
        AchievementStatus::Exceeded => "vượt",
        AchievementStatus::Met => "đạt",
        AchievementStatus::NotMet => "chưa đạt",
        AchievementStatus::NoData => "chưa có số liệu",
        AchievementStatus::NotDue => "chưa đến hạn",
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// Code in the document.
    pub code: String,
    /// Indicator name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Target as worded (primary track).
    pub target: String,
    /// The current figure, if numeric.
    pub figure: Option<rust_decimal::Decimal>,
    /// The result as text when not numeric (a milestone).
    pub result_text: String,
    /// "ước" or "chính thức".
    pub data_status: &'static str,
    /// % achieved, two decimals.
    pub percent: Option<rust_decimal::Decimal>,
    /// vượt / đạt / chưa đạt / …
    pub status: &'static str,
    /// Change on the same period last year.
    pub change: Option<rust_decimal::Decimal>,
    /// The findings about it ([`crate::findings::among`] the report's
    /// indicators), in Vietnamese, one per line.
    pub findings: String,
}

/// The rows of the report of an org unit's indicators of a period, and
/// with `descendants` those of the units under it (their unit's name in
/// brackets before the indicator's), as they stand or as of log position
/// `at`.
pub fn report_rows(
    read: &ReadModel,
    org_unit: &OrgUnitCode,
    period: Period,
    today: NaiveDate,
    at: Option<u64>,
    descendants: bool,
) -> Result<Vec<ReportRow>, ProjectionError> {
    let views = match at {
        Some(position) => {
            let mut views = Vec::new();
            for unit in read.org_unit_and_descendants(org_unit, descendants)? {
                views.extend(read.list_at(&unit, period, position)?);
            }
            views
        }
        None => {
            let filter = IndicatorFilter {
                org_unit: Some(org_unit.clone()),
                include_descendants: descendants,
                period: Some(period),
                ..IndicatorFilter::default()
            };
            read.list(&filter)?
        }
    };
    let mut unit_names = std::collections::BTreeMap::new();
    for view in &views {
        let unit = &view.definition.org_unit;
        if unit != org_unit && !unit_names.contains_key(unit) {
            let name = read
                .org_unit(unit)?
                .map_or_else(|| unit.to_string(), |u| u.unit.name.to_string());
            unit_names.insert(unit.clone(), name);
        }
    }
    let mut findings: std::collections::BTreeMap<chitieu_domain::IndicatorId, Vec<String>> =
        std::collections::BTreeMap::new();
    for f in crate::findings::among(&views) {
        findings.entry(f.indicator).or_default().push(f.vi);
    }
    let mut rows = Vec::new();
    for view in views {
        let d = &view.definition;
        let report = view.current_report();
        let figure = report
            .and_then(|r| r.report.value.figure(d.measure))
            .map(|f| f.round_dp(6).normalize());
        let result_text = match (report, figure) {
            (Some(r), None) => match r.report.value {
                chitieu_domain::ResultValue::Milestone { done: true } => "hoàn thành".to_owned(),
                _ => "chưa hoàn thành".to_owned(),
            },
            _ => String::new(),
        };
        let data_status = match report.map(|r| r.report.status) {
            Some(chitieu_domain::ResultStatus::Estimate) => "ước",
            Some(chitieu_domain::ResultStatus::Final) => "chính thức",
            None => "",
        };
        let achievement = view
            .primary_track()
            .and_then(|t| view.achievement(t, today));
        rows.push(ReportRow {
            code: d.code.as_ref().map(|c| c.to_string()).unwrap_or_default(),
            name: match unit_names.get(&d.org_unit) {
                Some(unit) => format!("[{unit}] {}", d.name),
                None => d.name.to_string(),
            },
            unit: d.unit.as_ref().map(|u| u.to_string()).unwrap_or_default(),
            target: target_text(&view),
            figure,
            result_text,
            data_status,
            percent: achievement.as_ref().and_then(|a| a.percent_of_target),
            status: achievement.map(|a| status_vi(a.status)).unwrap_or(""),
            change: view.change_on_previous(),
            findings: findings
                .remove(&view.definition.id)
                .unwrap_or_default()
                .join("\n"),
        });
    }
    Ok(rows)
}

/// The CSV report of an org unit's indicators of a period, judged on
/// `today`, as recorded up to log position `at` (now when `None`).
pub fn csv_report(
    read: &ReadModel,
    org_unit: &OrgUnitCode,
    period: Period,
    today: NaiveDate,
    at: Option<u64>,
    descendants: bool,
) -> Result<String, ProjectionError> {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for row in report_rows(read, org_unit, period, today, at, descendants)? {
        let number =
            |d: Option<rust_decimal::Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
        let result = row.figure.map(|f| f.to_string()).unwrap_or(row.result_text);
        let fields = [
            row.code,
            row.name,
            row.unit,
            row.target,
            result,
            row.data_status.to_owned(),
            number(row.percent),
            row.status.to_owned(),
            number(row.change),
            row.findings,
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| quote(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    Ok(out)
}

/// Why a spreadsheet could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading the read models failed.
    #[error(transparent)]
    Read(#[from] ProjectionError),
    /// The spreadsheet writer failed.
    #[error("writing the spreadsheet: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// A figure has no number cell that shows it (never a 0 in its place).
    #[error("row {row}: {value} cannot be written as a spreadsheet number")]
    NotANumber {
        /// The report row (1 = the first under the header).
        row: u32,
        /// The figure.
        value: rust_decimal::Decimal,
    },
}

/// A figure as a spreadsheet number, or an error naming it: a figure that
/// does not convert is refused, never written as 0.
fn cell_number(row: u32, value: rust_decimal::Decimal) -> Result<f64, ReportError> {
    use rust_decimal::prelude::ToPrimitive;
    value
        .to_f64()
        .filter(|f| f.is_finite())
        .ok_or(ReportError::NotANumber { row, value })
}

/// A number format showing `value` with its own decimals, in the
/// spreadsheet's thousands and decimal separators (a Vietnamese-locale
/// spreadsheet shows 1.577,95).
fn number_format(value: rust_decimal::Decimal) -> rust_xlsxwriter::Format {
    let scale = value.normalize().scale().min(6) as usize;
    let pattern = if scale == 0 {
        "#,##0".to_owned()
    } else {
        format!("#,##0.{}", "0".repeat(scale))
    };
    rust_xlsxwriter::Format::new().set_num_format(pattern)
}

/// The same report as an XLSX workbook. Figures are number cells (the
/// format's own type, a binary double: exact to 15 significant digits,
/// which covers every figure of the documents) shown with their own
/// decimals; `%` with two.
pub fn xlsx_report(
    read: &ReadModel,
    org_unit: &OrgUnitCode,
    period: Period,
    today: NaiveDate,
    at: Option<u64>,
    descendants: bool,
) -> Result<Vec<u8>, ReportError> {
    let rows = report_rows(read, org_unit, period, today, at, descendants)?;
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(format!(
        "{} {}",
        org_unit.as_str().chars().take(20).collect::<String>(),
        period
    ))?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (col, title) in CSV_HEADER.split(',').enumerate() {
        sheet.write_string_with_format(0, col as u16, title, &bold)?;
    }
    let percent = rust_xlsxwriter::Format::new().set_num_format("0.00");
    for (i, row) in rows.iter().enumerate() {
        let r = (i + 1) as u32;
        sheet.write_string(r, 0, &row.code)?;
        sheet.write_string(r, 1, &row.name)?;
        sheet.write_string(r, 2, &row.unit)?;
        sheet.write_string(r, 3, &row.target)?;
        match row.figure {
            Some(f) => {
                sheet.write_number_with_format(r, 4, cell_number(r, f)?, &number_format(f))?
            }
            None => sheet.write_string(r, 4, &row.result_text)?,
        };
        sheet.write_string(r, 5, row.data_status)?;
        if let Some(p) = row.percent {
            sheet.write_number_with_format(r, 6, cell_number(r, p)?, &percent)?;
        }
        sheet.write_string(r, 7, row.status)?;
        if let Some(c) = row.change {
            sheet.write_number_with_format(r, 8, cell_number(r, c)?, &percent)?;
        }
        if !row.findings.is_empty() {
            sheet.write_string(r, 9, &row.findings)?;
        }
    }
    sheet.set_column_width(1, 50)?;
    sheet.set_column_width(3, 30)?;
    sheet.set_column_width(9, 60)?;
    Ok(workbook.save_to_buffer()?)
}
