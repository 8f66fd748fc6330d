//! [`ReadModel`]: the queries clients and auditors run against the read
//! models, including time travel (transaction time: "as recorded by then";
//! valid time: "figures referring to dates up to then").

use crate::keys;
use crate::model::{AuditEntry, HistoryEntry, OrgUnitView, Summary};
use crate::projector::{category_name, parse, status_name, ProjectionError, Projector};
use crate::view::{fold, IndicatorView, Stamp};
use chitieu_domain::achievement::AchievementStatus;
use chitieu_domain::{
    search_key, Category, Document, DocumentId, Event, IndicatorId, OrgUnitCode, Period, StreamId,
};
use chitieu_store::RecordedEvent;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Which indicators to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndicatorFilter {
    /// Of this org unit.
    pub org_unit: Option<OrgUnitCode>,
    /// And of its descendants too.
    pub include_descendants: bool,
    /// Of this period.
    pub period: Option<Period>,
    /// Of this category.
    pub category: Option<Category>,
    /// Whose settled status (at the end of the period) is this one.
    pub status: Option<AchievementStatus>,
    /// Whose name contains this text, ignoring diacritics and case.
    pub name: Option<String>,
    /// Only within these org units' subtrees (a reader's scopes).
    pub within: Option<Vec<OrgUnitCode>>,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Changes by this principal.
    pub actor: Option<String>,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded at or before.
    pub to: Option<DateTime<Utc>>,
    /// Concerning this org unit (and its descendants).
    pub org_unit: Option<OrgUnitCode>,
    /// Of this event type.
    pub kind: Option<String>,
    /// Only within these org units' subtrees (a reader's scopes): entries
    /// concerning no org unit (principals, grants) are left out.
    pub within: Option<Vec<OrgUnitCode>>,
}

/// Read access to the read models. Cheap to clone.
#[derive(Clone)]
pub struct ReadModel {
    projector: Arc<Projector>,
    histories: Arc<std::sync::Mutex<HistoryCache>>,
}

/// Histories already folded, by indicator, with the version they end at:
/// a history only grows, so one that ends at the indicator's current
/// version is the whole of it. Bounded by the entries it holds, all
/// histories told: a few indicators with long histories cannot grow it
/// past its bound. When a history would take it past, histories are let
/// go until a quarter of the bound is free, in the map's order (by a
/// randomly seeded hash of the id: whatever the access pattern, a
/// random pick). Emptying it instead made a store just over the bound
/// fold every history again after each fill.
#[derive(Default)]
struct HistoryCache {
    by_indicator: std::collections::HashMap<IndicatorId, (u64, Arc<Vec<HistoryEntry>>)>,
    entries: usize,
}

type Decoded = Vec<(RecordedEvent, Event)>;

/// Org units in code order, and a period as the org index writes it.
type IndexedUnits = (Vec<String>, Option<String>);

/// A name filter as the names are compared: its search key, none when
/// it has no letters or digits left.
fn name_key(filter: &IndicatorFilter) -> Option<String> {
    filter
        .name
        .as_deref()
        .map(search_key)
        .filter(|k| !k.is_empty())
}

impl ReadModel {
    /// Reads what `projector` maintains.
    pub fn new(projector: Arc<Projector>) -> Self {
        ReadModel {
            projector,
            histories: Arc::default(),
        }
    }

    fn tree(&self) -> sled::Tree {
        self.projector.tree()
    }

    /// The projector behind it.
    pub fn projector(&self) -> &Arc<Projector> {
        &self.projector
    }

    /// The indicators that name `previous` as their previous period's
    /// counterpart (their "so cùng kỳ" follows its figure).
    pub fn next_periods(&self, previous: IndicatorId) -> Result<Vec<IndicatorId>, ProjectionError> {
        let mut out = Vec::new();
        for entry in self.tree().scan_prefix(keys::next_period_prefix(previous)) {
            let (key, _) = entry?;
            out.extend(keys::trailing_id(&key));
        }
        Ok(out)
    }

    /// One indicator as it stands.
    pub fn indicator(&self, id: IndicatorId) -> Result<Option<IndicatorView>, ProjectionError> {
        Ok(self.indicator_shared(id)?.map(|v| (*v).clone()))
    }

    /// One indicator as it stands, shared with the view cache (no copy).
    pub fn indicator_shared(
        &self,
        id: IndicatorId,
    ) -> Result<Option<Arc<IndicatorView>>, ProjectionError> {
        if let Some(view) = self.projector.views.get(id) {
            return Ok(Some(view));
        }
        let position = self.projector.position();
        let key = keys::indicator(id);
        let Some(bytes) = self.tree().get(&key)? else {
            return Ok(None);
        };
        let view: Arc<IndicatorView> = Arc::new(crate::projector::parse_view(&key, &bytes)?);
        if self.projector.position() == position {
            self.projector.views.offer(&view);
        }
        Ok(Some(view))
    }

    pub(crate) fn stream(&self, id: IndicatorId) -> Result<Decoded, ProjectionError> {
        self.decoded_stream(&StreamId::indicator(id))
    }

    /// Every event of a stream, decoded, with its record.
    pub(crate) fn decoded_stream(&self, stream: &StreamId) -> Result<Decoded, ProjectionError> {
        let records = self
            .projector
            .log()
            .read_stream(&stream.into(), 1, usize::MAX)?;
        records
            .into_iter()
            .map(|r| {
                let event = r.decode().map_err(|e| ProjectionError::Undecodable {
                    position: r.position,
                    reason: e.to_string(),
                })?;
                Ok((r, event))
            })
            .collect()
    }

    /// One indicator as it was recorded up to log position `position`
    /// (`None` if it did not exist yet).
    pub fn indicator_at(
        &self,
        id: IndicatorId,
        position: u64,
    ) -> Result<Option<IndicatorView>, ProjectionError> {
        let Some(mut view) = fold(&self.stream(id)?, Some(position)) else {
            return Ok(None);
        };
        view.previous_figure = match view.definition.previous {
            Some(previous) => {
                fold(&self.stream(previous)?, Some(position)).and_then(|p| p.current_figure())
            }
            None => None,
        };
        Ok(Some(view))
    }

    /// Valid time: the report that counted for figures referring to dates
    /// on or before `date`, as recorded up to `position` (all when `None`).
    pub fn report_valid_at(
        &self,
        id: IndicatorId,
        date: chrono::NaiveDate,
        position: Option<u64>,
    ) -> Result<Option<crate::view::ReportView>, ProjectionError> {
        Ok(crate::view::report_valid_at(
            &self.stream(id)?,
            position,
            date,
        ))
    }

    /// One indicator as it was recorded at `instant`.
    pub fn indicator_as_of(
        &self,
        id: IndicatorId,
        instant: DateTime<Utc>,
    ) -> Result<Option<IndicatorView>, ProjectionError> {
        let position = self.projector.log().position_at(instant)?;
        self.indicator_at(id, position)
    }

    /// Every org unit in the subtrees of `roots` (`None`: no restriction).
    pub fn subtrees(
        &self,
        roots: Option<&[OrgUnitCode]>,
    ) -> Result<Option<BTreeSet<OrgUnitCode>>, ProjectionError> {
        let Some(roots) = roots else { return Ok(None) };
        let mut set = BTreeSet::new();
        for root in roots {
            set.extend(self.org_unit_and_descendants(root, true)?);
        }
        Ok(Some(set))
    }

    /// Whether `unit` is `root` or lies below it (as the hierarchy stands).
    pub fn is_within(
        &self,
        unit: &OrgUnitCode,
        root: &OrgUnitCode,
    ) -> Result<bool, ProjectionError> {
        let mut cursor = unit.clone();
        // Deeper than any administrative hierarchy: a cycle ends here.
        for _ in 0..32 {
            if &cursor == root {
                return Ok(true);
            }
            match self.org_unit(&cursor)?.and_then(|v| v.unit.parent) {
                Some(parent) => cursor = parent,
                None => return Ok(false),
            }
        }
        Ok(false)
    }

    /// The org unit and, when asked, all its descendants.
    pub fn org_unit_and_descendants(
        &self,
        code: &OrgUnitCode,
        descendants: bool,
    ) -> Result<Vec<OrgUnitCode>, ProjectionError> {
        if !descendants {
            return Ok(vec![code.clone()]);
        }
        let units = self.org_units()?;
        let mut out = vec![code.clone()];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i].clone();
            out.extend(
                units
                    .iter()
                    .filter(|u| u.unit.parent.as_ref() == Some(&parent))
                    .map(|u| u.unit.code.clone()),
            );
            i += 1;
        }
        Ok(out)
    }

    fn ids_with_prefix(
        &self,
        prefix: &[u8],
        into: &mut BTreeSet<IndicatorId>,
    ) -> Result<(), ProjectionError> {
        for entry in self.tree().scan_prefix(prefix) {
            let (key, _) = entry?;
            if let Some(id) = keys::trailing_id(&key) {
                into.insert(id);
            }
        }
        Ok(())
    }

    /// Indicators matching a filter, ordered by org unit, period, code and
    /// name. Candidates come from the most selective index given; the other
    /// criteria are checked on the views.
    pub fn list(&self, filter: &IndicatorFilter) -> Result<Vec<IndicatorView>, ProjectionError> {
        let period = filter.period.map(|p| p.to_string());
        let name_key = name_key(filter);
        let mut ids = BTreeSet::new();
        let allowed = self.subtrees(filter.within.as_deref())?;
        if let Some(org) = &filter.org_unit {
            for code in self.org_unit_and_descendants(org, filter.include_descendants)? {
                self.ids_with_prefix(
                    &keys::by_org_prefix(code.as_str(), period.as_deref()),
                    &mut ids,
                )?;
            }
        } else if let Some(allowed) = &allowed {
            for code in allowed {
                self.ids_with_prefix(
                    &keys::by_org_prefix(code.as_str(), period.as_deref()),
                    &mut ids,
                )?;
            }
        } else if let Some(p) = &period {
            self.ids_with_prefix(&keys::index_prefix(b'p', p), &mut ids)?;
        } else if let Some(c) = filter.category {
            self.ids_with_prefix(&keys::index_prefix(b'c', category_name(c)), &mut ids)?;
        } else if let Some(s) = filter.status {
            self.ids_with_prefix(&keys::index_prefix(b's', status_name(s)), &mut ids)?;
        } else if let Some(word) = name_key
            .as_deref()
            .and_then(|k| k.split(' ').max_by_key(|w| w.len()))
        {
            // Words are indexed whole; a query word may be a prefix of one.
            self.ids_with_prefix(&[&b"n"[..], word.as_bytes()].concat(), &mut ids)?;
        } else {
            self.ids_with_prefix(b"i", &mut ids)?;
        }
        let mut views = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(view) = self.indicator(id)? else {
                continue;
            };
            let d = &view.definition;
            let keep = allowed.as_ref().is_none_or(|a| a.contains(&d.org_unit))
                && filter.period.is_none_or(|p| d.period == p)
                && filter.category.is_none_or(|c| d.category == c)
                && filter.status.is_none_or(|s| view.settled_status() == s)
                && name_key
                    .as_deref()
                    .is_none_or(|k| search_key(d.name.as_str()).contains(k));
            if keep {
                views.push(view);
            }
        }
        views.sort_by_cached_key(|v| {
            (
                v.definition.org_unit.as_str().to_owned(),
                v.definition.period.to_string(),
                keys::code_order(v.definition.code.as_ref().map(|c| c.as_str())),
                v.definition.id,
            )
        });
        Ok(views)
    }

    /// The org units whose part of the org-unit index holds `filter`'s
    /// matches, in key order (sorted by code), and its period as the index
    /// writes it: the org unit asked for (and its descendants), within the
    /// reader's subtrees when it has scopes, or every unit. The one source
    /// of the ranges [`Self::page_after`], [`Self::offset_of_key`],
    /// [`Self::page`] and [`Self::count`] read.
    fn indexed_units(&self, filter: &IndicatorFilter) -> Result<IndexedUnits, ProjectionError> {
        let allowed = self.subtrees(filter.within.as_deref())?;
        let mut orgs: Vec<String> = match (&filter.org_unit, allowed) {
            (Some(org), allowed) => self
                .org_unit_and_descendants(org, filter.include_descendants)?
                .into_iter()
                .filter(|code| allowed.as_ref().is_none_or(|a| a.contains(code)))
                .map(|code| code.as_str().to_owned())
                .collect(),
            (None, Some(allowed)) => allowed.iter().map(|c| c.as_str().to_owned()).collect(),
            // No org unit asked for: every org unit's part of the index, in
            // order, so a page reads its own views and nothing else. The
            // codes from the org units' keys, none of their views decoded.
            (None, None) => {
                let mut codes = Vec::new();
                for entry in self.tree().scan_prefix(keys::org_unit("")) {
                    let (key, _) = entry?;
                    codes.push(String::from_utf8_lossy(&key[1..]).into_owned());
                }
                codes
            }
        };
        orgs.sort();
        orgs.dedup();
        Ok((orgs, filter.period.map(|p| p.to_string())))
    }

    /// Visits, in list order, the org-unit index keys of `filter`'s
    /// matches after `after` (an org-unit index key, or from the first),
    /// until `visit` says stop. For filters without a name. The three list
    /// indexes (`o`, `c`, `s`) end their keys with the indicator's place in
    /// the list, so the walk reads the ranges of one of them (the category
    /// or status asked for, the smaller by the count cells when both are)
    /// and checks a candidate against another by one lookup of its twin
    /// key. Reads keys only.
    fn walk(
        &self,
        filter: &IndicatorFilter,
        units: &IndexedUnits,
        after: Option<&[u8]>,
        mut visit: impl FnMut(&[u8]) -> bool,
    ) -> Result<(), ProjectionError> {
        let (orgs, period) = units;
        let category = filter
            .category
            .map(|c| keys::list_index(b'c', Some(category_name(c))));
        let status = filter
            .status
            .map(|s| keys::list_index(b's', Some(status_name(s))));
        let (driver, other) = match (category, status) {
            (Some(c), Some(s)) => {
                let by_category = self.count_cells(filter.category, None, units)?;
                let by_status = self.count_cells(None, filter.status, units)?;
                if by_category <= by_status {
                    (c, Some(s))
                } else {
                    (s, Some(c))
                }
            }
            (Some(one), None) | (None, Some(one)) => (one, None),
            (None, None) => (keys::list_index(b'o', None), None),
        };
        let origin = keys::list_index(b'o', None);
        let after = after.and_then(|a| a.strip_prefix(origin.as_slice()));
        for code in orgs {
            let unit = keys::listed_prefix(code, period.as_deref());
            let prefix = [driver.as_slice(), &unit].concat();
            let start = match after {
                Some(a) if a.starts_with(&unit) => [driver.as_slice(), a, &[0u8][..]].concat(),
                Some(a) if a > unit.as_slice() => continue,
                _ => prefix.clone(),
            };
            for entry in self.tree().range(start..) {
                let (key, _) = entry?;
                if !key.starts_with(&prefix) {
                    break;
                }
                let listed = &key[driver.len()..];
                if let Some(other) = &other {
                    if !self
                        .tree()
                        .contains_key([other.as_slice(), listed].concat())?
                    {
                        continue;
                    }
                }
                if !visit(&[origin.as_slice(), listed].concat()) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// A name filter's matches (which no index holds in the list's order:
    /// names match by any part of a word), from [`Self::list`], each with
    /// its org-unit index key, in list order.
    #[allow(clippy::type_complexity)]
    fn named(
        &self,
        filter: &IndicatorFilter,
    ) -> Result<Vec<(Vec<u8>, Arc<IndicatorView>)>, ProjectionError> {
        Ok(self
            .list(filter)?
            .into_iter()
            .map(|view| {
                let d = &view.definition;
                let key = keys::by_org(&keys::listed(
                    d.org_unit.as_str(),
                    &d.period.to_string(),
                    d.code.as_ref().map(|c| c.as_str()),
                    d.id,
                ));
                (key, Arc::new(view))
            })
            .collect())
    }

    /// How many indicators match `filter`: a sum of the maintained count
    /// cells (org unit × period × category, each by settled status), one
    /// per unit, period and category asked for; only a name filter, which
    /// no cell can hold, counts by walking its candidates.
    pub fn count(&self, filter: &IndicatorFilter) -> Result<usize, ProjectionError> {
        if name_key(filter).is_some() {
            return Ok(self.named(filter)?.len());
        }
        self.count_cells(filter.category, filter.status, &self.indexed_units(filter)?)
    }

    /// The sum of the count cells of `units` for a category and a status
    /// (each, when `None`, every one).
    fn count_cells(
        &self,
        category: Option<Category>,
        status: Option<AchievementStatus>,
        (orgs, period): &IndexedUnits,
    ) -> Result<usize, ProjectionError> {
        let category = category.map(category_name);
        let mut total = 0u64;
        for code in orgs {
            for entry in self
                .tree()
                .scan_prefix(keys::counts_prefix(code, period.as_deref()))
            {
                let (k, v) = entry?;
                // The cell's category is the key's last part.
                let cell = k.rsplit(|b| *b == 0).next().unwrap_or_default();
                if category.is_some_and(|c| c.as_bytes() != cell) {
                    continue;
                }
                let summary = parse::<Summary>(&k, &v)?;
                total += match status {
                    None => summary.total(),
                    Some(s) => summary.settled(s),
                };
            }
        }
        Ok(total as usize)
    }

    /// Keyset paging for every filter: the page after the org-unit index
    /// key `after`, whether more follow, and the number of matches (from
    /// the count cells). Reads the page's keys and views, and the keys
    /// between them that other criteria turn away. Always answers (`Some`).
    #[allow(clippy::type_complexity)]
    pub fn page_after(
        &self,
        filter: &IndicatorFilter,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Option<(Vec<(Vec<u8>, Arc<IndicatorView>)>, bool, usize)>, ProjectionError> {
        let everything = filter.org_unit.is_none()
            && filter.within.is_none()
            && filter.period.is_none()
            && filter.category.is_none()
            && filter.status.is_none()
            && filter.name.is_none();
        if everything {
            return self.page_of_everything(after, limit).map(Some);
        }
        if name_key(filter).is_some() {
            let named = self.named(filter)?;
            let total = named.len();
            let mut page: Vec<_> = named
                .into_iter()
                .filter(|(key, _)| after.is_none_or(|a| key.as_slice() > a))
                .take(limit + 1)
                .collect();
            let has_next = page.len() > limit;
            page.truncate(limit);
            return Ok(Some((page, has_next, total)));
        }
        let units = self.indexed_units(filter)?;
        let total = self.count_cells(filter.category, filter.status, &units)?;
        let mut found: Vec<Vec<u8>> = Vec::with_capacity(limit + 1);
        self.walk(filter, &units, after, |key| {
            found.push(key.to_vec());
            found.len() <= limit
        })?;
        let (page, has_next) = self.hydrate(found, limit)?;
        Ok(Some((page, has_next, total)))
    }

    /// The views of a page's index keys (up to `limit` of `found`, which
    /// holds one more when another page follows), and whether one does.
    #[allow(clippy::type_complexity)]
    fn hydrate(
        &self,
        mut found: Vec<Vec<u8>>,
        limit: usize,
    ) -> Result<(Vec<(Vec<u8>, Arc<IndicatorView>)>, bool), ProjectionError> {
        let has_next = found.len() > limit;
        found.truncate(limit);
        let mut page = Vec::with_capacity(found.len());
        for key in found {
            if let Some(view) = keys::trailing_id(&key)
                .map(|id| self.indicator_shared(id))
                .transpose()?
                .flatten()
            {
                page.push((key, view));
            }
        }
        Ok((page, has_next))
    }

    /// [`Self::page_after`] with no filter at all: the org-unit index read
    /// as one range (its keys sort by org unit code, then period, so the
    /// whole index in key order is every unit's part in turn, as the
    /// filtered path pages it) and the total from every summary in one
    /// scan, without listing or decoding the org units.
    #[allow(clippy::type_complexity)]
    fn page_of_everything(
        &self,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<(Vec<(Vec<u8>, Arc<IndicatorView>)>, bool, usize), ProjectionError> {
        let mut total = 0u64;
        for entry in self.tree().scan_prefix([b'y']) {
            let (k, v) = entry?;
            total += parse::<crate::model::Summary>(&k, &v)?.total();
        }
        let start = match after {
            Some(a) => [a, &[0u8][..]].concat(),
            None => vec![b'o'],
        };
        let mut found: Vec<Vec<u8>> = Vec::with_capacity(limit + 1);
        for entry in self.tree().range(start..) {
            let (key, _) = entry?;
            if key.first() != Some(&b'o') {
                break;
            }
            found.push(key.to_vec());
            if found.len() > limit {
                break;
            }
        }
        let (page, has_next) = self.hydrate(found, limit)?;
        Ok((page, has_next, total as usize))
    }

    /// Where the index key `key` stands in the order of [`Self::page_after`]:
    /// how many matches come before it (for paging backwards from a keyset
    /// cursor). Always answers (`Some`).
    pub fn offset_of_key(
        &self,
        filter: &IndicatorFilter,
        key: &[u8],
    ) -> Result<Option<usize>, ProjectionError> {
        if name_key(filter).is_some() {
            let named = self.named(filter)?;
            return Ok(Some(
                named.iter().take_while(|(k, _)| k.as_slice() < key).count(),
            ));
        }
        let mut before = 0;
        self.walk(filter, &self.indexed_units(filter)?, None, |k| {
            if k >= key {
                return false;
            }
            before += 1;
            true
        })?;
        Ok(Some(before))
    }

    /// One page of [`ReadModel::list`] (`offset`, at most `limit`) and the
    /// number of matches, for every filter: the index keys walked up to
    /// the page's end, only the page's views read, the total from the
    /// count cells. Same order as `list`.
    pub fn page(
        &self,
        filter: &IndicatorFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<IndicatorView>, usize), ProjectionError> {
        if name_key(filter).is_some() {
            let named = self.named(filter)?;
            let total = named.len();
            let views = named
                .into_iter()
                .skip(offset)
                .take(limit)
                .map(|(_, v)| Arc::unwrap_or_clone(v))
                .collect();
            return Ok((views, total));
        }
        let units = self.indexed_units(filter)?;
        let total = self.count_cells(filter.category, filter.status, &units)?;
        let mut seen = 0;
        let mut ids = Vec::with_capacity(limit);
        if limit > 0 {
            self.walk(filter, &units, None, |key| {
                if seen >= offset {
                    ids.extend(keys::trailing_id(key));
                }
                seen += 1;
                ids.len() < limit
            })?;
        }
        let mut views = Vec::with_capacity(ids.len());
        for id in ids {
            views.extend(self.indicator(id)?);
        }
        Ok((views, total))
    }

    /// Every indicator of an org unit and period as recorded up to `position`.
    pub fn list_at(
        &self,
        org_unit: &OrgUnitCode,
        period: Period,
        position: u64,
    ) -> Result<Vec<IndicatorView>, ProjectionError> {
        let filter = IndicatorFilter {
            org_unit: Some(org_unit.clone()),
            period: Some(period),
            ..IndicatorFilter::default()
        };
        let mut out = Vec::new();
        for view in self.list(&filter)? {
            if let Some(then) = self.indicator_at(view.definition.id, position)? {
                out.push(then);
            }
        }
        Ok(out)
    }

    /// The indicator's history: one entry per event, oldest first, with
    /// the value each event replaced and the one it set. Folded from the
    /// log once per version of the indicator.
    pub fn history(&self, id: IndicatorId) -> Result<Arc<Vec<HistoryEntry>>, ProjectionError> {
        let version = match self.projector.views.version(id) {
            Some(v) => Some(v),
            None => self.indicator(id)?.map(|v| v.version),
        };
        if let Some(version) = version {
            let histories = self
                .histories
                .lock()
                .map_err(|_| ProjectionError::Stopped)?;
            if let Some((at, history)) = histories.by_indicator.get(&id) {
                if *at == version {
                    return Ok(history.clone());
                }
            }
        }
        let history = Arc::new(self.fold_history(id)?);
        if let Some(last) = history.last() {
            let mut histories = self
                .histories
                .lock()
                .map_err(|_| ProjectionError::Stopped)?;
            let bound = self
                .projector
                .history_entries
                .load(std::sync::atomic::Ordering::Relaxed);
            let mut dropped = Vec::new();
            if history.len() <= bound {
                if histories.entries + history.len() > bound {
                    let keep = (bound - bound / 4).min(bound - history.len());
                    let mut entries = histories.entries;
                    histories.by_indicator.retain(|_, (_, held)| {
                        if entries <= keep {
                            return true;
                        }
                        entries -= held.len();
                        dropped.push(held.clone());
                        false
                    });
                    histories.entries = entries;
                }
                histories.entries += history.len();
                if let Some((_, old)) = histories
                    .by_indicator
                    .insert(id, (last.version, history.clone()))
                {
                    histories.entries -= old.len();
                }
            }
            drop(histories);
            // Freeing a quarter of a full cache (50,000 entries by
            // default) takes milliseconds: not under the lock every reader
            // takes, and not on this request's time either.
            if !dropped.is_empty() {
                // (If no thread can be started, the closure, and the
                // cache with it, is dropped here.)
                let _ = std::thread::Builder::new()
                    .name("history-cache-drop".into())
                    .spawn(move || drop(dropped));
            }
        }
        Ok(history)
    }

    /// The indicator's history folded from its stream in the log, entry
    /// by entry by [`crate::history::entry`].
    fn fold_history(&self, id: IndicatorId) -> Result<Vec<HistoryEntry>, ProjectionError> {
        let events = self.stream(id)?;
        let mut view: Option<IndicatorView> = None;
        let mut out = Vec::with_capacity(events.len());
        let mut shared = crate::history::Shared::default();
        let mut reports: std::collections::HashMap<
            chitieu_domain::ReportId,
            chitieu_domain::ActualReport,
        > = Default::default();
        for (recorded, event) in &events {
            let replaced =
                crate::history::replaced_report(event).and_then(|r| reports.get(&r).cloned());
            out.push(crate::history::entry(
                view.as_ref(),
                recorded,
                event,
                replaced,
                &mut shared,
            ));
            if let Some(report) = crate::history::recorded_report(event) {
                reports.insert(report.report_id, report.clone());
            }
            match (event, view.as_mut()) {
                (Event::IndicatorDefined(e), _) => {
                    view = Some(IndicatorView::defined(
                        e.definition.clone(),
                        Stamp::of(recorded),
                    ));
                }
                (other, Some(v)) => v.apply(other, Stamp::of(recorded)),
                (_, None) => {}
            }
        }
        Ok(out)
    }

    /// Postings of one audit index key range (all buckets of `prefix`
    /// covering positions `from..=to`), in position order.
    fn postings(
        &self,
        key: impl Fn(u64) -> Vec<u8>,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, Option<String>)>, ProjectionError> {
        let mut out = Vec::new();
        let (start, end) = (key(from / keys::AUDIT_BUCKET), key(to / keys::AUDIT_BUCKET));
        for entry in self.tree().range(start..=end) {
            let (k, v) = entry?;
            let postings =
                crate::audit::postings(&v).ok_or_else(|| ProjectionError::CorruptReadModel {
                    key: String::from_utf8_lossy(&k).into_owned(),
                    reason: "malformed audit postings".into(),
                })?;
            out.extend(
                postings
                    .into_iter()
                    .filter(|(p, _)| (from..=to).contains(p)),
            );
        }
        Ok(out)
    }

    /// The positions an audit filter covers (`from..=to`, past `after`),
    /// within what the read models have reached.
    fn audit_range(&self, filter: &AuditFilter, after: u64) -> Result<(u64, u64), ProjectionError> {
        let store = self.projector.log();
        let from = match filter.from {
            Some(t) => store.position_at(t - chrono::Duration::microseconds(1))? + 1,
            None => 1,
        }
        .max(after + 1);
        let to = match filter.to {
            Some(t) => store.position_at(t)?,
            None => store.head().position,
        }
        .min(self.projector.position());
        Ok((from, to))
    }

    /// The entries an actor or org-unit filter selects from the audit
    /// indexes over `from..=to` (position and org unit), in position order;
    /// `None` without either (then the log itself is walked).
    #[allow(clippy::type_complexity)]
    fn audit_candidates(
        &self,
        filter: &AuditFilter,
        from: u64,
        to: u64,
    ) -> Result<Option<Vec<(u64, Option<String>)>>, ProjectionError> {
        let named: Option<BTreeSet<OrgUnitCode>> = match &filter.org_unit {
            Some(code) => Some(
                self.org_unit_and_descendants(code, true)?
                    .into_iter()
                    .collect(),
            ),
            None => None,
        };
        let orgs: Option<BTreeSet<String>> =
            match (named, self.subtrees(filter.within.as_deref())?) {
                (Some(named), Some(allowed)) => {
                    Some(named.intersection(&allowed).cloned().collect())
                }
                (Some(set), None) | (None, Some(set)) => Some(set),
                (None, None) => None,
            }
            .map(|set| set.into_iter().map(|c| c.as_str().to_owned()).collect());
        let in_orgs = |org: &Option<String>| {
            orgs.as_ref()
                .is_none_or(|o| org.as_ref().is_some_and(|u| o.contains(u)))
        };
        Ok(if let Some(actor) = &filter.actor {
            Some(
                self.postings(|b| keys::audit_by_actor(actor, b), from, to)?
                    .into_iter()
                    .filter(|(_, org)| in_orgs(org))
                    .collect(),
            )
        } else if let Some(orgs) = &orgs {
            let mut all = Vec::new();
            for org in orgs {
                all.extend(self.postings(|b| keys::audit_by_org(org, b), from, to)?);
            }
            all.sort_by_key(|(p, _)| *p);
            Some(all)
        } else {
            None
        })
    }

    /// How many audit entries match a filter, over all pages. From the
    /// indexes' postings alone, unless a `kind` is asked for: then every
    /// candidate's record is read (bounded by the request's time budget).
    pub fn audit_count(&self, filter: &AuditFilter) -> Result<u64, ProjectionError> {
        let (from, to) = self.audit_range(filter, 0)?;
        if from > to {
            return Ok(0);
        }
        let store = self.projector.log();
        let candidates = self.audit_candidates(filter, from, to)?;
        let Some(kind) = &filter.kind else {
            return Ok(match candidates {
                Some(c) => c.len() as u64,
                None => to - from + 1,
            });
        };
        let mut count = 0;
        match candidates {
            Some(c) => {
                for (position, _) in c {
                    if let Some(r) = store.read_all(position, 1)?.into_iter().next() {
                        count += u64::from(&r.event_type == kind);
                    }
                }
            }
            None => {
                for recorded in chitieu_store::iter_all(store, from) {
                    let recorded = recorded?;
                    if recorded.position > to {
                        break;
                    }
                    count += u64::from(&recorded.event_type == kind);
                }
            }
        }
        Ok(count)
    }

    /// Audit entries matching a filter, oldest first, after position
    /// `after`, at most `limit`. With an actor or an org unit this is one
    /// range scan of an audit index; times become log positions first.
    pub fn audit(
        &self,
        filter: &AuditFilter,
        after: u64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, ProjectionError> {
        let store = self.projector.log();
        let (from, to) = self.audit_range(filter, after)?;
        if from > to || limit == 0 {
            return Ok(Vec::new());
        }
        let candidates = self.audit_candidates(filter, from, to)?;
        let mut out = Vec::new();
        let hydrate =
            |position: u64, org: Option<String>, recorded: RecordedEvent| -> Option<AuditEntry> {
                if filter
                    .kind
                    .as_ref()
                    .is_none_or(|k| &recorded.event_type == k)
                {
                    let indicator =
                        StreamId::parse(recorded.stream.as_str()).and_then(|s| s.indicator_id());
                    let detail = recorded
                        .decode()
                        .map(|e| crate::model::AuditDetail::of(&e))
                        .unwrap_or_default();
                    Some(AuditEntry {
                        position,
                        recorded_at: recorded.recorded_at,
                        actor: recorded.actor,
                        org_unit: org.and_then(|o| OrgUnitCode::parse(&o).ok()),
                        stream: recorded.stream.0,
                        kind: recorded.event_type,
                        indicator,
                        detail,
                    })
                } else {
                    None
                }
            };
        if let Some(candidates) = candidates {
            for (position, org) in candidates {
                if out.len() >= limit {
                    break;
                }
                if let Some(recorded) = store.read_all(position, 1)?.into_iter().next() {
                    out.extend(hydrate(position, org, recorded));
                }
            }
        } else {
            // No actor, no org unit: walk the log itself over the range;
            // the org unit comes from the actor's postings.
            let mut bucket_cache: std::collections::HashMap<Vec<u8>, Vec<(u64, Option<String>)>> =
                Default::default();
            for recorded in chitieu_store::iter_all(store, from) {
                let recorded = recorded?;
                if recorded.position > to || out.len() >= limit {
                    break;
                }
                let key = keys::audit_by_actor(
                    &recorded.actor.id,
                    recorded.position / keys::AUDIT_BUCKET,
                );
                if !bucket_cache.contains_key(&key) {
                    let postings = self
                        .tree()
                        .get(&key)?
                        .and_then(|v| crate::audit::postings(&v))
                        .unwrap_or_default();
                    bucket_cache.insert(key.clone(), postings);
                }
                let org = bucket_cache
                    .get(&key)
                    .and_then(|p| p.iter().find(|(pos, _)| *pos == recorded.position))
                    .and_then(|(_, org)| org.clone());
                out.extend(hydrate(recorded.position, org, recorded));
            }
        }
        Ok(out)
    }

    /// Counts by settled status of one org unit's indicators of one period.
    pub fn summary(
        &self,
        org_unit: &OrgUnitCode,
        period: Period,
    ) -> Result<Summary, ProjectionError> {
        let key = keys::summary(org_unit.as_str(), &period.to_string());
        match self.tree().get(&key)? {
            Some(bytes) => parse(&key, &bytes),
            None => Ok(Summary::default()),
        }
    }

    /// Counts by settled status of the indicators of one period in an org
    /// unit and every unit under it (a district with its towns and
    /// communes), as they stand or, with `at`, as recorded up to that
    /// log position.
    pub fn summary_of_subtree(
        &self,
        org_unit: &OrgUnitCode,
        period: Period,
        at: Option<u64>,
    ) -> Result<Summary, ProjectionError> {
        let mut total = Summary::default();
        for code in self.org_unit_and_descendants(org_unit, true)? {
            let counts = match at {
                Some(position) => self.summary_at(&code, period, position)?,
                None => self.summary(&code, period)?,
            };
            total = total.plus(counts);
        }
        Ok(total)
    }

    /// Every period with indicators in `unit`'s subtree, with the unit's
    /// own counts and the counts rolled up over the unit and all its
    /// descendants (from the stored summaries: one prefix scan per unit).
    pub fn periods_rolled_up(
        &self,
        unit: &OrgUnitCode,
    ) -> Result<std::collections::BTreeMap<String, (Summary, Summary)>, ProjectionError> {
        let mut out: std::collections::BTreeMap<String, (Summary, Summary)> = Default::default();
        for code in self.org_unit_and_descendants(unit, true)? {
            let prefix = keys::summary(code.as_str(), "");
            for entry in self.tree().scan_prefix(&prefix) {
                let (k, v) = entry?;
                let period = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
                let counts: Summary = parse(&k, &v)?;
                let slot = out.entry(period).or_default();
                if &code == unit {
                    slot.0 = counts;
                }
                slot.1 = slot.1.plus(counts);
            }
        }
        out.retain(|_, (_, rolled)| rolled.total() > 0);
        Ok(out)
    }

    /// The summary of an org unit's indicators of a period as recorded up
    /// to `position`, counted from the indicators folded then.
    pub fn summary_at(
        &self,
        org_unit: &OrgUnitCode,
        period: Period,
        position: u64,
    ) -> Result<Summary, ProjectionError> {
        let mut summary = Summary::default();
        for view in self.list_at(org_unit, period, position)? {
            *summary.slot(view.standing()) += 1;
        }
        Ok(summary)
    }

    /// A unit and every unit before it by succession, nearest first: the
    /// units whose history is its history.
    pub fn lineage(&self, code: &OrgUnitCode) -> Result<Vec<OrgUnitView>, ProjectionError> {
        let all = self.org_units()?;
        let mut out: Vec<OrgUnitView> = all
            .iter()
            .filter(|u| &u.unit.code == code)
            .cloned()
            .collect();
        let mut i = 0;
        while i < out.len() {
            let current = out[i].unit.code.clone();
            for unit in &all {
                let new = !out.iter().any(|o| o.unit.code == unit.unit.code);
                if new && unit.successors.contains(&current) {
                    out.push(unit.clone());
                }
            }
            i += 1;
        }
        Ok(out)
    }

    /// Every org unit, by code.
    pub fn org_units(&self) -> Result<Vec<OrgUnitView>, ProjectionError> {
        self.tree()
            .scan_prefix(b"g")
            .map(|e| {
                let (k, v) = e?;
                parse(&k, &v)
            })
            .collect()
    }

    /// One org unit.
    pub fn org_unit(&self, code: &OrgUnitCode) -> Result<Option<OrgUnitView>, ProjectionError> {
        let key = keys::org_unit(code.as_str());
        self.tree().get(&key)?.map(|v| parse(&key, &v)).transpose()
    }

    /// Every document.
    pub fn documents(&self) -> Result<Vec<Document>, ProjectionError> {
        self.tree()
            .scan_prefix(b"d")
            .map(|e| {
                let (k, v) = e?;
                parse(&k, &v)
            })
            .collect()
    }

    /// One document.
    pub fn document(&self, id: DocumentId) -> Result<Option<Document>, ProjectionError> {
        let key = keys::document(id.0);
        self.tree().get(&key)?.map(|v| parse(&key, &v)).transpose()
    }
}
