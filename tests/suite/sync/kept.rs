//! Runs the API no longer has stay in the history (it is an archive) with the `synced_at` of
//! the last sync that saw them, even when their partition is rewritten around them: a Databricks
//! job run deleted with `runs/delete`, a LakeSail run deleted with `DELETE .../runs/{id}`, and the
//! task runs of a clean room deleted with `DELETE /api/2.0/clean-rooms/{name}`. Every run the
//! second sync saw again gets its `synced_at`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use super::common::*;
use crate::support::api::Api;
use crate::support::batches::{ints, rows, strings};
use crate::support::history::{history_session, sync_table};
use crate::support::lakesail::{Sail, SAIL_RUNS};
use crate::support::session::query;

/// A history table under a root, as the tests here read it: its key expression (as text).
struct Table {
    provider: &'static str,
    service: &'static str,
    resource: &'static str,
    key: &'static str,
}

const JOB_RUNS: Table = Table {
    provider: "databricks_workspace",
    service: "jobs",
    resource: "job_runs",
    key: "CAST(run_id AS VARCHAR)",
};
const SAIL: Table = Table {
    provider: "lakesail",
    service: "jobs",
    resource: "job_runs",
    key: "concat(job_id, '/', job_run_id)",
};
const TASK_RUNS: Table = Table {
    provider: "databricks_workspace",
    service: "cleanrooms",
    resource: "task_runs",
    key: "concat(clean_room_name, '/', CAST(collaborator_task_run_id AS VARCHAR))",
};

/// `key → (start_date, synced_at in µs)` of every row of `table` under `dir`.
async fn stamps(dir: &Path, table: &Table) -> BTreeMap<String, (String, i64)> {
    let ctx = history_session(dir, table.provider, table.service, table.resource).await;
    let sql = format!(
        "SELECT {}, CAST(start_date AS VARCHAR), CAST(synced_at AS BIGINT) FROM h",
        table.key
    );
    let batches = query(&ctx, &sql).await;
    let (keys, dates) = (strings(&batches, 0), strings(&batches, 1));
    let mut out = BTreeMap::new();
    for ((key, date), stamp) in keys.into_iter().zip(dates).zip(ints(&batches, 2)) {
        let (key, date, stamp) = (
            key.expect("a key"),
            date.expect("a date"),
            stamp.expect("µs"),
        );
        let old = out.insert(key.clone(), (date, stamp));
        assert!(old.is_none(), "{key} twice");
    }
    out
}

/// One string column of `sql` on the history of `table` under `dir`.
async fn strings_of(dir: &Path, table: &Table, sql: &str) -> Vec<String> {
    let ctx = history_session(dir, table.provider, table.service, table.resource).await;
    strings(&query(&ctx, sql).await, 0)
        .into_iter()
        .flatten()
        .collect()
}

/// A row the next sync sees again (still active, so fetched again, or the newest, which the
/// listing from the mark returns again) and a finished row of the same start date: their
/// partition is rewritten by the next sync.
async fn seen_and_a_finished_neighbour(
    dir: &Path,
    table: &Table,
    start: &str,
    end: &str,
) -> (String, String) {
    let key = table.key;
    let seen = format!(
        "SELECT {key} AS k, start_date AS d FROM h \
         WHERE {end} IS NULL OR {start} = (SELECT max({start}) FROM h)"
    );
    let sql = format!(
        "WITH seen AS ({seen}), done AS (SELECT {key} AS k, start_date AS d FROM h \
         WHERE {end} IS NOT NULL AND {key} NOT IN (SELECT k FROM seen)) \
         SELECT concat(seen.k, ' ', done.k) FROM seen JOIN done ON seen.d = done.d \
         ORDER BY 1 LIMIT 1"
    );
    let pair = strings_of(dir, table, &sql).await;
    let pair = pair
        .first()
        .expect("a finished run on the date of a run seen again");
    let (seen, done) = pair.split_once(' ').expect("two keys");
    (seen.to_string(), done.to_string())
}

/// After the second sync: `gone` kept exactly as the first left them, `seen` stamped anew,
/// nothing lost.
fn assert_kept(
    first: &BTreeMap<String, (String, i64)>,
    second: &BTreeMap<String, (String, i64)>,
    gone: &[String],
    seen: &[String],
) {
    assert_eq!(
        second.keys().collect::<Vec<_>>(),
        first.keys().collect::<Vec<_>>(),
        "every run is still kept"
    );
    for key in gone {
        assert_eq!(
            second[key], first[key],
            "{key}: kept with the time it was last seen"
        );
    }
    for key in seen {
        assert!(
            second[key].1 > first[key].1,
            "{key} was seen again: {:?} then {:?}",
            first[key],
            second[key]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_run_the_api_deleted_is_kept_with_the_time_it_was_last_seen() {
    let (h, _clock) = standing(300).await;
    let ctx = on(&h, &[]);
    let dir = history_dir("kept-runs");
    sync(&ctx, &dir, "emu").await;
    let first = stamps(&dir, &JOB_RUNS).await;
    let (seen, gone) =
        seen_and_a_finished_neighbour(&dir, &JOB_RUNS, "start_time", "end_time").await;
    let id: i64 = gone.parse().expect("a run id");
    Api::new(&h)
        .post_ok("/api/2.2/jobs/runs/delete", json!({ "run_id": id }))
        .await;
    let live = query(
        &ctx,
        &format!("SELECT run_id FROM job_runs WHERE run_id = {id}"),
    )
    .await;
    assert_eq!(rows(&live), 0);

    let report = sync(&ctx, &dir, "emu").await;
    assert!(report.counts.kept >= 1, "{:?}", report.counts);
    let second = stamps(&dir, &JOB_RUNS).await;
    assert_eq!(second[&gone].0, second[&seen].0, "one partition");
    assert_kept(&first, &second, &[gone], &[seen]);
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lakesail_run_the_api_deleted_is_kept_with_the_time_it_was_last_seen() {
    let clock = jobsql_emulator::ManualClock::new(crate::support::emulator::NOW);
    let h = crate::support::lakesail::start(jobsql_emulator::lakesail::LakeSailConfig {
        runs: 400,
        clock: Some(Arc::new(clock.clone())),
        phase: std::time::Duration::from_secs(1),
        ..jobsql_emulator::lakesail::LakeSailConfig::default()
    })
    .await;
    let ctx = crate::support::lakesail::sail_session(&h, None);
    let dir = history_dir("kept-sail");
    sync_table(&ctx, &dir, SAIL_RUNS, "sail").await;
    let first = stamps(&dir, &SAIL).await;
    let (seen, gone) =
        seen_and_a_finished_neighbour(&dir, &SAIL, "created_at", "finished_at").await;
    let (job, run) = gone.split_once('/').expect("job/run");
    let (status, body) = Sail::new(&h).delete(job, run).await;
    assert!(status < 300, "delete: {body}");

    let report = sync_table(&ctx, &dir, SAIL_RUNS, "sail").await;
    assert!(report.counts.kept >= 1, "{:?}", report.counts);
    let second = stamps(&dir, &SAIL).await;
    assert_eq!(second[&gone].0, second[&seen].0, "one partition");
    assert_kept(&first, &second, &[gone], &[seen]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_runs_of_a_deleted_clean_room_are_kept_with_the_time_they_were_last_seen() {
    let h = start(jobsql_emulator::EmulatorConfig {
        runs: 200,
        ..jobsql_emulator::EmulatorConfig::default()
    })
    .await;
    let ctx = on(&h, &[]);
    let dir = history_dir("kept-rooms");
    sync_table(&ctx, &dir, "cleanrooms.task_runs", "emu").await;
    let first = stamps(&dir, &TASK_RUNS).await;
    let room = first
        .keys()
        .next()
        .and_then(|k| k.split_once('/'))
        .map(|(room, _)| room.to_string())
        .expect("a clean room with runs");
    let deleted = reqwest::Client::new()
        .delete(format!("{}/api/2.0/clean-rooms/{room}", h.base_url()))
        .bearer_auth(h.token())
        .send()
        .await
        .expect("delete sent");
    assert_eq!(deleted.status(), 200);

    let report = sync_table(&ctx, &dir, "cleanrooms.task_runs", "emu").await;
    let second = stamps(&dir, &TASK_RUNS).await;
    let (gone, seen): (Vec<String>, Vec<String>) = first
        .keys()
        .cloned()
        .partition(|k| k.starts_with(&format!("{room}/")));
    assert!(!gone.is_empty() && !seen.is_empty());
    // A partition of the deleted room's runs that others share was rewritten around them.
    let dates_seen: std::collections::BTreeSet<_> = seen.iter().map(|k| &first[k].0).collect();
    let shared = gone
        .iter()
        .filter(|k| dates_seen.contains(&first[*k].0))
        .count();
    assert!(shared > 0, "the deleted room shares a date with another");
    assert!(report.counts.kept >= shared, "{:?}", report.counts);
    assert_kept(&first, &second, &gone, &seen);
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
