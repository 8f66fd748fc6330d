//! Reports out: an org unit's indicators for a period in the documents'
//! layout (indicator, target, result, % achieved, vượt / đạt / chưa đạt,
//! change on the same period last year), as CSV. Figures are written
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
    "STT,Chỉ tiêu,Đơn vị,Chỉ tiêu kế hoạch,Kết quả,Tình trạng số liệu,% đạt,Đánh giá,So cùng kỳ";

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
        TargetKind::Plain { value } => value.normalize().to_string(),
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

/// The CSV report of an org unit's indicators of a period, judged on `today`.
pub fn csv_report(
    read: &ReadModel,
    org_unit: &OrgUnitCode,
    period: Period,
    today: NaiveDate,
) -> Result<String, ProjectionError> {
    let filter = IndicatorFilter {
        org_unit: Some(org_unit.clone()),
        period: Some(period),
        ..IndicatorFilter::default()
    };
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for view in read.list(&filter)? {
        let d = &view.definition;
        let report = view.current_report();
        let figure = report.and_then(|r| r.report.value.figure(d.measure));
        let result = match (report, figure) {
            (Some(_), Some(f)) => f.round_dp(6).normalize().to_string(),
            (Some(r), None) => match r.report.value {
                chitieu_domain::ResultValue::Milestone { done: true } => "hoàn thành".to_owned(),
                _ => "chưa hoàn thành".to_owned(),
            },
            (None, _) => String::new(),
        };
        let data_status = match report.map(|r| r.report.status) {
            Some(chitieu_domain::ResultStatus::Estimate) => "ước",
            Some(chitieu_domain::ResultStatus::Final) => "chính thức",
            None => "",
        };
        let achievement = view
            .primary_track()
            .and_then(|t| view.achievement(t, today));
        let percent = achievement
            .as_ref()
            .and_then(|a| a.percent_of_target)
            .map(|p| p.to_string())
            .unwrap_or_default();
        let status = achievement.map(|a| status_vi(a.status)).unwrap_or("");
        let change = view
            .change_on_previous()
            .map(|c| c.to_string())
            .unwrap_or_default();
        let fields = [
            d.code.as_ref().map(|c| c.to_string()).unwrap_or_default(),
            d.name.to_string(),
            d.unit.as_ref().map(|u| u.to_string()).unwrap_or_default(),
            target_text(&view),
            result,
            data_status.to_owned(),
            percent,
            status.to_owned(),
            change,
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
