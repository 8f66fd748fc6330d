//! The columns of the two layouts (English or Vietnamese headers), where the header row is, and a row read through them.

use super::*;

/// The columns of the seed layouts.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Columns {
    pub(super) indicator_id: Option<usize>,
    pub(super) document_id: Option<usize>,
    pub(super) org_unit: Option<usize>,
    pub(super) growth_figure: Option<usize>,
    pub(super) deadline: Option<usize>,
    pub(super) bound: Option<usize>,
    pub(super) reduction: Option<usize>,
    pub(super) compared_period: Option<usize>,
    pub(super) direction: Option<usize>,
    pub(super) measure: Option<usize>,
    pub(super) province: Option<usize>,
    pub(super) district: Option<usize>,
    pub(super) document: Option<usize>,
    pub(super) issued_on: Option<usize>,
    pub(super) issuing_body: Option<usize>,
    pub(super) period: Option<usize>,
    pub(super) category: Option<usize>,
    pub(super) code: Option<usize>,
    pub(super) name: Option<usize>,
    pub(super) text: Option<usize>,
    pub(super) kind: Option<usize>,
    pub(super) value: Option<usize>,
    pub(super) value_high: Option<usize>,
    pub(super) unit: Option<usize>,
    pub(super) base: Option<usize>,
    pub(super) track: Option<usize>,
    pub(super) stated_target: Option<usize>,
    pub(super) stated_pct: Option<usize>,
    pub(super) stated_change: Option<usize>,
    pub(super) status: Option<usize>,
    pub(super) notes: Option<usize>,
}

pub(super) fn columns(header: &[Cell]) -> Columns {
    let f = |names: &[&str]| find_column(header, names);
    Columns {
        indicator_id: f(&["indicator_id"]),
        document_id: f(&["document_id"]),
        org_unit: f(&["org_unit", "ma don vi"]),
        growth_figure: f(&["growth_figure"]),
        deadline: f(&["deadline", "thoi han"]),
        bound: f(&["bound"]),
        reduction: f(&["reduction"]),
        compared_period: f(&["compared_period"]),
        direction: f(&["direction"]),
        measure: f(&["measure"]),
        province: f(&["province", "tinh", "tinh/thanh pho"]),
        district: f(&["district", "huyen", "quan/huyen", "huyen/thi xa"]),
        document: f(&["document", "van ban"]),
        issued_on: f(&["issued_on", "ngay ban hanh"]),
        issuing_body: f(&["issuing_body", "co quan ban hanh"]),
        period: f(&["period", "ky"]),
        category: f(&["category", "linh vuc"]),
        code: f(&["code", "stt", "ma"]),
        name: f(&["indicator_vi", "indicator", "ten chi tieu"]),
        text: f(&[
            "target_text_vi",
            "actual_text_vi",
            "target_text",
            "actual_text",
            "nguyen van",
        ]),
        kind: f(&["kind", "loai chi tieu"]),
        value: f(&["value", "gia tri"]),
        value_high: f(&["value_high", "gia tri tren"]),
        unit: f(&["unit", "don vi tinh", "dvt"]),
        base: f(&["base_value", "gia tri goc"]),
        track: f(&["track", "cap giao"]),
        stated_target: f(&["stated_target", "chi tieu ghi kem"]),
        stated_pct: f(&["stated_achievement_pct", "ty le dat ghi kem"]),
        stated_change: f(&["stated_vs_prev_year_pct", "so cung ky ghi kem"]),
        status: f(&["status", "tinh trang so lieu"]),
        notes: f(&["notes", "ghi chu"]),
    }
}

pub(super) fn header_where(table: &Table, wanted: impl Fn(&Columns) -> bool) -> Option<usize> {
    table
        .rows
        .iter()
        .take(20)
        .position(|(_, cells)| wanted(&columns(cells)))
}

/// The row index of a targets-table header, if the table is one.
pub fn targets_header(table: &Table) -> Option<usize> {
    header_where(table, |c| {
        c.name.is_some() && c.kind.is_some() && c.value.is_some()
    })
}

/// The row index of an actuals-table header, if the table is one.
pub fn actuals_header(table: &Table) -> Option<usize> {
    header_where(table, |c| {
        c.name.is_some() && c.value.is_some() && c.status.is_some() && c.kind.is_none()
    })
}

/// One row's cells by column.
pub(super) struct Row<'a> {
    pub(super) line: usize,
    pub(super) cells: &'a [Cell],
    pub(super) columns: &'a Columns,
}

impl Row<'_> {
    pub(super) fn get(&self, column: Option<usize>) -> &str {
        column
            .and_then(|i| self.cells.get(i))
            .map_or("", |c| c.text.as_str())
    }

    pub(super) fn number(
        &self,
        column: Option<usize>,
        name: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<Decimal> {
        let cell = column.and_then(|i| self.cells.get(i))?;
        if let Some(n) = cell.number {
            return Some(n);
        }
        if cell.text.is_empty() {
            return None;
        }
        match parse_plain(&cell.text) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(Problem::of(self.line, Some(name), &e));
                None
            }
        }
    }
}
