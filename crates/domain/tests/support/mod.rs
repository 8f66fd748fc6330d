//! Given / when / then over `decide` and `evolve`, and fixtures from the seeds.
#![allow(dead_code)]

use chitieu_domain::*;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

/// A state built from past events.
pub struct Scenario {
    pub state: DomainState,
}

/// Starts a scenario from the events that already happened.
pub fn given(events: impl IntoIterator<Item = Event>) -> Scenario {
    let mut state = DomainState::default();
    for event in events {
        evolve(&mut state, &event);
    }
    Scenario { state }
}

/// What a command caused.
pub struct Outcome {
    result: Result<Vec<Event>, DomainError>,
}

impl Scenario {
    pub fn when(self, command: Command) -> Outcome {
        Outcome {
            result: decide(&self.state, &command),
        }
    }
}

impl Outcome {
    #[track_caller]
    pub fn then_expect_events(self, expected: Vec<Event>) {
        assert_eq!(self.result, Ok(expected));
    }
    #[track_caller]
    pub fn then_succeeds(self) -> Vec<Event> {
        match self.result {
            Ok(events) => events,
            Err(e) => panic!("refused: {e}"),
        }
    }
    #[track_caller]
    pub fn then_expect_error(self, expected: DomainError) {
        assert_eq!(self.result, Err(expected));
    }
    #[track_caller]
    pub fn then_expect_error_matching(self, check: impl Fn(&DomainError) -> bool) {
        match self.result {
            Err(e) if check(&e) => {}
            other => panic!("unexpected outcome: {other:?}"),
        }
    }
}

pub fn text(s: &str) -> Text {
    Text::parse(s).expect("valid text")
}

pub fn code(s: &str) -> OrgUnitCode {
    OrgUnitCode::parse(s).expect("valid code")
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

pub fn province() -> OrgUnit {
    OrgUnit {
        code: code("LA"),
        name: text("Tỉnh Long An"),
        level: OrgUnitLevel::Province,
        parent: None,
        established: None,
    }
}

pub fn district() -> OrgUnit {
    OrgUnit {
        code: code("LA.CAN-DUOC"),
        name: text("Huyện Cần Đước"),
        level: OrgUnitLevel::District,
        parent: Some(code("LA")),
        established: None,
    }
}

pub fn town() -> OrgUnit {
    OrgUnit {
        code: code("LA.CAN-DUOC.TT"),
        name: text("Thị trấn Cần Đước"),
        level: OrgUnitLevel::Town,
        parent: Some(code("LA.CAN-DUOC")),
        established: None,
    }
}

pub const PROGRAMME: DocumentId = DocumentId(Uuid::from_u128(0x38));
pub const PROVINCE_RESOLUTION: DocumentId = DocumentId(Uuid::from_u128(0x101));
pub const BUDGET: IndicatorId = IndicatorId(Uuid::from_u128(0xb0d6e7));

pub fn programme() -> Document {
    Document {
        id: PROGRAMME,
        number: Some(DocumentNumber::parse("38-CTr/HU").expect("number")),
        kind: DocumentKind::ActionProgramme,
        issuing_body: text("Ban Thường vụ Huyện ủy Cần Đước"),
        org_unit: Some(code("LA.CAN-DUOC")),
        issued_on: Some(day(2025, 2, 4)),
        title: text("Chương trình hành động thực hiện Nghị quyết của Ban Chấp hành Đảng bộ tỉnh về phương hướng, nhiệm vụ năm 2025"),
    }
}

pub fn province_resolution() -> Document {
    Document {
        id: PROVINCE_RESOLUTION,
        number: Some(DocumentNumber::parse("101-NQ/TU").expect("number")),
        kind: DocumentKind::Resolution,
        issuing_body: text("Ban Chấp hành Đảng bộ tỉnh Long An"),
        org_unit: Some(code("LA")),
        issued_on: Some(day(2024, 12, 6)),
        title: text("Nghị quyết về phương hướng, nhiệm vụ năm 2025"),
    }
}

pub fn budget_revenue() -> IndicatorDefinition {
    IndicatorDefinition {
        id: BUDGET,
        org_unit: code("LA.CAN-DUOC"),
        period: Period::Year(2025),
        category: Category::Economy,
        code: Some(text("4")),
        name: text("Thu ngân sách"),
        unit: Some(text("tỷ đồng")),
        measure: Measure::Amount,
        parent: None,
        previous: None,
        document: Some(PROGRAMME),
    }
}

pub fn plain(value: Decimal, document: DocumentId) -> Target {
    Target {
        kind: TargetKind::Plain { value, base: None },
        document,
        wording: None,
    }
}

/// Org units, both documents and the budget-revenue indicator of 004.
pub fn registered() -> Vec<Event> {
    vec![
        Event::OrgUnitRegistered(event::OrgUnitRegistered { unit: province() }),
        Event::OrgUnitRegistered(event::OrgUnitRegistered { unit: district() }),
        Event::OrgUnitRegistered(event::OrgUnitRegistered { unit: town() }),
        Event::DocumentRegistered(event::DocumentRegistered {
            document: province_resolution(),
        }),
        Event::DocumentRegistered(event::DocumentRegistered {
            document: programme(),
        }),
        Event::IndicatorDefined(event::IndicatorDefined {
            definition: budget_revenue(),
        }),
    ]
}

pub fn report(id: u128, value: Decimal, status: ResultStatus) -> ActualReport {
    ActualReport {
        report_id: ReportId(Uuid::from_u128(id)),
        value: ResultValue::Amount { value },
        refers_to: day(2025, 12, 31),
        status,
        source: None,
        note: None,
        stated: None,
    }
}
