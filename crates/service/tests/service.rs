//! Given / when / then for the write side, against the in-memory log: who
//! may run what, what a refusal leaves behind (nothing), retries, and a
//! decision that depends on a stream it does not write.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use chitieu_domain::*;
use chitieu_projector::Projector;
use chitieu_service::{BatchError, Caller, CommandService, ServiceError, WriteOptions};
use chitieu_store::*;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

fn text(s: &str) -> Text {
    Text::parse(s).unwrap()
}

fn code(s: &str) -> OrgUnitCode {
    OrgUnitCode::parse(s).unwrap()
}

fn province() -> OrgUnit {
    OrgUnit {
        code: code("LA"),
        name: text("Tỉnh Long An"),
        level: OrgUnitLevel::Province,
        parent: None,
        established: None,
    }
}

fn district(c: &str, name: &str) -> OrgUnit {
    OrgUnit {
        code: code(c),
        name: text(name),
        level: OrgUnitLevel::District,
        parent: Some(code("LA")),
        established: None,
    }
}

fn document(n: u128, unit: &str) -> Document {
    Document {
        id: DocumentId(Uuid::from_u128(n)),
        number: None,
        kind: DocumentKind::Resolution,
        issuing_body: text("Ban Thường vụ Huyện ủy"),
        org_unit: Some(code(unit)),
        issued_on: None,
        title: text("Nghị quyết về phương hướng, nhiệm vụ năm 2025"),
    }
}

fn system() -> Caller {
    Caller::System(Actor {
        id: "system".into(),
        name: "tests".into(),
        role: "admin".into(),
    })
}

fn planner_of(unit: &str) -> Grant {
    Grant {
        role: Role::Planner,
        scope: Some(code(unit)),
    }
}

fn planner() -> PrincipalId {
    PrincipalId::parse("planner.can-duoc").unwrap()
}

struct Given {
    log: Log,
    service: Arc<CommandService>,
    _projector: Arc<Projector>,
}

/// Two districts and a planner of Cần Đước, on `log`.
async fn given_on(log: Log) -> Given {
    given_holding(log, chitieu_service::FIGURES_BUDGET).await
}

/// [`given_on`], the service keeping figures within `budget` bytes.
async fn given_holding(log: Log, budget: usize) -> Given {
    let projector = Projector::open_temporary(&log).unwrap();
    projector.spawn_follower();
    let service =
        Arc::new(CommandService::new(log.clone(), projector.clone()).with_figures_budget(budget));
    for command in [
        Command::RegisterOrgUnit(province()),
        Command::RegisterOrgUnit(district("LA.CAN-DUOC", "Huyện Cần Đước")),
        Command::RegisterOrgUnit(district("LA.TAN-TRU", "Huyện Tân Trụ")),
        Command::CreatePrincipal {
            principal: planner(),
            name: text("Văn phòng Huyện ủy Cần Đước"),
        },
        Command::GrantRole {
            principal: planner(),
            grant: planner_of("LA.CAN-DUOC"),
        },
    ] {
        service
            .execute(&system(), command, WriteOptions::default())
            .await
            .unwrap();
    }
    Given {
        log,
        service,
        _projector: projector,
    }
}

async fn given() -> Given {
    given_on(Arc::new(MemoryLog::new())).await
}

#[tokio::test]
async fn a_permitted_command_is_recorded_under_the_role_that_allowed_it() {
    let g = given().await;
    let written = g
        .service
        .execute(
            &Caller::Principal(planner()),
            Command::RegisterDocument(document(1, "LA.CAN-DUOC")),
            WriteOptions::default(),
        )
        .await
        .unwrap();
    let event = &g.log.read_all(written.position, 1).unwrap()[0];
    assert_eq!(event.actor.id, "planner.can-duoc");
    assert_eq!(event.actor.role, "planner");
    assert_eq!(event.actor.name, "Văn phòng Huyện ủy Cần Đước");
    assert_eq!(event.event_type, "document_registered");
}

#[tokio::test]
async fn a_command_outside_the_grant_is_forbidden_and_appends_nothing() {
    let g = given().await;
    let head = g.log.head();
    let err = g
        .service
        .execute(
            &Caller::Principal(planner()),
            Command::RegisterDocument(document(2, "LA.TAN-TRU")),
            WriteOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden(_)), "{err:?}");
    assert_eq!(g.log.head(), head);
}

#[tokio::test]
async fn a_command_the_rules_refuse_appends_nothing() {
    let g = given().await;
    let head = g.log.head();
    let err = g
        .service
        .execute(
            &system(),
            Command::RegisterOrgUnit(province()),
            WriteOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Domain(_)), "{err:?}");
    assert_eq!(g.log.head(), head);
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_with_where_the_stream_is() {
    let g = given().await;
    let err = g
        .service
        .execute(
            &Caller::Principal(planner()),
            Command::RegisterDocument(document(3, "LA.CAN-DUOC")),
            WriteOptions {
                expected_version: Some(4),
                ..WriteOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ServiceError::Conflict {
                current: 0,
                expected: 4,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_retry_with_its_key_replays_even_when_deciding_again_would_refuse() {
    let g = given().await;
    let options = WriteOptions {
        idempotency_key: Some("doc-4".into()),
        ..WriteOptions::default()
    };
    let command = Command::RegisterDocument(document(4, "LA.CAN-DUOC"));
    let caller = Caller::Principal(planner());
    let first = g
        .service
        .execute(&caller, command.clone(), options.clone())
        .await
        .unwrap();
    // Registering it again would be refused: the retry is recognised instead.
    let again = g
        .service
        .execute(&caller, command, options.clone())
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.position, first.position);
    // The same key for another command is refused.
    let other = Command::RegisterDocument(document(5, "LA.CAN-DUOC"));
    let err = g
        .service
        .execute(&caller, other, options)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ServiceError::IdempotencyKeyReused(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_batch_with_one_command_not_allowed_writes_nothing() {
    let g = given().await;
    let head = g.log.head();
    let err = g
        .service
        .execute_all(
            &Caller::Principal(planner()),
            vec![
                (
                    Command::RegisterDocument(document(6, "LA.CAN-DUOC")),
                    "k6".into(),
                ),
                (
                    Command::RegisterDocument(document(7, "LA.TAN-TRU")),
                    "k7".into(),
                ),
            ],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BatchError::Refused(r) if r.len() == 1 && r[0].0 == 1),
        "{err:?}"
    );
    assert_eq!(g.log.head(), head);
}

/// A log that lets another writer in just before the next append: what
/// happens when the world moves between a decision and its append.
struct Interleaved {
    inner: Log,
    next: Mutex<Option<AppendRequest>>,
}

impl EventLog for Interleaved {
    fn append(&self, request: AppendRequest) -> BoxFuture<'_, Result<AppendOutcome, AppendError>> {
        let meanwhile = self.next.lock().unwrap().take();
        Box::pin(async move {
            if let Some(other) = meanwhile {
                self.inner.append(other).await.unwrap();
            }
            self.inner.append(request).await
        })
    }
    fn import(&self, records: Vec<RawRecord>) -> BoxFuture<'_, Result<Head, AppendError>> {
        self.inner.import(records)
    }
    fn head(&self) -> Head {
        self.inner.head()
    }
    fn watch_head(&self) -> tokio::sync::watch::Receiver<Head> {
        self.inner.watch_head()
    }
    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawRecord>, StoreError> {
        self.inner.read_raw(from, limit)
    }
    fn read_stream(
        &self,
        stream: &chitieu_store::StreamName,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_stream(stream, from_version, limit)
    }
    fn stream_version(&self, stream: &chitieu_store::StreamName) -> Result<u64, StoreError> {
        self.inner.stream_version(stream)
    }
    fn idempotency_record(
        &self,
        key: &str,
    ) -> Result<Option<([u8; 32], AppendOutcome)>, StoreError> {
        self.inner.idempotency_record(key)
    }
    fn verify_from(
        &self,
        from: Head,
        progress: chitieu_store::Progress,
    ) -> BoxFuture<'_, Result<VerifyReport, StoreError>> {
        self.inner.verify_from(from, progress)
    }
    fn commit_stats(&self) -> CommitStats {
        self.inner.commit_stats()
    }
    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.inner.size_on_disk()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn close(&self) -> Result<(), StoreError> {
        self.inner.close()
    }
}

/// The planner's grant is revoked after the service authorized a command
/// and before its append: the log refuses the append (the principal's
/// stream moved), the service decides again, and now refuses it.
#[tokio::test]
async fn a_grant_revoked_between_decision_and_append_refuses_the_write() {
    let interleaved = Arc::new(Interleaved {
        inner: Arc::new(MemoryLog::new()),
        next: Mutex::new(None),
    });
    let g = given_on(interleaved.clone()).await;
    let revoke = Command::RevokeGrant {
        principal: planner(),
        grant: planner_of("LA.CAN-DUOC"),
    };
    let events = g
        .service
        .with_state(|state| decide(state, &revoke))
        .unwrap()
        .unwrap();
    let stream = chitieu_store::StreamName::from(revoke.stream_id());
    let version = g.log.stream_version(&stream).unwrap();
    *interleaved.next.lock().unwrap() = Some(AppendRequest {
        stream,
        expected: ExpectedVersion::Exact(version),
        conditions: Vec::new(),
        events: events.iter().map(EventCodec::encode).collect(),
        idempotency_key: None,
        fingerprint: None,
        meta: AppendMeta {
            actor: Actor {
                id: "admin".into(),
                name: "Quản trị".into(),
                role: "admin".into(),
            },
            correlation_id: Uuid::now_v7(),
            causation_id: None,
        },
    });
    let head = g.log.head();
    let err = g
        .service
        .execute(
            &Caller::Principal(planner()),
            Command::RegisterDocument(document(8, "LA.CAN-DUOC")),
            WriteOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden(_)), "{err:?}");
    assert_eq!(
        g.log.head().position,
        head.position + 1,
        "only the revocation was appended"
    );
    let last = &g.log.read_all(head.position + 1, 1).unwrap()[0];
    assert_eq!(last.event_type, "grant_revoked");
}

/// Whether an indicator exists is the domain's answer, with its own kind:
/// a scoped principal naming an unknown indicator learns that it is
/// unknown (not that it lacks a grant for everywhere).
#[tokio::test]
async fn a_command_on_an_unknown_indicator_is_refused_as_unknown() {
    let g = given().await;
    let head = g.log.head();
    let missing = IndicatorId(Uuid::from_u128(0xdead));
    let err = g
        .service
        .execute(
            &Caller::Principal(planner()),
            Command::RetireIndicator {
                indicator: missing,
                reason: Some(text("Không còn phù hợp")),
                document: None,
            },
            WriteOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ServiceError::Domain(e) if e.is_not_found()),
        "{err:?}"
    );
    assert_eq!(g.log.head(), head);
}

#[tokio::test]
async fn a_token_is_checked_against_the_log_as_it_is_now_whoever_wrote_to_it() {
    // Two services on one log (two nodes of a shared log): B reads its
    // credentials without the decision lock while the log stands still,
    // and sees what A wrote as soon as the log moved.
    let g = given().await;
    let other = Projector::open_temporary(&g.log).unwrap();
    other.spawn_follower();
    let b = CommandService::new(g.log.clone(), other.clone());
    let (token_id, token) = g
        .service
        .issue_token(&system(), planner(), None)
        .await
        .unwrap();
    let signed_in = b.authenticate(&token).unwrap();
    assert_eq!(signed_in.principal, planner());
    assert_eq!(signed_in.grants, vec![planner_of("LA.CAN-DUOC")]);
    // Unrelated writes move the log without changing who may sign in.
    g.service
        .execute(
            &Caller::Principal(planner()),
            Command::RegisterDocument(document(7, "LA.CAN-DUOC")),
            WriteOptions::default(),
        )
        .await
        .unwrap();
    assert!(b.authenticate(&token).is_ok());
    // A grant written by A is in B's next answer.
    g.service
        .execute(
            &system(),
            Command::GrantRole {
                principal: planner(),
                grant: planner_of("LA.TAN-TRU"),
            },
            WriteOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(b.authenticate(&token).unwrap().grants.len(), 2);
    // A revocation by A refuses the token on B at once.
    revoke(&g.service, token_id).await;
    assert!(matches!(
        b.authenticate(&token),
        Err(ServiceError::Forbidden(AccessError::InvalidToken))
    ));
    assert!(b.authenticate("not a token").is_err());
}

/// Writers of one stream without an expected version queue on the node
/// instead of deciding on the same version: on the durable log (group
/// commit, so appends of a round really do overlap) none of them gets a
/// conflict, and every write lands.
/// Runs every command at once (as the system), each on a task of its
/// own; every one must be written.
async fn concurrently(g: &Given, commands: impl Iterator<Item = Command>) {
    let writers: Vec<_> = commands
        .map(|command| {
            let service = g.service.clone();
            tokio::spawn(async move {
                service
                    .execute(&system(), command, WriteOptions::default())
                    .await
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_of_one_stream_without_an_expected_version_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let log: Log = Arc::new(SledLog::open(dir.path().join("db")).unwrap());
    let g = given_on(log).await;
    let before = g
        .log
        .stream_version(&StreamId::principal(&planner()).into())
        .unwrap();
    concurrently(
        &g,
        (0..32u128).map(|n| Command::IssueToken {
            principal: planner(),
            token: chitieu_domain::principal::TokenId(Uuid::from_u128(1000 + n)),
            digest: format!("{:064x}", n),
            expires_at: None,
        }),
    )
    .await;
    assert_eq!(
        g.log
            .stream_version(&StreamId::principal(&planner()).into())
            .unwrap(),
        before + 32
    );
}

fn figures_script(digest: Option<String>) -> Vec<Command> {
    use rust_decimal_macros::dec;
    let unit = code("LA.CAN-DUOC");
    let year = ReportingPeriod::Year(2025);
    let doc = DocumentId(Uuid::from_u128(1));
    let id = |i: u128| IndicatorId(Uuid::from_u128(0x100 + i));
    let rid = |i: u128, n: u128| ReportId(Uuid::from_u128(0x1000 + i * 16 + n));
    let june = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    let report = |i, n, status, value| ActualReport {
        report_id: rid(i, n),
        value: ResultValue::Amount { value },
        refers_to: june,
        status,
        source: Some(doc),
        note: None,
        stated: None,
    };
    let mut script = vec![Command::RegisterDocument(document(1, "LA.CAN-DUOC"))];
    for i in 0..4 {
        script.push(Command::DefineIndicator(IndicatorDefinition {
            id: id(i),
            org_unit: unit.clone(),
            period: Period::Year(2025),
            category: Category::Economy,
            code: None,
            name: text(&format!("Chỉ tiêu {i}")),
            unit: Some(text("tỷ đồng")),
            measure: Measure::Amount,
            parent: None,
            previous: None,
            document: Some(doc),
        }));
    }
    for i in 0..4 {
        script.push(Command::SetTarget {
            indicator: id(i),
            track: TargetTrack::Resolution,
            target: Target {
                kind: TargetKind::Plain {
                    value: dec!(10) * rust_decimal::Decimal::from(i as u64 + 1),
                    base: None,
                },
                document: doc,
                wording: None,
            },
        });
        script.push(Command::ReportActual {
            indicator: id(i),
            report: report(i, 1, ResultStatus::Estimate, dec!(7)),
            supersedes: None,
            reason: None,
        });
    }
    for i in 0..4 {
        script.push(Command::ReportActual {
            indicator: id(i),
            report: report(i, 2, ResultStatus::Final, dec!(9.5)),
            supersedes: Some(rid(i, 1)),
            reason: None,
        });
    }
    // Each of these reads figures let go by now.
    script.extend([
        // A second final figure of the same date: refused.
        Command::ReportActual {
            indicator: id(0),
            report: report(0, 3, ResultStatus::Final, dec!(9)),
            supersedes: None,
            reason: None,
        },
        // The track is set: refused.
        Command::SetTarget {
            indicator: id(1),
            track: TargetTrack::Resolution,
            target: Target {
                kind: TargetKind::Plain {
                    value: dec!(5),
                    base: None,
                },
                document: doc,
                wording: None,
            },
        },
        Command::CorrectActual {
            indicator: id(2),
            corrects: rid(2, 2),
            report: report(2, 4, ResultStatus::Final, dec!(9.25)),
            reason: Some(text("Số liệu thống kê chính thức")),
        },
        // Already replaced: refused.
        Command::CorrectActual {
            indicator: id(2),
            corrects: rid(2, 1),
            report: report(2, 5, ResultStatus::Final, dec!(1)),
            reason: Some(text("Nhầm")),
        },
        Command::SubmitPeriod {
            unit: unit.clone(),
            period: year,
            note: None,
        },
        Command::ApprovePeriod {
            unit: unit.clone(),
            period: year,
            approval: ApprovalId(Uuid::from_u128(0xA1)),
            document: doc,
            expected_digest: digest,
        },
        // Into an approved period: refused.
        Command::ReportActual {
            indicator: id(3),
            report: report(3, 6, ResultStatus::Estimate, dec!(8)),
            supersedes: None,
            reason: None,
        },
    ]);
    script
}

/// Runs `script`, each command's outcome as text (its events are in the log).
async fn run(g: &Given, script: Vec<Command>) -> Vec<String> {
    let mut outcomes = Vec::new();
    for command in script {
        let outcome = g
            .service
            .execute(&system(), command, WriteOptions::default())
            .await;
        outcomes.push(match outcome {
            Ok(written) => format!("ok at {}", written.position),
            Err(e) => format!("{e:?}"),
        });
    }
    outcomes
}

/// The digest of Cần Đước's 2025 figures as the service sees them.
fn digest_of(g: &Given) -> String {
    let unit = code("LA.CAN-DUOC");
    let year = ReportingPeriod::Year(2025);
    g.service
        .with_figures(
            |state| state.indicators_of(&unit).collect(),
            |state| {
                approval::sections(state, &unit, year).map(|s| approval::digest(&unit, year, &s).0)
            },
        )
        .unwrap()
        .unwrap()
}

/// A service keeping no figures between decisions, and one keeping half
/// of what they take, decide as one keeping them all: the figures they let
/// go are folded back from each indicator's stream (refusals that read
/// earlier reports and targets, a correction, an approval bound to every
/// indicator's figures), and the figures they hold stay within budget.
#[tokio::test]
async fn figures_let_go_are_folded_back_from_their_streams_and_decide_the_same() {
    let all = given().await;
    let none = given_holding(Arc::new(MemoryLog::new()), 1).await;
    // The digest the approver reviewed, from the service that holds all.
    let mut script = figures_script(None);
    let approve_at = script.len() - 2;
    let tail = script.split_off(approve_at);
    let before_all = run(&all, script.clone()).await;
    assert!(
        before_all.iter().filter(|o| !o.starts_with("ok")).count() == 3,
        "{before_all:?}"
    );
    // What each service holds: how many indicators' figures, and their bytes.
    let held = |g: &Given| {
        g.service
            .with_state(|s| {
                let held: Vec<usize> = s
                    .indicators
                    .values()
                    .filter_map(|i| i.figures.as_deref().map(Figures::held_bytes))
                    .collect();
                (held.len(), held.iter().sum::<usize>())
            })
            .unwrap()
    };
    let (count, bytes) = held(&all);
    assert_eq!(count, 4);
    let half = given_holding(Arc::new(MemoryLog::new()), bytes / 2).await;
    assert_eq!(run(&none, script.clone()).await, before_all);
    assert_eq!(run(&half, script).await, before_all);
    let digest = digest_of(&all);
    assert_eq!(digest_of(&none), digest);
    assert_eq!(digest_of(&half), digest);
    let mut tail = tail;
    if let Command::ApprovePeriod {
        expected_digest, ..
    } = &mut tail[0]
    {
        *expected_digest = Some(digest);
    }
    let after_all = run(&all, tail.clone()).await;
    assert_eq!(run(&none, tail.clone()).await, after_all);
    assert_eq!(run(&half, tail).await, after_all);
    assert!(after_all[0].starts_with("ok"), "{after_all:?}");
    assert!(
        after_all[1].contains("Locked") || after_all[1].contains("Frozen"),
        "{after_all:?}"
    );
    // The same events, decoded, in the same order.
    let events = |g: &Given| -> Vec<Event> {
        g.log
            .read_all(1, usize::MAX)
            .unwrap()
            .iter()
            .map(|r| r.decode().unwrap())
            .collect()
    };
    assert_eq!(events(&all), events(&none));
    assert_eq!(events(&all), events(&half));
    // And they did let them go, within their budgets.
    assert_eq!(held(&all).0, 4);
    assert_eq!(held(&none), (0, 0));
    let (count, held_bytes) = held(&half);
    assert!((1..4).contains(&count), "{count} indicators' figures held");
    assert!(
        held_bytes <= bytes / 2,
        "{held_bytes} bytes held of {}",
        bytes / 2
    );
}

/// An estimate of 1 for 31 March 2025 into `indicator`, report `n`.
fn estimate(indicator: IndicatorId, n: u128) -> Command {
    use rust_decimal_macros::dec;
    Command::ReportActual {
        indicator,
        report: ActualReport {
            report_id: ReportId(Uuid::from_u128(0x9000 + n)),
            value: ResultValue::Amount { value: dec!(1) },
            refers_to: chrono::NaiveDate::from_ymd_opt(2025, 3, 31).unwrap(),
            status: ResultStatus::Estimate,
            source: None,
            note: None,
            stated: None,
        },
        supersedes: None,
        reason: None,
    }
}

/// The first `steps` commands of `figures_script` (the document, four
/// indicators, their targets, estimates and finals), then 48 estimates
/// written concurrently, twelve into each indicator.
async fn four_indicators_written_concurrently(g: &Given, steps: usize) {
    let mut script = figures_script(None);
    script.truncate(steps);
    let setup = run(g, script).await;
    assert!(setup.iter().all(|o| o.starts_with("ok")), "{setup:?}");
    concurrently(
        g,
        (0..48u128).map(|n| estimate(IndicatorId(Uuid::from_u128(0x100 + n % 4)), n)),
    )
    .await;
}

/// Revokes the planner's token `token`, as the system.
async fn revoke(service: &CommandService, token: chitieu_domain::principal::TokenId) {
    service
        .execute(
            &system(),
            Command::RevokeToken {
                principal: planner(),
                token,
            },
            WriteOptions::default(),
        )
        .await
        .unwrap();
}

/// Concurrent writes into more indicators than the service holds figures
/// of: each decision reads the streams it lacks without the decision
/// lock while others decide and append; every write lands, and the
/// figures it ends with are those a fresh fold of the log gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_read_while_others_write_end_as_a_fresh_fold_of_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log: Log = Arc::new(SledLog::open(dir.path().join("db")).unwrap());
    let g = given_holding(log, 1).await;
    // The document, four indicators, their targets and estimates.
    four_indicators_written_concurrently(&g, 1 + 4 + 8).await;
    let other = Projector::open_temporary(&g.log).unwrap();
    let fresh = CommandService::new(g.log.clone(), other);
    let ids: Vec<IndicatorId> = (0..4u128)
        .map(|i| IndicatorId(Uuid::from_u128(0x100 + i)))
        .collect();
    let figures = |service: &CommandService| {
        service
            .with_figures(
                |_| ids.clone(),
                |s| {
                    ids.iter()
                        .map(|id| s.indicators[id].figures.clone())
                        .collect::<Vec<_>>()
                },
            )
            .unwrap()
    };
    let held = figures(&g.service);
    assert_eq!(held, figures(&fresh));
    assert!(held
        .iter()
        .all(|f| f.as_ref().unwrap().reports.len() == 1 + 12));
    // Holding none, the service snapshotted each indicator's figures as it
    // let them go (one is due every `SNAPSHOT_EVERY` events of a stream).
    let snapshots = g._projector.figure_snapshots();
    for id in &ids {
        let snapshot = snapshots.get(*id).unwrap().expect("a snapshot");
        assert!(snapshot.version >= 1 + 1 + 1 + 12 - chitieu_service::SNAPSHOT_EVERY);
    }
}

/// A snapshot of figures is used only where it checks out against the log:
/// one that names a position other than its version's event, one beyond
/// the stream, and one that does not decode are passed over for a fold of
/// the whole stream; one that checks out gives the same figures as the
/// fold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_that_does_not_check_out_against_the_log_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let log: Log = Arc::new(SledLog::open(dir.path().join("db")).unwrap());
    let g = given_holding(log, 1).await;
    let mut script = figures_script(None);
    script.truncate(1 + 4 + 8 + 4); // and the four finals that supersede the estimates
    let setup = run(&g, script).await;
    assert!(setup.iter().all(|o| o.starts_with("ok")), "{setup:?}");
    let id = IndicatorId(Uuid::from_u128(0x100));
    let with_figures = |service: &CommandService| {
        service
            .with_figures(|_| vec![id], |s| s.indicators[&id].figures.clone())
            .unwrap()
            .unwrap()
    };
    let other = Projector::open_temporary(&g.log).unwrap();
    let truth = with_figures(&CommandService::new(g.log.clone(), other));
    assert_eq!(truth.reports.len(), 2);
    // The stream: defined, target, estimate, final: version 4.
    let stream = g
        .log
        .read_stream(&StreamId::indicator(id).into(), 1, usize::MAX)
        .unwrap();
    assert_eq!(stream.len(), 4);
    let snapshots = g._projector.figure_snapshots();
    let fresh = || CommandService::new(g.log.clone(), g._projector.clone()).with_figures_budget(1);
    // Wrong position for its version: passed over.
    snapshots
        .put(id, 2, stream[2].position, &Figures::default())
        .unwrap();
    assert_eq!(with_figures(&fresh()), truth);
    // Beyond the stream: passed over.
    snapshots
        .put(id, 9, stream[3].position, &Figures::default())
        .unwrap();
    assert_eq!(with_figures(&fresh()), truth);
    // A snapshot that checks out (the figures after the target, version 2)
    // and the two reports after it: the same figures.
    let after_target = {
        let events: Vec<Event> = stream[..2].iter().map(|r| r.decode().unwrap()).collect();
        Figures::fold(events.iter().zip(&stream).map(|(e, r)| (e, r.position)))
    };
    assert_eq!(after_target.reports.len(), 0);
    snapshots
        .put(id, 2, stream[1].position, &after_target)
        .unwrap();
    assert_eq!(with_figures(&fresh()), truth);
    // Proof that it was read: a snapshot that checks out but (tampered)
    // holds a report the log never had shows it.
    let tampered = Figures {
        targets: truth.targets.clone(),
        reports: Default::default(),
    };
    snapshots.put(id, 4, stream[3].position, &tampered).unwrap();
    assert_eq!(with_figures(&fresh()).reports.len(), 0);
}

/// Figures the state folded itself (at start, or since their indicator was
/// defined) have no snapshot the service knows of: when they are let go
/// after the start, the stored snapshot's version is read and a new one
/// written if due against it; the start fold itself writes none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_held_from_the_start_are_snapshotted_when_let_go_if_due() {
    let dir = tempfile::tempdir().unwrap();
    let log: Log = Arc::new(SledLog::open(dir.path().join("db")).unwrap());
    let g = given_on(log).await;
    let mut script = figures_script(None);
    script.truncate(1 + 4 + 8 + 4); // each indicator: defined, target, estimate, final
    let setup = run(&g, script).await;
    assert!(setup.iter().all(|o| o.starts_with("ok")), "{setup:?}");
    let id = |i: u128| IndicatorId(Uuid::from_u128(0x100 + i));
    let snapshots = g._projector.figure_snapshots();
    assert!(snapshots.is_empty(), "the default budget let nothing go");
    // As an earlier run would have left it: the last indicator's figures
    // snapshotted after its target (version 2 of 4).
    let stream = g
        .log
        .read_stream(&StreamId::indicator(id(3)).into(), 1, usize::MAX)
        .unwrap();
    assert_eq!(stream.len(), 4);
    let events: Vec<Event> = stream[..2].iter().map(|r| r.decode().unwrap()).collect();
    let after_target = Figures::fold(events.iter().zip(&stream).map(|(e, r)| (e, r.position)));
    snapshots
        .put(id(3), 2, stream[1].position, &after_target)
        .unwrap();
    // A service started holding nothing lets every figure go in its start
    // fold, and writes no snapshot there.
    let started = CommandService::new(g.log.clone(), g._projector.clone()).with_figures_budget(1);
    started.with_state(|_| ()).unwrap();
    assert_eq!(snapshots.len(), 1);
    // One whose budget holds the four indicators' figures from its start…
    let bytes: usize = g
        .service
        .with_state(|s| {
            s.indicators
                .values()
                .filter_map(|i| i.figures.as_deref().map(Figures::held_bytes))
                .sum()
        })
        .unwrap();
    let service = Arc::new(
        CommandService::new(g.log.clone(), g._projector.clone())
            .with_figures_budget(bytes + bytes / 8),
    );
    let held = |service: &CommandService| {
        service
            .with_state(|s| {
                (0..4)
                    .map(|i| s.indicators[&id(i)].figures.is_some())
                    .collect::<Vec<_>>()
            })
            .unwrap()
    };
    assert_eq!(held(&service), [true; 4]);
    // …and then writes estimates into the first until the others' figures
    // no longer fit (the least recently used go first).
    for n in 0..24u128 {
        service
            .execute(&system(), estimate(id(0), n), WriteOptions::default())
            .await
            .unwrap();
    }
    let now = held(&service);
    assert!(!now[1] && !now[2] && !now[3], "{now:?}");
    // Those with no snapshot were due one (four events since none): as of
    // their version now, at its event, and it reads back as a fold would.
    let fresh = CommandService::new(g.log.clone(), Projector::open_temporary(&g.log).unwrap());
    for i in [1, 2] {
        let snapshot = snapshots.get(id(i)).unwrap().expect("a snapshot");
        let stream = g
            .log
            .read_stream(&StreamId::indicator(id(i)).into(), 1, usize::MAX)
            .unwrap();
        assert_eq!(snapshot.version, 4);
        assert_eq!(snapshot.position, stream[3].position);
        let folded = fresh
            .with_figures(|_| vec![id(i)], |s| s.indicators[&id(i)].figures.clone())
            .unwrap()
            .unwrap();
        assert_eq!(snapshot.figures, *folded);
    }
    // The one whose stored snapshot is two events behind was not due.
    assert_eq!(snapshots.get(id(3)).unwrap().unwrap().version, 2);
}

/// A write's own events are folded into the state as it lands, without
/// being read back from the log: the state is the one a fold of the log
/// gives, a token issued is accepted at once and one revoked refused at
/// once (the credentials move with the state), and the snapshots written
/// as figures are let go name their events' real positions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writes_own_events_folded_as_it_lands_give_the_state_the_log_gives() {
    let dir = tempfile::tempdir().unwrap();
    let log: Log = Arc::new(SledLog::open(dir.path().join("db")).unwrap());
    let g = given_holding(log, 1).await;
    let (token_id, token) = g
        .service
        .issue_token(&system(), planner(), None)
        .await
        .unwrap();
    assert_eq!(g.service.authenticate(&token).unwrap().principal, planner());
    four_indicators_written_concurrently(&g, 1 + 4 + 8 + 4).await;
    revoke(&g.service, token_id).await;
    assert!(g.service.authenticate(&token).is_err());
    // The state without the figures (held or let go by budget): as a fresh
    // fold of the log has it.
    let without_figures = |service: &CommandService| {
        service
            .with_state(|s| {
                let mut s = s.clone();
                for indicator in s.indicators.values_mut() {
                    indicator.figures = None;
                }
                s
            })
            .unwrap()
    };
    let other = Projector::open_temporary(&g.log).unwrap();
    let fresh = CommandService::new(g.log.clone(), other);
    assert_eq!(without_figures(&g.service), without_figures(&fresh));
    // Each snapshot's version is its stream's event at that position.
    let snapshots = g._projector.figure_snapshots();
    assert!(!snapshots.is_empty());
    for i in 0..4u128 {
        let id = IndicatorId(Uuid::from_u128(0x100 + i));
        let Some(snapshot) = snapshots.get(id).unwrap() else {
            continue;
        };
        let stream = g
            .log
            .read_stream(&StreamId::indicator(id).into(), 1, usize::MAX)
            .unwrap();
        let event = &stream[usize::try_from(snapshot.version).unwrap() - 1];
        assert_eq!(event.version, snapshot.version);
        assert_eq!(event.position, snapshot.position, "indicator {i}");
    }
}
