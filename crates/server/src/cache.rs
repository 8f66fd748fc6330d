//! Responses of read-only queries, kept for as long as what they read
//! does not change.
//!
//! Everything a query can answer is a function of the log, of the date
//! (for "not due") and of who asks. So a response is kept under the query
//! text, operation name, variables and principal, with **what it read**:
//! the indicators named by its root fields (`indicator(id:)`, the hot read
//! of every client), or everything (lists, summaries, the audit trail,
//! anything else: a list's membership and order move with any write). The
//! kept responses are current at one log position; when the log moves, the
//! events in between say what they touched ([`Touched`]: an indicator's
//! own events touch it, the indicators whose previous period it is, and
//! its parent; any other event touches everything), and only the responses
//! that read something touched are dropped. A response is only stored when
//! the read models had caught up with the log and nothing moved while it
//! was computed, and only without errors; a new day drops everything.
//! Mutations, subscriptions, batches and proofs (they sign the current
//! head) are never kept.
//!
//! Parsed query documents are kept too (by query text), so that a query
//! seen before is not parsed again.

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::Positioned;
use axum::body::Bytes;
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// What an answer depends on besides the request, as seen when a request
/// arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The log's head position.
    pub head: u64,
    /// The read models' position.
    pub projected: u64,
    /// Today's date.
    pub today: NaiveDate,
}

/// What a kept response read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reads {
    /// Only these indicators (canonical ids), each with everything under it.
    Indicators(Vec<String>),
    /// Anything: dropped on every write.
    Everything,
}

/// What the events between two log positions touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    /// These indicators (ids in their canonical text).
    Indicators(HashSet<String>),
    /// Anything (an org unit, a document, a grant, a period, a new
    /// indicator, or more events than are worth reading).
    Everything,
}

struct Kept {
    body: Bytes,
}

#[derive(Default)]
struct Generation {
    /// The log position the kept responses are current at.
    head: Option<u64>,
    today: Option<NaiveDate>,
    responses: HashMap<String, Kept>,
    /// Keys of the responses that read each indicator (a key may stay
    /// listed after its response went: checked on removal).
    by_indicator: HashMap<String, Vec<String>>,
    /// Keys of the responses that read everything.
    reading_everything: Vec<String>,
    bytes: usize,
    /// A request is reading what the log's new events touched: others
    /// miss meanwhile rather than read the same events again.
    advancing: bool,
}

impl Generation {
    /// Drops every kept response; returns them, to be freed outside the lock.
    fn clear(&mut self) -> HashMap<String, Kept> {
        self.bytes = 0;
        self.by_indicator.clear();
        self.reading_everything.clear();
        std::mem::take(&mut self.responses)
    }

    /// Drops the responses that read something `touched` touched; returns
    /// them, to be freed outside the lock. Costs what was touched, not
    /// what is kept.
    fn drop_touched(&mut self, touched: &Touched) -> Vec<Kept> {
        let Touched::Indicators(ids) = touched else {
            return self.clear().into_values().collect();
        };
        let mut keys = std::mem::take(&mut self.reading_everything);
        for id in ids {
            keys.extend(self.by_indicator.remove(id).unwrap_or_default());
        }
        let mut dropped = Vec::new();
        for key in keys {
            if let Some(kept) = self.responses.remove(&key) {
                self.bytes -= key.len() + kept.body.len();
                dropped.push(kept);
            }
        }
        dropped
    }
}

/// The cache; `max_bytes == 0` keeps nothing.
pub struct ResponseCache {
    max_bytes: usize,
    generation: Mutex<Generation>,
    documents: Mutex<HashMap<String, Arc<Parsed>>>,
    /// Counts for `/metrics`.
    pub counts: CacheCounts,
}

/// What the cache did, for `/metrics`.
#[derive(Default)]
pub struct CacheCounts {
    /// Responses served from the cache.
    pub hits: AtomicU64,
    /// Lookups that found nothing.
    pub misses: AtomicU64,
    /// Responses dropped (what they read changed, a new day, or a full
    /// cache started over).
    pub evictions: AtomicU64,
}

/// A query parsed, with what is checked on it before every execution.
pub struct Parsed {
    /// The document.
    pub document: ExecutableDocument,
    /// Its aliased fields (counted once, checked against the limit per request).
    pub aliases: usize,
    /// Its directives (counted once, checked on every request).
    pub directives: usize,
    /// How deep it goes (measured once, checked on every request).
    pub depth: chitieu_graphql::limits::Depth,
    /// Whether a request with this document succeeded on the strict schema
    /// (its document's validation rules pass: [`chitieu_graphql::validated`]).
    pub validated: AtomicBool,
}

/// Root fields never answered from the cache.
const UNCACHED_FIELDS: [&str; 1] = ["verifyLedger"];

/// Most parsed documents kept (they are small; clients send few distinct queries).
const MAX_DOCUMENTS: usize = 1024;

impl ResponseCache {
    /// A cache holding at most `max_bytes` of response bodies.
    pub fn new(max_bytes: usize) -> Self {
        ResponseCache {
            max_bytes,
            generation: Mutex::new(Generation::default()),
            documents: Mutex::new(HashMap::new()),
            counts: CacheCounts::default(),
        }
    }

    /// Whether responses are kept at all.
    pub fn enabled(&self) -> bool {
        self.max_bytes > 0
    }

    /// The parsed document of a query, from the cache or parsed now
    /// (`None` when it does not parse: the executor reports why).
    /// Shared: a request whose response is kept never copies it.
    pub fn document(&self, query: &str) -> Option<Arc<Parsed>> {
        if let Ok(documents) = self.documents.lock() {
            if let Some(d) = documents.get(query) {
                return Some(d.clone());
            }
        }
        let document = async_graphql::parser::parse_query(query).ok()?;
        let parsed = Arc::new(Parsed {
            aliases: chitieu_graphql::limits::alias_count(&document),
            directives: chitieu_graphql::limits::directive_count(&document),
            depth: chitieu_graphql::limits::depth(&document),
            validated: AtomicBool::new(false),
            document,
        });
        if let Ok(mut documents) = self.documents.lock() {
            if documents.len() >= MAX_DOCUMENTS {
                documents.clear();
            }
            documents.insert(query.to_owned(), parsed.clone());
        }
        Some(parsed)
    }

    /// The key of a request, or `None` when its response must not be kept
    /// (not a query).
    pub fn key(
        document: &ExecutableDocument,
        query: &str,
        operation: Option<&str>,
        variables: &str,
        principal: &str,
    ) -> Option<String> {
        let mut operations = document.operations.iter();
        let found = match operation {
            Some(n) => operations.find(|(name, _)| name.map(|o| o.as_str()) == Some(n)),
            None => operations.next(),
        };
        let (_, op) = found?;
        // Fields whose answer is not a function of the log's head alone
        // (a verification reads the disk now; a background check moves).
        let live = op
            .node
            .selection_set
            .node
            .items
            .iter()
            .any(|item| match &item.node {
                async_graphql::parser::types::Selection::Field(f) => {
                    UNCACHED_FIELDS.contains(&f.node.name.node.as_str())
                }
                _ => true,
            });
        if live {
            return None;
        }
        match Some(op.node.ty) {
            Some(OperationType::Query) => Some(format!(
                "{principal}\u{0}{}\u{0}{variables}\u{0}{query}",
                operation.unwrap_or("")
            )),
            _ => None,
        }
    }

    /// What the operation of a request read: the indicators of its root
    /// fields when every root field is `indicator(id:)` (with a literal
    /// id or a variable), and no field under them is a `proof` (a proof
    /// signs the current head); else everything.
    pub fn reads(
        document: &ExecutableDocument,
        operation: Option<&str>,
        variables: &async_graphql::Variables,
    ) -> Reads {
        let mut operations = document.operations.iter();
        let found = match operation {
            Some(n) => operations.find(|(name, _)| name.map(|o| o.as_str()) == Some(n)),
            None => operations.next(),
        };
        let Some((_, op)) = found else {
            return Reads::Everything;
        };
        let mut ids = Vec::new();
        for item in &op.node.selection_set.node.items {
            let Selection::Field(field) = &item.node else {
                return Reads::Everything;
            };
            let field = &field.node;
            match field.name.node.as_str() {
                "__typename" => {}
                "indicator" => {
                    let id = field.get_argument("id").and_then(|v| {
                        match v
                            .node
                            .clone()
                            .into_const_with(|name| variables.get(&name).cloned().ok_or(()))
                        {
                            // As the resolver reads it: any form `Uuid`
                            // parses, kept in its one canonical text.
                            Ok(async_graphql::Value::String(s)) => {
                                uuid::Uuid::parse_str(&s).ok().map(|u| u.to_string())
                            }
                            _ => None,
                        }
                    });
                    let Some(id) = id else {
                        return Reads::Everything;
                    };
                    if !only_own_fields(document, &field.selection_set, &mut HashSet::new()) {
                        return Reads::Everything;
                    }
                    ids.push(id);
                }
                _ => return Reads::Everything,
            }
        }
        if ids.is_empty() {
            Reads::Everything
        } else {
            Reads::Indicators(ids)
        }
    }

    /// The kept response for `key`, if what it read has not changed up to
    /// `stamp`. When the log has moved, `touched(from, to)` says what the
    /// events after `from` up to `to` touched (run outside the lock).
    pub fn get(
        &self,
        stamp: Stamp,
        key: &str,
        touched: impl FnOnce(u64, u64) -> Touched,
    ) -> Option<Bytes> {
        let mut generation = self.generation.lock().ok()?;
        let current = match (generation.head, generation.today) {
            (Some(head), Some(today)) if today == stamp.today && head <= stamp.head => head,
            (Some(head), Some(today)) if today == stamp.today && head > stamp.head => {
                // This request saw an older head than the cache: not for it.
                self.counts.misses.fetch_add(1, Relaxed);
                return None;
            }
            _ => {
                // The first request, or a new day: start over.
                let old = generation.clear();
                generation.head = Some(stamp.head);
                generation.today = Some(stamp.today);
                drop(generation);
                self.counts.evictions.fetch_add(old.len() as u64, Relaxed);
                self.counts.misses.fetch_add(1, Relaxed);
                return None;
            }
        };
        if current < stamp.head {
            if generation.advancing {
                self.counts.misses.fetch_add(1, Relaxed);
                return None;
            }
            generation.advancing = true;
            drop(generation);
            let touched = touched(current, stamp.head);
            generation = self.generation.lock().ok()?;
            generation.advancing = false;
            let mut dropped = Vec::new();
            if generation.head == Some(current) {
                dropped = generation.drop_touched(&touched);
                generation.head = Some(stamp.head);
                self.counts
                    .evictions
                    .fetch_add(dropped.len() as u64, Relaxed);
            }
            if generation.head != Some(stamp.head) {
                drop(generation);
                drop(dropped);
                self.counts.misses.fetch_add(1, Relaxed);
                return None;
            }
            let found = generation.responses.get(key).map(|k| k.body.clone());
            drop(generation);
            drop(dropped);
            let counter = if found.is_some() {
                &self.counts.hits
            } else {
                &self.counts.misses
            };
            counter.fetch_add(1, Relaxed);
            return found;
        }
        let found = generation.responses.get(key).map(|k| k.body.clone());
        let counter = if found.is_some() {
            &self.counts.hits
        } else {
            &self.counts.misses
        };
        counter.fetch_add(1, Relaxed);
        found
    }

    /// Keeps a response computed under `before`, if the stamp is still
    /// `now` (nothing changed meanwhile), the kept responses are current at
    /// the same position, and there is room.
    pub fn put(&self, before: Stamp, now: Stamp, key: String, reads: Reads, body: Bytes) {
        // While the read models lag the log they change under a reader
        // before their position says so: keep nothing then.
        if before != now || before.head != before.projected || body.len() > self.max_bytes {
            return;
        }
        let Ok(mut generation) = self.generation.lock() else {
            return;
        };
        if generation.head != Some(now.head) || generation.today != Some(now.today) {
            return;
        }
        let mut old = None;
        if generation.bytes + body.len() + key.len() > self.max_bytes {
            // Full: start over rather than track recency on every hit.
            let dropped = generation.clear();
            self.counts
                .evictions
                .fetch_add(dropped.len() as u64, Relaxed);
            old = Some(dropped);
        }
        let key_len = key.len();
        match &reads {
            Reads::Everything => generation.reading_everything.push(key.clone()),
            Reads::Indicators(ids) => {
                for id in ids {
                    generation
                        .by_indicator
                        .entry(id.clone())
                        .or_default()
                        .push(key.clone());
                }
            }
        }
        generation.bytes += body.len() + key_len;
        if let Some(previous) = generation.responses.insert(key, Kept { body }) {
            generation.bytes -= previous.body.len() + key_len;
        }
        drop(generation);
        drop(old);
    }
}

/// Whether a selection under `indicator(id:)` reads only what the
/// indicator's own events (and its previous period's, and its parent's)
/// change: no `proof`, fragments followed once each.
fn only_own_fields(
    document: &ExecutableDocument,
    set: &Positioned<SelectionSet>,
    seen: &mut HashSet<String>,
) -> bool {
    set.node.items.iter().all(|item| match &item.node {
        Selection::Field(f) => {
            f.node.name.node.as_str() != "proof"
                && only_own_fields(document, &f.node.selection_set, seen)
        }
        Selection::InlineFragment(f) => only_own_fields(document, &f.node.selection_set, seen),
        Selection::FragmentSpread(spread) => {
            let name = spread.node.fragment_name.node.to_string();
            if !seen.insert(name.clone()) {
                return true;
            }
            document
                .fragments
                .get(&spread.node.fragment_name.node)
                .is_some_and(|f| only_own_fields(document, &f.node.selection_set, seen))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(head: u64) -> Stamp {
        Stamp {
            head,
            projected: head,
            today: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
        }
    }

    fn everything(_: u64, _: u64) -> Touched {
        Touched::Everything
    }

    const ID: &str = "0190a0b0-0000-7000-8000-000000000001";
    const OTHER: &str = "0190a0b0-0000-7000-8000-000000000002";

    fn only(id: &str) -> impl FnOnce(u64, u64) -> Touched {
        let id = id.to_owned();
        move |_, _| Touched::Indicators([id].into_iter().collect())
    }

    #[test]
    fn a_response_lives_until_the_log_moves() {
        let cache = ResponseCache::new(1 << 20);
        let doc = cache.document("{ a }").unwrap();
        let key = ResponseCache::key(&doc.document, "{ a }", None, "{}", "ubkt").unwrap();
        assert_eq!(cache.get(stamp(1), &key, everything), None);
        cache.put(
            stamp(1),
            stamp(1),
            key.clone(),
            Reads::Everything,
            Bytes::from_static(b"1"),
        );
        assert_eq!(
            cache.get(stamp(1), &key, everything),
            Some(Bytes::from_static(b"1"))
        );
        // Another principal asks: not the same key.
        let other = ResponseCache::key(&doc.document, "{ a }", None, "{}", "lanh-dao").unwrap();
        assert_eq!(cache.get(stamp(1), &other, everything), None);
        // A write: a response that read everything is gone.
        assert_eq!(cache.get(stamp(2), &key, only(OTHER)), None);
        // A response computed while the log moved is not kept.
        cache.put(
            stamp(2),
            stamp(3),
            key.clone(),
            Reads::Everything,
            Bytes::from_static(b"2"),
        );
        assert_eq!(cache.get(stamp(2), &key, everything), None);
        // Nor one computed while the read models lagged the log.
        let lagging = Stamp {
            projected: 1,
            ..stamp(2)
        };
        assert_eq!(cache.get(lagging, &key, everything), None);
        cache.put(
            lagging,
            lagging,
            key.clone(),
            Reads::Everything,
            Bytes::from_static(b"3"),
        );
        assert_eq!(cache.get(lagging, &key, everything), None);
    }

    #[test]
    fn a_response_about_one_indicator_survives_writes_to_others() {
        let cache = ResponseCache::new(1 << 20);
        let one = Reads::Indicators(vec![ID.to_owned()]);
        let _ = cache.get(stamp(5), "k", everything);
        cache.put(
            stamp(5),
            stamp(5),
            "k".into(),
            one.clone(),
            Bytes::from_static(b"k"),
        );
        cache.put(
            stamp(5),
            stamp(5),
            "all".into(),
            Reads::Everything,
            Bytes::from_static(b"a"),
        );
        // Another indicator written: kept; the list is not.
        assert_eq!(
            cache.get(stamp(6), "k", only(OTHER)),
            Some(Bytes::from_static(b"k"))
        );
        assert_eq!(cache.get(stamp(6), "all", only(OTHER)), None);
        // A request that saw an older head is not answered from newer state.
        assert_eq!(cache.get(stamp(5), "k", everything), None);
        // This indicator written: gone.
        assert_eq!(cache.get(stamp(7), "k", only(ID)), None);
        // Something else (an org unit, a grant, a new indicator): gone too.
        cache.put(
            stamp(7),
            stamp(7),
            "k".into(),
            one,
            Bytes::from_static(b"k2"),
        );
        assert_eq!(cache.get(stamp(8), "k", everything), None);
        // A new day: everything starts over.
        cache.put(
            stamp(8),
            stamp(8),
            "k".into(),
            Reads::Everything,
            Bytes::from_static(b"k3"),
        );
        let tomorrow = Stamp {
            today: NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(),
            ..stamp(8)
        };
        assert_eq!(cache.get(tomorrow, "k", everything), None);
    }

    #[test]
    fn only_indicator_roots_without_proofs_read_less_than_everything() {
        let cache = ResponseCache::new(0);
        let reads = |query: &str, variables: serde_json::Value| {
            let doc = cache.document(query).unwrap();
            let variables = async_graphql::Variables::from_json(variables);
            ResponseCache::reads(&doc.document, None, &variables)
        };
        let canonical = Reads::Indicators(vec![ID.to_owned()]);
        assert_eq!(
            reads(
                &format!("{{ indicator(id: \"{ID}\") {{ name targets {{ kind }} }} }}"),
                serde_json::json!({})
            ),
            canonical
        );
        // A variable, in another form Uuid reads: the canonical id.
        assert_eq!(
            reads(
                "query($id: ID!) { indicator(id: $id) { ...F } } fragment F on Indicator { name history { edges { node { kind } } } }",
                serde_json::json!({ "id": ID.replace('-', "").to_uppercase() })
            ),
            canonical
        );
        for (query, why) in [
            ("{ indicators(first: 5) { nodes { id } } }", "a list"),
            ("{ summary(orgUnit: \"LA\", period: \"2025\") { total } }", "a summary"),
            ("query($id: ID!) { indicator(id: $id) { name } ledger { size } }", "another root"),
            ("query($id: ID!) { indicator(id: $id) { latestActual { proof { leaf } } } }", "a proof"),
            ("query($id: ID!) { indicator(id: $id) { ...P } } fragment P on Indicator { targets { proof { leaf } } }", "a proof in a fragment"),
            ("query($id: ID!) { ... on QueryRoot { indicator(id: $id) { name } } }", "a root fragment"),
            ("{ indicator(id: \"not an id\") { name } }", "an id that is none"),
        ] {
            assert_eq!(reads(query, serde_json::json!({ "id": ID })), Reads::Everything, "{why}");
        }
    }

    #[test]
    fn a_document_is_parsed_and_its_aliases_counted_once() {
        let cache = ResponseCache::new(0);
        let first = cache.document("{ x: a y: b { z: c } }").unwrap();
        assert_eq!(first.aliases, 3);
        let again = cache.document("{ x: a y: b { z: c } }").unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "the second request reuses the first parse"
        );
        assert!(cache.document("{ unclosed").is_none());
    }

    #[test]
    fn mutations_are_never_kept_and_the_size_is_bounded() {
        let cache = ResponseCache::new(64);
        let query = "mutation { a }";
        let doc = cache.document(query).unwrap();
        assert_eq!(
            ResponseCache::key(&doc.document, query, None, "{}", "admin"),
            None
        );
        let named = "query A { a } mutation B { b }";
        let doc = cache.document(named).unwrap();
        assert!(ResponseCache::key(&doc.document, named, Some("A"), "{}", "x").is_some());
        assert_eq!(
            ResponseCache::key(&doc.document, named, Some("B"), "{}", "x"),
            None
        );
        let all = || Reads::Everything;
        let _ = cache.get(stamp(1), "k", everything);
        cache.put(
            stamp(1),
            stamp(1),
            "k".into(),
            all(),
            Bytes::from(vec![0u8; 40]),
        );
        cache.put(
            stamp(1),
            stamp(1),
            "l".into(),
            all(),
            Bytes::from(vec![0u8; 40]),
        );
        assert_eq!(
            cache.get(stamp(1), "k", everything),
            None,
            "the first was dropped for room"
        );
        assert!(cache.get(stamp(1), "l", everything).is_some());
        cache.put(
            stamp(1),
            stamp(1),
            "m".into(),
            all(),
            Bytes::from(vec![0u8; 100]),
        );
        assert_eq!(
            cache.get(stamp(1), "m", everything),
            None,
            "larger than the whole cache"
        );
        assert!(!ResponseCache::new(0).enabled());
    }
}
