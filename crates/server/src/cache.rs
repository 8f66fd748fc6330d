//! Responses of read-only queries, kept for as long as nothing changes.
//!
//! Everything a query can answer is a function of the log (its head and
//! how far the read models have followed it), of the date (for "not due")
//! and of who asks. So a response is kept under the query text, operation
//! name, variables and principal, in a generation stamped with (head,
//! projected position, today); the first request that sees another stamp
//! starts a new, empty generation. A response is only stored when the
//! read models had caught up with the log and the stamp did not move while
//! it was computed, and only without errors.
//! Mutations, subscriptions and batches are never kept.
//!
//! Parsed query documents are kept too (by query text), so that a query
//! seen before is not parsed again.

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use axum::body::Bytes;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// What a generation of responses is valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The log's head position.
    pub head: u64,
    /// The read models' position.
    pub projected: u64,
    /// Today's date.
    pub today: NaiveDate,
}

#[derive(Default)]
struct Generation {
    stamp: Option<Stamp>,
    responses: HashMap<String, Bytes>,
    bytes: usize,
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
    /// Responses dropped (a new generation, or a full one started over).
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

    /// The kept response for `key`, if the generation is `stamp`'s.
    pub fn get(&self, stamp: Stamp, key: &str) -> Option<Bytes> {
        let mut generation = self.generation.lock().ok()?;
        if generation.stamp != Some(stamp) {
            let old = std::mem::replace(
                &mut *generation,
                Generation {
                    stamp: Some(stamp),
                    ..Generation::default()
                },
            );
            // Freeing up to the whole budget of responses happens outside the lock.
            drop(generation);
            self.counts
                .evictions
                .fetch_add(old.responses.len() as u64, Relaxed);
            self.counts.misses.fetch_add(1, Relaxed);
            drop(old);
            return None;
        }
        let found = generation.responses.get(key).cloned();
        let counter = if found.is_some() {
            &self.counts.hits
        } else {
            &self.counts.misses
        };
        counter.fetch_add(1, Relaxed);
        found
    }

    /// Keeps a response computed under `before`, if the stamp is still
    /// `now` (nothing changed meanwhile) and there is room.
    pub fn put(&self, before: Stamp, now: Stamp, key: String, body: Bytes) {
        // While the read models lag the log they change under a reader
        // before their position says so: keep nothing then.
        if before != now || before.head != before.projected || body.len() > self.max_bytes {
            return;
        }
        let Ok(mut generation) = self.generation.lock() else {
            return;
        };
        if generation.stamp != Some(now) {
            return;
        }
        let mut old = None;
        if generation.bytes + body.len() + key.len() > self.max_bytes {
            // Full: start over rather than track recency on every hit.
            let dropped = std::mem::take(&mut generation.responses);
            self.counts
                .evictions
                .fetch_add(dropped.len() as u64, Relaxed);
            old = Some(dropped);
            generation.bytes = 0;
        }
        generation.bytes += body.len() + key.len();
        generation.responses.insert(key, body);
        drop(generation);
        drop(old);
    }
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

    #[test]
    fn a_response_lives_until_the_log_moves() {
        let cache = ResponseCache::new(1 << 20);
        let doc = cache.document("{ a }").unwrap();
        let key = ResponseCache::key(&doc.document, "{ a }", None, "{}", "ubkt").unwrap();
        assert_eq!(cache.get(stamp(1), &key), None);
        cache.put(stamp(1), stamp(1), key.clone(), Bytes::from_static(b"1"));
        assert_eq!(cache.get(stamp(1), &key), Some(Bytes::from_static(b"1")));
        // Another principal asks: not the same key.
        let other = ResponseCache::key(&doc.document, "{ a }", None, "{}", "lanh-dao").unwrap();
        assert_eq!(cache.get(stamp(1), &other), None);
        // A write: everything kept before is gone.
        assert_eq!(cache.get(stamp(2), &key), None);
        // A response computed while the log moved is not kept.
        cache.put(stamp(2), stamp(3), key.clone(), Bytes::from_static(b"2"));
        assert_eq!(cache.get(stamp(2), &key), None);
        // Nor one computed while the read models lagged the log.
        let lagging = Stamp {
            projected: 1,
            ..stamp(2)
        };
        assert_eq!(cache.get(lagging, &key), None);
        cache.put(lagging, lagging, key.clone(), Bytes::from_static(b"3"));
        assert_eq!(cache.get(lagging, &key), None);
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
        let _ = cache.get(stamp(1), "k");
        cache.put(stamp(1), stamp(1), "k".into(), Bytes::from(vec![0u8; 40]));
        cache.put(stamp(1), stamp(1), "l".into(), Bytes::from(vec![0u8; 40]));
        assert_eq!(
            cache.get(stamp(1), "k"),
            None,
            "the first was dropped for room"
        );
        assert!(cache.get(stamp(1), "l").is_some());
        cache.put(stamp(1), stamp(1), "m".into(), Bytes::from(vec![0u8; 100]));
        assert_eq!(
            cache.get(stamp(1), "m"),
            None,
            "larger than the whole cache"
        );
        assert!(!ResponseCache::new(0).enabled());
    }
}
