//! `jobsql shell`: an interactive SQL shell over a session, and the same loop for piped scripts.
//!
//! - In a terminal ([`interactive()`]): line editing and history (`~/.jobsql_history`), statements
//!   over several lines until `;`, Tab completion of tables, columns and EXEC methods
//!   ([`complete`]), results in the formats of `jobsql query`, the rows and time of each
//!   statement on stderr. Ctrl-C while a statement runs cancels it — its future is dropped, and
//!   with it the in-flight API requests — and the shell goes on; Ctrl-C at the prompt clears the
//!   line; Ctrl-D exits.
//! - Piped ([`run_script`]): the statements are run in order as they arrive; the first error
//!   stops the script with that error (the command exits non-zero).
//!
//! Each statement is parsed once and goes to [`jobsql_core::output::run::run_and_print`], the path
//! `jobsql query` uses: everything it runs (SELECT, SHOW, DESCRIBE, EXPLAIN, INSERT, DELETE,
//! EXEC, COPY) runs here, its rows printed as they arrive (`table` aligns them at the end), and
//! the runtime's warnings (a workspace skipped by `--keep-going`) follow on stderr. Meta
//! commands: `\q` (also `quit`, `exit`), `\format table|json|ndjson|csv`, `\timing` (on /
//! off), `\?`.

pub mod complete;
pub mod interactive;
pub mod text;

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::Instant;

use datafusion::prelude::SessionContext;

use jobsql_core::output::run::{run_and_print, PrintOptions, RunError};
use jobsql_core::output::OutputFormat;
use jobsql_core::provider::progress::Progress;
use jobsql_core::provider::Warnings;
use jobsql_core::sql::parse_script;

pub use interactive::interactive;

/// Why the shell stopped.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// A statement failed, or its result could not be printed (piped input stops at the
    /// first error).
    #[error(transparent)]
    Run(#[from] RunError),
    /// Reading input or writing to stderr failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The line editor failed.
    #[error("line editor: {0}")]
    Editor(#[source] rustyline::error::ReadlineError),
}

/// What the shell prints, changeable with meta commands.
#[derive(Debug, Clone, Default)]
pub struct ShellOptions {
    /// The result format.
    pub format: OutputFormat,
    /// Print the rows and time of each statement (to stderr).
    pub timing: bool,
    /// The runtime's warnings, printed to stderr after each statement.
    pub warnings: Warnings,
    /// The runtime's progress, when a ticker draws it on stderr (a terminal) while a
    /// statement runs: each statement begins and ends it.
    pub progress: Option<Arc<Progress>>,
}

/// True for the shell's own commands (`\q`, `\format csv`, `quit`, ...).
pub fn is_meta(input: &str) -> bool {
    let t = input.trim();
    t.starts_with('\\') || matches!(t.trim_end_matches(';'), "quit" | "exit")
}

/// What a meta command asks.
#[derive(Debug, PartialEq)]
pub enum Meta {
    /// Leave the shell.
    Quit,
    /// Go on (after printing `message` to stderr, if any).
    Continue(Option<String>),
}

const HELP: &str = "Statements end with ';' and may span lines. Tab completes tables, columns and \
EXEC methods.\n  \\format table|json|ndjson|csv   result format\n  \\timing           rows and \
time of each statement on/off\n  \\q, quit, exit, Ctrl-D   leave\n  Ctrl-C   cancel the running \
statement (or clear the line)";

/// Apply meta command `input` to `options`.
pub fn meta(input: &str, options: &mut ShellOptions) -> Meta {
    let t = input.trim().trim_end_matches(';');
    let mut words = t.split_whitespace();
    match words.next().unwrap_or_default() {
        "\\q" | "quit" | "exit" => Meta::Quit,
        "\\format" => match words.next().map(str::parse::<OutputFormat>) {
            Some(Ok(f)) => {
                options.format = f;
                Meta::Continue(None)
            }
            _ => Meta::Continue(Some("usage: \\format table|json|ndjson|csv".into())),
        },
        "\\timing" => {
            options.timing = match words.next() {
                Some("on") => true,
                Some("off") => false,
                _ => !options.timing,
            };
            let state = if options.timing { "on" } else { "off" };
            Meta::Continue(Some(format!("timing is {state}")))
        }
        "\\?" | "\\h" | "\\help" => Meta::Continue(Some(HELP.into())),
        other => Meta::Continue(Some(format!("unknown command {other}; \\? lists them"))),
    }
}

/// Run the statement(s) of `sql` (parsed once) and print each result to `out` as it arrives
/// (and its rows and time to `err`).
pub async fn run_statement<W: Write, E: Write>(
    ctx: &SessionContext,
    sql: &str,
    options: &ShellOptions,
    out: &mut W,
    err: &mut E,
) -> Result<(), ShellError> {
    let print = PrintOptions {
        format: options.format,
        warnings: Some(&options.warnings),
        progress: options.progress.as_deref(),
        ..PrintOptions::default()
    };
    let statements = parse_script(sql).map_err(RunError::Statement)?;
    jobsql_core::write::guard::check_script(ctx, &statements)
        .await
        .map_err(RunError::Statement)?;
    for statement in statements {
        let started = Instant::now();
        let printed = run_and_print(ctx, statement, &print, out, err).await?;
        if options.timing {
            let rows = printed.rows;
            let noun = if rows == 1 { "row" } else { "rows" };
            let secs = started.elapsed().as_secs_f64();
            writeln!(err, "{rows} {noun} in {secs:.3} s")?;
        }
    }
    Ok(())
}

/// Run the statements read from `input` (not a terminal) in order; stop at the first error.
pub async fn run_script<R: BufRead, W: Write, E: Write>(
    ctx: &SessionContext,
    input: R,
    mut options: ShellOptions,
    out: &mut W,
    err: &mut E,
) -> Result<(), ShellError> {
    let mut buffer = String::new();
    for line in input.lines() {
        let line = line?;
        if buffer.trim().is_empty() && is_meta(&line) {
            match meta(&line, &mut options) {
                Meta::Quit => return Ok(()),
                Meta::Continue(Some(message)) => writeln!(err, "{message}")?,
                Meta::Continue(None) => {}
            }
            continue;
        }
        buffer.push_str(&line);
        buffer.push('\n');
        if text::is_complete(&buffer) {
            for statement in text::statements(&buffer) {
                run_statement(ctx, &statement, &options, out, err).await?;
            }
            buffer.clear();
        }
    }
    // A last statement without its ';'.
    for statement in text::statements(&buffer) {
        run_statement(ctx, &statement, &options, out, err).await?;
    }
    Ok(())
}
