//! `jobsql sync`: copy the run history of the API into Delta tables ([`jobsql_history::sync`]), for
//! each table that keeps history (`--table`) and each workspace (`--workspace`, default the
//! default workspace). A summary line per table and workspace goes to stdout; the progress
//! line (rows, pages, rate) to stderr when it is a terminal. A workspace that fails does not
//! stop the others: the command then exits 1 naming it (what the others committed stays).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::setup::Setup;
use super::CliError;
use jobsql_core::provider::progress::Progress;
use jobsql_history::sync::{names, sync_workspace, SyncError, SyncOptions, SyncReport};
use jobsql_history::{HistoryError, HistoryRoot};

/// Arguments of `jobsql sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Where the history is kept: a directory or file:// URL (default: --history, i.e.
    /// JOBSQL_HISTORY, else $XDG_DATA_HOME/jobsql/history, else ~/.local/share/jobsql/history).
    #[arg(long, value_name = "PATH_OR_URL")]
    pub to: Option<String>,
    /// A table to sync (repeatable): job_runs, jobs.job_runs,
    /// databricks_workspace.jobs.job_runs. Default: every table whose spec keeps history.
    #[arg(long = "table", value_name = "T")]
    pub tables: Vec<String>,
    /// A workspace to sync, as `deployment_name` names it (repeatable). Default: the default
    /// workspace (DATABRICKS_HOST, DATABRICKS_CONFIG_PROFILE, the DEFAULT profile).
    #[arg(long = "workspace", value_name = "NAME")]
    pub workspaces: Vec<String>,
    /// The first sync of a workspace copies runs started at or after this time (RFC 3339, or
    /// YYYY-MM-DD for midnight UTC). Default: every run the API still has.
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_since)]
    pub since: Option<i64>,
    /// Later syncs list again the runs started up to this many seconds before the latest run
    /// kept (default 600).
    #[arg(long, value_name = "SECS", default_value_t = jobsql_history::sync::DEFAULT_OVERLAP.as_secs())]
    pub overlap_secs: u64,
    /// Sync from the in-process emulators (as `query --demo`).
    #[arg(long)]
    pub demo: bool,
    /// Load provider specs from this directory instead of the built-in ones.
    #[arg(long)]
    pub spec_dir: Option<PathBuf>,
    /// How the API is called (retries, timeouts, concurrency, ...).
    #[command(flatten)]
    pub api: super::ApiArgs,
}

/// `--since`: RFC 3339 (`2026-11-01T00:00:00Z`), a date (`2026-11-01`, midnight UTC) or a
/// date and time without offset (UTC), as epoch milliseconds.
pub fn parse_since(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(at.timestamp_millis());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(at) = chrono::NaiveDateTime::parse_from_str(t, format) {
            return Ok(at.and_utc().timestamp_millis());
        }
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        if let Some(at) = day.and_hms_opt(0, 0, 0) {
            return Ok(at.and_utc().timestamp_millis());
        }
    }
    Err(format!(
        "'{text}' is not a time: use RFC 3339 (2026-11-01T00:00:00Z) or a date (2026-11-01)"
    ))
}

/// Run `jobsql sync`, the summary to `out`.
pub async fn run_sync<W: Write>(args: SyncArgs, out: &mut W) -> Result<(), CliError> {
    // `--to`, else where every command reads the history (`--history`, `JOBSQL_HISTORY`, the
    // user data directory).
    let root = match (&args.to, args.api.history_root()) {
        (Some(to), _) => HistoryRoot::parse(to).map_err(SyncError::from)?,
        (None, Some(root)) => root,
        (None, None) => return Err(SyncError::from(HistoryError::NoDataDir).into()),
    };
    let progress = Arc::new(Progress::default());
    let setup = Setup::new(
        args.demo,
        args.spec_dir.as_ref(),
        &args.api,
        Some(progress.clone()),
    )
    .await?;
    let resources = names::resolve(&setup.specs, &args.tables)?;
    let ctx = setup.context()?;
    let ticker = std::io::IsTerminal::is_terminal(&std::io::stderr())
        .then(|| tokio::spawn(super::show_progress(progress.clone())));
    let options = SyncOptions {
        since_ms: args.since,
        overlap: Duration::from_secs(args.overlap_secs),
        progress: Some(progress),
    };
    let mut failures: Vec<SyncError> = Vec::new();
    let mut done: Vec<String> = Vec::new();
    // Without --table and --workspace, a provider with no default workspace configured (no
    // LakeSail endpoint, say) is skipped with a line on stderr, unless nothing else is synced.
    let defaulted = args.tables.is_empty();
    let mut unconfigured = None;
    for resource in &resources {
        let workspaces = if args.workspaces.is_empty() {
            match setup.runtime.workspaces.resolve(&resource.profile, None) {
                Ok(ws) => vec![ws.name],
                Err(e) if defaulted => {
                    eprintln!(
                        "jobsql sync: skipped {}.{}.{}: {e}",
                        resource.provider, resource.service, resource.name
                    );
                    unconfigured.get_or_insert(e);
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            args.workspaces.clone()
        };
        for workspace in workspaces {
            match sync_workspace(&ctx, resource, &workspace, &root, &options).await {
                Ok(report) => {
                    if ticker.is_some() {
                        eprint!("\r\x1b[2K");
                    }
                    writeln!(out, "{}", summary(&report))?;
                    done.push(format!("{} @ {}", report.table, report.workspace));
                }
                Err(e) => failures.push(e),
            }
        }
    }
    if let Some(ticker) = ticker {
        ticker.abort();
        eprint!("\r\x1b[2K");
    }
    setup.shutdown().await;
    if let (Some(e), true, true) = (unconfigured, done.is_empty(), failures.is_empty()) {
        return Err(e.into());
    }
    let Some(first) = failures.first() else {
        return Ok(());
    };
    let more = match failures.len() {
        1 => String::new(),
        n => format!(" (and {} more failures)", n - 1),
    };
    let kept = if done.is_empty() {
        "nothing was committed".to_string()
    } else {
        format!("committed: {}", done.join(", "))
    };
    Err(CliError::SyncFailed(format!("{first}{more}; {kept}")))
}

/// One line per table and workspace: what the merge did, the pages, the time, the version.
pub fn summary(r: &SyncReport) -> String {
    let c = r.counts;
    let pages = r.pages.map_or(String::new(), |p| format!(", {p} pages"));
    let mut version = r
        .version
        .map_or("nothing to commit".to_string(), |v| format!("version {v}"));
    if r.attempt > 1 {
        version.push_str(&format!(
            ", attempt {} after another sync's commit",
            r.attempt
        ));
    }
    format!(
        "{} @ {}: {} new, {} updated, {} unchanged, {} kept{pages}, {:.1} s → {} ({version})",
        r.table,
        r.workspace,
        c.new,
        c.updated,
        c.unchanged,
        c.kept,
        r.elapsed.as_secs_f64(),
        r.location,
    )
}

#[cfg(test)]
mod tests {
    use super::parse_since;

    #[test]
    fn since_takes_rfc3339_dates_and_utc_times() {
        assert_eq!(parse_since("1970-01-02"), Ok(86_400_000));
        assert_eq!(parse_since("1970-01-01T00:00:01Z"), Ok(1000));
        assert_eq!(parse_since("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(parse_since("1970-01-01 00:00:00.5"), Ok(500));
        let e = parse_since("yesterday").unwrap_err();
        assert!(e.starts_with("'yesterday' is not a time"), "{e}");
    }
}
