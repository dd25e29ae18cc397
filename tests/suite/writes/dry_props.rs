//! "The dry run is the act without the requests", for generated DELETEs: random WHEREs over
//! the runs (keys, job filters, flags, struct fields, functions, subqueries, ordered LIMITs)
//! and over the jobs (whose runs go with them), each run first as a dry run and then for real
//! on the same emulator. The set of deletes the dry run records is the set the emulator
//! receives, and the runs it lists under a job's delete are the runs that disappear with it.
//! An unordered LIMIT is refused by both.

use std::collections::BTreeSet;

use jobsql_core::client::RetryPolicy;
use jobsql_emulator::EmulatorHandle;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::common::*;

const JOBS: &str = "databricks_workspace.jobs.jobs";

/// One generated DELETE: the table, the pieces of its WHERE, its tail.
#[derive(Debug, Clone)]
struct Case {
    jobs_table: bool,
    job: usize,
    key: usize,
    extra: Vec<usize>,
    tail: usize,
    limit: usize,
}

const EXTRAS: &[&str] = &[
    "completed_only = true",
    "state['result_state'] = 'SUCCESS'",
    "state['result_state'] = 'FAILED'",
    "run_id % 3 = 0",
    "run_name LIKE '%a%'",
    "run_id NOT IN (SELECT column1 FROM (VALUES (0), (1)))",
    "start_time IS NOT NULL",
];

const TAILS: &[&str] = &[
    "",
    " ORDER BY start_time DESC LIMIT {n}",
    " ORDER BY start_time LIMIT {n}",
    " ORDER BY job_id LIMIT {n}",
    " LIMIT {n}",
];

fn cases() -> impl Strategy<Value = Case> {
    (
        0usize..6,
        0usize..8,
        0usize..3,
        proptest::collection::vec(0..EXTRAS.len(), 0..3),
        0..TAILS.len(),
        1usize..6,
    )
        .prop_map(|(table, job, key, extra, tail, limit)| Case {
            jobs_table: table == 0,
            job,
            key,
            extra,
            tail,
            limit,
        })
}

fn sql(case: &Case, jobs: &[i64]) -> String {
    let job = jobs[case.job % jobs.len()];
    if case.jobs_table {
        return format!("DELETE FROM {JOBS} WHERE job_id = {job}");
    }
    let other = jobs[(case.job + 1) % jobs.len()];
    let mut parts = vec![match case.key {
        0 => format!("job_id = {job}"),
        1 => format!("job_id IN ({job}, {other})"),
        _ => format!("job_id IN (SELECT job_id FROM {JOBS} WHERE job_id = {job})"),
    }];
    parts.extend(case.extra.iter().map(|&i| EXTRAS[i].to_string()));
    let tail = TAILS[case.tail].replace("{n}", &case.limit.to_string());
    format!("DELETE FROM {RUNS} WHERE {}{tail}", parts.join(" AND "))
}

/// Every run id the emulator lists now.
async fn all_runs(env: &Env) -> BTreeSet<i64> {
    let (rows, _) = env.run(&format!("SELECT run_id FROM {RUNS}")).await;
    ints(&rows, 0).into_iter().flatten().collect()
}

/// A mutation as (path, body): what the dry run recorded and the emulator received alike.
type Sent = BTreeSet<(String, String)>;

async fn check(
    env: &Env,
    dry: &datafusion::prelude::SessionContext,
    log: &jobsql_core::write::DryRunLog,
    real: &datafusion::prelude::SessionContext,
    sql: &str,
) -> Result<(), TestCaseError> {
    let dry_result = jobsql_core::session::run_sql(dry, sql).await;
    let planned = log.take();
    let recorded: Sent = planned
        .iter()
        .map(|p| {
            let body = p.request.body.as_ref().map(|b| b.to_string());
            (p.request.path.clone(), body.unwrap_or_default())
        })
        .collect();
    let with_it: BTreeSet<String> = planned.iter().flat_map(|p| p.with_it.clone()).collect();
    let before = all_runs(env).await;
    env.emulator.clear_requests();
    let real_result = jobsql_core::session::run_sql(real, sql).await;
    let requests = env.emulator.requests();
    let sent: Sent = mutations(&requests)
        .iter()
        .map(|r| {
            let body = r.body.as_ref().map(|b| b.to_string());
            (r.path.clone(), body.unwrap_or_default())
        })
        .collect();
    prop_assert_eq!(&recorded, &sent, "{}", sql);
    if sql.contains(" LIMIT ") && !sql.contains("ORDER BY") {
        prop_assert!(
            dry_result.is_err() && real_result.is_err() && sent.is_empty(),
            "{}",
            sql
        );
    }
    // What disappeared besides the deleted runs themselves is what the dry run listed.
    let after = all_runs(env).await;
    let deleted_runs: BTreeSet<i64> = sent
        .iter()
        .filter(|(path, _)| path.ends_with("/runs/delete"))
        .filter_map(|(_, body)| serde_json::from_str::<serde_json::Value>(body).ok())
        .filter_map(|b| b["run_id"].as_i64())
        .collect();
    let gone: BTreeSet<String> = before
        .difference(&after)
        .filter(|id| !deleted_runs.contains(id))
        .map(|id| format!("{RUNS} run_id {id} in 'emu'"))
        .collect();
    let with_it: BTreeSet<String> = with_it
        .into_iter()
        .map(|l| match l.ends_with("in 'emu'") {
            true => l,
            false => format!("{l} in 'emu'"),
        })
        .collect();
    prop_assert_eq!(&with_it, &gone, "{}", sql);
    Ok(())
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn a_dry_run_plans_exactly_what_the_delete_does() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (env, jobs) = rt.block_on(async {
        let env = env().await;
        let jobs = env.emulator.notable().job_ids;
        (env, jobs)
    });
    let emulator: &EmulatorHandle = &env.emulator;
    let guard = |r: jobsql_core::provider::ApiRuntime| r.with_max_deletes(10_000);
    let (dry, log) = session_with(emulator, true, RetryPolicy::default(), guard);
    let log = log.expect("dry-run log");
    let (real, _) = session_with(emulator, false, RetryPolicy::default(), guard);
    runner(16)
        .run(&cases(), |case| {
            let sql = sql(&case, &jobs);
            rt.block_on(check(&env, &dry, &log, &real, &sql))
        })
        .expect("the dry run is the act without the requests");
}
