//! `<resource>_history` read back: rows equal to what delta-rs wrote, short names, listings,
//! partition pruning, the newest version per statement, the CLI's `--history`, `serve`, and
//! the errors users read. None of it sends an API request.

use std::path::Path;
use std::sync::Arc;

use jobsql_core::client::{ApiClient, RetryPolicy};
use jobsql_core::frontend::sessions as jobsql_sessions;
use jobsql_core::session::new_context;
use jobsql_core::spec::load_embedded;
use jobsql_core::workspace::Workspace;
use jobsql_emulator::EmulatorHandle;
use jobsql_history::HistoryRoot;
use jobsql_pgwire::{start, ServeOptions};
use tokio_postgres::{NoTls, SimpleQueryMessage};

use super::common::{emulator, error, ints, jobsql_env, query, runtime, stderr, stdout, strings};
use super::delta::{self, Run};

async fn emu() -> EmulatorHandle {
    emulator(20, 7).await
}

/// A session over `emu` whose history is under `root`.
fn session(emu: &EmulatorHandle, root: &Path) -> datafusion::prelude::SessionContext {
    let ws = Workspace::new("emu", &emu.base_url(), emu.token()).expect("workspace");
    let mut rt = runtime(
        ApiClient::new(RetryPolicy::default()).expect("client"),
        &[ws],
    );
    rt.added_tables.push(Arc::new(
        HistoryRoot::parse(&root.display().to_string()).expect("root"),
    ));
    new_context(&load_embedded().expect("specs"), Arc::new(rt)).expect("session")
}

const COLUMNS: &str = "SELECT deployment_name, run_id, result_state, CAST(start_date AS VARCHAR), \
                       CAST(start_time AS VARCHAR)";

/// The runs as the query above prints them, ordered by run id.
fn expected(runs: &[Run]) -> Vec<Vec<Option<String>>> {
    let mut runs = runs.to_vec();
    runs.sort_by_key(|r| r.run_id);
    runs.iter()
        .map(|r| {
            let start = chrono::DateTime::from_timestamp_micros(r.start_time).expect("time");
            vec![
                Some(r.deployment_name.clone()),
                Some(r.run_id.to_string()),
                r.result_state.clone(),
                Some(start.format("%Y-%m-%d").to_string()),
                Some(start.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            ]
        })
        .collect()
}

fn table_rows(
    batches: &[datafusion::arrow::record_batch::RecordBatch],
) -> Vec<Vec<Option<String>>> {
    let columns: Vec<Vec<Option<String>>> = (0..5).map(|i| strings(batches, i)).collect();
    (0..columns[0].len())
        .map(|r| columns.iter().map(|c| c[r].clone()).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_delta_rs_wrote_reads_back_under_each_name_and_is_listed() {
    let root = tempfile::tempdir().expect("root");
    let first = delta::runs(1, 30);
    let second = delta::runs(31, 9);
    let mut table = delta::create(root.path(), &first).await;
    delta::append(&mut table, &second).await;
    let all: Vec<Run> = first.iter().chain(&second).cloned().collect();

    let emu = emu().await;
    let ctx = session(&emu, root.path());
    let full = query(
        &ctx,
        &format!("{COLUMNS} FROM databricks_workspace.jobs.job_runs_history ORDER BY run_id"),
    )
    .await;
    assert_eq!(table_rows(&full), expected(&all));
    for name in ["jobs.job_runs_history", "job_runs_history"] {
        let rows = query(&ctx, &format!("{COLUMNS} FROM {name} ORDER BY run_id")).await;
        assert_eq!(table_rows(&rows), expected(&all), "{name}");
    }
    let listed = query(
        &ctx,
        "SELECT table_catalog, table_schema FROM information_schema.tables \
         WHERE table_name = 'job_runs_history'",
    )
    .await;
    assert_eq!(
        strings(&listed, 0),
        [Some("databricks_workspace".to_string())]
    );
    assert_eq!(strings(&listed, 1), [Some("jobs".to_string())]);
    // Only the tables a sync wrote are listed.
    let others = query(
        &ctx,
        "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%_history'",
    )
    .await;
    assert_eq!(ints(&others, 0), [Some(1)]);
    // The history is on disk: reading it asks the API nothing.
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_filter_opens_only_that_dates_files() {
    let root = tempfile::tempdir().expect("root");
    let runs = delta::runs(1, 30);
    delta::create(root.path(), &runs).await;
    // The other dates' files are made unreadable: a scan that opens one fails.
    for date in ["2026-11-02", "2026-11-03"] {
        let files = delta::files_of(root.path(), date);
        assert!(!files.is_empty(), "{date} has files");
        for f in files {
            std::fs::write(&f, b"not parquet").expect("overwrite");
        }
    }
    let emu = emu().await;
    let ctx = session(&emu, root.path());
    let nov_1: Vec<Run> = runs.iter().filter(|r| r.run_id % 3 == 1).cloned().collect();
    for filter in [
        "start_date = DATE '2026-11-01'",
        "start_date < DATE '2026-11-02'",
        "start_date IN (DATE '2026-11-01', DATE '2026-10-31')",
        "start_date = DATE '2026-11-01' AND run_id > 0",
    ] {
        let rows = query(
            &ctx,
            &format!("{COLUMNS} FROM job_runs_history WHERE {filter} ORDER BY run_id"),
        )
        .await;
        assert_eq!(table_rows(&rows), expected(&nov_1), "{filter}");
    }
    // Without a partition filter the unreadable files are opened.
    let err = error(
        &ctx,
        "SELECT count(*) FROM job_runs_history WHERE run_id > 0",
    )
    .await;
    assert!(err.to_lowercase().contains("parquet"), "{err}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_statement_reads_the_newest_version() {
    let root = tempfile::tempdir().expect("root");
    let emu = emu().await;
    let ctx = session(&emu, root.path());
    // Not synced yet: the error says where it looked and what writes it.
    let err = error(&ctx, "SELECT * FROM job_runs_history").await;
    let dir = delta::table_dir(root.path());
    assert!(
        err.contains("no history at") && err.contains(&dir.display().to_string()),
        "{err}"
    );
    assert!(err.contains("jobsql sync"), "{err}");
    let mut table = delta::create(root.path(), &delta::runs(1, 30)).await;
    let count = "SELECT count(*) FROM job_runs_history";
    assert_eq!(ints(&query(&ctx, count).await, 0), [Some(30)]);
    delta::append(&mut table, &delta::runs(31, 9)).await;
    assert_eq!(ints(&query(&ctx, count).await, 0), [Some(39)]);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobsql_query_reads_the_history_named_by_flag_or_environment() {
    let root = tempfile::tempdir().expect("root");
    delta::create(root.path(), &delta::runs(1, 30)).await;
    let dir = root.path().display().to_string();
    let sql = "SELECT count(*) AS n FROM jobs.job_runs_history";
    let by_flag = jobsql_env(
        &["query", "--demo", "--format", "csv", "--history", &dir, sql],
        &[],
    );
    assert!(by_flag.status.success(), "{}", stderr(&by_flag));
    assert_eq!(stdout(&by_flag), "n\n30\n");
    let by_env = jobsql_env(
        &["query", "--demo", "--format", "csv", sql],
        &[("JOBSQL_HISTORY", &dir)],
    );
    assert!(by_env.status.success(), "{}", stderr(&by_env));
    assert_eq!(stdout(&by_env), "n\n30\n");
    let off = jobsql_env(
        &["query", "--demo", "--history", "none", sql],
        &[("JOBSQL_HISTORY", &dir)],
    );
    assert_eq!(off.status.code(), Some(1), "{}", stderr(&off));
    assert!(
        stderr(&off).contains("job_runs_history"),
        "{}",
        stderr(&off)
    );
    // Cloud storage is read (tests/suite/history/cloud.rs); a cloud URL without a bucket is refused.
    let cloud = jobsql_env(&["query", "--demo", "--history", "s3:///h", sql], &[]);
    assert_eq!(cloud.status.code(), Some(2), "{}", stderr(&cloud));
    assert!(
        stderr(&cloud).contains("s3:///h") && stderr(&cloud).contains("no bucket"),
        "{}",
        stderr(&cloud)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_clients_read_the_history_but_still_no_file_of_their_choosing() {
    let root = tempfile::tempdir().expect("root");
    delta::create(root.path(), &delta::runs(1, 30)).await;
    let emu = emu().await;
    let ws = Workspace::new("emu", &emu.base_url(), emu.token()).expect("workspace");
    let mut rt = runtime(
        ApiClient::new(RetryPolicy::default()).expect("client"),
        &[ws],
    );
    rt.added_tables.push(Arc::new(
        HistoryRoot::parse(&root.path().display().to_string()).expect("root"),
    ));
    let factory = jobsql_sessions(load_embedded().expect("specs"), Arc::new(rt));
    let server = start(
        ServeOptions::new("127.0.0.1:0".parse().expect("addr")),
        factory,
    )
    .await
    .expect("server");
    let addr = server.local_addr();
    let (client, connection) = tokio_postgres::Config::new()
        .host(addr.ip().to_string())
        .port(addr.port())
        .user("analyst")
        .dbname("jobsql")
        .connect(NoTls)
        .await
        .expect("connects");
    tokio::spawn(connection);
    let messages = client
        .simple_query(
            "SELECT count(*), count(DISTINCT start_date) FROM jobs.job_runs_history \
             WHERE result_state = 'FAILED'",
        )
        .await
        .expect("history query");
    let row: Vec<String> = messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("").to_string())
                    .collect(),
            ),
            _ => None,
        })
        .expect("a row");
    let failed = delta::runs(1, 30)
        .iter()
        .filter(|r| r.result_state.as_deref() == Some("FAILED"))
        .count();
    assert_eq!(row, [failed.to_string(), "3".to_string()]);
    // The history's own files are still not a path a client may name.
    let file = delta::files_of(root.path(), "2026-11-01").remove(0);
    let err = client
        .simple_query(&format!("SELECT * FROM '{}'", file.display()))
        .await
        .expect_err("a file of the client's choosing");
    let message = err
        .as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_default();
    assert!(message.contains("open no file"), "{message}");
    emu.shutdown().await;
}

#[test]
fn what_jobsql_sync_writes_reads_back_as_the_history_table() {
    let root = tempfile::tempdir().expect("root");
    let dir = root.path().display().to_string();
    let sync = jobsql_env(
        &["sync", "--demo", "--to", &dir, "--table", "job_runs"],
        &[],
    );
    assert!(sync.status.success(), "{}", stderr(&sync));
    let summary = stdout(&sync);
    let new: usize = summary
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of new runs in {summary}"));
    assert!(new > 0, "{summary}");
    let sql = "SELECT count(*) AS n, count(DISTINCT run_id) AS ids, \
               count(*) FILTER (WHERE synced_at IS NULL) AS unsynced FROM job_runs_history";
    let read = jobsql_env(
        &["query", "--demo", "--format", "csv", "--history", &dir, sql],
        &[],
    );
    assert!(read.status.success(), "{}", stderr(&read));
    assert_eq!(stdout(&read), format!("n,ids,unsynced\n{new},{new},0\n"));
}
