//! SQLAlchemy 2 (with psycopg 3 and with psycopg2) and pandas against `jobsql serve`, itself
//! against the emulator: connect, reflect (`inspect(engine).get_table_names`, `get_columns`
//! with the spec's descriptions as comments), and `pandas.read_sql` of a query whose filter
//! reaches the API.

use jobsql_core::spec::load_embedded;

use super::common::{emulator, to};
use super::serve::{job_tables, server_with};
use crate::support::clients::{python, stdout_of};

/// Prints, as JSON: the tables of schema `jobs`, the columns of `jobs.job_runs` (name, type,
/// comment), and the job ids `pandas.read_sql` got for job `argv[3]`.
const SCRIPT: &str = r#"
import json, sys
import pandas as pd
import sqlalchemy as sa
driver, port, job = sys.argv[1], sys.argv[2], int(sys.argv[3])
engine = sa.create_engine(f"postgresql+{driver}://analyst@127.0.0.1:{port}/jobsql?sslmode=disable")
with engine.connect() as conn:
    one = conn.execute(sa.text("SELECT 1")).scalar()
inspector = sa.inspect(engine)
tables = inspector.get_table_names(schema="jobs")
columns = [[c["name"], str(c["type"]), c.get("comment")]
           for c in inspector.get_columns("job_runs", schema="jobs")]
frame = pd.read_sql(
    sa.text("SELECT job_id, run_id FROM jobs.job_runs WHERE job_id = :job"), engine,
    params={"job": job})
print(json.dumps({"one": one, "tables": tables, "columns": columns,
                  "job_ids": sorted(set(int(j) for j in frame["job_id"])), "rows": len(frame)}))
"#;

async fn reflect_and_read(driver: &str, module: &str) {
    let emu = emulator().await;
    let server = server_with(
        &emu,
        jobsql_pgwire::ServeOptions::new("127.0.0.1:0".parse().expect("addr")),
    )
    .await;
    let port = server.local_addr().port().to_string();
    let job = emu.notable().job_ids[0];
    emu.clear_requests();
    let (driver, module) = (driver.to_string(), module.to_string());
    let job_arg = job.to_string();
    let out = tokio::task::spawn_blocking(move || {
        python(
            &["sqlalchemy", "pandas", &module],
            SCRIPT,
            &[&driver, &port, &job_arg],
        )
    })
    .await
    .expect("client runs");
    let got: serde_json::Value = serde_json::from_str(stdout_of(&out).trim()).expect("json");
    assert_eq!(got["one"], 1);
    let tables: Vec<&str> = got["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    assert_eq!(tables, job_tables(), "{got}");

    let specs = load_embedded().expect("specs");
    let spec = specs
        .resources
        .iter()
        .find(|r| {
            r.provider == "databricks_workspace" && r.service == "jobs" && r.name == "job_runs"
        })
        .expect("job_runs in the spec");
    let columns = got["columns"].as_array().expect("columns");
    for c in &spec.columns {
        assert!(
            columns.iter().any(|r| r[0] == c.name.as_str()),
            "{} reflected: {got}",
            c.name
        );
    }
    let column = |name: &str| {
        columns
            .iter()
            .find(|c| c[0] == name)
            .unwrap_or_else(|| panic!("{name} reflected: {got}"))
    };
    let described = spec
        .columns
        .iter()
        .find(|c| c.name == "job_id")
        .expect("job_id in the spec");
    assert_eq!(column("job_id")[1], "BIGINT");
    assert_eq!(column("job_id")[2], described.description.as_str());
    assert_eq!(column("start_time")[1], "TIMESTAMP");

    let rows = got["rows"].as_u64().expect("rows");
    assert!(rows > 0, "{got}");
    assert_eq!(got["job_ids"], serde_json::json!([job]));
    // The filter reached the API: every listing asked for that job only.
    let requests = emu.requests();
    let listings = to(&requests, "/runs/list");
    assert!(!listings.is_empty());
    assert!(
        listings
            .iter()
            .all(|r| r.param("job_id") == Some(job.to_string().as_str())),
        "{listings:?}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlalchemy_with_psycopg3_reflects_and_reads() {
    reflect_and_read("psycopg", "psycopg").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlalchemy_with_psycopg2_reflects_and_reads() {
    reflect_and_read("psycopg2", "psycopg2").await;
}
