//! The `jobsql` binary, run as a user runs it: arguments in, stdout / stderr / exit code out.

use std::process::Command;

mod book;
mod readable;

use crate::support::cli::{jobsql, jobsql_env, stderr, stdout, temp_dir, EmulatorProcess};
use crate::support::raw::echoing_server;

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
        "provider: databricks_workspace\nservice: jobs2\nresources:\n  runs:\n    methods: {}\n    select: [list]\n    columns: []\n",
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
        // A refused connection is retried within the budget: keep the test short.
        .env("JOBSQL_RETRY_BUDGET_SECS", "1")
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

#[test]
fn the_iac_example_submits_waits_and_cleans_up() {
    let emulator = EmulatorProcess::start(&["--phase-ms", "50"]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/iac/run.sh");
    let o = Command::new("bash")
        .arg(script)
        .env("JOBSQL", env!("CARGO_BIN_EXE_jobsql"))
        .env("POLL_SECONDS", "0.1")
        .env("DATABRICKS_HOST", &emulator.base_url)
        .env("DATABRICKS_TOKEN", "dev-emulator-token")
        .env("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
        .env_remove("DATABRICKS_CONFIG_PROFILE")
        .output()
        .expect("bash runs");
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    assert!(out.contains("TERMINATED SUCCESS"), "{out}");
    let run_id = out
        .lines()
        .find_map(|l| l.strip_prefix("submitted run "))
        .expect("a run id")
        .to_string();
    assert!(
        out.contains(&format!(
            "DRY RUN (not sent): POST {}/api/2.2/jobs/runs/delete {{\"run_id\":{run_id}}}",
            emulator.base_url
        )),
        "{out}"
    );
    assert!(
        !out.contains("dev-emulator-token"),
        "the token is masked: {out}"
    );
    // After the cleanup the run is gone.
    let o = Command::new(env!("CARGO_BIN_EXE_jobsql"))
        .args(["query", "--format", "csv"])
        .arg(format!(
            "SELECT count(*) FROM databricks_workspace.jobs.job_runs WHERE run_id = {run_id}"
        ))
        .env("DATABRICKS_HOST", &emulator.base_url)
        .env("DATABRICKS_TOKEN", "dev-emulator-token")
        .env("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
        .output()
        .expect("jobsql runs");
    assert_eq!(stdout(&o).lines().nth(1), Some("0"), "{}", stderr(&o));
}

#[test]
fn failed_writes_exit_non_zero_with_the_reason() {
    for (sql, expected) in [
        ("DELETE FROM databricks_workspace.jobs.job_runs", "without WHERE would delete every row: refused"),
        ("EXEC databricks_workspace.jobs.job_runs.cancel", "missing required parameter `@run_id`"),
        ("INSERT INTO databricks_workspace.jobs.job_runs (data__tasks) VALUES ('[')", "data__tasks is not valid JSON"),
        (
            "INSERT INTO databricks_workspace.jobs.job_runs (data__run_name, data__tasks) VALUES ('ok', '[{\"task_key\":\"a\"}]'), ('bad', '[{}]')",
            "1 of 2 rows created, 1 failed, 0 unknown",
        ),
    ] {
        let o = jobsql(&["query", "--demo", sql]);
        assert_eq!(o.status.code(), Some(1), "{sql}: {}", stdout(&o));
        assert!(stderr(&o).contains(expected), "{sql}: {}", stderr(&o));
    }
}

#[test]
fn max_deletes_refuses_a_larger_delete_and_the_dry_run_shows_the_count() {
    let sql = "DELETE FROM databricks_workspace.jobs.job_runs WHERE run_id IN \
               (SELECT run_id FROM databricks_workspace.jobs.job_runs \
                WHERE completed_only = true ORDER BY run_id LIMIT 3)";
    let refused = jobsql(&["query", "--demo", "--max-deletes", "2", sql]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("would delete 3 rows, more than --max-deletes 2: refused"),
        "{}",
        stderr(&refused)
    );
    let dry = jobsql(&[
        "query",
        "--demo",
        "--dry-run",
        "--max-deletes",
        "3",
        "--format",
        "csv",
        sql,
    ]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    let out = stdout(&dry);
    assert!(out.contains("count\n3\n"), "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("DRY RUN (not sent): POST") && l.contains("runs/delete"))
            .count(),
        3,
        "{out}"
    );
}

#[test]
fn max_writes_refuses_a_script_and_the_dry_run_lists_what_a_job_takes_with_it() {
    let exec = |run: u32| format!("EXEC databricks_workspace.jobs.job_runs.cancel @run_id = {run}");
    let script = [exec(1), exec(2), exec(3)].join("; ");
    let refused = jobsql(&["query", "--demo", "--max-writes", "2", &script]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains(
            "the script would make 3 calls that create or change things (3 EXEC), more than \
             --max-writes 2: refused, nothing was sent"
        ),
        "{}",
        stderr(&refused)
    );
    assert!(stdout(&refused).is_empty(), "{}", stdout(&refused));
    let sql = "DELETE FROM databricks_workspace.jobs.jobs WHERE job_id IN \
               (SELECT job_id FROM databricks_workspace.jobs.jobs ORDER BY job_id LIMIT 1)";
    let dry = jobsql(&[
        "query",
        "--demo",
        "--dry-run",
        "--max-deletes",
        "100000",
        sql,
    ]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    let out = stdout(&dry);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("DRY RUN (not sent): POST") && l.contains("/jobs/delete"))
            .count(),
        1,
        "{out}"
    );
    let runs = lines
        .iter()
        .filter(|l| {
            l.starts_with("DRY RUN (deleted with it): databricks_workspace.jobs.job_runs run_id ")
        })
        .count();
    assert!(runs > 0, "the job's runs are listed: {out}");
}

#[test]
fn ddl_prints_ok_and_cannot_drop_an_api_table() {
    let o = jobsql(&[
        "query",
        "--demo",
        "CREATE TABLE t AS SELECT 1 AS x; DROP TABLE t",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "OK\nOK\n");
    let o = jobsql(&[
        "query",
        "--demo",
        "DROP TABLE databricks_workspace.jobs.job_runs",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o).trim(),
        "error: databricks_workspace.jobs.job_runs is an API table: it cannot be dropped (API tables are defined by the specs)"
    );
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
}

const RUNS_LIMIT_1: &str = "SELECT run_id FROM databricks_workspace.jobs.job_runs LIMIT 1";

#[test]
fn a_misspelled_column_is_one_short_line() {
    let o = jobsql(&[
        "query",
        "--demo",
        "SELECT run_idd, state FROM databricks_workspace.jobs.job_runs LIMIT 1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: no column named run_idd in databricks_workspace.jobs.job_runs: did you mean run_id?\n"
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn a_struct_compared_with_text_and_a_short_table_name_get_a_hint() {
    let o = jobsql(&[
        "query",
        "--demo",
        "SELECT run_id FROM databricks_workspace.jobs.job_runs WHERE state = 'FAILED'",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: state is a struct and cannot be compared with the text 'FAILED': did you mean state['result_state']?\n"
    );
    // `job_runs` itself now resolves (cli/readable.rs); a name close to it gets the hint.
    let o = jobsql(&["query", "--demo", "SELECT count(*) FROM job_run"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: table 'job_run' not found: did you mean databricks_workspace.jobs.job_runs or lakesail.jobs.job_runs?\n"
    );
}

#[test]
fn server_text_is_printed_escaped_and_without_the_token() {
    let (addr, requests) = echoing_server(
        400,
        r#"{"error_code":"BAD_REQUEST","message":"bad \u001b[2J\u001b]0;owned\u0007\r header {auth}"}"#,
    );
    let host = format!("http://{addr}");
    let token = "dapi-cli-echo-secret-93c1";
    let o = jobsql_env(
        &["query", "-v", RUNS_LIMIT_1],
        &[("DATABRICKS_HOST", &host), ("DATABRICKS_TOKEN", token)],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let last = concat!(
        r"HTTP 400 BAD_REQUEST: bad \x1b[2J\x1b]0;owned\x07\x0d header Bearer ***",
        "\n"
    );
    assert!(
        err.starts_with("jobsql: GET ") && err.ends_with(last),
        "{err}"
    );
    // The -v line of the attempt is escaped and masked too.
    assert!(
        err.lines().any(
            |l| l.starts_with("jobsql: GET /api/2.2/jobs/runs/list?limit=1 @ ")
                && l.ends_with(r"HTTP 400: bad \x1b[2J\x1b]0;owned\x07\x0d header Bearer ***")
        ),
        "{err}"
    );
    assert!(!err.chars().any(|c| c.is_control() && c != '\n'), "{err:?}");
    assert!(!err.contains(&token[..8]), "{err}");
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn a_host_without_a_scheme_says_https_was_assumed() {
    let (addr, requests) = echoing_server(200, r#"{"runs":[]}"#);
    let o = jobsql_env(
        &["query", RUNS_LIMIT_1],
        &[
            ("DATABRICKS_HOST", &addr),
            ("DATABRICKS_TOKEN", "dapi-cli-scheme-secret-11"),
            ("JOBSQL_RETRY_BUDGET_SECS", "0"),
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: databricks_workspace.jobs.job_runs: GET ")
            && err.ends_with(&format!(
                " (the host '{addr}' has no scheme, so https:// was assumed; for a plain-HTTP server write http://{addr})\n"
            )),
        "{err}"
    );
    assert_eq!(
        requests.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no HTTP request"
    );
}

#[test]
fn demo_answers_one_query_across_databricks_and_lakesail() {
    let o = jobsql(&[
        "query",
        "--demo",
        "--format",
        "csv",
        "SELECT platform, count(*) AS failed FROM (\
           SELECT 'databricks' AS platform FROM databricks_workspace.jobs.job_runs \
             WHERE state.result_state = 'FAILED' \
           UNION ALL SELECT 'lakesail' FROM lakesail.jobs.job_runs WHERE status = 'failed') \
         GROUP BY platform ORDER BY platform",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[1].starts_with("databricks,") && lines[2].starts_with("lakesail,"),
        "{out}"
    );
    let failed = |l: &str| l.split(',').nth(1).and_then(|n| n.parse::<u64>().ok());
    assert!(
        failed(lines[1]) > Some(0) && failed(lines[2]) > Some(0),
        "{out}"
    );
}
