//! `jobsql shell`: the interactive shell ([`crate::shell`]) in a terminal, or the statements
//! of piped input run in order (for scripts: the first error ends it with exit code 1 —
//! [`CliError::Shell`], whatever the statement's error).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::choice::choice;
use super::setup::Setup;
use super::CliError;
use crate::shell::complete::Completions;
use crate::shell::{interactive, run_script, ShellOptions};
use jobsql_core::memory::pool::DEFAULT_LOCAL_MEMORY_LIMIT_MB;
use jobsql_core::output::OutputFormat;

/// Arguments of `jobsql shell`.
#[derive(Debug, Args)]
pub struct ShellArgs {
    /// Result format (also `\format` in the shell).
    #[arg(long, default_value = "table", value_parser = choice::<OutputFormat>())]
    pub format: OutputFormat,
    /// Start the emulator in-process and make it the default workspace (as `query --demo`).
    #[arg(long)]
    pub demo: bool,
    /// Load provider specs from this directory instead of the built-in ones.
    #[arg(long)]
    pub spec_dir: Option<PathBuf>,
    /// How the API is called (retries, timeouts, concurrency, ...).
    #[command(flatten)]
    pub api: super::ApiArgs,
    /// Memory one statement may hold (MB): past it, sorts and aggregations spill to disk, and
    /// anything else (a function's result, a join's build side) fails.
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_LOCAL_MEMORY_LIMIT_MB,
          value_parser = super::megabytes)]
    pub memory_limit_mb: usize,
    /// Do not print the rows and time of each statement.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Run `jobsql shell`.
pub async fn run_shell(args: ShellArgs) -> Result<(), CliError> {
    let progress = super::progress_for(args.format);
    let setup = Setup::new(
        args.demo,
        args.spec_dir.as_ref(),
        &args.api,
        progress.clone(),
    )
    .await?;
    let ticker = progress
        .clone()
        .map(|p| tokio::spawn(super::show_progress(p)));
    let ctx = setup.bounded_context(args.memory_limit_mb.saturating_mul(1 << 20))?;
    let options = ShellOptions {
        format: args.format,
        timing: !args.quiet,
        warnings: setup.runtime.warnings.clone(),
        progress,
    };
    let result = if std::io::stdin().is_terminal() {
        interactive(&ctx, Completions::from_specs(&setup.specs), options).await
    } else {
        let stdin = std::io::stdin();
        run_script(
            &ctx,
            stdin.lock(),
            options,
            &mut std::io::stdout(),
            &mut std::io::stderr(),
        )
        .await
    };
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    setup.shutdown().await;
    Ok(result?)
}
