//! A DELETE counts what it destroys: `jobs/delete` takes the job's runs with it (the spec's
//! `delete.cascade`), so `DELETE FROM jobs` lists them first, counts them against
//! `--max-deletes`, and a dry run shows each one under the request that takes it. A LIMIT
//! without ORDER BY, in the DELETE or a subquery, is refused: its rows depend on the order
//! the API lists them in.

use std::collections::BTreeSet;

use jobsql_core::client::RetryPolicy;
use jobsql_core::provider::Warnings;
use jobsql_emulator::RecordedRequest;

use super::common::*;

const JOBS: &str = "databricks_workspace.jobs.jobs";

/// The first `n` jobs (by id) that have runs, and their runs' ids.
async fn jobs_with_runs(env: &Env, n: usize) -> (Vec<i64>, BTreeSet<i64>) {
    let (rows, _) = env
        .run(&format!(
            "SELECT DISTINCT job_id FROM {RUNS} WHERE job_id IS NOT NULL ORDER BY job_id LIMIT {n}"
        ))
        .await;
    let jobs: Vec<i64> = ints(&rows, 0).into_iter().flatten().collect();
    assert_eq!(jobs.len(), n);
    (jobs.clone(), runs_of(env, &jobs).await)
}

async fn runs_of(env: &Env, jobs: &[i64]) -> BTreeSet<i64> {
    let list: Vec<String> = jobs.iter().map(i64::to_string).collect();
    let (rows, _) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE job_id IN ({})",
            list.join(", ")
        ))
        .await;
    ints(&rows, 0).into_iter().flatten().collect()
}

/// The run ids of `databricks_workspace.jobs.job_runs run_id N ...` labels.
fn labelled_runs(labels: &[String]) -> BTreeSet<i64> {
    labels
        .iter()
        .map(|l| {
            let rest = l
                .strip_prefix(&format!("{RUNS} run_id "))
                .unwrap_or_else(|| panic!("a run's label: {l}"));
            let id = rest.split(' ').next().unwrap_or_default();
            id.parse().unwrap_or_else(|_| panic!("a run id: {l}"))
        })
        .collect()
}

fn job_deletes(requests: &[RecordedRequest]) -> BTreeSet<i64> {
    to(requests, "/jobs/delete")
        .iter()
        .map(|r| {
            r.body.as_ref().expect("body")["job_id"]
                .as_i64()
                .expect("id")
        })
        .collect()
}

/// A session on `env` with `--max-deletes max`, its dry-run log, and its warnings.
fn guarded(
    env: &Env,
    dry_run: bool,
    max: usize,
) -> (
    datafusion::prelude::SessionContext,
    Option<jobsql_core::write::DryRunLog>,
    Warnings,
) {
    let mut warnings = Warnings::default();
    let (ctx, log) = session_with(&env.emulator, dry_run, RetryPolicy::default(), |r| {
        warnings = r.warnings.clone();
        r.with_max_deletes(max)
    });
    (ctx, log, warnings)
}

#[tokio::test]
async fn deleting_jobs_counts_the_runs_they_take_with_them() {
    let env = env().await;
    let (jobs, runs) = jobs_with_runs(&env, 2).await;
    assert!(runs.len() > 10, "the jobs have runs: {}", runs.len());
    let sql = format!(
        "DELETE FROM {JOBS} WHERE job_id IN ({}, {})",
        jobs[0], jobs[1]
    );

    // Two jobs are within --max-deletes 10; with their runs they are not.
    let (ctx, _, _) = guarded(&env, false, 10);
    env.emulator.clear_requests();
    let message = error(&ctx, &sql).await;
    assert!(
        message.contains(&format!(
            "DELETE FROM {JOBS} would delete 2 rows and with them at least 9 rows of {RUNS}, \
             more than --max-deletes 10: refused, nothing was deleted"
        )),
        "{message}"
    );
    let requests = env.emulator.requests();
    assert!(mutations(&requests).is_empty(), "{requests:?}");
    // The count costs one listing per job, stopped as soon as the guard is passed.
    let lists = to(&requests, "/runs/list");
    assert_eq!(requests.len(), lists.len(), "only listings: {requests:?}");
    let listed: BTreeSet<&str> = lists.iter().filter_map(|r| r.param("job_id")).collect();
    assert!(!listed.is_empty() && listed.len() <= 2, "{listed:?}");
    assert!(
        lists.len() <= 4,
        "at most a page or two each: {}",
        lists.len()
    );

    // With room for all of them, the dry run lists the jobs and each of their runs.
    let all = 2 + runs.len();
    let (dry, log, _) = guarded(&env, true, all);
    env.emulator.clear_requests();
    let results = jobsql_core::session::run_sql(&dry, &sql)
        .await
        .expect("dry run");
    assert_eq!(count(&results[0].batches), 2);
    let planned = log.expect("log").take();
    assert_eq!(planned.len(), 2, "{planned:?}");
    let with_it: Vec<String> = planned.iter().flat_map(|p| p.with_it.clone()).collect();
    assert_eq!(with_it.len(), runs.len(), "each run once");
    assert_eq!(labelled_runs(&with_it), runs, "exactly the jobs' runs");
    assert!(mutations(&env.emulator.requests()).is_empty());

    // The delete itself: the jobs go, their runs with them, and the user is told.
    let (ctx, _, warnings) = guarded(&env, false, all);
    env.emulator.clear_requests();
    let results = jobsql_core::session::run_sql(&ctx, &sql)
        .await
        .expect("delete");
    assert_eq!(count(&results[0].batches), 2, "count is the jobs deleted");
    let requests = env.emulator.requests();
    assert_eq!(job_deletes(&requests), jobs.iter().copied().collect());
    assert_eq!(mutations(&requests).len(), 2, "{requests:?}");
    assert_eq!(
        warnings.take(),
        [format!(
            "DELETE FROM {JOBS}: the API deleted {} rows of {RUNS} with them",
            runs.len()
        )]
    );
    assert!(runs_of(&env, &jobs).await.is_empty(), "the runs are gone");
}

#[tokio::test]
async fn the_findings_form_is_refused_and_its_ordered_form_counts_the_runs() {
    let env = env().await;
    // A LIMIT without ORDER BY in the subquery: which jobs it picks depends on the listing.
    let (message, requests) = env
        .fail(&format!(
            "DELETE FROM {JOBS} WHERE job_id IN (SELECT job_id FROM {JOBS} LIMIT 20)"
        ))
        .await;
    assert!(
        message.contains("a LIMIT without ORDER BY (in the DELETE or one of its subqueries)"),
        "{message}"
    );
    assert!(
        requests.is_empty(),
        "refused before any request: {requests:?}"
    );
    // Ordered, it reads; the jobs are few, their runs many: refused by --max-deletes 100.
    let (message, requests) = env
        .fail(&format!(
            "DELETE FROM {JOBS} WHERE job_id IN \
             (SELECT job_id FROM {JOBS} ORDER BY job_id LIMIT 20)"
        ))
        .await;
    assert!(
        message.contains(" rows and with them at least ")
            && message.contains(&format!("rows of {RUNS}, more than --max-deletes 100")),
        "{message}"
    );
    assert!(mutations(&requests).is_empty(), "{requests:?}");
    // 101 runs seen, 25 a page: a handful of listing pages, not the whole history.
    let lists = to(&requests, "/runs/list").len();
    assert!(lists <= 20, "{lists} runs/list requests");
}

#[tokio::test]
async fn a_job_without_runs_is_deleted_alone() {
    let env = env().await;
    let (batches, _) = env
        .run(&format!(
            "INSERT INTO {JOBS} (data__name) VALUES ('lonely') RETURNING job_id"
        ))
        .await;
    let job = ints(&batches, 0)[0].expect("job id");
    let (batches, requests) = env
        .run(&format!("DELETE FROM {JOBS} WHERE job_id = {job}"))
        .await;
    assert_eq!(count(&batches), 1);
    assert_eq!(job_deletes(&requests), [job].into_iter().collect());
    let lists = to(&requests, "/runs/list");
    assert_eq!(
        lists.len(),
        1,
        "one listing to count its runs: {requests:?}"
    );
    assert_eq!(lists[0].param("job_id"), Some(&*job.to_string()));
}
