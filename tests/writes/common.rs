//! Shared set-up: an emulator on 127.0.0.1:0 on a manual clock (starting at the wall clock's
//! now, so SQL's `now()` still fits its data) whose created runs move one state per 30 ms of
//! that clock, and sessions (sending, or dry-run) pointed at it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Int64Type, UInt64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;
use jobsql::client::{ApiClient, RetryPolicy};
use jobsql::emulator::{start_local, EmulatorConfig, EmulatorHandle, ManualClock, RecordedRequest};
use jobsql::provider::ApiRuntime;
use jobsql::session::{new_context, run_sql, user_message};
use jobsql::spec::load_embedded;
use jobsql::workspace::{Workspace, WorkspaceResolver};
use jobsql::write::DryRunLog;

pub const RUNS: &str = "databricks_workspace.jobs.job_runs";

/// One life-cycle step of a run created through the API (see [`Env::wait_for`]).
pub const PHASE: Duration = Duration::from_millis(30);

pub struct Env {
    pub emulator: EmulatorHandle,
    pub ctx: SessionContext,
    /// The emulator's clock: it moves only when a test advances it.
    pub clock: ManualClock,
}

pub async fn env() -> Env {
    env_with(EmulatorConfig::default()).await
}

pub async fn env_with(config: EmulatorConfig) -> Env {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let clock = ManualClock::new(wall);
    let emulator = start_local(EmulatorConfig {
        runs: 300,
        seed: 42,
        jobs: 8,
        phase: PHASE,
        clock: Some(Arc::new(clock.clone())),
        ..config
    })
    .await
    .expect("emulator starts");
    let (ctx, _) = session(&emulator, false);
    Env {
        emulator,
        ctx,
        clock,
    }
}

/// A sending session on `emulator` with `policy` (e.g. no retries), as an [`Env`].
pub async fn env_with_policy(policy: RetryPolicy) -> Env {
    let mut env = env().await;
    env.ctx = session_with(&env.emulator, false, policy, None).0;
    env
}

/// A session on `emulator` (workspace "emu"), and its dry-run log when `dry_run`.
pub fn session(emulator: &EmulatorHandle, dry_run: bool) -> (SessionContext, Option<DryRunLog>) {
    session_with(emulator, dry_run, RetryPolicy::default(), None)
}

/// [`session`] with a retry policy, and the mass-delete guard at `max_deletes` instead of its
/// default.
pub fn session_with(
    emulator: &EmulatorHandle,
    dry_run: bool,
    policy: RetryPolicy,
    max_deletes: Option<usize>,
) -> (SessionContext, Option<DryRunLog>) {
    let resolver = WorkspaceResolver::from_parts(HashMap::new(), None, None).with_default(
        Workspace::new("emu", &emulator.base_url(), emulator.token()).expect("workspace"),
    );
    let mut runtime = ApiRuntime::new(ApiClient::new(policy).expect("client"), resolver);
    if dry_run {
        runtime = runtime.with_dry_run();
    }
    if let Some(max) = max_deletes {
        runtime = runtime.with_max_deletes(max);
    }
    let log = runtime.dry_run.clone();
    let ctx = new_context(&load_embedded().expect("specs"), Arc::new(runtime)).expect("session");
    (ctx, log)
}

impl Env {
    /// Run SQL: the last statement's rows, and the requests it made.
    pub async fn run(&self, sql: &str) -> (Vec<RecordBatch>, Vec<RecordedRequest>) {
        self.emulator.clear_requests();
        let batches = query(&self.ctx, sql).await;
        (batches, self.emulator.requests())
    }

    /// The error of `sql`, as the user reads it, and the requests it made.
    pub async fn fail(&self, sql: &str) -> (String, Vec<RecordedRequest>) {
        self.emulator.clear_requests();
        match run_sql(&self.ctx, sql).await {
            Ok(_) => panic!("expected an error from {sql}"),
            Err(e) => (user_message(&e), self.emulator.requests()),
        }
    }

    /// Advance the emulator's clock one [`PHASE`] at a time until
    /// `SELECT <expr> FROM job_runs WHERE run_id = <run>` equals `want` (a created run ends
    /// after two phases; panics after ten). Never sleeps.
    pub async fn wait_for(&self, run: i64, expr: &str, want: &str) {
        let sql = format!("SELECT {expr} FROM {RUNS} WHERE run_id = {run}");
        let mut got = Vec::new();
        for _ in 0..=10 {
            got = strings(&query(&self.ctx, &sql).await, 0);
            if got == [Some(want.to_string())] {
                return;
            }
            self.clock.advance(PHASE);
        }
        panic!("run {run}: {expr} is {got:?}, not {want}, ten phases on");
    }
}

pub async fn query(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    match run_sql(ctx, sql).await {
        Ok(mut results) => results.pop().expect("one statement").batches,
        Err(e) => panic!("{sql}: {}", user_message(&e)),
    }
}

/// Requests that change something (every POST).
pub fn mutations(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    requests.iter().filter(|r| r.method == "POST").collect()
}

/// The Int64 values of column `i`.
pub fn ints(batches: &[RecordBatch], i: usize) -> Vec<Option<i64>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(i).as_primitive::<Int64Type>();
            (0..a.len()).map(move |r| a.is_valid(r).then(|| a.value(r)))
        })
        .collect()
}

/// The single `count` of a DML result.
pub fn count(batches: &[RecordBatch]) -> u64 {
    let values: Vec<u64> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<UInt64Type>().values().to_vec())
        .collect();
    assert_eq!(values.len(), 1, "one count");
    values[0]
}

/// Column `i` as display strings.
pub fn strings(batches: &[RecordBatch], i: usize) -> Vec<Option<String>> {
    let options = FormatOptions::default();
    batches
        .iter()
        .flat_map(|b| {
            let column = b.column(i).clone();
            let f = ArrayFormatter::try_new(column.as_ref(), &options).expect("formatter");
            (0..column.len())
                .map(|r| column.is_valid(r).then(|| f.value(r).to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}
