//! The `Query` root.

use crate::auth::{check_unit, reach, require, require_at, Permission, Reach};
use crate::connection::{
    decode_cursor, encode_cursor, page_size, AuditConnection, AuditCount, IndicatorConnection,
    TotalCount,
};
use crate::error::{ApiError, ApiResult};
use crate::periods::*;
use crate::scalars::Date;
use crate::types::*;
use crate::App;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, InputObject, Object, ID};
use chitieu_domain::{IndicatorId, OrgUnitCode, Period};
use chitieu_projector::{AuditFilter as ReadAuditFilter, IndicatorFilter as ReadFilter};
use chrono::{DateTime, Utc};

/// Which indicators to list.
#[derive(InputObject, Default)]
pub struct IndicatorFilter {
    /// Of this org unit (code).
    pub org_unit: Option<ID>,
    /// And of its descendants.
    #[graphql(default = false)]
    pub include_descendants: bool,
    /// Of this period (`2024`, `2020-2025`, `2022-2023`, `by 2025`).
    pub period: Option<String>,
    /// Of this field.
    pub category: Option<Category>,
    /// Whose status at the end of the period is this one.
    pub status: Option<AchievementStatus>,
    /// Whose name contains this, ignoring diacritics and case.
    pub name: Option<String>,
}

/// Which audit entries to list.
#[derive(InputObject, Default)]
pub struct AuditFilter {
    /// Changes by this principal.
    pub actor: Option<String>,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded at or before.
    pub to: Option<DateTime<Utc>>,
    /// Concerning this org unit or its descendants.
    pub org_unit: Option<ID>,
    /// Of this event type (`target_revised`, `actual_reported`, …).
    pub kind: Option<String>,
}

pub(crate) fn parse_indicator_id(id: &ID) -> ApiResult<IndicatorId> {
    uuid::Uuid::parse_str(id.as_str())
        .map(IndicatorId)
        .map_err(|_| {
            ApiError::validation(
                format!("`{}` is not an indicator id", id.as_str()),
                format!("`{}` không phải là mã của một chỉ tiêu", id.as_str()),
            )
        })
}

pub(crate) fn parse_org_unit(id: &ID) -> ApiResult<OrgUnitCode> {
    OrgUnitCode::parse(id.as_str()).map_err(|e| ApiError::invalid(&e))
}

pub(crate) fn parse_period(raw: &str) -> ApiResult<Period> {
    Period::parse(raw).map_err(|e| ApiError::invalid(&e))
}

/// For the per-org-unit, per-period fields: the caller may read current
/// state, the org unit exists, the period parses.
fn org_unit_and_period(
    ctx: &Context<'_>,
    org_unit: &ID,
    period: &str,
) -> ApiResult<(OrgUnitCode, Period)> {
    require(ctx, Permission::ReadCurrent)?;
    let code = parse_org_unit(org_unit)?;
    let period = parse_period(period)?;
    require_at(ctx, Permission::ReadCurrent, &code)?;
    if ctx.data_unchecked::<App>().read.org_unit(&code)?.is_none() {
        return Err(ApiError::not_found(
            format!("org unit {code} not found"),
            format!("đơn vị {code} không tồn tại"),
        ));
    }
    Ok((code, period))
}

/// The log position a read answers as of: an instant (`asOf`) or an
/// approval (`approval`, the position it was given at); `None` for now.
fn as_of_position(
    ctx: &Context<'_>,
    as_of: Option<DateTime<Utc>>,
    approval: Option<&ID>,
) -> ApiResult<Option<u64>> {
    let app = ctx.data_unchecked::<App>();
    match (as_of, approval) {
        (Some(_), Some(_)) => Err(ApiError::validation(
            "give `asOf` or `approval`, not both",
            "chỉ gửi `asOf` hoặc `approval`, không gửi cả hai",
        )),
        (Some(instant), None) => Ok(Some(app.service.position_at(instant)?)),
        (None, Some(id)) => {
            let id = parse_approval_id(id)?;
            let view = app.read.approval(id)?.ok_or_else(|| {
                ApiError::not_found(
                    format!("approval {id} not found"),
                    format!("phê duyệt {id} không tồn tại"),
                )
            })?;
            Ok(Some(view.approved.position))
        }
        (None, None) => Ok(None),
    }
}

/// A page of indicators: (cursor, view) items, whether pages come before
/// and after, the number of matches.
type Window = (
    Vec<(String, std::sync::Arc<chitieu_projector::IndicatorView>)>,
    bool,
    bool,
    usize,
);

/// Items `[start, end)` of a list of `total`, for `size` items after
/// (`backward == false`) or before the item at `at` (`None`: the start, or
/// the end going backward).
fn window(at: Option<usize>, backward: bool, size: usize, total: usize) -> (usize, usize) {
    if backward {
        let end = at.unwrap_or(total).min(total);
        (end.saturating_sub(size), end)
    } else {
        let start = at.map_or(0, |a| a + 1).min(total);
        (start, (start + size).min(total))
    }
}

fn bad_cursor(cursor: &str) -> ApiError {
    ApiError::validation(
        format!("`{cursor}` is not a cursor of this list"),
        format!("`{cursor}` không phải là con trỏ của danh sách này"),
    )
}

/// The current list. Forward from a keyset cursor (`k…`) or the start,
/// for every filter: by key, reading the page (`ReadModel::page_after`).
/// Backward, or from an offset cursor (`i…`), by offset (a keyset cursor
/// becomes its offset by counting the matches before it).
fn current_window(
    app: &App,
    filter: &ReadFilter,
    cursor: Option<&str>,
    backward: bool,
    size: usize,
) -> ApiResult<Window> {
    let key = match cursor {
        Some(c) if c.starts_with('k') => Some(hex::decode(&c[1..]).map_err(|_| bad_cursor(c))?),
        _ => None,
    };
    if !backward && (cursor.is_none() || key.is_some()) {
        if let Some((page, has_next, total)) = app.read.page_after(filter, key.as_deref(), size)? {
            let items = page
                .into_iter()
                .map(|(key, view)| (format!("k{}", hex::encode(key)), view))
                .collect();
            return Ok((items, key.is_some(), has_next, total));
        }
    }
    let at = match (cursor, &key) {
        (None, _) => None,
        (Some(c), Some(key)) => Some(
            app.read
                .offset_of_key(filter, key)?
                .ok_or_else(|| bad_cursor(c))?,
        ),
        (Some(c), None) => {
            Some(decode_cursor("i", Some(c))?.ok_or_else(|| bad_cursor(c))? as usize)
        }
    };
    // `at` is the cursor item's offset; a keyset cursor counts the keys
    // before its own, which is its offset too.
    let total = app.read.page(filter, 0, 0)?.1;
    let (start, end) = window(at, backward, size, total);
    let (views, total) = app.read.page(filter, start, end - start)?;
    let items = (start..)
        .zip(views)
        .map(|(i, view)| (encode_cursor("i", i as u64), std::sync::Arc::new(view)))
        .collect();
    Ok((items, start > 0, end < total, total))
}

/// The list as it was at log position `p`: the indicators defined by then
/// (and, with a status filter, whose status then was that one), each as
/// recorded then. Paged by offset (`a…` cursors).
fn as_of_window(
    app: &App,
    filter: &ReadFilter,
    p: u64,
    cursor: Option<&str>,
    backward: bool,
    size: usize,
) -> ApiResult<Window> {
    let status = filter.status;
    let definitions = ReadFilter {
        status: None,
        ..filter.clone()
    };
    let existing: Vec<_> = app
        .read
        .list(&definitions)?
        .into_iter()
        .filter(|v| v.defined.position <= p)
        .collect();
    let then: Vec<std::sync::Arc<chitieu_projector::IndicatorView>> = match status {
        // The status then is the status of the view folded then.
        Some(wanted) => {
            let mut kept = Vec::new();
            for v in &existing {
                if let Some(then) = app.read.indicator_at(v.definition.id, p)? {
                    if then.settled_status() == wanted {
                        kept.push(std::sync::Arc::new(then));
                    }
                }
            }
            kept
        }
        None => existing.into_iter().map(std::sync::Arc::new).collect(),
    };
    let total = then.len();
    let at = match cursor {
        Some(c) => Some(decode_cursor("a", Some(c))?.ok_or_else(|| bad_cursor(c))? as usize),
        None => None,
    };
    let (start, end) = window(at, backward, size, total);
    let mut items = Vec::with_capacity(end - start);
    for (i, view) in then.iter().enumerate().take(end).skip(start) {
        let view = if status.is_some() {
            view.clone()
        } else {
            match app.read.indicator_at(view.definition.id, p)? {
                Some(v) => std::sync::Arc::new(v),
                None => continue,
            }
        };
        items.push((encode_cursor("a", i as u64), view));
    }
    Ok((items, start > 0, end < total, total))
}

/// Read access to current state, history, the audit trail and the ledger.
pub struct QueryRoot;

/// Read access to current state, history, the audit trail and the ledger.
///
/// Messages are in Vietnamese unless the request's `Accept-Language`
/// prefers English (`en`); the codes are the same in both.
///
/// Every error carries `extensions.code`:
/// `VALIDATION` (the input, the document or the command breaks a rule),
/// `LIMIT_EXCEEDED` (depth, complexity, directives; the message says the limit),
/// `UNAUTHENTICATED` (no valid token; HTTP 401 with `WWW-Authenticate`, 429 after too many failures),
/// `FORBIDDEN` (no grant allows this here),
/// `NOT_FOUND`,
/// `CONFLICT` (someone wrote first; `extensions.currentVersion`),
/// `PERIOD_LOCKED` (the reporting period is approved or locked),
/// `PAYLOAD_TOO_LARGE` (an import past its budget),
/// `TIMEOUT` (the work took longer than its budget),
/// `UNAVAILABLE` (the shared log cannot be reached; `extensions.retryable`),
/// `STORAGE_UNAVAILABLE` (a storage fault; `extensions.retryable`),
/// `PERSISTED_QUERY_NOT_FOUND` (send the query text with its hash),
/// `PERSISTED_QUERY_REQUIRED` (this server runs only known operations),
/// `INTERNAL` (with a reference to the server log).
#[Object]
impl QueryRoot {
    /// One indicator, as it stands or as it was recorded at `asOf`.
    async fn indicator(
        &self,
        ctx: &Context<'_>,
        id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Option<Indicator>> {
        let reach = reach(
            ctx,
            if as_of.is_some() {
                Permission::ReadAudit
            } else {
                Permission::ReadCurrent
            },
        )?;
        let app = ctx.data_unchecked::<App>();
        let id = parse_indicator_id(&id)?;
        let view = match as_of {
            Some(instant) => app
                .read
                .indicator_as_of(id, instant)
                .map_err(ApiError::from)?
                .map(std::sync::Arc::new),
            None => app.read.indicator_shared(id).map_err(ApiError::from)?,
        };
        if let Some(view) = &view {
            check_unit(ctx, &reach, &view.definition.org_unit)?;
        }
        Ok(view.map(Indicator))
    }

    /// Indicators matching a filter, ordered by org unit, period and code;
    /// with `asOf` or `approval`, those that existed then, as they were
    /// recorded then. Pages forward (`first`, `after`) or backward
    /// (`last`, `before`).
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn indicators(
        &self,
        ctx: &Context<'_>,
        filter: Option<IndicatorFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        as_of: Option<DateTime<Utc>>,
        approval: Option<ID>,
    ) -> async_graphql::Result<IndicatorConnection> {
        let reach = reach(
            ctx,
            if as_of.is_some() || approval.is_some() {
                Permission::ReadAudit
            } else {
                Permission::ReadCurrent
            },
        )?;
        if first.is_some() && last.is_some() {
            return Err(ApiError::validation(
                "give `first` or `last`, not both",
                "chỉ gửi `first` hoặc `last`, không gửi cả hai",
            )
            .into());
        }
        if after.is_some() && before.is_some() {
            return Err(ApiError::validation(
                "give `after` or `before`, not both",
                "chỉ gửi `after` hoặc `before`, không gửi cả hai",
            )
            .into());
        }
        let backward = last.is_some() || before.is_some();
        let size = page_size(if backward { last } else { first })?;
        let app = ctx.data_unchecked::<App>();
        let f = filter.unwrap_or_default();
        let mut read_filter = ReadFilter {
            org_unit: f.org_unit.as_ref().map(parse_org_unit).transpose()?,
            include_descendants: f.include_descendants,
            period: f.period.as_deref().map(parse_period).transpose()?,
            category: f.category.map(Into::into),
            status: f.status.map(Into::into),
            name: f.name,
            within: None,
        };
        // A scoped reader lists its subtrees: a named unit must lie in one
        // (its descendants then do too); without one, one subtree is the
        // index's org-unit filter, several a restriction on the list.
        if let Reach::Within(roots) = &reach {
            match &read_filter.org_unit {
                Some(unit) => check_unit(ctx, &reach, unit)?,
                None if roots.len() == 1 => {
                    read_filter.org_unit = Some(roots[0].clone());
                    read_filter.include_descendants = true;
                }
                None => read_filter.within = Some(roots.clone()),
            }
        }
        let position = as_of_position(ctx, as_of, approval.as_ref())?;
        let cursor = if backward { &before } else { &after };
        let (items, has_previous, has_next, total) = match position {
            Some(p) => as_of_window(app, &read_filter, p, cursor.as_deref(), backward, size)?,
            None => current_window(app, &read_filter, cursor.as_deref(), backward, size)?,
        };
        let mut connection = Connection::with_additional_fields(
            has_previous,
            has_next,
            TotalCount {
                total_count: total as u64,
            },
        );
        for (cursor, view) in items {
            connection.edges.push(Edge::new(cursor, Indicator(view)));
        }
        Ok(connection)
    }

    /// Every change, across all indicators, matching a filter.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn audit_trail(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AuditConnection> {
        let reach = reach(ctx, Permission::ReadAudit)?;
        let first = page_size(first)?;
        let after = decode_cursor("p", after.as_deref())?.unwrap_or(0);
        let f = filter.unwrap_or_default();
        let org_unit = f.org_unit.as_ref().map(parse_org_unit).transpose()?;
        if let Some(unit) = &org_unit {
            check_unit(ctx, &reach, unit)?;
        }
        let read_filter = ReadAuditFilter {
            actor: f.actor,
            from: f.from,
            to: f.to,
            org_unit,
            kind: f.kind,
            within: match reach {
                Reach::Everywhere => None,
                Reach::Within(roots) => Some(roots),
            },
        };
        let app = ctx.data_unchecked::<App>();
        let entries = app
            .read
            .audit(&read_filter, after, first + 1)
            .map_err(ApiError::from)?;
        let has_next = entries.len() > first;
        let mut connection = Connection::with_additional_fields(
            after > 0,
            has_next,
            AuditCount {
                filter: read_filter,
            },
        );
        for entry in entries.into_iter().take(first) {
            connection
                .edges
                .push(Edge::new(encode_cursor("p", entry.position), entry.into()));
        }
        Ok(connection)
    }

    /// Counts by status of the indicators of a period in an org unit and
    /// every unit under it (a district counts its towns and communes;
    /// `includeDescendants: false` counts the unit's own only); with
    /// `asOf` or `approval`, as they were recorded then.
    async fn summary(
        &self,
        ctx: &Context<'_>,
        org_unit: ID,
        period: String,
        as_of: Option<DateTime<Utc>>,
        approval: Option<ID>,
        #[graphql(default = true)] include_descendants: bool,
    ) -> async_graphql::Result<Summary> {
        let (code, period) = org_unit_and_period(ctx, &org_unit, &period)?;
        let app = ctx.data_unchecked::<App>();
        let at = as_of_position(ctx, as_of, approval.as_ref())?;
        if at.is_some() {
            require_at(ctx, Permission::ReadAudit, &code)?;
        }
        let s = match (at, include_descendants) {
            (at, true) => app.read.summary_of_subtree(&code, period, at),
            (Some(position), false) => app.read.summary_at(&code, period, position),
            (None, false) => app.read.summary(&code, period),
        }
        .map_err(ApiError::from)?;
        Ok(Summary::of(&code, &period.to_string(), s))
    }

    /// An org unit's indicators of a period as CSV in the documents' layout
    /// (indicator, target, result, % achieved, vượt / đạt / chưa đạt,
    /// change on last year, findings), figures exact; with those of the
    /// units under it, their unit's name in brackets
    /// (`includeDescendants`, by default unless `approval` is given: an
    /// approval binds the unit's own figures).
    /// With `asOf` or `approval`, the report as recorded then (the
    /// approved report, printed again).
    async fn indicator_report_csv(
        &self,
        ctx: &Context<'_>,
        org_unit: ID,
        period: String,
        as_of: Option<DateTime<Utc>>,
        approval: Option<ID>,
        include_descendants: Option<bool>,
    ) -> async_graphql::Result<String> {
        let (code, period) = org_unit_and_period(ctx, &org_unit, &period)?;
        let at = as_of_position(ctx, as_of, approval.as_ref())?;
        if at.is_some() {
            require_at(ctx, Permission::ReadAudit, &code)?;
        }
        let app = ctx.data_unchecked::<App>();
        let descendants = include_descendants.unwrap_or(approval.is_none());
        Ok(chitieu_projector::report::csv_report(
            &app.read,
            &code,
            period,
            (app.today)(),
            at,
            descendants,
        )
        .map_err(ApiError::from)?)
    }

    /// The same report as an XLSX workbook, base64-encoded.
    /// With `asOf` or `approval`, as recorded then.
    async fn indicator_report_xlsx(
        &self,
        ctx: &Context<'_>,
        org_unit: ID,
        period: String,
        as_of: Option<DateTime<Utc>>,
        approval: Option<ID>,
        include_descendants: Option<bool>,
    ) -> async_graphql::Result<String> {
        use base64::Engine;
        let (code, period) = org_unit_and_period(ctx, &org_unit, &period)?;
        let at = as_of_position(ctx, as_of, approval.as_ref())?;
        if at.is_some() {
            require_at(ctx, Permission::ReadAudit, &code)?;
        }
        let app = ctx.data_unchecked::<App>();
        let descendants = include_descendants.unwrap_or(approval.is_none());
        let bytes = chitieu_projector::report::xlsx_report(
            &app.read,
            &code,
            period,
            (app.today)(),
            at,
            descendants,
        )
        .map_err(|e| ApiError::internal(&e))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// Every target of an org unit (and its descendants) in a period, as a
    /// tab-separated table in the seed-table layout: one row per target
    /// with its kind and exact figures. `importTable` reads it back.
    async fn targets_table(
        &self,
        ctx: &Context<'_>,
        org_unit: ID,
        period: String,
    ) -> async_graphql::Result<String> {
        let (code, period) = org_unit_and_period(ctx, &org_unit, &period)?;
        let app = ctx.data_unchecked::<App>();
        let filter = chitieu_projector::IndicatorFilter {
            org_unit: Some(code),
            include_descendants: true,
            period: Some(period),
            ..Default::default()
        };
        Ok(
            chitieu_projector::targets_table::targets_table(&app.read, &filter)
                .map_err(ApiError::from)?,
        )
    }

    /// The inconsistencies inside the recorded figures of an org unit (and
    /// of the units under it, unless `includeDescendants: false`) in a
    /// period, or in every period: stated percentages their own figures do
    /// not give, parts that do not sum to their total, results reported as
    /// met that miss a target, tracks that disagree, a document stating a
    /// target two ways, a stated change on the year before that the
    /// previous figure does not give, targets that plan no improvement.
    /// Each names the indicators and figures involved.
    async fn findings(
        &self,
        ctx: &Context<'_>,
        org_unit: ID,
        period: Option<String>,
        #[graphql(default = true)] include_descendants: bool,
    ) -> async_graphql::Result<Vec<Finding>> {
        require(ctx, Permission::ReadCurrent)?;
        let code = parse_org_unit(&org_unit)?;
        require_at(ctx, Permission::ReadCurrent, &code)?;
        let period = period.as_deref().map(parse_period).transpose()?;
        let app = ctx.data_unchecked::<App>();
        if app.read.org_unit(&code).map_err(ApiError::from)?.is_none() {
            return Err(ApiError::not_found(
                format!("org unit {code} not found"),
                format!("đơn vị {code} không tồn tại"),
            )
            .into());
        }
        let found = app
            .read
            .findings(&code, period, include_descendants)
            .map_err(ApiError::from)?;
        let mut out = Vec::with_capacity(found.len());
        for f in found {
            let name = app
                .read
                .indicator(f.indicator)
                .map_err(ApiError::from)?
                .map(|v| v.definition.name.to_string())
                .unwrap_or_default();
            out.push(Finding::of(f, name));
        }
        Ok(out)
    }

    /// Every org unit; with `on`, those that existed that day (had not
    /// ceased by then: `orgUnits(on: "2025-06-30")` lists the districts,
    /// `orgUnits(on: "2025-07-01")` does not).
    async fn org_units(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<Vec<OrgUnit>> {
        require(ctx, Permission::ReadCurrent)?;
        Ok(ctx
            .data_unchecked::<App>()
            .read
            .org_units()
            .map_err(ApiError::from)?
            .into_iter()
            .filter(|u| on.is_none() || crate::types::exists_on(u, on.map(|d| d.0)))
            .map(OrgUnit)
            .collect())
    }

    /// The figures of a period over a unit and the units it succeeded
    /// (`lineage`): a commune made in 2025 seen in 2024 is the communes it
    /// was made of. Indicators are matched by name and unit as written;
    /// amounts add up, and rates, shares and per-mille do not (`total` is
    /// then empty and `whyNoTotal` says so): every part is listed.
    async fn lineage_figures(
        &self,
        ctx: &Context<'_>,
        org_unit: ID,
        period: String,
    ) -> async_graphql::Result<Vec<LineageFigure>> {
        let (code, period) = org_unit_and_period(ctx, &org_unit, &period)?;
        let app = ctx.data_unchecked::<App>();
        let lineage = app.read.lineage(&code).map_err(ApiError::from)?;
        for unit in &lineage {
            require_at(ctx, Permission::ReadCurrent, &unit.unit.code)?;
        }
        let mut groups: Vec<LineageFigure> = Vec::new();
        for unit in &lineage {
            let filter = ReadFilter {
                org_unit: Some(unit.unit.code.clone()),
                period: Some(period),
                ..ReadFilter::default()
            };
            for view in app.read.list(&filter).map_err(ApiError::from)? {
                let d = &view.definition;
                let name_key = chitieu_domain::text::search_key(d.name.as_str());
                let unit_text = d.unit.as_ref().map(|u| u.as_str().to_owned());
                let part = LineagePart {
                    org_unit: d.org_unit.to_string(),
                    indicator: ID(d.id.to_string()),
                    figure: view.current_figure().map(crate::scalars::Decimal),
                };
                match groups.iter_mut().find(|g| {
                    chitieu_domain::text::search_key(&g.name) == name_key
                        && g.unit == unit_text
                        && g.measure == d.measure.into()
                }) {
                    Some(group) => group.parts.push(part),
                    None => groups.push(LineageFigure {
                        name: d.name.to_string(),
                        unit: unit_text,
                        measure: d.measure.into(),
                        additive: d.measure.is_additive(),
                        total: None,
                        no_total_because: None,
                        parts: vec![part],
                    }),
                }
            }
        }
        for group in &mut groups {
            let figures: Option<Vec<rust_decimal::Decimal>> =
                group.parts.iter().map(|p| p.figure.map(|f| f.0)).collect();
            match (group.additive, figures) {
                (true, Some(figures)) => {
                    group.total = figures
                        .into_iter()
                        .try_fold(rust_decimal::Decimal::ZERO, |a, b| a.checked_add(b))
                        .map(crate::scalars::Decimal);
                }
                (true, None) => group.no_total_because = Some(NoTotal::MissingFigures),
                (false, _) => group.no_total_because = Some(NoTotal::NotAdditive),
            }
        }
        Ok(groups)
    }

    /// One org unit by its code, ceased or not.
    async fn org_unit(
        &self,
        ctx: &Context<'_>,
        code: ID,
    ) -> async_graphql::Result<Option<OrgUnit>> {
        require(ctx, Permission::ReadCurrent)?;
        let code = parse_org_unit(&code)?;
        Ok(ctx
            .data_unchecked::<App>()
            .read
            .org_unit(&code)
            .map_err(ApiError::from)?
            .map(OrgUnit))
    }

    /// Every document.
    async fn documents(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Document>> {
        require(ctx, Permission::ReadCurrent)?;
        Ok(ctx
            .data_unchecked::<App>()
            .read
            .documents()
            .map_err(ApiError::from)?
            .into_iter()
            .map(Document)
            .collect())
    }

    /// Every principal with its grants (who may change what; the history of
    /// each grant is in the audit trail, kinds `role_granted`, `grant_revoked`, …).
    /// For admins, and for auditors whose grants reach every org unit (a
    /// rights review); a reader scoped to a subtree gets `FORBIDDEN`.
    async fn principals(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Principal>> {
        let admin = require(ctx, Permission::ReadAudit)?
            .is_some_and(|p| p.may(Permission::ManagePrincipals));
        if !admin && reach(ctx, Permission::ReadAudit)? != Reach::Everywhere {
            return Err(ApiError::forbidden(
                "the list of principals is for admins and for auditors of every org unit",
                "danh sách người dùng chỉ dành cho quản trị viên và kiểm tra viên của mọi đơn vị",
            )
            .into());
        }
        let app = ctx.data_unchecked::<App>();
        Ok(app
            .service
            .with_state(|s| {
                s.principals
                    .iter()
                    .map(|(id, p)| Principal::from_state(id, p))
                    .collect()
            })
            .map_err(ApiError::from)?)
    }

    /// The principal of the request's token.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Principal>> {
        let Some(me) = require(ctx, Permission::ReadCurrent)? else {
            return Ok(None);
        };
        let app = ctx.data_unchecked::<App>();
        Ok(app
            .service
            .with_state(|s| {
                s.principals
                    .get(&me.principal)
                    .map(|p| Principal::from_state(&me.principal, p))
            })
            .map_err(ApiError::from)?)
    }

    /// The head of the log (position, chain hash, and `signedHead` with
    /// its Merkle root) for an auditor to record; with `at`, the log as it
    /// stood at that position.
    async fn ledger(&self, ctx: &Context<'_>, at: Option<u64>) -> async_graphql::Result<Ledger> {
        require(ctx, Permission::ReadAudit)?;
        let app = ctx.data_unchecked::<App>();
        let head = match at {
            None => app.service.head(),
            Some(at) if at > app.service.head().position => {
                return Err(ApiError::not_found(
                    format!(
                        "the log holds {} records, not {at}",
                        app.service.head().position
                    ),
                    format!(
                        "nhật ký có {} bản ghi, không có {at}",
                        app.service.head().position
                    ),
                )
                .into())
            }
            Some(at) => app.service.head_at(at).map_err(ApiError::from)?,
        };
        Ok(Ledger {
            position: head.position,
            hash: hex::encode(head.hash),
            projected_position: app.read.projector().position(),
        })
    }

    /// Proof that the record at `position` is in the log at the signed
    /// head of size `size` (the current head if omitted). Shows the record
    /// whatever it concerns: for auditors whose grant reaches everywhere.
    async fn inclusion_proof(
        &self,
        ctx: &Context<'_>,
        position: u64,
        size: Option<u64>,
    ) -> async_graphql::Result<crate::evidence::InclusionProof> {
        Ok(
            crate::evidence::inclusion(ctx, position, size, crate::evidence::Subject::AnyRecord)
                .await?,
        )
    }

    /// Proof that the log at size `from` (a head an auditor recorded) is a
    /// prefix of the log at size `to` (the current head if omitted).
    async fn consistency_proof(
        &self,
        ctx: &Context<'_>,
        from: u64,
        to: Option<u64>,
    ) -> async_graphql::Result<crate::evidence::ConsistencyProof> {
        Ok(crate::evidence::consistency(ctx, from, to).await?)
    }

    /// Walks the whole hash chain and reports the first break, if any.
    async fn verify_ledger(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] full: bool,
    ) -> async_graphql::Result<LedgerVerification> {
        require(ctx, Permission::ReadAudit)?;
        let app = ctx.data_unchecked::<App>();
        let checked = app.verifier.verify().await.map_err(ApiError::from)?;
        let full_check = if full {
            Some(app.verifier.start_full())
        } else {
            app.verifier.full_check()
        };
        let report = checked.report;
        Ok(LedgerVerification {
            ok: report.first_break.is_none(),
            checked: report.checked,
            from: checked.from,
            position: report.head.position,
            hash: hex::encode(report.head.hash),
            broken_at: report.first_break.as_ref().map(|b| b.0),
            reason: report.first_break.map(|b| b.1),
            full_check: full_check.map(Into::into),
        })
    }

    /// A reporting period of an org unit (`2022`, `2022-H1`, `2022-Q3`,
    /// `2020-2025`): its status, steps and approvals.
    async fn period(
        &self,
        ctx: &Context<'_>,
        org_unit: ID,
        period: String,
    ) -> async_graphql::Result<ReportingPeriodState> {
        require(ctx, Permission::ReadCurrent)?;
        let app = ctx.data_unchecked::<App>();
        let code = parse_org_unit(&org_unit)?;
        let period = parse_reporting_period(&period)?;
        require_at(ctx, Permission::ReadCurrent, &code)?;
        if app.read.org_unit(&code)?.is_none() {
            return Err(ApiError::not_found(
                format!("org unit {code} not found"),
                format!("đơn vị {code} không tồn tại"),
            )
            .into());
        }
        Ok(ReportingPeriodState(app.read.period(&code, period)?))
    }

    /// Every reporting period of an org unit that left the open state.
    async fn periods(
        &self,
        ctx: &Context<'_>,
        org_unit: ID,
    ) -> async_graphql::Result<Vec<ReportingPeriodState>> {
        require(ctx, Permission::ReadCurrent)?;
        let app = ctx.data_unchecked::<App>();
        let code = parse_org_unit(&org_unit)?;
        require_at(ctx, Permission::ReadCurrent, &code)?;
        Ok(app
            .read
            .periods(&code)?
            .into_values()
            .map(ReportingPeriodState)
            .collect())
    }

    /// The digest the figures of a period have now, with its canonical
    /// serialisation: what an approval would bind (pass it to
    /// `approvePeriod` as `expectedDigest`).
    async fn period_digest(
        &self,
        ctx: &Context<'_>,
        org_unit: ID,
        period: String,
    ) -> async_graphql::Result<PeriodDigest> {
        require(ctx, Permission::ReadAudit)?;
        let code = parse_org_unit(&org_unit)?;
        let period = parse_reporting_period(&period)?;
        require_at(ctx, Permission::ReadAudit, &code)?;
        Ok(current_digest(ctx, &code, period)?)
    }

    /// An approval by its id.
    async fn approval(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Approval>> {
        let reach = reach(ctx, Permission::ReadAudit)?;
        let app = ctx.data_unchecked::<App>();
        let view = app.read.approval(parse_approval_id(&id)?)?;
        if let Some(view) = &view {
            check_unit(ctx, &reach, &view.unit)?;
        }
        Ok(view.map(Approval))
    }

    /// Recomputes an approval's digest from the log: whether the figures
    /// are still those approved, and if not which indicators changed,
    /// with the events that changed them.
    async fn verify_approval(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ApprovalCheck> {
        let reach = reach(ctx, Permission::ReadAudit)?;
        let id = parse_approval_id(&id)?;
        if let Some(view) = ctx.data_unchecked::<App>().read.approval(id)? {
            check_unit(ctx, &reach, &view.unit)?;
        }
        Ok(verify(ctx, id)?.ok_or_else(|| {
            ApiError::not_found(
                format!("approval {id} not found"),
                format!("phê duyệt {id} không tồn tại"),
            )
        })?)
    }

    /// The date the server judges "not due" against (its clock), for clients.
    async fn today(&self, ctx: &Context<'_>) -> Date {
        Date((ctx.data_unchecked::<App>().today)())
    }
}
