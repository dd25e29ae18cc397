//! Deep and long statements, in every front end of the real binary (`query`, `shell`, `serve`
//! over both protocols, `mcp`): a 100,000-term `OR`, `AND`, `+` or `||` chain is an error for
//! that statement — never a stack overflow that aborts the process — and the next statement is
//! answered; the 1,000-term `OR` a BI tool writes for a multi-select runs and is right.

use std::io::Write;
use std::process::{Command, Stdio};

use jobsql_emulator::{start_local, EmulatorConfig, EmulatorHandle};
use serde_json::{json, Value};

use super::common::{jobsql_env, text};
use crate::support::clients::mcp_client;
use crate::support::process::ServeProcess;

/// The terms of a chain past both bounds.
const DEEP: usize = 100_000;

/// A chain of `n` terms of each kind: `(what, SELECT ...)`.
fn chains(n: usize) -> Vec<(&'static str, String)> {
    let terms = |f: &dyn Fn(usize) -> String, op: &str| (0..n).map(f).collect::<Vec<_>>().join(op);
    vec![
        (
            "OR",
            format!(
                "SELECT count(*) FROM job_runs WHERE {}",
                terms(&|i| format!("run_id = {i}"), " OR ")
            ),
        ),
        (
            "AND",
            format!(
                "SELECT count(*) FROM job_runs WHERE {}",
                terms(&|i| format!("run_id <> {i}"), " AND ")
            ),
        ),
        ("+", format!("SELECT {}", terms(&|_| "1".into(), "+"))),
        ("||", format!("SELECT {}", terms(&|_| "'a'".into(), "||"))),
    ]
}

/// The 1,000-term OR over the emulator's first 1,000 run ids, and how many runs it names.
async fn wide_or(emu: &EmulatorHandle) -> (String, usize) {
    let runs = crate::support::api::all_runs_raw(emu, &[]).await;
    let ids: Vec<i64> = crate::support::api::ids(&runs)
        .into_iter()
        .take(1_000)
        .collect();
    assert_eq!(ids.len(), 1_000);
    let or = ids
        .iter()
        .map(|i| format!("run_id = {i}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    (
        format!("SELECT count(*) FROM job_runs WHERE {or}"),
        ids.len(),
    )
}

async fn emulator() -> EmulatorHandle {
    start_local(EmulatorConfig {
        runs: 1_200,
        jobs: 10,
        seed: 5,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

fn api_env(emu: &EmulatorHandle) -> Vec<(&'static str, String)> {
    vec![
        ("DATABRICKS_HOST", emu.base_url()),
        ("DATABRICKS_TOKEN", emu.token().to_string()),
    ]
}

/// No trace of a crash in what the process printed.
fn assert_no_abort(stderr: &str) {
    for crash in ["overflowed its stack", "panicked", "aborting", "SIGSEGV"] {
        assert!(!stderr.contains(crash), "{crash}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_refuses_each_deep_chain_in_one_line_and_runs_the_wide_or() {
    let emu = emulator().await;
    let env = api_env(&emu);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    for (what, sql) in chains(DEEP) {
        let file = dir.path().join("deep.sql");
        std::fs::write(&file, &sql).expect("written");
        let path = file.to_str().expect("utf-8");
        let out = tokio::task::block_in_place(|| jobsql_env(&["query", "-f", path], &env));
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert_no_abort(&stderr);
        assert!(
            stderr.contains("nested too deep") || stderr.contains("statement too large"),
            "{what}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
    }
    emu.clear_requests();
    let (sql, n) = wide_or(&emu).await;
    let file = dir.path().join("wide.sql");
    std::fs::write(&file, &sql).expect("written");
    let out = tokio::task::block_in_place(|| {
        jobsql_env(
            &[
                "query",
                "--format",
                "csv",
                "-f",
                file.to_str().expect("utf-8"),
            ],
            &env,
        )
    });
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).lines().nth(1),
        Some(n.to_string().as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_refuses_a_deep_chain_without_aborting() {
    let emu = emulator().await;
    let home = tempfile::tempdir().expect("temp dir");
    for (what, sql) in chains(DEEP) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jobsql"))
            .arg("shell")
            .envs(api_env(&emu))
            .env("HOME", home.path())
            .env("DATABRICKS_CONFIG_FILE", home.path().join("none"))
            .env("JOBSQL_HISTORY", "none")
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the shell starts");
        let mut stdin = child.stdin.take().expect("stdin");
        let script = format!("{sql};\n");
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(script.as_bytes());
        });
        let out = tokio::task::block_in_place(|| child.wait_with_output()).expect("ends");
        writer.join().expect("written");
        let stderr = text(&out.stderr);
        assert_no_abort(&stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains("nested too deep") || stderr.contains("statement too large"),
            "{what}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_the_next_statement_after_each_deep_chain_on_both_protocols() {
    let emu = emulator().await;
    let home = tempfile::tempdir().expect("temp dir");
    let log = std::fs::File::create(home.path().join("serve.log")).expect("log");
    let server = ServeProcess::against(&emu.base_url(), emu.token(), &[], &[], log);
    let client = server.login("jobsql", "").await.expect("logs in");
    let other = server.login("jobsql", "").await.expect("logs in");
    for (what, sql) in chains(DEEP) {
        // The simple protocol, then the extended one (Parse/Bind/Execute).
        let simple = client.simple_query(&sql).await.expect_err(what);
        let extended = client.query(&sql, &[]).await.expect_err(what);
        for err in [simple, extended] {
            let db = err
                .as_db_error()
                .unwrap_or_else(|| panic!("{what}: {err:?}"));
            assert_eq!(db.code().code(), "54001", "{what}: {}", db.message());
        }
        let row = client
            .query_one("SELECT 42::bigint", &[])
            .await
            .expect("answered");
        assert_eq!(row.get::<_, i64>(0), 42);
    }
    let (sql, n) = wide_or(&emu).await;
    for rows in [
        client.query(&sql, &[]).await.expect("runs"),
        other.query(&sql, &[]).await.expect("runs"),
    ] {
        assert_eq!(rows[0].get::<_, i64>(0), n as i64);
    }
    assert!(server.alive(), "the server is still running");
    let log = std::fs::read_to_string(home.path().join("serve.log")).expect("log");
    assert_no_abort(&log);
}

/// `jobsql mcp` over stdio against `emu`, driven by the official Python MCP client; the tool
/// results of `calls`.
fn mcp(emu: &EmulatorHandle, calls: Value) -> Vec<Value> {
    let server = json!({
        "command": env!("CARGO_BIN_EXE_jobsql"),
        "args": ["mcp"],
        "env": {
            "DATABRICKS_HOST": emu.base_url(),
            "DATABRICKS_TOKEN": emu.token(),
            "DATABRICKS_CONFIG_FILE": "/nonexistent/databrickscfg",
            "JOBSQL_HISTORY": "none",
        },
    });
    let answer = mcp_client(server, calls);
    answer["results"].as_array().expect("results").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_refuses_each_deep_chain_and_answers_the_next_call() {
    let emu = emulator().await;
    let mut calls = Vec::new();
    for (_, sql) in chains(DEEP) {
        calls.push(json!(["query", {"sql": sql}]));
        calls.push(json!(["query", {"sql": "SELECT 42 AS n"}]));
    }
    let (wide, n) = wide_or(&emu).await;
    calls.push(json!(["query", {"sql": wide}]));
    let results = tokio::task::block_in_place(|| mcp(&emu, Value::Array(calls)));
    assert_eq!(results.len(), 9);
    for pair in results[..8].chunks(2) {
        assert_eq!(pair[0]["is_error"], true, "{}", pair[0]);
        let message = pair[0]["text"].as_str().unwrap_or_default();
        assert!(
            message.contains("nested too deep") || message.contains("statement too large"),
            "{message}"
        );
        assert_eq!(pair[1]["is_error"], false, "{}", pair[1]);
        assert!(
            pair[1]["text"].as_str().unwrap_or_default().contains("42"),
            "{}",
            pair[1]
        );
    }
    assert_eq!(results[8]["is_error"], false, "{}", results[8]);
    assert!(
        results[8]["text"]
            .as_str()
            .unwrap_or_default()
            .contains(&n.to_string()),
        "{}",
        results[8]
    );
}
