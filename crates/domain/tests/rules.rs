//! Given / when / then tests: one per business rule of `decide`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chitieu_domain::event::*;
use chitieu_domain::*;
use rust_decimal_macros::dec;
use support::*;
use uuid::Uuid;

fn with(extra: Vec<Event>) -> Scenario {
    given(registered().into_iter().chain(extra))
}

fn target_set(value: rust_decimal::Decimal, track: TargetTrack, document: DocumentId) -> Event {
    Event::TargetSet(TargetSet {
        indicator: BUDGET,
        track,
        target: plain(value, document),
    })
}

// --- org units -----------------------------------------------------------

#[test]
fn a_province_registers_without_parent() {
    given([])
        .when(Command::RegisterOrgUnit(province()))
        .then_expect_events(vec![Event::OrgUnitRegistered(OrgUnitRegistered {
            unit: province(),
        })]);
}

#[test]
fn a_district_needs_a_registered_parent() {
    given([])
        .when(Command::RegisterOrgUnit(district()))
        .then_expect_error(DomainError::UnknownOrgUnit(code("LA")));
    let orphan = OrgUnit {
        parent: None,
        ..district()
    };
    given([])
        .when(Command::RegisterOrgUnit(orphan))
        .then_expect_error(DomainError::ParentRequired(OrgUnitLevel::District));
}

#[test]
fn a_parent_must_rank_above_its_child() {
    let hamlet = OrgUnit {
        code: code("LA.CAN-DUOC.TT.AP1"),
        name: text("Khóm 1"),
        level: OrgUnitLevel::Hamlet,
        parent: Some(code("LA.CAN-DUOC.TT")),
        established: None,
    };
    let commune_under_hamlet = OrgUnit {
        code: code("LA.X"),
        name: text("Xã X"),
        level: OrgUnitLevel::Commune,
        parent: Some(hamlet.code.clone()),
        established: None,
    };
    with(vec![Event::OrgUnitRegistered(OrgUnitRegistered {
        unit: hamlet,
    })])
    .when(Command::RegisterOrgUnit(commune_under_hamlet))
    .then_expect_error(DomainError::ParentLevelNotAbove {
        parent: OrgUnitLevel::Hamlet,
        child: OrgUnitLevel::Commune,
    });
}

#[test]
fn an_org_unit_code_registers_once() {
    with(vec![])
        .when(Command::RegisterOrgUnit(district()))
        .then_expect_error(DomainError::OrgUnitAlreadyRegistered(code("LA.CAN-DUOC")));
}

#[test]
fn an_abolished_district_is_traced_to_its_successors() {
    let command = Command::RecordSuccession {
        unit: code("LA.CAN-DUOC"),
        successors: vec![code("LA.CAN-DUOC.TT")],
        effective: day(2025, 7, 1),
        document: None,
    };
    with(vec![])
        .when(command.clone())
        .then_expect_events(vec![Event::OrgUnitSucceeded(OrgUnitSucceeded {
            unit: code("LA.CAN-DUOC"),
            successors: vec![code("LA.CAN-DUOC.TT")],
            effective: day(2025, 7, 1),
            document: None,
        })]);
    let mut scenario = with(vec![]);
    for e in decide(&scenario.state, &command).unwrap() {
        evolve(&mut scenario.state, &e);
    }
    scenario
        .when(command)
        .then_expect_error(DomainError::OrgUnitAlreadySucceeded(code("LA.CAN-DUOC")));
    let to_itself = Command::RecordSuccession {
        unit: code("LA"),
        successors: vec![code("LA")],
        effective: day(2025, 7, 1),
        document: None,
    };
    with(vec![])
        .when(to_itself)
        .then_expect_error(DomainError::InvalidSuccessors);
}

#[test]
fn a_unit_moves_under_another_parent_in_date_order_never_under_itself() {
    let other = OrgUnit {
        code: code("LA.CAN-GIUOC"),
        name: text("Huyện Cần Giuộc"),
        ..district()
    };
    let registered = Event::OrgUnitRegistered(OrgUnitRegistered { unit: other });
    let move_town = |effective| Command::MoveOrgUnit {
        unit: code("LA.CAN-DUOC.TT"),
        parent: code("LA.CAN-GIUOC"),
        effective,
        document: None,
    };
    with(vec![registered.clone()])
        .when(move_town(day(2025, 7, 1)))
        .then_expect_events(vec![Event::OrgUnitMoved(OrgUnitMoved {
            unit: code("LA.CAN-DUOC.TT"),
            parent: code("LA.CAN-GIUOC"),
            effective: day(2025, 7, 1),
            document: None,
        })]);
    // Where it already is: nothing changes.
    with(vec![])
        .when(Command::MoveOrgUnit {
            unit: code("LA.CAN-DUOC.TT"),
            parent: code("LA.CAN-DUOC"),
            effective: day(2025, 7, 1),
            document: None,
        })
        .then_expect_error(DomainError::NoChange);
    // Under a unit of its own level or below it, or under itself.
    with(vec![])
        .when(Command::MoveOrgUnit {
            unit: code("LA.CAN-DUOC"),
            parent: code("LA.CAN-DUOC.TT"),
            effective: day(2025, 7, 1),
            document: None,
        })
        .then_expect_error(DomainError::ParentLevelNotAbove {
            parent: OrgUnitLevel::Town,
            child: OrgUnitLevel::District,
        });
    // Back again, but dated before the first move.
    let moved = Event::OrgUnitMoved(OrgUnitMoved {
        unit: code("LA.CAN-DUOC.TT"),
        parent: code("LA.CAN-GIUOC"),
        effective: day(2025, 7, 1),
        document: None,
    });
    with(vec![registered, moved])
        .when(Command::MoveOrgUnit {
            unit: code("LA.CAN-DUOC.TT"),
            parent: code("LA.CAN-DUOC"),
            effective: day(2025, 6, 1),
            document: None,
        })
        .then_expect_error(DomainError::MoveOutOfOrder(day(2025, 7, 1)));
}

// --- documents -----------------------------------------------------------

#[test]
fn a_document_registers_once_and_names_a_known_org_unit() {
    with(vec![])
        .when(Command::RegisterDocument(programme()))
        .then_expect_error(DomainError::DocumentAlreadyRegistered(PROGRAMME));
    let stray = Document {
        org_unit: Some(code("HG")),
        ..programme()
    };
    given([])
        .when(Command::RegisterDocument(stray))
        .then_expect_error(DomainError::UnknownOrgUnit(code("HG")));
}

// --- indicators ----------------------------------------------------------

#[test]
fn an_indicator_belongs_to_a_registered_org_unit() {
    let def = IndicatorDefinition {
        org_unit: code("LA.NOWHERE"),
        id: IndicatorId(Uuid::from_u128(5)),
        ..budget_revenue()
    };
    with(vec![])
        .when(Command::DefineIndicator(def))
        .then_expect_error(DomainError::UnknownOrgUnit(code("LA.NOWHERE")));
}

#[test]
fn an_indicator_id_is_defined_once() {
    with(vec![])
        .when(Command::DefineIndicator(budget_revenue()))
        .then_expect_error(DomainError::IndicatorAlreadyDefined(BUDGET));
}

#[test]
fn the_town_share_nests_under_the_district_share_of_the_same_period() {
    // 004: "Toàn địa bàn huyện 80%, trong đó đô thị Thị trấn Cần Đước 100%".
    let town_share = IndicatorDefinition {
        id: IndicatorId(Uuid::from_u128(6)),
        org_unit: code("LA.CAN-DUOC.TT"),
        parent: Some(BUDGET),
        ..budget_revenue()
    };
    with(vec![])
        .when(Command::DefineIndicator(town_share.clone()))
        .then_expect_events(vec![Event::IndicatorDefined(IndicatorDefined {
            definition: town_share.clone(),
        })]);
    let other_year = IndicatorDefinition {
        period: Period::Year(2024),
        ..town_share.clone()
    };
    with(vec![])
        .when(Command::DefineIndicator(other_year))
        .then_expect_error(DomainError::ParentIndicatorMismatch(BUDGET));
    let upside_down = IndicatorDefinition {
        org_unit: code("LA"),
        ..town_share
    };
    with(vec![])
        .when(Command::DefineIndicator(upside_down))
        .then_expect_error(DomainError::ParentIndicatorMismatch(BUDGET));
}

#[test]
fn the_previous_period_link_must_point_back_in_time() {
    let next_year = IndicatorDefinition {
        id: IndicatorId(Uuid::from_u128(7)),
        period: Period::Year(2026),
        previous: Some(BUDGET),
        ..budget_revenue()
    };
    with(vec![])
        .when(Command::DefineIndicator(next_year.clone()))
        .then_expect_events(vec![Event::IndicatorDefined(IndicatorDefined {
            definition: next_year.clone(),
        })]);
    let same_year = IndicatorDefinition {
        period: Period::Year(2025),
        ..next_year
    };
    with(vec![])
        .when(Command::DefineIndicator(same_year))
        .then_expect_error(DomainError::PreviousPeriodMismatch {
            previous: BUDGET,
            previous_period: Period::Year(2025),
            period: Period::Year(2025),
        });
}

// --- targets -------------------------------------------------------------

#[test]
fn assigned_and_stretch_tracks_hold_581_and_600_at_once() {
    let scenario = with(vec![target_set(
        dec!(581),
        TargetTrack::Assigned,
        PROGRAMME,
    )]);
    scenario
        .when(Command::SetTarget {
            indicator: BUDGET,
            track: TargetTrack::Stretch,
            target: plain(dec!(600), PROGRAMME),
        })
        .then_expect_events(vec![target_set(dec!(600), TargetTrack::Stretch, PROGRAMME)]);
}

#[test]
fn a_set_track_is_revised_not_set_again() {
    with(vec![target_set(
        dec!(581),
        TargetTrack::Assigned,
        PROGRAMME,
    )])
    .when(Command::SetTarget {
        indicator: BUDGET,
        track: TargetTrack::Assigned,
        target: plain(dec!(590), PROGRAMME),
    })
    .then_expect_error(DomainError::TargetAlreadySet(TargetTrack::Assigned));
}

#[test]
fn a_target_cites_a_registered_document() {
    let unknown = DocumentId(Uuid::from_u128(999));
    with(vec![])
        .when(Command::SetTarget {
            indicator: BUDGET,
            track: TargetTrack::Resolution,
            target: plain(dec!(581), unknown),
        })
        .then_expect_error(DomainError::UnknownDocument(unknown));
}

#[test]
fn a_target_must_fit_the_measure() {
    let milestone_indicator = IndicatorDefinition {
        id: IndicatorId(Uuid::from_u128(8)),
        measure: Measure::Milestone,
        unit: None,
        ..budget_revenue()
    };
    with(vec![Event::IndicatorDefined(IndicatorDefined {
        definition: milestone_indicator.clone(),
    })])
    .when(Command::SetTarget {
        indicator: milestone_indicator.id,
        track: TargetTrack::Resolution,
        target: plain(dec!(1), PROGRAMME),
    })
    .then_expect_error_matching(|e| matches!(e, DomainError::InvalidTarget(_)));
}

#[test]
fn a_comparison_target_must_look_back() {
    let target = Target {
        kind: TargetKind::RelativeToPeriod {
            period: Period::Year(2025),
            direction: Direction::Lower,
        },
        document: PROGRAMME,
        wording: None,
    };
    with(vec![])
        .when(Command::SetTarget {
            indicator: BUDGET,
            track: TargetTrack::Resolution,
            target,
        })
        .then_expect_error(DomainError::ComparedPeriodNotEarlier {
            compared: Period::Year(2025),
            period: Period::Year(2025),
        });
}

#[test]
fn a_revision_without_a_reason_is_rejected() {
    with(vec![target_set(
        dec!(581),
        TargetTrack::Assigned,
        PROVINCE_RESOLUTION,
    )])
    .when(Command::ReviseTarget {
        indicator: BUDGET,
        track: TargetTrack::Assigned,
        target: plain(dec!(590), PROGRAMME),
        reason: None,
    })
    .then_expect_error(DomainError::ReasonRequired);
}

#[test]
fn a_revision_names_a_new_authorising_document() {
    with(vec![target_set(
        dec!(581),
        TargetTrack::Assigned,
        PROGRAMME,
    )])
    .when(Command::ReviseTarget {
        indicator: BUDGET,
        track: TargetTrack::Assigned,
        target: plain(dec!(590), PROGRAMME),
        reason: Some(text("Tỉnh điều chỉnh dự toán")),
    })
    .then_expect_error(DomainError::RevisionNeedsNewDocument(PROGRAMME));
}

#[test]
fn a_revision_with_reason_and_document_is_recorded() {
    let reason = text("Tỉnh giao bổ sung dự toán thu");
    with(vec![target_set(
        dec!(581),
        TargetTrack::Assigned,
        PROVINCE_RESOLUTION,
    )])
    .when(Command::ReviseTarget {
        indicator: BUDGET,
        track: TargetTrack::Assigned,
        target: plain(dec!(590), PROGRAMME),
        reason: Some(reason.clone()),
    })
    .then_expect_events(vec![Event::TargetRevised(TargetRevised {
        indicator: BUDGET,
        track: TargetTrack::Assigned,
        target: plain(dec!(590), PROGRAMME),
        reason,
    })]);
}

#[test]
fn a_revision_that_changes_nothing_is_rejected() {
    with(vec![target_set(
        dec!(581),
        TargetTrack::Assigned,
        PROVINCE_RESOLUTION,
    )])
    .when(Command::ReviseTarget {
        indicator: BUDGET,
        track: TargetTrack::Assigned,
        target: plain(dec!(581), PROGRAMME),
        reason: Some(text("x")),
    })
    .then_expect_error(DomainError::NoChange);
}

#[test]
fn revising_an_empty_track_is_rejected() {
    with(vec![])
        .when(Command::ReviseTarget {
            indicator: BUDGET,
            track: TargetTrack::Stretch,
            target: plain(dec!(600), PROGRAMME),
            reason: Some(text("x")),
        })
        .then_expect_error(DomainError::NoTargetOnTrack(TargetTrack::Stretch));
}

// --- results -------------------------------------------------------------

fn reported(id: u128, value: rust_decimal::Decimal, status: ResultStatus) -> Event {
    Event::ActualReported(ActualReported {
        indicator: BUDGET,
        report: report(id, value, status),
        supersedes: None,
        reason: None,
    })
}

#[test]
fn an_estimate_is_replaced_by_the_final_figure() {
    let final_report = ActualReport {
        source: Some(PROGRAMME),
        ..report(2, dec!(612.4), ResultStatus::Final)
    };
    with(vec![reported(1, dec!(600), ResultStatus::Estimate)])
        .when(Command::ReportActual {
            indicator: BUDGET,
            report: final_report.clone(),
            supersedes: Some(ReportId(Uuid::from_u128(1))),
            reason: None,
        })
        .then_expect_events(vec![Event::ActualReported(ActualReported {
            indicator: BUDGET,
            report: final_report,
            supersedes: Some(ReportId(Uuid::from_u128(1))),
            reason: None,
        })]);
}

#[test]
fn a_final_figure_is_superseded_only_with_a_reason() {
    let mut second = report(2, dec!(612.4), ResultStatus::Final);
    second.source = Some(PROGRAMME);
    with(vec![reported(1, dec!(600), ResultStatus::Final)])
        .when(Command::ReportActual {
            indicator: BUDGET,
            report: second.clone(),
            supersedes: Some(ReportId(Uuid::from_u128(1))),
            reason: Some(text("Số liệu quyết toán")),
        })
        .then_expect_events(vec![Event::ActualReported(ActualReported {
            indicator: BUDGET,
            report: second,
            supersedes: Some(ReportId(Uuid::from_u128(1))),
            reason: Some(text("Số liệu quyết toán")),
        })]);
}

#[test]
fn a_second_final_for_the_same_date_must_name_the_one_it_replaces() {
    // Cần Đước's town budget: 13 then 9, silently, is what this prevents.
    let mut second = report(2, dec!(9), ResultStatus::Final);
    second.source = Some(PROGRAMME);
    let refused =
        with(vec![reported(1, dec!(13), ResultStatus::Final)]).when(Command::ReportActual {
            indicator: BUDGET,
            report: second.clone(),
            supersedes: None,
            reason: Some(text("x")),
        });
    refused.then_expect_error(DomainError::FinalAlreadyReported {
        existing: ReportId(Uuid::from_u128(1)),
        refers_to: day(2025, 12, 31),
    });
    let message = DomainError::FinalAlreadyReported {
        existing: ReportId(Uuid::from_u128(1)),
        refers_to: day(2025, 12, 31),
    }
    .to_string();
    assert!(
        message.contains("supersedes") && message.contains("correctActual"),
        "{message}"
    );
    // Another date is another figure.
    second.refers_to = day(2025, 6, 30);
    with(vec![reported(1, dec!(13), ResultStatus::Final)])
        .when(Command::ReportActual {
            indicator: BUDGET,
            report: second,
            supersedes: None,
            reason: None,
        })
        .then_succeeds();
}

#[test]
fn a_final_figure_cites_its_source_or_gives_a_reason() {
    with(vec![])
        .when(Command::ReportActual {
            indicator: BUDGET,
            report: report(2, dec!(612.4), ResultStatus::Final),
            supersedes: None,
            reason: None,
        })
        .then_expect_error(DomainError::FinalNeedsSourceOrReason);
    with(vec![])
        .when(Command::ReportActual {
            indicator: BUDGET,
            report: report(2, dec!(612.4), ResultStatus::Final),
            supersedes: None,
            reason: Some(text("Số liệu của Chi cục Thống kê, chưa có văn bản")),
        })
        .then_succeeds();
}

#[test]
fn a_final_figure_is_corrected_not_superseded() {
    with(vec![reported(1, dec!(600), ResultStatus::Final)])
        .when(Command::ReportActual {
            indicator: BUDGET,
            report: report(2, dec!(612.4), ResultStatus::Final),
            supersedes: Some(ReportId(Uuid::from_u128(1))),
            reason: None,
        })
        .then_expect_error(DomainError::SupersedesFinal(ReportId(Uuid::from_u128(1))));
}

#[test]
fn a_report_id_is_used_once() {
    with(vec![reported(1, dec!(600), ResultStatus::Final)])
        .when(Command::ReportActual {
            indicator: BUDGET,
            report: report(1, dec!(601), ResultStatus::Final),
            supersedes: None,
            reason: None,
        })
        .then_expect_error(DomainError::ReportAlreadyExists(ReportId(Uuid::from_u128(
            1,
        ))));
}

#[test]
fn a_value_must_fit_the_measure() {
    let mut r = report(3, dec!(0), ResultStatus::Final);
    r.value = ResultValue::Milestone { done: true };
    with(vec![])
        .when(Command::ReportActual {
            indicator: BUDGET,
            report: r,
            supersedes: None,
            reason: None,
        })
        .then_expect_error_matching(|e| matches!(e, DomainError::InvalidResult(_)));
}

#[test]
fn a_correction_without_a_reason_is_rejected() {
    with(vec![reported(1, dec!(600), ResultStatus::Final)])
        .when(Command::CorrectActual {
            indicator: BUDGET,
            corrects: ReportId(Uuid::from_u128(1)),
            report: report(2, dec!(606), ResultStatus::Final),
            reason: None,
        })
        .then_expect_error(DomainError::ReasonRequired);
}

#[test]
fn a_correction_replaces_the_wrong_figure_once() {
    let reason = text("Sai số liệu do nhập nhầm");
    let correction = Command::CorrectActual {
        indicator: BUDGET,
        corrects: ReportId(Uuid::from_u128(1)),
        report: report(2, dec!(606), ResultStatus::Final),
        reason: Some(reason.clone()),
    };
    let corrected = Event::ActualCorrected(ActualCorrected {
        indicator: BUDGET,
        corrects: ReportId(Uuid::from_u128(1)),
        report: report(2, dec!(606), ResultStatus::Final),
        reason,
    });
    with(vec![reported(1, dec!(600), ResultStatus::Final)])
        .when(correction.clone())
        .then_expect_events(vec![corrected.clone()]);
    let again = Command::CorrectActual {
        indicator: BUDGET,
        corrects: ReportId(Uuid::from_u128(1)),
        report: report(3, dec!(607), ResultStatus::Final),
        reason: Some(text("x")),
    };
    with(vec![reported(1, dec!(600), ResultStatus::Final), corrected])
        .when(again)
        .then_expect_error(DomainError::ReportAlreadyReplaced {
            report: ReportId(Uuid::from_u128(1)),
            by: ReportId(Uuid::from_u128(2)),
        });
}

#[test]
fn a_correction_that_changes_nothing_is_rejected() {
    with(vec![reported(1, dec!(600), ResultStatus::Final)])
        .when(Command::CorrectActual {
            indicator: BUDGET,
            corrects: ReportId(Uuid::from_u128(1)),
            report: report(2, dec!(600), ResultStatus::Final),
            reason: Some(text("x")),
        })
        .then_expect_error(DomainError::NoChange);
}

// --- direction -----------------------------------------------------------

#[test]
fn a_direction_is_set_with_a_reason_and_only_when_it_changes() {
    use chitieu_domain::direction::Better;
    let set = |better, reason: Option<&str>| Command::SetDirection {
        indicator: BUDGET,
        better,
        reason: reason.map(text),
        document: None,
    };
    with(vec![])
        .when(set(Better::Lower, None))
        .then_expect_error(DomainError::ReasonRequired);
    let events = with(vec![])
        .when(set(
            Better::Lower,
            Some("Nghị quyết: giảm chi thường xuyên"),
        ))
        .then_succeeds();
    assert_eq!(
        events,
        vec![Event::IndicatorDirectionSet(IndicatorDirectionSet {
            indicator: BUDGET,
            better: Better::Lower,
            reason: text("Nghị quyết: giảm chi thường xuyên"),
            document: None,
        })]
    );
    with(events.clone())
        .when(set(Better::Lower, Some("lần nữa")))
        .then_expect_error(DomainError::DirectionUnchanged(Better::Lower));
    with(events)
        .when(set(Better::Higher, Some("Trở lại như cũ")))
        .then_succeeds();
    with(vec![])
        .when(Command::SetDirection {
            indicator: IndicatorId(Uuid::from_u128(0xdead)),
            better: Better::Lower,
            reason: Some(text("x")),
            document: None,
        })
        .then_expect_error(DomainError::UnknownIndicator(IndicatorId(Uuid::from_u128(
            0xdead,
        ))));
}

// --- links between periods -----------------------------------------------

#[test]
fn an_indicator_is_linked_to_its_previous_period_and_a_new_link_needs_a_reason() {
    let last_year = IndicatorId(Uuid::from_u128(0xb0d6_2024));
    let next_year = IndicatorId(Uuid::from_u128(0xb0d6_2026));
    let defined = |id, year| {
        Event::IndicatorDefined(IndicatorDefined {
            definition: IndicatorDefinition {
                id,
                period: Period::Year(year),
                ..budget_revenue()
            },
        })
    };
    let link = |previous, reason: Option<&str>| Command::LinkPreviousPeriod {
        indicator: BUDGET,
        previous,
        reason: reason.map(text),
    };
    let linked = with(vec![defined(last_year, 2024), defined(next_year, 2026)])
        .when(link(last_year, None))
        .then_succeeds();
    // Not a later period, not the same link twice, a new link with a reason.
    with(vec![defined(next_year, 2026)])
        .when(link(next_year, None))
        .then_expect_error(DomainError::PreviousPeriodMismatch {
            previous: next_year,
            previous_period: Period::Year(2026),
            period: Period::Year(2025),
        });
    let mut events = vec![defined(last_year, 2024), defined(next_year, 2026)];
    events.extend(linked);
    with(events.clone())
        .when(link(last_year, None))
        .then_expect_error(DomainError::NoChange);
    let other = IndicatorId(Uuid::from_u128(0xb0d6_2023));
    events.push(defined(other, 2023));
    with(events.clone())
        .when(link(other, None))
        .then_expect_error(DomainError::ReasonRequired);
    with(events)
        .when(link(other, Some("Chỉ tiêu năm 2024 đo theo phạm vi khác")))
        .then_succeeds();
}

// --- retirement ----------------------------------------------------------

#[test]
fn a_retired_indicator_takes_no_more_figures() {
    let retired = Event::IndicatorRetired(IndicatorRetired {
        indicator: BUDGET,
        reason: text("Sáp nhập huyện"),
        document: None,
    });
    with(vec![retired.clone()])
        .when(Command::ReportActual {
            indicator: BUDGET,
            report: report(1, dec!(1), ResultStatus::Final),
            supersedes: None,
            reason: None,
        })
        .then_expect_error(DomainError::IndicatorRetired(BUDGET));
    with(vec![retired])
        .when(Command::RetireIndicator {
            indicator: BUDGET,
            reason: Some(text("x")),
            document: None,
        })
        .then_expect_error(DomainError::IndicatorRetired(BUDGET));
    with(vec![])
        .when(Command::RetireIndicator {
            indicator: BUDGET,
            reason: None,
            document: None,
        })
        .then_expect_error(DomainError::ReasonRequired);
}

#[test]
fn evolve_counts_revisions_and_stream_versions() {
    let scenario = with(vec![
        target_set(dec!(581), TargetTrack::Assigned, PROVINCE_RESOLUTION),
        Event::TargetRevised(TargetRevised {
            indicator: BUDGET,
            track: TargetTrack::Assigned,
            target: plain(dec!(590), PROGRAMME),
            reason: text("x"),
        }),
        reported(1, dec!(600), ResultStatus::Estimate),
    ]);
    let indicator = &scenario.state.indicators[&BUDGET];
    assert_eq!(
        indicator.figures().unwrap().targets[&TargetTrack::Assigned].revisions,
        1
    );
    assert_eq!(indicator.version, 4);
    assert_eq!(
        scenario.state.stream_version(&StreamId::indicator(BUDGET)),
        4
    );
    assert_eq!(
        scenario
            .state
            .stream_version(&StreamId::org_unit(&code("LA"))),
        1
    );
    assert_eq!(
        scenario
            .state
            .stream_version(&StreamId::document(PROGRAMME)),
        1
    );
    let live: Vec<ReportId> = indicator
        .figures()
        .unwrap()
        .reports
        .iter()
        .filter(|(_, r)| r.replaced_by.is_none() && r.status == ResultStatus::Estimate)
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(live, vec![ReportId(Uuid::from_u128(1))]);
}

/// What an indicator's figures hold in memory grows with every report and
/// its note: a holder that bounds bytes bounds them, where a count of
/// indicators would not (one indicator may hold thousands of reports).
#[test]
fn held_figures_cost_grows_with_each_report_and_its_note() {
    use chitieu_domain::state::{Figures, ReportState};
    let mut figures = Figures::default();
    assert_eq!(figures.held_bytes(), std::mem::size_of::<Figures>());
    let note = "khoảng, theo báo cáo nhanh";
    let mut before = figures.held_bytes();
    for n in 1..=40u128 {
        let mut report = report(n, dec!(1), ResultStatus::Estimate);
        report.note = Some(text(note));
        let event = Event::ActualReported(ActualReported {
            indicator: BUDGET,
            report,
            supersedes: None,
            reason: None,
        });
        figures.apply(&event, n as u64);
        let now = figures.held_bytes();
        assert!(now >= before + note.len(), "{now} after {before}");
        before = now;
    }
    let entry = std::mem::size_of::<(ReportId, ReportState)>();
    assert!(figures.held_bytes() >= 40 * (entry + note.len()));
}

/// A held report keeps what a decision reads inline and the rest apart,
/// and gives the report back whole, byte for byte as it serialises (an
/// approval's digest is taken over the reports so given back).
#[test]
fn a_held_report_gives_back_the_report_as_reported_at_half_the_size() {
    use chitieu_domain::actual::StatedFigures;
    use chitieu_domain::state::{Figures, ReportState};
    let bare = report(1, dec!(1015.50), ResultStatus::Estimate);
    let full = ActualReport {
        value: ResultValue::Ratio {
            numerator: dec!(95899),
            denominator: dec!(108808),
        },
        source: Some(PROGRAMME),
        note: Some(text("khoảng")),
        stated: StatedFigures::of(Some(dec!(102.74)), None),
        ..report(2, dec!(1), ResultStatus::Final)
    };
    let noted = ActualReport {
        note: Some(text("trên")),
        ..report(3, dec!(7), ResultStatus::Estimate)
    };
    let mut figures = Figures::default();
    for (n, report) in [&bare, &full, &noted].into_iter().enumerate() {
        let event = Event::ActualReported(ActualReported {
            indicator: BUDGET,
            report: report.clone(),
            supersedes: None,
            reason: None,
        });
        figures.apply(&event, n as u64 + 10);
    }
    for (n, report) in [&bare, &full, &noted].into_iter().enumerate() {
        let held = &figures.reports.get(&report.report_id).unwrap();
        assert_eq!(held.position, n as u64 + 10);
        assert_eq!(&held.report(report.report_id), report);
        assert_eq!(
            serde_json::to_string(&held.report(report.report_id)).unwrap(),
            serde_json::to_string(report).unwrap()
        );
    }
    // Nothing apart where a report gives none of it.
    assert!(figures.reports.get(&bare.report_id).unwrap().rest.is_none());
    assert!(figures
        .reports
        .get(&noted.report_id)
        .unwrap()
        .rest
        .is_some());
    // Against the report held whole beside its replacement and position.
    let whole = std::mem::size_of::<(ReportId, (ActualReport, Option<ReportId>, u64))>();
    let held = std::mem::size_of::<(ReportId, ReportState)>();
    assert!(
        held * 2 <= whole,
        "{held} bytes a held report, {whole} whole"
    );
}
