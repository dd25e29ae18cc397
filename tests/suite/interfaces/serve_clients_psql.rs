//! psql and psycopg against `jobsql serve` (itself against the emulator): psql's `\dn`, `\dt`
//! and `\l`, and what psycopg sends — nested transactions (`SAVEPOINT`), the session functions,
//! `= ANY(%s)` with a list.

use super::common::{emulator, to};
use super::serve::default_server;
use crate::support::clients::{psql, python, stdout_of};
use jobsql_pgwire::ServerHandle;

/// psql's unaligned output of `command` against `server`.
async fn psql_output(server: &ServerHandle, command: &str) -> String {
    let conninfo = format!(
        "host=127.0.0.1 port={} user=analyst dbname=jobsql sslmode=disable",
        server.local_addr().port()
    );
    let command = command.to_string();
    let out = tokio::task::spawn_blocking(move || {
        psql(
            &[
                &conninfo,
                "-A",
                "-t",
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
    stdout_of(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_lists_schemas_tables_and_the_database() {
    let emu = emulator().await;
    let server = default_server(&emu).await;
    emu.clear_requests();

    // One naming: the schema as information_schema names it, full names where short ones
    // would be ambiguous (LakeSail's `jobs`).
    let schemas = psql_output(&server, "\\dn").await;
    let names: Vec<&str> = schemas
        .lines()
        .filter_map(|l| l.split('|').next())
        .collect();
    assert_eq!(
        names,
        ["cleanrooms", "jobs", "lakesail.jobs", "public"],
        "{schemas}"
    );

    let tables = psql_output(&server, "\\dt").await;
    assert!(
        tables
            .lines()
            .any(|l| l.starts_with("jobs|job_runs|table|")),
        "{tables}"
    );
    assert!(
        tables
            .lines()
            .any(|l| l.starts_with("lakesail.jobs|job_runs|table|")),
        "{tables}"
    );
    let in_schema = psql_output(
        &server,
        "SELECT table_schema FROM information_schema.tables \
         WHERE table_catalog = 'databricks_workspace' AND table_name = 'job_runs'",
    )
    .await;
    assert_eq!(in_schema.trim(), "jobs");
    // Postgres' array text for `ANY`/`ALL`, as catalog queries write it: the same rows as `IN`.
    let by_in = psql_output(
        &server,
        "SELECT relname FROM pg_catalog.pg_class WHERE relkind IN ('r', 'v') ORDER BY 1",
    )
    .await;
    assert!(by_in.lines().any(|l| l == "job_runs"), "{by_in}");
    for any in [
        "relkind = ANY('{r,v}')",
        "relkind = ANY ('{\"r\", v}'::\"char\"[])",
        "NOT relkind <> ALL('{r,v}')",
    ] {
        let rows = psql_output(
            &server,
            &format!("SELECT relname FROM pg_catalog.pg_class WHERE {any} ORDER BY 1"),
        )
        .await;
        assert_eq!(rows, by_in, "{any}");
    }
    let none = psql_output(
        &server,
        "SELECT count(*) FROM pg_catalog.pg_class WHERE relkind = ANY('{}')",
    )
    .await;
    assert_eq!(none.trim(), "0");

    let databases = psql_output(&server, "\\l").await;
    let first = databases.lines().next().unwrap_or_default();
    assert!(first.starts_with("jobsql|jobsql|UTF8|"), "{databases}");

    // The catalog is the server's: no API request.
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
    server.shutdown().await;
}

/// What psycopg sends on its own: savepoints for nested transactions, session functions, and
/// a list parameter; prints the answers, one a line.
const PSYCOPG: &str = r#"
import sys, psycopg
port, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with psycopg.connect(f"host=127.0.0.1 port={port} user=analyst dbname=jobsql") as conn:
    with conn.transaction():
        with conn.transaction():
            user, session, pid = conn.execute(
                "SELECT current_user, session_user, pg_backend_pid()").fetchone()
    print(user, session, pid > 0)
    print(conn.execute("SELECT format_type(20, -1), format_type(1184, -1), "
                       "has_table_privilege('jobs.job_runs', 'SELECT')").fetchone())
    rows = conn.execute(
        "SELECT job_id, count(*) FROM jobs.job_runs WHERE job_id = ANY(%s) "
        "GROUP BY job_id ORDER BY job_id", ([a, b],)).fetchall()
    print(sorted(j for j, _ in rows), sum(n for _, n in rows))
    print(conn.execute("SELECT count(*) FROM jobs.job_runs WHERE job_id IN (%s, %s)",
                       (a, b)).fetchone()[0])
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg_savepoints_session_functions_and_any_of_a_list() {
    let emu = emulator().await;
    let server = default_server(&emu).await;
    let (a, b) = (emu.notable().job_ids[0], emu.notable().job_ids[1]);
    let port = server.local_addr().port().to_string();
    emu.clear_requests();
    let args = [port, a.to_string(), b.to_string()];
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        python(&["psycopg"], PSYCOPG, &args)
    })
    .await
    .expect("client runs");
    let text = stdout_of(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "jobsql jobsql True", "{text}");
    assert_eq!(
        lines[1], "('bigint', 'timestamp with time zone', True)",
        "{text}"
    );
    let mut expected = [a, b];
    expected.sort();
    assert!(!to(&emu.requests(), "/runs/list").is_empty());
    let (ids, total) = lines[2].rsplit_once(" ").expect("ids and a count");
    assert_eq!(ids, format!("[{}, {}]", expected[0], expected[1]), "{text}");
    let total: usize = total.parse().expect("a count");
    assert!(total > 0, "{text}");
    assert_eq!(
        lines[3],
        total.to_string(),
        "ANY and IN count the same runs: {text}"
    );
    server.shutdown().await;
}
