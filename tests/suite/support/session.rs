//! Sessions for tests: runtimes over workspaces (an emulator's or a stub's), running SQL to its
//! rows or its error as the user reads it, and [`Env`], an emulator with a session on it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use jobsql_core::client::{ApiClient, RetryPolicy};
use jobsql_core::provider::ApiRuntime;
use jobsql_core::session::{new_context, run_sql, user_message};
use jobsql_core::spec::load_embedded;
use jobsql_core::workspace::{Workspace, WorkspaceResolver};
use jobsql_core::write::DryRunLog;
use jobsql_emulator::{EmulatorConfig, EmulatorHandle, ManualClock, RecordedRequest};

use super::batches::strings;
use super::emulator::{history_config, start};
use super::RUNS;

/// A runtime whose default workspace is the first of `workspaces` and which resolves each by
/// name.
pub fn runtime(client: ApiClient, workspaces: &[Workspace]) -> ApiRuntime {
    let mut resolver = WorkspaceResolver::from_parts(HashMap::new(), None, None);
    if let Some(first) = workspaces.first() {
        resolver = resolver.with_default(first.clone());
    }
    for ws in workspaces {
        resolver = resolver.with_named(ws.clone());
    }
    ApiRuntime::new(client, resolver)
}

/// A session over `runtime`, with the embedded specs.
pub fn context(runtime: ApiRuntime) -> SessionContext {
    new_context(&load_embedded().expect("specs"), Arc::new(runtime)).expect("session")
}

/// A runtime whose default workspace is `default` (named "emu", not resolvable by that name),
/// plus `named` workspaces, with `policy`.
fn emu_runtime(
    default: &EmulatorHandle,
    named: &[(&str, &EmulatorHandle)],
    policy: RetryPolicy,
) -> ApiRuntime {
    let mut resolver = WorkspaceResolver::from_parts(HashMap::new(), None, None).with_default(
        Workspace::new("emu", &default.base_url(), default.token()).expect("workspace"),
    );
    for (name, handle) in named {
        resolver = resolver.with_named(
            Workspace::new(name, &handle.base_url(), handle.token()).expect("workspace"),
        );
    }
    ApiRuntime::new(ApiClient::new(policy).expect("client"), resolver)
}

/// A session whose default workspace is `default`, plus named workspaces.
pub fn on(default: &EmulatorHandle, named: &[(&str, &EmulatorHandle)]) -> SessionContext {
    context(emu_runtime(default, named, RetryPolicy::default()))
}

/// A session on `emulator` (workspace "emu"), and its dry-run log when `dry_run`.
pub fn writing(emulator: &EmulatorHandle, dry_run: bool) -> (SessionContext, Option<DryRunLog>) {
    writing_with(emulator, dry_run, RetryPolicy::default(), |r| r)
}

/// [`writing`] with a retry policy, and the runtime's settings changed by `set` (the guards:
/// `|r| r.with_max_deletes(5)`, `|r| r.with_max_writes(3)`).
pub fn writing_with(
    emulator: &EmulatorHandle,
    dry_run: bool,
    policy: RetryPolicy,
    set: impl FnOnce(ApiRuntime) -> ApiRuntime,
) -> (SessionContext, Option<DryRunLog>) {
    let mut runtime = emu_runtime(emulator, &[], policy);
    if dry_run {
        runtime = runtime.with_dry_run();
    }
    let runtime = set(runtime);
    let log = runtime.dry_run.clone();
    (context(runtime), log)
}

/// The last statement's rows of `sql`; panics with the user's message on an error.
pub async fn query(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    match run_sql(ctx, sql).await {
        Ok(mut results) => results.pop().expect("one statement").batches,
        Err(e) => panic!("{sql}: {}", user_message(&e)),
    }
}

/// The error of `sql` as the user reads it; panics if it succeeds.
pub async fn error(ctx: &SessionContext, sql: &str) -> String {
    match run_sql(ctx, sql).await {
        Ok(_) => panic!("expected an error from {sql}"),
        Err(e) => user_message(&e),
    }
}

/// An emulator and a session on it (workspace "emu").
pub struct Env {
    /// The emulator, with its request log.
    pub emulator: EmulatorHandle,
    /// A session whose default workspace is the emulator.
    pub ctx: SessionContext,
    /// The emulator's clock when it is a manual one ([`lifecycle_env`]): it moves only when a
    /// test advances it.
    pub clock: Option<ManualClock>,
}

/// One life-cycle step of a run created through a [`lifecycle_env`] (see [`Env::wait_for`]).
pub const PHASE: Duration = Duration::from_millis(30);

/// The standard history of `runs` runs (seed 42), with a session on it.
pub async fn history_env(runs: usize) -> Env {
    let emulator = start(history_config(runs, 42)).await;
    let ctx = on(&emulator, &[]);
    Env {
        emulator,
        ctx,
        clock: None,
    }
}

/// 300 runs (seed 42) on a manual clock (starting at the wall clock's now, so SQL's `now()`
/// still fits its data) whose created runs move one state per [`PHASE`] of that clock, with a
/// session on it.
pub async fn lifecycle_env() -> Env {
    lifecycle_env_with(EmulatorConfig::default()).await
}

/// [`lifecycle_env`] with the emulator's other settings (all but runs, seed, jobs, phase)
/// from `config`.
pub async fn lifecycle_env_with(config: EmulatorConfig) -> Env {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let clock = ManualClock::new(wall);
    let emulator = start(EmulatorConfig {
        runs: 300,
        seed: 42,
        jobs: 8,
        phase: PHASE,
        clock: Some(Arc::new(clock.clone())),
        ..config
    })
    .await;
    let (ctx, _) = writing(&emulator, false);
    Env {
        emulator,
        ctx,
        clock: Some(clock),
    }
}

/// [`lifecycle_env`] with a sending session using `policy` (e.g. no retries).
pub async fn lifecycle_env_with_policy(policy: RetryPolicy) -> Env {
    let mut env = lifecycle_env().await;
    env.ctx = writing_with(&env.emulator, false, policy, |r| r).0;
    env
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
        (error(&self.ctx, sql).await, self.emulator.requests())
    }

    /// The error of `sql`, as the user reads it.
    pub async fn error(&self, sql: &str) -> String {
        error(&self.ctx, sql).await
    }

    /// Advance the emulator's clock one [`PHASE`] at a time until
    /// `SELECT <expr> FROM job_runs WHERE run_id = <run>` equals `want` (a created run ends
    /// after two phases; panics after ten). Never sleeps. Only on a [`lifecycle_env`].
    pub async fn wait_for(&self, run: i64, expr: &str, want: &str) {
        let clock = self.clock.as_ref().expect("wait_for needs a lifecycle_env");
        let sql = format!("SELECT {expr} FROM {RUNS} WHERE run_id = {run}");
        let mut got = Vec::new();
        for _ in 0..=10 {
            got = strings(&query(&self.ctx, &sql).await, 0);
            if got == [Some(want.to_string())] {
                return;
            }
            clock.advance(PHASE);
        }
        panic!("run {run}: {expr} is {got:?}, not {want}, ten phases on");
    }
}
