//! `jobsql sync` of clean-room task runs (`databricks_workspace.cleanrooms.task_runs`,
//! `incremental: full`, `each` clean room): every sync lists the clean rooms and then each
//! room's runs whole (the API has no time filter); the history equals the live listing, keyed
//! on (deployment_name, collaborator_workspace_id, collaborator_task_run_id), and a second sync
//! adds nothing and duplicates nothing. Against the emulator over HTTP, counting the requests.

use std::collections::BTreeSet;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;
use jobsql_history::sync::SyncReport;

use super::common::{history_dir, on, start};
use crate::support::history::{history_session, sync_table};
use crate::support::session::query;

async fn sync_task_runs(ctx: &SessionContext, dir: &std::path::Path) -> SyncReport {
    sync_table(ctx, dir, "cleanrooms.task_runs", "emu").await
}

/// `(clean_room_name, collaborator_workspace_id, collaborator_task_run_id)` of every row.
fn keys(batches: &[RecordBatch]) -> Vec<(String, i64, i64)> {
    let mut out = Vec::new();
    for b in batches {
        let room = b.column(0).as_string::<i32>();
        let ws = b.column(1).as_primitive::<Int64Type>();
        let run = b.column(2).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            out.push((room.value(i).to_string(), ws.value(i), run.value(i)));
        }
    }
    out.sort();
    out
}

const COLUMNS: &str = "clean_room_name, collaborator_workspace_id, collaborator_task_run_id";

async fn history(dir: &std::path::Path) -> Vec<(String, i64, i64)> {
    let ctx = history_session(dir, "databricks_workspace", "cleanrooms", "task_runs").await;
    keys(&query(&ctx, &format!("SELECT {COLUMNS} FROM h")).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_room_task_runs_sync_per_room_and_exactly_once() {
    let h = start(jobsql_emulator::EmulatorConfig {
        runs: 200,
        ..jobsql_emulator::EmulatorConfig::default()
    })
    .await;
    let ctx = on(&h, &[]);
    let dir = history_dir("task-runs");
    let rooms = query(
        &ctx,
        "SELECT name FROM databricks_workspace.cleanrooms.clean_rooms",
    )
    .await;
    let rooms: BTreeSet<String> = rooms
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_string::<i32>()
                .iter()
                .flatten()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(rooms.len() > 1, "several clean rooms: {rooms:?}");
    let live = keys(
        &query(
            &ctx,
            &format!(
                "SELECT {COLUMNS} FROM databricks_workspace.cleanrooms.task_runs \
                 WHERE clean_room_name IN ({})",
                rooms
                    .iter()
                    .map(|r| format!("'{r}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .await,
    );
    assert!(!live.is_empty());

    h.clear_requests();
    let first = sync_task_runs(&ctx, &dir).await;
    let first_requests = h.requests();
    assert_eq!(first.counts.new, live.len(), "{:?}", first.counts);
    assert_eq!(
        history(&dir).await,
        live,
        "the history is every room's live listing"
    );
    // Each room's runs listed, and nothing else than the rooms and their runs.
    let listed: BTreeSet<String> = first_requests
        .iter()
        .filter_map(|r| {
            r.path
                .strip_prefix("/api/2.0/clean-rooms/")
                .and_then(|p| p.strip_suffix("/runs"))
                .map(str::to_string)
        })
        .collect();
    assert_eq!(listed, rooms, "{first_requests:?}");
    assert!(first_requests
        .iter()
        .all(|r| r.path.starts_with("/api/2.0/clean-rooms")));

    // Again, with nothing new: the same listing (the cost of `full`), nothing added or doubled.
    h.clear_requests();
    let second = sync_task_runs(&ctx, &dir).await;
    let second_requests = h.requests();
    assert_eq!(second.counts.new, 0, "{:?}", second.counts);
    assert_eq!(second.counts.updated, 0, "{:?}", second.counts);
    assert_eq!(
        second_requests.len(),
        first_requests.len(),
        "{second_requests:?}"
    );
    let again = history(&dir).await;
    assert_eq!(again, live, "every run once");
}
