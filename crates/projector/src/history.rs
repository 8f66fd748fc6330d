//! An indicator's history: one entry per event of its stream, with the
//! value the event replaced and the one it set. [`entry`] is the one rule
//! that writes an entry, given the view before the event;
//! [`crate::ReadModel::history`] applies it along the indicator's stream
//! in the log. The entries of one history share what they repeat
//! ([`Shared`]): a history cache holds hundreds of thousands of entries.

use crate::model::{Change, HistoryEntry, HistoryValue};
use crate::view::IndicatorView;
use chitieu_domain::{ActualReport, Event, ReportId};
use chitieu_store::{Actor, RecordedEvent};
use std::sync::Arc;

/// The earlier report an event replaces, which its entry shows as the
/// value before: the report a new one supersedes, or the one a
/// correction corrects.
pub(crate) fn replaced_report(event: &Event) -> Option<ReportId> {
    match event {
        Event::ActualReported(e) => e.supersedes,
        Event::ActualCorrected(e) => Some(e.corrects),
        _ => None,
    }
}

/// The report an event records (its entry's value after), for later
/// entries that replace it.
pub(crate) fn recorded_report(event: &Event) -> Option<&ActualReport> {
    match event {
        Event::ActualReported(e) => Some(&e.report),
        Event::ActualCorrected(e) => Some(&e.report),
        _ => None,
    }
}

/// What the entries of one history have in common, one copy each: the
/// actors they name, and their texts (event types, reasons, and the JSON
/// of the values they replaced and set: a report's `after` is the
/// `before` of the report that supersedes it, a target's of its
/// revision). A report entry took ~600 bytes with its own copies, about
/// half with these shared (BENCHMARKS.md, "History entries that share
/// what they repeat").
#[derive(Default)]
pub(crate) struct Shared {
    actors: Vec<Arc<Actor>>,
    texts: std::collections::HashSet<Arc<str>>,
}

impl Shared {
    fn actor(&mut self, actor: &Actor) -> Arc<Actor> {
        match self.actors.iter().find(|a| ***a == *actor) {
            Some(known) => known.clone(),
            None => {
                let new = Arc::new(actor.clone());
                self.actors.push(new.clone());
                new
            }
        }
    }

    fn text(&mut self, text: &str) -> Arc<str> {
        match self.texts.get(text) {
            Some(known) => known.clone(),
            None => {
                let new: Arc<str> = Arc::from(text);
                self.texts.insert(new.clone());
                new
            }
        }
    }

    fn change(&mut self, change: Option<Change>) -> Option<Change> {
        change.map(|c| Change {
            text: self.text(&c.text),
            kind: c.kind,
        })
    }
}

/// The entry of `event`, given the indicator's view before it (`None`
/// before its definition) and, for an event that replaces a report
/// ([`replaced_report`]), that report. `shared` holds what the history's
/// earlier entries named: an entry shares its actor and texts with them.
pub(crate) fn entry(
    view: Option<&IndicatorView>,
    recorded: &RecordedEvent,
    event: &Event,
    replaced: Option<ActualReport>,
    shared: &mut Shared,
) -> HistoryEntry {
    let mut entry = HistoryEntry {
        position: recorded.position,
        version: recorded.version,
        recorded_at: recorded.recorded_at,
        actor: shared.actor(&recorded.actor),
        kind: shared.text(&recorded.event_type),
        track: None,
        before: None,
        after: None,
        reason: None,
        document: None,
        measure: view.map(|v| v.definition.measure),
    };
    match event {
        Event::IndicatorDefined(e) => {
            entry.measure = Some(e.definition.measure);
            entry.after = Change::of(HistoryValue::Definition(Box::new(e.definition.clone())));
            entry.document = e.definition.document;
        }
        Event::TargetSet(e) => {
            entry.track = Some(e.track);
            entry.after = Change::of(HistoryValue::Target(e.target.clone()));
            entry.document = Some(e.target.document);
        }
        Event::TargetRevised(e) => {
            entry.track = Some(e.track);
            entry.before = view
                .and_then(|v| v.targets.get(&e.track))
                .and_then(|t| Change::of(HistoryValue::Target(t.current.clone())));
            entry.after = Change::of(HistoryValue::Target(e.target.clone()));
            entry.reason = Some(shared.text(e.reason.as_str()));
            entry.document = Some(e.target.document);
        }
        Event::TargetRestated(e) => {
            // Another statement; the target in force stays.
            entry.track = Some(e.track);
            entry.after = Change::of(HistoryValue::Target(e.statement.clone()));
            entry.reason = e.reason.as_ref().map(|r| shared.text(r.as_str()));
            entry.document = Some(e.statement.document);
        }
        Event::ActualReported(e) => {
            // The figure it supersedes, else the one that counted.
            entry.before = match e.supersedes {
                Some(_) => replaced.map(HistoryValue::Report).and_then(Change::of),
                None => view
                    .and_then(|v| v.current_report())
                    .and_then(|r| Change::of(HistoryValue::Report(r.report.clone()))),
            };
            entry.after = Change::of(HistoryValue::Report(e.report.clone()));
            entry.reason = e.reason.as_ref().map(|r| shared.text(r.as_str()));
            entry.document = e.report.source;
        }
        Event::ActualCorrected(e) => {
            entry.before = replaced.map(HistoryValue::Report).and_then(Change::of);
            entry.after = Change::of(HistoryValue::Report(e.report.clone()));
            entry.reason = Some(shared.text(e.reason.as_str()));
            entry.document = e.report.source;
        }
        Event::IndicatorRetired(e) => {
            entry.reason = Some(shared.text(e.reason.as_str()));
            entry.document = e.document;
        }
        Event::IndicatorDirectionSet(e) => {
            entry.reason = Some(shared.text(e.reason.as_str()));
            entry.document = e.document;
        }
        Event::IndicatorPreviousLinked(e) => {
            entry.reason = e.reason.as_ref().map(|r| shared.text(r.as_str()));
        }
        Event::IndicatorParentSet(e) => {
            entry.reason = e.reason.as_ref().map(|r| shared.text(r.as_str()));
        }
        _ => {}
    }
    entry.before = shared.change(entry.before);
    entry.after = shared.change(entry.after);
    entry
}
