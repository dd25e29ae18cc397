//! Two syncs racing for one Delta version (two cron jobs overlapping, say): both read the
//! table before either commits, one wins the version, the other sees the conflict and syncs
//! again over the winner's commit. Both succeed, every run is kept once, and the table equals
//! the live listing: first into an empty location (both create the table), then into a table
//! that has history (both merge new runs).

use std::collections::BTreeSet;
use std::time::Duration;

use jobsql_history::sync::SyncReport;
use serde_json::json;

use super::common::*;
use crate::support::api::Api;
use crate::support::history::try_sync_table;

/// Both syncs at once, each on its own session (as two processes would be).
async fn race(
    h: &jobsql_emulator::EmulatorHandle,
    dir: &std::path::Path,
) -> (SyncReport, SyncReport) {
    let (a, b) = (on(h, &[]), on(h, &[]));
    let (ra, rb) = tokio::join!(
        try_sync_table(&a, dir, "job_runs", "emu"),
        try_sync_table(&b, dir, "job_runs", "emu")
    );
    let ra = ra.unwrap_or_else(|e| panic!("the first sync fails: {e}"));
    let rb = rb.unwrap_or_else(|e| panic!("the second sync fails: {e}"));
    (ra, rb)
}

/// `(operation, jobsql.new)` of each commit in the table's log, in version order.
fn commits(dir: &std::path::Path) -> Vec<(String, u64)> {
    let log = table_dir(dir).join("_delta_log");
    let mut names: Vec<_> = std::fs::read_dir(&log)
        .expect("log")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| {
            let text = std::fs::read_to_string(log.join(n)).expect("commit");
            let info = text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find_map(|v| v.get("commitInfo").cloned())
                .expect("commitInfo");
            let op = info["operation"].as_str().unwrap_or_default().to_string();
            (op, info["jobsql.new"].as_u64().unwrap_or(0))
        })
        .collect()
}

fn assert_each_run_once(history: &datafusion::arrow::array::RecordBatch) {
    let ids = run_ids(history);
    let unique: BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no run twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_syncs_racing_for_one_version_both_succeed_and_keep_each_run_once() {
    let clock = jobsql_emulator::ManualClock::new(NOW);
    let h = start(jobsql_emulator::EmulatorConfig {
        runs: 600,
        seed: 42,
        jobs: 8,
        phase: Duration::from_secs(3600),
        clock: Some(std::sync::Arc::new(clock.clone())),
        // Every page takes a while: both syncs open the table before either commits.
        latency: Duration::from_millis(30),
        record_limit: 100_000,
        ..jobsql_emulator::EmulatorConfig::default()
    })
    .await;
    let dir = history_dir("race");

    // An empty location: both create the table, both write every run; one commit wins.
    let (a, b) = race(&h, &dir).await;
    assert_eq!(a.counts.new + b.counts.new, 600, "{a:?}\n{b:?}");
    assert!(a.counts.new == 0 || b.counts.new == 0, "{a:?}\n{b:?}");
    // They raced: one lost the commit and ran again over the winner's.
    assert_eq!(
        (a.attempt.min(b.attempt), a.attempt.max(b.attempt)),
        (1, 2),
        "{a:?}\n{b:?}"
    );
    let ctx = on(&h, &[]);
    let history = history_rows(&ctx, &dir).await;
    assert_each_run_once(&history);
    assert_same_rows(&history, &live_rows(&ctx, "emu").await);
    let log = commits(&dir);
    assert_eq!(log[0].0, "CREATE TABLE", "{log:?}");
    assert!(
        log[1..].iter().all(|(op, _)| op == "MERGE"),
        "one CREATE TABLE (the loser opened the winner's table), then merges: {log:?}"
    );
    assert_eq!(log.iter().map(|c| c.1).sum::<u64>(), 600, "{log:?}");

    // A table with history, 50 new runs: both merge them; one commit wins.
    clock.advance(Duration::from_secs(3 * 3600));
    let api = Api::new(&h);
    for i in 0..50 {
        let body = json!({"run_name": format!("race-{i}"), "tasks": [{"task_key": "a",
            "notebook_task": {"notebook_path": "/Shared/x"},
            "existing_cluster_id": "0101-000000-abcdefgh"}]});
        api.post_ok("/api/2.2/jobs/runs/submit", body).await;
    }
    let (a, b) = race(&h, &dir).await;
    assert_eq!(a.counts.new + b.counts.new, 50, "{a:?}\n{b:?}");
    assert_eq!(a.attempt.max(b.attempt), 2, "they raced: {a:?}\n{b:?}");
    let history = history_rows(&ctx, &dir).await;
    assert_each_run_once(&history);
    assert_same_rows(&history, &live_rows(&ctx, "emu").await);
    let after = commits(&dir);
    assert!(after[log.len()..].iter().all(|(op, _)| op == "MERGE"));
    assert_eq!(
        after[log.len()..].iter().map(|c| c.1).sum::<u64>(),
        50,
        "the 50 committed once: {after:?}"
    );
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
