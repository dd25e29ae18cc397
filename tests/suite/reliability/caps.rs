//! No silent truncation: every list the Jobs API 2.2 caps at 100 elements, in every method
//! that caps it, comes back whole — followed through the API's own paging (next-page tokens of
//! `jobs/get` and `runs/get`, `has_more` of `jobs/list` and `runs/list` completed with the get
//! method) — asserting the lengths and the requests made. The emulator's big job has 130 tasks,
//! 105 job clusters and 110 parameters; lists it cannot make long (repair history, for-each
//! iterations, environments) are served by a stub.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::record_batch::RecordBatch;
use jobsql_emulator::{EmulatorConfig, EmulatorHandle, RecordedRequest};
use serde_json::{json, Value};

use super::common::*;

const JOBS: &str = "databricks_workspace.jobs.jobs";

/// The text values of column `i`.
fn texts(batches: &[RecordBatch], i: usize) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(i).as_string::<i32>();
            (0..a.len())
                .map(|r| {
                    if a.is_valid(r) {
                        a.value(r).to_string()
                    } else {
                        String::new()
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn len_at(settings: &str, key: &str) -> usize {
    let v: Value = serde_json::from_str(settings).expect("settings is JSON");
    v[key].as_array().map_or(0, Vec::len)
}

fn to<'a>(requests: &'a [RecordedRequest], suffix: &str) -> Vec<&'a RecordedRequest> {
    requests
        .iter()
        .filter(|r| r.path.ends_with(suffix))
        .collect()
}

/// An emulator with the default 20 jobs (the last one is the big job), and a session on it.
async fn big_job() -> (EmulatorHandle, datafusion::prelude::SessionContext, i64) {
    let emu = emulator(EmulatorConfig {
        runs: 300,
        ..EmulatorConfig::default()
    })
    .await;
    let ctx = session(runtime(fast(3), &[emu_workspace("emu", &emu)]));
    let big = *emu.notable().job_ids.last().expect("jobs");
    (emu, ctx, big)
}

#[tokio::test]
async fn jobs_get_follows_the_pages_of_every_settings_array() {
    let (emu, ctx, big) = big_job().await;
    emu.clear_requests();
    let batches = rows(
        &ctx,
        &format!("SELECT settings FROM {JOBS} WHERE job_id = {big}"),
    )
    .await;
    let settings = texts(&batches, 0);
    assert_eq!(settings.len(), 1);
    assert_eq!(len_at(&settings[0], "tasks"), 130);
    assert_eq!(len_at(&settings[0], "job_clusters"), 105);
    assert_eq!(len_at(&settings[0], "parameters"), 110);
    let requests = emu.requests();
    let gets = to(&requests, "/jobs/get");
    assert_eq!(gets.len(), 2, "two pages: {requests:?}");
    assert_eq!(gets[0].param("page_token"), None);
    assert!(gets[1].param("page_token").is_some());
    assert!(gets
        .iter()
        .all(|r| r.param("job_id") == Some(&*big.to_string())));
    emu.shutdown().await;
}

#[tokio::test]
async fn jobs_list_completes_a_job_with_has_more_through_jobs_get() {
    let (emu, ctx, big) = big_job().await;
    emu.clear_requests();
    let batches = rows(
        &ctx,
        &format!("SELECT job_id, settings, has_more FROM {JOBS}"),
    )
    .await;
    let ids = ints(&batches, 0);
    let settings = texts(&batches, 1);
    assert_eq!(ids.len(), 20);
    let at = ids
        .iter()
        .position(|&id| id == big)
        .expect("the big job is listed");
    assert_eq!(len_at(&settings[at], "tasks"), 130);
    assert_eq!(len_at(&settings[at], "job_clusters"), 105);
    assert_eq!(len_at(&settings[at], "parameters"), 110);
    let flags: Vec<Option<bool>> = batches
        .iter()
        .flat_map(|b| b.column(2).as_boolean().iter().collect::<Vec<_>>())
        .collect();
    assert!(
        !flags.contains(&Some(true)),
        "whole now: has_more is not true"
    );
    let requests = emu.requests();
    let lists = to(&requests, "/jobs/list");
    assert!(lists
        .iter()
        .all(|r| r.param("expand_tasks") == Some("true")));
    let gets = to(&requests, "/jobs/get");
    assert_eq!(
        gets.len(),
        2,
        "only the big job is fetched again, both pages: {requests:?}"
    );
    assert!(gets
        .iter()
        .all(|r| r.param("job_id") == Some(&*big.to_string())));
    emu.shutdown().await;
}

#[tokio::test]
async fn runs_list_completes_job_parameters_cut_at_100() {
    let (emu, ctx, big) = big_job().await;
    emu.clear_requests();
    let sql = format!(
        "SELECT run_id, CAST(cardinality(job_parameters) AS BIGINT) FROM {RUNS} WHERE job_id = {big}"
    );
    let batches = rows(&ctx, &sql).await;
    let runs = ints(&batches, 0);
    assert!(!runs.is_empty());
    assert!(
        ints(&batches, 1).iter().all(|&n| n == 110),
        "every run of the big job has its 110 parameters"
    );
    let requests = emu.requests();
    let lists = to(&requests, "/runs/list");
    assert!(lists.iter().all(|r| r.param("expand_tasks").is_none()));
    let mut got: Vec<i64> = to(&requests, "/runs/get")
        .iter()
        .filter(|r| r.param("page_token").is_none())
        .filter_map(|r| r.param("run_id")?.parse().ok())
        .collect();
    got.sort_unstable();
    let mut listed = runs.clone();
    listed.sort_unstable();
    assert_eq!(got, listed, "each listed run fetched whole once");
    emu.shutdown().await;
}

#[tokio::test]
async fn runs_get_merges_every_paged_array() {
    let (emu, ctx, big) = big_job().await;
    let run = emu.notable().big_multi_task[0];
    emu.clear_requests();
    let sql = format!(
        "SELECT CAST(cardinality(tasks) AS BIGINT), CAST(cardinality(job_parameters) AS BIGINT), \
         job_clusters, job_id FROM {RUNS} WHERE run_id = {run}"
    );
    let batches = rows(&ctx, &sql).await;
    assert_eq!(ints(&batches, 0), vec![130]);
    assert_eq!(ints(&batches, 1), vec![110]);
    let clusters: Value = serde_json::from_str(&texts(&batches, 2)[0]).expect("json");
    assert_eq!(clusters.as_array().map(Vec::len), Some(105));
    assert_eq!(ints(&batches, 3), vec![big]);
    assert_eq!(to(&emu.requests(), "/runs/get").len(), 2);
    emu.shutdown().await;
}

/// `runs/get` and `jobs/get` pages served by hand: arrays of 150 split 100 + 50.
fn paged_object(path: &str, page: usize) -> Value {
    let items = |key: &str, from: usize, to: usize| -> Vec<Value> {
        (from..to)
            .map(|i| json!({key: format!("{key}_{i}")}))
            .collect()
    };
    let (from, to) = if page == 0 { (0, 100) } else { (100, 150) };
    let mut v = if path.ends_with("/runs/get") {
        json!({
            "run_id": 7,
            "repair_history": (from..to).map(|i| json!({"id": i, "type": "REPAIR"})).collect::<Vec<_>>(),
            "iterations": items("task_key", from, to),
        })
    } else {
        json!({"job_id": 9, "settings": {"name": "j", "environments": items("environment_key", from, to)}})
    };
    if page == 0 {
        v["next_page_token"] = json!("second");
    }
    v
}

#[tokio::test]
async fn repair_history_iterations_and_environments_follow_their_pages() {
    let stub = Stub::start(|seen, _| {
        let path = seen.uri.split('?').next().unwrap_or_default();
        let page = usize::from(seen.uri.contains("page_token=second"));
        Reply::json(200, paged_object(path, page).to_string())
    })
    .await;
    let ctx = session(runtime(fast(1), &[stub.workspace("stub")]));
    let sql = format!(
        "SELECT CAST(cardinality(repair_history) AS BIGINT), CAST(cardinality(iterations) AS BIGINT) \
         FROM {RUNS} WHERE run_id = 7"
    );
    let batches = rows(&ctx, &sql).await;
    assert_eq!(ints(&batches, 0), vec![150]);
    assert_eq!(ints(&batches, 1), vec![150]);
    let batches = rows(
        &ctx,
        &format!("SELECT settings FROM {JOBS} WHERE job_id = 9"),
    )
    .await;
    assert_eq!(len_at(&texts(&batches, 0)[0], "environments"), 150);
    let uris: Vec<String> = stub.seen().into_iter().map(|s| s.uri).collect();
    assert_eq!(
        uris,
        [
            "/api/2.2/jobs/runs/get?include_history=true&run_id=7",
            "/api/2.2/jobs/runs/get?include_history=true&run_id=7&page_token=second",
            "/api/2.2/jobs/get?job_id=9",
            "/api/2.2/jobs/get?job_id=9&page_token=second",
        ]
    );
}
