//! The demo data set: every target and result of the four seed documents
//! (`fixtures/seeds/targets.tsv` and `actuals.tsv`, copies of
//! `shared/data`: 183 targets, 242 results), imported through the same
//! planner and commands as `chitieu import`, plus a short history around
//! them so that the audit views have something to show. The history is
//! data, `fixtures/demo/history.jsonl`: one step per line, who does what,
//! naming documents, indicators and reports by the keys their ids derive
//! from (see `Step`); every value parses strictly, and a line that does
//! not stops the load naming its line. It holds:
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
//!   final cooperative revenue, then approved again and locked;
//! - the 2025 reorganisation for the seeds' places: the provinces merged
//!   by Nghị quyết 202/2025/QH15 (Long An into Tây Ninh; Hậu Giang into
//!   Cần Thơ; Trà Vinh into Vĩnh Long; An Giang continues) and the district
//!   level ended on 1 July 2025 by Luật 72/2025/QH15, each district's
//!   duties passing to its (new) province (the new communes are not
//!   recorded).
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
use serde::Deserialize;

/// The seed table of targets (183 rows).
pub const TARGETS: &str = include_str!("../../../fixtures/seeds/targets.tsv");
/// The seed table of results (242 rows).
pub const ACTUALS: &str = include_str!("../../../fixtures/seeds/actuals.tsv");
/// The demo's history, one step per line.
pub const HISTORY: &str = include_str!("../../../fixtures/demo/history.jsonl");

/// A document named by the org unit and key its id derives from
/// (`seed::document_id`; for a seed document, its text in the tables).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentKey {
    unit: OrgUnitCode,
    key: String,
}

impl DocumentKey {
    fn id(&self) -> DocumentId {
        seed::document_id(&self.unit, &self.key)
    }
}

/// An indicator named by its org unit, period and name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorKey {
    unit: OrgUnitCode,
    period: Period,
    name: String,
}

/// A report named by the day it refers to and its key
/// (`seed::report_id`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportKey {
    refers_to: NaiveDate,
    key: String,
}

/// Which seed table an `import` step imports.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SeedTable {
    /// `targets.tsv`.
    Targets,
    /// `actuals.tsv`.
    Actuals,
}

/// One step of the demo's history (`"do"` names it; values in the events'
/// own forms: `"level": "province"`, `"kind": {"kind": "plain", "value":
/// "1900"}`, `"value": {"type": "amount", "value": "590"}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
enum Step {
    /// Register an org unit.
    RegisterUnit {
        code: OrgUnitCode,
        name: Text,
        level: OrgUnitLevel,
        parent: Option<OrgUnitCode>,
        /// The day a unit made by a reorganisation began.
        #[serde(default)]
        established: Option<NaiveDate>,
    },
    /// Register a document.
    RegisterDocument {
        id: DocumentKey,
        number: Option<DocumentNumber>,
        kind: DocumentKind,
        issuing_body: Text,
        org_unit: Option<OrgUnitCode>,
        issued_on: Option<NaiveDate>,
        title: Text,
    },
    /// Define an indicator (its id from its unit, document, period, name).
    DefineIndicator {
        org_unit: OrgUnitCode,
        period: Period,
        category: Category,
        name: Text,
        unit: Option<Text>,
        measure: Measure,
        document: DocumentKey,
    },
    /// Set the first target of a track.
    SetTarget {
        indicator: IndicatorKey,
        track: TargetTrack,
        kind: TargetKind,
        document: DocumentKey,
        wording: Option<Text>,
    },
    /// Revise the target of a track.
    ReviseTarget {
        indicator: IndicatorKey,
        track: TargetTrack,
        kind: TargetKind,
        document: DocumentKey,
        wording: Option<Text>,
        reason: Text,
    },
    /// Import a seed table (units by the admin; documents and targets by
    /// the planner, Cần Đước's own for its rows; results by the reporter).
    Import { table: SeedTable },
    /// Report a result.
    Report {
        indicator: IndicatorKey,
        report: ReportKey,
        value: ResultValue,
        status: ResultStatus,
        note: Option<Text>,
        supersedes: Option<ReportKey>,
        reason: Option<Text>,
        /// The reporting document.
        #[serde(default)]
        source: Option<DocumentKey>,
        /// What the document writes beside the figure.
        #[serde(default)]
        stated: Option<StatedFigures>,
    },
    /// Link an indicator to its counterpart of the previous period.
    LinkPrevious {
        indicator: IndicatorKey,
        previous: IndicatorKey,
        reason: Option<Text>,
    },
    /// Record another statement of a track's target, not in force.
    RestateTarget {
        indicator: IndicatorKey,
        track: TargetTrack,
        kind: TargetKind,
        document: DocumentKey,
        wording: Text,
        reason: Option<Text>,
    },
    /// Retire an indicator.
    Retire {
        indicator: IndicatorKey,
        reason: Text,
        document: Option<DocumentKey>,
    },
    /// Record an indicator as a part of a total.
    SetParent {
        indicator: IndicatorKey,
        parent: IndicatorKey,
    },
    /// Submit a reporting period.
    SubmitPeriod {
        unit: OrgUnitCode,
        period: ReportingPeriod,
        note: Option<Text>,
    },
    /// Approve a submitted period.
    ApprovePeriod {
        unit: OrgUnitCode,
        period: ReportingPeriod,
        approval: uuid::Uuid,
        document: DocumentKey,
    },
    /// Lock an approved period.
    LockPeriod {
        unit: OrgUnitCode,
        period: ReportingPeriod,
        document: Option<DocumentKey>,
    },
    /// Unlock a period.
    UnlockPeriod {
        unit: OrgUnitCode,
        period: ReportingPeriod,
        reason: Text,
        document: DocumentKey,
    },
    /// A unit ceased on a date, its duties passed to others.
    RecordSuccession {
        unit: OrgUnitCode,
        successors: Vec<OrgUnitCode>,
        effective: NaiveDate,
        document: DocumentKey,
    },
}

/// The steps of a history file with who takes each (`None` for imports,
/// whose rows say who), or the first line that does not parse.
fn parse_history(text: &str) -> anyhow::Result<Vec<(Option<String>, Step)>> {
    let mut steps = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("demo history, line {}", index + 1);
        let mut value: serde_json::Value = serde_json::from_str(line).with_context(at)?;
        let who = match value.as_object_mut().and_then(|o| o.remove("who")) {
            Some(serde_json::Value::String(who)) => Some(who),
            Some(_) => anyhow::bail!("{}: `who` is a person's id", at()),
            None => None,
        };
        let step: Step = serde_json::from_value(value).with_context(at)?;
        if who.is_none() != matches!(step, Step::Import { .. }) {
            anyhow::bail!("{}: every step but an import names `who`", at());
        }
        steps.push((who, step));
    }
    Ok(steps)
}

/// Runs commands as the demo's people.
struct Loader<'a> {
    service: &'a CommandService,
    people: &'a [Actor],
}

impl Loader<'_> {
    /// The demo person of an id; one the demo does not have is an error
    /// (a step is never silently taken by someone else).
    fn person(&self, id: &str) -> Result<&Actor, ServiceError> {
        self.people
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| ServiceError::Invalid(format!("the demo has no person `{id}`")))
    }

    async fn run(&self, who: &str, command: Command) -> Result<(), ServiceError> {
        self.service
            .execute(
                &Caller::System(self.person(who)?.clone()),
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
            .with_figures(
                |state| import::figures_read(&table, &Options::default(), state),
                |state| import::plan(&table, &Options::default(), state, |_| false),
            )?
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
                unit.is_some_and(|u| u.as_str().starts_with("LA.CAN-DUOC"))
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
                    &Caller::System(self.person(who)?.clone()),
                    step.command,
                    options,
                )
                .await?;
        }
        Ok(count)
    }

    /// The indicator of a unit and period by its name.
    fn find(&self, key: &IndicatorKey) -> anyhow::Result<IndicatorId> {
        let IndicatorKey { unit, period, name } = key;
        self.service
            .with_state(|s| {
                s.indicators
                    .values()
                    .find(|i| {
                        &i.definition.org_unit == unit
                            && i.definition.period == *period
                            && i.definition.name.as_str() == name
                    })
                    .map(|i| i.definition.id)
            })?
            .with_context(|| format!("the demo expects an indicator `{name}` of {unit} {period}"))
    }

    /// The command of a step, its names resolved to ids.
    fn command(&self, step: Step) -> anyhow::Result<Command> {
        Ok(match step {
            Step::RegisterUnit {
                code,
                name,
                level,
                parent,
                established,
            } => Command::RegisterOrgUnit(OrgUnit {
                code,
                name,
                level,
                established,
                parent,
            }),
            Step::RegisterDocument {
                id,
                number,
                kind,
                issuing_body,
                org_unit,
                issued_on,
                title,
            } => Command::RegisterDocument(Document {
                id: id.id(),
                number,
                kind,
                issuing_body,
                org_unit,
                issued_on,
                title,
            }),
            Step::DefineIndicator {
                org_unit,
                period,
                category,
                name,
                unit,
                measure,
                document,
            } => {
                let document = document.id();
                Command::DefineIndicator(IndicatorDefinition {
                    id: seed::indicator_id(&org_unit, Some(document), period, name.as_str()),
                    org_unit,
                    period,
                    category,
                    code: None,
                    name,
                    unit,
                    measure,
                    parent: None,
                    previous: None,
                    document: Some(document),
                })
            }
            Step::SetTarget {
                indicator,
                track,
                kind,
                document,
                wording,
            } => Command::SetTarget {
                indicator: self.find(&indicator)?,
                track,
                target: Target {
                    kind,
                    document: document.id(),
                    wording,
                },
            },
            Step::ReviseTarget {
                indicator,
                track,
                kind,
                document,
                wording,
                reason,
            } => Command::ReviseTarget {
                indicator: self.find(&indicator)?,
                track,
                target: Target {
                    kind,
                    document: document.id(),
                    wording,
                },
                reason: Some(reason),
            },
            Step::Report {
                indicator,
                report,
                value,
                status,
                note,
                supersedes,
                reason,
                source,
                stated,
            } => {
                let indicator = self.find(&indicator)?;
                let id = |r: &ReportKey| seed::report_id(indicator, r.refers_to, &r.key);
                Command::ReportActual {
                    indicator,
                    report: ActualReport {
                        report_id: id(&report),
                        value,
                        refers_to: report.refers_to,
                        status,
                        source: source.map(|d| d.id()),
                        note,
                        stated,
                    },
                    supersedes: supersedes.as_ref().map(id),
                    reason,
                }
            }
            Step::SubmitPeriod { unit, period, note } => {
                Command::SubmitPeriod { unit, period, note }
            }
            Step::ApprovePeriod {
                unit,
                period,
                approval,
                document,
            } => Command::ApprovePeriod {
                unit,
                period,
                approval: ApprovalId(approval),
                document: document.id(),
                expected_digest: None,
            },
            Step::LockPeriod {
                unit,
                period,
                document,
            } => Command::LockPeriod {
                unit,
                period,
                document: document.map(|d| d.id()),
            },
            Step::UnlockPeriod {
                unit,
                period,
                reason,
                document,
            } => Command::UnlockPeriod {
                unit,
                period,
                reason: Some(reason),
                document: Some(document.id()),
            },
            Step::RecordSuccession {
                unit,
                successors,
                effective,
                document,
            } => Command::RecordSuccession {
                unit,
                successors,
                effective,
                document: Some(document.id()),
            },
            Step::LinkPrevious {
                indicator,
                previous,
                reason,
            } => Command::LinkPreviousPeriod {
                indicator: self.find(&indicator)?,
                previous: self.find(&previous)?,
                reason,
            },
            Step::RestateTarget {
                indicator,
                track,
                kind,
                document,
                wording,
                reason,
            } => Command::RestateTarget {
                indicator: self.find(&indicator)?,
                track,
                statement: Target {
                    kind,
                    document: document.id(),
                    wording: Some(wording),
                },
                reason,
            },
            Step::Retire {
                indicator,
                reason,
                document,
            } => Command::RetireIndicator {
                indicator: self.find(&indicator)?,
                reason: Some(reason),
                document: document.map(|d| d.id()),
            },
            Step::SetParent { indicator, parent } => Command::SetIndicatorParent {
                indicator: self.find(&indicator)?,
                parent: Some(self.find(&parent)?),
                reason: None,
            },
            Step::Import { .. } => anyhow::bail!("an import is not one command"),
        })
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
            .map_err(|e| anyhow::anyhow!("loading demo data: {e:#}"))?;
        for person in &people {
            let id = PrincipalId::parse(person.id)?;
            let name = Text::parse(person.name)?;
            crate::operations::create_principal(service, &system, &id, name, person.domain_grant())
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

/// Loads the demo data set through the same commands as the API, step by
/// step from [`HISTORY`]. `people` are the actors its history is
/// attributed to, by id: `admin`, `vp-huyen-uy` (planner), `pkt-tieu-can`
/// (reporter), `planner.can-duoc`, `reporter.can-duoc` and
/// `btv.tieu-can` (approver); a step by anyone else is an error.
pub async fn load(service: &CommandService, people: &[Actor]) -> anyhow::Result<()> {
    let l = Loader { service, people };
    for (line, (who, step)) in parse_history(HISTORY)?.into_iter().enumerate() {
        let command = match step {
            Step::Import { table } => {
                l.import(match table {
                    SeedTable::Targets => TARGETS,
                    SeedTable::Actuals => ACTUALS,
                })
                .await?;
                continue;
            }
            step => l.command(step)?,
        };
        let who = who.unwrap_or_default();
        l.run(&who, command)
            .await
            .with_context(|| format!("demo history, step {} by {who}", line + 1))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_parses_and_bad_lines_are_refused_by_line() {
        let steps = parse_history(HISTORY).unwrap();
        assert!(steps.len() > 40, "{}", steps.len());
        let good = r#"{"who": "admin", "do": "register_unit", "code": "AG", "name": "Tỉnh An Giang", "level": "province", "parent": null}"#;
        for (bad, why) in [
            (good.replace("\"AG\"", "\"a g\""), "org unit code"),
            (good.replace("province", "planet"), "unknown variant `planet`"),
            (good.replace("\"parent\"", "\"parnet\""), "unknown field"),
            (good.replace("register_unit", "register_planet"), "unknown variant"),
            (good.replace("\"who\": \"admin\", ", ""), "names `who`"),
            (
                r#"{"who": "admin", "do": "record_succession", "unit": "LA", "successors": ["TN"], "effective": "2025-02-30", "document": {"unit": "AG", "key": "x"}}"#.to_owned(),
                "input is out of range",
            ),
        ] {
            let text = format!("{good}\n{bad}\n");
            let error = format!("{:#}", parse_history(&text).unwrap_err());
            assert!(error.contains("line 2"), "{error}");
            assert!(error.contains(why), "{why}: {error}");
        }
    }
}
