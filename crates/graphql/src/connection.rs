//! Relay connections: opaque cursors, page sizes, `totalCount`.

use crate::error::ApiError;
use crate::fast;
use crate::types::{AuditEntry, HistoryEntry, HistoryEntryFields, Indicator};
use crate::App;
use async_graphql::connection::Connection;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::Field;
use async_graphql::{Context, ContextSelectionSet, Positioned, ServerResult, SimpleObject, Value};
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
    let history = app.read.history(id).map_err(ApiError::from)?;
    // Versions ascend: the page starts at the first entry after the cursor.
    let start = history.partition_point(|e| e.version <= after);
    let end = (start + first).min(history.len());
    Ok(HistoryConnection {
        has_previous: after > 0,
        has_next: history.len() - start > first,
        start,
        end,
        history,
    })
}

/// A page of an indicator's history: the schema's
/// `HistoryEntryConnection`, declared by async-graphql's `Connection`
/// (so it reads exactly as every other connection), resolved here without
/// a future per edge and per field ([`crate::fast`]; the cold path of issue
/// 19): one indicator with 20 entries spent a third of its time in the
/// generic connection's edges.
pub struct HistoryConnection {
    /// The whole history, shared with the read model's cache.
    history: std::sync::Arc<Vec<chitieu_projector::HistoryEntry>>,
    /// The page: `history[start..end]`.
    start: usize,
    end: usize,
    has_previous: bool,
    has_next: bool,
}

/// What declares [`HistoryConnection`] in the schema.
type DeclaredHistoryConnection = Connection<String, HistoryEntry, TotalCount>;

impl HistoryConnection {
    fn cursor(&self, index: usize) -> String {
        encode_cursor("v", self.history[index].version)
    }

    /// `pageInfo`, as async-graphql's `PageInfo` answers it.
    fn page_info(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> Value {
        let ctx_field = ctx.with_field(field);
        let ctx = ctx_field.with_selection_set(&field.node.selection_set);
        let mut fields = Vec::new();
        fast::collect(&ctx, &ctx.item.node, "PageInfo", &mut fields);
        let mut out = IndexMap::with_capacity(fields.len());
        let cursor =
            |index: Option<usize>| index.map_or(Value::Null, |i| Value::String(self.cursor(i)));
        let last = (self.end > self.start).then(|| self.end - 1);
        let first = (self.end > self.start).then_some(self.start);
        for field in fields {
            let value = match field.node.name.node.as_str() {
                "__typename" => Value::String("PageInfo".into()),
                "hasPreviousPage" => Value::Boolean(self.has_previous),
                "hasNextPage" => Value::Boolean(self.has_next),
                "startCursor" => cursor(first),
                "endCursor" => cursor(last),
                _ => Value::Null,
            };
            fast::insert(&mut out, fast::response_key(field), value);
        }
        Value::Object(out)
    }

    /// The entry at `index` on the selection of `field`, under `ctx`.
    async fn node(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
        index: usize,
    ) -> Value {
        let ctx_field = ctx.with_field(field);
        self.entry(
            &ctx_field.with_selection_set(&field.node.selection_set),
            index,
        )
        .await
    }

    /// The entry at `index` on the selection set of `ctx`.
    async fn entry(&self, ctx: &ContextSelectionSet<'_>, index: usize) -> Value {
        let entry = HistoryEntryFields::at(self.history.clone(), index);
        // `fast::resolve` reports a field's error on the context and
        // leaves its key out; it does not fail itself.
        fast::resolve(&entry, ctx).await.unwrap_or_default()
    }

    /// An edge, as async-graphql's `Edge` answers it.
    async fn edge(&self, ctx: &ContextSelectionSet<'_>, index: usize) -> Value {
        let mut fields = Vec::new();
        fast::collect(ctx, &ctx.item.node, "HistoryEntryEdge", &mut fields);
        let mut out = IndexMap::with_capacity(fields.len());
        for field in fields {
            let value = match field.node.name.node.as_str() {
                "__typename" => Value::String("HistoryEntryEdge".into()),
                "cursor" => Value::String(self.cursor(index)),
                "node" => self.node(ctx, field, index).await,
                _ => Value::Null,
            };
            fast::insert(&mut out, fast::response_key(field), value);
        }
        Value::Object(out)
    }
}

impl async_graphql::OutputType for HistoryConnection {
    fn type_name() -> std::borrow::Cow<'static, str> {
        <DeclaredHistoryConnection as async_graphql::OutputType>::type_name()
    }

    fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
        <DeclaredHistoryConnection as async_graphql::OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let name = Self::type_name();
        let mut fields = Vec::new();
        fast::collect(ctx, &ctx.item.node, &name, &mut fields);
        let mut out = IndexMap::with_capacity(fields.len());
        for field in fields {
            let value = match field.node.name.node.as_str() {
                "__typename" => Value::String(name.to_string()),
                "totalCount" => Value::from(self.history.len() as u64),
                "pageInfo" => self.page_info(ctx, field),
                list @ ("edges" | "nodes") => {
                    let ctx_field = ctx.with_field(field);
                    let mut items = Vec::with_capacity(self.end - self.start);
                    for (n, index) in (self.start..self.end).enumerate() {
                        let ctx_index = ctx_field.with_index(n);
                        let ctx = ctx_index.with_selection_set(&field.node.selection_set);
                        items.push(if list == "edges" {
                            self.edge(&ctx, index).await
                        } else {
                            self.entry(&ctx, index).await
                        });
                    }
                    Value::List(items)
                }
                _ => Value::Null,
            };
            fast::insert(&mut out, fast::response_key(field), value);
        }
        Ok(Value::Object(out))
    }
}
