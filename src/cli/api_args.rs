//! How `query`, `shell` and `serve` call the API: retries, timeouts (per request, and per
//! scan with `--timeout`), concurrency, the page cap, going on without a failed workspace,
//! and request logging — one set of flags (and `JOBSQL_*`
//! variables) for the commands; and where the run history is (`--history`), whose tables every
//! session reads back beside the live ones.

use std::time::Duration;

use clap::Args;

use super::CliError;
use jobsql_core::client::{ApiClient, ClientConfig, LogSink, RetryPolicy};
use jobsql_core::provider::ApiRuntime;
use jobsql_core::workspace::Workspaces;
use jobsql_history::HistoryRoot;

/// The flags that shape API calls.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// Give up retrying a request once this many seconds have passed since its first attempt
    /// (0: never retry).
    #[arg(long, env = "JOBSQL_RETRY_BUDGET_SECS", default_value = "60", value_parser = parse_secs)]
    pub retry_budget_secs: Duration,
    /// Longest wait for a connection to a workspace, in seconds.
    #[arg(long, env = "JOBSQL_CONNECT_TIMEOUT_SECS", default_value = "10", value_parser = parse_timeout)]
    pub connect_timeout_secs: Duration,
    /// Longest time one request may take, response included, in seconds.
    #[arg(long, env = "JOBSQL_REQUEST_TIMEOUT_SECS", default_value = "60", value_parser = parse_timeout)]
    pub request_timeout_secs: Duration,
    /// Most requests in flight at once, per workspace and per scan (parallel listing of time
    /// slices, IN lists); fewer while a workspace answers 429. 1 lists page after page.
    #[arg(long, env = "JOBSQL_MAX_CONCURRENCY",
          default_value_t = jobsql_core::provider::DEFAULT_MAX_CONCURRENCY as u16,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub max_concurrency: u16,
    /// Fail a scan (the reading of a statement) still running after this many seconds, its
    /// requests, retries and waits included, naming the limit. Default: no limit but the
    /// per-request ones.
    #[arg(long, env = "JOBSQL_TIMEOUT", value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
    /// Fail a listing that goes on past this many pages (a server that never stops sending
    /// next-page tokens); the default is far beyond any real history.
    #[arg(long, env = "JOBSQL_MAX_PAGES",
          default_value_t = jobsql_core::provider::DEFAULT_MAX_PAGES as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pages: u64,
    /// When a query spans several workspaces, go on without one that cannot be reached (or
    /// fails), with a warning on stderr, instead of failing the query.
    #[arg(long, env = "JOBSQL_KEEP_GOING")]
    pub keep_going: bool,
    /// Refuse, before sending anything, a DELETE that would delete more than this many rows
    /// (the count is shown; `--dry-run` shows the same).
    #[arg(long, env = "JOBSQL_MAX_DELETES",
          default_value_t = jobsql_core::provider::DEFAULT_MAX_DELETES)]
    pub max_deletes: usize,
    /// Refuse, before sending anything, an INSERT of more than this many rows, or a script of
    /// more than this many EXEC calls and `INSERT ... VALUES` rows (each is one call that
    /// creates or changes something).
    #[arg(long, env = "JOBSQL_MAX_WRITES",
          default_value_t = jobsql_core::provider::DEFAULT_MAX_WRITES)]
    pub max_writes: usize,
    /// Log every API request (method, path, workspace, outcome, retries) to stderr; the token
    /// is never shown.
    #[arg(short, long)]
    pub verbose: bool,
    /// Where the run history is (`jobsql sync` writes it; each resource's table reads back as
    /// `<resource>_history`): a directory or `file://` URL, `none` for no history tables.
    /// Default: `$XDG_DATA_HOME/jobsql/history` (`~/.local/share/jobsql/history`).
    #[arg(long, env = "JOBSQL_HISTORY", value_name = "DIR", value_parser = parse_history)]
    pub history: Option<HistoryFlag>,
}

/// `--history`: a location, or `none`.
#[derive(Debug, Clone)]
pub enum HistoryFlag {
    /// `none`: no history tables.
    Off,
    /// The history's root.
    At(HistoryRoot),
}

/// `--history DIR|URL|none`.
fn parse_history(text: &str) -> Result<HistoryFlag, String> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(HistoryFlag::Off);
    }
    HistoryRoot::parse(text)
        .map(HistoryFlag::At)
        .map_err(|e| e.to_string())
}

impl ApiArgs {
    /// The client settings the flags ask for.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            retry: RetryPolicy {
                max_total: self.retry_budget_secs,
                ..RetryPolicy::default()
            },
            connect_timeout: self.connect_timeout_secs,
            request_timeout: self.request_timeout_secs,
            max_concurrency: usize::from(self.max_concurrency),
            log: self.verbose.then(LogSink::stderr),
            ..ClientConfig::default()
        }
    }

    /// A runtime over `workspaces` with these settings.
    pub fn runtime(&self, workspaces: Workspaces) -> Result<ApiRuntime, CliError> {
        let client = ApiClient::with_config(self.client_config())?;
        let mut runtime = ApiRuntime::with_workspaces(client, workspaces)
            .with_max_concurrency(usize::from(self.max_concurrency))
            .with_max_deletes(self.max_deletes)
            .with_max_writes(self.max_writes)
            .with_max_pages(usize::try_from(self.max_pages).unwrap_or(usize::MAX));
        if let Some(limit) = self.timeout {
            runtime = runtime.with_timeout(limit);
        }
        if self.keep_going {
            runtime = runtime.with_keep_going();
        }
        if let Some(root) = self.history_root() {
            runtime.added_tables.push(std::sync::Arc::new(root));
        }
        Ok(runtime)
    }

    /// The history's root: `--history` (or `JOBSQL_HISTORY`), else the user data directory
    /// when there is one; `None` for `--history none`.
    pub fn history_root(&self) -> Option<HistoryRoot> {
        match &self.history {
            Some(HistoryFlag::Off) => None,
            Some(HistoryFlag::At(root)) => Some(root.clone()),
            None => HistoryRoot::resolve(None).ok(),
        }
    }
}

/// Seconds (a non-negative number, decimals allowed) as a duration.
fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
        return Err(format!("'{text}' must be between 0 and 86400 seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Like [`parse_secs`], but more than zero.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let d = parse_secs(text)?;
    if d.is_zero() {
        return Err("a timeout must be more than 0 seconds".to_string());
    }
    Ok(d)
}
