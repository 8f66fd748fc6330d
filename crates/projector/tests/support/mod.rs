//! Test support: a tiny write side (decide, then append) and fixtures from
//! the seed documents.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use chitieu_domain::*;
use chitieu_store::*;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

/// Decides commands against a state it keeps, and appends their events.
pub struct Writer {
    pub store: SledLog,
    pub state: DomainState,
}

pub fn actor(id: &str, role: &str) -> Actor {
    Actor {
        id: id.into(),
        name: format!("Người dùng {id}"),
        role: role.into(),
    }
}

impl Writer {
    pub fn new(store: SledLog) -> Self {
        let mut state = DomainState::default();
        for recorded in store.read_all(1, usize::MAX).unwrap() {
            evolve(&mut state, &recorded.decode().unwrap());
        }
        Writer { store, state }
    }

    /// Runs a command as `who`; panics if it is refused.
    pub fn run(&mut self, who: &Actor, command: Command) -> AppendOutcome {
        let events =
            decide(&self.state, &command).unwrap_or_else(|e| panic!("{command:?} refused: {e}"));
        let stream = command.stream_id();
        let outcome = self
            .store
            .append_blocking(AppendRequest {
                stream: (&stream).into(),
                expected: ExpectedVersion::Exact(self.state.stream_version(&stream)),
                conditions: Vec::new(),
                events: events.iter().map(EventCodec::encode).collect(),
                idempotency_key: None,
                fingerprint: None,
                meta: AppendMeta {
                    actor: who.clone(),
                    correlation_id: Uuid::now_v7(),
                    causation_id: None,
                },
            })
            .unwrap();
        for e in &events {
            evolve(&mut self.state, e);
        }
        outcome
    }
}

pub fn text(s: &str) -> Text {
    Text::parse(s).unwrap()
}

pub fn code(s: &str) -> OrgUnitCode {
    OrgUnitCode::parse(s).unwrap()
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub const PLAN_38: DocumentId = DocumentId(Uuid::from_u128(0x38));
pub const PROVINCE_101: DocumentId = DocumentId(Uuid::from_u128(0x101));
pub const REPORT_2025: DocumentId = DocumentId(Uuid::from_u128(0x2025));

pub fn unit(c: &str, name: &str, level: OrgUnitLevel, parent: Option<&str>) -> Command {
    Command::RegisterOrgUnit(OrgUnit {
        code: code(c),
        name: text(name),
        level,
        parent: parent.map(code),
        established: None,
    })
}

pub fn document(
    doc: DocumentId,
    number: Option<&str>,
    kind: DocumentKind,
    org: &str,
    title: &str,
) -> Command {
    Command::RegisterDocument(Document {
        id: doc,
        number: number.map(|n| DocumentNumber::parse(n).unwrap()),
        kind,
        issuing_body: text("Ban Thường vụ Huyện ủy"),
        org_unit: Some(code(org)),
        issued_on: Some(day(2025, 2, 4)),
        title: text(title),
    })
}

pub fn indicator(
    n: u128,
    org: &str,
    period: Period,
    category: Category,
    name: &str,
    unit: &str,
    measure: Measure,
) -> Command {
    Command::DefineIndicator(IndicatorDefinition {
        id: IndicatorId(id(n)),
        org_unit: code(org),
        period,
        category,
        code: Some(text(&n.to_string())),
        name: text(name),
        unit: Some(text(unit)),
        measure,
        parent: None,
        previous: None,
        document: Some(PLAN_38),
    })
}

pub fn set(n: u128, track: TargetTrack, kind: TargetKind, doc: DocumentId) -> Command {
    Command::SetTarget {
        indicator: IndicatorId(id(n)),
        track,
        target: Target {
            kind,
            document: doc,
            wording: None,
        },
    }
}

pub fn plain(value: Decimal) -> TargetKind {
    TargetKind::Plain { value, base: None }
}

pub fn report(
    n: u128,
    report: u128,
    value: Decimal,
    status: ResultStatus,
    refers_to: NaiveDate,
    supersedes: Option<u128>,
) -> Command {
    Command::ReportActual {
        indicator: IndicatorId(id(n)),
        report: ActualReport {
            report_id: ReportId(id(report)),
            value: ResultValue::Amount { value },
            refers_to,
            status,
            source: None,
            note: None,
            stated: None,
        },
        supersedes: supersedes.map(|s| ReportId(id(s))),
        reason: (status == ResultStatus::Final)
            .then(|| Text::parse("Số liệu của Chi cục Thống kê").ok())
            .flatten(),
    }
}

/// Long An > Cần Đước > Thị trấn Cần Đước, its documents, and three of
/// 004's indicators with targets and results, written by three people.
pub fn seed_can_duoc(w: &mut Writer) {
    let admin = actor("admin", "admin");
    let planner = actor("planner-cd", "planner");
    let reporter = actor("reporter-cd", "reporter");
    w.run(
        &admin,
        unit("LA", "Tỉnh Long An", OrgUnitLevel::Province, None),
    );
    w.run(
        &admin,
        unit(
            "LA.CAN-DUOC",
            "Huyện Cần Đước",
            OrgUnitLevel::District,
            Some("LA"),
        ),
    );
    w.run(
        &admin,
        unit(
            "LA.CAN-DUOC.TT",
            "Thị trấn Cần Đước",
            OrgUnitLevel::Town,
            Some("LA.CAN-DUOC"),
        ),
    );
    w.run(
        &planner,
        document(
            PROVINCE_101,
            Some("101-NQ/TU"),
            DocumentKind::Resolution,
            "LA",
            "Nghị quyết về phương hướng, nhiệm vụ năm 2025",
        ),
    );
    w.run(
        &planner,
        document(
            PLAN_38,
            Some("38-CTr/HU"),
            DocumentKind::ActionProgramme,
            "LA.CAN-DUOC",
            "Chương trình hành động năm 2025",
        ),
    );
    w.run(
        &planner,
        document(
            REPORT_2025,
            None,
            DocumentKind::Report,
            "LA.CAN-DUOC",
            "Báo cáo kết quả năm 2025",
        ),
    );
    use rust_decimal_macros::dec;
    // Budget revenue: assigned 581, stretch 600 (004).
    w.run(
        &planner,
        indicator(
            4,
            "LA.CAN-DUOC",
            Period::Year(2025),
            Category::Economy,
            "Thu ngân sách",
            "tỷ đồng",
            Measure::Amount,
        ),
    );
    w.run(
        &planner,
        set(4, TargetTrack::Assigned, plain(dec!(581)), PROVINCE_101),
    );
    w.run(
        &planner,
        set(4, TargetTrack::Stretch, plain(dec!(600)), PLAN_38),
    );
    // Rice output 85.000 tấn.
    w.run(
        &planner,
        indicator(
            5,
            "LA.CAN-DUOC",
            Period::Year(2025),
            Category::Economy,
            "Sản lượng lúa",
            "tấn",
            Measure::Amount,
        ),
    );
    w.run(
        &planner,
        set(5, TargetTrack::Resolution, plain(dec!(85000)), PLAN_38),
    );
    // Late files ≤ 1% in the town.
    w.run(
        &planner,
        indicator(
            6,
            "LA.CAN-DUOC.TT",
            Period::Year(2025),
            Category::Economy,
            "Tỷ lệ giải quyết hồ sơ trễ hạn",
            "%",
            Measure::Percentage,
        ),
    );
    w.run(
        &planner,
        set(
            6,
            TargetTrack::Resolution,
            TargetKind::AtMost {
                value: dec!(1),
                strict: false,
            },
            PLAN_38,
        ),
    );
    // Results: an estimate, then the final figure; rice below target.
    w.run(
        &reporter,
        report(
            4,
            40,
            dec!(590),
            ResultStatus::Estimate,
            day(2025, 12, 31),
            None,
        ),
    );
    w.run(
        &reporter,
        report(
            4,
            41,
            dec!(612.4),
            ResultStatus::Final,
            day(2025, 12, 31),
            Some(40),
        ),
    );
    w.run(
        &reporter,
        report(
            5,
            50,
            dec!(83500),
            ResultStatus::Final,
            day(2025, 12, 31),
            None,
        ),
    );
    w.run(
        &reporter,
        report(
            6,
            60,
            dec!(0.8),
            ResultStatus::Final,
            day(2025, 12, 31),
            None,
        ),
    );
}

/// The small fixture of the read-model tests: Cần Đước's 2025 programme
/// (`seed_can_duoc`) in a fresh log, its read models caught up.
pub fn can_duoc_fixture() -> (
    tempfile::TempDir,
    Writer,
    std::sync::Arc<chitieu_projector::Projector>,
    chitieu_projector::ReadModel,
) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledLog::open(dir.path().join("db")).unwrap();
    let mut writer = Writer::new(store.clone());
    seed_can_duoc(&mut writer);
    let log: Log = std::sync::Arc::new(store);
    let projector =
        chitieu_projector::Projector::open(&log, &dir.path().join("read-models")).unwrap();
    projector.catch_up().unwrap();
    let read = chitieu_projector::ReadModel::new(projector.clone());
    (dir, writer, projector, read)
}
