//! `COPY (query) TO STDOUT` on `jobsql serve`, from real clients: psql's `\copy ... TO 'f.csv'
//! CSV HEADER` (a file written by psql on the client's side) and psycopg's `cursor.copy` in
//! text and CSV formats; the rows equal the library's for the same query, and the filter is
//! pushed down to the API.

use super::common::{emulator, to};
use super::serve::default_server;
use crate::support::batches::present_ints;
use crate::support::clients::{psql, python, stdout_of};
use crate::support::session::{on, query};
use crate::support::RUNS;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_copy_writes_the_query_as_csv_with_a_header() {
    let emu = emulator().await;
    let server = default_server(&emu).await;
    let job = emu.notable().job_ids[0];
    let select = format!(
        "SELECT run_id, state['result_state'] AS result, run_name FROM {RUNS} \
         WHERE job_id = {job} ORDER BY run_id"
    );
    let want = present_ints(&query(&on(&emu, &[]), &select).await, 0);
    assert!(!want.is_empty());
    emu.clear_requests();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("runs.csv");
    let conninfo = format!(
        "host=127.0.0.1 port={} user=analyst dbname=jobsql sslmode=disable",
        server.local_addr().port()
    );
    let command = format!("\\copy ({select}) TO '{}' CSV HEADER", file.display());
    let out = tokio::task::spawn_blocking(move || {
        psql(&[&conninfo, "-v", "ON_ERROR_STOP=1", "-c", &command], None)
    })
    .await
    .expect("psql runs");
    let said = stdout_of(&out);
    assert_eq!(said.trim(), format!("COPY {}", want.len()), "{said}");
    let csv = std::fs::read_to_string(&file).expect("psql wrote the file");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("run_id,result,run_name"));
    let got: Vec<i64> = lines
        .map(|l| {
            l.split(',')
                .next()
                .expect("a field")
                .parse()
                .expect("a run id")
        })
        .collect();
    assert_eq!(got, want);
    let requests = emu.requests();
    let lists = to(&requests, "/runs/list");
    assert!(!lists.is_empty());
    assert!(
        lists
            .iter()
            .all(|r| r.param("job_id") == Some(job.to_string().as_str())),
        "the filter was pushed down: {lists:?}"
    );
    server.shutdown().await;
}

const PSYCOPG: &str = r#"
import sys, psycopg
port, job = sys.argv[1], int(sys.argv[2])
with psycopg.connect(f"host=127.0.0.1 port={port} user=analyst dbname=jobsql sslmode=disable",
                     autocommit=True) as conn:
    cur = conn.cursor()
    with cur.copy("COPY (SELECT run_id, job_id FROM databricks_workspace.jobs.job_runs "
                  "WHERE job_id = " + str(job) + " ORDER BY run_id) TO STDOUT") as copy:
        rows = [tuple(int(v) for v in row) for row in copy.rows()]
    print(len(rows), rows[0][1] == job, all(r[1] == job for r in rows))
    with cur.copy("COPY (SELECT concat('a', chr(9), 'b', chr(10), 'c\\d') AS t, "
                  "CAST(NULL AS VARCHAR) AS n, 'x,\"y\"' AS q) TO STDOUT") as copy:
        print(repr(list(copy.rows())))
    data = b""
    with cur.copy("COPY (SELECT 'x,\"y\"' AS q, CAST(NULL AS VARCHAR) AS n) "
                  "TO STDOUT (FORMAT csv, HEADER)") as copy:
        for chunk in copy:
            data += bytes(chunk)
    print(repr(data.decode()))
    try:
        with cur.copy("COPY databricks_workspace.jobs.job_runs TO STDOUT") as copy:
            list(copy)
    except psycopg.Error as e:
        print(e.sqlstate, str(e).splitlines()[0])
    print(conn.execute("SELECT 1").fetchone()[0])
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg_copy_in_text_and_csv_and_a_table_copy_refused() {
    let emu = emulator().await;
    let server = default_server(&emu).await;
    let job = emu.notable().job_ids[0];
    let select = format!("SELECT run_id FROM {RUNS} WHERE job_id = {job}");
    let want = present_ints(&query(&on(&emu, &[]), &select).await, 0).len();
    let args = [server.local_addr().port().to_string(), job.to_string()];
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        python(&["psycopg"], PSYCOPG, &args)
    })
    .await
    .expect("client runs");
    let text = stdout_of(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("{want} True True"), "{text}");
    // Text format: tab, newline and backslash escaped and read back whole; NULL as NULL.
    assert_eq!(lines[1], r#"[('a\tb\nc\\d', None, 'x,"y"')]"#, "{text}");
    // CSV: a header, quotes doubled, NULL as an empty field.
    assert_eq!(lines[2], r#"'q,n\n"x,""y""",\n'"#, "{text}");
    assert!(
        lines[3].starts_with(
            "0A000 COPY databricks_workspace.jobs.job_runs TO STDOUT is not supported"
        ),
        "{text}"
    );
    assert_eq!(lines[4], "1", "the connection goes on: {text}");
    server.shutdown().await;
}
