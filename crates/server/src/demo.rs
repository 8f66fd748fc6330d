//! The demo data set, built by code from the four seed documents (a subset:
//! the import issue brings every row of `shared/data`). Figures are the
//! documents' own; where the demo needs a history the documents do not
//! tell (an estimate before the final figure, a revision), the note or the
//! document title says "minh họa" (illustration).

use chitieu_domain::*;
use chitieu_service::{Caller, CommandService, ServiceError, WriteOptions};
use chitieu_store::Actor;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;
use uuid::Uuid;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_default()
}

fn t(s: &str) -> Text {
    Text::parse(s).unwrap_or_else(|_| Text::parse("?").unwrap_or_else(|_| unreachable!()))
}

fn code(s: &str) -> OrgUnitCode {
    OrgUnitCode::parse(s).unwrap_or_else(|_| unreachable!("demo codes are valid"))
}

fn day(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).unwrap_or_default()
}

/// Stable ids, so the demo's URLs stay the same between runs.
fn id(namespace: &str, name: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("chitieu-demo/{namespace}/{name}").as_bytes(),
    )
}

struct Loader<'a> {
    service: &'a CommandService,
    people: &'a [Actor],
}

impl Loader<'_> {
    async fn run(&self, who: usize, command: Command) -> Result<(), ServiceError> {
        self.service
            .execute(
                &Caller::System(self.people[who].clone()),
                command,
                WriteOptions::default(),
            )
            .await
            .map(|_| ())
    }
}

const ADMIN: usize = 0;
const PLANNER: usize = 1;
const REPORTER: usize = 2;

#[allow(clippy::too_many_arguments)] // one argument per column of the demo's table
fn indicator(
    key: &str,
    org: &str,
    period: Period,
    category: Category,
    code_: &str,
    name: &str,
    unit: &str,
    measure: Measure,
    document: Uuid,
) -> IndicatorDefinition {
    IndicatorDefinition {
        id: IndicatorId(id("indicator", key)),
        org_unit: code(org),
        period,
        category,
        code: (!code_.is_empty()).then(|| t(code_)),
        name: t(name),
        unit: (!unit.is_empty()).then(|| t(unit)),
        measure,
        parent: None,
        previous: None,
        document: Some(DocumentId(document)),
    }
}

fn target(kind: TargetKind, document: Uuid, wording: &str) -> Target {
    Target {
        kind,
        document: DocumentId(document),
        wording: Some(t(wording)),
    }
}

fn report(
    key: &str,
    value: ResultValue,
    refers_to: NaiveDate,
    status: ResultStatus,
    source: Option<Uuid>,
    note: Option<&str>,
) -> ActualReport {
    ActualReport {
        report_id: ReportId(id("report", key)),
        value,
        refers_to,
        status,
        source: source.map(DocumentId),
        note: note.map(t),
    }
}

fn amount(s: &str) -> ResultValue {
    ResultValue::Amount { value: d(s) }
}

/// Loads the demo data set through the same commands as the API.
/// `people` are the actors the demo's history is attributed to: an admin,
/// a planner and a reporter, in that order.
pub async fn load(service: &CommandService, people: &[Actor]) -> Result<(), ServiceError> {
    let l = Loader { service, people };
    let unit = |c: &str, name: &str, level, parent: Option<&str>| {
        Command::RegisterOrgUnit(OrgUnit {
            code: code(c),
            name: t(name),
            level,
            parent: parent.map(code),
        })
    };
    use OrgUnitLevel::*;
    for command in [
        unit("AG", "Tỉnh An Giang", Province, None),
        unit("AG.CHO-MOI", "Huyện Chợ Mới", District, Some("AG")),
        unit("HG", "Tỉnh Hậu Giang", Province, None),
        unit("HG.PHUNG-HIEP", "Huyện Phụng Hiệp", District, Some("HG")),
        unit("TV", "Tỉnh Trà Vinh", Province, None),
        unit("TV.TIEU-CAN", "Huyện Tiểu Cần", District, Some("TV")),
        unit("LA", "Tỉnh Long An", Province, None),
        unit("LA.CAN-DUOC", "Huyện Cần Đước", District, Some("LA")),
        unit(
            "LA.CAN-DUOC.TT-CAN-DUOC",
            "Thị trấn Cần Đước",
            Town,
            Some("LA.CAN-DUOC"),
        ),
    ] {
        l.run(ADMIN, command).await?;
    }

    let doc = |key: &str,
               number: Option<&str>,
               kind,
               body: &str,
               org: &str,
               issued: Option<NaiveDate>,
               title: &str| {
        Command::RegisterDocument(Document {
            id: DocumentId(id("document", key)),
            number: number.and_then(|n| DocumentNumber::parse(n).ok()),
            kind,
            issuing_body: t(body),
            org_unit: Some(code(org)),
            issued_on: issued,
            title: t(title),
        })
    };
    let nq101 = id("document", "101-NQ/TU");
    let ctr38 = id("document", "38-CTr/HU");
    let r000 = id("document", "000-report");
    let p001 = id("document", "001-programme");
    let r002 = id("document", "002-report");
    let r002_mid = id("document", "002-mid-year");
    for command in [
        doc("101-NQ/TU", Some("101-NQ/TU"), DocumentKind::Resolution, "Ban Chấp hành Đảng bộ tỉnh Long An", "LA", Some(day(2024, 12, 6)), "Nghị quyết về phương hướng, nhiệm vụ năm 2025"),
        doc("38-CTr/HU", Some("38-CTr/HU"), DocumentKind::ActionProgramme, "Ban Thường vụ Huyện ủy Cần Đước", "LA.CAN-DUOC", Some(day(2025, 2, 4)), "Chương trình hành động thực hiện Nghị quyết của Ban Chấp hành Đảng bộ tỉnh về phương hướng, nhiệm vụ năm 2025"),
        doc("000-report", None, DocumentKind::Report, "Ban Chấp hành Đảng bộ huyện Chợ Mới khóa XI", "AG.CHO-MOI", None, "Báo cáo trình Đại hội Đại biểu lần thứ XII, nhiệm kỳ 2020-2025"),
        doc("001-programme", None, DocumentKind::ActionProgramme, "Huyện ủy Phụng Hiệp", "HG.PHUNG-HIEP", None, "Chương trình công tác năm 2024 của Đảng bộ huyện"),
        doc("002-report", None, DocumentKind::Report, "Huyện ủy Tiểu Cần", "TV.TIEU-CAN", None, "Kết quả thực hiện nhiệm vụ năm 2022; chỉ tiêu, nhiệm vụ, giải pháp chủ yếu năm 2023"),
        doc("002-mid-year", None, DocumentKind::Resolution, "Huyện ủy Tiểu Cần", "TV.TIEU-CAN", Some(day(2022, 7, 15)), "Nghị quyết điều chỉnh chỉ tiêu giữa năm 2022 (minh họa)"),
    ] {
        l.run(PLANNER, command).await?;
    }

    // --- 004 Cần Đước, 2025 ---------------------------------------------
    let y2025 = Period::Year(2025);
    use Category::*;
    use TargetTrack::*;
    let cd = "LA.CAN-DUOC";
    let defs: Vec<(IndicatorDefinition, Vec<(TargetTrack, Target)>)> = vec![
        (
            indicator(
                "cd-go-1",
                cd,
                y2025,
                Economy,
                "1",
                "Tổng giá trị sản phẩm (GO) khu vực I",
                "tỷ đồng",
                Measure::Amount,
                ctr38,
            ),
            vec![(
                Resolution,
                target(
                    TargetKind::Growth {
                        rate: d("1.1"),
                        base: Some(d("1560.781")),
                        value: Some(d("1577.95")),
                    },
                    ctr38,
                    "1.577,95 tỷ đồng, tăng trưởng 1,1% (1.577,95/1.560,781 tỷ đồng)",
                ),
            )],
        ),
        (
            indicator(
                "cd-go-2",
                cd,
                y2025,
                Economy,
                "2",
                "Tổng giá trị sản phẩm (GO) khu vực II",
                "tỷ đồng",
                Measure::Amount,
                ctr38,
            ),
            vec![(
                Resolution,
                target(
                    TargetKind::Growth {
                        rate: d("9.3"),
                        base: Some(d("32665.544")),
                        value: Some(d("35703.44")),
                    },
                    ctr38,
                    "35.703,44 tỷ đồng, tăng trưởng 9,3%",
                ),
            )],
        ),
        (
            indicator(
                "cd-budget",
                cd,
                y2025,
                Economy,
                "4",
                "Thu ngân sách",
                "tỷ đồng",
                Measure::Amount,
                ctr38,
            ),
            vec![
                (
                    Assigned,
                    target(
                        TargetKind::Plain {
                            value: d("581"),
                            base: None,
                        },
                        nq101,
                        "Thu ngân sách 581 tỷ đồng",
                    ),
                ),
                (
                    Stretch,
                    target(
                        TargetKind::Plain {
                            value: d("600"),
                            base: None,
                        },
                        ctr38,
                        "phấn đấu đạt 600 tỷ đồng",
                    ),
                ),
            ],
        ),
        (
            indicator(
                "cd-rice",
                cd,
                y2025,
                Economy,
                "5",
                "Sản lượng lúa",
                "tấn",
                Measure::Amount,
                ctr38,
            ),
            vec![(
                Resolution,
                target(
                    TargetKind::Plain {
                        value: d("85000"),
                        base: None,
                    },
                    ctr38,
                    "85.000 tấn",
                ),
            )],
        ),
        (
            indicator(
                "cd-online",
                cd,
                y2025,
                Economy,
                "9",
                "Tỷ lệ hồ sơ tiếp nhận qua dịch vụ công trực tuyến",
                "%",
                Measure::Percentage,
                ctr38,
            ),
            vec![(
                Resolution,
                target(
                    TargetKind::AtLeast {
                        value: d("78"),
                        strict: false,
                    },
                    ctr38,
                    "≥78%",
                ),
            )],
        ),
        (
            indicator(
                "cd-late",
                cd,
                y2025,
                Economy,
                "10",
                "Tỷ lệ giải quyết hồ sơ trễ hạn",
                "%",
                Measure::Percentage,
                ctr38,
            ),
            vec![(
                Resolution,
                target(
                    TargetKind::AtMost {
                        value: d("1"),
                        strict: false,
                    },
                    ctr38,
                    "≤1%",
                ),
            )],
        ),
        (
            indicator(
                "cd-sex-ratio",
                cd,
                y2025,
                Society,
                "17",
                "Tỷ số giới tính khi sinh",
                "nam/100 nữ",
                Measure::Amount,
                ctr38,
            ),
            vec![(
                Resolution,
                target(
                    TargetKind::Range {
                        low: d("103"),
                        high: d("105"),
                    },
                    ctr38,
                    "103-105 nam/100 nữ",
                ),
            )],
        ),
        (
            indicator(
                "cd-poverty",
                cd,
                y2025,
                Society,
                "19",
                "Giảm hộ nghèo",
                "hộ",
                Measure::Amount,
                ctr38,
            ),
            vec![(
                Resolution,
                target(
                    TargetKind::ReduceBy {
                        amount: d("26"),
                        measure: Reduction::Absolute,
                        base: None,
                    },
                    ctr38,
                    "26 hộ (giảm 15% trên tổng số hộ nghèo)",
                ),
            )],
        ),
        (
            indicator(
                "cd-traffic",
                cd,
                y2025,
                DefenseSecurity,
                "",
                "Tai nạn giao thông",
                "vụ",
                Measure::Amount,
                ctr38,
            ),
            vec![(
                Resolution,
                target(
                    TargetKind::RelativeToPeriod {
                        period: Period::Year(2024),
                        direction: Direction::Lower,
                    },
                    ctr38,
                    "Giảm tai nạn giao thông so với năm 2024",
                ),
            )],
        ),
        (
            indicator(
                "cd-ntm",
                cd,
                y2025,
                Economy,
                "III.1",
                "Hoàn thành Bộ tiêu chí huyện nông thôn mới",
                "",
                Measure::Milestone,
                ctr38,
            ),
            vec![(
                Resolution,
                target(
                    TargetKind::Milestone {
                        deadline: Some(day(2025, 12, 31)),
                    },
                    ctr38,
                    "Hoàn thành Bộ tiêu chí huyện nông thôn mới vào cuối năm 2025",
                ),
            )],
        ),
        (
            indicator(
                "cd-water",
                cd,
                y2025,
                Environment,
                "22",
                "Tỷ lệ hộ dân sử dụng nước sạch",
                "%",
                Measure::Percentage,
                ctr38,
            ),
            vec![(
                Resolution,
                target(
                    TargetKind::Plain {
                        value: d("80"),
                        base: None,
                    },
                    ctr38,
                    "Toàn địa bàn huyện 80%",
                ),
            )],
        ),
    ];
    for (definition, targets) in defs {
        let indicator_id = definition.id;
        l.run(PLANNER, Command::DefineIndicator(definition)).await?;
        for (track, target) in targets {
            l.run(
                PLANNER,
                Command::SetTarget {
                    indicator: indicator_id,
                    track,
                    target,
                },
            )
            .await?;
        }
    }
    // "trong đó đô thị Thị trấn Cần Đước 100%": the town's own indicator under the district's.
    let mut town_water = indicator(
        "cd-water-town",
        "LA.CAN-DUOC.TT-CAN-DUOC",
        y2025,
        Environment,
        "22",
        "Tỷ lệ hộ dân đô thị sử dụng nước sạch",
        "%",
        Measure::Percentage,
        ctr38,
    );
    town_water.parent = Some(IndicatorId(id("indicator", "cd-water")));
    let town_water_id = town_water.id;
    l.run(PLANNER, Command::DefineIndicator(town_water)).await?;
    l.run(
        PLANNER,
        Command::SetTarget {
            indicator: town_water_id,
            track: Resolution,
            target: target(
                TargetKind::Plain {
                    value: d("100"),
                    base: None,
                },
                ctr38,
                "trong đó đô thị Thị trấn Cần Đước 100%",
            ),
        },
    )
    .await?;
    // Budget revenue: an estimate in November, replaced by the final figure (minh họa).
    let budget = IndicatorId(id("indicator", "cd-budget"));
    l.run(
        REPORTER,
        Command::ReportActual {
            indicator: budget,
            report: report(
                "cd-budget-est",
                amount("590"),
                day(2025, 12, 31),
                ResultStatus::Estimate,
                None,
                Some("Ước thực hiện cả năm (minh họa)"),
            ),
            supersedes: None,
        },
    )
    .await?;
    l.run(
        REPORTER,
        Command::ReportActual {
            indicator: budget,
            report: report(
                "cd-budget-final",
                amount("612.4"),
                day(2025, 12, 31),
                ResultStatus::Final,
                None,
                Some("Số liệu quyết toán (minh họa)"),
            ),
            supersedes: Some(ReportId(id("report", "cd-budget-est"))),
        },
    )
    .await?;

    // --- 002 Tiểu Cần, results of 2022 with the document's own percentages --
    let tc = "TV.TIEU-CAN";
    let y2022 = Period::Year(2022);
    #[allow(clippy::type_complexity)] // one tuple per row of the demo's table
    let results: Vec<(
        &str,
        &str,
        Category,
        &str,
        Measure,
        TargetKind,
        &str,
        ResultValue,
        &str,
    )> = vec![
        (
            "tc-investment",
            "Tổng vốn đầu tư toàn xã hội",
            Economy,
            "tỷ đồng",
            Measure::Amount,
            TargetKind::Plain {
                value: d("1900"),
                base: None,
            },
            "kế hoạch ban đầu (minh họa)",
            amount("2413"),
            "2.413/2.000 tỷ đồng, đạt 120,65% so nghị quyết",
        ),
        (
            "tc-cash-crops",
            "Cây màu - tổng diện tích xuống giống",
            Economy,
            "ha",
            Measure::Amount,
            TargetKind::Plain {
                value: d("3081.5"),
                base: None,
            },
            "3.081,5 ha",
            amount("3171.98"),
            "3.171,98/3.081,5 ha, đạt 102,94%",
        ),
        (
            "tc-enterprises",
            "Phát triển mới doanh nghiệp",
            Economy,
            "doanh nghiệp",
            Measure::Amount,
            TargetKind::Plain {
                value: d("40"),
                base: None,
            },
            "40 doanh nghiệp",
            amount("41"),
            "41/40 doanh nghiệp, đạt 102,5%",
        ),
        (
            "tc-electricity",
            "Tỷ lệ hộ sử dụng điện",
            Society,
            "%",
            Measure::Ratio,
            TargetKind::AtLeast {
                value: d("99.82"),
                strict: false,
            },
            "99,82%",
            ResultValue::Ratio {
                numerator: d("29611"),
                denominator: d("29643"),
            },
            "29.611/29.643 hộ, đạt 99,89%",
        ),
        (
            "tc-health-insurance",
            "Tỷ lệ dân số tham gia bảo hiểm y tế",
            Society,
            "%",
            Measure::Ratio,
            TargetKind::AtLeast {
                value: d("88"),
                strict: false,
            },
            "88% (minh họa)",
            ResultValue::Ratio {
                numerator: d("95899"),
                denominator: d("108808"),
            },
            "95.899/108.808 người, đạt 88,14%",
        ),
    ];
    for (key, name, category, unit_, measure, kind, wording, value, note) in results {
        let definition = indicator(key, tc, y2022, category, "", name, unit_, measure, r002);
        let indicator_id = definition.id;
        l.run(PLANNER, Command::DefineIndicator(definition)).await?;
        l.run(
            PLANNER,
            Command::SetTarget {
                indicator: indicator_id,
                track: Resolution,
                target: target(kind, r002, wording),
            },
        )
        .await?;
        l.run(
            REPORTER,
            Command::ReportActual {
                indicator: indicator_id,
                report: report(
                    key,
                    value,
                    day(2022, 12, 31),
                    ResultStatus::Final,
                    Some(r002),
                    Some(note),
                ),
                supersedes: None,
            },
        )
        .await?;
    }
    // The investment target, revised mid-year to the 2.000 tỷ the report cites (minh họa).
    l.run(
        PLANNER,
        Command::ReviseTarget {
            indicator: IndicatorId(id("indicator", "tc-investment")),
            track: Resolution,
            target: target(
                TargetKind::Plain {
                    value: d("2000"),
                    base: None,
                },
                r002_mid,
                "2.000 tỷ đồng",
            ),
            reason: Some(t(
                "Điều chỉnh kế hoạch vốn giữa năm theo nghị quyết của Huyện ủy (minh họa)",
            )),
        },
    )
    .await?;
    // Public investment disbursement: an estimate, then the final figure.
    let disbursement = indicator(
        "tc-disbursement",
        tc,
        y2022,
        Economy,
        "",
        "Giải ngân vốn đầu tư công",
        "tỷ đồng",
        Measure::Amount,
        r002,
    );
    let disbursement_id = disbursement.id;
    l.run(PLANNER, Command::DefineIndicator(disbursement))
        .await?;
    l.run(
        PLANNER,
        Command::SetTarget {
            indicator: disbursement_id,
            track: Resolution,
            target: target(
                TargetKind::Plain {
                    value: d("399.505"),
                    base: None,
                },
                r002,
                "vốn được giao là 399,505 tỷ đồng",
            ),
        },
    )
    .await?;
    l.run(
        REPORTER,
        Command::ReportActual {
            indicator: disbursement_id,
            report: report(
                "tc-disbursement-est",
                amount("360"),
                day(2022, 12, 31),
                ResultStatus::Estimate,
                None,
                Some("Ước giải ngân đến cuối năm (minh họa)"),
            ),
            supersedes: None,
        },
    )
    .await?;
    l.run(
        REPORTER,
        Command::ReportActual {
            indicator: disbursement_id,
            report: report(
                "tc-disbursement",
                amount("366.974"),
                day(2022, 12, 31),
                ResultStatus::Final,
                Some(r002),
                Some("366,974/399,505 tỷ đồng, đạt 91,86%"),
            ),
            supersedes: Some(ReportId(id("report", "tc-disbursement-est"))),
        },
    )
    .await?;

    // --- 000 Chợ Mới, term 2015-2020: two tracks, met one and not the other --
    let cm = "AG.CHO-MOI";
    let bhyt = indicator(
        "cm-health-insurance",
        cm,
        Period::Term(2015, 2020),
        Society,
        "",
        "Tỷ lệ bảo hiểm y tế toàn dân",
        "%",
        Measure::Percentage,
        r000,
    );
    let bhyt_id = bhyt.id;
    l.run(PLANNER, Command::DefineIndicator(bhyt)).await?;
    l.run(
        PLANNER,
        Command::SetTarget {
            indicator: bhyt_id,
            track: Resolution,
            target: target(
                TargetKind::AtLeast {
                    value: d("80"),
                    strict: false,
                },
                r000,
                "nghị quyết 80%",
            ),
        },
    )
    .await?;
    l.run(
        PLANNER,
        Command::SetTarget {
            indicator: bhyt_id,
            track: Assigned,
            target: target(
                TargetKind::AtLeast {
                    value: d("88.91"),
                    strict: false,
                },
                r000,
                "chỉ tiêu tỉnh giao 88,91%",
            ),
        },
    )
    .await?;
    l.run(
        REPORTER,
        Command::ReportActual {
            indicator: bhyt_id,
            report: report(
                "cm-health-insurance",
                amount("84.51"),
                day(2020, 6, 30),
                ResultStatus::Final,
                Some(r000),
                Some("đạt 84,51%"),
            ),
            supersedes: None,
        },
    )
    .await?;
    let trained = indicator(
        "cm-trained-workers",
        cm,
        Period::Term(2020, 2025),
        Society,
        "(7)",
        "Tỉ lệ lao động qua đào tạo",
        "%",
        Measure::Percentage,
        r000,
    );
    let trained_id = trained.id;
    l.run(PLANNER, Command::DefineIndicator(trained)).await?;
    l.run(
        PLANNER,
        Command::SetTarget {
            indicator: trained_id,
            track: Resolution,
            target: target(
                TargetKind::AtLeast {
                    value: d("65"),
                    strict: false,
                },
                r000,
                "Tỉ lệ lao động qua đào tạo từ 65% trở lên.",
            ),
        },
    )
    .await?;
    let poverty = indicator(
        "cm-poverty",
        cm,
        Period::Term(2020, 2025),
        Society,
        "(8)",
        "Tỉ lệ hộ nghèo (theo chuẩn mới)",
        "%",
        Measure::Percentage,
        r000,
    );
    let poverty_id = poverty.id;
    l.run(PLANNER, Command::DefineIndicator(poverty)).await?;
    l.run(
        PLANNER,
        Command::SetTarget {
            indicator: poverty_id,
            track: Resolution,
            target: target(
                TargetKind::AtMost {
                    value: d("4"),
                    strict: true,
                },
                r000,
                "Tỉ lệ hộ nghèo duy trì dưới 4%",
            ),
        },
    )
    .await?;

    // --- 001 Phụng Hiệp, 2024 -----------------------------------------------
    let ph = "HG.PHUNG-HIEP";
    let y2024 = Period::Year(2024);
    let poor = indicator(
        "ph-poverty",
        ph,
        y2024,
        Society,
        "(8)",
        "Tỷ lệ hộ nghèo giảm",
        "%",
        Measure::Percentage,
        p001,
    );
    let poor_id = poor.id;
    l.run(PLANNER, Command::DefineIndicator(poor)).await?;
    l.run(
        PLANNER,
        Command::SetTarget {
            indicator: poor_id,
            track: Resolution,
            target: target(
                TargetKind::ReduceBy {
                    amount: d("1.8"),
                    measure: Reduction::Absolute,
                    base: None,
                },
                p001,
                "Tỷ lệ hộ nghèo giảm từ 1,8% trở lên",
            ),
        },
    )
    .await?;
    l.run(
        PLANNER,
        Command::SetTarget {
            indicator: poor_id,
            track: Stretch,
            target: target(
                TargetKind::ReduceBy {
                    amount: d("1"),
                    measure: Reduction::Absolute,
                    base: None,
                },
                p001,
                "phấn đấu giảm nghèo từ 1% trở lên",
            ),
        },
    )
    .await?;
    let health = indicator(
        "ph-health-standard",
        ph,
        y2024,
        Society,
        "",
        "Xã, thị trấn đạt chuẩn Quốc gia về y tế",
        "xã, thị trấn",
        Measure::Amount,
        p001,
    );
    let health_id = health.id;
    l.run(PLANNER, Command::DefineIndicator(health)).await?;
    l.run(
        PLANNER,
        Command::SetTarget {
            indicator: health_id,
            track: Resolution,
            target: target(
                TargetKind::Maintain {
                    level: Some(d("15")),
                },
                p001,
                "Giữ vững 15 xã, thị trấn đạt chuẩn Quốc gia về y tế",
            ),
        },
    )
    .await?;
    let malnutrition = indicator(
        "ph-malnutrition",
        ph,
        y2024,
        Society,
        "",
        "Tỷ lệ trẻ em dưới 5 tuổi suy dinh dưỡng thể nhẹ cân",
        "‰",
        Measure::PerMille,
        p001,
    );
    let malnutrition_id = malnutrition.id;
    l.run(PLANNER, Command::DefineIndicator(malnutrition))
        .await?;
    l.run(
        PLANNER,
        Command::SetTarget {
            indicator: malnutrition_id,
            track: Resolution,
            target: target(
                TargetKind::AtMost {
                    value: d("11"),
                    strict: false,
                },
                p001,
                "là 11%o",
            ),
        },
    )
    .await?;
    Ok(())
}
