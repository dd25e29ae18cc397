//! Every byte a statement makes is counted, on the real binaries: `jobsql serve --memory-limit-mb
//! 64 --total-memory-limit-mb 128` refuses each function that would build past the limit (the
//! bombs of issue 27 and the rest of their family), naming what asked and the limit, before it
//! builds it: the server's peak memory (VmHWM) stays under a stated bound, and the next statement
//! on the same connection is answered. `jobsql mcp` has the same pools: a GROUP BY over 40
//! million keys is refused (it took 2.2 GB). `jobsql query` has a per-statement limit too.

use std::process::Stdio;

use serde_json::json;
use tokio_postgres::{Client, NoTls};

use super::common::emulator;
use super::mcp::client;
use super::serve::simple_rows;
use crate::support::cli::{jobsql_env, stderr};
use crate::support::process::{McpProcess, ServeProcess};
use crate::support::RUNS;

/// The server's peak resident memory may not pass this (MB): its baseline (about 60 MB) and one
/// statement's 64 MB, with room for the allocator's slack. Before the functions were counted,
/// the first bomb alone took 3.9 GB.
const MAX_PEAK_MB: u64 = 300;

/// Statements that would each build hundreds of MB to many GB, and the name their refusal gives.
const BOMBS: &[(&str, &str)] = &[
    ("SELECT length(repeat('x', 1000000000))", "repeat"),
    ("SELECT length(lpad('x', 300000000))", "lpad"),
    (
        "SELECT count(*) FROM (SELECT unnest(range(30000000)))",
        "range",
    ),
    ("SELECT octet_length(rpad('x', 300000000, 'é'))", "rpad"),
    (
        "SELECT cardinality(generate_series(1, 100000000))",
        "generate_series",
    ),
    (
        "SELECT cardinality(array_repeat('abc', 100000000))",
        "array_repeat",
    ),
    (
        "SELECT cardinality(array_resize([1], 100000000))",
        "array_resize",
    ),
    (
        "SELECT length(replace(repeat('a', v), 'a', repeat('b', 100))) \
         FROM generate_series(10000000, 10000000) t(v)",
        "replace",
    ),
    (
        "SELECT length(regexp_replace(repeat('a', 1000000), '', repeat('x', 100), 'g'))",
        "regexp_replace",
    ),
    (
        "SELECT length(array_to_string(range(v), repeat('-', 1000000))) \
         FROM generate_series(100000, 100000) t(v)",
        "array_to_string",
    ),
    (
        "SELECT length(concat(s, s, s, s, s, s, s, s, s, s)) \
         FROM (SELECT repeat('x', v) AS s FROM generate_series(10000000, 10000000) t(v))",
        "concat",
    ),
    (
        "SELECT length(s || s || s || s || s || s || s || s || s || s) \
         FROM (SELECT repeat('x', v) AS s FROM generate_series(10000000, 10000000) t(v))",
        "the || operator",
    ),
    (
        "SELECT repeat('x', 1000000) FROM generate_series(1, 100000)",
        "a constant repeated on every row",
    ),
    (
        "SELECT length(string_agg(repeat('x', 1000) || v, ',')) \
         FROM generate_series(1, 1000000) t(v)",
        "",
    ),
];

/// `sql` on `client` fails with 53200 naming `what`, the 64 MB limit and its flag.
async fn assert_refused(client: &Client, sql: &str, what: &str) {
    let err = client.simple_query(sql).await.expect_err(sql);
    let db = err
        .as_db_error()
        .unwrap_or_else(|| panic!("{sql}: {err:?}"));
    assert_eq!(db.code().code(), "53200", "{sql}: {db:?}");
    let message = db.message();
    assert!(
        message.contains(what)
            && message.contains("64 MB")
            && message.contains("--memory-limit-mb"),
        "{sql}: {message}"
    );
}

async fn connect(server: &ServeProcess) -> Client {
    let mut config = tokio_postgres::Config::new();
    config
        .host(server.addr.ip().to_string())
        .port(server.addr.port())
        .user("analyst")
        .dbname("jobsql");
    let (client, connection) = config.connect(NoTls).await.expect("connects");
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bomb_is_refused_before_it_is_built_and_the_connection_goes_on() {
    let emu = emulator().await;
    let host = emu.base_url();
    let server = ServeProcess::start(
        &["--memory-limit-mb", "64", "--total-memory-limit-mb", "128"],
        &[
            ("DATABRICKS_HOST", &host),
            ("DATABRICKS_TOKEN", emu.token()),
        ],
        Stdio::inherit(),
    );
    let client = connect(&server).await;
    let baseline = server.peak_mb();
    emu.clear_requests();
    for (sql, what) in BOMBS {
        assert_refused(&client, sql, what).await;
        let one = client.simple_query("SELECT 1").await.expect("answered");
        assert_eq!(simple_rows(&one), [[Some("1".to_string())]], "{sql}: then");
    }
    // A parameter is a value like any other: bound, then counted.
    let err = client
        .query("SELECT length(repeat('x', $1::bigint))", &[&"1000000000"])
        .await
        .expect_err("refused");
    let message = err.as_db_error().map(|e| e.message().to_string());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("repeat") && m.contains("64 MB")),
        "{err:?}"
    );
    // None of it called the API; the tables still answer, and what fits is built.
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
    let runs = client
        .query(&format!("SELECT count(*) FROM {RUNS}"), &[])
        .await
        .expect("answered");
    assert_eq!(runs[0].get::<_, i64>(0), 300);
    let fits = client
        .query("SELECT length(repeat('x', 10000000))", &[])
        .await
        .expect("10 MB fits in 64");
    assert_eq!(fits[0].get::<_, i32>(0), 10_000_000);
    let peak = server.peak_mb();
    eprintln!(
        "serve memory: {} bombs refused; peak RSS {peak} MB (baseline {baseline} MB)",
        BOMBS.len() + 1
    );
    assert!(
        peak < MAX_PEAK_MB,
        "peak RSS {peak} MB (baseline {baseline} MB)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_has_the_same_pools_and_refuses_a_group_by_over_40_million_keys() {
    let emu = emulator().await;
    let host = emu.base_url();
    // 16 MB: the aggregation reaches it within 2 s of a debug build (64 MB: 7 s).
    let server = McpProcess::start(
        &["--memory-limit-mb", "16", "--total-memory-limit-mb", "32"],
        &[
            ("DATABRICKS_HOST", &host),
            ("DATABRICKS_TOKEN", emu.token()),
        ],
    );
    let calls = json!([
        ["query", {"sql": "SELECT k, count(*) FROM (SELECT value % 40000000 AS k \
                           FROM generate_series(1, 40000000)) GROUP BY k"}],
        ["query", {"sql": "SELECT length(repeat('x', 1000000000)) AS n"}],
        ["query", {"sql": format!("SELECT count(*) AS n FROM {RUNS}")}],
    ]);
    let answer = client(json!({"url": server.url}), calls).await;
    let result = |i: usize| &answer["results"][i];
    for i in 0..2 {
        let text = result(i)["text"].as_str().unwrap_or_default();
        assert_eq!(result(i)["is_error"], true, "{text}");
        assert!(
            text.contains("16 MB") && text.contains("--memory-limit-mb"),
            "{text}"
        );
    }
    assert!(result(1)["text"]
        .as_str()
        .is_some_and(|t| t.contains("repeat")));
    assert_eq!(result(2)["is_error"], false, "{}", result(2)["text"]);
    assert_eq!(result(2)["structured"]["rows"][0]["n"], 300);
    let peak = server.peak_mb();
    eprintln!("mcp memory: peak RSS {peak} MB");
    assert!(peak < MAX_PEAK_MB, "peak RSS {peak} MB");
}

#[test]
fn query_refuses_a_bomb_naming_its_flag() {
    let out = jobsql_env(
        &[
            "query",
            "--memory-limit-mb",
            "64",
            "SELECT length(repeat('x', 1000000000))",
        ],
        &[
            ("DATABRICKS_HOST", "http://127.0.0.1:9"),
            ("DATABRICKS_TOKEN", "dapi-x"),
        ],
    );
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("repeat") && err.contains("64 MB") && err.contains("--memory-limit-mb"),
        "{err}"
    );
    let zero = jobsql_env(&["query", "--memory-limit-mb", "0", "SELECT 1"], &[]);
    assert!(!zero.status.success());
    assert!(
        stderr(&zero).contains("must be at least 1"),
        "{}",
        stderr(&zero)
    );
}
