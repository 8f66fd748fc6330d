//! `chitieu`: the server binary.
//!
//! - `chitieu demo`: serve with the demo data from the seed documents (an
//!   embedded default data directory, introspection and GraphiQL on,
//!   a printed token for each demo person).
//! - `chitieu serve`: serve (flags, `CHITIEU_*` variables or `--config`).
//! - `chitieu schema`: print the GraphQL SDL.

use chitieu_server::config::ServeArgs;
use clap::{Parser, Subcommand};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Commands::Schema => {
            print!("{}", chitieu_graphql::sdl());
            Ok(())
        }
        Commands::Demo(args) => run(args.resolve(true)?),
        Commands::Serve(args) => run(args.resolve(false)?),
    }
}

fn run(config: chitieu_server::config::Config) -> anyhow::Result<()> {
    chitieu_server::telemetry::init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(chitieu_server::serve(config))
}
