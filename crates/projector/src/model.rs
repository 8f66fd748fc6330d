//! Read-model records other than the indicator view: audit entries,
//! summaries, org units, history entries.

use chitieu_domain::achievement::AchievementStatus;
use chitieu_domain::{DocumentId, IndicatorId, OrgUnit, OrgUnitCode, TargetTrack};
use chitieu_store::Actor;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// One event in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Log position.
    pub position: u64,
    /// Transaction time.
    pub recorded_at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// The org unit concerned, where there is one.
    pub org_unit: Option<OrgUnitCode>,
    /// The stream.
    pub stream: String,
    /// The event type.
    pub kind: String,
    /// The indicator concerned, if any.
    pub indicator: Option<IndicatorId>,
    /// What the event says beyond who and when.
    pub detail: AuditDetail,
}

/// The reason, document and rights an event records, for a reviewer who
/// should not have to open every stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDetail {
    /// The reason given.
    pub reason: Option<String>,
    /// The document cited.
    pub document: Option<DocumentId>,
    /// The principal whose rights or tokens changed.
    pub principal: Option<String>,
    /// The grant given or taken back.
    pub grant: Option<chitieu_domain::Grant>,
    /// The reporting period concerned.
    pub period: Option<String>,
}

impl AuditDetail {
    /// Read off an event.
    pub fn of(event: &chitieu_domain::Event) -> Self {
        use chitieu_domain::Event as E;
        let mut d = AuditDetail::default();
        let reason = |r: &chitieu_domain::Reason| Some(r.as_str().to_owned());
        match event {
            E::OrgUnitSucceeded(e) => d.document = e.document,
            E::OrgUnitRenamed(e) => d.document = e.document,
            E::OrgUnitMoved(e) => d.document = e.document,
            E::DocumentRegistered(e) => d.document = Some(e.document.id),
            E::IndicatorDefined(e) => d.document = e.definition.document,
            E::TargetSet(e) => d.document = Some(e.target.document),
            E::TargetRevised(e) => {
                d.document = Some(e.target.document);
                d.reason = reason(&e.reason);
            }
            E::ActualReported(e) => {
                d.document = e.report.source;
                d.reason = e.reason.as_ref().and_then(reason);
            }
            E::ActualCorrected(e) => {
                d.document = e.report.source;
                d.reason = reason(&e.reason);
            }
            E::IndicatorRetired(e) => {
                d.document = e.document;
                d.reason = reason(&e.reason);
            }
            E::IndicatorDirectionSet(e) => {
                d.document = e.document;
                d.reason = reason(&e.reason);
            }
            E::IndicatorPreviousLinked(e) => d.reason = e.reason.as_ref().and_then(reason),
            E::IndicatorParentSet(e) => d.reason = e.reason.as_ref().and_then(reason),
            E::TargetRestated(e) => {
                d.document = Some(e.statement.document);
                d.reason = e.reason.as_ref().and_then(reason);
            }
            E::PrincipalCreated(e) => d.principal = Some(e.principal.to_string()),
            E::RoleGranted(e) => {
                d.principal = Some(e.principal.to_string());
                d.grant = Some(e.grant.clone());
            }
            E::GrantRevoked(e) => {
                d.principal = Some(e.principal.to_string());
                d.grant = Some(e.grant.clone());
            }
            E::TokenIssued(e) => d.principal = Some(e.principal.to_string()),
            E::TokenRevoked(e) => d.principal = Some(e.principal.to_string()),
            E::PrincipalDisabled(e) => {
                d.principal = Some(e.principal.to_string());
                d.reason = reason(&e.reason);
            }
            E::PeriodSubmitted(e) => {
                d.period = Some(e.period.to_string());
                d.reason = e.note.as_ref().map(|n| n.to_string());
            }
            E::PeriodApproved(e) => {
                d.period = Some(e.period.to_string());
                d.document = Some(e.document);
            }
            E::PeriodLocked(e) => {
                d.period = Some(e.period.to_string());
                d.document = e.document;
            }
            E::PeriodUnlocked(e) => {
                d.period = Some(e.period.to_string());
                d.document = Some(e.document);
                d.reason = reason(&e.reason);
            }
            E::OrgUnitRegistered(_) => {}
        }
        d
    }
}

/// Counts of indicators by settled status for one org unit and period
/// ("15/15 chỉ tiêu đạt và vượt").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Vượt.
    pub exceeded: u64,
    /// Đạt.
    pub met: u64,
    /// Chưa đạt.
    pub not_met: u64,
    /// A target, but nothing reported, or nothing to judge by.
    pub no_data: u64,
    /// No target on any track: results reported for the record (most of
    /// 002's results of 2022), or an indicator still to be given one.
    #[serde(default)]
    pub without_target: u64,
}

/// Where an indicator counts in its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Judged on its primary track.
    Judged(AchievementStatus),
    /// No target to judge by.
    WithoutTarget,
}

impl Summary {
    /// The counts of both together (a roll-up).
    pub fn plus(self, other: Summary) -> Summary {
        Summary {
            exceeded: self.exceeded + other.exceeded,
            met: self.met + other.met,
            not_met: self.not_met + other.not_met,
            no_data: self.no_data + other.no_data,
            without_target: self.without_target + other.without_target,
        }
    }

    /// All indicators counted.
    pub fn total(&self) -> u64 {
        self.exceeded + self.met + self.not_met + self.no_data + self.without_target
    }

    /// How many of these end their period with this settled status (the
    /// list's status filter): those without a target have none to judge
    /// by, so they settle as no data.
    pub fn settled(&self, status: AchievementStatus) -> u64 {
        match status {
            AchievementStatus::Exceeded => self.exceeded,
            AchievementStatus::Met => self.met,
            AchievementStatus::NotMet => self.not_met,
            AchievementStatus::NoData => self.no_data + self.without_target,
            AchievementStatus::NotDue => 0,
        }
    }

    pub(crate) fn slot(&mut self, standing: Standing) -> &mut u64 {
        match standing {
            Standing::WithoutTarget => &mut self.without_target,
            Standing::Judged(AchievementStatus::Exceeded) => &mut self.exceeded,
            Standing::Judged(AchievementStatus::Met) => &mut self.met,
            Standing::Judged(AchievementStatus::NotMet) => &mut self.not_met,
            Standing::Judged(AchievementStatus::NoData | AchievementStatus::NotDue) => {
                &mut self.no_data
            }
        }
    }
}

/// An org unit and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnitView {
    /// The unit as registered.
    pub unit: OrgUnit,
    /// Its successors, once it ceased.
    pub successors: Vec<OrgUnitCode>,
    /// The day it ceased.
    pub ceased_on: Option<NaiveDate>,
    /// Its names before each rename, with the day the next name took
    /// effect, oldest first (`unit.name` is the latest).
    #[serde(default)]
    pub former_names: Vec<(chitieu_domain::Text, NaiveDate)>,
    /// Its parents before each move, with the day the next parent took
    /// over, oldest first (`unit.parent` is the latest).
    #[serde(default)]
    pub former_parents: Vec<(Option<OrgUnitCode>, NaiveDate)>,
}

impl OrgUnitView {
    /// Its name on a day (the latest when `None`).
    pub fn name_on(&self, day: Option<NaiveDate>) -> &chitieu_domain::Text {
        day.and_then(|d| {
            self.former_names
                .iter()
                .find(|(_, until)| d < *until)
                .map(|(name, _)| name)
        })
        .unwrap_or(&self.unit.name)
    }

    /// Its parent on a day (the latest when `None`).
    pub fn parent_on(&self, day: Option<NaiveDate>) -> Option<&OrgUnitCode> {
        day.and_then(|d| {
            self.former_parents
                .iter()
                .find(|(_, until)| d < *until)
                .map(|(parent, _)| parent.as_ref())
        })
        .unwrap_or(self.unit.parent.as_ref())
    }

    /// Whether it existed on a day: it had begun (where its start is
    /// recorded) and had not ceased. The one rule `orgUnits(on:)`,
    /// `children(on:)` and `existsOn` use.
    pub fn exists_on(&self, day: NaiveDate) -> bool {
        self.unit.established.is_none_or(|e| e <= day)
            && self.ceased_on.is_none_or(|ceased| day < ceased)
    }
}

/// A value an indicator event replaced or set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HistoryValue {
    /// The indicator as defined.
    Definition(Box<chitieu_domain::IndicatorDefinition>),
    /// A target on a track.
    Target(chitieu_domain::Target),
    /// A reported figure.
    Report(chitieu_domain::ActualReport),
}

impl HistoryValue {
    /// The value as JSON, as it is stored in its event.
    pub fn to_json(&self) -> serde_json::Value {
        let value = match self {
            HistoryValue::Definition(d) => serde_json::to_value(d),
            HistoryValue::Target(t) => serde_json::to_value(t),
            HistoryValue::Report(r) => serde_json::to_value(r),
        };
        value.unwrap_or(serde_json::Value::Null)
    }

    /// The same as JSON text (`None` if it cannot be written).
    pub fn to_json_text(&self) -> Option<String> {
        match self {
            HistoryValue::Definition(d) => serde_json::to_string(d),
            HistoryValue::Target(t) => serde_json::to_string(t),
            HistoryValue::Report(r) => serde_json::to_string(r),
        }
        .ok()
    }
}

/// What kind of value a [`Change`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    /// An indicator definition.
    Definition,
    /// A target.
    Target,
    /// A report.
    Report,
}

/// A value an event replaced or set, kept as its JSON text as stored in
/// the event and nothing else: served verbatim (the API's
/// `before`/`after`), read into a [`HistoryValue`] each time one is asked
/// for ([`Change::value`]). A history cache holds millions of these: the
/// typed values kept beside the texts made an entry 520 bytes before
/// their own heap, 216 without them (see BENCHMARKS.md). Stored as
/// `{"<kind>": <text>}`, as a `HistoryValue` is. The text is shared:
/// a history's entries that name the same value (a report's `after` and
/// the `before` of the report that replaces it) hold one copy
/// ([`crate::history`]).
#[derive(Debug, Clone)]
pub struct Change {
    pub(crate) kind: ChangeKind,
    pub(crate) text: JsonText,
}

impl Change {
    /// The change of a value (its text written now).
    pub fn of(value: HistoryValue) -> Option<Self> {
        let kind = match &value {
            HistoryValue::Definition(_) => ChangeKind::Definition,
            HistoryValue::Target(_) => ChangeKind::Target,
            HistoryValue::Report(_) => ChangeKind::Report,
        };
        let text = value.to_json_text()?.into();
        Some(Change { kind, text })
    }

    /// What kind of value it is.
    pub fn kind(&self) -> ChangeKind {
        self.kind
    }

    /// The value's JSON text, as stored in its event.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The value, read from its text (`None` if the text does not read as
    /// its kind).
    pub fn value(&self) -> Option<HistoryValue> {
        let text = &*self.text;
        match self.kind {
            ChangeKind::Definition => serde_json::from_str(text)
                .ok()
                .map(|d| HistoryValue::Definition(Box::new(d))),
            ChangeKind::Target => serde_json::from_str(text).ok().map(HistoryValue::Target),
            ChangeKind::Report => serde_json::from_str(text).ok().map(HistoryValue::Report),
        }
    }

    /// The value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or(serde_json::Value::Null)
    }
}

impl PartialEq for Change {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.text == other.text
    }
}

impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Through the typed value: any serializer writes it as a value,
        // not as serde_json's raw text marker, and serde_json writes the
        // same text again.
        use serde::ser::{Error, SerializeMap};
        let mut map = serializer.serialize_map(Some(1))?;
        match self.value() {
            Some(HistoryValue::Definition(d)) => map.serialize_entry(&self.kind, &d)?,
            Some(HistoryValue::Target(t)) => map.serialize_entry(&self.kind, &t)?,
            Some(HistoryValue::Report(r)) => map.serialize_entry(&self.kind, &r)?,
            None => {
                let raw = serde_json::value::RawValue::from_string(self.text.to_string())
                    .map_err(S::Error::custom)?;
                map.serialize_entry(&self.kind, &raw)?
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct One;
        impl<'de> serde::de::Visitor<'de> for One {
            type Value = Change;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of one kind of value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Change, A::Error> {
                use serde::de::Error;
                let kind: ChangeKind = map
                    .next_key()?
                    .ok_or_else(|| A::Error::custom("a change with no value"))?;
                let raw: Box<serde_json::value::RawValue> = map.next_value()?;
                if map.next_key::<ChangeKind>()?.is_some() {
                    return Err(A::Error::custom("a change of two values"));
                }
                let text: Box<str> = raw.into();
                Ok(Change {
                    kind,
                    text: text.into(),
                })
            }
        }
        deserializer.deserialize_map(One)
    }
}

/// One entry of an indicator's history: one event, with the values it
/// replaced and set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Log position.
    pub position: u64,
    /// Stream version.
    pub version: u64,
    /// Transaction time.
    pub recorded_at: DateTime<Utc>,
    /// Who (one value shared by the entries of a history that name the
    /// same actor: a history cache holds millions of entries and a few
    /// hundred actors).
    pub actor: std::sync::Arc<Actor>,
    /// The event type (one value shared by the entries of a history of
    /// the same type).
    pub kind: std::sync::Arc<str>,
    /// The track concerned, for target events.
    pub track: Option<TargetTrack>,
    /// The value before (a target, a report).
    pub before: Option<Change>,
    /// The value after (a definition, a target, a report).
    pub after: Option<Change>,
    /// The reason given (one value shared by the entries of a history
    /// that give the same).
    pub reason: Option<std::sync::Arc<str>>,
    /// The document cited.
    pub document: Option<DocumentId>,
    /// The indicator's measure (how a reported ratio becomes a figure).
    pub measure: Option<chitieu_domain::Measure>,
}

/// A value's JSON text, shared by the entries of a history that name the
/// same value.
pub type JsonText = std::sync::Arc<str>;

impl HistoryEntry {
    /// `before` and `after` as JSON text, as stored in the event (kept as
    /// text: a reader that serves them verbatim, the API, writes nothing).
    pub fn texts(&self) -> (Option<&str>, Option<&str>) {
        (
            self.before.as_ref().map(Change::text),
            self.after.as_ref().map(Change::text),
        )
    }
}
