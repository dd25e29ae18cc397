//! The `jobsql` command line: `jobsql query` runs SQL and prints the results, `jobsql emulator`
//! serves the built-in Jobs API emulator, `jobsql serve` the Postgres protocol ([`serve`]),
//! `jobsql shell` is the interactive shell ([`shell`]), `jobsql mcp` the MCP server for AI
//! assistants ([`mcp`](mod@mcp)), `jobsql sync` copies the run history into Delta tables
//! ([`sync`](mod@sync)).
//!
//! `jobsql query` parses its script once and prints each statement through
//! [`jobsql_core::output::run::run_and_print`], the path the shell uses too: rows are printed as they
//! arrive.
//!
//! `main` → [`main_inner`] → `Result<(), CliError>`; every error is printed to stderr as one
//! `error: ...` line ([`CliError::report`]). [`CliError`] carries the error of the layer below
//! (specs, client, workspace, session, a statement, the shell, serve), and its type picks the
//! exit code ([`CliError::exit_code`]): 1, but 3 for a write whose outcome is unknown — some
//! request may have been done, its answer lost: check before re-running — and 130 when Ctrl-C
//! during `jobsql query` abandoned the requests in flight (clap's usage errors give 2). Nothing
//! panics on user input. Warnings (a config file others can read, a workspace skipped by
//! `--keep-going`) go to stderr as `warning: ...` lines.

pub mod api_args;
pub mod choice;
pub mod mcp;
pub mod serve;
pub mod setup;
pub mod shell;
pub mod sync;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use datafusion::error::DataFusionError;

use crate::shell::ShellError;
pub use api_args::ApiArgs;
use choice::choice;
use jobsql_core::client::ClientError;
use jobsql_core::memory::pool::DEFAULT_LOCAL_MEMORY_LIMIT_MB;
use jobsql_core::output::run::{run_and_print, PrintOptions, RunError};
use jobsql_core::output::OutputFormat;
use jobsql_core::provider::progress::Progress;
use jobsql_core::session::{bounded_context, user_message};
use jobsql_core::spec::SpecError;
use jobsql_core::sql::parse_script;
use jobsql_core::workspace::WorkspaceError;
use jobsql_emulator::{EmulatorArgs, EmulatorError};
use jobsql_pgwire::ServeError;

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
    /// Serve the built-in Databricks Jobs API emulator until Ctrl-C (`emulator lakesail`: the
    /// LakeSail job-runs API emulator).
    Emulator(EmulatorCommand),
    /// Serve the tables over the Postgres wire protocol (psql, BI tools, drivers).
    Serve(serve::ServeArgs),
    /// An interactive SQL shell (or, with piped input, run its statements).
    Shell(shell::ShellArgs),
    /// Serve the tables to AI assistants over the Model Context Protocol (stdio, or
    /// streamable HTTP with --addr).
    Mcp(mcp::McpArgs),
    /// Copy the run history into Delta Lake tables, incrementally and exactly once.
    Sync(sync::SyncArgs),
}

/// `jobsql emulator [ARGS]` (Databricks) or `jobsql emulator lakesail [ARGS]`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
struct EmulatorCommand {
    #[command(subcommand)]
    provider: Option<EmulatorProvider>,
    #[command(flatten)]
    databricks: EmulatorArgs,
}

#[derive(Debug, Subcommand)]
enum EmulatorProvider {
    /// Serve the built-in LakeSail job-runs API emulator until Ctrl-C.
    Lakesail(jobsql_emulator::lakesail::LakeSailArgs),
}

/// Arguments of `jobsql query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Output format.
    #[arg(long, default_value = "table", value_parser = choice::<OutputFormat>())]
    pub format: OutputFormat,
    /// Start the emulators in-process and make them the default workspaces (Databricks
    /// "demo", a second one answering to deployment_name 'demo2'; LakeSail "demo").
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
    /// Memory one statement may hold (MB): past it, sorts and aggregations spill to disk, and
    /// anything else (a function's result, a join's build side) fails.
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_LOCAL_MEMORY_LIMIT_MB,
          value_parser = megabytes)]
    pub memory_limit_mb: usize,
    /// How the API is called (retries, timeouts, concurrency, ...).
    #[command(flatten)]
    pub api: ApiArgs,
    /// The SQL to run.
    pub sql: Option<String>,
}

/// A number of MB of a memory flag: at least 1.
pub fn megabytes(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// Errors of the command line, each carrying its source; [`CliError::exit_code`] is chosen from
/// the type, and the message is the source's (worded for the user, secrets masked).
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
    /// The provider specs could not be loaded.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A workspace (a `--demo` one) is invalid.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The emulator (`jobsql emulator`, `--demo`) failed.
    #[error(transparent)]
    Emulator(#[from] EmulatorError),
    /// The LakeSail emulator (`jobsql emulator lakesail`) failed.
    #[error(transparent)]
    LakeSailEmulator(#[from] jobsql_emulator::lakesail::LakeSailError),
    /// The Postgres server could not start (or refuses its options).
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The SQL session could not be set up.
    #[error("{}", user_message(.0))]
    Session(#[source] DataFusionError),
    /// A statement of `jobsql query` failed, or its result could not be printed (exit code 3
    /// when it is a write whose outcome is unknown: [`RunError::outcome_unknown`]).
    #[error(transparent)]
    Run(#[from] RunError),
    /// The MCP server could not start or stopped on an error.
    #[error(transparent)]
    Mcp(#[from] jobsql_mcp::McpError),
    /// `jobsql shell` stopped on an error (always exit code 1).
    #[error(transparent)]
    Shell(#[from] ShellError),
    /// `jobsql sync` could not start (a bad `--table` or `--to`).
    #[error(transparent)]
    Sync(#[from] jobsql_history::sync::SyncError),
    /// `jobsql sync` failed for a table or workspace (what the others committed stays).
    #[error("{0}")]
    SyncFailed(String),
    /// Waiting for Ctrl-C failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The exit code of a write whose outcome is unknown.
pub const EXIT_UNKNOWN_OUTCOME: u8 = 3;

/// The exit code after Ctrl-C.
pub const EXIT_INTERRUPTED: u8 = 130;

impl CliError {
    /// The exit code for this error: 130 after Ctrl-C, [`EXIT_UNKNOWN_OUTCOME`] for a
    /// statement of `jobsql query` that is a write whose outcome is unknown, else 1 (clap's
    /// usage errors, 2, never get here; a `jobsql sync --table` naming no table that keeps
    /// history is 2 too).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Interrupted => EXIT_INTERRUPTED,
            CliError::Run(e) if e.outcome_unknown() => EXIT_UNKNOWN_OUTCOME,
            CliError::Sync(
                jobsql_history::sync::SyncError::UnknownTable { .. }
                | jobsql_history::sync::SyncError::NoHistory { .. }
                | jobsql_history::sync::SyncError::Ambiguous { .. },
            ) => 2,
            _ => 1,
        }
    }

    /// The line printed to stderr for this error.
    pub fn report(&self) -> String {
        match self {
            CliError::Interrupted => "interrupted".to_string(),
            // Already as users read it (user_message masked it).
            CliError::Run(e) if e.outcome_unknown() => format!("error: {e}"),
            other => format!(
                "error: {}",
                jobsql_core::redact::outgoing(&other.to_string())
            ),
        }
    }
}

/// Errors are one line whatever `RUST_BACKTRACE` says: delta-rs' kernel captures a backtrace
/// into an error when the environment asks for one (`Backtrace::capture`) and prints it as part
/// of the message (a corrupted `_delta_log` read gave 20 lines of frames). `RUST_LIB_BACKTRACE=0`
/// turns captures in libraries off while leaving a panic's backtrace to `RUST_BACKTRACE`; an
/// explicit `RUST_LIB_BACKTRACE` is kept (someone debugging jobsql itself). Called first thing,
/// before any thread exists, so setting the variable races with nothing.
fn no_error_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
}

/// The whole program: parse arguments, run, map errors to an exit code.
pub fn main_entry() -> ExitCode {
    no_error_backtraces();
    let cli = Cli::parse();
    // Statements are parsed, planned and run on the runtime's workers and on the thread that
    // drives it: all of them get stacks sized for the statement bounds of `sql::bounds`.
    let stack = jobsql_core::sql::bounds::STACK_BYTES;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(stack)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let driver = std::thread::Builder::new()
        .name("jobsql".into())
        .stack_size(stack)
        .spawn(move || {
            let result = runtime.block_on(main_inner(cli));
            // Tasks still running (requests abandoned by Ctrl-C) are not waited for.
            runtime.shutdown_timeout(std::time::Duration::from_millis(200));
            result
        });
    let result = match driver.map(std::thread::JoinHandle::join) {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => return ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: cannot start the main thread: {e}");
            return ExitCode::FAILURE;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", e.report());
            ExitCode::from(e.exit_code())
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
        Command::Emulator(args) => match args.provider {
            Some(EmulatorProvider::Lakesail(args)) => {
                Ok(jobsql_emulator::lakesail::run_command(args).await?)
            }
            None => Ok(jobsql_emulator::run_command(args.databricks).await?),
        },
        Command::Serve(args) => serve::run_serve(args).await,
        Command::Shell(args) => shell::run_shell(args).await,
        Command::Mcp(args) => mcp::run_mcp(args).await,
        Command::Sync(args) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            tokio::select! {
                biased;
                _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted),
                result = sync::run_sync(args, &mut out) => result,
            }
        }
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
    let (workspaces, demo) = setup::workspaces(args.demo, &specs).await?;
    let mut runtime = args.api.runtime(workspaces)?;
    if args.dry_run {
        runtime = runtime.with_dry_run();
    }
    let dry_run = runtime.dry_run.clone();
    let progress = progress_for(args.format);
    runtime.progress = progress.clone();
    let ticker = progress.clone().map(|p| tokio::spawn(show_progress(p)));
    let warnings = runtime.warnings.clone();
    let limit = args.memory_limit_mb.saturating_mul(1 << 20);
    let ctx = bounded_context(&specs, Arc::new(runtime), limit).map_err(CliError::Session)?;
    let options = PrintOptions {
        format: args.format,
        dry_run: dry_run.as_ref(),
        warnings: Some(&warnings),
        progress: progress.as_deref(),
    };
    let result = async {
        let mut err = std::io::stderr();
        let statements = parse_script(&sql).map_err(RunError::Statement)?;
        jobsql_core::write::guard::check_script(&ctx, &statements)
            .await
            .map_err(RunError::Statement)?;
        for statement in statements {
            run_and_print(&ctx, statement, &options, out, &mut err).await?;
        }
        Ok(())
    }
    .await;
    if let Some(ticker) = ticker {
        ticker.abort();
        eprint!("\r\x1b[2K");
    }
    demo.shutdown().await;
    result
}

/// The progress counter, when its line can be shown: on stderr when it is a terminal and rows
/// in `format` do not stream to the same screen meanwhile (`query` and the shell).
pub(crate) fn progress_for(format: OutputFormat) -> Option<Arc<Progress>> {
    let show = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && (format == OutputFormat::Table || !std::io::IsTerminal::is_terminal(&std::io::stdout()));
    show.then(|| Arc::new(Progress::default()))
}

/// The progress line on stderr (a terminal), redrawn while a statement runs longer than a
/// second (`query` and the shell).
pub(crate) async fn show_progress(progress: Arc<Progress>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    loop {
        tick.tick().await;
        progress.tick(std::time::Duration::from_secs(1), |line| {
            eprint!("\r\x1b[2K{line}")
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jobsql_core::provider::delete::DeleteError;

    fn statement(e: DataFusionError) -> RunError {
        RunError::Statement(e)
    }

    fn unknown() -> DataFusionError {
        DeleteError::Unknown("run_id 1: UNKNOWN, may have been deleted".to_string()).into()
    }

    #[test]
    fn the_exit_code_is_chosen_from_the_error_type() {
        assert_eq!(CliError::Run(statement(unknown())).exit_code(), 3);
        // However deep DataFusion wraps it.
        let wrapped = DataFusionError::Context("while inserting".into(), Box::new(unknown()));
        assert_eq!(CliError::Run(statement(wrapped)).exit_code(), 3);
        let arrow = DataFusionError::ArrowError(
            Box::new(datafusion::arrow::error::ArrowError::ExternalError(
                Box::new(unknown()),
            )),
            None,
        );
        assert_eq!(CliError::Run(statement(arrow)).exit_code(), 3);
        let failed: DataFusionError = DeleteError::Partial("run_id 1: FAILED".into()).into();
        assert_eq!(CliError::Run(statement(failed)).exit_code(), 1);
        let plan = DataFusionError::Plan("table 'x' not found".into());
        assert_eq!(CliError::Run(statement(plan)).exit_code(), 1);
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "closed");
        assert_eq!(CliError::Run(RunError::Io(io)).exit_code(), 1);
        // The shell exits 1 whatever stopped it (the book's Writes chapter: "the shell exits 1").
        let shell = ShellError::Run(statement(unknown()));
        assert_eq!(CliError::Shell(shell).exit_code(), 1);
        assert_eq!(CliError::Interrupted.exit_code(), 130);
        assert_eq!(CliError::NoSql.exit_code(), 1);
        let session = DataFusionError::Plan("bad".into());
        assert_eq!(CliError::Session(session).exit_code(), 1);
    }

    #[test]
    fn the_reported_line_is_the_users_message_with_its_source_kept() {
        let e = CliError::Run(statement(unknown()));
        assert_eq!(
            e.report(),
            "error: run_id 1: UNKNOWN, may have been deleted"
        );
        let source = std::error::Error::source(&e).expect("the statement's error");
        assert!(source.to_string().contains("UNKNOWN"), "{source}");
        let plan = DataFusionError::Plan("table 'x' not found".into());
        let e = CliError::Run(statement(plan));
        assert_eq!(
            e.report(),
            "error: Error during planning: table 'x' not found"
        );
        assert_eq!(CliError::Interrupted.report(), "interrupted");
        let controls = DataFusionError::Plan("bad \x1b[2J name".into());
        assert_eq!(
            CliError::Session(controls).report(),
            "error: Error during planning: bad \\x1b[2J name"
        );
    }
}
