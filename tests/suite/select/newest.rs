//! Served in the API's order: `ORDER BY start_time DESC LIMIT n` reads only the first pages of
//! each listing (runs/list returns runs newest first, the spec's `order:`), per job under
//! `job_id IN (...)` merged in order; other orders are sorted by DataFusion over the full
//! listing. And a runs/get reads a run's next pages only when a paged array is read.

use std::collections::BTreeSet;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::TimestampMillisecondType;
use datafusion::arrow::record_batch::RecordBatch;

use super::common::*;

/// The start times (ms) of column `i`.
fn times(batches: &[RecordBatch], i: usize) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(i).as_primitive::<TimestampMillisecondType>();
            a.values().to_vec()
        })
        .collect()
}

/// The raw runs' (start_time, run_id), newest first.
fn newest_first(raw: &[serde_json::Value]) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = raw
        .iter()
        .map(|r| {
            (
                r["start_time"].as_i64().unwrap_or(0),
                r["run_id"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    v.sort_by(|a, b| b.cmp(a));
    v
}

async fn plan_of(env: &Env, sql: &str) -> String {
    strings(&env.run(&format!("EXPLAIN {sql}")).await.0, 1)
        .into_iter()
        .flatten()
        .collect()
}

#[tokio::test]
async fn newest_10_is_one_request_in_the_apis_order() {
    let env = env(2000).await;
    let raw = all_runs_raw(&env.emulator, &[]).await;
    let sql = format!("SELECT run_id, start_time FROM {RUNS} ORDER BY start_time DESC LIMIT 10");
    let (batches, requests) = env.run(&sql).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].param("limit"), Some("10"));
    let want: Vec<i64> = newest_first(&raw).iter().take(10).map(|p| p.0).collect();
    assert_eq!(times(&batches, 1), want);
    let api: Vec<Option<i64>> = raw.iter().take(10).map(|r| r["run_id"].as_i64()).collect();
    assert_eq!(ints(&batches, 0), api, "the API's first ten runs");
    let plan = plan_of(&env, &sql).await;
    assert!(
        plan.contains("order=start_time DESC") && plan.contains("limit=10"),
        "{plan}"
    );
    assert!(!plan.contains("SortExec"), "no sort: {plan}");
}

#[tokio::test]
async fn newest_30_in_a_window_is_two_requests() {
    let env = env(2000).await;
    let raw = all_runs_raw(&env.emulator, &[]).await;
    let from = newest_first(&raw)[400].0;
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id, start_time FROM {RUNS} WHERE start_time >= to_timestamp_millis({from}) \
             ORDER BY start_time DESC LIMIT 30"
        ))
        .await;
    assert_eq!(requests.len(), 2, "25 + 5: {requests:?}");
    assert!(requests
        .iter()
        .all(|r| r.param("start_time_from") == Some(from.to_string().as_str())));
    let want: Vec<i64> = newest_first(&raw).iter().take(30).map(|p| p.0).collect();
    assert_eq!(times(&batches, 1), want);
}

#[tokio::test]
async fn newest_10_of_three_jobs_is_one_request_per_job_merged_in_order() {
    let env = env(2000).await;
    let jobs = &env.emulator.notable().job_ids[..3];
    let mut raw = Vec::new();
    for job in jobs {
        raw.extend(all_runs_raw(&env.emulator, &[("job_id", &job.to_string())]).await);
    }
    let list: Vec<String> = jobs.iter().map(i64::to_string).collect();
    let sql = format!(
        "SELECT run_id, start_time, job_id FROM {RUNS} WHERE job_id IN ({}) \
         ORDER BY start_time DESC LIMIT 10",
        list.join(", ")
    );
    let (batches, requests) = env.run(&sql).await;
    assert_eq!(requests.len(), 3, "{requests:?}");
    let asked: BTreeSet<_> = requests.iter().filter_map(|r| r.param("job_id")).collect();
    assert_eq!(asked, list.iter().map(String::as_str).collect());
    let want = newest_first(&raw);
    assert_eq!(
        times(&batches, 1),
        want.iter().take(10).map(|p| p.0).collect::<Vec<_>>()
    );
    let plan = plan_of(&env, &sql).await;
    assert!(plan.contains("SortPreservingMergeExec"), "{plan}");
    assert!(!plan.contains("SortExec:"), "{plan}");
}

#[tokio::test]
async fn oldest_first_and_other_columns_are_sorted_over_the_full_listing() {
    let env = env(600).await;
    let raw = all_runs_raw(&env.emulator, &[]).await;
    let pages = raw.len().div_ceil(25);
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id, start_time FROM {RUNS} ORDER BY start_time ASC LIMIT 5"
        ))
        .await;
    let mut oldest = newest_first(&raw);
    oldest.reverse();
    assert_eq!(
        times(&batches, 1),
        oldest.iter().take(5).map(|p| p.0).collect::<Vec<_>>()
    );
    assert!(
        requests.len() >= pages,
        "a full listing: {} requests",
        requests.len()
    );
    let (batches, _) = env
        .run(&format!(
            "SELECT run_id, start_time FROM {RUNS} ORDER BY run_id DESC LIMIT 5"
        ))
        .await;
    let mut ids: Vec<i64> = raw.iter().filter_map(|r| r["run_id"].as_i64()).collect();
    ids.sort_by(|a, b| b.cmp(a));
    assert_eq!(
        ints(&batches, 0),
        ids.iter().take(5).map(|&i| Some(i)).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_full_ordered_scan_is_still_sliced_and_in_order() {
    let env = env(2000).await;
    let raw = all_runs_raw(&env.emulator, &[]).await;
    let sql = format!("SELECT run_id, start_time FROM {RUNS} ORDER BY start_time DESC");
    let (batches, requests) = env.run(&sql).await;
    assert_eq!(
        times(&batches, 1),
        newest_first(&raw).iter().map(|p| p.0).collect::<Vec<_>>()
    );
    let got: BTreeSet<_> = ints(&batches, 0).into_iter().flatten().collect();
    assert_eq!(got.len(), raw.len(), "every run once");
    assert!(
        requests
            .iter()
            .filter(|r| r.param("start_time_to").is_some())
            .count()
            > 1,
        "the rest of the range was listed in slices"
    );
    let plan = plan_of(&env, &sql).await;
    assert!(
        plan.contains("slices") && !plan.contains("SortExec"),
        "{plan}"
    );
}

#[tokio::test]
async fn run_id_in_without_paged_arrays_is_one_request_per_run() {
    let env = env(2000).await;
    let notable = env.emulator.notable();
    let big = notable.big_multi_task[0];
    let raw = all_runs_raw(&env.emulator, &[]).await;
    let mut ids: Vec<i64> = raw
        .iter()
        .filter_map(|r| r["run_id"].as_i64())
        .filter(|&i| i != big)
        .take(9)
        .collect();
    ids.push(big);
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id, job_id, state['result_state'] FROM {RUNS} WHERE run_id IN ({}) ORDER BY run_id",
            list.join(", ")
        ))
        .await;
    assert_eq!(requests.len(), 10, "{requests:?}");
    assert!(requests.iter().all(|r| r.param("page_token").is_none()));
    let mut want = ids.clone();
    want.sort();
    assert_eq!(
        ints(&batches, 0),
        want.iter().map(|&i| Some(i)).collect::<Vec<_>>()
    );
    // Reading the tasks still follows the pages: all 130 of the big run.
    let (batches, requests) = env
        .run(&format!(
            "SELECT CAST(cardinality(tasks) AS BIGINT) FROM {RUNS} WHERE run_id IN ({})",
            list.join(", ")
        ))
        .await;
    assert!(
        requests.len() > 10,
        "the big run's second page: {requests:?}"
    );
    assert!(ints(&batches, 0).contains(&Some(130)));
}

#[tokio::test]
async fn newest_10_with_a_second_key_reads_past_the_ties_only() {
    use super::parallel::{listing_session, tie_heavy, Listing};
    // 50 runs share each instant: the newest ten by (start_time DESC, run_id) are among the
    // newest instant's 50, on two pages; the third page shows the next instant.
    let runs = tie_heavy();
    let listing = Listing {
        runs: std::sync::Arc::new(runs.clone()),
        ..Listing::default()
    };
    let ctx = listing_session(listing.clone(), 16).await;
    let batches = query(
        &ctx,
        &format!("SELECT run_id FROM {RUNS} ORDER BY start_time DESC, run_id LIMIT 10"),
    )
    .await;
    let mut want = runs.clone();
    want.sort_by_key(|(id, t)| (std::cmp::Reverse(*t), *id));
    let want: Vec<Option<i64>> = want.iter().take(10).map(|(id, _)| Some(*id)).collect();
    assert_eq!(ints(&batches, 0), want);
    let seen = listing.seen.lock().expect("lock").clone();
    assert_eq!(
        seen.len(),
        3,
        "two pages of ties and one past them: {seen:?}"
    );
}
