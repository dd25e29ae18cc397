//! Bounded work: a server that never stops sending next-page tokens meets the page cap
//! (`--max-pages`), a slow or silent one the scan's deadline (`--timeout`); a refused connection
//! is tried twice, not for the whole retry budget; a value too long for a URL is refused before
//! anything is sent, and error lines stay short; EXPLAIN shows the requests made per listed row.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jobsql_core::client::{ApiClient, ApiRequest, ClientConfig, LogSink, RetryPolicy};
use jobsql_core::session::{run_sql, user_message};
use jobsql_emulator::EmulatorConfig;
use serde_json::json;

use super::common::*;

const ROOMS: &str = "databricks_workspace.cleanrooms.task_runs";
const JOBS: &str = "databricks_workspace.jobs.jobs";

/// The error of `sql`, failing the test if it succeeds or has not ended after a minute (a
/// safety net against the endless loops looked for, not a timing assertion).
async fn fails(ctx: &datafusion::prelude::SessionContext, sql: &str) -> String {
    match tokio::time::timeout(Duration::from_secs(60), run_sql(ctx, sql)).await {
        Err(_) => panic!("{sql} did not end"),
        Ok(Ok(_)) => panic!("{sql} should fail"),
        Ok(Err(e)) => user_message(&e),
    }
}

/// Pages that never end: every answer carries a new token.
async fn endless(delay: Duration) -> Stub {
    Stub::start(move |_, n| {
        let body = json!({
            "runs": [{"run_id": n + 1, "start_time": 1_700_000_000_000i64 - n as i64}],
            "settings": {"name": "j", "tasks": [{"task_key": format!("t{n}")}]},
            "job_id": 1,
            "next_page_token": format!("page-{}", n + 1),
        });
        Reply::json(200, body.to_string()).after(delay)
    })
    .await
}

#[tokio::test]
async fn a_listing_that_never_ends_stops_at_the_page_cap() {
    let stub = endless(Duration::ZERO).await;
    let rt = runtime(fast(1), &[stub.workspace("stub")])
        .with_max_concurrency(1)
        .with_max_pages(50);
    let ctx = session(rt);
    let e = fails(&ctx, &format!("SELECT run_id FROM {RUNS}")).await;
    assert!(
        e.starts_with(&format!(
            "{RUNS}: stopped after 50 pages of GET {LIST}?limit=25&page_token=page-49 (--max-pages 50)"
        )),
        "{e}"
    );
    assert_eq!(stub.seen().len(), 50);
}

/// The cap counts the listing, not each of its slices: a listing cut into 32 concurrent
/// slices, every page of which names a new next page, stops after 200 requests in all (each
/// slice used to get 200 of its own: thousands).
#[tokio::test]
async fn the_page_cap_counts_every_slice_of_a_listing() {
    let stub = Stub::start(|_, n| {
        // Two runs a page, a minute apart and older page by page: the listing is sliced.
        let newest = 1_700_000_000_000i64 - n as i64 * 120_000;
        let body = json!({
            "runs": [
                {"run_id": 2 * n + 1, "start_time": newest},
                {"run_id": 2 * n + 2, "start_time": newest - 60_000},
            ],
            "next_page_token": format!("page-{}", n + 1),
        });
        Reply::json(200, body.to_string())
    })
    .await;
    let rt = runtime(fast(1), &[stub.workspace("stub")]).with_max_pages(200);
    let ctx = session(rt);
    let e = fails(&ctx, &format!("SELECT run_id FROM {RUNS}")).await;
    assert!(
        e.contains("stopped after 200 pages of GET ") && e.contains("(--max-pages 200)"),
        "{e}"
    );
    let seen = stub.seen();
    let sliced = seen.iter().any(|s| s.uri.contains("start_time_to="));
    assert!(sliced, "the listing was cut into slices");
    assert!(
        seen.len() <= 200,
        "{} requests for --max-pages 200",
        seen.len()
    );
}

#[tokio::test]
async fn an_object_whose_pages_never_end_stops_at_the_page_cap() {
    let stub = endless(Duration::ZERO).await;
    let ctx = session(runtime(fast(1), &[stub.workspace("stub")]).with_max_pages(7));
    let e = fails(
        &ctx,
        &format!("SELECT settings FROM {JOBS} WHERE job_id = 1"),
    )
    .await;
    assert!(
        e.contains("stopped after 7 pages of GET /api/2.2/jobs/get?job_id=1&page_token=page-6 (--max-pages 7)"),
        "{e}"
    );
    assert_eq!(stub.seen().len(), 7);
}

#[tokio::test]
async fn the_deadline_stops_a_listing_that_goes_on_and_on() {
    let stub = endless(Duration::from_millis(100)).await;
    let rt = runtime(fast(1), &[stub.workspace("stub")])
        .with_max_concurrency(1)
        .with_timeout(Duration::from_secs(1));
    let ctx = session(rt);
    let started = Instant::now();
    let e = fails(&ctx, &format!("SELECT run_id FROM {RUNS}")).await;
    let took = started.elapsed();
    assert!(
        e.starts_with(&format!("{RUNS}: GET {LIST}?limit=25&page_token=page-"))
            && e.ends_with("on workspace 'stub' stopped: not done within --timeout 1 s"),
        "{e}"
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
        "{took:?}"
    );
    let n = stub.seen().len();
    assert!((2..=12).contains(&n), "about one page per 100 ms: {n}");
}

#[tokio::test]
async fn the_deadline_abandons_a_request_the_server_never_answers() {
    let stub = Stub::start(|_, _| Reply::json(200, "{}").after(Duration::from_secs(60))).await;
    let rt = runtime(fast(8), &[stub.workspace("stub")]).with_timeout(Duration::from_millis(500));
    let ctx = session(rt);
    let started = Instant::now();
    let e = fails(&ctx, &format!("SELECT run_id FROM {RUNS} WHERE run_id = 5")).await;
    assert!(
        e.ends_with("stopped: not done within --timeout 0.5 s"),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(stub.seen().len(), 1);
}

#[tokio::test]
async fn a_refused_connection_is_tried_twice_not_for_the_whole_budget() {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let client = ApiClient::with_config(ClientConfig {
        retry: RetryPolicy::default(),
        log: Some(LogSink::new(move |l| {
            sink.lock().expect("lock").push(l.to_string())
        })),
        ..ClientConfig::default()
    })
    .expect("client");
    let base = closed_port();
    let started = Instant::now();
    let e = client
        .send(&workspace("gone", &base), &ApiRequest::get(LIST, vec![]))
        .await
        .expect_err("refused");
    let text = e.to_string();
    assert!(
        text.to_lowercase().contains("refused") && text.ends_with("(after 2 attempts)"),
        "{text}"
    );
    assert_eq!(lines.lock().expect("lock").len(), 2, "one line per attempt");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_value_too_long_for_a_url_is_refused_before_sending() {
    // A raw server counts every request that reaches it, even one an HTTP server would refuse.
    let raw = RawServer::start(vec![Raw::Close]).await;
    let ctx = session(runtime(fast(8), &[workspace("raw", &raw.base)]));
    let huge = "x".repeat(1 << 20);
    let e = fails(
        &ctx,
        &format!("SELECT * FROM {ROOMS} WHERE clean_room_name = '{huge}'"),
    )
    .await;
    assert!(
        e.contains("the URL would be ")
            && e.contains(
                "bytes, more than the 16384 jobsql sends: a path segment is 1048576 bytes"
            ),
        "{}",
        &e[..e.len().min(400)]
    );
    assert!(e.len() < 1000, "a short error line: {} bytes", e.len());
    let e = fails(
        &ctx,
        &format!("SELECT * FROM {ROOMS} WHERE clean_room_name = 'r' AND notebook_name = '{huge}'"),
    )
    .await;
    assert!(
        e.contains("the value of `notebook_name` is 1048576 bytes"),
        "{}",
        &e[..e.len().min(400)]
    );
    assert!(e.len() < 1000, "{} bytes", e.len());
    assert_eq!(raw.requests(), 0, "nothing sent");
}

#[tokio::test]
async fn an_error_quotes_a_long_request_in_bounded_length() {
    let stub = Stub::fixed(
        500,
        r#"{"error_code": "INTERNAL_ERROR", "message": "boom"}"#,
    )
    .await;
    let ctx = session(runtime(fast(8), &[stub.workspace("stub")]));
    let long = "n".repeat(10_000);
    let e = fails(
        &ctx,
        &format!("SELECT * FROM {ROOMS} WHERE clean_room_name = 'r' AND notebook_name = '{long}'"),
    )
    .await;
    assert!(
        e.contains("GET /api/2.0/clean-rooms/r/runs?notebook_name=nnn"),
        "{e}"
    );
    assert!(
        e.contains("...") && e.ends_with("HTTP 500 INTERNAL_ERROR: boom"),
        "{e}"
    );
    assert!(e.len() < 600, "{} bytes: {e}", e.len());
    assert_eq!(stub.seen().len(), 1, "a 500 is not retried");
}

#[tokio::test]
async fn explain_states_the_requests_made_per_listed_run() {
    let emu = emulator(EmulatorConfig {
        runs: 50,
        ..EmulatorConfig::default()
    })
    .await;
    let ctx = session(runtime(fast(1), &[emu_workspace("emu", &emu)]));
    emu.clear_requests();
    let plan = |batches: Vec<datafusion::arrow::record_batch::RecordBatch>| {
        datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .expect("plan")
            .to_string()
    };
    let all = plan(rows(&ctx, &format!("EXPLAIN SELECT * FROM {RUNS}")).await);
    assert!(
        all.contains("then one GET /api/2.2/jobs/runs/get?run_id={run_id} per listed row with has_more = true (for tasks, job_clusters, job_parameters)")
            && all.contains("then one GET /api/2.2/jobs/runs/get?run_id={run_id}&include_history=true per listed row (for repair_history)"),
        "{all}"
    );
    let history = plan(
        rows(
            &ctx,
            &format!("EXPLAIN SELECT run_id, repair_history FROM {RUNS}"),
        )
        .await,
    );
    assert!(
        history.contains("include_history=true per listed row (for repair_history)"),
        "{history}"
    );
    assert!(!history.contains("has_more = true"), "{history}");
    let plain = plan(rows(&ctx, &format!("EXPLAIN SELECT run_id FROM {RUNS}")).await);
    assert!(!plain.contains("per listed row"), "{plain}");
    assert!(emu.requests().is_empty(), "EXPLAIN sends nothing");
    emu.shutdown().await;
}

/// `jobsql <args>` against `base`, with `stdin` piped in.
fn jobsql_at(base: &str, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_jobsql"))
        .args(args)
        .env("DATABRICKS_HOST", base)
        .env("DATABRICKS_TOKEN", TOKEN)
        .env_remove("DATABRICKS_CONFIG_PROFILE")
        .env("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("stdin");
    }
    child.wait_with_output().expect("output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_and_shell_fail_at_their_timeout_naming_it() {
    let stub = Stub::start(|_, _| Reply::json(200, "{}").after(Duration::from_secs(60))).await;
    let sql = format!("SELECT run_id FROM {RUNS}");
    for (args, stdin) in [
        (vec!["query", "--timeout", "1", sql.as_str()], String::new()),
        (vec!["shell", "--timeout", "1"], format!("{sql};\n")),
    ] {
        let base = stub.base.clone();
        let argv: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let started = Instant::now();
        let out = tokio::task::spawn_blocking(move || {
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            jobsql_at(&base, &argv, &stdin)
        })
        .await
        .expect("joined");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{RUNS}: GET {LIST}?limit=25 on workspace "))
                && stderr
                    .trim_end()
                    .ends_with("stopped: not done within --timeout 1 s"),
            "{args:?}: {stderr}"
        );
        assert!(started.elapsed() < Duration::from_secs(20), "{args:?}");
    }
    assert_eq!(
        stub.seen().len(),
        2,
        "one request each, abandoned at the deadline"
    );
}
