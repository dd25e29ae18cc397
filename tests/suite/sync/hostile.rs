//! A history table written by someone else, with values built to run SQL: `run_id` of type
//! `binary` (or `string`) holding `1); DELETE FROM … WHERE run_id IN (<victim>`, an `INSERT`
//! submitting a run, a `COPY` writing a host file. Written by Python `deltalake` (+ pyarrow)
//! from a table a real sync made, the key column's type changed and one active row added (older
//! than the re-sync's window, so it would be fetched by key). `jobsql sync --to` it (the real
//! binary, against the emulator over HTTP) is refused naming the column, the type found, the
//! type expected and the table, before any request: the emulator sees none, the victim run
//! stays, no file appears.

use super::common::*;
use crate::support::api::{all_runs_raw, is_active, Api};
use crate::support::cli::{jobsql_env, stderr, temp_dir};
use crate::support::clients::{python, stdout_of};

/// Writes, for each job `{"path", "type", "payload"}` of argv[2], the rows of the table at
/// argv[1] with `run_id` as that type, plus one row still active (no end time) whose `run_id`
/// is the payload and whose start is a day before the oldest run.
const WRITE: &str = r#"
import json, os, sys
from datetime import timedelta
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

table = DeltaTable(sys.argv[1]).to_pyarrow_table()
rows = table.to_pylist()
oldest = min(rows, key=lambda r: r["start_time"])
for job in json.loads(sys.argv[2]):
    kind = pa.binary() if job["type"] == "binary" else pa.string()
    conv = (lambda v: str(v).encode()) if job["type"] == "binary" else (lambda v: str(v))
    schema = table.schema.set(table.schema.get_field_index("run_id"), pa.field("run_id", kind))
    out = [dict(r, run_id=conv(r["run_id"])) for r in rows]
    start = oldest["start_time"] - timedelta(days=1)
    payload = job["payload"].encode() if job["type"] == "binary" else job["payload"]
    out.append(dict(oldest, run_id=payload, start_time=start, end_time=None,
                    start_date=start.date()))
    write_deltalake(job["path"], pa.Table.from_pylist(out, schema=schema),
                    partition_by=["start_date"])
print("ok")
# deltalake's runtime threads may abort the interpreter's teardown (SIGABRT) after the work is
# done: leave without it.
sys.stdout.flush()
os._exit(0)
"#;

/// `jobsql sync --to <root> --table job_runs` against `h`, in a blocking task.
async fn sync_binary(
    h: &jobsql_emulator::EmulatorHandle,
    root: &std::path::Path,
) -> std::process::Output {
    let (url, token) = (h.base_url(), h.token().to_string());
    let to = root.display().to_string();
    tokio::task::spawn_blocking(move || {
        jobsql_env(
            &["sync", "--to", &to, "--table", "job_runs"],
            &[("DATABRICKS_HOST", &url), ("DATABRICKS_TOKEN", &token)],
        )
    })
    .await
    .expect("joins")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_table_with_sql_in_a_key_of_the_wrong_type_is_refused_before_any_request() {
    let (h, _clock) = standing(30).await;
    let dir = temp_dir("sync-hostile");
    let template = dir.join("template");
    let made = sync_binary(&h, &template).await;
    assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
    let runs = all_runs_raw(&h, &[]).await;
    let victim = runs
        .iter()
        .find(|r| !is_active(r))
        .and_then(|r| r["run_id"].as_i64())
        .expect("a finished run");
    let pwned = dir.join("pwned.csv");
    let payloads = [
        (
            "delete",
            "binary",
            format!("1); DELETE FROM databricks_workspace.jobs.job_runs WHERE run_id IN ({victim}"),
        ),
        (
            "insert",
            "binary",
            "1); INSERT INTO databricks_workspace.jobs.job_runs (data__run_name, data__tasks) \
             VALUES ('pwned', '[{\"task_key\": \"main\", \"notebook_task\": \
             {\"notebook_path\": \"/Users/attacker/payload\"}}]') --"
                .to_string(),
        ),
        (
            "copy",
            "binary",
            format!(
                "1); COPY (SELECT 'pwned' AS x) TO '{}' STORED AS CSV --",
                pwned.display()
            ),
        ),
        (
            "string",
            "string",
            format!("1); DELETE FROM databricks_workspace.jobs.job_runs WHERE run_id IN ({victim}"),
        ),
    ];
    let jobs: Vec<serde_json::Value> = payloads
        .iter()
        .map(|(name, ty, payload)| {
            serde_json::json!({
                "path": table_dir(&dir.join(name)).display().to_string(),
                "type": ty,
                "payload": payload,
            })
        })
        .collect();
    let out = python(
        &["deltalake", "pyarrow"],
        WRITE,
        &[
            table_dir(&template).to_str().expect("a path"),
            &serde_json::Value::from(jobs).to_string(),
        ],
    );
    assert_eq!(stdout_of(&out).trim(), "ok");

    let mut wrong = Vec::new();
    for (name, ty, _) in &payloads {
        let root = dir.join(name);
        h.clear_requests();
        let o = sync_binary(&h, &root).await;
        let err = stderr(&o);
        let sent: Vec<String> = h
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        let location = table_dir(&root).display().to_string();
        let named = err.contains(&format!(
            "its column run_id is {ty}, not long as the spec says"
        )) && err.contains(&location);
        if !sent.is_empty() || o.status.code() != Some(1) || !named || err.contains("panicked") {
            wrong.push(format!(
                "{name}: exit {:?}, sent {sent:?}\n{err}",
                o.status.code()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "each refused naming run_id, its type and the table, before any request:\n{}",
        wrong.join("\n")
    );
    assert!(!pwned.exists(), "COPY wrote {}", pwned.display());
    let (status, _) = Api::new(&h)
        .get("/api/2.2/jobs/runs/get", &[("run_id", &victim.to_string())])
        .await;
    assert_eq!(status, 200, "the victim run {victim} is still there");
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
