//! Pagination and completion against servers that misbehave on purpose (small axum stubs), and
//! listed runs completed with runs/get on the emulator.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use datafusion::prelude::SessionContext;
use jobsql_core::client::{ApiClient, RetryPolicy};
use jobsql_core::provider::ApiRuntime;
use jobsql_core::session::{new_context, run_sql, user_message};
use jobsql_core::spec::load_embedded;
use jobsql_core::workspace::{Workspace, WorkspaceResolver};
use serde_json::{json, Value};
use tokio::sync::watch;

use super::common::*;

type Params = Query<HashMap<String, String>>;

/// Serve `app` on 127.0.0.1:0; a session whose default workspace it is.
pub async fn stub_session(app: Router) -> SessionContext {
    stub_session_with(app, jobsql_core::provider::DEFAULT_MAX_CONCURRENCY).await
}

/// The same, with at most `concurrency` requests in flight.
pub async fn stub_session_with(app: Router, concurrency: usize) -> SessionContext {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let resolver = WorkspaceResolver::from_parts(HashMap::new(), None, None).with_default(
        Workspace::new("stub", &format!("http://{addr}"), "stub-token").expect("workspace"),
    );
    let runtime = ApiRuntime::new(
        ApiClient::new(RetryPolicy::default()).expect("client"),
        resolver,
    )
    .with_max_concurrency(concurrency);
    new_context(&load_embedded().expect("specs"), Arc::new(runtime)).expect("session")
}

/// The error of `sql`, failing the test if it succeeds or runs for more than a minute (a
/// safety net for the loops these tests look for, not a timing assertion).
async fn error_of(ctx: &SessionContext, sql: &str) -> String {
    match tokio::time::timeout(Duration::from_secs(60), run_sql(ctx, sql)).await {
        Err(_) => panic!("{sql} did not end"),
        Ok(Ok(_)) => panic!("{sql} should fail"),
        Ok(Err(e)) => user_message(&e),
    }
}

fn does_not_exist(what: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error_code": "INVALID_PARAMETER_VALUE", "message": format!("{what} does not exist.")})),
    )
        .into_response()
}

/// Every query string received, in order.
#[derive(Default, Clone)]
struct Log(Arc<Mutex<Vec<HashMap<String, String>>>>);

impl Log {
    fn push(&self, q: &HashMap<String, String>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(q.clone());
    }
    fn take(&self) -> Vec<HashMap<String, String>> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// runs/list and runs/get, each by `job_id` / `run_id`:
/// 5 / 7: first page fine, the second says "does not exist"; 6 / 8: the first page says so;
/// 9 / 10: every page names the same next-page token.
fn misbehaving(log: Log) -> Router {
    let list = |State(log): State<Log>, Query(q): Params| async move {
        log.push(&q);
        let page = q.get("page_token").map(String::as_str);
        match (q.get("job_id").map(String::as_str), page) {
            (Some("5"), None) => {
                Json(json!({"runs": [{"run_id": 1, "job_id": 5}], "next_page_token": "p2"}))
                    .into_response()
            }
            (Some("5"), Some(_)) => does_not_exist("Job 5"),
            (Some("6"), _) => does_not_exist("Job 6"),
            _ => Json(json!({"runs": [{"run_id": 2, "job_id": 9}], "next_page_token": "same"}))
                .into_response(),
        }
    };
    let get_run = |State(log): State<Log>, Query(q): Params| async move {
        log.push(&q);
        let page = q.get("page_token").map(String::as_str);
        match (q.get("run_id").map(String::as_str), page) {
            (Some("7"), None) => {
                Json(json!({"run_id": 7, "tasks": [{"task_key": "a"}], "next_page_token": "t2"}))
                    .into_response()
            }
            (Some("7"), Some(_)) => does_not_exist("Run 7"),
            (Some("8"), _) => does_not_exist("Run 8"),
            _ => Json(
                json!({"run_id": 10, "tasks": [{"task_key": "a"}], "next_page_token": "again"}),
            )
            .into_response(),
        }
    };
    Router::new()
        .route("/api/2.2/jobs/runs/list", get(list))
        .route("/api/2.2/jobs/runs/get", get(get_run))
        .with_state(log)
}

#[tokio::test]
async fn does_not_exist_is_zero_rows_only_on_the_first_page() {
    let log = Log::default();
    let ctx = stub_session(misbehaving(log.clone())).await;
    // On the first page: the job or run does not exist, zero rows.
    for sql in [
        format!("SELECT run_id FROM {RUNS} WHERE job_id = 6"),
        format!("SELECT run_id FROM {RUNS} WHERE run_id = 8"),
    ] {
        assert_eq!(rows(&query(&ctx, &sql).await), 0, "{sql}");
    }
    log.take();
    // On a later page: the rows already listed would be an incomplete answer.
    let message = error_of(&ctx, &format!("SELECT run_id FROM {RUNS} WHERE job_id = 5")).await;
    assert!(message.contains("does not exist"), "{message}");
    let pages = log.take();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert_eq!(pages[1].get("page_token").map(String::as_str), Some("p2"));
    let message = error_of(
        &ctx,
        &format!("SELECT run_id, tasks FROM {RUNS} WHERE run_id = 7"),
    )
    .await;
    assert!(message.contains("does not exist"), "{message}");
    assert_eq!(log.take().len(), 2);
}

#[tokio::test]
async fn a_repeated_page_token_stops_with_an_error_instead_of_looping() {
    let log = Log::default();
    let ctx = stub_session(misbehaving(log.clone())).await;
    let message = error_of(&ctx, &format!("SELECT run_id FROM {RUNS} WHERE job_id = 9")).await;
    assert!(
        message.contains("next_page_token") && message.contains("already followed"),
        "{message}"
    );
    let pages = log.take();
    assert_eq!(pages.len(), 2, "the token is followed once: {pages:?}");
    let message = error_of(
        &ctx,
        &format!("SELECT run_id, tasks FROM {RUNS} WHERE run_id = 10"),
    )
    .await;
    assert!(message.contains("already followed"), "{message}");
    assert_eq!(log.take().len(), 2);
}

/// runs/list: `n` truncated runs in a scrambled order; runs/get answers each whole (run_id
/// tasks), but only once 8 are in flight at the same time (or after 20 s, as a safety net).
fn slow_gets(n: i64, peak: watch::Sender<usize>) -> Router {
    let order: Vec<i64> = (1..=n).map(|i| (i * 7) % n + 1).collect();
    let list = move || {
        let runs: Vec<Value> = order
            .iter()
            .map(|id| json!({"run_id": id, "has_more": true, "tasks": [{"task_key": "t0"}]}))
            .collect();
        async move { Json(json!({ "runs": runs })) }
    };
    let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let get_run = move |State(peak): State<watch::Sender<usize>>, Query(q): Params| {
        let in_flight = in_flight.clone();
        async move {
            use std::sync::atomic::Ordering::SeqCst;
            let now = in_flight.fetch_add(1, SeqCst) + 1;
            peak.send_modify(|p| *p = (*p).max(now));
            let mut rx = peak.subscribe();
            let _ = tokio::time::timeout(Duration::from_secs(20), rx.wait_for(|p| *p >= 8)).await;
            in_flight.fetch_sub(1, SeqCst);
            let id: i64 = q.get("run_id").and_then(|v| v.parse().ok()).unwrap_or(0);
            let tasks: Vec<Value> = (0..id)
                .map(|k| json!({"task_key": format!("t{k}")}))
                .collect();
            Json(json!({"run_id": id, "tasks": tasks}))
        }
    };
    Router::new()
        .route("/api/2.2/jobs/runs/list", get(list))
        .route("/api/2.2/jobs/runs/get", get(get_run))
        .with_state(peak)
}

#[tokio::test]
async fn truncated_runs_are_completed_eight_at_a_time_in_listed_order() {
    let (peak, watch) = watch::channel(0usize);
    let ctx = stub_session(slow_gets(12, peak)).await;
    let batches = query(
        &ctx,
        &format!("SELECT run_id, CAST(cardinality(tasks) AS BIGINT) FROM {RUNS}"),
    )
    .await;
    let listed: Vec<Option<i64>> = (1..=12i64).map(|i| Some((i * 7) % 12 + 1)).collect();
    assert_eq!(ints(&batches, 0), listed, "the listing's order");
    assert_eq!(
        ints(&batches, 1),
        listed,
        "each run completed by its own runs/get"
    );
    assert_eq!(
        *watch.borrow(),
        8,
        "runs/get calls in flight at once, at most"
    );
}

#[tokio::test]
async fn repair_history_through_runs_list_comes_from_runs_get_with_history() {
    let env = env(300).await;
    let notable = env.emulator.notable();
    let mut job = None;
    for run in &notable.repaired {
        let (b, _) = env
            .run(&format!("SELECT job_id FROM {RUNS} WHERE run_id = {run}"))
            .await;
        if let Some(j) = ints(&b, 0).first().copied().flatten() {
            job = Some(j);
            break;
        }
    }
    let job = job.expect("a repaired job run");
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id, CAST(cardinality(repair_history) AS BIGINT) FROM {RUNS} WHERE job_id = {job}"
        ))
        .await;
    let listed: Vec<i64> = ints(&batches, 0).into_iter().flatten().collect();
    let histories = ints(&batches, 1);
    assert!(
        histories.iter().all(|h| h.is_some_and(|h| h >= 1)),
        "{histories:?}"
    );
    assert!(
        histories.iter().any(|h| h.is_some_and(|h| h > 1)),
        "a repair is listed"
    );
    // Each run's history is what runs/get?include_history=true gives for it alone.
    for (run, history) in listed.iter().zip(&histories) {
        let (one, _) = env
            .run(&format!(
                "SELECT CAST(cardinality(repair_history) AS BIGINT) FROM {RUNS} WHERE run_id = {run}"
            ))
            .await;
        assert_eq!(ints(&one, 0), [*history], "run {run}");
    }
    let gets: BTreeSet<String> = to(&requests, "/runs/get")
        .iter()
        .filter(|r| r.param("page_token").is_none())
        .map(|r| {
            assert_eq!(r.param("include_history"), Some("true"));
            r.param("run_id").unwrap_or_default().to_string()
        })
        .collect();
    let want: BTreeSet<String> = listed.iter().map(|r| r.to_string()).collect();
    assert_eq!(gets, want, "one runs/get per listed run");
    assert_eq!(
        to(&requests, "/runs/get")
            .iter()
            .filter(|r| r.param("page_token").is_none())
            .count(),
        listed.len()
    );
    assert!(to(&requests, "/runs/list")
        .iter()
        .all(|r| r.param("include_history").is_none()
            && r.param("job_id") == Some(job.to_string().as_str())));
    // Not read: no runs/get.
    let (_, requests) = env
        .run(&format!("SELECT run_id FROM {RUNS} WHERE job_id = {job}"))
        .await;
    assert!(to(&requests, "/runs/get").is_empty());
}
