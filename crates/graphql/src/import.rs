//! `importTable`: an indicator table uploaded by a client (an office table
//! or a seed table of targets or results; TSV, CSV or XLSX), through the
//! same planner, rules and authorization as `chitieu import`, with the
//! server running. A table with any problem is refused whole, every
//! problem in `extensions.problems` (line, column, why, whyVi); a caller not
//! allowed every command is refused whole too; `dryRun` plans and checks
//! without writing.

use crate::auth::writer;
use crate::error::ApiError;
use crate::error::Msg;
use crate::lang::Lang;
use crate::types::TargetTrack;
use crate::App;
use async_graphql::{Context, ErrorExtensions, InputObject, SimpleObject, ID};
use base64::Engine as _;
use chitieu_domain::vi::Vietnamese;
use chitieu_import as import;
use chitieu_service::{BatchError, Caller};

/// An indicator table to import.
#[derive(InputObject)]
pub struct ImportTableInput {
    /// The file's bytes, base64-encoded: TSV or CSV in UTF-8, or XLSX.
    pub content_base64: String,
    /// Org unit (code or name) of an office table, unless the file says.
    pub org_unit: Option<ID>,
    /// Period of an office table, unless the file says.
    pub period: Option<String>,
    /// The registered document (number or id) that sets an office table's targets, unless the file says.
    pub document: Option<String>,
    /// Track of an office table's targets (resolution when none is given).
    pub track: Option<TargetTrack>,
    /// Plan and check only; write nothing.
    #[graphql(default)]
    pub dry_run: bool,
}

/// A row the importer flagged without refusing it.
#[derive(SimpleObject)]
pub struct ImportNotice {
    /// Line (or spreadsheet row) of the file.
    pub line: u64,
    /// What was noticed.
    pub message: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(SimpleObject)]
pub struct ImportPayload {
    /// Commands in the plan, including those already in the store.
    pub planned: u64,
    /// Commands written now (0 in a dry run).
    pub written: u64,
    /// Commands found written by an earlier import of the same file.
    pub already_there: u64,
    /// Log position of the last command written, if any.
    pub position: Option<u64>,
    /// Rows flagged, not refused.
    pub notices: Vec<ImportNotice>,
    /// The findings about the indicators the import wrote, once written
    /// (empty in a dry run): the documents' inconsistencies it brought in.
    pub findings: Vec<crate::types::Finding>,
    /// Whether nothing was written because it was asked.
    pub dry_run: bool,
}

fn problem_code(kind: import::ProblemKind) -> &'static str {
    match kind {
        import::ProblemKind::Invalid => "VALIDATION",
        import::ProblemKind::PeriodLocked => "PERIOD_LOCKED",
        import::ProblemKind::TooLarge => "PAYLOAD_TOO_LARGE",
    }
}

fn refused(problems: &[import::Problem]) -> async_graphql::Error {
    let list: Vec<serde_json::Value> = problems
        .iter()
        .map(|p| {
            let code = problem_code(p.kind);
            serde_json::json!({ "line": p.line, "column": p.column, "why": p.why, "whyVi": p.why_vi, "code": code })
        })
        .collect();
    // A table refused for one kind of problem only (frozen periods, a
    // budget) says so by its code; a mix is a VALIDATION error.
    let code = match problems.first().map(|p| p.kind) {
        Some(kind) if problems.iter().all(|p| p.kind == kind) => problem_code(kind),
        _ => "VALIDATION",
    };
    let listed = |word: fn(&import::Problem) -> String| {
        problems.iter().map(word).collect::<Vec<_>>().join("; ")
    };
    let message = Msg::new(
        format!(
            "the table is refused, nothing imported: {}",
            listed(|p| p.to_string())
        ),
        format!(
            "bảng bị từ chối, không nhập dòng nào: {}",
            listed(import::Problem::vi)
        ),
    );
    crate::error::worded(message).extend_with(|_, e| {
        e.set("code", code);
        e.set(
            "problems",
            async_graphql::Value::from_json(serde_json::Value::Array(list)).unwrap_or_default(),
        );
    })
}

/// Longest reading and checking a table may take.
const IMPORT_TIME_BUDGET: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `importTable`.
pub async fn import_table(
    ctx: &Context<'_>,
    input: ImportTableInput,
) -> async_graphql::Result<ImportPayload> {
    // Any signed-in principal may try; every command is then authorized
    // against its grants.
    let principal = writer(ctx)?;
    let app = ctx.data_unchecked::<App>();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(input.content_base64.trim())
        .map_err(|e| {
            ApiError::validation(
                format!("`contentBase64` is not base64: {e}"),
                format!("`contentBase64` không phải là base64: {e}"),
            )
        })?;
    let flags = import::Flags {
        org_unit: input.org_unit.map(|o| o.0),
        period: input.period,
        document: input.document,
        track: input.track.map(|t| {
            match chitieu_domain::TargetTrack::from(t) {
                chitieu_domain::TargetTrack::Assigned => "assigned",
                chitieu_domain::TargetTrack::Resolution => "resolution",
                chitieu_domain::TargetTrack::Stretch => "stretch",
            }
            .to_owned()
        }),
    };
    // Reading and planning an untrusted file is CPU work: off the async
    // executor (other requests go on), under the file budgets of the
    // reader, and within a time budget.
    let worker = app.clone();
    let work = tokio::task::spawn_blocking(move || {
        let table = import::Table::read(&bytes).map_err(|p| refused(&[p]))?;
        let options = worker
            .service
            .with_state(|state| flags.resolve(state))
            .map_err(ApiError::from)?
            .map_err(|e| {
                ApiError::validation(e.clone(), format!("không áp dụng được tham số nhập: {e}"))
            })?;
        // The figures the plan reads are loaded first (the state keeps
        // a bounded set of them).
        let planned = worker
            .service
            .with_figures(
                |state| import::figures_read(&table, &options, state),
                |state| import::plan(&table, &options, state, |key| worker.service.key_used(key)),
            )
            .map_err(ApiError::from)?;
        planned.map_err(|problems| refused(&problems))
    });
    let steps = match tokio::time::timeout(IMPORT_TIME_BUDGET, work).await {
        Ok(Ok(planned)) => planned?,
        Ok(Err(panicked)) => return Err(ApiError::internal(&panicked).into()),
        Err(_) => {
            return Err(ApiError::Timeout(Msg::new(
                format!(
                    "reading and checking the table took more than {} s; split it",
                    IMPORT_TIME_BUDGET.as_secs()
                ),
                format!(
                    "đọc và kiểm tra bảng mất hơn {} giây; hãy chia nhỏ bảng",
                    IMPORT_TIME_BUDGET.as_secs()
                ),
            ))
            .into())
        }
    };
    let lines: Vec<usize> = steps.iter().map(|s| s.line).collect();
    let notices = steps
        .iter()
        .filter_map(|s| {
            s.notice.as_ref().map(|n| ImportNotice {
                line: s.line as u64,
                message: n.clone(),
            })
        })
        .collect();
    let caller = Caller::Principal(principal.principal.clone());
    let batch_error = |e: BatchError| -> async_graphql::Error {
        match e {
            BatchError::Refused(refused) => {
                let listed = |lang: Lang| {
                    refused
                        .iter()
                        .map(|(i, e)| match lang {
                            Lang::En => format!("line {}: {e}", lines[*i]),
                            Lang::Vi => format!("dòng {}: {}", lines[*i], e.vi()),
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                ApiError::Forbidden(Msg::new(
                    format!(
                        "the table is refused, nothing imported: {}",
                        listed(Lang::En)
                    ),
                    format!("bảng bị từ chối, không nhập dòng nào: {}", listed(Lang::Vi)),
                ))
                .extend()
            }
            BatchError::Failed { index, error } => {
                let api = ApiError::from(error);
                let line = lines.get(index).copied().unwrap_or(0);
                let message = Msg::new(
                    format!(
                        "line {line}: {} (the lines before it were imported; import the same file again to finish)",
                        api.message(Lang::En)
                    ),
                    format!(
                        "dòng {line}: {} (các dòng trước đó đã được nhập; nhập lại chính tệp này để hoàn tất)",
                        api.message(Lang::Vi)
                    ),
                );
                crate::error::worded(message).extend_with(|_, e| e.set("code", api.code()))
            }
        }
    };
    let planned = steps.len() as u64;
    if input.dry_run {
        let commands: Vec<&chitieu_domain::Command> = steps.iter().map(|s| &s.command).collect();
        app.service
            .authorize_all(&caller, &commands)
            .map_err(batch_error)?;
        return Ok(ImportPayload {
            planned,
            written: 0,
            already_there: 0,
            position: None,
            notices,
            findings: Vec::new(),
            dry_run: true,
        });
    }
    let touched: std::collections::BTreeSet<chitieu_domain::IndicatorId> = steps
        .iter()
        .filter_map(|s| match s.command.stream_id() {
            chitieu_domain::StreamId::Indicator(id) => Some(id),
            _ => None,
        })
        .collect();
    let commands = steps.into_iter().map(|s| (s.command, s.key)).collect();
    let outcome = app
        .service
        .execute_all(&caller, commands)
        .await
        .map_err(batch_error)?;
    let findings = findings_about(app, &touched, outcome.position).await?;
    Ok(ImportPayload {
        planned,
        written: outcome.written as u64,
        already_there: outcome.replayed as u64,
        position: (outcome.position > 0).then_some(outcome.position),
        notices,
        findings,
        dry_run: false,
    })
}

/// The findings about `touched` indicators (or naming them among the
/// indicators involved), once the read models hold `position`.
async fn findings_about(
    app: &App,
    touched: &std::collections::BTreeSet<chitieu_domain::IndicatorId>,
    position: u64,
) -> async_graphql::Result<Vec<crate::types::Finding>> {
    if touched.is_empty() {
        return Ok(Vec::new());
    }
    let _ = app
        .read
        .projector()
        .wait_for(position, std::time::Duration::from_secs(10))
        .await;
    Ok(app
        .read
        .findings_about(touched)
        .map_err(ApiError::from)?
        .into_iter()
        .map(|(f, name)| crate::types::Finding::of(f, name))
        .collect())
}

/// The import of tables.
#[derive(Default)]
pub struct ImportMutations;

#[async_graphql::Object]
impl ImportMutations {
    /// Import an indicator table (an office table, or a seed table of
    /// targets or results; TSV, CSV or XLSX, base64-encoded). Refused whole,
    /// with every problem in `extensions.problems` (`line`, `column`, `why`
    /// in English, `whyVi` in Vietnamese, `code`), if anything is wrong or
    /// not allowed; importing the same file again changes nothing.
    async fn import_table(
        &self,
        ctx: &Context<'_>,
        input: ImportTableInput,
    ) -> async_graphql::Result<ImportPayload> {
        import_table(ctx, input).await
    }
}
