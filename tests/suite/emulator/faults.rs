//! Lost responses: a mutation is processed, then its answer is replaced by a 503 or the
//! connection is closed, so the client's retry path meets what a real workspace does after a
//! lost response. Also the bounded request record.

use std::time::Duration;

use jobsql_core::client::{ApiClient, ApiError as ClientApiError, ApiRequest, RetryPolicy};
use jobsql_core::workspace::Workspace;
use jobsql_emulator::{AfterCommitFault, EmulatorConfig, LostResponse};
use serde_json::{json, Value};

use super::common::*;

const P: &str = "/api/2.2/jobs";

fn submit_body(name: &str, token: Option<&str>) -> Value {
    let mut body = json!({"run_name": name, "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/Shared/x"}, "existing_cluster_id": "0101-000000-abcdefgh"}]});
    if let Some(t) = token {
        body["idempotency_token"] = json!(t);
    }
    body
}

/// Runs named `name`, newest first.
async fn named(api: &Api, name: &str) -> Vec<i64> {
    let runs = walk(api, &[("run_type", "SUBMIT_RUN")]).await;
    ids(&runs
        .into_iter()
        .filter(|r| r["run_name"] == name)
        .collect::<Vec<_>>())
}

/// (path suffix, status) of every recorded request to a path ending with `suffix`.
fn statuses(h: &jobsql_emulator::EmulatorHandle, suffix: &str) -> Vec<u16> {
    h.requests()
        .iter()
        .filter(|r| r.path.ends_with(suffix))
        .map(|r| r.status)
        .collect()
}

fn quick_retries() -> ApiClient {
    ApiClient::new(RetryPolicy {
        max_attempts: 4,
        max_total: Duration::from_secs(10),
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    })
    .expect("client")
}

#[tokio::test]
async fn a_lost_submit_response_retried_with_its_token_makes_one_run() {
    let (h, _clock) = clocked(60_000).await;
    let api = Api::new(&h);
    h.fail_after_commit("runs/submit", 1);
    let url = format!("{P}/runs/submit");
    let (s, v) = api
        .post(&url, submit_body("lost_once", Some("tok-1")))
        .await;
    assert_error(s, &v, 503, "TEMPORARILY_UNAVAILABLE", "temporarily");
    let made = named(&api, "lost_once").await;
    assert_eq!(made.len(), 1, "the submit was processed: {made:?}");
    let again = api
        .post_ok(&url, submit_body("lost_once", Some("tok-1")))
        .await;
    assert_eq!(again["run_id"], made[0], "the retry names the same run");
    assert_eq!(named(&api, "lost_once").await, made, "still one run");
    assert_eq!(statuses(&h, "runs/submit"), [503, 200]);
    // The fault is used up: the next submit answers normally.
    api.post_ok(&url, submit_body("second", None)).await;
    assert_eq!(statuses(&h, "runs/submit"), [503, 200, 200]);
    h.shutdown().await;
}

#[tokio::test]
async fn a_retried_delete_whose_first_attempt_succeeded_gets_does_not_exist() {
    let (h, _clock) = clocked(60_000).await;
    let api = Api::new(&h);
    let done = api
        .ok(
            &format!("{P}/runs/list"),
            &[("completed_only", "true"), ("limit", "1")],
        )
        .await["runs"][0]["run_id"]
        .as_i64()
        .expect("a terminated run");
    h.fail_after_commit("runs/delete", 1);
    let url = format!("{P}/runs/delete");
    let (s, v) = api.post(&url, json!({"run_id": done})).await;
    assert_error(s, &v, 503, "TEMPORARILY_UNAVAILABLE", "temporarily");
    let (s, v) = api.post(&url, json!({"run_id": done})).await;
    assert_error(
        s,
        &v,
        400,
        "INVALID_PARAMETER_VALUE",
        &format!("Run {done} does not exist."),
    );
    let (s, v) = api
        .get(&format!("{P}/runs/get"), &[("run_id", &done.to_string())])
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "does not exist");
    assert_eq!(statuses(&h, "runs/delete"), [503, 400]);
    h.shutdown().await;
}

#[tokio::test]
async fn failed_requests_keep_their_error_and_do_not_use_up_the_fault() {
    let (h, _clock) = clocked(60_000).await;
    let api = Api::new(&h);
    h.fail_after_commit("/jobs/runs/submit", 2);
    let url = format!("{P}/runs/submit");
    let (s, v) = api.post(&url, json!({"run_name": "no tasks"})).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "task");
    // Other paths are not affected.
    api.ok(&format!("{P}/runs/list"), &[("limit", "1")]).await;
    for _ in 0..2 {
        let (s, _) = api.post(&url, submit_body("twice", None)).await;
        assert_eq!(s, 503);
    }
    api.post_ok(&url, submit_body("twice", None)).await;
    assert_eq!(
        named(&api, "twice").await.len(),
        3,
        "without a token every attempt is a new run"
    );
    assert_eq!(statuses(&h, "runs/submit"), [400, 503, 503, 200]);
    h.shutdown().await;
}

#[tokio::test]
async fn a_dropped_connection_after_commit_is_retried_only_when_safe() {
    let (h, _clock) = clocked(60_000).await;
    let client = quick_retries();
    let ws = Workspace::new("emu", &h.base_url(), h.token()).expect("workspace");
    let api = Api::new(&h);

    // Not retry-safe: the client gives up after the transport error, yet the run exists.
    h.drop_after_commit("runs/submit", 1);
    let unsafe_req = ApiRequest::post(format!("{P}/runs/submit"), submit_body("dropped", None));
    let err = client
        .send(&ws, &unsafe_req)
        .await
        .expect_err("the response was lost");
    assert!(
        matches!(err, ClientApiError::Transport { .. }),
        "a transport error: {err}"
    );
    assert!(!err.to_string().contains(h.token()));
    assert_eq!(named(&api, "dropped").await.len(), 1);

    // Retry-safe (it carries a token): the retry returns the run the lost attempt made.
    h.clear_requests();
    h.drop_after_commit("runs/submit", 1);
    let mut safe = ApiRequest::post(
        format!("{P}/runs/submit"),
        submit_body("dropped_safe", Some("tok-drop")),
    );
    safe.retry_safe = true;
    let body = client.send(&ws, &safe).await.expect("retried");
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        named(&api, "dropped_safe").await,
        [v["run_id"].as_i64().unwrap()]
    );
    assert_eq!(statuses(&h, "runs/submit"), [0, 200]);
    h.shutdown().await;
}

#[tokio::test]
async fn the_jobsql_client_retries_a_503_after_commit_into_the_same_run() {
    let (h, _clock) = clocked(60_000).await;
    let client = quick_retries();
    let ws = Workspace::new("emu", &h.base_url(), h.token()).expect("workspace");
    let api = Api::new(&h);
    h.fail_after_commit("runs/submit", 2);
    let mut req = ApiRequest::post(
        format!("{P}/runs/submit"),
        submit_body("client_retry", Some("tok-client")),
    );
    // It carries its token, so it is safe to repeat (a plain POST is not retried on a 503).
    req.retry_safe = true;
    let body = client.send(&ws, &req).await.expect("retried to success");
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        named(&api, "client_retry").await,
        [v["run_id"].as_i64().unwrap()]
    );
    assert_eq!(statuses(&h, "runs/submit"), [503, 503, 200]);
    h.shutdown().await;
}

#[tokio::test]
async fn faults_can_be_armed_in_the_config() {
    let h = emu_with(EmulatorConfig {
        runs: 50,
        jobs: 2,
        phase: Duration::from_secs(60),
        after_commit_faults: vec![
            "runs/cancel:2".parse().expect("spec"),
            AfterCommitFault {
                path_suffix: "runs/delete".into(),
                times: 1,
                mode: LostResponse::Dropped,
            },
        ],
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&h);
    let id = api
        .post_ok(&format!("{P}/runs/submit"), submit_body("cfg", None))
        .await["run_id"]
        .clone();
    for _ in 0..2 {
        let (s, _) = api
            .post(&format!("{P}/runs/cancel"), json!({"run_id": id}))
            .await;
        assert_eq!(s, 503);
    }
    assert_eq!(
        api.run(id.as_i64().unwrap()).await["state"]["result_state"],
        "CANCELED"
    );
    let lost = api
        .client
        .post(format!("{}{P}/runs/delete", api.base))
        .bearer_auth(&api.token)
        .json(&json!({"run_id": id}))
        .send()
        .await;
    assert!(lost.is_err(), "no response: {lost:?}");
    let (s, v) = api
        .post(&format!("{P}/runs/delete"), json!({"run_id": id}))
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "does not exist");
    assert_eq!(statuses(&h, "runs/cancel"), [503, 503]);
    assert_eq!(statuses(&h, "runs/delete"), [0, 400]);
    h.shutdown().await;
}

#[tokio::test]
async fn the_request_record_keeps_the_latest_record_limit() {
    let h = emu_with(EmulatorConfig {
        runs: 50,
        jobs: 2,
        record_limit: 3,
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&h);
    for n in 1..=5 {
        api.ok(&format!("{P}/runs/list"), &[("limit", &n.to_string())])
            .await;
    }
    let limits: Vec<_> = h
        .requests()
        .iter()
        .map(|r| r.param("limit").unwrap_or_default().to_string())
        .collect();
    assert_eq!(limits, ["3", "4", "5"]);
    h.shutdown().await;

    let none = emu_with(EmulatorConfig {
        runs: 50,
        jobs: 2,
        record_limit: 0,
        ..EmulatorConfig::default()
    })
    .await;
    Api::new(&none).ok(&format!("{P}/runs/list"), &[]).await;
    assert!(none.requests().is_empty());
    none.shutdown().await;
}
