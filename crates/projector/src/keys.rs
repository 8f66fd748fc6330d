//! Key layout of the `projection` tree (one tree for every read model, so
//! a chunk of events and the checkpoint commit in one atomic batch).
//!
//! | prefix | key                                   | value                    |
//! |--------|---------------------------------------|--------------------------|
//! | `m`    | `m/checkpoint`, `m/version`           | u64 BE / u32 BE          |
//! | `i`    | indicator id                          | `IndicatorView` (MessagePack, fields by position) |
//! | `o`    | org unit, 0, period, 0, code order, 0, indicator id | empty      |
//! | `p`    | period, 0, indicator id               | empty                    |
//! | `c`    | category, 0, org unit, 0, period, 0, code order, 0, indicator id | empty |
//! | `s`    | settled status, 0, org unit, 0, period, 0, code order, 0, indicator id | empty |
//! | `n`    | name word (search key), 0, indicator id | empty                  |
//! | `a`    | actor, 0, bucket (position / 64)      | audit postings           |
//! | `u`    | org unit, 0, bucket (position / 64)   | audit postings           |
//! | `y`    | org unit, 0, period                   | `Summary` (JSON)         |
//! | `x`    | org unit, 0, period, 0, category      | `Summary` (JSON): counts of every filter |
//! | `g`    | org unit code                         | `OrgUnitView` (JSON)     |
//! | `d`    | document id                           | `Document` (JSON)        |
//! | `r`    | previous indicator id, next indicator id | empty                 |
//! | `v`    | approval id                           | org unit code (UTF-8)    |

use chitieu_domain::IndicatorId;

pub(crate) const CHECKPOINT: &[u8] = b"m/checkpoint";
pub(crate) const VERSION: &[u8] = b"m/version";

fn join(prefix: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + parts.iter().map(|p| p.len() + 1).sum::<usize>());
    key.push(prefix);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            key.push(0);
        }
        key.extend_from_slice(part);
    }
    key
}

pub(crate) fn indicator(id: IndicatorId) -> Vec<u8> {
    join(b'i', &[id.0.as_bytes()])
}

/// Where an indicator stands in the list's order (org unit, period, code
/// order, id): the part every list index (`o`, `c`, `s`) ends with, so
/// each holds its members in the list's order and a key of one names its
/// twin in another.
pub(crate) fn listed(org: &str, period: &str, code: Option<&str>, id: IndicatorId) -> Vec<u8> {
    let order = code_order(code);
    let mut key = join(
        b'o',
        &[
            org.as_bytes(),
            period.as_bytes(),
            order.as_bytes(),
            id.0.as_bytes(),
        ],
    );
    key.remove(0);
    key
}

/// The org-unit index key: `o`, then the indicator's place in the list.
pub(crate) fn by_org(listed: &[u8]) -> Vec<u8> {
    [list_index(b'o', None).as_slice(), listed].concat()
}

/// The head of a list index's keys before the listed part: `o`, or
/// `c`/`s` and the category's or status's name.
pub(crate) fn list_index(prefix: u8, value: Option<&str>) -> Vec<u8> {
    match value {
        Some(v) => join(prefix, &[v.as_bytes(), b""]),
        None => vec![prefix],
    }
}

/// A sort key for an indicator's code that orders numbers by value: "2"
/// before "10", "1.2" before "1.10"; indicators without a code come last.
pub fn code_order(code: Option<&str>) -> String {
    let Some(code) = code else {
        return "~".to_owned();
    };
    let mut out = String::with_capacity(code.len() + 8);
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if !digits.is_empty() {
            out.push_str(&format!("{:0>8}", digits.trim_start_matches('0')));
            digits.clear();
        }
    };
    for c in code.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            if c != '\0' {
                out.push(c);
            }
        }
    }
    flush(&mut digits, &mut out);
    out
}

pub(crate) fn by_org_prefix(org: &str, period: Option<&str>) -> Vec<u8> {
    [&b"o"[..], &listed_prefix(org, period)].concat()
}

/// The listed part's head for an org unit (and period).
pub(crate) fn listed_prefix(org: &str, period: Option<&str>) -> Vec<u8> {
    let mut key = match period {
        Some(p) => join(b'o', &[org.as_bytes(), p.as_bytes(), b""]),
        None => join(b'o', &[org.as_bytes(), b""]),
    };
    key.remove(0);
    key
}

pub(crate) fn by_period(period: &str, id: IndicatorId) -> Vec<u8> {
    join(b'p', &[period.as_bytes(), id.0.as_bytes()])
}

/// The category index key: the category, then the indicator's place in
/// the list.
pub(crate) fn by_category(category: &str, listed: &[u8]) -> Vec<u8> {
    [list_index(b'c', Some(category)).as_slice(), listed].concat()
}

/// The settled-status index key: the status, then the indicator's place
/// in the list.
pub(crate) fn by_status(status: &str, listed: &[u8]) -> Vec<u8> {
    [list_index(b's', Some(status)).as_slice(), listed].concat()
}

pub(crate) fn by_word(word: &str, id: IndicatorId) -> Vec<u8> {
    join(b'n', &[word.as_bytes(), id.0.as_bytes()])
}

/// Prefix of every indicator of a one-part index (`p`, `c`, `s`, `n`).
pub(crate) fn index_prefix(prefix: u8, value: &str) -> Vec<u8> {
    join(prefix, &[value.as_bytes(), b""])
}

/// Log positions per audit bucket. One key holds the postings of one actor
/// (or org unit) for 64 consecutive positions: a rebuild writes a key per
/// bucket instead of one per event, and a live chunk rewrites at most
/// 64 postings (~1.5 KB) per key it touches. With 1,024 a busy actor's
/// bucket (~23 KB) was read and rewritten by every live chunk, and sled
/// kept the superseded copies until it cleaned its segments: the read
/// models took 385 MB on disk at 10,000 indicators against 164 MB now
/// (BENCHMARKS.md, "Audit buckets of 64 positions").
pub(crate) const AUDIT_BUCKET: u64 = 64;

pub(crate) fn audit_by_actor(actor: &str, bucket: u64) -> Vec<u8> {
    join(b'a', &[actor.as_bytes(), &bucket.to_be_bytes()])
}

pub(crate) fn audit_by_org(org: &str, bucket: u64) -> Vec<u8> {
    join(b'u', &[org.as_bytes(), &bucket.to_be_bytes()])
}

pub(crate) fn summary(org: &str, period: &str) -> Vec<u8> {
    join(b'y', &[org.as_bytes(), period.as_bytes()])
}

/// The counts of one org unit, period and category: every combination of
/// the list's filters but the name is a sum of these cells.
pub(crate) fn counts(org: &str, period: &str, category: &str) -> Vec<u8> {
    join(
        b'x',
        &[org.as_bytes(), period.as_bytes(), category.as_bytes()],
    )
}

/// Prefix of the count cells of an org unit (and period).
pub(crate) fn counts_prefix(org: &str, period: Option<&str>) -> Vec<u8> {
    match period {
        Some(p) => join(b'x', &[org.as_bytes(), p.as_bytes(), b""]),
        None => join(b'x', &[org.as_bytes(), b""]),
    }
}

pub(crate) fn org_unit(code: &str) -> Vec<u8> {
    join(b'g', &[code.as_bytes()])
}

pub(crate) fn document(id: uuid::Uuid) -> Vec<u8> {
    join(b'd', &[id.as_bytes()])
}

pub(crate) fn next_period(previous: IndicatorId, next: IndicatorId) -> Vec<u8> {
    join(b'r', &[previous.0.as_bytes(), next.0.as_bytes()])
}

pub(crate) fn next_period_prefix(previous: IndicatorId) -> Vec<u8> {
    join(b'r', &[previous.0.as_bytes(), b""])
}

pub(crate) fn approval(id: uuid::Uuid) -> Vec<u8> {
    join(b'v', &[id.as_bytes()])
}

/// The indicator id at the end of an index key.
pub(crate) fn trailing_id(key: &[u8]) -> Option<IndicatorId> {
    let bytes: [u8; 16] = key.get(key.len().checked_sub(16)?..)?.try_into().ok()?;
    Some(IndicatorId(uuid::Uuid::from_bytes(bytes)))
}
