//! Bad input to `jobsql sync`: one clear line on stderr, exit code 2 (arguments) or 1 (a
//! location it cannot write), no panic, nothing written.

use crate::support::cli::{jobsql, stderr, temp_dir};

fn one_error_line(o: &std::process::Output) -> String {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!err.contains("panicked"), "{err}");
    lines.first().map(|l| l.to_string()).unwrap_or_default()
}

#[test]
fn an_unknown_table_names_the_tables_that_keep_history() {
    let dir = temp_dir("sync-unknown");
    let o = jobsql(&[
        "sync",
        "--demo",
        "--to",
        dir.to_str().unwrap(),
        "--table",
        "job_run",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        one_error_line(&o),
        "error: unknown table 'job_run' for jobsql sync (tables that keep history: databricks_workspace.cleanrooms.task_runs, databricks_workspace.jobs.job_runs, lakesail.jobs.job_runs)"
    );
    assert_eq!(stderr(&o).lines().count(), 1);
    let o = jobsql(&[
        "sync",
        "--demo",
        "--to",
        dir.to_str().unwrap(),
        "--table",
        "databricks_workspace.jobs.jobs",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        one_error_line(&o).starts_with("error: databricks_workspace.jobs.jobs keeps no history")
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_since_is_a_usage_error() {
    let o = jobsql(&["sync", "--demo", "--since", "yesterday"]);
    assert_eq!(o.status.code(), Some(2));
    let line = one_error_line(&o);
    assert!(
        line.contains(
            "'yesterday' is not a time: use RFC 3339 (2026-11-01T00:00:00Z) or a date (2026-11-01)"
        ),
        "{line}"
    );
}

#[test]
fn an_unwritable_location_is_one_line_and_exit_1() {
    let dir = temp_dir("sync-unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let to = file.join("history");
    let o = jobsql(&["sync", "--demo", "--to", to.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let line = one_error_line(&o);
    assert!(
        line.starts_with(&format!(
            "error: cannot write the history at {}",
            to.display()
        )),
        "{line}"
    );
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let o = jobsql(&["sync", "--demo", "--to", "s3:///h"]);
    assert_eq!(o.status.code(), Some(1));
    let line = one_error_line(&o);
    assert!(
        line.contains("s3:///h") && line.contains("no bucket"),
        "{line}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `jobsql sync` with no `--table`, where only Databricks is configured: LakeSail's runs are
/// skipped with a line naming why, the Databricks tables are synced, and it exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_table_a_provider_not_configured_is_skipped_with_a_line() {
    let emu = crate::support::emulator::start(jobsql_emulator::EmulatorConfig {
        runs: 300,
        ..jobsql_emulator::EmulatorConfig::default()
    })
    .await;
    let dir = temp_dir("sync-skip");
    let (url, token) = (emu.base_url(), emu.token().to_string());
    let to = dir.display().to_string();
    let o = tokio::task::spawn_blocking(move || {
        crate::support::cli::jobsql_env(
            &["sync", "--to", &to],
            &[("DATABRICKS_HOST", &url), ("DATABRICKS_TOKEN", &token)],
        )
    })
    .await
    .expect("joins");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let skipped: Vec<&str> = err.lines().filter(|l| l.contains("skipped")).collect();
    assert_eq!(skipped.len(), 1, "{err}");
    assert!(
        skipped[0].starts_with("jobsql sync: skipped lakesail.jobs.job_runs: "),
        "{err}"
    );
    let out = crate::support::cli::stdout(&o);
    assert!(out.contains("databricks_workspace.jobs.job_runs"), "{out}");
    assert!(
        out.contains("databricks_workspace.cleanrooms.task_runs"),
        "{out}"
    );
    assert!(
        !dir.join("lakesail").exists(),
        "nothing written for LakeSail"
    );
    assert!(emu
        .requests()
        .iter()
        .any(|r| r.path.ends_with("/runs/list")));
    let _ = std::fs::remove_dir_all(&dir);
}
