//! The `jobsql` binary, run as a user runs it: arguments in, stdout / stderr / exit code out.

use std::path::PathBuf;
use std::process::{Command, Output};

fn jobsql(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jobsql"))
        .args(args)
        // No real workspace settings leak in from the machine running the tests.
        .env_remove("DATABRICKS_HOST")
        .env_remove("DATABRICKS_TOKEN")
        .env_remove("DATABRICKS_CONFIG_PROFILE")
        .env("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jobsql-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn demo_query_prints_one_json_array_with_nested_values() {
    let o = jobsql(&[
        "query",
        "--demo",
        "--format",
        "json",
        "SELECT run_id, state, job_id FROM databricks_workspace.jobs.job_runs WHERE completed_only = true ORDER BY run_id LIMIT 5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 5);
    assert!(
        rows[0]["state"]["life_cycle_state"].is_string(),
        "{}",
        rows[0]
    );
}

#[test]
fn every_format_prints_the_same_rows() {
    let sql =
        "SELECT run_id, run_type FROM databricks_workspace.jobs.job_runs ORDER BY run_id LIMIT 3";
    let nd = jobsql(&["query", "--demo", "--format", "ndjson", sql]);
    assert!(nd.status.success(), "{}", stderr(&nd));
    assert_eq!(stdout(&nd).lines().count(), 3);
    let csv = jobsql(&["query", "--demo", "--format", "csv", sql]);
    let text = stdout(&csv);
    assert_eq!(text.lines().next(), Some("run_id,run_type"));
    assert_eq!(text.lines().count(), 4);
    let table = jobsql(&["query", "--demo", sql]);
    assert!(stdout(&table).contains("| run_id"), "{}", stdout(&table));
}

#[test]
fn a_file_of_statements_runs_in_order_and_copy_keeps_history_as_parquet() {
    let dir = temp_dir("copy");
    let parquet = dir.join("runs.parquet");
    let script = dir.join("script.sql");
    std::fs::write(
        &script,
        format!(
            "-- keep history beyond the API's retention\nCOPY (SELECT run_id, job_id, start_time, state FROM databricks_workspace.jobs.job_runs) TO '{}';\nSELECT count(*) AS n FROM '{}';",
            parquet.display(),
            parquet.display()
        ),
    )
    .expect("script");
    let o = jobsql(&[
        "query",
        "--demo",
        "--format",
        "ndjson",
        "-f",
        script.to_str().expect("utf-8 path"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let copied = lines[0]["count"].as_i64().expect("COPY reports a count");
    assert!(copied > 100);
    assert_eq!(lines[1]["n"].as_i64(), Some(copied));
}

#[test]
fn errors_go_to_stderr_with_a_non_zero_exit_and_no_panic() {
    let cases: [(&[&str], &str); 5] = [
        (&["query", "--demo", "SELEC 1"], "SELEC"),
        (
            &[
                "query",
                "--demo",
                "SELECT nope FROM databricks_workspace.jobs.job_runs",
            ],
            "nope",
        ),
        (
            &[
                "query",
                "--demo",
                "SELECT * FROM databricks_workspace.cleanrooms.task_runs",
            ],
            "clean_room_name",
        ),
        (&["query"], "no SQL"),
        (
            &[
                "query",
                "SELECT count(*) FROM databricks_workspace.jobs.job_runs",
            ],
            "DATABRICKS_HOST",
        ),
    ];
    for (args, expected) in cases {
        let o = jobsql(args);
        let err = stderr(&o);
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
            "{err}"
        );
        assert!(
            stdout(&o).is_empty(),
            "{args:?} printed to stdout: {}",
            stdout(&o)
        );
    }
}

#[test]
fn a_bad_spec_dir_names_the_file_and_place() {
    let dir = temp_dir("spec");
    std::fs::write(
        dir.join("broken.yaml"),
        "provider: acme\nservice: jobs\nserver: { url: 'https://{x}.example.com', variable: x }\nresources:\n  runs:\n    methods: {}\n    select: [list]\n    columns: []\n",
    )
    .expect("spec");
    let o = jobsql(&[
        "query",
        "--demo",
        "--spec-dir",
        dir.to_str().expect("utf-8"),
        "SELECT 1",
    ]);
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("broken.yaml")
            && err.contains("resources.runs.select[0]")
            && err.contains("unknown method `list`"),
        "{err}"
    );
}

#[test]
fn an_unreachable_workspace_is_a_clear_error_without_the_token() {
    let o = Command::new(env!("CARGO_BIN_EXE_jobsql"))
        .args([
            "query",
            "SELECT count(*) FROM databricks_workspace.jobs.job_runs",
        ])
        .env("DATABRICKS_HOST", "http://127.0.0.1:9")
        .env("DATABRICKS_TOKEN", "tok-very-secret-42")
        .env_remove("DATABRICKS_CONFIG_PROFILE")
        .env("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
        .output()
        .expect("the binary runs");
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("127.0.0.1:9") && err.contains("runs/list"),
        "{err}"
    );
    assert!(!err.contains("tok-very-secret-42") && !stdout(&o).contains("tok-very-secret-42"));
}
