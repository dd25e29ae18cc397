//! The client against the emulator, used as a real workspace would be: paging through every run
//! while 30% of requests are throttled or refused, and the errors a wrong token or a missing run
//! give.

use std::time::Duration;

use jobsql_core::client::{ApiClient, ApiRequest, RetryPolicy};
use jobsql_core::workspace::Workspace;
use jobsql_emulator::{start_local, EmulatorConfig, EmulatorHandle};
use serde_json::Value;

/// A fixed clock, so two emulators with the same seed hold the same history.
const NOW_MS: i64 = 1_764_000_000_000;

async fn emulator(fault_rate: f64) -> EmulatorHandle {
    start_local(EmulatorConfig {
        fault_rate,
        runs: 400,
        jobs: 6,
        now_ms: Some(NOW_MS),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

fn workspace(emu: &EmulatorHandle, token: &str) -> Workspace {
    Workspace::new("emu", &emu.base_url(), token).expect("workspace")
}

/// Every run id of `runs/list`, page by page, and the number of pages.
async fn list_all(client: &ApiClient, ws: &Workspace) -> (Vec<i64>, usize) {
    let (mut ids, mut pages, mut token) = (Vec::new(), 0, None::<String>);
    loop {
        let mut query = vec![("limit".to_string(), "25".to_string())];
        if let Some(t) = &token {
            query.push(("page_token".to_string(), t.clone()));
        }
        let body = client
            .send(ws, &ApiRequest::get("/api/2.2/jobs/runs/list", query))
            .await
            .unwrap_or_else(|e| panic!("page {pages}: {e}"));
        let page: Value = serde_json::from_slice(&body).expect("JSON page");
        pages += 1;
        for run in page["runs"].as_array().into_iter().flatten() {
            ids.push(run["run_id"].as_i64().expect("run_id"));
        }
        token = page["next_page_token"].as_str().map(str::to_string);
        if token.is_none() {
            return (ids, pages);
        }
    }
}

#[tokio::test]
async fn retries_recover_every_page_at_fault_rate_0_3() {
    let faulty = emulator(0.3).await;
    let clean = emulator(0.0).await;
    let client = ApiClient::new(RetryPolicy {
        max_attempts: 10,
        max_total: Duration::from_secs(30),
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    })
    .expect("client");
    let (expected, clean_pages) = list_all(&client, &workspace(&clean, clean.token())).await;
    let (got, pages) = list_all(&client, &workspace(&faulty, faulty.token())).await;
    assert_eq!(expected.len(), 400);
    assert_eq!(got, expected, "every run, in order, none twice");
    assert_eq!(pages, clean_pages);

    let statuses: Vec<u16> = faulty.requests().iter().map(|r| r.status).collect();
    let faults = statuses.iter().filter(|s| matches!(s, 429 | 503)).count();
    assert!(faults > 0, "the emulator injected faults: {statuses:?}");
    assert_eq!(
        statuses.len(),
        pages + faults,
        "one retry per fault, nothing else"
    );
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 429 | 503)),
        "{statuses:?}"
    );
    faulty.shutdown().await;
    clean.shutdown().await;
}

#[tokio::test]
async fn a_wrong_token_is_a_401_with_its_code_and_without_the_token() {
    let emu = emulator(0.0).await;
    let wrong = "dapi-not-the-right-token-123";
    let client = ApiClient::new(RetryPolicy::default()).expect("client");
    let req = ApiRequest::get(
        "/api/2.2/jobs/runs/list",
        vec![("limit".into(), "1".into())],
    );
    let e = client
        .send(&workspace(&emu, wrong), &req)
        .await
        .expect_err("401");
    assert_eq!(e.status(), Some(401));
    assert_eq!(e.error_code(), Some("UNAUTHENTICATED"));
    let text = e.to_string();
    assert!(
        text.contains("GET /api/2.2/jobs/runs/list?limit=1") && text.contains("'emu'"),
        "{text}"
    );
    for shown in [text, format!("{e:?}")] {
        assert!(
            !shown.contains(wrong) && !shown.contains(emu.token()),
            "{shown}"
        );
    }
    assert_eq!(emu.requests().len(), 1, "a 401 is not retried");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_missing_run_keeps_the_api_code_and_message() {
    let emu = emulator(0.0).await;
    let client = ApiClient::new(RetryPolicy::default()).expect("client");
    let req = ApiRequest::get(
        "/api/2.2/jobs/runs/get",
        vec![("run_id".into(), "1".into())],
    );
    let e = client
        .send(&workspace(&emu, emu.token()), &req)
        .await
        .expect_err("no run 1");
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.error_code(), Some("INVALID_PARAMETER_VALUE"));
    assert_eq!(e.message(), "Run 1 does not exist.");
    emu.shutdown().await;
}
