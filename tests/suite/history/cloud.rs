//! The history on cloud storage: `jobsql sync --to <url>` and `jobsql query --history <url>`
//! against S3 (moto) and Azure Blob Storage (Azurite), the same table read by the Python
//! `deltalake` package, a second sync that commits nothing, and a wrong key that fails with a
//! short error that does not show it.

use super::common::{jobsql_env, stderr, stdout};
use super::servers::{self, Server, AZURITE_KEY};
use crate::support::clients::{python, stdout_of};

/// Prints the row count and the Delta version of the table at `argv[1]`; `argv[2]` is the
/// storage options as JSON (also set in the environment: Azurite's URL is read from there).
const COUNT: &str = r#"
import json, os, sys
opts = json.loads(sys.argv[2])
os.environ.update(opts)
from deltalake import DeltaTable, QueryBuilder
t = DeltaTable(sys.argv[1], storage_options=opts)
n = QueryBuilder().register("t", t).execute("SELECT count(*) AS n FROM t").read_all()
print(n.column(0)[0].as_py(), t.version())
# deltalake's runtime threads may abort the interpreter's teardown (SIGABRT) after the work is
# done: leave without it.
sys.stdout.flush()
os._exit(0)
"#;

fn run(env: &[(String, String)], args: &[&str]) -> std::process::Output {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    jobsql_env(args, &env)
}

/// Python deltalake's "rows version" of the table at `table`.
fn python_count(server: &Server, table: &str) -> String {
    let opts: serde_json::Map<String, serde_json::Value> = server
        .env
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let opts = serde_json::Value::Object(opts).to_string();
    let out = python(&["deltalake"], COUNT, &[table, &opts]);
    stdout_of(&out).trim().to_string()
}

/// Sync the demo workspace to `to`, read it back through `read` (the same table, maybe named
/// another way) in jobsql and through `table` in Python deltalake, sync again and check that
/// nothing was committed.
fn round_trip(server: &Server, to: &str, read: &str, table: &str) {
    let first = run(&server.env, &["sync", "--demo", "--to", to]);
    assert!(first.status.success(), "{}", stderr(&first));
    let live_sql = "SELECT count(*) AS n FROM job_runs";
    let live = run(
        &server.env,
        &["query", "--demo", "--format", "csv", live_sql],
    );
    assert!(live.status.success(), "{}", stderr(&live));
    assert_ne!(stdout(&live), "n\n0\n");
    let sql = "SELECT count(*) AS n FROM job_runs_history";
    let kept_args = ["query", "--demo", "--history", read, "--format", "csv", sql];
    let kept = run(&server.env, &kept_args);
    assert!(kept.status.success(), "{}", stderr(&kept));
    assert_eq!(stdout(&kept), stdout(&live), "jobsql reads back every run");

    let before = python_count(server, table);
    let (rows, _) = before.split_once(' ').expect("rows and version");
    assert_eq!(
        format!("n\n{rows}\n"),
        stdout(&live),
        "python deltalake's count"
    );

    // A second sync adds no run: the count stays. The demo's clock is the wall clock, so
    // runs still active may have moved on: at most one more version, which updates them.
    let second = run(&server.env, &["sync", "--demo", "--to", to]);
    assert!(second.status.success(), "{}", stderr(&second));
    let lines: Vec<String> = stdout(&second)
        .lines()
        .filter(|l| l.contains(" new,"))
        .map(str::to_string)
        .collect();
    assert!(
        !lines.is_empty() && lines.iter().all(|l| l.contains(": 0 new,")),
        "{lines:?}"
    );
    let after = python_count(server, table);
    let version = |s: &str| -> i64 { s.split_once(' ').expect("version").1.parse().unwrap() };
    assert_eq!(
        after.split_once(' ').map(|p| p.0),
        Some(rows),
        "no run added"
    );
    assert!(
        version(&after) <= version(&before) + 1,
        "{before} then {after}"
    );
    assert_eq!(stdout(&run(&server.env, &kept_args)), stdout(&live));
}

#[test]
fn sync_to_s3_reads_back_in_jobsql_and_python_deltalake() {
    let moto = servers::moto();
    let to = "s3://hist/jobsql";
    let table = format!("{to}/databricks_workspace/jobs/job_runs");
    round_trip(&moto, to, to, &table);
}

#[test]
fn sync_to_azure_blob_reads_back_in_jobsql_and_python_deltalake() {
    let azurite = servers::azurite();
    // Written as az://container/prefix, read as abfss://container@account.dfs...: one table.
    let to = "az://hist/jobsql";
    let read = format!(
        "abfss://hist@{}.dfs.core.windows.net/jobsql",
        servers::AZURITE_ACCOUNT
    );
    let table = format!("{to}/databricks_workspace/jobs/job_runs");
    round_trip(&azurite, to, &read, &table);
}

#[test]
fn a_wrong_azure_key_fails_naming_the_location_and_not_the_key() {
    let azurite = servers::azurite();
    // A well-formed key (64 bytes, base64) that is not the account's.
    let wrong = AZURITE_KEY.replace("Eby8", "Xby8");
    let env = azurite.env_with("AZURE_STORAGE_ACCOUNT_KEY", &wrong);
    let to = "az://hist/denied";
    let out = run(&env, &["sync", "--demo", "--to", to]);
    assert!(!out.status.success(), "a wrong key fails");
    let err = stderr(&out);
    assert!(err.contains(to), "names the location: {err}");
    assert!(
        err.contains("403") || err.to_lowercase().contains("authenticat"),
        "says the store refused the credentials: {err}"
    );
    assert!(!err.contains(&wrong) && !err.contains(AZURITE_KEY), "{err}");
    assert!(!stdout(&out).contains(&wrong));
    assert!(err.lines().count() <= 6, "short: {err}");

    // Nothing was written: with the right key there is no table there.
    let sql = "SELECT count(*) AS n FROM job_runs_history";
    let read = run(
        &azurite.env,
        &["query", "--demo", "--history", to, "--format", "csv", sql],
    );
    assert!(!read.status.success(), "no history table at {to}");
}
