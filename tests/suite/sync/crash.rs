//! A sync killed midway (the `jobsql sync` process, killed while it lists and writes) leaves a
//! readable table with nothing half-committed, and the next sync gives the same table as one
//! never interrupted.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jobsql_core::client::{ApiClient, RetryPolicy};

use super::common::*;
use crate::support::cli::{stderr, EmulatorProcess};
use crate::support::session::{context, runtime};

fn sync_command(base_url: &str, to: &std::path::Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jobsql"));
    cmd.args(["sync", "--to", to.to_str().unwrap()])
        .args(extra)
        .env("DATABRICKS_HOST", base_url)
        .env("DATABRICKS_TOKEN", "dev-emulator-token")
        .env("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
        .env_remove("DATABRICKS_CONFIG_PROFILE")
        .env_remove("JOBSQL_HISTORY");
    cmd
}

fn lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sync_leaves_a_readable_table_and_the_next_completes_it() {
    let dir = history_dir("crash");
    let log = dir.join("requests.jsonl");
    let emulator = EmulatorProcess::start(&[
        "--runs",
        "5000",
        "--seed",
        "42",
        "--latency-ms",
        "20",
        "--log",
        log.to_str().unwrap(),
    ]);
    let (killed, whole) = (dir.join("killed"), dir.join("whole"));

    // Listing page after page (--max-concurrency 2): killed once 60 requests were answered.
    let mut child = sync_command(&emulator.base_url, &killed, &["--max-concurrency", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("jobsql sync starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while lines(&log) < 60 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sync ended before it was killed"
        );
        assert!(Instant::now() < deadline, "no requests");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let table = table_dir(&killed);
    assert!(
        !table.join("_delta_log/00000000000000000001.json").exists(),
        "killed before its commit"
    );

    // Readable: the committed state (the empty table), whatever files the kill left behind.
    let ctx = context(runtime(
        ApiClient::new(RetryPolicy::default()).unwrap(),
        &[],
    ));
    assert_eq!(history_rows(&ctx, &killed).await.num_rows(), 0);

    // The next sync completes it; it equals a sync never interrupted.
    let o = sync_command(&emulator.base_url, &killed, &[])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = sync_command(&emulator.base_url, &whole, &[])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let (a, b) = (
        history_rows(&ctx, &killed).await,
        history_rows(&ctx, &whole).await,
    );
    assert_eq!(a.num_rows(), 5_000);
    assert_same_rows(&a, &b);
    assert!(table.join("_delta_log/00000000000000000001.json").exists());
    assert!(!table.join("_delta_log/00000000000000000002.json").exists());
    drop(emulator);
    let _ = std::fs::remove_dir_all(&dir);
}
