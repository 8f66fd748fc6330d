//! History and the audit trail: who changed what, when, why and on which document.

use super::*;
use std::sync::Arc;

/// Who did something.
#[derive(Debug, Clone, SimpleObject)]
pub struct Actor {
    /// Principal id.
    pub id: String,
    /// Display name at the time.
    pub name: String,
    /// Role at the time.
    pub role: String,
}

impl From<chitieu_store::Actor> for Actor {
    fn from(a: chitieu_store::Actor) -> Self {
        Actor {
            id: a.id,
            name: a.name,
            role: a.role,
        }
    }
}

/// One entry of an indicator's history.
///
/// A view of one entry of the history the read model shares (an `Arc`,
/// not a copy): each field is read when a query asks for it, so a page of
/// history costs what the query selects, and the plain fields are written
/// without a future each ([`crate::fast`]; the cold path of issue 19).
pub struct HistoryEntry(HistoryEntryFields);

crate::fast_output_type!(HistoryEntry, HistoryEntryFields);

/// The fields of [`HistoryEntry`], as async-graphql resolves them.
pub struct HistoryEntryFields {
    history: Arc<Vec<chitieu_projector::HistoryEntry>>,
    index: usize,
}

impl HistoryEntryFields {
    /// The entry at `index` of a shared history (`index` in bounds).
    pub(crate) fn at(history: Arc<Vec<chitieu_projector::HistoryEntry>>, index: usize) -> Self {
        HistoryEntryFields { history, index }
    }

    fn entry(&self) -> &chitieu_projector::HistoryEntry {
        &self.history[self.index]
    }
}

/// A value as stored in its event, serialised straight into the response
/// (no intermediate `serde_json::Value`).
pub struct Stored(chitieu_projector::HistoryValue);

/// The same, borrowed (the plain path).
struct StoredRef<'a>(&'a chitieu_projector::HistoryValue);

impl serde::Serialize for StoredRef<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use chitieu_projector::HistoryValue as V;
        match self.0 {
            V::Definition(d) => d.serialize(serializer),
            V::Target(t) => t.serialize(serializer),
            V::Report(r) => r.serialize(serializer),
        }
    }
}

impl serde::Serialize for Stored {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        StoredRef(&self.0).serialize(serializer)
    }
}

/// serde_json's mark of a raw value: an object whose only key is this is
/// written as its string's JSON text, verbatim (async-graphql's
/// `raw_value` feature; every transport of the server writes with
/// serde_json). Not exported by async-graphql, so named here; the API
/// tests read these values back as objects.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// A response value written as the JSON text `json` (valid JSON: made by
/// serde_json), as `async_graphql::Json` resolves a stored value (one that
/// cannot be written is null), but not as a tree of response values:
/// building, writing and dropping that tree (a map per object, a hashed
/// key per field, a string per figure) cost a sixth of a cold read of one
/// indicator. The text itself is written once per entry
/// ([`chitieu_projector::HistoryEntry::texts`]).
fn raw_json(json: &str) -> async_graphql::Value {
    let mut raw = async_graphql::indexmap::IndexMap::with_capacity(1);
    raw.insert(
        async_graphql::Name::new(RAW_VALUE_TOKEN),
        async_graphql::Value::String(json.to_owned()),
    );
    async_graphql::Value::Object(raw)
}

impl crate::fast::Plain for HistoryEntryFields {
    const NAME: &'static str = "HistoryEntry";

    fn plain(
        &self,
        ctx: &async_graphql::ContextSelectionSet<'_>,
        field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    ) -> Option<async_graphql::Value> {
        use async_graphql::{ScalarType, Value};
        let entry = self.entry();
        Some(match field.node.name.node.as_str() {
            "position" => entry.position.to_value(),
            "version" => entry.version.to_value(),
            "recordedAt" => entry.recorded_at.to_value(),
            "kind" => Value::String(entry.kind.to_string()),
            "reason" => entry
                .reason
                .as_deref()
                .map_or(Value::Null, |r| Value::String(r.to_owned())),
            "before" => entry.texts().0.map_or(Value::Null, raw_json),
            "after" => entry.texts().1.map_or(Value::Null, raw_json),
            "actor" => return crate::fast::object(ctx, field, "Actor", |f| actor(&entry.actor, f)),
            _ => return None,
        })
    }
}

/// A plain field of the `Actor` of an entry, read from the actor it shares
/// with its history's other entries (no copy).
fn actor(
    actor: &chitieu_store::Actor,
    field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
) -> Option<async_graphql::Value> {
    use async_graphql::Value;
    Some(match field.node.name.node.as_str() {
        "id" => Value::String(actor.id.clone()),
        "name" => Value::String(actor.name.clone()),
        "role" => Value::String(actor.role.clone()),
        _ => return None,
    })
}

/// One entry of an indicator's history.
#[Object(name = "HistoryEntry")]
impl HistoryEntryFields {
    /// Log position.
    async fn position(&self) -> u64 {
        self.entry().position
    }

    /// Stream version.
    async fn version(&self) -> u64 {
        self.entry().version
    }

    /// When it was recorded.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.entry().recorded_at
    }

    /// Who.
    async fn actor(&self) -> Actor {
        chitieu_store::Actor::clone(&self.entry().actor).into()
    }

    /// Event type.
    async fn kind(&self) -> &str {
        &self.entry().kind
    }

    /// Track, for target events.
    async fn track(&self) -> Option<TargetTrack> {
        self.entry().track.map(Into::into)
    }

    /// The value it replaced, as stored in its event (JSON; `beforeValue`
    /// is the same, typed).
    async fn before(&self) -> Option<async_graphql::Json<Stored>> {
        self.entry()
            .before
            .as_ref()
            .and_then(chitieu_projector::Change::value)
            .map(|v| async_graphql::Json(Stored(v)))
    }

    /// The value it set, as stored in its event (JSON; `afterValue` is the
    /// same, typed).
    async fn after(&self) -> Option<async_graphql::Json<Stored>> {
        self.entry()
            .after
            .as_ref()
            .and_then(chitieu_projector::Change::value)
            .map(|v| async_graphql::Json(Stored(v)))
    }

    /// The value it replaced.
    async fn before_value(&self) -> Option<ChangedValue> {
        let entry = self.entry();
        entry
            .before
            .as_ref()
            .and_then(chitieu_projector::Change::value)
            .map(|v| ChangedValue::of(v, entry.measure))
    }

    /// The value it set.
    async fn after_value(&self) -> Option<ChangedValue> {
        let entry = self.entry();
        entry
            .after
            .as_ref()
            .and_then(chitieu_projector::Change::value)
            .map(|v| ChangedValue::of(v, entry.measure))
    }

    /// The reason given.
    async fn reason(&self) -> Option<&str> {
        self.entry().reason.as_deref()
    }

    /// The document cited.
    async fn document(&self, ctx: &Context<'_>) -> ApiResult<Option<Document>> {
        match self.entry().document {
            Some(d) => Ok(ctx.data_unchecked::<App>().read.document(d)?.map(Document)),
            None => Ok(None),
        }
    }
}

impl From<chitieu_projector::HistoryEntry> for HistoryEntry {
    fn from(h: chitieu_projector::HistoryEntry) -> Self {
        HistoryEntry(HistoryEntryFields {
            history: Arc::new(vec![h]),
            index: 0,
        })
    }
}

/// A value an indicator event replaced or set: the definition, a target,
/// a reported figure.
#[derive(Union)]
pub enum ChangedValue {
    /// The indicator as defined.
    Definition(IndicatorDefinition),
    /// A target.
    Target(TargetFigures),
    /// A reported figure.
    Report(ReportFigures),
}

impl ChangedValue {
    fn of(value: chitieu_projector::HistoryValue, measure: Option<domain::Measure>) -> Self {
        use chitieu_projector::HistoryValue as V;
        match value {
            V::Definition(d) => ChangedValue::Definition(IndicatorDefinition::from(*d)),
            V::Target(t) => ChangedValue::Target(TargetFigures(t)),
            V::Report(r) => {
                ChangedValue::Report(ReportFigures(r, measure.unwrap_or(domain::Measure::Amount)))
            }
        }
    }
}

/// One event in the audit trail: who, when, where, and what it recorded
/// (the change with its values before and after, the reason, the
/// document, the rights given or taken).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AuditEntry {
    /// Log position.
    pub position: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// The org unit concerned.
    pub org_unit: Option<String>,
    /// The stream.
    pub stream: String,
    /// Event type.
    pub kind: String,
    /// The indicator concerned.
    pub indicator_id: Option<ID>,
    /// The reason given.
    pub reason: Option<String>,
    /// The principal whose rights or tokens changed (principal events).
    pub principal: Option<String>,
    /// The grant given or taken back, with its role and scope
    /// (`role_granted`, `grant_revoked`).
    pub grant: Option<Grant>,
    /// The reporting period concerned (period events).
    pub period: Option<String>,
    #[graphql(skip)]
    pub(crate) document_id: Option<domain::DocumentId>,
    #[graphql(skip)]
    pub(crate) indicator: Option<domain::IndicatorId>,
}

#[ComplexObject]
impl AuditEntry {
    /// The document cited.
    async fn document(&self, ctx: &Context<'_>) -> ApiResult<Option<Document>> {
        match self.document_id {
            Some(d) => Ok(ctx.data_unchecked::<App>().read.document(d)?.map(Document)),
            None => Ok(None),
        }
    }

    /// For an indicator event, the change as the indicator's history
    /// holds it: the value it replaced and the one it set.
    async fn change(&self, ctx: &Context<'_>) -> ApiResult<Option<HistoryEntry>> {
        let Some(id) = self.indicator else {
            return Ok(None);
        };
        let history = ctx.data_unchecked::<App>().read.history(id)?;
        Ok(history
            .iter()
            .find(|h| h.position == self.position)
            .cloned()
            .map(HistoryEntry::from))
    }
}

impl From<chitieu_projector::AuditEntry> for AuditEntry {
    fn from(e: chitieu_projector::AuditEntry) -> Self {
        let detail = e.detail;
        AuditEntry {
            position: e.position,
            recorded_at: e.recorded_at,
            actor: e.actor.into(),
            org_unit: e.org_unit.map(|o| o.to_string()),
            stream: e.stream,
            kind: e.kind,
            indicator_id: e.indicator.map(|i| ID(i.to_string())),
            reason: detail.reason,
            principal: detail.principal,
            grant: detail.grant.map(|g| Grant {
                role: g.role.into(),
                org_unit: g.scope.map(|s| ID(s.to_string())),
            }),
            period: detail.period,
            document_id: detail.document,
            indicator: e.indicator,
        }
    }
}
