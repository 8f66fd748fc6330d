//! The demo data set: every target and result of the four seed documents
//! (`fixtures/seeds/targets.tsv` and `actuals.tsv`, copies of
//! `shared/data`: 183 targets, 242 results), imported through the same
//! planner and commands as `chitieu import`, plus a short history around
//! them so that the audit views have something to show:
//!
//! - org units registered by the admin, documents and targets by planners
//!   (004's by Cần Đước's own planner), results by reporters;
//! - 004's budget revenue on three tracks: assigned 581 by the province's
//!   101-NQ/TU, 581 in the district's appendix, stretch 600 in its body;
//! - 000's health insurance: the resolution's 80 % and the province's
//!   88,91 %, met on one track and not on the other;
//! - 002's total investment target set at 1.900 and revised mid-year to
//!   the 2.000 tỷ đồng the report cites, with its reason and document;
//! - estimates replaced by final figures (002's cooperative revenue, 004's
//!   budget revenue of 2025);
//! - Tiểu Cần's year 2022 submitted, approved by its Standing Committee
//!   and locked, unlocked (with a reason and a decision) to take in the
//!   final cooperative revenue, then approved again and locked.
//!
//! Figures are the documents' own; what the documents do not tell (the
//! first investment target, the mid-year resolution, the final figures
//! after an estimate) says "minh họa" (illustration) in its wording, note
//! or document title.

use anyhow::Context;
use chitieu_domain::*;
use chitieu_import::{self as import, seed, Options, Table};
use chitieu_service::{Caller, CommandService, ServiceError, WriteOptions};
use chitieu_store::Actor;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

/// The seed table of targets (183 rows).
pub const TARGETS: &str = include_str!("../../../fixtures/seeds/targets.tsv");
/// The seed table of results (242 rows).
pub const ACTUALS: &str = include_str!("../../../fixtures/seeds/actuals.tsv");

// The demo's literals are part of the program: one that does not parse is
// a bug of this file, and loading the demo stops on it, naming it, instead
// of loading a 0, a "?" or 1 January 1970 in its place.

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("demo data: `{s}` is not a decimal: {e}"))
}

fn t(s: &str) -> Text {
    Text::parse(s).unwrap_or_else(|e| panic!("demo data: `{s}` is not a valid text: {e}"))
}

fn code(s: &str) -> OrgUnitCode {
    OrgUnitCode::parse(s)
        .unwrap_or_else(|e| panic!("demo data: `{s}` is not an org-unit code: {e}"))
}

fn day(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd)
        .unwrap_or_else(|| panic!("demo data: {y}-{m:02}-{dd:02} is not a date"))
}

/// A document as the seed tables name it (so the import finds it).
struct SeedDocument {
    unit: &'static str,
    text: &'static str,
    number: Option<&'static str>,
    kind: DocumentKind,
    body: &'static str,
    issued_on: Option<NaiveDate>,
    title: &'static str,
}

impl SeedDocument {
    fn id(&self) -> DocumentId {
        seed::document_id(&code(self.unit), self.text)
    }
}

const CM: &str = "AG.CHO-MOI";
const PH: &str = "HG.PHUNG-HIEP";
const TC: &str = "TV.TIEU-CAN";
const CD: &str = "LA.CAN-DUOC";

fn seed_documents() -> [SeedDocument; 4] {
    [
        SeedDocument {
            unit: CM,
            text: "Báo cáo của Ban Chấp hành Đảng bộ huyện khóa XI trình Đại hội Đại biểu lần thứ XII, nhiệm kỳ 2020-2025",
            number: None,
            kind: DocumentKind::Report,
            body: "Ban Chấp hành Đảng bộ huyện Chợ Mới khóa XI",
            issued_on: None,
            title: "Báo cáo của Ban Chấp hành Đảng bộ huyện khóa XI trình Đại hội Đại biểu lần thứ XII, nhiệm kỳ 2020-2025",
        },
        SeedDocument {
            unit: PH,
            text: "Chương trình công tác năm 2024 của Đảng bộ huyện",
            number: None,
            kind: DocumentKind::ActionProgramme,
            body: "Huyện ủy Phụng Hiệp",
            issued_on: None,
            title: "Chương trình công tác năm 2024 của Đảng bộ huyện",
        },
        SeedDocument {
            unit: TC,
            text: "Kết quả thực hiện nhiệm vụ năm 2022; các chỉ tiêu, nhiệm vụ, giải pháp chủ yếu năm 2023 (no number or title in the text)",
            number: None,
            kind: DocumentKind::Report,
            body: "Huyện ủy Tiểu Cần",
            issued_on: None,
            title: "Kết quả thực hiện nhiệm vụ năm 2022; các chỉ tiêu, nhiệm vụ, giải pháp chủ yếu năm 2023",
        },
        SeedDocument {
            unit: CD,
            text: "38-CTr/HU Chương trình hành động thực hiện Nghị quyết của Ban Chấp hành Đảng bộ tỉnh về phương hướng, nhiệm vụ năm 2025",
            number: Some("38-CTr/HU"),
            kind: DocumentKind::ActionProgramme,
            body: "Ban Thường vụ Huyện ủy Cần Đước",
            issued_on: Some(day(2025, 2, 4)),
            title: "Chương trình hành động thực hiện Nghị quyết của Ban Chấp hành Đảng bộ tỉnh về phương hướng, nhiệm vụ năm 2025",
        },
    ]
}

/// Runs commands as the demo's people.
struct Loader<'a> {
    service: &'a CommandService,
    people: &'a [Actor],
}

impl Loader<'_> {
    fn person(&self, id: &str) -> &Actor {
        self.people
            .iter()
            .find(|p| p.id == id)
            .unwrap_or(&self.people[0])
    }

    async fn run(&self, who: &str, command: Command) -> Result<(), ServiceError> {
        self.service
            .execute(
                &Caller::System(self.person(who).clone()),
                command,
                WriteOptions::default(),
            )
            .await
            .map(|_| ())
    }

    /// Imports a seed table: units by the admin; documents and targets by
    /// the planner (Cần Đước's own for its rows); results by the reporter.
    async fn import(&self, table: &str) -> anyhow::Result<usize> {
        let table = Table::from_text(table);
        let steps = self
            .service
            .with_state(|state| import::plan(&table, &Options::default(), state, |_| false))?
            .map_err(|problems| {
                let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
                anyhow::anyhow!("the seed table does not import: {}", list.join("; "))
            })?;
        let count = steps.len();
        for step in steps {
            let in_can_duoc = self.service.with_state(|s| {
                let unit = match &step.command {
                    Command::DefineIndicator(d) => Some(d.org_unit.clone()),
                    Command::SetTarget { indicator, .. }
                    | Command::ReportActual { indicator, .. } => s
                        .indicators
                        .get(indicator)
                        .map(|i| i.definition.org_unit.clone()),
                    _ => None,
                };
                unit.is_some_and(|u| u.as_str().starts_with(CD))
            })?;
            let who = match (&step.command, in_can_duoc) {
                (Command::RegisterOrgUnit(_), _) => "admin",
                (Command::ReportActual { .. }, true) => "reporter.can-duoc",
                (Command::ReportActual { .. }, false) => "pkt-tieu-can",
                (_, true) => "planner.can-duoc",
                (_, false) => "vp-huyen-uy",
            };
            let options = WriteOptions {
                idempotency_key: Some(step.key.clone()),
                ..WriteOptions::default()
            };
            self.service
                .execute(
                    &Caller::System(self.person(who).clone()),
                    step.command,
                    options,
                )
                .await?;
        }
        Ok(count)
    }

    /// The indicator of a unit and period by its name.
    fn find(&self, unit: &str, period: Period, name: &str) -> anyhow::Result<IndicatorId> {
        let unit = code(unit);
        self.service
            .with_state(|s| {
                s.indicators
                    .values()
                    .find(|i| {
                        i.definition.org_unit == unit
                            && i.definition.period == period
                            && i.definition.name.as_str() == name
                    })
                    .map(|i| i.definition.id)
            })?
            .with_context(|| format!("the demo expects an indicator `{name}` of {unit} {period}"))
    }
}

/// Demo mode at start: loads the demo data set (and the demo's people with
/// their grants) into an empty store, then gives each person a valid token.
///
/// The tokens are kept in the data directory ([`crate::DEMO_TOKENS`]; the
/// log holds only digests) and reused while valid: a restart changes
/// nothing for a client set up with them. A person whose kept token is gone
/// or expired has every other token revoked before a new one is issued, so
/// they never pile up. On a shared log (`sole_user` false) the other tokens
/// are other nodes' (each node keeps its own file): nothing is revoked
/// there, and a node issues only when its file lacks a valid token.
pub async fn bootstrap(
    node: &crate::Node,
    sole_user: bool,
    data_dir: &std::path::Path,
) -> anyhow::Result<Vec<crate::DemoToken>> {
    let (store, service) = (&node.log, &node.service);
    let people = crate::tokens::demo_people();
    let actor = |i: usize| Actor {
        id: people[i].id.to_owned(),
        name: people[i].name.to_owned(),
        role: people[i].grant.0.as_str().to_owned(),
    };
    let system = Caller::System(actor(0));
    if store.head().position == 0 {
        let actors: Vec<_> = (0..people.len()).map(actor).collect();
        load(service, &actors)
            .await
            .map_err(|e| anyhow::anyhow!("loading demo data: {e}"))?;
        for person in &people {
            let id = PrincipalId::parse(person.id)?;
            let name = Text::parse(person.name)?;
            service
                .execute(
                    &system,
                    Command::CreatePrincipal {
                        principal: id.clone(),
                        name,
                    },
                    WriteOptions::default(),
                )
                .await?;
            let grant = Command::GrantRole {
                principal: id,
                grant: person.domain_grant(),
            };
            service
                .execute(&system, grant, WriteOptions::default())
                .await?;
        }
        tracing::info!(events = store.head().position, "demo data loaded");
    }
    let path = data_dir.join(crate::DEMO_TOKENS);
    let mut kept: std::collections::BTreeMap<String, String> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let mut tokens = Vec::new();
    for person in &people {
        let id = PrincipalId::parse(person.id)?;
        let reusable = kept
            .get(person.id)
            .filter(|t| service.authenticate(t).is_ok_and(|a| a.principal == id))
            .cloned();
        let token = match reusable {
            Some(token) => token,
            None => {
                let active: Vec<TokenId> = if !sole_user {
                    Vec::new()
                } else {
                    service.with_state(|s| {
                        s.principals
                            .get(&id)
                            .map(|p| {
                                p.tokens
                                    .iter()
                                    .filter(|(_, t)| !t.revoked)
                                    .map(|(token, _)| *token)
                                    .collect()
                            })
                            .unwrap_or_default()
                    })?
                };
                for token in active {
                    service
                        .execute(
                            &system,
                            Command::RevokeToken {
                                principal: id.clone(),
                                token,
                            },
                            WriteOptions::default(),
                        )
                        .await?;
                }
                let expires = chrono::Utc::now() + chrono::Duration::days(30);
                service.issue_token(&system, id, Some(expires)).await?.1
            }
        };
        kept.insert(person.id.to_owned(), token.clone());
        tokens.push(crate::DemoToken {
            person: person.id.to_owned(),
            name: person.name.to_owned(),
            role: person.grant.0.as_str().to_owned(),
            scope: person.grant.1.map(str::to_owned),
            token,
        });
    }
    crate::write_private(&path, &serde_json::to_string_pretty(&kept)?)
        .with_context(|| format!("keeping the demo tokens in {}", path.display()))?;
    Ok(tokens)
}

/// Loads the demo data set through the same commands as the API.
/// `people` are the actors its history is attributed to, by id: `admin`,
/// `vp-huyen-uy` (planner), `pkt-tieu-can` (reporter), `planner.can-duoc`
/// and `reporter.can-duoc` (the first stands in for any missing).
pub async fn load(service: &CommandService, people: &[Actor]) -> anyhow::Result<()> {
    let l = Loader { service, people };
    use OrgUnitLevel::*;
    let unit = |c: &str, name: &str, level, parent: Option<&str>| {
        Command::RegisterOrgUnit(OrgUnit {
            code: code(c),
            name: t(name),
            level,
            parent: parent.map(code),
        })
    };
    for command in [
        unit("AG", "Tỉnh An Giang", Province, None),
        unit(CM, "Huyện Chợ Mới", District, Some("AG")),
        unit("HG", "Tỉnh Hậu Giang", Province, None),
        unit(PH, "Huyện Phụng Hiệp", District, Some("HG")),
        unit("TV", "Tỉnh Trà Vinh", Province, None),
        unit(TC, "Huyện Tiểu Cần", District, Some("TV")),
        unit("LA", "Tỉnh Long An", Province, None),
        unit(CD, "Huyện Cần Đước", District, Some("LA")),
        unit(
            "LA.CAN-DUOC.TT-CAN-DUOC",
            "Thị trấn Cần Đước",
            Town,
            Some(CD),
        ),
    ] {
        l.run("admin", command).await?;
    }

    // The four seed documents with their issuing bodies, and the
    // province's resolution that 38-CTr/HU implements (named in its
    // preamble).
    let documents = seed_documents();
    for doc in &documents {
        let who = if doc.unit == CD {
            "planner.can-duoc"
        } else {
            "vp-huyen-uy"
        };
        l.run(
            who,
            Command::RegisterDocument(Document {
                id: doc.id(),
                number: doc.number.and_then(|n| DocumentNumber::parse(n).ok()),
                kind: doc.kind,
                issuing_body: t(doc.body),
                org_unit: Some(code(doc.unit)),
                issued_on: doc.issued_on,
                title: t(doc.title),
            }),
        )
        .await?;
    }
    let [r000, _, r002, _] = documents.map(|doc| doc.id());
    let extra = |key: &str| seed::document_id(&code("LA"), key);
    let nq101 = extra("101-NQ/TU");
    let nq2022 = extra("tieu-can-nq-2022");
    let nq2022_mid = extra("tieu-can-nq-2022-mid-year");
    let approval_2022 = extra("tieu-can-tb-2022-approval");
    let unlock_2022 = extra("tieu-can-qd-2022-unlock");
    let reapproval_2022 = extra("tieu-can-tb-2022-reapproval");
    for (id, number, unit, body, issued, title, kind) in [
        (
            approval_2022,
            None,
            TC,
            "Ban Thường vụ Huyện ủy Tiểu Cần",
            Some(day(2023, 1, 10)),
            "Thông báo kết luận về kết quả thực hiện nhiệm vụ năm 2022 (minh họa)",
            DocumentKind::Other,
        ),
        (
            unlock_2022,
            None,
            TC,
            "Ban Thường vụ Huyện ủy Tiểu Cần",
            Some(day(2023, 3, 20)),
            "Quyết định mở lại số liệu năm 2022 để cập nhật số quyết toán (minh họa)",
            DocumentKind::Decision,
        ),
        (
            reapproval_2022,
            None,
            TC,
            "Ban Thường vụ Huyện ủy Tiểu Cần",
            Some(day(2023, 3, 31)),
            "Thông báo kết luận phê duyệt lại số liệu năm 2022 (minh họa)",
            DocumentKind::Other,
        ),
        (
            nq101,
            Some("101-NQ/TU"),
            "LA",
            "Ban Chấp hành Đảng bộ tỉnh Long An",
            Some(day(2024, 12, 6)),
            "Nghị quyết về phương hướng, nhiệm vụ năm 2025",
            DocumentKind::Resolution,
        ),
        (
            nq2022,
            None,
            TC,
            "Huyện ủy Tiểu Cần",
            Some(day(2021, 12, 20)),
            "Nghị quyết về nhiệm vụ năm 2022 (minh họa)",
            DocumentKind::Resolution,
        ),
        (
            nq2022_mid,
            None,
            TC,
            "Huyện ủy Tiểu Cần",
            Some(day(2022, 7, 15)),
            "Nghị quyết điều chỉnh chỉ tiêu giữa năm 2022 (minh họa)",
            DocumentKind::Resolution,
        ),
    ] {
        l.run(
            "vp-huyen-uy",
            Command::RegisterDocument(Document {
                id,
                number: number.and_then(|n| DocumentNumber::parse(n).ok()),
                kind,
                issuing_body: t(body),
                org_unit: Some(code(unit)),
                issued_on: issued,
                title: t(title),
            }),
        )
        .await?;
    }

    // 002's investment of 2022: a first target, revised mid-year to the
    // 2.000 tỷ đồng the report cites (minh họa). The results table then
    // finds the indicator by its name and the target already in force.
    let y2022 = Period::Year(2022);
    let investment =
        seed::indicator_id(&code(TC), Some(r002), y2022, "Tổng vốn đầu tư toàn xã hội");
    l.run(
        "vp-huyen-uy",
        Command::DefineIndicator(IndicatorDefinition {
            id: investment,
            org_unit: code(TC),
            period: y2022,
            category: Category::Economy,
            code: None,
            name: t("Tổng vốn đầu tư toàn xã hội"),
            unit: Some(t("tỷ đồng")),
            measure: Measure::Amount,
            parent: None,
            previous: None,
            document: Some(r002),
        }),
    )
    .await?;
    l.run(
        "vp-huyen-uy",
        Command::SetTarget {
            indicator: investment,
            track: TargetTrack::Resolution,
            target: Target {
                kind: TargetKind::Plain {
                    value: d("1900"),
                    base: None,
                },
                document: nq2022,
                wording: Some(t("Tổng vốn đầu tư toàn xã hội 1.900 tỷ đồng (minh họa)")),
            },
        },
    )
    .await?;
    l.run(
        "vp-huyen-uy",
        Command::ReviseTarget {
            indicator: investment,
            track: TargetTrack::Resolution,
            target: Target {
                kind: TargetKind::Plain {
                    value: d("2000"),
                    base: None,
                },
                document: nq2022_mid,
                wording: Some(t("2.000 tỷ đồng")),
            },
            reason: Some(t(
                "Điều chỉnh kế hoạch vốn giữa năm theo nghị quyết của Huyện ủy (minh họa)",
            )),
        },
    )
    .await?;

    // Every target, then every result, of the four documents.
    l.import(TARGETS).await?;
    l.import(ACTUALS).await?;

    // 004's budget revenue: the province's assigned 581 beside the
    // district's 581 and stretch 600; an estimate in November replaced by
    // the final figure (minh họa).
    let budget = l.find(CD, Period::Year(2025), "Thu ngân sách")?;
    l.run(
        "vp-huyen-uy",
        Command::SetTarget {
            indicator: budget,
            track: TargetTrack::Assigned,
            target: Target {
                kind: TargetKind::Plain {
                    value: d("581"),
                    base: None,
                },
                document: nq101,
                wording: Some(t("Thu ngân sách 581 tỷ đồng")),
            },
        },
    )
    .await?;
    let estimate = seed::report_id(budget, day(2025, 12, 31), "ước (minh họa)");
    for (report, value, status, supersedes, note) in [
        (
            estimate,
            "590",
            ResultStatus::Estimate,
            None,
            "Ước thực hiện cả năm, báo cáo tháng 11 (minh họa)",
        ),
        (
            seed::report_id(budget, day(2025, 12, 31), "quyết toán (minh họa)"),
            "612.4",
            ResultStatus::Final,
            Some(estimate),
            "Số liệu quyết toán (minh họa)",
        ),
    ] {
        l.run(
            "reporter.can-duoc",
            Command::ReportActual {
                indicator: budget,
                report: ActualReport {
                    report_id: report,
                    value: ResultValue::Amount { value: d(value) },
                    refers_to: day(2025, 12, 31),
                    status,
                    source: None,
                    note: Some(t(note)),
                },
                supersedes,
                reason: supersedes.map(|_| t("Số liệu quyết toán thay số ước (minh họa)")),
            },
        )
        .await?;
    }

    // 000's health insurance 2015-2020: the province's 88,91 % beside the
    // resolution's 80 % (both written next to the result).
    let insurance = l.find(
        CM,
        Period::Term(2015, 2020),
        "Tỉ lệ người dân tham gia bảo hiểm y tế",
    )?;
    l.run(
        "vp-huyen-uy",
        Command::SetTarget {
            indicator: insurance,
            track: TargetTrack::Assigned,
            target: Target {
                kind: TargetKind::AtLeast {
                    value: d("88.91"),
                    strict: false,
                },
                document: r000,
                wording: Some(t("chỉ tiêu tỉnh giao đến năm 2020 đạt 88,91% dân số")),
            },
        },
    )
    .await?;

    // Tiểu Cần's year 2022 (002): submitted, approved by the Standing
    // Committee, locked; unlocked to take in the final cooperative revenue
    // (minh họa), then approved again and locked.
    let tc2022 = ReportingPeriod::Year(2022);
    let close = |approval: u128, document: DocumentId| {
        [
            (
                "vp-huyen-uy",
                Command::SubmitPeriod {
                    unit: code(TC),
                    period: tc2022,
                    note: Some(t("Trình phê duyệt số liệu năm 2022 (minh họa)")),
                },
            ),
            (
                "btv.tieu-can",
                Command::ApprovePeriod {
                    unit: code(TC),
                    period: tc2022,
                    approval: ApprovalId(uuid::Uuid::from_u128(approval)),
                    document,
                    expected_digest: None,
                },
            ),
            (
                "btv.tieu-can",
                Command::LockPeriod {
                    unit: code(TC),
                    period: tc2022,
                    document: Some(document),
                },
            ),
        ]
    };
    for (who, command) in close(0x2022_0001, approval_2022) {
        l.run(who, command).await?;
    }
    l.run(
        "btv.tieu-can",
        Command::UnlockPeriod {
            unit: code(TC),
            period: tc2022,
            reason: Some(t(
                "Cập nhật số liệu quyết toán doanh thu hợp tác xã (minh họa)",
            )),
            document: Some(unlock_2022),
        },
    )
    .await?;

    // 002's cooperative revenue: the report's estimate, replaced by the
    // final figure (minh họa).
    let revenue = l.find(TC, y2022, "Doanh thu hợp tác xã")?;
    let estimate = seed::report_id(
        revenue,
        day(2022, 12, 31),
        "doanh thu ước đạt 30,539 tỷ đồng",
    );
    l.run(
        "pkt-tieu-can",
        Command::ReportActual {
            indicator: revenue,
            report: ActualReport {
                report_id: seed::report_id(revenue, day(2022, 12, 31), "quyết toán (minh họa)"),
                value: ResultValue::Amount { value: d("30.612") },
                refers_to: day(2022, 12, 31),
                status: ResultStatus::Final,
                source: None,
                note: Some(t("Số liệu chính thức sau quyết toán (minh họa)")),
            },
            supersedes: Some(estimate),
            reason: Some(t("Số liệu quyết toán thay số ước (minh họa)")),
        },
    )
    .await?;
    for (who, command) in close(0x2022_0002, reapproval_2022) {
        l.run(who, command).await?;
    }
    reorganisation_2025(&l).await
}

/// The 2025 reorganisation, as the sources state it for the seeds' places:
/// the provinces merged by Nghị quyết 202/2025/QH15 (Long An into Tây
/// Ninh; Hậu Giang and Sóc Trăng into Cần Thơ; Trà Vinh and Bến Tre into
/// Vĩnh Long; Kiên Giang into An Giang, which continues), and the district
/// level ended on 1 July 2025 by the Law on the Organisation of Local
/// Government (Luật 72/2025/QH15), each district's duties passing to its
/// (new) province. The new communes that took over the districts' towns
/// and communes are not recorded here.
async fn reorganisation_2025(l: &Loader<'_>) -> anyhow::Result<()> {
    use OrgUnitLevel::*;
    let effective = day(2025, 7, 1);
    let national = |key: &str, number: &str, title: &str, issued: NaiveDate, kind| {
        (
            seed::document_id(&code("AG"), key),
            Document {
                id: seed::document_id(&code("AG"), key),
                number: DocumentNumber::parse(number).ok(),
                kind,
                issuing_body: t("Quốc hội"),
                org_unit: None,
                issued_on: Some(issued),
                title: t(title),
            },
        )
    };
    let (provinces_doc, provinces) = national(
        "202/2025/QH15",
        "202/2025/QH15",
        "Nghị quyết về việc sắp xếp đơn vị hành chính cấp tỉnh",
        day(2025, 6, 12),
        DocumentKind::Resolution,
    );
    let (districts_doc, districts) = national(
        "72/2025/QH15",
        "72/2025/QH15",
        "Luật Tổ chức chính quyền địa phương (không tổ chức cấp huyện từ ngày 01/7/2025)",
        day(2025, 6, 16),
        DocumentKind::Other,
    );
    for document in [provinces, districts] {
        l.run("admin", Command::RegisterDocument(document)).await?;
    }
    for (c, name) in [
        ("TN", "Tỉnh Tây Ninh"),
        ("CT", "Thành phố Cần Thơ"),
        ("VL", "Tỉnh Vĩnh Long"),
    ] {
        l.run(
            "admin",
            Command::RegisterOrgUnit(OrgUnit {
                code: code(c),
                name: t(name),
                level: Province,
                parent: None,
            }),
        )
        .await?;
    }
    let succession = |unit: &str, successor: &str, document| Command::RecordSuccession {
        unit: code(unit),
        successors: vec![code(successor)],
        effective,
        document: Some(document),
    };
    for command in [
        succession("LA", "TN", provinces_doc),
        succession("HG", "CT", provinces_doc),
        succession("TV", "VL", provinces_doc),
        succession(CD, "TN", districts_doc),
        succession(PH, "CT", districts_doc),
        succession(TC, "VL", districts_doc),
        succession(CM, "AG", districts_doc),
    ] {
        l.run("admin", command).await?;
    }
    Ok(())
}
