//! Property tests: any sequence of commands, valid or not, folds to the same
//! state as replaying the events it produced; refused commands produce no
//! events; stored events decode back to themselves; parsers never panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chitieu_domain::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use support::*;
use uuid::Uuid;

const INDICATORS: u128 = 3;
const REPORTS: u128 = 4;

fn decimal() -> impl Strategy<Value = Decimal> {
    (-5i64..200_000, 0u32..4).prop_map(|(m, s)| Decimal::new(m, s))
}

fn track() -> impl Strategy<Value = TargetTrack> {
    prop_oneof![
        Just(TargetTrack::Assigned),
        Just(TargetTrack::Resolution),
        Just(TargetTrack::Stretch)
    ]
}

fn document() -> impl Strategy<Value = DocumentId> {
    prop_oneof![
        Just(PROGRAMME),
        Just(PROVINCE_RESOLUTION),
        Just(DocumentId(Uuid::from_u128(77)))
    ]
}

fn indicator_id() -> impl Strategy<Value = IndicatorId> {
    (0..INDICATORS).prop_map(|i| IndicatorId(Uuid::from_u128(1000 + i)))
}

fn report_id() -> impl Strategy<Value = ReportId> {
    (0..REPORTS).prop_map(|i| ReportId(Uuid::from_u128(2000 + i)))
}

fn target_kind() -> impl Strategy<Value = TargetKind> {
    prop_oneof![
        (decimal(), any::<bool>())
            .prop_map(|(value, strict)| TargetKind::AtLeast { value, strict }),
        (decimal(), any::<bool>()).prop_map(|(value, strict)| TargetKind::AtMost { value, strict }),
        decimal().prop_map(|value| TargetKind::Plain { value, base: None }),
        (decimal(), decimal()).prop_map(|(low, high)| TargetKind::Range { low, high }),
        (decimal(), proptest::option::of(decimal())).prop_map(|(rate, base)| TargetKind::Growth {
            rate,
            base,
            value: None
        }),
        Just(TargetKind::Milestone { deadline: None }),
        proptest::option::of(decimal()).prop_map(|level| TargetKind::Maintain { level }),
    ]
}

fn reason() -> impl Strategy<Value = Option<Reason>> {
    prop_oneof![
        Just(None),
        Just(Some(text("Điều chỉnh theo nghị quyết mới")))
    ]
}

fn actual_report() -> impl Strategy<Value = ActualReport> {
    (report_id(), decimal(), any::<bool>(), 0u32..3).prop_map(
        |(report_id, value, estimate, kind)| ActualReport {
            report_id,
            value: match kind {
                0 => ResultValue::Amount { value },
                1 => ResultValue::Ratio {
                    numerator: value,
                    denominator: Decimal::new(45, 0),
                },
                _ => ResultValue::Milestone { done: estimate },
            },
            refers_to: day(2025, 12, 31),
            status: if estimate {
                ResultStatus::Estimate
            } else {
                ResultStatus::Final
            },
            source: None,
            note: None,
            stated: None,
        },
    )
}

fn measure() -> impl Strategy<Value = Measure> {
    prop_oneof![
        Just(Measure::Amount),
        Just(Measure::Percentage),
        Just(Measure::Ratio),
        Just(Measure::Milestone)
    ]
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(Command::RegisterOrgUnit(province())),
        Just(Command::RegisterOrgUnit(district())),
        Just(Command::RegisterDocument(programme())),
        Just(Command::RegisterDocument(province_resolution())),
        (
            indicator_id(),
            measure(),
            proptest::option::of(indicator_id())
        )
            .prop_map(|(id, measure, parent)| {
                Command::DefineIndicator(IndicatorDefinition {
                    id,
                    measure,
                    parent,
                    ..budget_revenue()
                })
            }),
        (indicator_id(), track(), target_kind(), document()).prop_map(
            |(indicator, track, kind, document)| {
                Command::SetTarget {
                    indicator,
                    track,
                    target: Target {
                        kind,
                        document,
                        wording: None,
                    },
                }
            }
        ),
        (indicator_id(), track(), target_kind(), document(), reason()).prop_map(
            |(indicator, track, kind, document, reason)| Command::ReviseTarget {
                indicator,
                track,
                target: Target {
                    kind,
                    document,
                    wording: None
                },
                reason,
            }
        ),
        (
            indicator_id(),
            actual_report(),
            proptest::option::of(report_id())
        )
            .prop_map(|(indicator, report, supersedes)| Command::ReportActual {
                indicator,
                report,
                supersedes,
                reason: None,
            }),
        (indicator_id(), report_id(), actual_report(), reason()).prop_map(
            |(indicator, corrects, report, reason)| Command::CorrectActual {
                indicator,
                corrects,
                report,
                reason
            }
        ),
        (indicator_id(), reason()).prop_map(|(indicator, reason)| Command::RetireIndicator {
            indicator,
            reason,
            document: None
        }),
        Just(Command::SubmitPeriod {
            unit: code("LA.CAN-DUOC"),
            period: ReportingPeriod::Year(2025),
            note: None,
        }),
        (0u128..3).prop_map(|n| Command::ApprovePeriod {
            unit: code("LA.CAN-DUOC"),
            period: ReportingPeriod::Year(2025),
            approval: ApprovalId(Uuid::from_u128(3000 + n)),
            document: PROGRAMME,
            expected_digest: None,
        }),
    ]
}

/// `state` with every indicator's figures let go but those of `keep`,
/// which are folded again from `log` (events with their positions): what
/// a holder keeping a bounded set of figures decides on.
fn thin(state: &DomainState, log: &[(Event, u64)], keep: &[IndicatorId]) -> DomainState {
    let mut thin = state.clone();
    for (id, indicator) in thin.indicators.iter_mut() {
        indicator.figures = keep.contains(id).then(|| {
            Box::new(Figures::fold(
                log.iter()
                    .filter(|(e, _)| e.stream_id() == StreamId::indicator(*id))
                    .map(|(e, p)| (e, *p)),
            ))
        });
    }
    thin
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn folding_commands_equals_replaying_their_events(commands in proptest::collection::vec(command(), 0..60)) {
        let mut state = DomainState::default();
        let mut log = Vec::new();
        for command in &commands {
            let before = state.clone();
            match decide(&state, command) {
                Ok(events) => {
                    prop_assert!(!events.is_empty());
                    for event in &events {
                        prop_assert_eq!(event.stream_id(), command.stream_id());
                        evolve(&mut state, event);
                    }
                    // Every accepted command moves its stream's version on.
                    prop_assert_eq!(
                        state.stream_version(&command.stream_id()),
                        before.stream_version(&command.stream_id()) + events.len() as u64
                    );
                    log.extend(events);
                }
                Err(_) => prop_assert_eq!(&state, &before),
            }
        }
        let mut replayed = DomainState::default();
        for event in &log {
            // Through the stored form, as a rebuild would read them.
            let encoded = EventCodec::encode(event);
            let decoded = EventCodec::decode(&encoded.event_type, encoded.schema_version, &encoded.payload);
            prop_assert_eq!(decoded.as_ref().ok(), Some(event));
            evolve(&mut replayed, event);
        }
        prop_assert_eq!(replayed, state);
    }

    #[test]
    fn a_decision_needs_no_figures_but_those_it_names(commands in proptest::collection::vec(command(), 0..60)) {
        let mut state = DomainState::default();
        let mut log: Vec<(Event, u64)> = Vec::new();
        for command in &commands {
            let needed = state.figures_needed(command);
            let on_thin = decide(&thin(&state, &log, &needed), command);
            let on_full = decide(&state, command);
            prop_assert_eq!(&on_thin, &on_full, "{:?}", command);
            for event in on_full.unwrap_or_default() {
                let position = log.len() as u64 + 1;
                evolve_at(&mut state, &event, position);
                log.push((event, position));
            }
        }
        // And every indicator's figures are what its stream alone folds to.
        let all: Vec<IndicatorId> = state.indicators.keys().copied().collect();
        prop_assert_eq!(thin(&state, &log, &all), state);
    }

    #[test]
    fn parsers_never_panic(raw in "\\PC{0,40}") {
        let _ = Period::parse(&raw);
        let _ = number::parse_vietnamese(&raw);
        let _ = number::parse_plain(&raw);
        let _ = OrgUnitCode::parse(&raw);
        let _ = DocumentNumber::parse(&raw);
        let _ = Text::parse(&raw);
        assert!(!chitieu_domain::target_text::parse_target_text(&raw).is_empty());
    }

    #[test]
    fn the_target_parser_never_panics_on_cell_like_text(raw in "[0-9 .,%‰≥≤()/;-]{0,12}(tỷ đồng|trở lên|giảm|trên|dưới|tăng trưởng|trong đó|năm 2025|hộ)?[0-9 .,%/()-]{0,12}") {
        let parsed = chitieu_domain::target_text::parse_target_text(&raw);
        prop_assert!(!parsed.is_empty());
    }

    #[test]
    fn every_number_of_a_typed_target_is_written_in_the_cell(
        tokens in prop::collection::vec(cell_token(), 1..12),
        glue in prop::collection::vec(prop::sample::select(vec![" ", "", ", ", " "]), 12),
    ) {
        let mut cell = String::new();
        for (token, glue) in tokens.iter().zip(&glue) {
            cell.push_str(token);
            cell.push_str(glue);
        }
        let written = numbers_written_in(&cell);
        for target in chitieu_domain::target_text::parse_target_text(&cell) {
            for n in target.kind.figures() {
                prop_assert!(
                    written.contains(&n.normalize()),
                    "{cell:?} gave {:?}: {n} is not written in it (written: {written:?})",
                    target.kind
                );
            }
        }
    }

    #[test]
    fn vietnamese_format_round_trips(m in any::<i64>(), scale in 0u32..6) {
        let value = Decimal::new(m, scale);
        prop_assert_eq!(number::parse_vietnamese(&number::format_vietnamese(value)), Ok(value.normalize()));
    }
}

/// Words of the target families, numbers in Vietnamese and plain format,
/// and punctuation: the material of target cells.
fn cell_token() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "trên",
        "dưới",
        "không dưới",
        "không quá",
        "tối thiểu",
        "ít nhất",
        "giảm",
        "tăng",
        "tăng trưởng",
        "tốc độ tăng",
        "trở lên",
        "trở xuống",
        "từ",
        "đến",
        "-",
        "(",
        ")",
        "/",
        "phấn đấu",
        "%",
        "‰",
        "%o",
        "tỷ đồng",
        "hộ",
        "xã",
        "năm",
        "năm 2025",
        "so với",
        "so với năm 2020",
        "cùng kỳ",
        "tuổi",
        "bình quân",
        "đạt",
        "là",
        "giữ vững",
        "duy trì",
        "xuống còn",
        "trong đó",
        ";",
        "lần",
        "gấp",
        "điểm",
        "trên tổng số",
        "số",
        "loại",
        "hạng",
        "quý II",
        "trước",
        "vượt",
        "và",
        "lên",
        "khoảng",
        "≥",
        "≤",
        "dân",
        "vạn dân",
    ])
    .prop_map(str::to_owned);
    let numbers = (0i64..2_000_000, 0u32..4)
        .prop_map(|(m, scale)| number::format_vietnamese(Decimal::new(m, scale)));
    let small = (0u32..200).prop_map(|n| format!("{n:02}"));
    prop_oneof![3 => words, 2 => numbers, 2 => small]
}

/// Every number written in a text, each read as Vietnamese and as plain
/// format (and each digit run alone), normalised.
fn numbers_written_in(text: &str) -> Vec<Decimal> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || matches!(chars[i], '.' | ',')) {
            i += 1;
        }
        let raw: String = chars[start..i].iter().collect();
        let raw = raw.trim_end_matches(['.', ',']);
        for n in [number::parse_vietnamese(raw), number::parse_plain(raw)]
            .into_iter()
            .flatten()
        {
            out.push(n.normalize());
        }
    }
    out
}
