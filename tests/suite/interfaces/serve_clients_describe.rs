//! What a client learns of a table's columns through `jobsql serve` (itself against the
//! emulator): psql's `\d jobs.job_runs`, `\d+` (the spec's descriptions) and `\d`, and
//! psycopg reading `information_schema.columns` — Postgres type names everywhere, the same
//! types the row descriptions of a query carry.

use jobsql_core::spec::load_embedded;

use super::common::{emulator, to};
use super::serve::default_server;
use crate::support::clients::{psql, python, stdout_of};
use jobsql_pgwire::ServerHandle;

/// The field separator of psql's unaligned output here (descriptions may hold `|`).
const SEP: &str = "\u{1f}";

/// psql's unaligned, tuples-only output of `command`, each line split at [`SEP`]; fails on
/// anything psql writes to stderr.
async fn psql_rows(server: &ServerHandle, command: &str) -> Vec<Vec<String>> {
    let conninfo = format!(
        "host=127.0.0.1 port={} user=analyst dbname=jobsql sslmode=disable",
        server.local_addr().port()
    );
    let shown = command.to_string();
    let command = command.to_string();
    let out = tokio::task::spawn_blocking(move || {
        psql(
            &[
                &conninfo,
                "-A",
                "-t",
                "-F",
                SEP,
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                &command,
            ],
            None,
        )
    })
    .await
    .expect("psql runs");
    let stdout = stdout_of(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.trim().is_empty(), "{shown}: stderr: {stderr}");
    stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(SEP).map(str::to_string).collect())
        .collect()
}

/// What `DESCRIBE` says of `table`'s columns: (name, nullable).
async fn described(server: &ServerHandle, table: &str) -> Vec<(String, bool)> {
    psql_rows(server, &format!("DESCRIBE {table}"))
        .await
        .into_iter()
        .map(|r| (r[0].clone(), r[2] == "YES"))
        .collect()
}

/// Postgres' names of the types the server sends (psql prints these; never Arrow's).
const POSTGRES_TYPES: &[&str] = &[
    "bigint",
    "integer",
    "smallint",
    "text",
    "boolean",
    "double precision",
    "real",
    "timestamp with time zone",
    "timestamp without time zone",
    "date",
    "bytea",
    "json",
];

fn is_postgres_type(name: &str) -> bool {
    POSTGRES_TYPES.contains(&name.trim_end_matches("[]"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_describes_a_table_with_postgres_types_and_descriptions() {
    let emu = emulator().await;
    let server = default_server(&emu).await;
    let expected = described(&server, "jobs.job_runs").await;
    assert!(expected.len() > 10, "{expected:?}");
    emu.clear_requests();

    // \d: column | type | collation | nullable | default.
    let rows = psql_rows(&server, "\\d jobs.job_runs").await;
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let expected_names: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, expected_names, "{rows:?}");
    for (row, (name, nullable)) in rows.iter().zip(&expected) {
        assert_eq!(row.len(), 5, "{row:?}");
        assert!(is_postgres_type(&row[1]), "{name}: {row:?}");
        assert_eq!(row[3] == "not null", !nullable, "{name}: {row:?}");
    }
    let type_of = |column: &str| {
        rows.iter()
            .find(|r| r[0] == column)
            .map(|r| r[1].clone())
            .unwrap_or_else(|| panic!("{column} in {rows:?}"))
    };
    assert_eq!(type_of("job_id"), "bigint");
    assert_eq!(type_of("run_id"), "bigint");
    assert_eq!(type_of("start_time"), "timestamp with time zone");
    assert_eq!(type_of("run_name"), "text");

    // \d+: ... | storage | compression | stats target | description (the spec's).
    let plus = psql_rows(&server, "\\d+ jobs.job_runs").await;
    let specs = load_embedded().expect("specs");
    let spec = specs
        .resources
        .iter()
        .find(|r| {
            r.provider == "databricks_workspace" && r.service == "jobs" && r.name == "job_runs"
        })
        .expect("job_runs in the spec");
    assert_eq!(plus.len(), rows.len(), "{plus:?}");
    for column in &spec.columns {
        let row = plus
            .iter()
            .find(|r| r[0] == column.name)
            .unwrap_or_else(|| panic!("{} in {plus:?}", column.name));
        assert_eq!(row.len(), 9, "{row:?}");
        assert_eq!(row[8], column.description, "{}", column.name);
    }
    assert_eq!(
        plus.iter()
            .find(|r| r[0] == "job_id")
            .map(|r| r[5].as_str()),
        Some("plain"),
        "a fixed-size type's storage"
    );

    // \d alone: every relation, as \dt lists tables.
    let relations = psql_rows(&server, "\\d").await;
    assert!(
        relations
            .iter()
            .any(|r| r[..3] == ["jobs", "job_runs", "table"]),
        "{relations:?}"
    );
    assert!(
        relations
            .iter()
            .any(|r| r[..3] == ["lakesail.jobs", "job_runs", "table"]),
        "{relations:?}"
    );

    // A schema named with a dot, quoted as psql quotes it.
    let lakesail = psql_rows(&server, "\\d \"lakesail.jobs\".job_runs").await;
    assert!(lakesail.iter().any(|r| r[0] == "job_id"), "{lakesail:?}");
    assert!(
        lakesail.iter().all(|r| is_postgres_type(&r[1])),
        "{lakesail:?}"
    );

    // The catalog is the server's: no API request.
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
    server.shutdown().await;
}

/// Prints, as JSON: `information_schema.columns` of `jobs.job_runs` (name, data_type,
/// udt_name), `pg_attribute`'s type names, and the type names of a query's row description.
const PSYCOPG: &str = r#"
import json, sys, psycopg
port = sys.argv[1]
with psycopg.connect(f"host=127.0.0.1 port={port} user=analyst dbname=jobsql") as conn:
    columns = conn.execute(
        "SELECT column_name, data_type, udt_name FROM information_schema.columns "
        "WHERE table_catalog = %s AND table_schema = %s AND table_name = %s "
        "ORDER BY ordinal_position",
        ("databricks_workspace", "jobs", "job_runs")).fetchall()
    attributes = conn.execute(
        "SELECT a.attname, t.typname FROM pg_catalog.pg_attribute a "
        "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = 'jobs.job_runs'::regclass ORDER BY a.attnum").fetchall()
    regtypes = conn.execute(
        "SELECT a.attname, a.atttypid::regtype::text FROM pg_catalog.pg_attribute a "
        "WHERE a.attrelid = 'jobs.job_runs'::regclass ORDER BY a.attnum").fetchall()
    types = dict(conn.execute("SELECT oid, typname FROM pg_catalog.pg_type").fetchall())
    cursor = conn.execute("SELECT * FROM jobs.job_runs LIMIT 1")
    sent = [[d.name, types.get(d.type_code)] for d in cursor.description]
print(json.dumps({"columns": columns, "attributes": attributes, "sent": sent,
                  "regtypes": regtypes}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn information_schema_names_postgres_types_as_the_rows_are_sent() {
    let emu = emulator().await;
    let server = default_server(&emu).await;
    let port = server.local_addr().port().to_string();
    emu.clear_requests();
    let out = tokio::task::spawn_blocking(move || python(&["psycopg"], PSYCOPG, &[&port]))
        .await
        .expect("client runs");
    let got: serde_json::Value = serde_json::from_str(stdout_of(&out).trim()).expect("json");
    let columns = got["columns"].as_array().expect("columns");
    let column = |name: &str| {
        columns
            .iter()
            .find(|c| c[0] == name)
            .unwrap_or_else(|| panic!("{name} in {got}"))
    };
    assert_eq!(column("job_id")[1], "bigint");
    assert_eq!(column("job_id")[2], "int8");
    assert_eq!(column("start_time")[1], "timestamp with time zone");
    assert_eq!(column("start_time")[2], "timestamptz");
    assert_eq!(column("run_name")[1], "text");
    for c in columns {
        let data_type = c[1].as_str().expect("data_type");
        assert!(
            is_postgres_type(data_type) || data_type == "ARRAY",
            "{c}: no Arrow names"
        );
    }
    // One mapping: information_schema's udt_name, pg_attribute's type and the type each
    // column of a result is sent as are the same, column by column.
    let udt: Vec<(&str, &str)> = columns
        .iter()
        .map(|c| (c[0].as_str().unwrap_or(""), c[2].as_str().unwrap_or("")))
        .collect();
    let pair = |v: &serde_json::Value| -> Vec<(String, String)> {
        v.as_array()
            .expect("pairs")
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap_or("").to_string(),
                    p[1].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let attributes = pair(&got["attributes"]);
    let sent = pair(&got["sent"]);
    let udt: Vec<(String, String)> = udt
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(attributes, udt, "{got}");
    // `atttypid::regtype::text` (pgcli's column types) is information_schema's data_type.
    let data_types: Vec<(String, String)> = columns
        .iter()
        .filter(|c| c[1] != "ARRAY")
        .map(|c| {
            (
                c[0].as_str().unwrap_or("").to_string(),
                c[1].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let regtypes: Vec<(String, String)> = pair(&got["regtypes"])
        .into_iter()
        .filter(|(_, t)| !t.ends_with("[]"))
        .collect();
    assert_eq!(regtypes, data_types, "{got}");
    assert_eq!(sent, udt, "{got}");
    // Only the query read the API (a run listing, then the run's details for `SELECT *`).
    let requests = emu.requests();
    assert_eq!(to(&requests, "/runs/list").len(), 1, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.path.ends_with("/runs/list") || r.path.ends_with("/runs/get")),
        "{requests:?}"
    );
    server.shutdown().await;
}
