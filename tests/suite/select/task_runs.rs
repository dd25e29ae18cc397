//! `job_task_runs`: one row per task run, flattened in the spec (`response.flatten:`) from
//! runs/list?expand_tasks=true, runs with more than 100 tasks completed by runs/get. Every
//! test asserts the rows and the requests made: the run of the big job (130 tasks) costs its
//! listing plus its two runs/get pages; the job run's columns push down as job_runs' do; the
//! rows are exactly `unnest(tasks)` of job_runs over the same window.

use std::collections::BTreeSet;

use jobsql_emulator::RecordedRequest;
use proptest::prelude::*;
use serde_json::Value;

use super::common::*;
use super::plan_props::runner;

const TASKS: &str = "databricks_workspace.jobs.job_task_runs";

/// The big run (130 tasks): its run id, job id and start time (ms), from the raw API.
async fn big_run(env: &Env) -> (i64, i64, i64) {
    let big = env.emulator.notable().big_multi_task[0];
    let raw = all_runs_raw(&env.emulator, &[]).await;
    let run = raw
        .iter()
        .find(|r| r["run_id"].as_i64() == Some(big))
        .expect("the big run is listed");
    let job = run["job_id"].as_i64().expect("job_id");
    let start = run["start_time"].as_i64().expect("start_time");
    (big, job, start)
}

/// The listing requests (runs/list) made.
fn listings(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    to(requests, "/runs/list")
}

/// The runs/get requests made.
fn gets(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    to(requests, "/runs/get")
}

/// The task run ids of `unnest(tasks)` of job_runs under `filter` (SQL over job_runs' columns),
/// sorted.
async fn unnested(env: &Env, filter: &str) -> Vec<i64> {
    let (got, _) = env
        .run(&format!(
            "SELECT t['run_id'] FROM (SELECT unnest(tasks) AS t FROM {RUNS} WHERE {filter}) ORDER BY 1"
        ))
        .await;
    ints(&got, 0).into_iter().flatten().collect()
}

#[tokio::test]
async fn the_big_run_is_130_rows_from_its_listing_and_its_two_get_pages() {
    let env = env(2000).await;
    let (big, job, start) = big_run(&env).await;
    let sql = format!(
        "SELECT run_id, task_key, job_run_id, job_id, task_type FROM {TASKS} \
         WHERE job_id = {job} AND job_run_start_time = to_timestamp_millis({start})"
    );
    let (got, requests) = env.run(&sql).await;
    assert_eq!(rows(&got), 130, "one row per task");
    let ids: BTreeSet<i64> = ints(&got, 0).into_iter().flatten().collect();
    assert_eq!(ids.len(), 130, "130 distinct task run ids");
    assert!(ints(&got, 2).iter().all(|r| *r == Some(big)), "job_run_id");
    assert!(ints(&got, 3).iter().all(|j| *j == Some(job)), "job_id");
    let keys: BTreeSet<String> = strings(&got, 1).into_iter().flatten().collect();
    assert_eq!(keys.len(), 130, "130 task keys");
    assert!(strings(&got, 4)
        .iter()
        .all(|t| t.as_deref() == Some("notebook_task")));
    // The listing (job_id and the instant pushed, the tasks asked for), then runs/get of the
    // run, whose tasks come 100 a page: two pages.
    let list = listings(&requests);
    assert_eq!(list.len(), 1, "{requests:?}");
    assert_eq!(list[0].param("job_id"), Some(job.to_string().as_str()));
    assert_eq!(list[0].param("expand_tasks"), Some("true"));
    assert_eq!(
        list[0].param("start_time_from"),
        Some(start.to_string().as_str())
    );
    assert_eq!(
        list[0].param("start_time_to"),
        Some(start.to_string().as_str())
    );
    let get = gets(&requests);
    assert_eq!(get.len(), 2, "{requests:?}");
    assert!(get
        .iter()
        .all(|r| r.param("run_id") == Some(big.to_string().as_str())));
    assert!(get[0].param("page_token").is_none());
    assert!(get[1].param("page_token").is_some());
    assert_eq!(requests.len(), 3, "{requests:?}");
    // By its job run id: runs/get alone, its two pages.
    let (got, requests) = env
        .run(&format!(
            "SELECT run_id FROM {TASKS} WHERE job_run_id = {big}"
        ))
        .await;
    let by_id: BTreeSet<i64> = ints(&got, 0).into_iter().flatten().collect();
    assert_eq!(by_id, ids);
    assert_eq!(gets(&requests).len(), 2, "{requests:?}");
    assert_eq!(requests.len(), 2, "{requests:?}");
}

#[tokio::test]
async fn a_window_and_a_job_push_down_and_the_rows_are_unnest_of_job_runs() {
    let env = env(400).await;
    let raw = all_runs_raw(&env.emulator, &[]).await;
    let times: Vec<i64> = raw
        .iter()
        .filter_map(|r| r["start_time"].as_i64())
        .collect();
    let (from, to_ms) = (times[120], times[40]);
    let window = format!(
        "start_time >= to_timestamp_millis({from}) AND start_time <= to_timestamp_millis({to_ms})"
    );
    let sql = format!(
        "SELECT run_id, job_run_id FROM {TASKS} WHERE job_run_start_time >= to_timestamp_millis({from}) \
         AND job_run_start_time <= to_timestamp_millis({to_ms}) ORDER BY run_id"
    );
    let (got, requests) = env.run(&sql).await;
    let ids: Vec<i64> = ints(&got, 0).into_iter().flatten().collect();
    assert_eq!(
        ids,
        unnested(&env, &window).await,
        "the task runs of the window"
    );
    assert!(ids.len() > 80, "{}", ids.len());
    let list = listings(&requests);
    assert!(!list.is_empty());
    for r in &list {
        assert_eq!(r.param("expand_tasks"), Some("true"), "{r:?}");
        assert!(r.param("start_time_to").is_some(), "{r:?}");
    }
    assert_eq!(
        list[0].param("start_time_from"),
        Some(from.to_string().as_str())
    );
    assert_eq!(
        list[0].param("start_time_to"),
        Some(to_ms.to_string().as_str())
    );
    // job_id pushes as job_runs' does: every listing carries it.
    let job = raw
        .iter()
        .find(|r| r["tasks"].is_null() && r["job_id"].as_i64().is_some())
        .or_else(|| raw.iter().find(|r| r["job_id"].as_i64().is_some()))
        .and_then(|r| r["job_id"].as_i64())
        .expect("a job");
    let (got, requests) = env
        .run(&format!(
            "SELECT run_id FROM {TASKS} WHERE job_id = {job} ORDER BY run_id"
        ))
        .await;
    let ids: Vec<i64> = ints(&got, 0).into_iter().flatten().collect();
    assert_eq!(ids, unnested(&env, &format!("job_id = {job}")).await);
    assert!(!ids.is_empty());
    let list = listings(&requests);
    assert!(!list.is_empty());
    assert!(list
        .iter()
        .all(|r| r.param("job_id") == Some(job.to_string().as_str())));
}

#[tokio::test]
async fn task_columns_match_the_tasks_of_job_runs() {
    let env = env(300).await;
    let raw = all_runs_raw(&env.emulator, &[("expand_tasks", "true")]).await;
    let tasks: Vec<&Value> = raw
        .iter()
        .flat_map(|r| r["tasks"].as_array().into_iter().flatten())
        .collect();
    let (got, _) = env
        .run(&format!(
            "SELECT run_id, task_type, existing_cluster_id, job_cluster_key, spark_version, \
             num_workers, libraries, new_cluster['node_type_id'], \
             CAST(execution_duration AS BIGINT), life_cycle_state, \
             CAST(cardinality(depends_on) AS BIGINT), autoscale_max_workers \
             FROM {TASKS}"
        ))
        .await;
    let ids = ints(&got, 0);
    let types = strings(&got, 1);
    let existing = strings(&got, 2);
    let job_cluster = strings(&got, 3);
    let spark = strings(&got, 4);
    let workers = ints(&got, 5);
    let libraries = strings(&got, 6);
    let node = strings(&got, 7);
    let life = strings(&got, 9);
    let max_workers = ints(&got, 11);
    assert!(
        rows(&got) >= tasks.len(),
        "{} < {}",
        rows(&got),
        tasks.len()
    );
    let kinds = [
        "notebook_task",
        "spark_python_task",
        "spark_jar_task",
        "python_wheel_task",
        "sql_task",
        "dbt_task",
        "run_job_task",
        "pipeline_task",
        "condition_task",
        "for_each_task",
        "spark_submit_task",
    ];
    let mut seen = (0, 0, 0, 0, 0);
    for task in &tasks {
        let id = task["run_id"].as_i64();
        let i = ids
            .iter()
            .position(|x| *x == id)
            .expect("the task run is a row");
        let kind = kinds
            .iter()
            .find(|k| !task[**k].is_null())
            .map(|k| k.to_string());
        assert_eq!(types[i], kind, "{task}");
        let text = |v: &Value| v.as_str().map(str::to_string);
        assert_eq!(existing[i], text(&task["existing_cluster_id"]));
        assert_eq!(job_cluster[i], text(&task["job_cluster_key"]));
        assert_eq!(spark[i], text(&task["new_cluster"]["spark_version"]));
        assert_eq!(node[i], text(&task["new_cluster"]["node_type_id"]));
        assert_eq!(workers[i], task["new_cluster"]["num_workers"].as_i64());
        assert_eq!(
            max_workers[i],
            task["new_cluster"]["autoscale"]["max_workers"].as_i64()
        );
        assert_eq!(life[i], text(&task["state"]["life_cycle_state"]));
        match &task["libraries"] {
            Value::Null => assert_eq!(libraries[i], None),
            v => {
                let got: Value = serde_json::from_str(libraries[i].as_deref().expect("libraries"))
                    .expect("json");
                assert_eq!(&got, v);
            }
        }
        seen.0 += usize::from(!task["new_cluster"]["num_workers"].is_null());
        seen.1 += usize::from(!task["new_cluster"]["autoscale"].is_null());
        seen.2 += usize::from(!task["existing_cluster_id"].is_null());
        seen.3 += usize::from(!task["libraries"].is_null());
        seen.4 += usize::from(!task["job_cluster_key"].is_null());
    }
    // The emulator's tasks are varied: fixed and autoscaled new clusters, existing clusters,
    // job clusters, libraries.
    assert!(
        seen.0 > 0 && seen.1 > 0 && seen.2 > 0 && seen.3 > 0 && seen.4 > 0,
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_limit_counts_task_runs_and_never_cuts_a_run_short() {
    let env = env(300).await;
    for n in [1, 7, 60] {
        let (got, requests) = env
            .run(&format!(
                "SELECT run_id, job_run_id FROM {TASKS} ORDER BY job_run_start_time DESC LIMIT {n}"
            ))
            .await;
        assert_eq!(rows(&got), n, "LIMIT {n}");
        assert!(!listings(&requests).is_empty());
        let (all, _) = env
            .run(&format!(
                "SELECT run_id FROM {TASKS} ORDER BY job_run_start_time DESC, run_id"
            ))
            .await;
        assert!(rows(&all) > n);
    }
    // count(*) reads no column and still counts every task run.
    let (got, _) = env.run(&format!("SELECT count(*) FROM {TASKS}")).await;
    let (all, _) = env
        .run(&format!(
            "SELECT count(*) FROM (SELECT unnest(tasks) FROM {RUNS})"
        ))
        .await;
    assert_eq!(ints(&got, 0), ints(&all, 0));
}

/// Windows and filters drawn at random: the task runs are exactly `unnest(tasks)` of job_runs
/// under the same predicates (count and ids), and every listing carries what was pushed.
#[test]
fn any_window_and_filter_agrees_with_unnest_of_job_runs() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (env, times, jobs) = rt.block_on(async {
        let env = env(300).await;
        let raw = all_runs_raw(&env.emulator, &[]).await;
        let times: Vec<i64> = raw
            .iter()
            .filter_map(|r| r["start_time"].as_i64())
            .collect();
        let jobs: Vec<i64> = raw
            .iter()
            .filter_map(|r| r["job_id"].as_i64())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        (env, times, jobs)
    });
    let n = times.len();
    let cases = (0..n, 0..n, proptest::option::of(0..jobs.len()), 0..3usize);
    runner(16)
        .run(&cases, |(a, b, job, state)| {
            rt.block_on(async {
                let (lo, hi) = (times[a.max(b)], times[a.min(b)]);
                let mut parent = vec![
                    format!("{{t}} >= to_timestamp_millis({lo})"),
                    format!("{{t}} <= to_timestamp_millis({hi})"),
                ];
                if let Some(j) = job {
                    parent.push(format!("job_id = {}", jobs[j]));
                }
                let state_filter = ["", "completed_only = true", "active_only = true"][state];
                if !state_filter.is_empty() {
                    parent.push(state_filter.to_string());
                }
                let on = |t: &str| parent.join(" AND ").replace("{t}", t);
                let (got, requests) = env
                    .run(&format!(
                        "SELECT run_id FROM {TASKS} WHERE {} ORDER BY run_id",
                        on("job_run_start_time")
                    ))
                    .await;
                let ids: Vec<i64> = ints(&got, 0).into_iter().flatten().collect();
                let want = unnested(&env, &on("start_time")).await;
                prop_assert_eq!(&ids, &want);
                for r in listings(&requests) {
                    prop_assert_eq!(r.param("expand_tasks"), Some("true"));
                    prop_assert!(r.param("start_time_to").is_some());
                    if let Some(j) = job {
                        let want = jobs[j].to_string();
                        prop_assert_eq!(r.param("job_id"), Some(want.as_str()));
                    }
                }
                Ok(())
            })
        })
        .expect("the task runs of any window");
}

/// A long history is listed in concurrent slices of the runs' start time, as job_runs is:
/// every task run exactly once (the first page's oldest runs' rows dropped, however many each
/// gave, and listed again by the oldest slice).
#[tokio::test]
async fn slices_of_a_long_history_give_every_task_run_once() {
    let env = env(2000).await;
    let (got, requests) = env
        .run(&format!("SELECT run_id, job_run_id FROM {TASKS}"))
        .await;
    let ids: Vec<i64> = ints(&got, 0).into_iter().flatten().collect();
    let distinct: BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), distinct.len(), "no task run twice");
    let want: BTreeSet<i64> = unnested(&env, "true").await.into_iter().collect();
    assert_eq!(distinct, want, "every task run");
    let slices: BTreeSet<&str> = listings(&requests)
        .iter()
        .filter_map(|r| r.param("start_time_to"))
        .collect();
    assert!(slices.len() > 1, "listed in slices: {requests:?}");
    // The big run's 130 task runs came whole (runs/get pages after its listing).
    let big = env.emulator.notable().big_multi_task[0];
    let big_rows = ints(&got, 1).iter().filter(|r| **r == Some(big)).count();
    assert_eq!(big_rows, 130);
}
