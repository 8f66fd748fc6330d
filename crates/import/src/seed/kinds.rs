//! A target's kind and figures from a row's columns (or from its wording).

use super::*;

/// The target of a row from its kind and figure columns; the verbatim text
/// adds what the columns do not say (strict bounds, how a reduction is
/// measured, a milestone's deadline).
pub(super) fn target_kind(row: &Row, problems: &mut Vec<Problem>) -> Option<TargetKind> {
    let kind = search_key(row.get(row.columns.kind));
    let value = row.number(row.columns.value, "value", problems);
    let high = row.number(row.columns.value_high, "value_high", problems);
    let base = row.number(row.columns.base, "base_value", problems);
    let parsed = parse_target_text(row.get(row.columns.text));
    let value_given = !row.get(row.columns.value).is_empty();
    let need = |v: Option<Decimal>, problems: &mut Vec<Problem>| {
        // An unreadable figure is listed once, by `Row::number`.
        if v.is_none() && !value_given {
            problems.push(Problem::at(
                row.line,
                Some("value"),
                format!("a `{kind}` target needs a value"),
                format!("chỉ tiêu dạng `{kind}` cần một giá trị"),
            ));
        }
        v
    };
    // What a kind holds beyond its figures: from its own column where the
    // table has one (an export), else from the wording (the seed tables).
    let column = |c: Option<usize>| {
        let v = search_key(row.get(c));
        (!v.is_empty()).then_some(v)
    };
    let unknown = |name: &str, value: &str, allowed: &str, problems: &mut Vec<Problem>| {
        problems.push(Problem::at(
            row.line,
            Some(name),
            format!("`{value}` is not {allowed}"),
            format!("`{value}` không phải {allowed}"),
        ));
    };
    let bound = column(row.columns.bound);
    let strict = |v: Decimal, problems: &mut Vec<Problem>| -> Option<bool> {
        match bound.as_deref() {
            Some("strict") => Some(true),
            Some("inclusive") => Some(false),
            Some(other) => {
                unknown("bound", other, "strict / inclusive", problems);
                None
            }
            None => Some(parsed.iter().any(|p| {
                matches!(p.kind,
                    TargetKind::AtLeast { value, strict: true } | TargetKind::AtMost { value, strict: true }
                    if value == v)
            })),
        }
    };
    Some(match kind.as_str() {
        "at_least" => {
            let value = need(value, problems)?;
            TargetKind::AtLeast {
                value,
                strict: strict(value, problems)?,
            }
        }
        "at_most" => {
            let value = need(value, problems)?;
            TargetKind::AtMost {
                value,
                strict: strict(value, problems)?,
            }
        }
        "exact" | "plain" => TargetKind::Plain {
            value: need(value, problems)?,
            base,
        },
        "range" => {
            let low = need(value, problems)?;
            let Some(high) = high else {
                problems.push(Problem::at(
                    row.line,
                    Some("value_high"),
                    "a range needs value_high",
                    "khoảng chỉ tiêu cần value_high",
                ));
                return None;
            };
            TargetKind::Range { low, high }
        }
        "growth_pct" | "growth" => TargetKind::Growth {
            rate: need(value, problems)?,
            base,
            value: row.number(row.columns.growth_figure, "growth_figure", problems),
        },
        "reduce_by" => {
            let amount = need(value, problems)?;
            let measure = match column(row.columns.reduction) {
                Some(name) => match Reduction::from_table_name(&name) {
                    Some(m) => m,
                    None => {
                        unknown("reduction", &name, "absolute / percent_of_base", problems);
                        return None;
                    }
                },
                None => parsed
                    .iter()
                    .find_map(|p| match p.kind {
                        TargetKind::ReduceBy {
                            amount: a, measure, ..
                        } if a == amount => Some(measure),
                        _ => None,
                    })
                    .unwrap_or(Reduction::Absolute),
            };
            TargetKind::ReduceBy {
                amount,
                measure,
                base,
            }
        }
        "maintain" => TargetKind::Maintain { level: value },
        "relative_to_period" => {
            let stated = parsed.iter().find_map(|p| match &p.kind {
                TargetKind::RelativeToPeriod { period, direction } => Some((*period, *direction)),
                _ => None,
            });
            let period = match column(row.columns.compared_period) {
                Some(_) => {
                    let raw = row.get(row.columns.compared_period);
                    match Period::parse(raw) {
                        Ok(p) => Some(p),
                        Err(_) => {
                            unknown(
                                "compared_period",
                                raw,
                                "a period (2024, 2020-2025)",
                                problems,
                            );
                            return None;
                        }
                    }
                }
                None => stated.map(|s| s.0),
            };
            let direction = match column(row.columns.direction) {
                Some(name) => match Direction::from_table_name(&name) {
                    Some(d) => Some(d),
                    None => {
                        unknown("direction", &name, "lower / higher", problems);
                        return None;
                    }
                },
                None => stated.map(|s| s.1),
            };
            let (Some(period), Some(direction)) = (period, direction) else {
                problems.push(Problem::at(
                    row.line,
                    Some("compared_period"),
                    "a relative_to_period target needs the period it is compared with and its direction (compared_period, direction, or the wording: \"giảm … so với năm 2024\")",
                    "chỉ tiêu so sánh với kỳ khác cần kỳ so sánh và chiều (compared_period, direction, hoặc lời văn: \"giảm … so với năm 2024\")",
                ));
                return None;
            };
            TargetKind::RelativeToPeriod { period, direction }
        }
        "milestone" => {
            let written = row.get(row.columns.deadline);
            let deadline = if written.is_empty() {
                // Absent the column, the deadline the text states, if any.
                parsed.iter().find_map(|p| match p.kind {
                    TargetKind::Milestone { deadline } => deadline,
                    _ => None,
                })
            } else {
                match parse_date(written) {
                    Some(d) => Some(d),
                    None => {
                        problems.push(Problem::at(
                            row.line,
                            Some("deadline"),
                            format!("`{written}` is not a date (2025-12-31 or 31/12/2025)"),
                            format!("`{written}` không phải là ngày (2025-12-31 hoặc 31/12/2025)"),
                        ));
                        return None;
                    }
                }
            };
            TargetKind::Milestone { deadline }
        }
        other => {
            problems.push(Problem::at(row.line, Some("kind"), format!("`{other}` is not at_least, at_most, exact, range, growth_pct, reduce_by, relative_to_period, maintain or milestone"), format!("`{other}` không phải at_least, at_most, exact, range, growth_pct, reduce_by, relative_to_period, maintain hay milestone")));
            return None;
        }
    })
}
