//! Given these events, the read models say this.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chitieu_domain::achievement::AchievementStatus;
use chitieu_domain::*;
use chitieu_projector::*;
use chitieu_store::{EventLog, Log};
use rust_decimal_macros::dec;
use std::time::Duration;
use support::*;

fn setup() -> (
    tempfile::TempDir,
    Writer,
    std::sync::Arc<Projector>,
    ReadModel,
) {
    can_duoc_fixture()
}

/// Waits until the live follower has projected up to `head`.
fn projected(p: &Projector, head: u64) {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(p.wait_for(head, Duration::from_secs(10)))
        .unwrap();
}

fn ind(n: u128) -> IndicatorId {
    IndicatorId(id(n))
}

/// Defines "Chỉ tiêu số `n`", a percentage of Cần Đước's for 2025.
fn numbered_indicator(n: u128) -> Command {
    indicator(
        n,
        "LA.CAN-DUOC.TT",
        Period::Year(2025),
        Category::Society,
        &format!("Chỉ tiêu số {n}"),
        "%",
        Measure::Percentage,
    )
}

#[test]
fn an_indicator_shows_every_track_and_the_final_figure_that_replaced_the_estimate() {
    let (_dir, _w, _p, read) = setup();
    let budget = read.indicator(ind(4)).unwrap().unwrap();
    assert_eq!(budget.version, 5);
    assert_eq!(
        budget.targets[&TargetTrack::Assigned].current.kind,
        TargetKind::Plain {
            value: dec!(581),
            base: None
        }
    );
    assert_eq!(
        budget.targets[&TargetTrack::Stretch].current.kind,
        TargetKind::Plain {
            value: dec!(600),
            base: None
        }
    );
    let latest = budget.current_report().unwrap();
    assert_eq!(
        latest.report.value,
        ResultValue::Amount { value: dec!(612.4) }
    );
    assert_eq!(latest.supersedes, Some(ReportId(id(40))));
    assert!(
        budget.latest_estimate().is_none(),
        "the final figure superseded the estimate"
    );
    assert_eq!(budget.report_count, 2);
    let today = day(2026, 3, 1);
    let assigned = budget.achievement(TargetTrack::Assigned, today).unwrap();
    assert_eq!(
        (assigned.status, assigned.percent_of_target),
        (AchievementStatus::Exceeded, Some(dec!(105.40)))
    );
    let stretch = budget.achievement(TargetTrack::Stretch, today).unwrap();
    assert_eq!(stretch.percent_of_target, Some(dec!(102.07)));
    // Valid time: before the figures' date, nothing counted yet; at it, the final.
    assert!(read
        .report_valid_at(ind(4), day(2025, 6, 30), None)
        .unwrap()
        .is_none());
    let valid = read
        .report_valid_at(ind(4), day(2025, 12, 31), None)
        .unwrap()
        .unwrap();
    assert_eq!(valid.report.report_id, ReportId(id(41)));
    // As recorded before the final figure arrived, the estimate counted.
    let then = read
        .report_valid_at(ind(4), day(2025, 12, 31), Some(budget.updated.position - 1))
        .unwrap()
        .unwrap();
    assert_eq!(then.report.report_id, ReportId(id(40)));
}

#[test]
fn listings_follow_org_units_periods_categories_statuses_and_names() {
    let (_dir, _w, _p, read) = setup();
    let ids = |f: IndicatorFilter| {
        read.list(&f)
            .unwrap()
            .iter()
            .map(|v| v.definition.id)
            .collect::<Vec<_>>()
    };
    let district = Some(code("LA.CAN-DUOC"));
    assert_eq!(
        ids(IndicatorFilter {
            org_unit: district.clone(),
            ..Default::default()
        }),
        vec![ind(4), ind(5)]
    );
    assert_eq!(
        ids(IndicatorFilter {
            org_unit: district.clone(),
            include_descendants: true,
            ..Default::default()
        }),
        vec![ind(4), ind(5), ind(6)]
    );
    assert_eq!(
        ids(IndicatorFilter {
            org_unit: Some(code("LA")),
            include_descendants: true,
            ..Default::default()
        })
        .len(),
        3
    );
    assert_eq!(
        ids(IndicatorFilter {
            period: Some(Period::Year(2024)),
            ..Default::default()
        }),
        vec![]
    );
    assert_eq!(
        ids(IndicatorFilter {
            category: Some(Category::Economy),
            ..Default::default()
        })
        .len(),
        3
    );
    assert_eq!(
        ids(IndicatorFilter {
            status: Some(AchievementStatus::NotMet),
            ..Default::default()
        }),
        vec![ind(5)]
    );
    assert_eq!(
        ids(IndicatorFilter {
            status: Some(AchievementStatus::Met),
            ..Default::default()
        }),
        vec![ind(6)]
    );
    // "thu ngan sach" finds "Thu ngân sách"; so does a decomposed query.
    assert_eq!(
        ids(IndicatorFilter {
            name: Some("thu ngan sach".into()),
            ..Default::default()
        }),
        vec![ind(4)]
    );
    assert_eq!(
        ids(IndicatorFilter {
            name: Some("THU NGA\u{302}N".into()),
            ..Default::default()
        }),
        vec![ind(4)]
    );
    assert_eq!(
        ids(IndicatorFilter {
            name: Some("lua".into()),
            org_unit: district,
            ..Default::default()
        }),
        vec![ind(5)]
    );
}

#[test]
fn summaries_count_indicators_by_status_at_the_end_of_their_period() {
    let (_dir, _w, _p, read) = setup();
    // Budget judged on its resolution-less primary track (assigned): exceeded; rice: not met.
    let s = read
        .summary(&code("LA.CAN-DUOC"), Period::Year(2025))
        .unwrap();
    assert_eq!(
        s,
        Summary {
            exceeded: 1,
            met: 0,
            not_met: 1,
            no_data: 0,
            without_target: 0,
        }
    );
    assert_eq!(
        read.summary(&code("LA.CAN-DUOC.TT"), Period::Year(2025))
            .unwrap()
            .met,
        1
    );
    assert_eq!(
        read.summary(&code("LA"), Period::Year(2025))
            .unwrap()
            .total(),
        0
    );
}

#[test]
fn history_has_one_entry_per_event_with_before_and_after() {
    let (_dir, mut w, p, read) = setup();
    let planner = actor("planner-cd", "planner");
    w.run(
        &planner,
        Command::ReviseTarget {
            indicator: ind(5),
            track: TargetTrack::Resolution,
            target: Target {
                kind: plain(dec!(83000)),
                document: REPORT_2025,
                wording: None,
            },
            reason: Some(text("Hạn mặn cuối năm, điều chỉnh theo báo cáo")),
        },
    );
    p.catch_up().unwrap();
    let history = read.history(ind(5)).unwrap();
    let kinds: Vec<&str> = history.iter().map(|h| &*h.kind).collect();
    assert_eq!(
        kinds,
        vec![
            "indicator_defined",
            "target_set",
            "actual_reported",
            "target_revised"
        ]
    );
    let revision = &history[3];
    assert_eq!(revision.version, 4);
    assert_eq!(revision.actor.id, "planner-cd");
    assert_eq!(
        revision.before.as_ref().unwrap().to_json()["kind"]["value"],
        "85000"
    );
    assert_eq!(
        revision.after.as_ref().unwrap().to_json()["kind"]["value"],
        "83000"
    );
    assert_eq!(
        revision.reason.as_deref(),
        Some("Hạn mặn cuối năm, điều chỉnh theo báo cáo")
    );
    assert_eq!(revision.document, Some(REPORT_2025));
    // The revision moved rice from not met to exceeded, and the summary with it.
    let view = read.indicator(ind(5)).unwrap().unwrap();
    assert_eq!(view.targets[&TargetTrack::Resolution].revisions, 1);
    assert_eq!(
        view.targets[&TargetTrack::Resolution].documents,
        vec![PLAN_38, REPORT_2025]
    );
    let s = read
        .summary(&code("LA.CAN-DUOC"), Period::Year(2025))
        .unwrap();
    assert_eq!((s.exceeded, s.not_met), (2, 0));
    let final_report = &read.history(ind(4)).unwrap()[4];
    assert_eq!(
        final_report.before.as_ref().unwrap().to_json()["value"]["value"],
        "590"
    );
    assert_eq!(
        final_report.after.as_ref().unwrap().to_json()["value"]["value"],
        "612.4"
    );
}

/// A history cache holds hundreds of thousands of entries: those of one
/// history that name the same value, event type or actor hold one copy.
#[test]
fn a_historys_entries_share_what_they_repeat() {
    let (_dir, _w, _p, read) = setup();
    let history = read.history(ind(4)).unwrap();
    let same = |a: &str, b: &str| a.as_ptr() == b.as_ptr() && a.len() == b.len();
    let (estimate, final_report) = (&history[3], &history[4]);
    assert_eq!(&*final_report.kind, "actual_reported");
    // The final figure's `before` is the estimate's `after`, one text.
    let replaced = final_report.texts().0.unwrap();
    assert_eq!(replaced, estimate.texts().1.unwrap());
    assert!(same(replaced, estimate.texts().1.unwrap()));
    assert!(same(&estimate.kind, &final_report.kind));
    assert!(std::sync::Arc::ptr_eq(&estimate.actor, &final_report.actor));
    // Texts that differ stay apart.
    assert!(!same(final_report.texts().1.unwrap(), replaced));
    // The two targets set are two values.
    let (a, b) = (history[1].texts().1.unwrap(), history[2].texts().1.unwrap());
    assert_ne!(a, b);
    assert!(same(&history[1].kind, &history[2].kind));
}

#[test]
fn the_audit_trail_answers_who_changed_what_when_and_where() {
    let (_dir, _w, _p, read) = setup();
    let everything = read.audit(&AuditFilter::default(), 0, 1000).unwrap();
    assert_eq!(
        everything.len() as u64,
        read.projector().log().head().position
    );
    let reporter = AuditFilter {
        actor: Some("reporter-cd".into()),
        ..Default::default()
    };
    let by_reporter = read.audit(&reporter, 0, 100).unwrap();
    assert_eq!(by_reporter.len(), 4);
    assert!(by_reporter.iter().all(|e| e.kind == "actual_reported"));
    let in_town = AuditFilter {
        actor: Some("reporter-cd".into()),
        org_unit: Some(code("LA.CAN-DUOC.TT")),
        ..Default::default()
    };
    assert_eq!(read.audit(&in_town, 0, 100).unwrap().len(), 1);
    let in_district = AuditFilter {
        org_unit: Some(code("LA.CAN-DUOC")),
        kind: Some("target_set".into()),
        ..Default::default()
    };
    assert_eq!(
        read.audit(&in_district, 0, 100).unwrap().len(),
        4,
        "district and town targets"
    );
    // Between two instants: nothing before the first event, all of it up to now.
    let first = everything[0].recorded_at;
    let before = AuditFilter {
        to: Some(first - chrono::Duration::seconds(1)),
        ..Default::default()
    };
    assert!(read.audit(&before, 0, 100).unwrap().is_empty());
    let window = AuditFilter {
        actor: Some("reporter-cd".into()),
        from: Some(first),
        to: Some(chrono::Utc::now()),
        ..Default::default()
    };
    assert_eq!(read.audit(&window, 0, 100).unwrap().len(), 4);
    // Paging.
    let page = read.audit(&reporter, by_reporter[1].position, 2).unwrap();
    assert_eq!(page, by_reporter[2..4].to_vec());
}

#[test]
fn the_audit_indexes_agree_with_the_log_across_many_buckets_and_pages() {
    // Hundreds of events by two people in two org units, projected live in
    // small chunks: each actor's and each unit's postings span many audit
    // buckets, and most chunks append to a bucket an earlier chunk wrote.
    let (_dir, mut w, p, read) = setup();
    let follower = p.spawn_follower();
    let planners = [
        actor("planner-cd", "planner"),
        actor("planner-tt", "planner"),
    ];
    let units = ["LA.CAN-DUOC", "LA.CAN-DUOC.TT"];
    for n in 200..380u128 {
        let who = &planners[(n % 2) as usize];
        let unit = units[(n / 3 % 2) as usize];
        w.run(
            who,
            indicator(
                n,
                unit,
                Period::Year(2025),
                Category::Society,
                &format!("Chỉ tiêu số {n}"),
                "%",
                Measure::Percentage,
            ),
        );
        w.run(
            &planners[(n / 5 % 2) as usize],
            set(n, TargetTrack::Resolution, plain(dec!(90)), PLAN_38),
        );
    }
    let head = w.store.head().position;
    assert!(head > 5 * 64, "the events span several buckets");
    projected(&p, head);
    p.stop();
    follower.join().unwrap().unwrap();
    let check = |read: &ReadModel| {
        // The whole trail, walked from the log: every entry of an
        // indicator names the indicator's own org unit.
        let all = read.audit(&AuditFilter::default(), 0, usize::MAX).unwrap();
        assert_eq!(all.len() as u64, head);
        for entry in &all {
            if let Some(id) = entry.indicator {
                let view = read.indicator(id).unwrap().unwrap();
                assert_eq!(entry.org_unit.as_ref(), Some(&view.definition.org_unit));
            }
        }
        let filters = [
            AuditFilter {
                actor: Some("planner-cd".into()),
                ..Default::default()
            },
            AuditFilter {
                actor: Some("planner-tt".into()),
                ..Default::default()
            },
            AuditFilter {
                org_unit: Some(code("LA.CAN-DUOC.TT")),
                ..Default::default()
            },
            AuditFilter {
                actor: Some("planner-tt".into()),
                org_unit: Some(code("LA.CAN-DUOC.TT")),
                ..Default::default()
            },
            AuditFilter {
                org_unit: Some(code("LA.CAN-DUOC")),
                ..Default::default()
            },
        ];
        for filter in &filters {
            let expected: Vec<AuditEntry> = all
                .iter()
                .filter(|e| filter.actor.as_ref().is_none_or(|a| &e.actor.id == a))
                .filter(|e| {
                    filter.org_unit.as_ref().is_none_or(|unit| {
                        e.org_unit.as_ref().is_some_and(|o| {
                            o == unit || o.as_str().starts_with(&format!("{}.", unit.as_str()))
                        })
                    })
                })
                .cloned()
                .collect();
            assert!(expected.len() > 64, "{filter:?} spans buckets");
            assert_eq!(
                read.audit(filter, 0, usize::MAX).unwrap(),
                expected,
                "{filter:?}"
            );
            assert_eq!(read.audit_count(filter).unwrap(), expected.len() as u64);
            // Page by page, 7 at a time, each page after the last one's end.
            let mut paged = Vec::new();
            loop {
                let after = paged.last().map_or(0, |e: &AuditEntry| e.position);
                let page = read.audit(filter, after, 7).unwrap();
                if page.is_empty() {
                    break;
                }
                paged.extend(page);
            }
            assert_eq!(paged, expected, "{filter:?} paged");
        }
    };
    check(&read);
    p.rebuild().unwrap();
    check(&ReadModel::new(p.clone()));
}

#[test]
fn time_travel_answers_what_was_believed_then_and_what_is_believed_now() {
    let (_dir, mut w, p, read) = setup();
    std::thread::sleep(Duration::from_millis(5));
    let before_correction = chrono::Utc::now();
    std::thread::sleep(Duration::from_millis(5));
    w.run(
        &actor("reporter-cd", "reporter"),
        Command::CorrectActual {
            indicator: ind(4),
            corrects: ReportId(id(41)),
            report: ActualReport {
                report_id: ReportId(id(42)),
                value: ResultValue::Amount { value: dec!(615.1) },
                refers_to: day(2025, 12, 31),
                status: ResultStatus::Final,
                source: Some(REPORT_2025),
                note: None,
                stated: None,
            },
            reason: Some(text("Bổ sung khoản thu tháng 12")),
        },
    );
    p.catch_up().unwrap();
    let then = read
        .indicator_as_of(ind(4), before_correction)
        .unwrap()
        .unwrap();
    let now = read.indicator(ind(4)).unwrap().unwrap();
    assert_eq!(then.current_figure(), Some(dec!(612.4)));
    assert_eq!(now.current_figure(), Some(dec!(615.1)));
    // The fold of the whole stream equals the maintained view.
    assert_eq!(read.indicator_at(ind(4), u64::MAX).unwrap().unwrap(), now);
    // Before it was defined it did not exist.
    assert!(read.indicator_at(ind(4), 3).unwrap().is_none());
    let all_then = read
        .list_at(&code("LA.CAN-DUOC"), Period::Year(2025), p.position() - 1)
        .unwrap();
    assert_eq!(all_then.len(), 2);
}

/// Each entry of a history shows the report it replaced: a final figure
/// the estimate it supersedes, a correction the figure it corrects (also
/// a correction of a correction), whatever chunks the projector applied
/// them in, and the same again after a rebuild.
#[test]
fn history_entries_show_the_report_each_one_replaced() {
    let (_dir, mut w, p, read) = setup();
    let planner = actor("planner-cd", "planner");
    let reporter = actor("reporter-cd", "reporter");
    let correct = |n: u128, wrong: u128, new: u128, value| Command::CorrectActual {
        indicator: ind(n),
        corrects: ReportId(id(wrong)),
        report: ActualReport {
            report_id: ReportId(id(new)),
            value: ResultValue::Amount { value },
            refers_to: day(2025, 12, 31),
            status: ResultStatus::Final,
            source: None,
            note: None,
            stated: None,
        },
        reason: Some(text("Sai số liệu")),
    };
    for n in 200..204u128 {
        w.run(
            &planner,
            indicator(
                n,
                "LA.CAN-DUOC.TT",
                Period::Year(2025),
                Category::Economy,
                &format!("Chỉ tiêu số {n}"),
                "tỷ đồng",
                Measure::Amount,
            ),
        );
        w.run(
            &planner,
            set(n, TargetTrack::Resolution, plain(dec!(100)), PLAN_38),
        );
        let r = n * 10;
        let estimate = report(
            n,
            r,
            dec!(40),
            ResultStatus::Estimate,
            day(2025, 6, 30),
            None,
        );
        w.run(&reporter, estimate);
        // Half the indicators go on in the same chunk, half in the next.
        if n % 2 == 0 {
            p.catch_up().unwrap();
        }
        let last = report(
            n,
            r + 1,
            dec!(95),
            ResultStatus::Final,
            day(2025, 12, 31),
            Some(r),
        );
        w.run(&reporter, last);
        w.run(&reporter, correct(n, r + 1, r + 2, dec!(96.5)));
        w.run(
            &planner,
            Command::ReviseTarget {
                indicator: ind(n),
                track: TargetTrack::Resolution,
                target: Target {
                    kind: plain(dec!(90)),
                    document: REPORT_2025,
                    wording: None,
                },
                reason: Some(text("Điều chỉnh")),
            },
        );
        if n % 2 == 1 {
            p.catch_up().unwrap();
        }
        w.run(&reporter, correct(n, r + 2, r + 3, dec!(97)));
    }
    p.catch_up().unwrap();
    let check = |read: &ReadModel| {
        for n in 200..204u128 {
            let history = read.history(ind(n)).unwrap();
            let kinds: Vec<&str> = history.iter().map(|h| &*h.kind).collect();
            assert_eq!(
                kinds,
                [
                    "indicator_defined",
                    "target_set",
                    "actual_reported",
                    "actual_reported",
                    "actual_corrected",
                    "target_revised",
                    "actual_corrected"
                ]
            );
            let figure =
                |h: &Option<Change>| h.as_ref().unwrap().to_json()["value"]["value"].clone();
            assert_eq!(figure(&history[3].before), "40");
            assert_eq!(figure(&history[4].before), "95");
            assert_eq!(figure(&history[6].before), "96.5");
            assert_eq!(figure(&history[6].after), "97");
            assert_eq!(
                history[5].before.as_ref().unwrap().to_json()["kind"]["value"],
                "100"
            );
        }
    };
    check(&read);
    p.rebuild().unwrap();
    check(&ReadModel::new(p.clone()));
}

#[test]
fn a_history_cache_far_smaller_than_the_histories_answers_as_an_unbounded_one() {
    let (dir, mut w, _p, read) = setup();
    let planner = actor("planner-cd", "planner");
    for n in 400..430u128 {
        w.run(&planner, numbered_indicator(n));
        for (track, value) in [
            (TargetTrack::Resolution, dec!(80)),
            (TargetTrack::Assigned, dec!(85)),
            (TargetTrack::Stretch, dec!(90)),
        ] {
            w.run(&planner, set(n, track, plain(value), PLAN_38));
        }
    }
    let log: Log = std::sync::Arc::new(w.store.clone());
    // 13 entries: three or four histories at a time, so nearly every read
    // lets others go.
    let small =
        Projector::open_with_memory(&log, &dir.path().join("small"), 8 << 20, 1_000, 13).unwrap();
    small.catch_up().unwrap();
    let small = ReadModel::new(small);
    read.projector().catch_up().unwrap();
    let ids: Vec<IndicatorId> = read
        .list(&IndicatorFilter::default())
        .unwrap()
        .iter()
        .map(|v| v.definition.id)
        .collect();
    assert!(ids.len() > 30);
    let whole: Vec<_> = ids.iter().map(|id| read.history(*id).unwrap()).collect();
    for pass in 0..3 {
        for (i, id) in ids.iter().enumerate() {
            // Forwards, backwards, then every third twice in a row.
            let i = if pass == 1 { ids.len() - 1 - i } else { i };
            let id = if pass == 1 { &ids[i] } else { id };
            for _ in 0..(1 + usize::from(pass == 2 && i % 3 == 0)) {
                assert_eq!(small.history(*id).unwrap(), whole[i], "pass {pass}, {id:?}");
            }
        }
    }
}

#[test]
fn a_rebuild_equals_the_incremental_read_models_byte_for_byte() {
    let (_dir, mut w, p, _read) = setup();
    // More events applied live, one chunk at a time.
    let follower = p.spawn_follower();
    let planner = actor("planner-cd", "planner");
    for n in 100..140u128 {
        w.run(&planner, numbered_indicator(n));
        w.run(
            &planner,
            set(
                n,
                TargetTrack::Resolution,
                TargetKind::AtLeast {
                    value: dec!(90),
                    strict: false,
                },
                PLAN_38,
            ),
        );
    }
    let head = w.store.head().position;
    projected(&p, head);
    let incremental = p.digest().unwrap();
    p.stop();
    follower.join().unwrap().unwrap();
    p.rebuild().unwrap();
    assert_eq!(p.digest().unwrap(), incremental);
}

#[test]
fn a_rebuild_in_small_chunks_equals_one_in_a_single_chunk() {
    let (_dir, w, p, _read) = setup();
    let head = w.store.head().position;
    assert_eq!(p.rebuild().unwrap(), head);
    let whole = p.digest().unwrap();
    // Chunks of 7 events: many hand-offs between the stage that reads and
    // decodes and the one that applies, the last chunk a short one.
    assert_ne!(head % 7, 0);
    p.set_chunk_size(7);
    assert_eq!(p.rebuild().unwrap(), head);
    assert_eq!(p.position(), head);
    assert_eq!(p.digest().unwrap(), whole);
}

#[test]
fn an_event_that_does_not_decode_stops_the_catch_up_at_the_chunk_before_it() {
    let (_dir, mut w, p, _read) = setup();
    let planner = actor("planner-cd", "planner");
    p.set_chunk_size(3);
    let good = w.store.head().position;
    // A payload the codec refuses, as a damaged or foreign writer could
    // leave one (the log takes any payload).
    let bad = w
        .store
        .append_blocking(chitieu_store::AppendRequest {
            stream: (&StreamId::indicator(ind(0xaa))).into(),
            expected: chitieu_store::ExpectedVersion::Any,
            conditions: Vec::new(),
            events: vec![chitieu_domain::event::EncodedEvent {
                event_type: "indicator_defined".into(),
                schema_version: 1,
                payload: b"{\"not\": \"a definition\"}".to_vec(),
            }],
            idempotency_key: None,
            fingerprint: None,
            meta: chitieu_store::AppendMeta {
                actor: planner.clone(),
                correlation_id: id(0xbad),
                causation_id: None,
            },
        })
        .unwrap()
        .last_position;
    for n in 300..310u128 {
        w.run(&planner, numbered_indicator(n));
    }
    match p.rebuild() {
        Err(ProjectionError::Undecodable { position, .. }) => assert_eq!(position, bad),
        other => panic!("expected an undecodable event, got {other:?}"),
    }
    // Every chunk before it was applied; nothing of the chunk holding it,
    // or after it.
    assert_eq!(good, bad - 1);
    assert!(p.position() < bad);
    assert!(p.position() + 3 > good);
}

#[test]
fn a_new_read_model_version_rebuilds_on_open() {
    let (dir, w, p, read) = setup();
    let digest = p.digest().unwrap();
    let log = p.log().clone();
    drop((p, read));
    // An older shape left behind, with a stale view.
    let path = dir.path().join("read-models");
    {
        let db = open_when_released(&path);
        let tree = db.open_tree(PROJECTION_TREE).unwrap();
        tree.insert(b"m/version", &0u32.to_be_bytes()).unwrap();
        tree.insert(b"i-stale", b"{}").unwrap();
        db.flush().unwrap();
    }
    // Something else of the old database's directory.
    std::fs::write(path.join("marker"), b"old").unwrap();
    let _ = w;
    let reopened = reopen_when_released(&log, &path);
    assert_eq!(reopened.position(), 0);
    reopened.catch_up().unwrap();
    assert_eq!(reopened.digest().unwrap(), digest);
    // The old database was set aside whole (not dropped tree by tree:
    // sled reads every page of a tree it drops) and is removed.
    assert!(!path.join("marker").exists());
    let aside = dir.path().join("read-models.discarded");
    let started = std::time::Instant::now();
    while aside.exists() {
        assert!(started.elapsed() < Duration::from_secs(10), "still there");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// This machine's boot id, as the projector reads it (Linux).
fn this_boot() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .expect("the kernel's boot id")
        .trim()
        .to_owned()
}

/// Read models are written without waiting for the disk: a process that
/// dies leaves them in the page cache, whole, and the next start of the
/// same boot goes on from them; a start after the machine itself stopped
/// (the marker names another boot) throws them away unopened and rebuilds.
#[test]
fn read_models_left_unwritten_by_another_boot_are_rebuilt_and_by_this_one_kept() {
    let (dir, w, p, read) = setup();
    let digest = p.digest().unwrap();
    let at = p.position();
    assert!(at > 0);
    let log = p.log().clone();
    let path = dir.path().join("read-models");
    let marker = path.join("unsynced");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), this_boot());
    // The process "dies": no close.
    drop((p, read));
    let kept = reopen_when_released(&log, &path);
    assert_eq!(kept.position(), at, "a start of the same boot keeps them");
    assert_eq!(kept.digest().unwrap(), digest);
    drop(kept);
    // The machine stopped under them: another boot's marker.
    std::fs::write(&marker, b"00000000-0000-0000-0000-000000000000").unwrap();
    std::fs::write(path.join("stale"), b"old").unwrap();
    let _ = w;
    let reopened = reopen_when_released(&log, &path);
    assert_eq!(reopened.position(), 0, "rebuilt from the log");
    assert!(!path.join("stale").exists(), "thrown away whole");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), this_boot());
    reopened.catch_up().unwrap();
    assert_eq!(reopened.digest().unwrap(), digest);
}

/// A clean close puts the read models on the disk and removes the marker:
/// they outlive the machine's next boot. Nothing is applied after it.
#[test]
fn a_closed_projector_leaves_read_models_that_outlive_a_reboot() {
    let (dir, mut w, p, read) = setup();
    let at = p.position();
    let log = p.log().clone();
    let path = dir.path().join("read-models");
    p.close().unwrap();
    assert!(!path.join("unsynced").exists());
    let planner = actor("planner-cd", "planner");
    w.run(&planner, numbered_indicator(400));
    assert!(matches!(p.catch_up(), Err(ProjectionError::Stopped)));
    assert_eq!(p.position(), at);
    drop((p, read));
    // Whatever boot comes next, no marker: kept.
    let reopened = reopen_when_released(&log, &path);
    assert_eq!(reopened.position(), at);
    reopened.catch_up().unwrap();
    assert!(reopened.position() > at);
}

/// Views are stored in a binary encoding (MessagePack, fields by
/// position): read back by a projector that never held them decoded,
/// they are the views the writing projector held, field for field (a
/// skipped optional field, internally tagged target kinds and values).
#[test]
fn views_read_back_from_their_stored_bytes_are_the_views_written() {
    let (dir, w, p, read) = setup();
    let written = read.list(&IndicatorFilter::default()).unwrap();
    assert!(written.len() >= 3);
    assert!(written.iter().any(|v| !v.targets.is_empty()));
    assert!(written.iter().any(|v| v.report_count > 0));
    let digest = p.digest().unwrap();
    let log = p.log().clone();
    drop((p, read, w));
    let reopened = reopen_when_released(&log, &dir.path().join("read-models"));
    assert_eq!(reopened.digest().unwrap(), digest, "not rebuilt: read back");
    let read = ReadModel::new(reopened);
    assert_eq!(read.list(&IndicatorFilter::default()).unwrap(), written);
}

#[test]
fn pages_from_the_index_match_the_full_listing() {
    let (_dir, mut w, p, read) = setup();
    let planner = actor("planner-cd", "planner");
    for n in [12u128, 2, 30, 7] {
        let mut command = indicator(
            200 + n,
            "LA.CAN-DUOC",
            Period::Year(2025),
            Category::Society,
            &format!("Chỉ tiêu {n}"),
            "%",
            Measure::Percentage,
        );
        if let Command::DefineIndicator(d) = &mut command {
            d.code = Some(text(&format!("1.{n}")));
        }
        w.run(&planner, command);
    }
    p.catch_up().unwrap();
    let filter = IndicatorFilter {
        org_unit: Some(code("LA")),
        include_descendants: true,
        ..Default::default()
    };
    let all = read.list(&filter).unwrap();
    assert_eq!(all.len(), 7);
    let codes: Vec<String> = all
        .iter()
        .filter_map(|v| v.definition.code.as_ref().map(|c| c.to_string()))
        .collect();
    assert_eq!(
        codes,
        ["1.2", "1.7", "1.12", "1.30", "4", "5", "6"],
        "codes in numeric order: {codes:?}"
    );
    for offset in 0..8 {
        let (page, total) = read.page(&filter, offset, 3).unwrap();
        assert_eq!(total, 7);
        let expected: Vec<_> = all
            .iter()
            .skip(offset)
            .take(3)
            .map(|v| v.definition.id)
            .collect();
        assert_eq!(
            page.iter().map(|v| v.definition.id).collect::<Vec<_>>(),
            expected,
            "offset {offset}"
        );
    }
    // No filter, or only the reader's subtrees: keyset pages from the
    // index too (not a listing of the whole store), the same items.
    for filter in [
        IndicatorFilter::default(),
        IndicatorFilter {
            within: Some(vec![code("LA.CAN-DUOC")]),
            ..Default::default()
        },
    ] {
        let all: Vec<_> = read
            .list(&filter)
            .unwrap()
            .into_iter()
            .map(|v| v.definition.id)
            .collect();
        let mut paged = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let (page, more, total) = read
                .page_after(&filter, after.as_deref(), 2)
                .unwrap()
                .expect("answered from the index");
            assert_eq!(total, all.len(), "{filter:?}");
            after = page.last().map(|(k, _)| k.clone());
            paged.extend(page.into_iter().map(|(_, v)| v.definition.id));
            if !more {
                break;
            }
        }
        let mut sorted = paged.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), paged.len(), "no item twice");
        let mut expected = all.clone();
        expected.sort();
        assert_eq!(sorted, expected, "{filter:?}");
    }
}

#[test]
fn every_filter_combination_pages_and_counts_like_the_full_listing() {
    let (_dir, mut w, p, read) = setup();
    let planner = actor("planner-cd", "planner");
    let reporter = actor("reporter-cd", "reporter");
    let units = ["LA", "LA.CAN-DUOC", "LA.CAN-DUOC.TT"];
    let categories = [
        Category::Economy,
        Category::Society,
        Category::Environment,
        Category::DefenseSecurity,
        Category::PartyBuilding,
    ];
    // 30 indicators over three levels, two periods and every category;
    // most with a target, most of those with a final result above, at or
    // below it, so every status has members.
    for n in 0..30u128 {
        let year = 2024 + (n % 2) as i32;
        let i = 300 + n;
        w.run(
            &planner,
            indicator(
                i,
                units[(n % 3) as usize],
                Period::Year(year),
                categories[(n % 5) as usize],
                &format!("Tỷ lệ hộ dân số {n}"),
                "%",
                Measure::Percentage,
            ),
        );
        // Each change projected on its own: the counts move from cell to
        // cell (without a target, no data, then the status it settles on).
        p.catch_up().unwrap();
        if n % 7 == 6 {
            continue; // without a target
        }
        w.run(
            &planner,
            set(i, TargetTrack::Assigned, plain(dec!(80)), PLAN_38),
        );
        p.catch_up().unwrap();
        let value = match n % 4 {
            0 => dec!(95),
            1 => dec!(80),
            2 => dec!(60),
            _ => continue, // nothing reported
        };
        w.run(
            &reporter,
            report(
                i,
                900 + n,
                value,
                ResultStatus::Final,
                day(year, 12, 31),
                None,
            ),
        );
    }
    p.catch_up().unwrap();
    let everything = read.list(&IndicatorFilter::default()).unwrap();
    let statuses: std::collections::BTreeSet<_> = everything
        .iter()
        .map(|v| format!("{:?}", v.settled_status()))
        .collect();
    assert!(statuses.len() >= 4, "statuses present: {statuses:?}");

    let mut orgs: Vec<(Option<OrgUnitCode>, bool)> = vec![(None, false)];
    for u in units {
        orgs.push((Some(code(u)), false));
        orgs.push((Some(code(u)), true));
    }
    let mut checked = 0;
    for (org_unit, include_descendants) in &orgs {
        for period in [None, Some(Period::Year(2024)), Some(Period::Year(2025))] {
            for category in std::iter::once(None).chain(categories.map(Some)) {
                for status in [
                    None,
                    Some(AchievementStatus::Exceeded),
                    Some(AchievementStatus::Met),
                    Some(AchievementStatus::NotMet),
                    Some(AchievementStatus::NoData),
                    Some(AchievementStatus::NotDue),
                ] {
                    for name in [None, Some("ho dan so 1".to_owned())] {
                        for within in [None, Some(vec![code("LA.CAN-DUOC")])] {
                            let filter = IndicatorFilter {
                                org_unit: org_unit.clone(),
                                include_descendants: *include_descendants,
                                period,
                                category,
                                status,
                                name: name.clone(),
                                within,
                            };
                            same_as_listing(&read, &filter);
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 7 * 3 * 6 * 6 * 2 * 2);
}

/// Counts, offset pages, keyset pages and keyset offsets of `filter`
/// against [`ReadModel::list`], which decodes every candidate.
fn same_as_listing(read: &ReadModel, filter: &IndicatorFilter) {
    let all: Vec<_> = read
        .list(filter)
        .unwrap()
        .into_iter()
        .map(|v| v.definition.id)
        .collect();
    assert_eq!(
        read.count(filter).unwrap(),
        all.len(),
        "count of {filter:?}"
    );
    for offset in [0, 1, 3, all.len()] {
        let (page, total) = read.page(filter, offset, 3).unwrap();
        assert_eq!(total, all.len(), "total of {filter:?}");
        let ids: Vec<_> = page.iter().map(|v| v.definition.id).collect();
        let expected: Vec<_> = all.iter().skip(offset).take(3).copied().collect();
        assert_eq!(ids, expected, "offset {offset} of {filter:?}");
    }
    let mut paged = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let (page, more, total) = read
            .page_after(filter, after.as_deref(), 2)
            .unwrap()
            .expect("every filter pages by key");
        assert_eq!(total, all.len(), "keyset total of {filter:?}");
        for (key, view) in &page {
            assert_eq!(
                read.offset_of_key(filter, key).unwrap(),
                Some(paged.len()),
                "offset of a key of {filter:?}"
            );
            paged.push(view.definition.id);
        }
        after = page.last().map(|(k, _)| k.clone());
        if !more {
            break;
        }
    }
    assert_eq!(paged, all, "keyset pages of {filter:?}");
}

#[test]
fn the_csv_report_has_the_documents_layout_and_exact_figures() {
    let (_dir, _w, _p, read) = setup();
    let csv = chitieu_projector::report::csv_report(
        &read,
        &code("LA.CAN-DUOC"),
        Period::Year(2025),
        day(2026, 3, 1),
        None,
        false,
    )
    .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], chitieu_projector::report::CSV_HEADER);
    assert_eq!(lines.len(), 3, "{csv}");
    // Budget: primary track assigned 581, final 612.4 → 105.40%, vượt;
    // its stretch of 600 differs, which the findings column says.
    assert_eq!(
        lines[1],
        "4,Thu ngân sách,tỷ đồng,581,612.4,chính thức,105.40,vượt,,\
         các mức chỉ tiêu khác nhau: mức cấp trên giao 581; mức phấn đấu 600"
    );
    assert_eq!(
        lines[2],
        "5,Sản lượng lúa,tấn,85000,83500,chính thức,98.24,chưa đạt,,"
    );
    // With the units under it: theirs follow, named.
    let all = chitieu_projector::report::csv_report(
        &read,
        &code("LA.CAN-DUOC"),
        Period::Year(2025),
        day(2026, 3, 1),
        None,
        true,
    )
    .unwrap();
    let extra: Vec<&str> = all.lines().skip(3).collect();
    assert!(!extra.is_empty(), "{all}");
    assert!(
        extra.iter().all(|l| l.contains(",[Thị trấn Cần Đước] ")),
        "{all}"
    );
}

#[test]
fn the_xlsx_report_is_a_workbook_with_the_same_rows() {
    let (_dir, _w, _p, read) = setup();
    let rows = chitieu_projector::report::report_rows(
        &read,
        &code("LA.CAN-DUOC"),
        Period::Year(2025),
        day(2026, 3, 1),
        None,
        false,
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].figure, Some(dec!(612.4)));
    assert_eq!(rows[0].percent, Some(dec!(105.40)));
    let bytes = chitieu_projector::report::xlsx_report(
        &read,
        &code("LA.CAN-DUOC"),
        Period::Year(2025),
        day(2026, 3, 1),
        None,
        true,
    )
    .unwrap();
    assert_eq!(&bytes[..2], b"PK", "an XLSX file is a zip archive");
    assert!(bytes.len() > 1000);
}

/// sled releases its file lock a little after the last handle is dropped.
fn open_when_released(path: &std::path::Path) -> sled::Db {
    for _ in 0..500 {
        if let Ok(db) = sled::open(path) {
            return db;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} stayed locked", path.display())
}

fn reopen_when_released(log: &Log, path: &std::path::Path) -> std::sync::Arc<Projector> {
    for _ in 0..500 {
        if let Ok(p) = Projector::open(log, path) {
            return p;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} stayed locked", path.display())
}

#[test]
fn a_correction_moving_the_latest_final_back_hands_the_figure_to_the_right_one() {
    let (_dir, mut w, p, read) = setup();
    let reporter = actor("reporter-cd", "reporter");
    // Indicator 5 (rice) has its final for 31/12 (report 50); add one for
    // 30/06, then correct the December figure to 31/03.
    w.run(
        &reporter,
        report(
            5,
            51,
            dec!(41000),
            ResultStatus::Final,
            day(2025, 6, 30),
            None,
        ),
    );
    w.run(
        &reporter,
        Command::CorrectActual {
            indicator: ind(5),
            corrects: ReportId(id(50)),
            report: ActualReport {
                report_id: ReportId(id(52)),
                value: ResultValue::Amount { value: dec!(20000) },
                refers_to: day(2025, 3, 31),
                status: ResultStatus::Final,
                source: None,
                note: None,
                stated: None,
            },
            reason: Some(text("Nhầm kỳ báo cáo")),
        },
    );
    let head = w.store.head().position;
    p.catch_up().unwrap();
    let live = read.indicator(ind(5)).unwrap().unwrap();
    let counted = live.current_report().unwrap();
    assert_eq!(
        counted.report.report_id,
        ReportId(id(51)),
        "the June figure now counts"
    );
    assert_eq!(
        live.latest_final().map(|r| r.report.report_id),
        Some(ReportId(id(51)))
    );
    // Time travel, valid time and a rebuild agree.
    let folded = read.indicator_at(ind(5), head).unwrap().unwrap();
    assert_eq!(folded, live);
    let valid = read
        .report_valid_at(ind(5), day(2025, 12, 31), None)
        .unwrap()
        .unwrap();
    assert_eq!(valid.report.report_id, ReportId(id(51)));
    let incremental = p.digest().unwrap();
    p.rebuild().unwrap();
    assert_eq!(p.digest().unwrap(), incremental);
}
