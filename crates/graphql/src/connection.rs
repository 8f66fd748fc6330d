//! Relay connections: opaque cursors, page sizes, `totalCount`.

use crate::error::ApiError;
use crate::types::{AuditEntry, HistoryEntry, Indicator};
use crate::App;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, SimpleObject};
use base64::Engine;
use chitieu_domain::IndicatorId;

/// Largest page a client may ask for.
pub const MAX_PAGE: i32 = 100;
/// Page size when `first` is not given.
pub const DEFAULT_PAGE: i32 = 20;

/// Extra fields of every connection.
#[derive(SimpleObject)]
pub struct TotalCount {
    /// How many items match, over all pages.
    pub total_count: u64,
}

/// A page of indicators.
pub type IndicatorConnection = Connection<String, Indicator, TotalCount>;
/// A page of history entries.
pub type HistoryConnection = Connection<String, HistoryEntry, TotalCount>;
/// A page of audit entries.
pub type AuditConnection = Connection<String, AuditEntry, AuditCount>;

/// `totalCount` of the audit trail: counted only when asked for (over the
/// audit indexes; with a `kind`, every candidate is read).
pub struct AuditCount {
    /// The filter of the list.
    pub(crate) filter: chitieu_projector::AuditFilter,
}

#[async_graphql::Object]
impl AuditCount {
    /// How many entries match, over all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64, ApiError> {
        Ok(ctx.data_unchecked::<App>().read.audit_count(&self.filter)?)
    }
}

/// Checks `first` against the page limit.
pub fn page_size(first: Option<i32>) -> Result<usize, ApiError> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(ApiError::validation(
            format!("`first` must be between 0 and {MAX_PAGE}, got {first}"),
            format!("`first` phải từ 0 đến {MAX_PAGE}, nhận được {first}"),
        ));
    }
    Ok(first as usize)
}

/// An opaque cursor for a number (an offset, a version, a position).
pub fn encode_cursor(kind: &str, n: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{n}"))
}

/// Reads a cursor made by [`encode_cursor`] for the same kind.
pub fn decode_cursor(kind: &str, cursor: Option<&str>) -> Result<Option<u64>, ApiError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let bad = || {
        ApiError::validation(
            format!("`after` is not a cursor of this list: `{cursor}`"),
            format!("`after` không phải là con trỏ của danh sách này: `{cursor}`"),
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (k, n) = text.split_once(':').ok_or_else(bad)?;
    if k != kind {
        return Err(bad());
    }
    n.parse().map(Some).map_err(|_| bad())
}

/// A page of an indicator's history, ordered by version.
pub fn history_connection(
    ctx: &Context<'_>,
    id: IndicatorId,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<HistoryConnection> {
    let first = page_size(first)?;
    let after = decode_cursor("v", after.as_deref())?.unwrap_or(0);
    let app = ctx.data_unchecked::<App>();
    let entries = app.read.history(id).map_err(ApiError::from)?;
    let total = entries.len() as u64;
    // Versions ascend: the page starts at the first entry after the cursor.
    let start = entries.partition_point(|e| e.version <= after);
    let has_next = entries.len() - start > first;
    let mut connection =
        Connection::with_additional_fields(after > 0, has_next, TotalCount { total_count: total });
    for index in start..(start + first).min(entries.len()) {
        let cursor = encode_cursor("v", entries[index].version);
        if let Some(entry) = HistoryEntry::at(entries.clone(), index) {
            connection.edges.push(Edge::new(cursor, entry));
        }
    }
    Ok(connection)
}
