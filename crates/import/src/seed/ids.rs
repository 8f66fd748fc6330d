//! Ids derived from content (org unit, document, period, indicator name, report), and the values every layout reads the same way: names without their level word, dates, categories, the period of a result.

use super::*;

/// A unit's name without its level word: "Huyện Cần Đước" → "can duoc".
pub fn bare_name(raw: &str) -> String {
    let key = search_key(raw);
    for prefix in [
        "tinh ",
        "thanh pho ",
        "huyen ",
        "thi xa ",
        "quan ",
        "thi tran ",
        "xa ",
        "phuong ",
    ] {
        if let Some(rest) = key.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
    key
}

/// `2025-02-04` or `04/02/2025`.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .ok()
}

/// The id a seed document gets: from its org unit and its text as written.
pub fn document_id(org_unit: &OrgUnitCode, document: &str) -> DocumentId {
    DocumentId(Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("chitieu-seed/document/{org_unit}/{}", search_key(document)).as_bytes(),
    ))
}

/// The id a seed indicator gets: from its org unit, document, period and name.
pub fn indicator_id(
    org_unit: &OrgUnitCode,
    document: Option<DocumentId>,
    period: Period,
    name: &str,
) -> IndicatorId {
    let document = document.map(|d| d.to_string()).unwrap_or_default();
    IndicatorId(Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!(
            "chitieu-seed/indicator/{org_unit}/{document}/{period}/{}",
            search_key(name)
        )
        .as_bytes(),
    ))
}

/// The id a seed result gets: from its indicator, date and text.
pub fn report_id(indicator: IndicatorId, refers_to: NaiveDate, text: &str) -> ReportId {
    ReportId(Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!(
            "chitieu-seed/report/{indicator}/{refers_to}/{}",
            search_key(text)
        )
        .as_bytes(),
    ))
}

/// The tables' category names, and the Vietnamese ones.
pub fn parse_category(raw: &str) -> Option<Category> {
    match search_key(raw).as_str() {
        "economy" | "kinh te" => Some(Category::Economy),
        "society" | "xa hoi" | "van hoa - xa hoi" | "van hoa xa hoi" => Some(Category::Society),
        "environment" | "moi truong" => Some(Category::Environment),
        "defense_security" | "quoc phong - an ninh" | "quoc phong an ninh" => {
            Some(Category::DefenseSecurity)
        }
        "party_building" | "xay dung dang" | "xay dung dang, chinh quyen" => {
            Some(Category::PartyBuilding)
        }
        _ => None,
    }
}

/// The period of a result as the tables write it, and the date it refers
/// to: `2022`, `2015-2020`, `năm học 2022-2023`, `đầu năm 2015`,
/// `đến 16/12/2022`, `lũy kế đến nay (2022)`.
pub fn actual_period(raw: &str) -> Option<(Period, NaiveDate)> {
    let end_of = |y: i32| NaiveDate::from_ymd_opt(y, 12, 31);
    let key = search_key(raw);
    if let Some(rest) = key.strip_prefix("nam hoc ") {
        let period = Period::parse(rest).ok()?;
        return match period {
            Period::SchoolYear(y) => Some((period, NaiveDate::from_ymd_opt(y + 1, 5, 31)?)),
            _ => None,
        };
    }
    if let Some(rest) = key.strip_prefix("dau nam ") {
        let y: i32 = rest.trim().parse().ok()?;
        return Some((Period::Year(y), NaiveDate::from_ymd_opt(y, 1, 1)?));
    }
    if let Some(rest) = key.strip_prefix("den ") {
        if let Some(day) = parse_date(rest) {
            return Some((Period::Year(day.year()), day));
        }
    }
    if let Ok(period) = Period::parse(raw) {
        let last = match period {
            Period::Year(y) | Period::By(y) => y,
            Period::Term(_, b) => b,
            Period::SchoolYear(y) => y + 1,
        };
        return Some((period, end_of(last)?));
    }
    // "lũy kế … đến nay (2022)": cumulative to the report of that year.
    let year = key
        .rsplit('(')
        .next()
        .and_then(|t| t.trim_end_matches(')').trim().parse::<i32>().ok())?;
    key.contains("luy ke")
        .then(|| Some((Period::Year(year), end_of(year)?)))
        .flatten()
}
