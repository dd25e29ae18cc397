//! pgcli against `jobsql serve` (itself against the emulator): the catalog queries of its
//! start-up completion refresh (`pgcli.completion_refresher`, every refresher run the way pgcli
//! runs them, each through `pgcli.pgexecute.PGExecute`; its tables and views with
//! `relkind = ANY(%s)` and a list of strings), the completions they give (schemas, tables,
//! columns), and a query run through `PGExecute.run`.

use super::common::{emulator, to};
use super::serve::{default_server, job_tables};
use crate::support::clients::{python, stdout_of};

/// Prints, as JSON, what each of PGExecute's catalog methods answers, what the completer
/// offers after pgcli's refreshers ran, and the result of one query.
const SCRIPT: &str = r#"
import json, sys
from pgcli.pgexecute import PGExecute
from pgcli.completion_refresher import CompletionRefresher
from pgcli.pgcompleter import PGCompleter
from pgspecial.main import PGSpecial
from prompt_toolkit.document import Document
port, job = sys.argv[1], int(sys.argv[2])
executor = PGExecute("jobsql", "analyst", None, "127.0.0.1", port)
out = {
    "search_path": executor.search_path(),
    "schemata": executor.schemata(),
    "functions": len(list(executor.functions())),
    "datatypes": [list(t) for t in executor.datatypes()],
    "databases": executor.databases(),
    "foreignkeys": len(list(executor.foreignkeys())),
}
# pgcli's start-up refresh: every refresher, in order, on this connection (its "tables" and
# "views" ask `c.relkind = ANY(%s)` with a list of strings).
special = PGSpecial()
completer = PGCompleter(smart_completion=True, pgspecial=special, settings={})
out["refreshers"] = list(CompletionRefresher.refreshers)
for name, refresher in CompletionRefresher.refreshers.items():
    refresher(completer, executor)
def complete(text):
    return sorted({c.text for c in completer.get_completions(
        Document(text, cursor_position=len(text)), None)})
out["complete_schema"] = complete("SELECT * FROM ")
out["complete_table"] = complete("SELECT * FROM jobs.")
out["complete_column"] = complete("SELECT * FROM jobs.job_runs WHERE ru")
out["columns"] = list(completer.dbmetadata["tables"]["jobs"]["job_runs"])
for title, cur, headers, status, sql, success, is_special in executor.run(
        f"SELECT job_id, run_id FROM jobs.job_runs WHERE job_id = {job} ORDER BY run_id LIMIT 3",
        pgspecial=special):
    out["run"] = {"headers": headers, "rows": [list(r) for r in cur], "status": status,
                  "success": success}
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgcli_loads_its_completions_and_runs_a_query() {
    let emu = emulator().await;
    let server = default_server(&emu).await;
    let port = server.local_addr().port().to_string();
    let job = emu.notable().job_ids[0];
    let job_arg = job.to_string();
    emu.clear_requests();
    let out = tokio::task::spawn_blocking(move || {
        python(&["pgcli", "pgspecial"], SCRIPT, &[&port, &job_arg])
    })
    .await
    .expect("client runs");
    let got: serde_json::Value = serde_json::from_str(stdout_of(&out).trim()).expect("json");

    assert_eq!(
        got["search_path"],
        serde_json::json!(["pg_catalog", "public"])
    );
    let schemata = got["schemata"].as_array().expect("schemata");
    for schema in ["jobs", "lakesail.jobs", "pg_catalog", "public"] {
        assert!(schemata.iter().any(|s| s == schema), "{schema}: {got}");
    }
    assert_eq!(got["functions"], 0);
    assert_eq!(got["foreignkeys"], 0);
    assert_eq!(got["datatypes"], serde_json::json!([]));
    assert_eq!(got["databases"], serde_json::json!(["jobsql"]));
    let refreshers = got["refreshers"].as_array().expect("refreshers");
    assert!(refreshers.len() >= 6, "{got}");

    // The completions pgcli offers once loaded: schemas, their tables, a table's columns.
    let offered = |key: &str| -> Vec<String> {
        got[key]
            .as_array()
            .expect("completions")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let schemas = offered("complete_schema");
    for name in [
        "jobs",
        "jobs.job_runs",
        "cleanrooms.task_runs",
        "\"lakesail.jobs\".job_runs",
    ] {
        assert!(schemas.iter().any(|t| t == name), "{name}: {schemas:?}");
    }
    assert_eq!(offered("complete_table"), job_tables(), "{got}");
    let columns = offered("complete_column");
    for name in ["run_id", "run_name", "run_type"] {
        assert!(columns.iter().any(|c| c == name), "{name}: {columns:?}");
    }
    // pgcli matches fuzzily (`creator_user_name` for `ru`), but only among the table's columns.
    let table = jobsql_table_columns(&emu, "jobs.job_runs").await;
    assert!(columns.iter().all(|c| table.contains(c)), "{columns:?}");
    // Every column pgcli loaded for jobs.job_runs is one the table has, and all of them.
    assert_eq!(offered("columns"), table, "{got}");

    // The catalog is the server's: only the query read the API, with its filter pushed.
    let run = &got["run"];
    assert_eq!(run["success"], true, "{got}");
    assert_eq!(run["headers"], serde_json::json!(["job_id", "run_id"]));
    let rows = run["rows"].as_array().expect("rows");
    assert!(!rows.is_empty() && rows.len() <= 3, "{got}");
    assert!(rows.iter().all(|r| r[0] == job), "{got}");
    let requests = emu.requests();
    let listings = to(&requests, "/runs/list");
    assert!(!listings.is_empty());
    assert_eq!(listings.len(), requests.len(), "{requests:?}");
    assert!(
        listings
            .iter()
            .all(|r| r.param("job_id") == Some(job.to_string().as_str())),
        "{listings:?}"
    );
    server.shutdown().await;
}

/// The column names of `table` as the library's own session has them (what serve's sessions are
/// made from), in order.
async fn jobsql_table_columns(emu: &jobsql_emulator::EmulatorHandle, table: &str) -> Vec<String> {
    let ctx = super::serve::factory(emu)(
        datafusion::prelude::SessionConfig::new(),
        std::sync::Arc::new(datafusion::execution::runtime_env::RuntimeEnv::default()),
    )
    .expect("a session");
    let schema = ctx.table(table).await.expect("the table").schema().clone();
    schema.fields().iter().map(|f| f.name().clone()).collect()
}
