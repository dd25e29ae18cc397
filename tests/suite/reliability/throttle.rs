//! Throttling: a workspace that answers 429 above a concurrency threshold gets fewer requests
//! at once (AIMD in the client), and every caller's result is still complete — the client
//! directly, SELECT fan-out and INSERT fan-out through a throttling proxy to the emulator.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jobsql_core::client::{ApiClient, ApiRequest, ClientConfig, RetryPolicy};
use jobsql_emulator::EmulatorConfig;

use super::common::*;

/// Patient retries (many attempts, no waiting): throttling must be absorbed, not surfaced.
fn patient(max_concurrency: usize) -> ApiClient {
    client(ClientConfig {
        retry: RetryPolicy {
            max_attempts: 100,
            max_total: Duration::from_secs(60),
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        },
        max_concurrency,
        ..ClientConfig::default()
    })
}

const THRESHOLD: usize = 3;

/// 429 (Retry-After: 0) when more than THRESHOLD requests are in flight, else the request's
/// own path back after 20 ms.
fn throttling(seen: &Seen, _: usize) -> Reply {
    if seen.in_flight > THRESHOLD {
        Reply::json(
            429,
            r#"{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}"#,
        )
        .retry_after("0")
        .after(Duration::from_millis(5))
    } else {
        Reply::json(200, format!("{{\"uri\":\"{}\"}}", seen.uri)).after(Duration::from_millis(20))
    }
}

#[tokio::test]
async fn concurrency_backs_off_after_429s_and_every_call_completes() {
    let stub = Stub::start(throttling).await;
    let ws = stub.workspace("w");
    let client = patient(16);
    let calls = (0..128).map(|i| {
        let (client, ws) = (client.clone(), ws.clone());
        tokio::spawn(async move {
            let req = ApiRequest::get("/api/x", vec![("i".into(), i.to_string())]);
            client.send(&ws, &req).await
        })
    });
    let results = futures::future::join_all(calls).await;
    for (i, r) in results.into_iter().enumerate() {
        let body = r.expect("joined").expect("every call completes");
        assert_eq!(
            String::from_utf8_lossy(&body),
            format!("{{\"uri\":\"/api/x?i={i}\"}}")
        );
    }
    let seen = stub.seen();
    let throttled = seen.iter().filter(|s| s.in_flight > THRESHOLD).count();
    assert!(throttled > 0, "the stub throttled");
    assert_eq!(seen.len() - throttled, 128, "one success per call");
    // Once the 429s came back, no more than the threshold plus the one-at-a-time probing of
    // additive increase (the server's count never exceeds the client's).
    let later: Vec<usize> = seen[seen.len() / 2..].iter().map(|s| s.in_flight).collect();
    assert!(
        later.iter().all(|&n| n <= 2 * THRESHOLD),
        "in flight in the second half: {later:?}"
    );
    assert!(client.concurrency_limit(&ws) <= 2 * THRESHOLD);
    // A client that did not back off would be refused far more often than served.
    assert!(throttled < 128, "{throttled} refusals for 128 calls");
}

/// A proxy to `target` that answers 429 when more than THRESHOLD requests are in flight, and
/// holds each forwarded request 10 ms so that they overlap.
async fn throttling_proxy(target: String) -> (Stub, Arc<AtomicUsize>) {
    let refused = Arc::new(AtomicUsize::new(0));
    let count = refused.clone();
    let http = reqwest::Client::new();
    let stub = Stub::start_async(move |seen, _| {
        let (count, http, target) = (count.clone(), http.clone(), target.clone());
        Box::pin(async move {
            if seen.in_flight > THRESHOLD {
                count.fetch_add(1, Ordering::SeqCst);
                return Reply::json(
                    429,
                    r#"{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}"#,
                )
                .retry_after("0");
            }
            let url = format!("{target}{}", seen.uri);
            let mut req = http.request(seen.method.parse().expect("method"), url);
            if let Some(auth) = seen.auth {
                req = req.header("authorization", auth);
            }
            if !seen.body.is_empty() {
                req = req
                    .header("content-type", "application/json")
                    .body(seen.body);
            }
            let r = req.send().await.expect("emulator answers");
            let status = r.status().as_u16();
            let body = r.bytes().await.expect("body").to_vec();
            tokio::time::sleep(Duration::from_millis(10)).await;
            Reply::json(status, body)
        })
    })
    .await;
    (stub, refused)
}

#[tokio::test]
async fn select_fan_out_through_a_throttling_proxy_is_complete() {
    let emu = emulator(EmulatorConfig {
        runs: 200,
        jobs: 6,
        seed: 5,
        ..EmulatorConfig::default()
    })
    .await;
    let direct = session(runtime(fast(3), &[emu_workspace("emu", &emu)]));
    let ids = ints(
        &rows(
            &direct,
            &format!("SELECT run_id FROM {RUNS} ORDER BY run_id LIMIT 24"),
        )
        .await,
        0,
    );
    assert_eq!(ids.len(), 24);
    let list = ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT run_id, job_id, run_name FROM {RUNS} WHERE run_id IN ({list}) ORDER BY run_id"
    );
    let want = rows(&direct, &sql).await;
    let (proxy, refused) = throttling_proxy(emu.base_url()).await;
    let ws = jobsql_core::workspace::Workspace::new("emu", &proxy.base, emu.token()).expect("ws");
    let client = patient(16);
    let ctx = session(runtime(client.clone(), std::slice::from_ref(&ws)));
    emu.clear_requests();
    let got = rows(&ctx, &sql).await;
    assert_eq!(ints(&got, 0), ids);
    assert_eq!(ints(&got, 1), ints(&want, 1));
    let gets = emu
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("runs/get") && !r.query.iter().any(|(k, _)| k == "page_token"))
        .count();
    assert_eq!(
        gets, 24,
        "each run fetched once: the refused ones never reached it"
    );
    assert!(refused.load(Ordering::SeqCst) > 0, "the proxy throttled");
    assert!(client.concurrency_limit(&ws) < 16, "the limit came down");
}

#[tokio::test]
async fn insert_fan_out_through_a_throttling_proxy_creates_each_run_once() {
    let emu = emulator(EmulatorConfig {
        runs: 20,
        jobs: 3,
        ..EmulatorConfig::default()
    })
    .await;
    let (proxy, refused) = throttling_proxy(emu.base_url()).await;
    let ws = jobsql_core::workspace::Workspace::new("emu", &proxy.base, emu.token()).expect("ws");
    let ctx = session(runtime(patient(16), &[ws]));
    let values: Vec<String> = (0..16)
        .map(|i| format!("('throttled-{i}', '[{{\"task_key\": \"t\", \"notebook_task\": {{\"notebook_path\": \"/n\"}}}}]')"))
        .collect();
    let sql = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES {} RETURNING run_id",
        values.join(", ")
    );
    let mut ids = ints(&rows(&ctx, &sql).await, 0);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16, "16 distinct runs");
    let submits = emu
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("runs/submit"))
        .count();
    assert_eq!(submits, 16, "no submit reached the workspace twice");
    assert!(refused.load(Ordering::SeqCst) > 0, "the proxy throttled");
}
