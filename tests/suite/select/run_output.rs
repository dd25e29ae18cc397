//! `job_run_output`: one row per task run from `runs/get-output`, reached by key only —
//! `run_id =`, `IN (...)`, a key subquery, or a join whose other side (the task runs of
//! `job_runs`) is read first. Every test asserts the rows and the requests made: the
//! failed-tasks join costs the listing plus one runs/get-output per failed task run.

use std::collections::BTreeSet;

use jobsql_emulator::RecordedRequest;
use proptest::prelude::*;

use super::common::*;
use super::plan_props::runner;

const OUTPUT: &str = "databricks_workspace.jobs.job_run_output";

/// The run ids of the runs/get-output requests, in order sent.
fn outputs_asked(requests: &[RecordedRequest]) -> Vec<i64> {
    to(requests, "/runs/get-output")
        .iter()
        .filter_map(|r| r.param("run_id").and_then(|v| v.parse().ok()))
        .collect()
}

/// How many requests went to `path`.
fn sent(requests: &[RecordedRequest], path: &str) -> usize {
    to(requests, path).len()
}

/// The start time (epoch ms) of the `n`-th newest run: a window holding the newest `n` runs.
async fn window_of(env: &Env, n: usize) -> i64 {
    let (got, _) = env
        .run(&format!(
            "SELECT CAST(to_unixtime(start_time) * 1000 AS BIGINT) FROM {RUNS} \
             ORDER BY start_time DESC LIMIT {n}"
        ))
        .await;
    let times: Vec<i64> = ints(&got, 0).into_iter().flatten().collect();
    assert_eq!(times.len(), n, "{n} runs");
    times[n - 1]
}

/// The task runs of the runs started at or after `from` (ms), as a subquery's text.
fn task_runs(from: i64) -> String {
    format!(
        "SELECT r.run_id AS job_run, unnest(r.tasks) AS task FROM {RUNS} r \
         WHERE r.start_time >= to_timestamp_millis({from})"
    )
}

/// The ids of the task runs of the window whose result is `result`, and the requests that
/// reading them alone made.
async fn tasks_with(env: &Env, from: i64, result: &str) -> (Vec<i64>, Vec<RecordedRequest>) {
    let (got, requests) = env
        .run(&format!(
            "SELECT t.task['run_id'] FROM ({}) t WHERE t.task['state']['result_state'] = '{result}' \
             ORDER BY 1",
            task_runs(from)
        ))
        .await;
    (ints(&got, 0).into_iter().flatten().collect(), requests)
}

/// The failed task runs of a window with their errors, in one statement: the listing, then
/// one runs/get-output per failed task run (each error and trace as runs/get-output has it),
/// and no other request.
#[tokio::test]
async fn failed_task_runs_with_their_errors_in_one_join() {
    let env = env(400).await;
    let from = window_of(&env, 120).await;
    let (failed, alone) = tasks_with(&env, from, "FAILED").await;
    assert!(
        failed.len() >= 3,
        "failed task runs in the window: {failed:?}"
    );
    let sql = format!(
        "WITH t AS ({}) \
         SELECT t.task['run_id'] AS task_run, t.job_run, t.task['task_key'] AS task_key, \
                o.error, o.error_trace, o.job_run_id, o.task_key, o.result_state \
           FROM t JOIN {OUTPUT} o ON o.run_id = t.task['run_id'] \
          WHERE t.task['state']['result_state'] = 'FAILED' \
          ORDER BY task_run",
        task_runs(from)
    );
    let (got, requests) = env.run(&sql).await;
    let got_ids: Vec<i64> = ints(&got, 0).into_iter().flatten().collect();
    assert_eq!(got_ids, failed, "one row per failed task run");
    assert_eq!(
        ints(&got, 1),
        ints(&got, 5),
        "the job run, as its metadata says"
    );
    assert_eq!(strings(&got, 2), strings(&got, 6), "the task key");
    assert!(strings(&got, 7)
        .iter()
        .all(|s| s.as_deref() == Some("FAILED")));
    assert!(
        strings(&got, 3)
            .iter()
            .chain(&strings(&got, 4))
            .all(Option::is_some),
        "every failed task run has an error and a trace"
    );
    // The requests: the listing as reading the task runs alone costs it, then one
    // runs/get-output per failed task run, concurrently; nothing else.
    let mut asked = outputs_asked(&requests);
    asked.sort_unstable();
    assert_eq!(asked, failed, "one runs/get-output per failed task run");
    let listed = sent(&requests, "/runs/list");
    assert_eq!(listed, sent(&alone, "/runs/list"), "the listing, read once");
    assert_eq!(sent(&requests, "/runs/get"), sent(&alone, "/runs/get"));
    assert_eq!(
        requests.len(),
        listed + sent(&alone, "/runs/get") + failed.len(),
        "nothing else: {requests:?}"
    );
    // One listing page per 25 runs of the window (and the first page's slices' last pages).
    assert!(listed <= 120usize.div_ceil(25) + 1, "{listed} pages");
    // The errors are runs/get-output's, key by key.
    let list = failed
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let (direct, requests) = env
        .run(&format!(
            "SELECT run_id, error, error_trace FROM {OUTPUT} WHERE run_id IN ({list}) ORDER BY run_id"
        ))
        .await;
    assert_eq!(ints(&direct, 0), ints(&got, 0));
    assert_eq!(strings(&direct, 1), strings(&got, 3));
    assert_eq!(strings(&direct, 2), strings(&got, 4));
    assert_eq!(requests.len(), failed.len(), "{requests:?}");
}

/// A window of at most 25 runs is one listing page: the join is that page and one
/// runs/get-output per failed task run.
#[tokio::test]
async fn a_window_of_one_page_costs_one_listing_and_one_output_per_failure() {
    let env = env(400).await;
    let mut found = None;
    for n in [25, 20, 15] {
        let from = window_of(&env, n).await;
        let (failed, alone) = tasks_with(&env, from, "FAILED").await;
        if !failed.is_empty() && sent(&alone, "/runs/get") == 0 {
            found = Some((from, failed));
            break;
        }
    }
    let (from, failed) = found.expect("a page of runs with a failed task");
    let sql = format!(
        "SELECT o.run_id, o.error FROM ({}) t JOIN {OUTPUT} o ON o.run_id = t.task['run_id'] \
         WHERE t.task['state']['result_state'] = 'FAILED' ORDER BY o.run_id",
        task_runs(from)
    );
    let (got, requests) = env.run(&sql).await;
    assert_eq!(
        ints(&got, 0).into_iter().flatten().collect::<Vec<_>>(),
        failed
    );
    assert_eq!(sent(&requests, "/runs/list"), 1, "{requests:?}");
    assert_eq!(
        requests.len(),
        1 + failed.len(),
        "one page, one output per failed task run: {requests:?}"
    );
}

/// `run_id = a`, `IN (a, b)` and a key subquery: one runs/get-output per id, nothing else;
/// an id that does not exist is zero rows.
#[tokio::test]
async fn keys_by_equality_list_and_subquery() {
    let env = env(400).await;
    let from = window_of(&env, 120).await;
    let (failed, _) = tasks_with(&env, from, "FAILED").await;
    let (succeeded, _) = tasks_with(&env, from, "SUCCESS").await;
    let (a, b) = (failed[0], succeeded[0]);
    let (got, requests) = env
        .run(&format!(
            "SELECT run_id, task_run_id, result_state, error FROM {OUTPUT} WHERE run_id = {a}"
        ))
        .await;
    assert_eq!(ints(&got, 0), [Some(a)]);
    assert_eq!(ints(&got, 1), [Some(a)], "a task run's output is its own");
    assert_eq!(strings(&got, 2), [Some("FAILED".to_string())]);
    assert!(strings(&got, 3)[0].is_some());
    assert_eq!(outputs_asked(&requests), [a]);
    assert_eq!(requests.len(), 1);

    let (got, requests) = env
        .run(&format!(
            "SELECT run_id, result_state, error FROM {OUTPUT} WHERE run_id IN ({a}, {b}) ORDER BY run_id"
        ))
        .await;
    let mut want = vec![a, b];
    want.sort_unstable();
    assert_eq!(
        ints(&got, 0).into_iter().flatten().collect::<Vec<_>>(),
        want
    );
    let mut asked = outputs_asked(&requests);
    asked.sort_unstable();
    assert_eq!(asked, want, "exactly two requests");
    assert_eq!(requests.len(), 2, "{requests:?}");
    let errors: BTreeSet<(Option<String>, bool)> = strings(&got, 1)
        .into_iter()
        .zip(strings(&got, 2))
        .map(|(state, error)| (state, error.is_some()))
        .collect();
    assert_eq!(
        errors,
        [
            (Some("FAILED".to_string()), true),
            (Some("SUCCESS".to_string()), false)
        ]
        .into_iter()
        .collect(),
        "an error for the failure only"
    );

    // A key subquery: the task runs read first, then one output each.
    let (got, requests) = env
        .run(&format!(
            "SELECT run_id FROM {OUTPUT} WHERE run_id IN (SELECT t.task['run_id'] FROM ({}) t \
             WHERE t.task['state']['result_state'] = 'FAILED') ORDER BY run_id",
            task_runs(from)
        ))
        .await;
    assert_eq!(
        ints(&got, 0).into_iter().flatten().collect::<Vec<_>>(),
        failed
    );
    let mut asked = outputs_asked(&requests);
    asked.sort_unstable();
    assert_eq!(asked, failed);

    // No such run: zero rows, one request.
    let (got, requests) = env
        .run(&format!("SELECT run_id FROM {OUTPUT} WHERE run_id = 7"))
        .await;
    assert_eq!(rows(&got), 0);
    assert_eq!(outputs_asked(&requests), [7]);
}

/// A job run's id: with one task, its task run's output (`task_run_id` names that task run);
/// with several, the API's 400 as an error naming the reason, after that one request.
#[tokio::test]
async fn job_run_ids_single_task_answers_multi_task_is_the_apis_error() {
    let env = env(400).await;
    let (single, _) = env
        .run(&format!(
            "SELECT run_id, tasks[1]['run_id'] FROM {RUNS} \
             WHERE array_length(tasks) = 1 AND run_type = 'JOB_RUN' LIMIT 1"
        ))
        .await;
    let (job_run, task_run) = (ints(&single, 0)[0].expect("a run"), ints(&single, 1)[0]);
    assert_ne!(Some(job_run), task_run, "a task run of its own");
    let (got, requests) = env
        .run(&format!(
            "SELECT run_id, task_run_id, job_run_id FROM {OUTPUT} WHERE run_id = {job_run}"
        ))
        .await;
    assert_eq!(ints(&got, 0), [Some(job_run)], "run_id: the id asked for");
    assert_eq!(ints(&got, 1), [task_run], "task_run_id: its only task run");
    assert_eq!(ints(&got, 2), [Some(job_run)]);
    assert_eq!(requests.len(), 1);

    let multi = env.emulator.notable().multi_task[0];
    let (message, requests) = env
        .fail(&format!(
            "SELECT error FROM {OUTPUT} WHERE run_id = {multi}"
        ))
        .await;
    assert!(message.contains("job_run_output"), "{message}");
    assert!(
        message.contains(
            "Retrieving the output of runs with multiple tasks is not supported. \
             Please retrieve the output of each individual task run instead."
        ),
        "{message}"
    );
    assert_eq!(outputs_asked(&requests), [multi]);
    assert_eq!(requests.len(), 1, "{requests:?}");
}

/// Without a run id there is nothing to ask: an error naming the key, before any request.
#[tokio::test]
async fn without_a_run_id_it_is_an_error_naming_the_key() {
    let env = env(50).await;
    for sql in [
        format!("SELECT * FROM {OUTPUT}"),
        format!("SELECT error FROM {OUTPUT} WHERE error IS NOT NULL"),
        format!("SELECT count(*) FROM {OUTPUT} WHERE job_id = 1"),
        format!("SELECT error FROM {OUTPUT} WHERE run_id > 5"),
    ] {
        let (message, requests) = env.fail(&sql).await;
        assert_eq!(
            message,
            "databricks_workspace.jobs.job_run_output cannot be listed without a parameter: \
             add WHERE run_id = ...",
            "{sql}"
        );
        assert!(requests.is_empty(), "{sql}: {requests:?}");
    }
}

/// Any subset of a window's task runs as an `IN` list: exactly that many runs/get-output,
/// one per id, and one row each.
#[test]
fn any_subset_of_task_runs_costs_one_request_each() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (env, ids) = rt.block_on(async {
        let env = env(300).await;
        let from = window_of(&env, 60).await;
        let (got, _) = env
            .run(&format!(
                "SELECT t.task['run_id'] FROM ({}) t",
                task_runs(from)
            ))
            .await;
        let ids: Vec<i64> = ints(&got, 0).into_iter().flatten().collect();
        (env, ids)
    });
    assert!(ids.len() > 20, "task runs to pick from: {}", ids.len());
    let subsets = proptest::sample::subsequence(ids.clone(), 1..=ids.len().min(40));
    runner(24)
        .run(&subsets, |subset| {
            rt.block_on(async {
                let list = subset
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                let (got, requests) = env
                    .run(&format!(
                        "SELECT run_id, task_run_id FROM {OUTPUT} WHERE run_id IN ({list}) ORDER BY run_id"
                    ))
                    .await;
                let mut want = subset.clone();
                want.sort_unstable();
                let got_ids: Vec<i64> = ints(&got, 0).into_iter().flatten().collect();
                prop_assert_eq!(&got_ids, &want);
                prop_assert_eq!(ints(&got, 1), ints(&got, 0));
                let mut asked = outputs_asked(&requests);
                asked.sort_unstable();
                prop_assert_eq!(&asked, &want);
                prop_assert_eq!(requests.len(), subset.len());
                Ok(())
            })
        })
        .expect("one request per id");
}
