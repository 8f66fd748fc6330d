//! `chitieu`: the server binary.
//!
//! - `chitieu demo`: serve with the demo data from the seed documents (an
//!   embedded default data directory, introspection and GraphiQL on,
//!   a printed token for each demo person).
//! - `chitieu serve`: serve (flags, `CHITIEU_*` variables or `--config`).
//! - `chitieu schema`: print the GraphQL SDL.
//! - `chitieu config check FILE`: every problem of a configuration file.
//! - `chitieu token`, `import`, `export`, `log`, `verify`, `rebuild`: the
//!   operator's commands, with the server stopped (or on the shared log).
//! - `chitieu key show`, `backup`, `restore`, `verify --backup/--proof/
//!   --head`: evidence (`docs/proofs.md`); `backup --server` while the
//!   server runs, `verify` of evidence without any server.

use chitieu_server::config::ServeArgs;
use clap::{Parser, Subcommand};

#[global_allocator]
static GLOBAL: chitieu_alloc::Allocator = chitieu_alloc::Allocator;

#[derive(Parser)]
#[command(
    name = "chitieu",
    version,
    about = "Targets and results of public resolutions, with their full history"
)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Serve with the demo data set (loaded into an empty data directory).
    Demo(ServeArgs),
    /// Serve.
    Serve(ServeArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Asks a running server whether it is ready (`/readyz`): exit status 0
    /// when it answers 200, 1 otherwise. For a container's HEALTHCHECK
    /// (the image has no curl).
    Health {
        /// The URL to ask [default: /readyz on CHITIEU_LISTEN, or on
        /// 127.0.0.1:8080; a wildcard address is asked on loopback].
        #[arg(long)]
        url: Option<String>,
        /// Longest wait for the answer, in milliseconds.
        #[arg(long, default_value_t = 3000)]
        timeout_ms: u64,
    },
    /// Import a table with the server stopped: an office table (STT | NỘI DUNG | CHỈ TIÊU) or a
    /// seed table of targets or results, as TSV, CSV or a spreadsheet (XLSX, XLS, ODS).
    Import {
        /// Data directory.
        #[command(flatten)]
        data: DataArgs,
        /// The importing principal (its grants must cover what the file writes).
        #[arg(long = "as")]
        principal: String,
        /// Org unit of the indicators (code or name), unless the file says.
        #[arg(long)]
        org_unit: Option<String>,
        /// Period of the indicators (`2025`, `2020-2025`, …), unless the file says.
        #[arg(long)]
        period: Option<String>,
        /// The registered document that sets the targets (number or id), unless the file says.
        #[arg(long)]
        document: Option<String>,
        /// Target track: assigned, resolution (the default) or stretch.
        #[arg(long)]
        track: Option<String>,
        /// The file.
        file: std::path::PathBuf,
    },
    /// Export with the server stopped: an org unit's report for a period (CSV to standard
    /// output, or XLSX), or every target in the seed-table layout (`--layout targets`).
    Export {
        /// `report` (the documents' layout: target, result, % achieved, status) or `targets`.
        #[arg(long, default_value = "report")]
        layout: String,
        /// Write an XLSX workbook to this file instead of CSV to standard output (report layout).
        #[arg(long)]
        xlsx: Option<std::path::PathBuf>,
        /// Data directory.
        #[command(flatten)]
        data: DataArgs,
        /// Org unit (required for the report; for targets, with its descendants).
        #[arg(long)]
        org_unit: Option<String>,
        /// Period (required for the report).
        #[arg(long)]
        period: Option<String>,
        /// The report of the org unit's own indicators only (by default the
        /// units under it are included, their names in brackets).
        #[arg(long)]
        own_only: bool,
    },
    /// Manage bearer tokens with the server stopped.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The log itself: copy it between backends, verify it.
    #[command(subcommand)]
    Log(LogCommand),
    /// Check the store with the server stopped: the log's hash chain, and
    /// with `--read-models` the read models against a rebuild from the log.
    /// Without a server or a store: `--backup FILE`, `--proof FILE` or
    /// `--head FILE`, checked against `--key` (the log's public key), with
    /// a verdict in Vietnamese and English (exit status 1 if it fails).
    Verify {
        /// Data directory.
        #[command(flatten)]
        data: DataArgs,
        /// Also compare the read models with a rebuild from the log.
        #[arg(long)]
        read_models: bool,
        /// A backup (`chitieu backup`) to check: every record, its chain,
        /// the signed head and the file's signature.
        #[arg(long, conflicts_with_all = ["proof", "read_models"])]
        backup: Option<std::path::PathBuf>,
        /// A proof bundle (inclusion or consistency, `docs/proofs.md`).
        #[arg(long, conflicts_with = "read_models")]
        proof: Option<std::path::PathBuf>,
        /// A signed head recorded earlier: with --backup, the backup must
        /// contain it; with a consistency --proof, the proof must start
        /// there; alone, its signature is checked.
        #[arg(long)]
        head: Option<std::path::PathBuf>,
        /// The log's public key you trust (a file with SPKI PEM or base64,
        /// or the base64 itself), as `chitieu key show` prints it.
        #[arg(long)]
        key: Option<String>,
    },
    /// The log's signing key.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Writes a signed, self-proving backup of the log (`docs/proofs.md`):
    /// from a running server with `--server`, else from the data
    /// directory (server stopped) or the shared log.
    Backup {
        /// Data directory.
        #[command(flatten)]
        data: DataArgs,
        /// The file to write (gzip of JSON Lines).
        #[arg(long)]
        to: std::path::PathBuf,
        /// A running server's base URL (`http://127.0.0.1:8080`).
        #[arg(long)]
        server: Option<String>,
        /// A file holding a bearer token for `--server` (an audit grant
        /// reaching everywhere); or CHITIEU_TOKEN.
        #[arg(long)]
        token_file: Option<std::path::PathBuf>,
        /// The signing key [default: <data-dir>/log-key.pem].
        #[arg(long, env = "CHITIEU_SIGNING_KEY")]
        signing_key: Option<std::path::PathBuf>,
        /// The log's name in its signed heads.
        #[arg(long, env = "CHITIEU_LOG_ORIGIN", default_value = "chitieu")]
        log_origin: String,
    },
    /// Builds a new store from a backup, after checking all of it; then
    /// builds the read models and checks the restored log's signed root.
    Restore {
        /// Data directory (and `--log` for the shared log) to restore into.
        #[command(flatten)]
        data: DataArgs,
        /// The backup.
        #[arg(long)]
        from: std::path::PathBuf,
        /// The public key the backup must be signed with.
        #[arg(long)]
        key: Option<String>,
    },
    /// Drop the read models and rebuild them from the log, with the server
    /// stopped (the repair when `verify --read-models` finds them damaged).
    Rebuild {
        /// Data directory.
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Where the data is: the same flags for every command that opens it.
#[derive(clap::Args)]
struct DataArgs {
    /// Data directory (read models, and the embedded log).
    #[arg(long, env = "CHITIEU_DATA_DIR", default_value = "chitieu-data")]
    data_dir: std::path::PathBuf,
    /// The shared log, `postgres://…` [default: the embedded log in <data-dir>/db].
    #[arg(long, env = "CHITIEU_LOG")]
    log: Option<String>,
}

impl DataArgs {
    fn location(&self) -> chitieu_server::Location {
        chitieu_server::Location {
            data_dir: self.data_dir.clone(),
            log: self.log.clone().filter(|l| !l.is_empty()),
            memory: chitieu_server::config::MemoryConfig::default(),
        }
    }
}

/// `chitieu config …`: configuration files.
#[derive(Subcommand)]
enum ConfigCommand {
    /// Reports every unknown key, ill-typed value and invalid setting of a
    /// configuration file (exit status 1 if any), before a restart finds
    /// them; prints the configuration it gives when it is valid.
    Check {
        /// The TOML file (see chitieu.example.toml).
        file: std::path::PathBuf,
    },
}

/// `chitieu log …`: the log itself.
#[derive(Subcommand)]
enum LogCommand {
    /// Copies a log into an empty one (or one that holds a prefix of it),
    /// with every position and hash unchanged, and verifies the copy:
    /// `--from <data-dir> --to postgres://…` moves an embedded office to
    /// the shared log, and back.
    Copy {
        /// A data directory (its embedded log) or a `postgres://` URL.
        #[arg(long)]
        from: String,
        /// A data directory or a `postgres://` URL.
        #[arg(long)]
        to: String,
    },
    /// Walks the whole hash chain and reports the first break.
    Verify {
        #[command(flatten)]
        data: DataArgs,
    },
}

/// `chitieu key …`: the log's signing key.
#[derive(Subcommand)]
enum KeyCommand {
    /// Prints the public key auditors check signed heads with (creating
    /// the key, as the first start would, if there is none yet).
    Show {
        /// Data directory.
        #[arg(long, env = "CHITIEU_DATA_DIR", default_value = "chitieu-data")]
        data_dir: std::path::PathBuf,
        /// The signing key [default: <data-dir>/log-key.pem].
        #[arg(long, env = "CHITIEU_SIGNING_KEY")]
        signing_key: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// On a store without principals: create the first admin and print its token.
    CreateAdmin {
        /// Data directory.
        #[command(flatten)]
        data: DataArgs,
        /// Principal id.
        #[arg(long, default_value = "admin")]
        id: String,
        /// Display name.
        #[arg(long, default_value = "Administrator")]
        name: String,
        /// Succeed doing nothing when the store has principals already (for
        /// a start script or an init container run before every start).
        #[arg(long)]
        if_none: bool,
        /// Write the token to this new file (mode 0600) instead of standard output.
        #[arg(long)]
        token_file: Option<std::path::PathBuf>,
    },
    /// Issue a token to a principal and print it (shown once).
    Issue {
        /// Data directory.
        #[command(flatten)]
        data: DataArgs,
        /// Principal id.
        #[arg(long)]
        principal: String,
        /// Days until it expires (never, when absent).
        #[arg(long)]
        days: Option<u32>,
    },
    /// Revoke a token by its id.
    Revoke {
        /// Data directory.
        #[command(flatten)]
        data: DataArgs,
        /// Principal id.
        #[arg(long)]
        principal: String,
        /// The token's id.
        #[arg(long)]
        token_id: uuid::Uuid,
    },
}

/// Transparent huge pages off for this process, unless the operator chose
/// with `CHITIEU_ALLOW_THP`: with them the server held 60 MiB more at
/// 100,000 indicators (362 against 422 MiB when ready) and read no faster,
/// and a rebuild peaked 50 MiB higher (BENCHMARKS.md, measured under
/// mimalloc, which advised huge pages for its arenas: each fresh 2 MiB of
/// them is faulted in and zeroed whole).
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("CHITIEU_ALLOW_THP").is_none() {
        if let Err(error) = rustix::thread::disable_transparent_huge_pages(true) {
            eprintln!("chitieu: could not turn transparent huge pages off: {error}");
        }
    }
}

fn main() -> anyhow::Result<()> {
    without_huge_pages();
    let cli = Cli::parse();
    match cli.command {
        Commands::Schema => {
            print!("{}", chitieu_graphql::sdl());
            Ok(())
        }
        Commands::Demo(args) => start(args, true),
        Commands::Health { url, timeout_ms } => {
            let url = url.unwrap_or_else(|| {
                let listen = std::env::var("CHITIEU_LISTEN")
                    .ok()
                    .and_then(|l| l.parse::<std::net::SocketAddr>().ok())
                    .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 8080)));
                chitieu_server::probe::readyz_url(listen)
            });
            match chitieu_server::probe::get(&url, std::time::Duration::from_millis(timeout_ms)) {
                Ok((200, body)) => {
                    println!("{url}: ready {body}");
                    Ok(())
                }
                Ok((status, body)) => {
                    eprintln!("{url}: not ready ({status}) {body}");
                    std::process::exit(1);
                }
                Err(e) => {
                    eprintln!("{url}: no answer: {e}");
                    std::process::exit(1);
                }
            }
        }
        Commands::Config(ConfigCommand::Check { file }) => {
            match chitieu_server::config::check_file(&file) {
                Ok(config) => {
                    use std::io::Write;
                    // A closed pipe (`| head`) is not an error of the check.
                    let _ = writeln!(
                        std::io::stdout(),
                        "{}: valid; it gives\n{config:#?}",
                        file.display()
                    );
                    Ok(())
                }
                Err(problems) => {
                    eprintln!("{}: {} problem(s)", file.display(), problems.len());
                    for problem in problems {
                        eprintln!("  {problem}");
                    }
                    std::process::exit(1);
                }
            }
        }
        Commands::Import {
            data,
            principal,
            org_unit,
            period,
            document,
            track,
            file,
        } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let flags = chitieu_import::Flags {
                org_unit,
                period,
                document,
                track,
            };
            let out = runtime.block_on(chitieu_server::import_file(
                &data.location(),
                &principal,
                &flags,
                &file,
            ))?;
            println!("{out}");
            Ok(())
        }
        Commands::Export {
            layout,
            xlsx,
            data,
            org_unit,
            period,
            own_only,
        } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            match layout.as_str() {
                "report" => {
                    let (Some(org_unit), Some(period)) = (org_unit, period) else {
                        anyhow::bail!("the report needs --org-unit and --period");
                    };
                    let (csv, workbook) = runtime.block_on(chitieu_server::export(
                        &data.location(),
                        &org_unit,
                        &period,
                        !own_only,
                    ))?;
                    match xlsx {
                        Some(path) => std::fs::write(&path, workbook)?,
                        None => print!("{csv}"),
                    }
                }
                "targets" => {
                    if xlsx.is_some() {
                        anyhow::bail!("--xlsx is for the report layout");
                    }
                    let table = runtime.block_on(chitieu_server::export_targets(
                        &data.location(),
                        org_unit.as_deref(),
                        period.as_deref(),
                    ))?;
                    print!("{table}");
                }
                other => anyhow::bail!("--layout is report or targets, not `{other}`"),
            }
            Ok(())
        }
        Commands::Token(command) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let out = runtime.block_on(async {
                match command {
                    TokenCommand::CreateAdmin {
                        data,
                        id,
                        name,
                        if_none,
                        token_file,
                    } => {
                        chitieu_server::create_first_admin(
                            &data.location(),
                            &id,
                            &name,
                            chitieu_server::FirstAdmin {
                                if_none,
                                token_file,
                            },
                        )
                        .await
                    }
                    TokenCommand::Issue {
                        data,
                        principal,
                        days,
                    } => {
                        chitieu_server::manage_token(&data.location(), &principal, None, days).await
                    }
                    TokenCommand::Revoke {
                        data,
                        principal,
                        token_id,
                    } => {
                        chitieu_server::manage_token(
                            &data.location(),
                            &principal,
                            Some(token_id),
                            None,
                        )
                        .await
                    }
                }
            })?;
            println!("{out}");
            Ok(())
        }
        Commands::Serve(args) => start(args, false),
        Commands::Log(command) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let out = runtime.block_on(async {
                match command {
                    LogCommand::Copy { from, to } => chitieu_server::copy_log(&from, &to).await,
                    LogCommand::Verify { data } => {
                        chitieu_server::verify_log(&data.location()).await
                    }
                }
            })?;
            println!("{out}");
            Ok(())
        }
        Commands::Verify {
            backup,
            proof,
            head,
            key,
            ..
        } if backup.is_some() || proof.is_some() || head.is_some() => {
            use chitieu_server::evidence::{read_public_key, verify_offline, Offline};
            let key = key.as_deref().map(read_public_key).transpose()?;
            let what = match (backup, proof, head) {
                (Some(file), _, head) => Offline::Backup { file, head },
                (None, Some(file), head) => Offline::Proof { file, head },
                (None, None, Some(file)) => Offline::Head { file },
                (None, None, None) => unreachable!("guarded above"),
            };
            let verdict = verify_offline(&what, key.as_ref());
            println!("{}\n{}", verdict.vi, verdict.en);
            if !verdict.ok {
                std::process::exit(1);
            }
            Ok(())
        }
        Commands::Key(KeyCommand::Show {
            data_dir,
            signing_key,
        }) => {
            let path = signing_key.unwrap_or_else(|| data_dir.join(chitieu_server::LOG_KEY));
            print!("{}", chitieu_server::evidence::key_show(&path)?);
            Ok(())
        }
        Commands::Backup {
            data,
            to,
            server,
            token_file,
            signing_key,
            log_origin,
        } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let out = match server {
                Some(url) => {
                    let token = match token_file {
                        Some(path) => std::fs::read_to_string(&path)
                            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                        None => std::env::var("CHITIEU_TOKEN").map_err(|_| {
                            anyhow::anyhow!("--server needs --token-file or CHITIEU_TOKEN")
                        })?,
                    };
                    runtime.block_on(chitieu_server::evidence::backup_from_server(
                        &url, &token, &to,
                    ))?
                }
                None => {
                    let location = data.location();
                    let key = signing_key
                        .unwrap_or_else(|| location.data_dir.join(chitieu_server::LOG_KEY));
                    runtime.block_on(chitieu_server::evidence::backup_store(
                        &location,
                        &key,
                        &log_origin,
                        &to,
                    ))?
                }
            };
            println!("{out}");
            Ok(())
        }
        Commands::Restore { data, from, key } => {
            let key = key
                .as_deref()
                .map(chitieu_server::evidence::read_public_key)
                .transpose()?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let out = runtime.block_on(chitieu_server::evidence::restore(
                &from,
                &data.location(),
                key,
            ))?;
            println!("{out}");
            Ok(())
        }
        Commands::Verify {
            data, read_models, ..
        } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let out =
                runtime.block_on(chitieu_server::verify_store(&data.location(), read_models))?;
            println!("{out}");
            Ok(())
        }
        Commands::Rebuild { data } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let out = runtime.block_on(chitieu_server::rebuild_read_models(&data.location()))?;
            println!("{out}");
            Ok(())
        }
    }
}

/// `serve` and `demo`: serve, or with `--check-config` only say whether
/// this invocation would start.
fn start(args: ServeArgs, demo: bool) -> anyhow::Result<()> {
    let unknown = chitieu_server::config::unknown_variables();
    if args.check_config {
        let mut problems: Vec<String> = unknown
            .iter()
            .map(|v| format!("{v}: no setting has this variable (see chitieu.example.toml)"))
            .collect();
        match args.resolve(demo) {
            Ok(config) if problems.is_empty() => {
                println!("valid; it gives\n{config:#?}");
                return Ok(());
            }
            Ok(_) => {}
            Err(e) => problems.push(format!("{e:#}")),
        }
        eprintln!("{} problem(s)", problems.len());
        for problem in problems {
            eprintln!("  {problem}");
        }
        std::process::exit(1);
    }
    let config = args.resolve(demo)?;
    run(config, &unknown)
}

fn run(config: chitieu_server::config::Config, unknown: &[String]) -> anyhow::Result<()> {
    let format = chitieu_server::telemetry::LogFormat::or_by_terminal(config.log_format);
    chitieu_server::telemetry::init(format);
    // Freed memory goes back to the OS within a second, from jemalloc's
    // background thread (`chitieu_alloc`; `_RJEM_MALLOC_CONF` overrides).
    tracing::debug!(allocator = ?chitieu_alloc::settings(), "allocator");
    for variable in unknown {
        tracing::warn!(%variable, "no setting has this variable; it is ignored (see chitieu.example.toml)");
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(chitieu_server::serve(config))
}
