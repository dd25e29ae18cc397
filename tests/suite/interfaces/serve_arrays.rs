//! Lists as Postgres arrays on `jobsql serve`, read by psycopg 3 (text and binary), psycopg2 and
//! tokio-postgres: each driver hands back its own list type, with the items typed; structs stay
//! JSON text; `= ANY(%s)` with a list keeps working. And a table named however a tool quotes
//! it (`"databricks_workspace.jobs".job_runs`, `jobs.job_runs`, `"jobs"."job_runs"`, ...).

use tokio_postgres::types::Type;

use super::common::emulator;
use super::serve::{connect, default_server};
use crate::support::batches::present_ints;
use crate::support::clients::{python, stdout_of};
use crate::support::session::{on, query};
use crate::support::RUNS;

/// Literal lists of every item type, a struct and a list of structs.
const LITERALS: &str = "SELECT [1, 2, NULL] AS ints, ['a', 'b c', NULL, '', 'x,\"y\\z'] AS texts, \
    [true, false] AS bools, [1.5, -2.25] AS floats, \
    [to_timestamp(0), to_timestamp(86400)] AS times, \
    named_struct('a', 1) AS s, [named_struct('a', 1)] AS structs";

/// The runs of a job as one array (the real table's ids), and its start times.
const AGGREGATED: &str = "SELECT array_agg(run_id) AS runs, array_agg(start_time) AS starts \
    FROM databricks_workspace.jobs.job_runs WHERE job_id = %s";

const PSYCOPG_ARRAYS: &str = r#"
import sys, json, psycopg
port, job, literals, aggregated = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = {}
with psycopg.connect(f"host=127.0.0.1 port={port} user=analyst dbname=jobsql sslmode=disable",
                     autocommit=True) as conn:
    for binary in (False, True):
        cur = conn.cursor(binary=binary)
        row = cur.execute(literals).fetchone()
        out["binary" if binary else "text"] = {
            "oids": [d.type_code for d in cur.description],
            "values": [[type(v).__name__, repr(v)] for v in row]}
        runs, starts = cur.execute(aggregated, (job,)).fetchone()
        out["runs_binary" if binary else "runs"] = runs
        out["starts"] = [type(starts).__name__, type(starts[0]).__name__,
                         starts[0].utcoffset().total_seconds()]
    out["any"] = conn.execute("SELECT count(*) FROM databricks_workspace.jobs.job_runs "
                              "WHERE job_id = ANY(%s)", ([job],)).fetchone()[0]
    # A list of strings (psycopg 3 sends it as `unknown`): items with quotes, commas, braces.
    texts = "SELECT count(*) FROM databricks_workspace.jobs.job_runs WHERE job_id = %s AND "
    for key, where, items in [("any_text", "run_type = ANY(%s)", ["JOB_RUN", "it's, {odd} \\ \""]),
                              ("any_none", "run_type = ANY(%s)", ["no such type"]),
                              ("any_empty", "run_type = ANY(%s)", []),
                              ("all_text", "run_type <> ALL(%s)", ["JOB_RUN"])]:
        out[key] = conn.execute(texts + where, (job, items)).fetchone()[0]
print(json.dumps(out))
"#;

const PSYCOPG2_ARRAYS: &str = r#"
import sys, json, psycopg2
port, job, literals, aggregated = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
conn = psycopg2.connect(f"host=127.0.0.1 port={port} user=analyst dbname=jobsql sslmode=disable")
cur = conn.cursor()
cur.execute(literals)
row = cur.fetchone()
values = [[type(v).__name__, repr(v)] for v in row]
cur.execute(aggregated, (job,))
runs, starts = cur.fetchone()
print(json.dumps({"values": values, "runs": runs, "starts": [type(starts[0]).__name__]}))
"#;

/// What psycopg (3 and 2 alike) makes of [`LITERALS`].
fn expected_values() -> serde_json::Value {
    serde_json::json!([
        ["list", "[1, 2, None]"],
        ["list", r#"['a', 'b c', None, '', 'x,"y\\z']"#],
        ["list", "[True, False]"],
        ["list", "[1.5, -2.25]"],
        [
            "list",
            "[datetime.datetime(1970, 1, 1, 0, 0), datetime.datetime(1970, 1, 2, 0, 0)]"
        ],
        ["str", r#"'{"a":1}'"#],
        ["str", r#"'[{"a":1}]'"#]
    ])
}

async fn runs_of(emu: &jobsql_emulator::EmulatorHandle, job: i64) -> Vec<i64> {
    let select = format!("SELECT run_id FROM {RUNS} WHERE job_id = {job}");
    let mut want = present_ints(&query(&on(emu, &[]), &select).await, 0);
    want.sort_unstable();
    want
}

fn sorted_ids(value: &serde_json::Value) -> Vec<i64> {
    let mut ids: Vec<i64> = value
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_i64().expect("an id"))
        .collect();
    ids.sort_unstable();
    ids
}

/// The JSON a Python client `script` (importing `module`) prints, given the server's port,
/// `job`, and the two statements it reads lists with.
async fn run_client(
    server: &jobsql_pgwire::ServerHandle,
    job: i64,
    module: &'static str,
    script: &'static str,
) -> serde_json::Value {
    let args = [
        server.local_addr().port().to_string(),
        job.to_string(),
        LITERALS.to_string(),
        AGGREGATED.to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        python(&[module], script, &args)
    })
    .await
    .expect("client runs");
    serde_json::from_str(stdout_of(&out).trim()).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg_reads_lists_as_python_lists_in_text_and_binary() {
    let emu = emulator().await;
    let server = default_server(&emu).await;
    let job = emu.notable().job_ids[0];
    let want = runs_of(&emu, job).await;
    let got = run_client(&server, job, "psycopg", PSYCOPG_ARRAYS).await;
    // int8[], text[], bool[], float8[], timestamp[]; the struct and the list of structs text.
    let oids = serde_json::json!([1016, 1009, 1000, 1022, 1115, 25, 25]);
    for format in ["text", "binary"] {
        assert_eq!(got[format]["oids"], oids, "{format}: {got}");
        assert_eq!(got[format]["values"], expected_values(), "{format}: {got}");
    }
    assert_eq!(sorted_ids(&got["runs"]), want);
    assert_eq!(sorted_ids(&got["runs_binary"]), want);
    assert_eq!(got["starts"], serde_json::json!(["list", "datetime", 0.0]));
    assert_eq!(got["any"], serde_json::json!(want.len()));
    let count = |filter: &str| {
        let select = format!("SELECT run_id FROM {RUNS} WHERE job_id = {job} AND {filter}");
        let session = on(&emu, &[]);
        async move { present_ints(&query(&session, &select).await, 0).len() }
    };
    let job_runs = count("run_type = 'JOB_RUN'").await;
    assert!(job_runs > 0, "the job has JOB_RUN runs");
    assert_eq!(got["any_text"], serde_json::json!(job_runs), "{got}");
    assert_eq!(got["any_none"], 0, "{got}");
    assert_eq!(got["any_empty"], 0, "{got}");
    assert_eq!(
        got["all_text"],
        serde_json::json!(want.len() - job_runs),
        "{got}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg2_and_tokio_postgres_read_lists_as_their_lists() {
    let emu = emulator().await;
    let server = default_server(&emu).await;
    let job = emu.notable().job_ids[1];
    let want = runs_of(&emu, job).await;
    let got = run_client(&server, job, "psycopg2", PSYCOPG2_ARRAYS).await;
    assert_eq!(got["values"], expected_values(), "{got}");
    assert_eq!(sorted_ids(&got["runs"]), want);
    assert_eq!(got["starts"], serde_json::json!(["datetime"]));

    // tokio-postgres: prepared, binary results.
    let client = connect(server.local_addr()).await;
    let statement = client
        .prepare("SELECT [1, 2, NULL] AS ints, ['a', NULL, 'b c'] AS texts, [] AS none")
        .await
        .expect("prepared");
    let types: Vec<&Type> = statement.columns().iter().map(|c| c.type_()).collect();
    assert_eq!(types[..2], [&Type::INT8_ARRAY, &Type::TEXT_ARRAY]);
    let row = client.query_one(&statement, &[]).await.expect("a row");
    assert_eq!(row.get::<_, Vec<Option<i64>>>(0), [Some(1), Some(2), None]);
    assert_eq!(
        row.get::<_, Vec<Option<String>>>(1),
        [Some("a".to_string()), None, Some("b c".to_string())]
    );
    let runs = client
        .query_one(
            &format!("SELECT array_agg(run_id) FROM {RUNS} WHERE job_id = $1"),
            &[&job],
        )
        .await
        .expect("a row");
    let mut ids: Vec<i64> = runs.get(0);
    ids.sort_unstable();
    assert_eq!(ids, want);
    // `= ANY($n)` with a Vec, sent as a binary array: of numbers (typed from the column, so
    // announced `int8[]`) and of strings (`text[]`).
    let any_ids = client
        .prepare(&format!(
            "SELECT count(*) FROM {RUNS} WHERE job_id = ANY($1)"
        ))
        .await
        .expect("prepared");
    assert_eq!(any_ids.params(), [Type::INT8_ARRAY]);
    let count: i64 = client
        .query_one(&any_ids, &[&vec![job, -1]])
        .await
        .expect("a row")
        .get(0);
    assert_eq!(count as usize, want.len());
    let count: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM {RUNS} WHERE job_id = $1 AND run_type = ANY($2)"),
            &[&job, &vec!["JOB_RUN", "WORKFLOW_RUN", "SUBMIT_RUN"]],
        )
        .await
        .expect("a row")
        .get(0);
    assert_eq!(count as usize, want.len());
    server.shutdown().await;
}

const PSYCOPG_NAMES: &str = r#"
import sys, json, psycopg
port, job = sys.argv[1], int(sys.argv[2])
names = ['"databricks_workspace.jobs".job_runs', 'jobs.job_runs',
         'databricks_workspace.jobs.job_runs', '"jobs"."job_runs"', 'job_runs',
         '"databricks_workspace"."jobs"."job_runs"']
with psycopg.connect(f"host=127.0.0.1 port={port} user=analyst dbname=jobsql sslmode=disable",
                     autocommit=True) as conn:
    counts = {n: conn.execute(f"SELECT count(*) FROM {n} WHERE job_id = %s", (job,)).fetchone()[0]
              for n in names}
    schemas = [r[0] for r in conn.execute("SELECT nspname FROM pg_catalog.pg_namespace")]
print(json.dumps({"counts": counts, "schemas": schemas}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_resolves_however_its_schema_is_quoted() {
    let emu = emulator().await;
    let server = default_server(&emu).await;
    let job = emu.notable().job_ids[0];
    let want = runs_of(&emu, job).await.len();
    let args = [server.local_addr().port().to_string(), job.to_string()];
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        python(&["psycopg"], PSYCOPG_NAMES, &args)
    })
    .await
    .expect("client runs");
    let got: serde_json::Value = serde_json::from_str(stdout_of(&out).trim()).expect("json");
    let counts = got["counts"].as_object().expect("counts");
    assert_eq!(counts.len(), 6);
    for (name, count) in counts {
        assert_eq!(count.as_u64(), Some(want as u64), "{name}: {got}");
    }
    // pg_namespace names the schema as the short form resolves it.
    let schemas = got["schemas"].as_array().expect("schemas");
    assert!(schemas.contains(&serde_json::json!("jobs")), "{got}");
    server.shutdown().await;
}
