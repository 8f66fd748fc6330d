//! Events: the facts in the log, and their stable stored form.
//!
//! Events are the contract with the future. Each has a type name and a schema
//! version; the stored payload is JSON (decimals as strings, so no figure
//! ever passes through a float). Once released, a schema version is never
//! edited: a new shape gets a new version, and [`EventCodec::decode`] upcasts
//! older payloads step by step to the current one.

use crate::actual::{ActualReport, ReportId};
use crate::document::{Document, DocumentId};
use crate::indicator::{IndicatorDefinition, IndicatorId};
use crate::org_unit::{OrgUnit, OrgUnitCode};
use crate::period::{ApprovalId, IndicatorDigest, ReportingPeriod};
use crate::principal::{Grant, PrincipalId, TokenId};
use crate::target::{Target, TargetTrack};
use crate::text::Reason;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The stream an event belongs to: one per org unit, document, principal
/// and indicator, and one for the reporting periods of each org unit.
///
/// Typed, so that a rule never parses a stream back from its text; the text
/// (`org-unit/LA`, `indicator/<uuid>`, …) is what the log stores
/// ([`fmt::Display`]) and [`StreamId::parse`] reads it back.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StreamId {
    /// Stream of an org unit (`org-unit/<code>`).
    OrgUnit(OrgUnitCode),
    /// Stream of a document (`document/<uuid>`).
    Document(DocumentId),
    /// Stream of a principal (`principal/<id>`).
    Principal(crate::principal::PrincipalId),
    /// Stream of an indicator (`indicator/<uuid>`).
    Indicator(IndicatorId),
    /// Stream of the reporting periods of an org unit (their submissions,
    /// approvals, locks and unlocks; `periods/<code>`). Every write into
    /// the unit's figures is conditioned on it, so none lands in a period
    /// frozen meanwhile.
    Periods(OrgUnitCode),
}

impl StreamId {
    /// Stream of an org unit.
    pub fn org_unit(code: &OrgUnitCode) -> Self {
        StreamId::OrgUnit(code.clone())
    }
    /// Stream of a document.
    pub fn document(id: DocumentId) -> Self {
        StreamId::Document(id)
    }
    /// Stream of a principal.
    pub fn principal(id: &crate::principal::PrincipalId) -> Self {
        StreamId::Principal(id.clone())
    }
    /// Stream of an indicator.
    pub fn indicator(id: IndicatorId) -> Self {
        StreamId::Indicator(id)
    }
    /// Stream of the reporting periods of an org unit.
    pub fn periods(code: &OrgUnitCode) -> Self {
        StreamId::Periods(code.clone())
    }

    /// Reads a stream's text back; `None` for text that names no stream of
    /// the domain (a benchmark's or a test's own streams).
    pub fn parse(text: &str) -> Option<StreamId> {
        let (kind, rest) = text.split_once('/')?;
        let uuid = || uuid::Uuid::parse_str(rest).ok();
        match kind {
            "org-unit" => OrgUnitCode::parse(rest).ok().map(StreamId::OrgUnit),
            "document" => uuid().map(|u| StreamId::Document(DocumentId(u))),
            "principal" => crate::principal::PrincipalId::parse(rest)
                .ok()
                .map(StreamId::Principal),
            "indicator" => uuid().map(|u| StreamId::Indicator(IndicatorId(u))),
            "periods" => OrgUnitCode::parse(rest).ok().map(StreamId::Periods),
            _ => None,
        }
        // Only the canonical text: `indicator/<UUID in capitals>` is not it.
        .filter(|id| id.to_string() == text)
    }

    /// The indicator whose stream this is.
    pub fn indicator_id(&self) -> Option<IndicatorId> {
        match self {
            StreamId::Indicator(id) => Some(*id),
            _ => None,
        }
    }
}

impl StreamId {
    /// Its name in the log (`indicator/<uuid>`, `org-unit/<code>`, ...),
    /// what `Display` writes: built at its length, not through the
    /// formatting machinery (every write names its streams).
    pub fn name(&self) -> String {
        fn join(prefix: &str, tail: &str) -> String {
            let mut name = String::with_capacity(prefix.len() + tail.len());
            name.push_str(prefix);
            name.push_str(tail);
            name
        }
        let mut uuid = uuid::Uuid::encode_buffer();
        match self {
            StreamId::OrgUnit(code) => join("org-unit/", code.as_str()),
            StreamId::Document(id) => join("document/", id.0.hyphenated().encode_lower(&mut uuid)),
            StreamId::Principal(id) => join("principal/", id.as_str()),
            StreamId::Indicator(id) => {
                join("indicator/", id.0.hyphenated().encode_lower(&mut uuid))
            }
            StreamId::Periods(code) => join("periods/", code.as_str()),
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Serialize for StreamId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StreamId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        StreamId::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` names no stream")))
    }
}

/// An org unit was registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnitRegistered {
    /// The unit.
    pub unit: OrgUnit,
}

/// An org unit took a new name from a date (its code, history and figures
/// stay; what it was called before stays readable on earlier dates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnitRenamed {
    /// The unit.
    pub unit: OrgUnitCode,
    /// Its name from `effective` on.
    pub name: crate::Text,
    /// The day the name took effect.
    pub effective: NaiveDate,
    /// The document that decided it.
    pub document: Option<DocumentId>,
}

/// An org unit moved under another parent from a date (its code, history
/// and figures stay; its parent before the date stays readable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnitMoved {
    /// The unit.
    pub unit: OrgUnitCode,
    /// Its parent from `effective` on.
    pub parent: OrgUnitCode,
    /// The day it moved.
    pub effective: NaiveDate,
    /// The document that decided it.
    pub document: Option<DocumentId>,
}

/// An org unit ceased to exist and its duties passed to successors (the
/// abolition of districts on 1 July 2025, commune mergers). Its history
/// stays attached to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnitSucceeded {
    /// The unit that ceased.
    pub unit: OrgUnitCode,
    /// The units that took over.
    pub successors: Vec<OrgUnitCode>,
    /// The day the change took effect.
    pub effective: NaiveDate,
    /// The document that decided it.
    pub document: Option<DocumentId>,
}

/// A document was registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRegistered {
    /// The document.
    pub document: Document,
}

/// An indicator was defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorDefined {
    /// Its definition.
    pub definition: IndicatorDefinition,
}

/// A target was set on a track that had none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetSet {
    /// The indicator.
    pub indicator: IndicatorId,
    /// The track.
    pub track: TargetTrack,
    /// The target and the document that sets it.
    pub target: Target,
}

/// A target was revised by a later document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRevised {
    /// The indicator.
    pub indicator: IndicatorId,
    /// The track.
    pub track: TargetTrack,
    /// The new target and the document that authorises it.
    pub target: Target,
    /// Why.
    pub reason: Reason,
}

/// A result was reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActualReported {
    /// The indicator.
    pub indicator: IndicatorId,
    /// The report.
    pub report: ActualReport,
    /// The figure this one replaces, if any.
    pub supersedes: Option<ReportId>,
    /// Why (v3): required to supersede a final figure, or for a final
    /// figure that cites no source document.
    pub reason: Option<Reason>,
}

/// A reporting period was submitted for approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSubmitted {
    /// The org unit.
    pub unit: OrgUnitCode,
    /// The period.
    pub period: ReportingPeriod,
    /// A note to the approver.
    pub note: Option<crate::text::Text>,
}

/// A reporting period was approved: the figures are bound to `digest`
/// (see [`crate::approval`]) and frozen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodApproved {
    /// The org unit.
    pub unit: OrgUnitCode,
    /// The period.
    pub period: ReportingPeriod,
    /// The approval's id.
    pub approval: ApprovalId,
    /// The approving document (its number and date).
    pub document: DocumentId,
    /// SHA-256 of the canonical serialisation of the figures, hex.
    pub digest: String,
    /// The log position the figures were read at.
    pub as_of: u64,
    /// Each indicator's digest, ordered by indicator id as text.
    pub indicators: Vec<IndicatorDigest>,
}

/// An approved reporting period was locked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodLocked {
    /// The org unit.
    pub unit: OrgUnitCode,
    /// The period.
    pub period: ReportingPeriod,
    /// The deciding document, where there is one.
    pub document: Option<DocumentId>,
}

/// A frozen reporting period was opened again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodUnlocked {
    /// The org unit.
    pub unit: OrgUnitCode,
    /// The period.
    pub period: ReportingPeriod,
    /// Why.
    pub reason: Reason,
    /// The document that allows it.
    pub document: DocumentId,
}

/// A reported result was found wrong and corrected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActualCorrected {
    /// The indicator.
    pub indicator: IndicatorId,
    /// The report that was wrong.
    pub corrects: ReportId,
    /// The corrected report.
    pub report: ActualReport,
    /// Why.
    pub reason: Reason,
}

/// An indicator was retired: no more targets or results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorRetired {
    /// The indicator.
    pub indicator: IndicatorId,
    /// Why.
    pub reason: Reason,
    /// The document that decided it, where there is one.
    pub document: Option<DocumentId>,
}

/// Which way is good for an indicator was set by a person, over what
/// its target's kind and its name would say (`direction::better_of`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorDirectionSet {
    /// The indicator.
    pub indicator: IndicatorId,
    /// Which way is good from now on.
    pub better: crate::direction::Better,
    /// Why.
    pub reason: Reason,
    /// The document that says so, where there is one.
    pub document: Option<DocumentId>,
}

/// An indicator was linked to its counterpart of the previous period
/// (its "so cùng kỳ", the base of its growth and reduction targets),
/// after it was defined, or the link was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorPreviousLinked {
    /// The indicator.
    pub indicator: IndicatorId,
    /// Its counterpart of the previous period.
    pub previous: IndicatorId,
    /// Why, when it replaces a link.
    pub reason: Option<Reason>,
}

/// An indicator was recorded as a part of another (its figures add up to
/// the other's), after it was defined, or no longer as one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorParentSet {
    /// The indicator.
    pub indicator: IndicatorId,
    /// The total it is a part of; `None`: no longer a part.
    pub parent: Option<IndicatorId>,
    /// Why, when it replaces or removes a parent.
    pub reason: Option<Reason>,
}

/// Another statement of a track's target, not in force, was recorded: a
/// document words the target differently elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRestated {
    /// The indicator.
    pub indicator: IndicatorId,
    /// The track.
    pub track: TargetTrack,
    /// The other statement, with its document and wording.
    pub statement: Target,
    /// Why it is recorded.
    pub reason: Option<Reason>,
}

/// A principal was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalCreated {
    /// Its id.
    pub principal: PrincipalId,
    /// Display name.
    pub name: crate::text::Text,
}

/// A role was granted over an org-unit subtree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGranted {
    /// To whom.
    pub principal: PrincipalId,
    /// The grant.
    pub grant: Grant,
}

/// A grant was taken back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRevoked {
    /// From whom.
    pub principal: PrincipalId,
    /// The grant.
    pub grant: Grant,
}

/// A bearer token was issued (only its digest is recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenIssued {
    /// To whom.
    pub principal: PrincipalId,
    /// The token's id.
    pub token: TokenId,
    /// SHA-256 of the token, hex.
    pub digest: String,
    /// When it stops working.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A token was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRevoked {
    /// Whose.
    pub principal: PrincipalId,
    /// Which.
    pub token: TokenId,
}

/// A principal was disabled: none of its tokens works any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalDisabled {
    /// Who.
    pub principal: PrincipalId,
    /// Why.
    pub reason: Reason,
}

/// Every fact the log can hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// See [`OrgUnitRegistered`].
    OrgUnitRegistered(OrgUnitRegistered),
    /// See [`OrgUnitSucceeded`].
    OrgUnitSucceeded(OrgUnitSucceeded),
    /// See [`OrgUnitRenamed`].
    OrgUnitRenamed(OrgUnitRenamed),
    /// See [`OrgUnitMoved`].
    OrgUnitMoved(OrgUnitMoved),
    /// See [`DocumentRegistered`].
    DocumentRegistered(DocumentRegistered),
    /// See [`IndicatorDefined`].
    IndicatorDefined(IndicatorDefined),
    /// See [`TargetSet`].
    TargetSet(TargetSet),
    /// See [`TargetRevised`].
    TargetRevised(TargetRevised),
    /// See [`ActualReported`].
    ActualReported(ActualReported),
    /// See [`ActualCorrected`].
    ActualCorrected(ActualCorrected),
    /// See [`IndicatorRetired`].
    IndicatorRetired(IndicatorRetired),
    /// See [`IndicatorDirectionSet`].
    IndicatorDirectionSet(IndicatorDirectionSet),
    /// See [`IndicatorPreviousLinked`].
    IndicatorPreviousLinked(IndicatorPreviousLinked),
    /// See [`IndicatorParentSet`].
    IndicatorParentSet(IndicatorParentSet),
    /// See [`TargetRestated`].
    TargetRestated(TargetRestated),
    /// See [`PrincipalCreated`].
    PrincipalCreated(PrincipalCreated),
    /// See [`RoleGranted`].
    RoleGranted(RoleGranted),
    /// See [`GrantRevoked`].
    GrantRevoked(GrantRevoked),
    /// See [`TokenIssued`].
    TokenIssued(TokenIssued),
    /// See [`TokenRevoked`].
    TokenRevoked(TokenRevoked),
    /// See [`PrincipalDisabled`].
    PrincipalDisabled(PrincipalDisabled),
    /// See [`PeriodSubmitted`].
    PeriodSubmitted(PeriodSubmitted),
    /// See [`PeriodApproved`].
    PeriodApproved(PeriodApproved),
    /// See [`PeriodLocked`].
    PeriodLocked(PeriodLocked),
    /// See [`PeriodUnlocked`].
    PeriodUnlocked(PeriodUnlocked),
}

impl Event {
    /// Whether it changes who may sign in, or with what grants (what
    /// [`crate::access::authenticate_in`] reads).
    pub fn concerns_principals(&self) -> bool {
        matches!(
            self,
            Event::PrincipalCreated(_)
                | Event::RoleGranted(_)
                | Event::GrantRevoked(_)
                | Event::TokenIssued(_)
                | Event::TokenRevoked(_)
                | Event::PrincipalDisabled(_)
        )
    }

    /// The stream the event belongs to.
    pub fn stream_id(&self) -> StreamId {
        match self {
            Event::OrgUnitRegistered(e) => StreamId::org_unit(&e.unit.code),
            Event::OrgUnitSucceeded(e) => StreamId::org_unit(&e.unit),
            Event::OrgUnitRenamed(e) => StreamId::org_unit(&e.unit),
            Event::OrgUnitMoved(e) => StreamId::org_unit(&e.unit),
            Event::DocumentRegistered(e) => StreamId::document(e.document.id),
            Event::IndicatorDefined(e) => StreamId::indicator(e.definition.id),
            Event::TargetSet(TargetSet { indicator, .. })
            | Event::TargetRevised(TargetRevised { indicator, .. })
            | Event::ActualReported(ActualReported { indicator, .. })
            | Event::ActualCorrected(ActualCorrected { indicator, .. })
            | Event::IndicatorRetired(IndicatorRetired { indicator, .. })
            | Event::IndicatorDirectionSet(IndicatorDirectionSet { indicator, .. })
            | Event::IndicatorPreviousLinked(IndicatorPreviousLinked { indicator, .. })
            | Event::IndicatorParentSet(IndicatorParentSet { indicator, .. })
            | Event::TargetRestated(TargetRestated { indicator, .. }) => {
                StreamId::indicator(*indicator)
            }
            Event::PrincipalCreated(PrincipalCreated { principal, .. })
            | Event::RoleGranted(RoleGranted { principal, .. })
            | Event::GrantRevoked(GrantRevoked { principal, .. })
            | Event::TokenIssued(TokenIssued { principal, .. })
            | Event::TokenRevoked(TokenRevoked { principal, .. })
            | Event::PrincipalDisabled(PrincipalDisabled { principal, .. }) => {
                StreamId::principal(principal)
            }
            Event::PeriodSubmitted(PeriodSubmitted { unit, .. })
            | Event::PeriodApproved(PeriodApproved { unit, .. })
            | Event::PeriodLocked(PeriodLocked { unit, .. })
            | Event::PeriodUnlocked(PeriodUnlocked { unit, .. }) => StreamId::periods(unit),
        }
    }

    /// The indicator the event concerns, if any.
    pub fn indicator(&self) -> Option<IndicatorId> {
        match self {
            Event::IndicatorDefined(e) => Some(e.definition.id),
            Event::TargetSet(TargetSet { indicator, .. })
            | Event::TargetRevised(TargetRevised { indicator, .. })
            | Event::ActualReported(ActualReported { indicator, .. })
            | Event::ActualCorrected(ActualCorrected { indicator, .. })
            | Event::IndicatorRetired(IndicatorRetired { indicator, .. })
            | Event::IndicatorDirectionSet(IndicatorDirectionSet { indicator, .. })
            | Event::IndicatorPreviousLinked(IndicatorPreviousLinked { indicator, .. })
            | Event::IndicatorParentSet(IndicatorParentSet { indicator, .. })
            | Event::TargetRestated(TargetRestated { indicator, .. }) => Some(*indicator),
            _ => None,
        }
    }

    /// The event's type name, as stored.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::OrgUnitRegistered(_) => "org_unit_registered",
            Event::OrgUnitSucceeded(_) => "org_unit_succeeded",
            Event::OrgUnitRenamed(_) => "org_unit_renamed",
            Event::OrgUnitMoved(_) => "org_unit_moved",
            Event::DocumentRegistered(_) => "document_registered",
            Event::IndicatorDefined(_) => "indicator_defined",
            Event::TargetSet(_) => "target_set",
            Event::TargetRevised(_) => "target_revised",
            Event::ActualReported(_) => "actual_reported",
            Event::ActualCorrected(_) => "actual_corrected",
            Event::IndicatorRetired(_) => "indicator_retired",
            Event::IndicatorDirectionSet(_) => "indicator_direction_set",
            Event::IndicatorPreviousLinked(_) => "indicator_previous_linked",
            Event::IndicatorParentSet(_) => "indicator_parent_set",
            Event::TargetRestated(_) => "target_restated",
            Event::PrincipalCreated(_) => "principal_created",
            Event::RoleGranted(_) => "role_granted",
            Event::GrantRevoked(_) => "grant_revoked",
            Event::TokenIssued(_) => "token_issued",
            Event::TokenRevoked(_) => "token_revoked",
            Event::PrincipalDisabled(_) => "principal_disabled",
            Event::PeriodSubmitted(_) => "period_submitted",
            Event::PeriodApproved(_) => "period_approved",
            Event::PeriodLocked(_) => "period_locked",
            Event::PeriodUnlocked(_) => "period_unlocked",
        }
    }
}

/// An event in its stored form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedEvent {
    /// Type name.
    pub event_type: String,
    /// Schema version of `payload`.
    pub schema_version: u16,
    /// JSON payload.
    pub payload: Vec<u8>,
}

/// Why a stored event could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// A type name this code does not know.
    #[error("unknown event type `{0}`")]
    UnknownType(String),
    /// A schema version newer than this code, or one never released.
    #[error("event type `{event_type}` has no schema version {version} (current is {current})")]
    UnknownVersion {
        /// Type name.
        event_type: String,
        /// The version found.
        version: u16,
        /// The newest version this code knows.
        current: u16,
    },
    /// The payload does not match its schema.
    #[error("payload of `{event_type}` v{version} is malformed: {source}")]
    Malformed {
        /// Type name.
        event_type: String,
        /// Version.
        version: u16,
        /// The parse error.
        source: serde_json::Error,
    },
}

/// Encodes and decodes events in their stored form, upcasting old versions.
pub struct EventCodec;

/// Current schema version of each event type. Bump one, and add its
/// upcaster in [`upcast_one`], when its shape changes.
pub fn current_version(event_type: &str) -> Option<u16> {
    Some(match event_type {
        "org_unit_succeeded"
        | "org_unit_moved"
        | "org_unit_renamed"
        | "document_registered"
        | "indicator_defined"
        | "indicator_retired"
        | "indicator_direction_set"
        | "indicator_previous_linked"
        | "indicator_parent_set"
        | "target_restated"
        | "principal_created"
        | "role_granted"
        | "grant_revoked"
        | "token_issued"
        | "token_revoked"
        | "principal_disabled"
        | "period_submitted"
        | "period_approved"
        | "period_locked"
        | "period_unlocked" => 1,
        // v1 (first shape): `value` was a bare decimal string and every
        // figure was final; v2 added the value kind, status and source;
        // v3 added `reason` (superseding a final, a final without source);
        // v4 added the report's `stated` figures.
        "actual_reported" => 4,
        // v2 added the report's `stated` figures.
        "actual_corrected" => 2,
        // v2 added the unit's optional `established` day.
        "org_unit_registered" => 2,
        // v1 (first shape): a plain target was `{type: "plain", value}`;
        // v2 added its optional `base` (the previous period's figure the
        // document sets it against). v1 payloads written after `base`
        // existed may carry it already: both read as v2.
        "target_set" | "target_revised" => 2,
        _ => return None,
    })
}

/// Upcasts a payload of `event_type` from `version` to `version + 1`.
/// `target_set` and `target_revised` v1 → v2, `actual_reported` v3 → v4 and
/// `actual_corrected` v1 → v2, `org_unit_registered` v1 → v2 need no rewrite: the later version only adds
/// an optional field, left out when empty.
fn upcast_one(event_type: &str, version: u16, mut payload: Value) -> Value {
    if let ("actual_reported", 2, Value::Object(map)) = (event_type, version, &mut payload) {
        map.insert("reason".into(), Value::Null);
    }
    if let ("actual_reported", 1, Value::Object(map)) = (event_type, version, &mut payload) {
        // v1: {indicator, report_id, value: "12.5", refers_to, note}
        let value = map.remove("value").unwrap_or(Value::Null);
        let report = serde_json::json!({
            "report_id": map.remove("report_id").unwrap_or(Value::Null),
            "value": { "type": "amount", "value": value },
            "refers_to": map.remove("refers_to").unwrap_or(Value::Null),
            "status": "final",
            "source": null,
            "note": map.remove("note").unwrap_or(Value::Null),
        });
        map.insert("report".into(), report);
        map.insert("supersedes".into(), Value::Null);
    }
    payload
}

impl EventCodec {
    /// The stored form of an event at its current schema version.
    pub fn encode(event: &Event) -> EncodedEvent {
        let payload = match event {
            Event::OrgUnitRegistered(e) => serde_json::to_vec(e),
            Event::OrgUnitSucceeded(e) => serde_json::to_vec(e),
            Event::OrgUnitRenamed(e) => serde_json::to_vec(e),
            Event::OrgUnitMoved(e) => serde_json::to_vec(e),
            Event::DocumentRegistered(e) => serde_json::to_vec(e),
            Event::IndicatorDefined(e) => serde_json::to_vec(e),
            Event::TargetSet(e) => serde_json::to_vec(e),
            Event::TargetRevised(e) => serde_json::to_vec(e),
            Event::ActualReported(e) => serde_json::to_vec(e),
            Event::ActualCorrected(e) => serde_json::to_vec(e),
            Event::IndicatorRetired(e) => serde_json::to_vec(e),
            Event::IndicatorDirectionSet(e) => serde_json::to_vec(e),
            Event::IndicatorPreviousLinked(e) => serde_json::to_vec(e),
            Event::IndicatorParentSet(e) => serde_json::to_vec(e),
            Event::TargetRestated(e) => serde_json::to_vec(e),
            Event::PrincipalCreated(e) => serde_json::to_vec(e),
            Event::RoleGranted(e) => serde_json::to_vec(e),
            Event::GrantRevoked(e) => serde_json::to_vec(e),
            Event::TokenIssued(e) => serde_json::to_vec(e),
            Event::TokenRevoked(e) => serde_json::to_vec(e),
            Event::PrincipalDisabled(e) => serde_json::to_vec(e),
            Event::PeriodSubmitted(e) => serde_json::to_vec(e),
            Event::PeriodApproved(e) => serde_json::to_vec(e),
            Event::PeriodLocked(e) => serde_json::to_vec(e),
            Event::PeriodUnlocked(e) => serde_json::to_vec(e),
        };
        let event_type = event.type_name();
        EncodedEvent {
            event_type: event_type.to_owned(),
            schema_version: current_version(event_type).unwrap_or(1),
            // Serialising plain data structs with string keys cannot fail.
            payload: payload.unwrap_or_default(),
        }
    }

    /// Reads a stored event, upcasting it to the current schema first.
    pub fn decode(event_type: &str, version: u16, payload: &[u8]) -> Result<Event, DecodeError> {
        let current = current_version(event_type)
            .ok_or_else(|| DecodeError::UnknownType(event_type.to_owned()))?;
        if version == 0 || version > current {
            return Err(DecodeError::UnknownVersion {
                event_type: event_type.to_owned(),
                version,
                current,
            });
        }
        let malformed = |source| DecodeError::Malformed {
            event_type: event_type.to_owned(),
            version,
            source,
        };
        // The current version parses straight from the bytes; an older one
        // goes through a JSON value that the upcasters rewrite.
        let source = if version == current {
            Source::Bytes(payload)
        } else {
            let mut value: Value = serde_json::from_slice(payload).map_err(malformed)?;
            for v in version..current {
                value = upcast_one(event_type, v, value);
            }
            Source::Value(value)
        };
        fn parse<T: serde::de::DeserializeOwned>(
            source: Source<'_>,
            malformed: impl Fn(serde_json::Error) -> DecodeError,
        ) -> Result<T, DecodeError> {
            match source {
                Source::Bytes(bytes) => serde_json::from_slice(bytes).map_err(malformed),
                Source::Value(value) => serde_json::from_value(value).map_err(malformed),
            }
        }
        let s = source;
        Ok(match event_type {
            "org_unit_registered" => Event::OrgUnitRegistered(parse(s, malformed)?),
            "org_unit_succeeded" => Event::OrgUnitSucceeded(parse(s, malformed)?),
            "org_unit_renamed" => Event::OrgUnitRenamed(parse(s, malformed)?),
            "org_unit_moved" => Event::OrgUnitMoved(parse(s, malformed)?),
            "document_registered" => Event::DocumentRegistered(parse(s, malformed)?),
            "indicator_defined" => Event::IndicatorDefined(parse(s, malformed)?),
            "target_set" => Event::TargetSet(parse(s, malformed)?),
            "target_revised" => Event::TargetRevised(parse(s, malformed)?),
            "actual_reported" => Event::ActualReported(parse(s, malformed)?),
            "actual_corrected" => Event::ActualCorrected(parse(s, malformed)?),
            "indicator_retired" => Event::IndicatorRetired(parse(s, malformed)?),
            "indicator_direction_set" => Event::IndicatorDirectionSet(parse(s, malformed)?),
            "indicator_previous_linked" => Event::IndicatorPreviousLinked(parse(s, malformed)?),
            "indicator_parent_set" => Event::IndicatorParentSet(parse(s, malformed)?),
            "target_restated" => Event::TargetRestated(parse(s, malformed)?),
            "principal_created" => Event::PrincipalCreated(parse(s, malformed)?),
            "role_granted" => Event::RoleGranted(parse(s, malformed)?),
            "grant_revoked" => Event::GrantRevoked(parse(s, malformed)?),
            "token_issued" => Event::TokenIssued(parse(s, malformed)?),
            "token_revoked" => Event::TokenRevoked(parse(s, malformed)?),
            "principal_disabled" => Event::PrincipalDisabled(parse(s, malformed)?),
            "period_submitted" => Event::PeriodSubmitted(parse(s, malformed)?),
            "period_approved" => Event::PeriodApproved(parse(s, malformed)?),
            "period_locked" => Event::PeriodLocked(parse(s, malformed)?),
            "period_unlocked" => Event::PeriodUnlocked(parse(s, malformed)?),
            other => return Err(DecodeError::UnknownType(other.to_owned())),
        })
    }
}

/// A payload to parse: raw bytes, or a value an upcaster produced.
enum Source<'a> {
    Bytes(&'a [u8]),
    Value(Value),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actual::{ResultStatus, ResultValue};
    use rust_decimal_macros::dec;
    use uuid::Uuid;

    #[test]
    fn an_actual_reported_v1_payload_is_upcast_to_v2() {
        let indicator = Uuid::from_u128(7);
        let report = Uuid::from_u128(8);
        let v1 = serde_json::json!({
            "indicator": indicator, "report_id": report, "value": "1577.95",
            "refers_to": "2025-12-31", "note": "ước tính quý IV"
        });
        let bytes = serde_json::to_vec(&v1).unwrap_or_default();
        let event = EventCodec::decode("actual_reported", 1, &bytes);
        let Ok(Event::ActualReported(e)) = event else {
            panic!("not upcast: {event:?}")
        };
        assert_eq!(e.indicator, IndicatorId(indicator));
        assert_eq!(
            e.report.value,
            ResultValue::Amount {
                value: dec!(1577.95)
            }
        );
        assert_eq!(e.report.status, ResultStatus::Final);
        assert_eq!(
            e.report.note.as_ref().map(|n| n.as_str()),
            Some("ước tính quý IV")
        );
        assert_eq!(e.supersedes, None);
        assert_eq!(e.reason, None);
    }

    #[test]
    fn versions_from_the_future_and_unknown_types_are_refused() {
        assert!(matches!(
            EventCodec::decode("actual_reported", 5, b"{}"),
            Err(DecodeError::UnknownVersion {
                version: 5,
                current: 4,
                ..
            })
        ));
        assert!(matches!(
            EventCodec::decode("nope", 1, b"{}"),
            Err(DecodeError::UnknownType(_))
        ));
        assert!(matches!(
            EventCodec::decode("target_set", 1, b"{"),
            Err(DecodeError::Malformed { .. })
        ));
    }

    #[test]
    fn decimals_are_stored_as_strings() {
        let event = Event::ActualReported(ActualReported {
            indicator: IndicatorId(Uuid::from_u128(1)),
            report: ActualReport {
                report_id: ReportId(Uuid::from_u128(2)),
                value: ResultValue::Amount { value: dec!(0.1) },
                refers_to: NaiveDate::from_ymd_opt(2022, 12, 31).unwrap_or_default(),
                status: ResultStatus::Estimate,
                source: None,
                note: None,
                stated: None,
            },
            supersedes: None,
            reason: None,
        });
        let encoded = EventCodec::encode(&event);
        let text = String::from_utf8(encoded.payload.clone()).unwrap_or_default();
        assert!(text.contains(r#""value":"0.1""#), "{text}");
        let decoded = EventCodec::decode(
            &encoded.event_type,
            encoded.schema_version,
            &encoded.payload,
        );
        assert_eq!(decoded.ok(), Some(event));
    }

    #[test]
    fn a_stream_reads_back_from_its_text_and_nothing_else_does() {
        let unit = OrgUnitCode::parse("LA.CAN-DUOC").unwrap();
        let id = uuid::Uuid::from_u128(0x2025);
        for stream in [
            StreamId::org_unit(&unit),
            StreamId::periods(&unit),
            StreamId::document(DocumentId(id)),
            StreamId::indicator(IndicatorId(id)),
            StreamId::principal(&crate::principal::PrincipalId::parse("ubkt").unwrap()),
        ] {
            let text = stream.to_string();
            assert_eq!(StreamId::parse(&text), Some(stream.clone()), "{text}");
            let json = serde_json::to_string(&stream).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<StreamId>(&json).unwrap(), stream);
        }
        assert_eq!(
            StreamId::org_unit(&unit).to_string(),
            "org-unit/LA.CAN-DUOC"
        );
        // Stream names are in the log: lower-case hyphenated ids, as ever.
        let id = uuid::Uuid::from_u128(0xABCD_2025);
        assert_eq!(
            StreamId::indicator(IndicatorId(id)).name(),
            "indicator/00000000-0000-0000-0000-0000abcd2025"
        );
        assert_eq!(
            StreamId::document(DocumentId(id)).to_string(),
            "document/00000000-0000-0000-0000-0000abcd2025"
        );
        for text in [
            "indicator/bench-1",
            "indicator/00000000-0000-0000-0000-000000002025x",
            "indicator/00000000-0000-0000-0000-00000000202",
            "INDICATOR/00000000-0000-0000-0000-000000002025",
            "org-unit/",
            "periods/la can duoc",
            "nothing",
            "",
        ] {
            assert_eq!(StreamId::parse(text), None, "{text}");
        }
    }
}
