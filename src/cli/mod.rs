//! The `jobsql` command line: `jobsql query` runs SQL and prints the results, `jobsql emulator`
//! serves the built-in Jobs API emulator, `jobsql serve` the Postgres protocol ([`serve`]),
//! `jobsql shell` is the interactive shell ([`shell`]).
//!
//! `main` → [`main_inner`] → `Result`; every error is printed to stderr as one `error: ...` line
//! and gives exit code 1 (clap's usage errors give 2; a write whose outcome is unknown — some
//! request may have been done, its answer lost — gives 3: check before re-running). Nothing panics on user input. Ctrl-C
//! during `jobsql query` abandons the requests in flight and exits with code 130. Warnings
//! (a config file others can read, a workspace skipped by `--keep-going`) go to stderr as
//! `warning: ...` lines.

pub mod api_args;
pub mod serve;
pub mod setup;
pub mod shell;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use futures::StreamExt;

use crate::emulator::{self, EmulatorArgs};
use crate::output::{OutputFormat, Printer};
use crate::provider::progress::Progress;
use crate::session::{new_context, split_statements, stream_statement, user_message};
pub use api_args::ApiArgs;

/// SQL over Databricks job runs.
#[derive(Debug, Parser)]
#[command(name = "jobsql", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run SQL statements and print their results.
    Query(QueryArgs),
    /// Serve the built-in Databricks Jobs API emulator until Ctrl-C.
    Emulator(EmulatorArgs),
    /// Serve the tables over the Postgres wire protocol (psql, BI tools, drivers).
    Serve(serve::ServeArgs),
    /// An interactive SQL shell (or, with piped input, run its statements).
    Shell(shell::ShellArgs),
}

/// Arguments of `jobsql query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Start the emulator in-process and make it the default workspace ("demo"; a second
    /// one answers to deployment_name 'demo2').
    #[arg(long)]
    pub demo: bool,
    /// Read SQL from this file (statements separated by `;`).
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// Load provider specs from this directory instead of the built-in ones.
    #[arg(long)]
    pub spec_dir: Option<PathBuf>,
    /// Send no mutation: print every request INSERT / DELETE / EXEC would send (method, URL,
    /// JSON body; the token masked) instead. Reads still run.
    #[arg(long)]
    pub dry_run: bool,
    /// How the API is called (retries, timeouts, concurrency, ...).
    #[command(flatten)]
    pub api: ApiArgs,
    /// The SQL to run.
    pub sql: Option<String>,
}

/// Errors of the command line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// No SQL given.
    #[error("no SQL given: pass it as an argument or with -f FILE")]
    NoSql,
    /// Reading the SQL file failed.
    #[error("cannot read {path}: {source}")]
    ReadFile {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Ctrl-C: in-flight requests were abandoned.
    #[error("interrupted")]
    Interrupted,
    /// Anything from the layers below, already worded for the user.
    #[error("{0}")]
    Message(String),
    /// A write some of whose requests may have been done without their answer arriving
    /// (exit code 3): re-running it blindly could do them twice.
    #[error("{0}")]
    UnknownOutcome(String),
}

/// The exit code of a write whose outcome is unknown.
pub const EXIT_UNKNOWN_OUTCOME: u8 = 3;

/// A statement's error for the user, keeping whether a write's outcome is unknown.
fn statement_error(e: &datafusion::error::DataFusionError) -> CliError {
    let unknown = match e.find_root() {
        datafusion::error::DataFusionError::External(inner) => {
            inner
                .downcast_ref::<crate::write::WriteError>()
                .is_some_and(|w| w.outcome_unknown())
                || inner
                    .downcast_ref::<crate::provider::ProviderError>()
                    .is_some_and(|p| p.outcome_unknown())
        }
        _ => false,
    };
    if unknown {
        CliError::UnknownOutcome(user_message(e))
    } else {
        message(user_message(e))
    }
}

fn message(e: impl std::fmt::Display) -> CliError {
    CliError::Message(e.to_string())
}

/// The whole program: parse arguments, run, map errors to an exit code.
pub fn main_entry() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(main_inner(cli));
    // Tasks still running (requests abandoned by Ctrl-C) are not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Interrupted) => {
            eprintln!("interrupted");
            ExitCode::from(130)
        }
        Err(e @ CliError::UnknownOutcome(_)) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_UNKNOWN_OUTCOME)
        }
        Err(e) => {
            eprintln!("error: {}", crate::redact::outgoing(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// Run the parsed command.
pub async fn main_inner(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Query(args) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            // Ctrl-C drops the query's future: every request in flight is abandoned at once.
            tokio::select! {
                biased;
                _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted),
                result = run_query(args, &mut out) => result,
            }
        }
        Command::Emulator(args) => emulator::run_command(args).await.map_err(message),
        Command::Serve(args) => serve::run_serve(args).await,
        Command::Shell(args) => shell::run_shell(args).await,
    }
}

/// `jobsql query`: run every statement and print each result to `out`.
pub async fn run_query<W: Write>(args: QueryArgs, out: &mut W) -> Result<(), CliError> {
    let sql = match (&args.file, &args.sql) {
        (Some(path), _) => std::fs::read_to_string(path).map_err(|source| CliError::ReadFile {
            path: path.display().to_string(),
            source,
        })?,
        (None, Some(sql)) => sql.clone(),
        (None, None) => return Err(CliError::NoSql),
    };
    let specs = setup::load_specs(args.spec_dir.as_ref())?;
    let (workspaces, demo) = setup::workspaces(args.demo).await?;
    let mut runtime = args.api.runtime(workspaces)?;
    if args.dry_run {
        runtime = runtime.with_dry_run();
    }
    let dry_run = runtime.dry_run.clone();
    // On stderr when it is a terminal and rows do not stream to the same screen meanwhile.
    let show = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && (args.format == OutputFormat::Table
            || !std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let ticker = show.then(|| {
        let progress = Arc::new(Progress::default());
        runtime.progress = Some(progress.clone());
        tokio::spawn(show_progress(progress))
    });
    let warnings = runtime.warnings.clone();
    let ctx = new_context(&specs, Arc::new(runtime)).map_err(|e| message(user_message(&e)))?;
    let result = async {
        for statement in split_statements(&sql).map_err(|e| message(user_message(&e)))? {
            let printed = match stream_statement(&ctx, statement).await {
                Ok((schema, batches)) => {
                    let shown = ticker.is_some();
                    print_stream(args.format, &schema, batches, dry_run.as_ref(), shown, out).await
                }
                Err(e) => Err(statement_error(&e)),
            };
            for warning in warnings.take() {
                eprintln!("warning: {}", crate::redact::outgoing(&warning));
            }
            printed?;
            out.flush().map_err(message)?;
        }
        Ok(())
    }
    .await;
    if let Some(ticker) = ticker {
        ticker.abort();
        eprint!("\r\x1b[2K");
    }
    for handle in demo {
        handle.shutdown().await;
    }
    result
}

/// Print one statement's result as its batches arrive. The first batch is awaited before
/// anything is printed: a DELETE has then run, and a dry run's requests come first.
async fn print_stream<W: Write>(
    format: OutputFormat,
    schema: &datafusion::arrow::datatypes::SchemaRef,
    mut batches: datafusion::execution::SendableRecordBatchStream,
    dry_run: Option<&crate::write::DryRunLog>,
    progress_shown: bool,
    out: &mut W,
) -> Result<(), CliError> {
    let fail = |e: datafusion::error::DataFusionError| statement_error(&e);
    let first = batches.next().await.transpose().map_err(fail)?;
    if progress_shown {
        eprint!("\r\x1b[2K"); // the progress line gives way to the result
    }
    for planned in dry_run.iter().flat_map(|log| log.take()) {
        let planned = crate::redact::outgoing(&planned.to_string());
        writeln!(out, "DRY RUN (not sent): {planned}").map_err(message)?;
    }
    let mut printer = Printer::new(format, schema, out);
    if let Some(batch) = first {
        printer.write(&batch).map_err(message)?;
    }
    while let Some(batch) = batches.next().await {
        // On an error, what was printed stays printed, and the statement still fails.
        printer.write(&batch.map_err(fail)?).map_err(message)?;
    }
    if progress_shown {
        eprint!("\r\x1b[2K");
    }
    printer.finish().map_err(message)
}

/// The progress line on stderr (a terminal), redrawn while a scan runs longer than a second.
async fn show_progress(progress: Arc<Progress>) {
    let mut shown = (0, 0);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    let start = std::time::Instant::now();
    loop {
        tick.tick().await;
        let counts = progress.counts();
        if start.elapsed().as_secs() >= 1 && counts != shown {
            shown = counts;
            eprint!("\r\x1b[2K{}", progress.line());
        }
    }
}
