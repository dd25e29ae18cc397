//! Later syncs: the listing from the high-water mark minus the overlap, one `runs/get` per run
//! still active at the last sync, and a MERGE on (deployment_name, run_id) that adds new runs,
//! updates finished ones and duplicates none.

use std::collections::BTreeSet;
use std::time::Duration;

use datafusion::arrow::array::{Array, ListArray, TimestampMicrosecondArray};
use serde_json::json;

use super::common::*;
use crate::support::api::Api;

const OVERLAP_MS: i64 = 600_000;

/// The runs of `history` still active (`end_time` NULL) and started before `before` (ms).
fn active_before(history: &datafusion::arrow::array::RecordBatch, before: i64) -> BTreeSet<String> {
    let ids = run_ids(history);
    let end = history.column_by_name("end_time").unwrap();
    let start = history.column_by_name("start_time").unwrap();
    let start = start
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    (0..history.num_rows())
        .filter(|&i| end.is_null(i) && start.value(i) / 1000 < before)
        .map(|i| ids[i].to_string())
        .collect()
}

fn max_start_ms(history: &datafusion::arrow::array::RecordBatch) -> i64 {
    let start = history.column_by_name("start_time").unwrap();
    let start = start
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    start.iter().flatten().max().unwrap() / 1000
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sync_with_no_new_runs_costs_one_page_plus_a_get_per_active_run() {
    let (h, _clock) = standing(2_000).await;
    let ctx = on(&h, &[]);
    let dir = history_dir("again");
    let first = sync(&ctx, &dir, "emu").await;
    assert_eq!(first.counts.new, 2_000);
    let before = history_rows(&ctx, &dir).await;
    let mark = max_start_ms(&before);
    let active = active_before(&before, mark - OVERLAP_MS);
    assert!(!active.is_empty(), "the history has runs still active");

    h.clear_requests();
    let second = sync(&ctx, &dir, "emu").await;
    let requests = h.requests();
    let lists: Vec<_> = requests.iter().filter(|r| r.path == LIST).collect();
    assert!(
        lists.len() <= 1,
        "at most one listing page: {}",
        lists.len()
    );
    assert_eq!(
        lists[0].param("start_time_from"),
        Some((mark - OVERLAP_MS).to_string().as_str()),
        "listed from the mark minus the overlap"
    );
    let firsts: Vec<String> = requests
        .iter()
        .filter(|r| r.path == GET && r.param("page_token").is_none())
        .filter_map(|r| r.param("run_id").map(str::to_string))
        .collect();
    assert_eq!(
        firsts.len(),
        active.len(),
        "one get per active run: {firsts:?}"
    );
    assert_eq!(firsts.into_iter().collect::<BTreeSet<_>>(), active);
    // A get's next page only for an active run of the big job (more than 100 tasks).
    let tasks = before.column_by_name("tasks").unwrap();
    let tasks = tasks.as_any().downcast_ref::<ListArray>().unwrap();
    let ids = run_ids(&before);
    let big: BTreeSet<String> = (0..ids.len())
        .filter(|&i| tasks.value_length(i) > 100)
        .map(|i| ids[i].to_string())
        .collect();
    for r in requests.iter().filter(|r| r.param("page_token").is_some()) {
        assert!(
            r.path == GET && big.contains(r.param("run_id").unwrap()),
            "{r:?}"
        );
    }
    assert_eq!(
        requests.len(),
        lists.len()
            + active.len()
            + requests
                .iter()
                .filter(|r| r.param("page_token").is_some())
                .count()
    );

    assert_eq!(
        (second.counts.new, second.counts.updated),
        (0, 0),
        "{second:?}"
    );
    assert!(second.counts.unchanged >= active.len());
    assert_eq!(second.version, Some(2));
    let after = history_rows(&ctx, &dir).await;
    assert_same_rows(&after, &before);
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn submit_body(name: &str) -> serde_json::Value {
    json!({"run_name": name, "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/Shared/x"}, "existing_cluster_id": "0101-000000-abcdefgh"}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_new_runs_and_five_finishing_add_300_update_5_duplicate_none() {
    let clock = jobsql_emulator::ManualClock::new(NOW);
    let h = start(jobsql_emulator::EmulatorConfig {
        runs: 2_000,
        seed: 42,
        jobs: 8,
        // A created run is pending for an hour, running for an hour, then done.
        phase: Duration::from_secs(3600),
        clock: Some(std::sync::Arc::new(clock.clone())),
        record_limit: 100_000,
        ..jobsql_emulator::EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&h);
    let ctx = on(&h, &[]);
    let dir = history_dir("merge");
    let mut five = Vec::new();
    for i in 0..5 {
        let v = api
            .post_ok(
                "/api/2.2/jobs/runs/submit",
                submit_body(&format!("five-{i}")),
            )
            .await;
        five.push(v["run_id"].as_i64().unwrap());
    }
    // A later run, canceled at once: the mark moves past the five, which are then fetched by key.
    clock.advance(Duration::from_secs(1800));
    let marker = api
        .post_ok("/api/2.2/jobs/runs/submit", submit_body("marker"))
        .await;
    api.post_ok(
        "/api/2.2/jobs/runs/cancel",
        json!({"run_id": marker["run_id"]}),
    )
    .await;
    let first = sync(&ctx, &dir, "emu").await;
    assert_eq!(first.counts.new, 2_006);

    clock.advance(Duration::from_secs(3 * 3600));
    let mut new = BTreeSet::new();
    for i in 0..300 {
        let v = api
            .post_ok(
                "/api/2.2/jobs/runs/submit",
                submit_body(&format!("new-{i}")),
            )
            .await;
        new.insert(v["run_id"].as_i64().unwrap());
    }
    h.clear_requests();
    let second = sync(&ctx, &dir, "emu").await;
    assert_eq!(
        (second.counts.new, second.counts.updated),
        (300, 5),
        "{second:?}"
    );
    let gets: BTreeSet<i64> = h
        .requests()
        .iter()
        .filter(|r| r.path == GET)
        .filter_map(|r| r.param("run_id")?.parse().ok())
        .collect();
    assert!(
        five.iter().all(|id| gets.contains(id)),
        "the five were fetched by key: {gets:?}"
    );

    let history = history_rows(&ctx, &dir).await;
    let ids = run_ids(&history);
    assert_eq!(ids.len(), 2_306);
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        2_306,
        "no run twice"
    );
    assert!(new.iter().all(|id| ids.contains(id)));
    let end = history.column_by_name("end_time").unwrap();
    for id in &five {
        let row = ids.iter().position(|i| i == id).unwrap();
        assert!(end.is_valid(row), "run {id} is kept finished");
    }
    // The table equals the live listing now (every run the API has is kept, once).
    assert_same_rows(&history, &live_rows(&ctx, "emu").await);
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
