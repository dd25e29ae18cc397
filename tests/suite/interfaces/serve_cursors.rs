//! Cursors on `jobsql serve` from real clients: psycopg 3's named cursor (extended protocol,
//! parameters pushed to the API; text and binary FETCH), psycopg2's (simple protocol), psql's
//! `DECLARE` / `FETCH 5` / `MOVE` / `CLOSE` in a transaction; a cursor closed part-way stops its
//! API requests; the errors (unknown, duplicate, outside a transaction, too many) by SQLSTATE.

use std::time::{Duration, Instant};

use jobsql_emulator::{EmulatorConfig, EmulatorHandle};
use tokio_postgres::SimpleQueryMessage;

use super::common::{history_config, start, to};
use super::serve::{connect, default_server, simple_rows};
use super::serve_cancel::last_growth_after;
use crate::support::batches::present_ints;
use crate::support::clients::{psql, python, stdout_of};
use crate::support::session::{on, query};
use crate::support::RUNS;

/// 4,000 runs over 2 jobs: about 2,000 for each.
async fn two_jobs() -> EmulatorHandle {
    start(EmulatorConfig {
        jobs: 2,
        ..history_config(4_000, 11)
    })
    .await
}

/// The run ids of `job`, as the library reads them (sorted).
async fn runs_of(emu: &EmulatorHandle, job: i64) -> Vec<i64> {
    let select = format!("SELECT run_id FROM {RUNS} WHERE job_id = {job}");
    let mut want = present_ints(&query(&on(emu, &[]), &select).await, 0);
    want.sort_unstable();
    want
}

fn assert_pushed(emu: &EmulatorHandle, job: i64) {
    let requests = emu.requests();
    let lists = to(&requests, "/runs/list");
    assert!(!lists.is_empty());
    assert!(
        lists
            .iter()
            .all(|r| r.param("job_id") == Some(job.to_string().as_str())),
        "the filter was pushed down: {lists:?}"
    );
}

/// psycopg 3: a named cursor read 100 rows per FETCH (fetchmany), then the same query by a
/// binary named cursor (its FETCH over the extended protocol) iterated with itersize 100.
const PSYCOPG_NAMED: &str = r#"
import sys, json, psycopg
port, job = sys.argv[1], int(sys.argv[2])
query = "SELECT run_id, job_id, run_name FROM databricks_workspace.jobs.job_runs WHERE job_id = %s"
with psycopg.connect(f"host=127.0.0.1 port={port} user=analyst dbname=jobsql sslmode=disable") as conn:
    with conn.cursor(name="runs") as cur:
        cur.execute(query, (job,))
        names = [d.name for d in cur.description]
        sizes, rows = [], []
        while True:
            batch = cur.fetchmany(100)
            sizes.append(len(batch))
            if not batch:
                break
            rows.extend(batch)
    with conn.cursor(name="again", binary=True) as cur:
        cur.itersize = 100
        cur.execute(query, (job,))
        binary = [list(r) for r in cur]
    conn.commit()
    print(json.dumps({"names": names, "sizes": sizes, "rows": [list(r) for r in rows],
                      "binary": binary}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg_named_cursor_reads_2000_rows_100_per_fetch() {
    let emu = two_jobs().await;
    let server = default_server(&emu).await;
    let job = emu.notable().job_ids[0];
    let want = runs_of(&emu, job).await;
    assert!(want.len() > 1_500, "{} runs", want.len());
    emu.clear_requests();
    let args = [server.local_addr().port().to_string(), job.to_string()];
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        python(&["psycopg"], PSYCOPG_NAMED, &args)
    })
    .await
    .expect("client runs");
    let got: serde_json::Value = serde_json::from_str(stdout_of(&out).trim()).expect("json");
    assert_eq!(
        got["names"],
        serde_json::json!(["run_id", "job_id", "run_name"])
    );
    // 100 per FETCH, the last short one, then an empty one.
    let sizes: Vec<u64> = serde_json::from_value(got["sizes"].clone()).expect("sizes");
    let full = want.len() / 100;
    assert_eq!(sizes.len(), full + 1 + usize::from(want.len() % 100 > 0));
    assert!(sizes[..full].iter().all(|&n| n == 100), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<u64>(), want.len() as u64);
    for key in ["rows", "binary"] {
        let rows = got[key].as_array().expect("rows");
        let mut ids: Vec<i64> = rows.iter().map(|r| r[0].as_i64().expect("id")).collect();
        ids.sort_unstable();
        assert_eq!(ids, want, "{key}");
        assert!(rows.iter().all(|r| r[1].as_i64() == Some(job)), "{key}");
        assert!(rows.iter().all(|r| r[2].is_string()), "{key}");
    }
    assert_pushed(&emu, job);
    server.shutdown().await;
}

/// psycopg2: a named cursor (DECLARE ... WITHOUT HOLD, FETCH FORWARD itersize) iterated.
const PSYCOPG2_NAMED: &str = r#"
import sys, json, psycopg2
port, job = sys.argv[1], int(sys.argv[2])
conn = psycopg2.connect(f"host=127.0.0.1 port={port} user=analyst dbname=jobsql sslmode=disable")
cur = conn.cursor(name="runs")
cur.itersize = 250
cur.execute("SELECT run_id, job_id FROM databricks_workspace.jobs.job_runs WHERE job_id = %s",
            (job,))
rows = [list(r) for r in cur]
first = cur.description[0].name
cur.close()
conn.commit()
print(json.dumps({"first": first, "rows": rows}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg2_named_cursor_iterates_every_row() {
    let emu = two_jobs().await;
    let server = default_server(&emu).await;
    let job = emu.notable().job_ids[1];
    let want = runs_of(&emu, job).await;
    emu.clear_requests();
    let args = [server.local_addr().port().to_string(), job.to_string()];
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        python(&["psycopg2"], PSYCOPG2_NAMED, &args)
    })
    .await
    .expect("client runs");
    let got: serde_json::Value = serde_json::from_str(stdout_of(&out).trim()).expect("json");
    assert_eq!(got["first"], "run_id");
    let rows = got["rows"].as_array().expect("rows");
    let mut ids: Vec<i64> = rows.iter().map(|r| r[0].as_i64().expect("id")).collect();
    ids.sort_unstable();
    assert_eq!(ids, want);
    assert!(rows.iter().all(|r| r[1].as_i64() == Some(job)));
    assert_pushed(&emu, job);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_declares_fetches_moves_and_closes_in_a_transaction() {
    let emu = super::common::emulator().await;
    let server = default_server(&emu).await;
    let job = emu.notable().job_ids[0];
    let select = format!("SELECT run_id FROM {RUNS} WHERE job_id = {job} ORDER BY run_id");
    let want = present_ints(&query(&on(&emu, &[]), &select).await, 0);
    assert!(want.len() >= 12, "{} runs", want.len());
    let conninfo = format!(
        "host=127.0.0.1 port={} user=analyst dbname=jobsql sslmode=disable",
        server.local_addr().port()
    );
    let script = format!(
        "BEGIN;\nDECLARE c CURSOR FOR {select};\nFETCH 5 FROM c;\nMOVE 2 IN c;\n\
         FETCH NEXT IN c;\nCLOSE c;\nCOMMIT;\nFETCH 1 FROM c;\n"
    );
    let out = tokio::task::spawn_blocking(move || {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), script).expect("script written");
        let path = file.path().display().to_string();
        psql(&[&conninfo, "-At", "-f", &path], None)
    })
    .await
    .expect("psql runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    let mut expected: Vec<String> = vec!["BEGIN".into(), "DECLARE CURSOR".into()];
    expected.extend(want[..5].iter().map(i64::to_string));
    expected.push("MOVE 2".into());
    expected.push(want[7].to_string());
    expected.extend(["CLOSE CURSOR".into(), "COMMIT".into()]);
    assert_eq!(lines, expected, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains("cursor \"c\" does not exist"),
        "a closed cursor is gone: {stderr}"
    );
    server.shutdown().await;
}

/// The rows of a FETCH, and its tag.
fn fetched(messages: &[SimpleQueryMessage]) -> (Vec<Vec<Option<String>>>, Option<u64>) {
    let tag = messages.iter().find_map(|m| match m {
        SimpleQueryMessage::CommandComplete(n) => Some(*n),
        _ => None,
    });
    (simple_rows(messages), tag)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_cursor_part_way_stops_its_requests() {
    // 5,000 runs: 200 pages of 20 ms.
    let emu = start(EmulatorConfig {
        latency: Duration::from_millis(20),
        ..history_config(5_000, 3)
    })
    .await;
    let server = default_server(&emu).await;
    let client = connect(server.local_addr()).await;
    emu.clear_requests();
    client.simple_query("BEGIN").await.expect("begin");
    client
        .simple_query(&format!(
            "DECLARE c CURSOR FOR SELECT run_id, run_name FROM {RUNS}"
        ))
        .await
        .expect("declared");
    let (rows, tag) = fetched(&client.simple_query("FETCH 10 FROM c").await.expect("fetch"));
    assert_eq!((rows.len(), tag), (10, Some(10)));
    // The cursor holds a running stream, not its result: while it waits, the scan waits.
    let idle = last_growth_after(&emu, Instant::now()).await;
    let held = to(&emu.requests(), "/runs/list").len();
    eprintln!("a cursor after FETCH 10: {held} pages requested, the last {idle:?} in");
    assert!(
        held < 100,
        "{held} of 200 pages read ahead: the result was materialised"
    );
    let (rows, _) = fetched(&client.simple_query("FETCH 25 FROM c").await.expect("fetch"));
    assert_eq!(rows.len(), 25);
    client.simple_query("CLOSE c").await.expect("closed");
    let closed = Instant::now();
    let last = last_growth_after(&emu, closed).await;
    let sent = to(&emu.requests(), "/runs/list").len();
    eprintln!("after CLOSE: last request {last:?} after, {sent} pages in all");
    assert!(last < Duration::from_secs(1), "requests went on {last:?}");
    assert!(sent < 100, "{sent} pages: the scan was not stopped");
    // A cursor closed at COMMIT stops too, and the session goes on.
    client
        .simple_query(&format!("DECLARE d CURSOR FOR SELECT run_id FROM {RUNS}"))
        .await
        .expect("declared");
    let (rows, _) = fetched(&client.simple_query("FETCH 3 FROM d").await.expect("fetch"));
    assert_eq!(rows.len(), 3);
    client.simple_query("COMMIT").await.expect("commit");
    let err = client
        .simple_query("FETCH 1 FROM d")
        .await
        .expect_err("closed");
    assert_eq!(err.code().map(|c| c.code()), Some("34000"), "{err}");
    server.shutdown().await;
}

/// The SQLSTATE of a failed statement.
async fn state_of(client: &tokio_postgres::Client, sql: &str) -> String {
    let err = client.simple_query(sql).await.expect_err(sql);
    format!(
        "{} {}",
        err.code().map(|c| c.code()).unwrap_or("none"),
        err.as_db_error().map(|e| e.message()).unwrap_or("")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursor_errors_name_the_problem() {
    let emu = super::common::emulator().await;
    let server = default_server(&emu).await;
    let client = connect(server.local_addr()).await;
    assert_eq!(
        state_of(&client, "FETCH 1 FROM nope").await,
        "34000 cursor \"nope\" does not exist"
    );
    assert_eq!(
        state_of(&client, "CLOSE nope").await,
        "34000 cursor \"nope\" does not exist"
    );
    let declare = format!("DECLARE c CURSOR FOR SELECT run_id FROM {RUNS}");
    assert!(state_of(&client, &declare)
        .await
        .starts_with("25P01 DECLARE CURSOR can only be used in transaction blocks"));
    client.simple_query("BEGIN").await.expect("begin");
    client.simple_query(&declare).await.expect("declared");
    assert_eq!(
        state_of(&client, &declare).await,
        "42P03 cursor \"c\" already exists"
    );
    assert!(state_of(&client, "FETCH BACKWARD 1 FROM c")
        .await
        .starts_with("55000 cursor can only scan forward"));
    assert!(state_of(&client, "DECLARE x CURSOR FOR DELETE FROM t")
        .await
        .starts_with("0A000 a cursor reads one query"));
    for i in 1..16 {
        client
            .simple_query(&format!("DECLARE c{i} CURSOR FOR SELECT {i} AS n"))
            .await
            .expect("declared");
    }
    assert_eq!(
        state_of(&client, "DECLARE c16 CURSOR FOR SELECT 16").await,
        "53400 too many open cursors: a connection may hold 16 (CLOSE one first)"
    );
    let (rows, tag) = fetched(
        &client
            .simple_query("FETCH ALL FROM c15")
            .await
            .expect("fetch"),
    );
    assert_eq!((rows, tag), (vec![vec![Some("15".to_string())]], Some(1)));
    let (rows, tag) = fetched(
        &client
            .simple_query("FETCH ALL FROM c15")
            .await
            .expect("fetch"),
    );
    assert_eq!(
        (rows.len(), tag),
        (0, Some(0)),
        "a cursor at its end stays open"
    );
    client.simple_query("CLOSE ALL").await.expect("closed");
    client
        .simple_query("DECLARE c16 CURSOR FOR SELECT 16")
        .await
        .expect("room again");
    client.simple_query("ROLLBACK").await.expect("rollback");
    let rows = simple_rows(&client.simple_query("SELECT 1").await.expect("goes on"));
    assert_eq!(rows, vec![vec![Some("1".to_string())]]);
    server.shutdown().await;
}
