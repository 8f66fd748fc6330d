//! [`FigureSnapshots`]: the write side's snapshots of an indicator's
//! figures ([`Figures`]: its targets and reports), kept in a tree of the
//! read models' database, beside the read models and outside their
//! digest.
//!
//! The command service holds the figures of a bounded set of indicators
//! and folds the others' again from their streams when a decision needs
//! them: one block read, checksum and decode per event of the stream, so
//! a miss grew with the indicator's history (and writes in turn through
//! more indicators than the budget holds miss on every write). A snapshot
//! bounds that: it is the figures as of one version of the stream, and a
//! miss reads it and folds only the events after it.
//!
//! A snapshot is derived data, like the read models, and never trusted
//! blindly: it names the stream version it reaches and the log position of
//! that version's event, and a reader uses it only when the stream's event
//! at that version is at that position (else it folds the whole stream, as
//! without snapshots). A snapshot that does not decode is ignored the same
//! way. So a lost, stale or foreign snapshot costs a fold, never a wrong
//! decision.
//!
//! Value: format (u8, [`FORMAT`]) | version (u64 BE) | position (u64 BE) |
//! the figures as MessagePack with fields by position, as views are
//! stored (smaller than JSON and quicker both ways; the snapshots of
//! 100,000 indicators are a tree of some hundreds of MB, and sled keeps
//! something in memory for every page of it). A change to [`Figures`] or
//! a type it holds changes [`FORMAT`]; the previous format is still read
//! (converted as it is read), so that an upgrade does not fold every
//! stream whole once. Key: the indicator id's 16 bytes.

use crate::projector::ProjectionError;
use chitieu_domain::{Figures, IndicatorId};

/// The tree of the read models' database that holds the snapshots.
pub const SNAPSHOT_TREE: &str = "figure-snapshots";

/// The snapshots' encoding: 3, a held report's decided parts inline and
/// the rest apart ([`chitieu_domain::state::ReportState`]). A snapshot of
/// 2 (the previous) is converted as read; of any other, ignored and
/// replaced by the next one written.
const FORMAT: u8 = 3;

/// Bytes before the encoded figures (format, version, position).
const HEADER: usize = 17;

/// One indicator's figures as of a version of its stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureSnapshot {
    /// The stream version the figures are folded up to (inclusive).
    pub version: u64,
    /// The log position of the stream's event at `version`: what a reader
    /// checks before it uses the snapshot.
    pub position: u64,
    /// The figures.
    pub figures: Figures,
}

/// The snapshots (a handle on their tree: cheap to clone).
#[derive(Clone)]
pub struct FigureSnapshots {
    tree: sled::Tree,
}

impl FigureSnapshots {
    pub(crate) fn new(tree: sled::Tree) -> Self {
        FigureSnapshots { tree }
    }

    /// The snapshot of `id`'s figures, if one is stored and decodes.
    pub fn get(&self, id: IndicatorId) -> Result<Option<FigureSnapshot>, ProjectionError> {
        let Some(bytes) = self.tree.get(id.0.as_bytes())? else {
            return Ok(None);
        };
        let snapshot = decode(&bytes);
        if snapshot.is_none() {
            tracing::debug!(indicator = %id.0, "a figure snapshot does not decode; folding the stream instead");
        }
        Ok(snapshot)
    }

    /// The stream version of the snapshot of `id`'s figures, if one is
    /// stored in a format that is read (its header alone: the figures are
    /// not decoded).
    pub fn version(&self, id: IndicatorId) -> Result<Option<u64>, ProjectionError> {
        let Some(bytes) = self.tree.get(id.0.as_bytes())? else {
            return Ok(None);
        };
        Ok(header(&bytes).map(|(version, _)| version))
    }

    /// Stores `figures` as `id`'s, folded up to stream version `version`
    /// whose event is at log position `position` (replacing any snapshot
    /// before). Not made durable here: sled writes it out with its next
    /// flush, and a snapshot lost in a crash is folded again.
    pub fn put(
        &self,
        id: IndicatorId,
        version: u64,
        position: u64,
        figures: &Figures,
    ) -> Result<(), ProjectionError> {
        self.tree
            .insert(id.0.as_bytes(), encode(version, position, figures))?;
        Ok(())
    }

    /// How many snapshots are stored (tests, diagnostics).
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// Whether none is stored.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }
}

fn encode(version: u64, position: u64, figures: &Figures) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER + 256);
    bytes.push(FORMAT);
    bytes.extend_from_slice(&version.to_be_bytes());
    bytes.extend_from_slice(&position.to_be_bytes());
    // Plain data: serialisation cannot fail.
    rmp_serde::encode::write(&mut bytes, figures).unwrap_or_default();
    bytes
}

/// A snapshot's version and position, where its format is one read.
fn header(bytes: &[u8]) -> Option<(u64, u64)> {
    if !matches!(bytes.first()?, &FORMAT | 2) {
        return None;
    }
    let version = u64::from_be_bytes(bytes.get(1..9)?.try_into().ok()?);
    let position = u64::from_be_bytes(bytes.get(9..17)?.try_into().ok()?);
    Some((version, position))
}

fn decode(bytes: &[u8]) -> Option<FigureSnapshot> {
    let (version, position) = header(bytes)?;
    let body = bytes.get(HEADER..)?;
    let figures = match *bytes.first()? {
        FORMAT => rmp_serde::from_slice(body).ok()?,
        // What the previous release stored: read, so that an upgrade does
        // not fold every stream whole once.
        2 => rmp_serde::from_slice::<v2::Figures>(body).ok()?.into(),
        _ => return None,
    };
    Some(FigureSnapshot {
        version,
        position,
        figures,
    })
}

/// Format 2: each report held whole beside its replacement and position.
mod v2 {
    use chitieu_domain::actual::{ActualReport, ReportId};
    use chitieu_domain::small_map::SmallMap;
    use chitieu_domain::state::{ReportState, TargetState};
    use chitieu_domain::TargetTrack;

    #[derive(serde::Deserialize)]
    pub(super) struct Figures {
        targets: SmallMap<TargetTrack, TargetState>,
        reports: SmallMap<ReportId, Report>,
    }

    #[derive(serde::Deserialize)]
    struct Report {
        report: ActualReport,
        replaced_by: Option<ReportId>,
        position: u64,
    }

    impl From<Figures> for chitieu_domain::Figures {
        fn from(old: Figures) -> Self {
            let mut reports = SmallMap::new();
            for (id, held) in old.reports.iter() {
                let mut state = ReportState::of(&held.report, held.position);
                state.replaced_by = held.replaced_by;
                reports.insert(*id, state);
            }
            chitieu_domain::Figures {
                targets: old.targets,
                reports,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chitieu_domain::actual::{ReportId, ResultStatus, ResultValue};
    use chitieu_domain::state::{ReportRest, ReportState, TargetState};
    use chitieu_domain::text::Text;
    use chitieu_domain::{DocumentId, Target, TargetKind, TargetTrack};
    use rust_decimal_macros::dec;

    fn figures() -> Figures {
        let mut figures = Figures::default();
        figures.targets.insert(
            TargetTrack::Resolution,
            TargetState {
                current: Target {
                    kind: TargetKind::AtLeast {
                        value: dec!(1015.50),
                        strict: false,
                    },
                    document: DocumentId(uuid::Uuid::from_u128(3)),
                    wording: None,
                },
                revisions: 2,
                position: 7,
            },
        );
        figures.reports.insert(
            ReportId(uuid::Uuid::from_u128(9)),
            ReportState {
                value: ResultValue::Amount {
                    value: dec!(1031.50),
                },
                refers_to: chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or_default(),
                status: ResultStatus::Estimate,
                replaced_by: Some(ReportId(uuid::Uuid::from_u128(10))),
                position: 11,
                rest: Some(Box::new(ReportRest {
                    source: Some(DocumentId(uuid::Uuid::from_u128(4))),
                    note: Text::parse("khoảng").ok(),
                    stated: None,
                })),
            },
        );
        figures
    }

    #[test]
    fn a_snapshot_reads_back_as_written_scale_and_all() {
        let figures = figures();
        let read = decode(&encode(12, 345, &figures));
        assert_eq!(
            read,
            Some(FigureSnapshot {
                version: 12,
                position: 345,
                figures: figures.clone()
            })
        );
        // The scale as written (1015.50, not 1015.5).
        let bytes = encode(12, 345, &figures);
        assert!(bytes.windows(7).any(|w| w == b"1015.50"));
    }

    /// A snapshot the previous release wrote (format 2: each report whole,
    /// as `ReportState` was then) reads as the same figures.
    #[test]
    fn a_snapshot_of_the_previous_format_reads_as_the_same_figures() {
        use chitieu_domain::actual::ActualReport;
        use chitieu_domain::small_map::SmallMap;
        #[derive(serde::Serialize)]
        struct Old<'a> {
            targets: &'a SmallMap<TargetTrack, TargetState>,
            reports: SmallMap<ReportId, OldReport>,
        }
        #[derive(serde::Serialize)]
        struct OldReport {
            report: ActualReport,
            replaced_by: Option<ReportId>,
            position: u64,
        }
        let figures = figures();
        let mut reports = SmallMap::new();
        for (id, held) in figures.reports.iter() {
            reports.insert(
                *id,
                OldReport {
                    report: held.report(*id),
                    replaced_by: held.replaced_by,
                    position: held.position,
                },
            );
        }
        let mut bytes = vec![2];
        bytes.extend_from_slice(&12u64.to_be_bytes());
        bytes.extend_from_slice(&345u64.to_be_bytes());
        let old = Old {
            targets: &figures.targets,
            reports,
        };
        rmp_serde::encode::write(&mut bytes, &old).unwrap_or_default();
        assert_eq!(
            decode(&bytes),
            Some(FigureSnapshot {
                version: 12,
                position: 345,
                figures
            })
        );
        // Read as format 3, the same bytes are not figures.
        bytes[0] = FORMAT;
        assert!(decode(&bytes).is_none());
    }

    #[test]
    fn a_snapshot_of_another_format_or_cut_short_is_not_used() {
        let mut bytes = encode(1, 2, &figures());
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
        assert!(decode(&bytes[..HEADER - 1]).is_none());
        bytes[0] = FORMAT + 1;
        assert!(decode(&bytes).is_none());
        bytes[0] = 1;
        assert!(decode(&bytes).is_none());
        assert!(decode(&[]).is_none());
    }
}
