//! History and the audit trail: who changed what, when, why and on which document.

use super::*;

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
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct HistoryEntry {
    /// Log position.
    pub position: u64,
    /// Stream version.
    pub version: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// Event type.
    pub kind: String,
    /// Track, for target events.
    pub track: Option<TargetTrack>,
    /// The value it replaced, as stored in its event (JSON; `beforeValue`
    /// is the same, typed).
    pub before: Option<async_graphql::Json<serde_json::Value>>,
    /// The value it set, as stored in its event (JSON; `afterValue` is the
    /// same, typed).
    pub after: Option<async_graphql::Json<serde_json::Value>>,
    /// The value it replaced.
    pub before_value: Option<ChangedValue>,
    /// The value it set.
    pub after_value: Option<ChangedValue>,
    /// The reason given.
    pub reason: Option<String>,
    /// The document cited (resolved by `document`).
    #[graphql(skip)]
    pub document_id: Option<domain::DocumentId>,
}

#[ComplexObject]
impl HistoryEntry {
    /// The document cited.
    async fn document(&self, ctx: &Context<'_>) -> ApiResult<Option<Document>> {
        match self.document_id {
            Some(d) => Ok(ctx.data_unchecked::<App>().read.document(d)?.map(Document)),
            None => Ok(None),
        }
    }
}

impl From<chitieu_projector::HistoryEntry> for HistoryEntry {
    fn from(h: chitieu_projector::HistoryEntry) -> Self {
        HistoryEntry {
            position: h.position,
            version: h.version,
            recorded_at: h.recorded_at,
            actor: h.actor.into(),
            kind: h.kind,
            track: h.track.map(Into::into),
            before: h.before.as_ref().map(|v| async_graphql::Json(v.to_json())),
            after: h.after.as_ref().map(|v| async_graphql::Json(v.to_json())),
            before_value: h.before.map(|v| ChangedValue::of(v, h.measure)),
            after_value: h.after.map(|v| ChangedValue::of(v, h.measure)),
            reason: h.reason,
            document_id: h.document,
        }
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
