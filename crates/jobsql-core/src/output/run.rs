//! The one "run a statement and print it" path, shared by `jobsql query` and the shell: the
//! statement goes to [`crate::session::stream_statement`], and its batches are printed by a
//! [`Printer`] as they arrive — `csv`, `json` and `ndjson` write (and flush) each batch at once
//! and keep nothing; `table` keeps the batches until the end, to align its columns over every
//! row. A script is parsed once, by the caller ([`crate::sql::parse_script`]), and each of its
//! statements is given here in turn.
//!
//! Errors are [`RunError`]s carrying their source: the CLI picks its exit code from the type
//! (a write whose outcome is unknown: [`RunError::outcome_unknown`]) and prints the message
//! users read ([`crate::session::user_message`]).

use std::io::Write;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::{OutputError, OutputFormat, Printer};
use crate::provider::progress::Progress;
use crate::provider::{ProviderError, Warnings};
use crate::session::{stream_statement, user_message};
use crate::sql::Statement;
use crate::write::{DryRunLog, WriteError};

/// What is printed besides the rows, and how.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrintOptions<'a> {
    /// The result format.
    pub format: OutputFormat,
    /// A dry run's log: the requests a statement would have sent are printed (to `out`, as
    /// `DRY RUN (not sent): ...` lines, each followed by a `DRY RUN (deleted with it): ...`
    /// line per row the API deletes with it) before its result.
    pub dry_run: Option<&'a DryRunLog>,
    /// The runtime's warnings (a workspace skipped by `--keep-going`, ...): printed to `err`
    /// as `warning: ...` lines after each statement, whether it failed or not.
    pub warnings: Option<&'a Warnings>,
    /// The runtime's progress, when a ticker draws it on `err`: each statement begins it, and
    /// ends it (clearing the line) before its result prints or its error does.
    pub progress: Option<&'a Progress>,
}

/// What one statement printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Printed {
    /// Its rows.
    pub rows: usize,
    /// The batches they came in (each written as it came, except for `table`).
    pub batches: usize,
}

/// Why a statement could not be run and printed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The statement failed (planning it, or while its rows were produced: what was printed
    /// stays printed).
    #[error("{}", user_message(.0))]
    Statement(#[source] DataFusionError),
    /// Its result could not be formatted or written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Writing failed (e.g. a closed pipe).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl RunError {
    /// Whether the statement is a write some of whose requests may have been done without
    /// their answer arriving: re-running it blindly could do them twice (`jobsql query` exits
    /// with code 3).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            RunError::Statement(e) => outcome_unknown(e),
            _ => false,
        }
    }
}

/// Whether `e` is, or was caused by (however DataFusion wraps it: its `source()` chain), a
/// [`WriteError`] (EXEC, RETURNING) or a [`ProviderError`] (INSERT's sink, DELETE) whose
/// outcome is unknown.
fn outcome_unknown(e: &DataFusionError) -> bool {
    let unknown = |c: &(dyn std::error::Error + 'static)| {
        c.downcast_ref::<WriteError>()
            .map(WriteError::outcome_unknown)
            .or_else(|| {
                c.downcast_ref::<ProviderError>()
                    .map(ProviderError::outcome_unknown)
            })
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(u) = unknown(c) {
            return u;
        }
        cause = c.source();
    }
    false
}

/// Run one parsed statement and print its result to `out` as its batches arrive; the
/// runtime's warnings go to `err` afterwards.
pub async fn run_and_print<W: Write, E: Write>(
    ctx: &SessionContext,
    statement: Statement,
    options: &PrintOptions<'_>,
    out: &mut W,
    err: &mut E,
) -> Result<Printed, RunError> {
    if let Some(p) = options.progress {
        p.begin();
    }
    let printed = match stream_statement(ctx, statement).await {
        Ok((schema, batches)) => print_stream(&schema, batches, options, out, err).await,
        Err(e) => Err(RunError::Statement(e)),
    };
    end_progress(options, err)?;
    let warned = write_warnings(options.warnings, err);
    let printed = printed?;
    warned?;
    out.flush()?;
    Ok(printed)
}

/// Stop drawing the progress line, and clear it when one is on the screen.
fn end_progress<E: Write>(options: &PrintOptions<'_>, err: &mut E) -> std::io::Result<()> {
    if options.progress.is_some_and(Progress::end) {
        write!(err, "\r\x1b[2K")?;
    }
    Ok(())
}

fn write_warnings<E: Write>(warnings: Option<&Warnings>, err: &mut E) -> std::io::Result<()> {
    for warning in warnings.iter().flat_map(|w| w.take()) {
        writeln!(err, "warning: {}", crate::redact::outgoing(&warning))?;
    }
    Ok(())
}

/// Print one statement's result as its batches arrive. The first batch is awaited before
/// anything is printed: a DELETE has then run, and a dry run's requests come first.
pub async fn print_stream<W: Write, E: Write>(
    schema: &SchemaRef,
    mut batches: SendableRecordBatchStream,
    options: &PrintOptions<'_>,
    out: &mut W,
    err: &mut E,
) -> Result<Printed, RunError> {
    let first = batches
        .next()
        .await
        .transpose()
        .map_err(RunError::Statement)?;
    end_progress(options, err)?; // the progress line gives way to the result
    for planned in options.dry_run.iter().flat_map(|log| log.take()) {
        let line = crate::redact::outgoing(&planned.to_string());
        writeln!(out, "DRY RUN (not sent): {line}")?;
        for taken in &planned.with_it {
            let taken = crate::redact::outgoing(taken);
            writeln!(out, "DRY RUN (deleted with it): {taken}")?;
        }
    }
    let mut printed = Printed::default();
    let mut printer = Printer::new(options.format, schema, out);
    if let Some(batch) = first {
        printed.rows += batch.num_rows();
        printed.batches += 1;
        printer.write(&batch)?;
    }
    while let Some(batch) = batches.next().await {
        // On an error, what was printed stays printed, and the statement still fails.
        let batch = batch.map_err(RunError::Statement)?;
        printed.rows += batch.num_rows();
        printed.batches += 1;
        printer.write(&batch)?;
    }
    printer.finish()?;
    Ok(printed)
}
