//! What is retried and what is not: statuses, `Retry-After`, the budget, transport faults
//! (reset, cut body, silence, refusal) for GETs, plain POSTs and retry-safe POSTs.

use std::time::Duration;

use jobsql_core::client::{ApiError, ApiRequest, ClientConfig, RetryPolicy};

use super::common::*;

const OK: &str = r#"{"ok":true}"#;
const SLOW_DOWN: &str = r#"{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}"#;
const BUSY: &str = r#"{"error_code":"TEMPORARILY_UNAVAILABLE","message":"try again"}"#;
const HTTP_OK: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}";

fn get() -> ApiRequest {
    ApiRequest::get("/api/x", vec![("a".into(), "1".into())])
}

fn post(retry_safe: bool) -> ApiRequest {
    let mut req = ApiRequest::post("/api/x", serde_json::json!({"run_id": 1}));
    req.retry_safe = retry_safe;
    req
}

/// Backoff alone would wait 100 s, beyond the 5 s budget: only `Retry-After` can make a retry.
fn patient_backoff() -> jobsql_core::client::ApiClient {
    client(ClientConfig {
        retry: RetryPolicy {
            max_attempts: 5,
            max_total: Duration::from_secs(5),
            base_delay: Duration::from_secs(100),
            max_delay: Duration::from_secs(100),
        },
        ..ClientConfig::default()
    })
}

#[tokio::test]
async fn a_429_is_retried_when_retry_after_fits_the_budget() {
    let stub = Stub::start(|_, n| match n {
        0 => Reply::json(429, SLOW_DOWN).retry_after("0"),
        _ => Reply::json(200, OK),
    })
    .await;
    let body = patient_backoff()
        .send(&stub.workspace("w"), &get())
        .await
        .expect("recovers");
    assert_eq!(&body[..], OK.as_bytes());
    let seen = stub.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].uri, seen[1].uri, "the same request again");
}

#[tokio::test]
async fn a_429_whose_wait_exceeds_the_budget_surfaces_at_once() {
    // No Retry-After: the backoff (100 s) exceeds the budget. Retry-After: 30 does too.
    for retry_after in [None, Some("30")] {
        let stub = Stub::start(move |_, _| {
            let reply = Reply::json(429, SLOW_DOWN);
            match retry_after {
                Some(s) => reply.retry_after(s),
                None => reply,
            }
        })
        .await;
        let e = patient_backoff()
            .send(&stub.workspace("w"), &get())
            .await
            .expect_err("gives up");
        assert_eq!(e.status(), Some(429));
        assert_eq!(e.error_code(), Some("REQUEST_LIMIT_EXCEEDED"));
        assert_eq!(e.attempts(), 1);
        assert_eq!(stub.seen().len(), 1, "{retry_after:?}");
    }
}

#[tokio::test]
async fn a_503_is_retried_with_the_same_request_until_it_succeeds() {
    let stub = Stub::start(|_, n| match n {
        0 | 1 => Reply::json(503, BUSY),
        _ => Reply::json(200, OK),
    })
    .await;
    fast(5)
        .send(&stub.workspace("w"), &get())
        .await
        .expect("recovers");
    let seen = stub.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.uri == "/api/x?a=1"), "{seen:?}");
}

#[tokio::test]
async fn other_4xx_and_5xx_are_not_retried() {
    for status in [400u16, 401, 403, 404, 409, 500, 502, 504] {
        let stub = Stub::fixed(status, r#"{"error_code":"SOME_CODE","message":"no"}"#).await;
        let e = fast(5)
            .send(&stub.workspace("w"), &get())
            .await
            .expect_err("fails");
        assert_eq!(e.status(), Some(status));
        assert_eq!(
            e.to_string(),
            format!("GET /api/x?a=1 on workspace 'w' failed: HTTP {status} SOME_CODE: no")
        );
        assert_eq!(stub.seen().len(), 1, "HTTP {status} is not retried");
    }
}

#[tokio::test]
async fn the_retry_budget_and_the_attempt_limit_bound_retries() {
    let stub = Stub::fixed(503, BUSY).await;
    let e = fast(4)
        .send(&stub.workspace("w"), &get())
        .await
        .expect_err("gives up");
    assert_eq!(
        e.to_string(),
        "GET /api/x?a=1 on workspace 'w' failed: HTTP 503 TEMPORARILY_UNAVAILABLE: try again (after 4 attempts)"
    );
    assert_eq!(stub.seen().len(), 4);
    let no_budget = client(ClientConfig {
        retry: RetryPolicy {
            max_total: Duration::ZERO,
            ..fast_policy(10)
        },
        ..ClientConfig::default()
    });
    let e = no_budget
        .send(&stub.workspace("w"), &get())
        .await
        .expect_err("no retry");
    assert_eq!(e.attempts(), 1);
    assert_eq!(stub.seen().len(), 5);
}

#[tokio::test]
async fn a_reset_connection_is_retried_for_get_and_retry_safe_post_only() {
    for (request, attempts) in [(get(), 2usize), (post(true), 2), (post(false), 1)] {
        let raw = RawServer::start(vec![Raw::Close, Raw::Write(HTTP_OK)]).await;
        let result = fast(3).send(&workspace("w", &raw.base), &request).await;
        assert_eq!(raw.requests(), attempts, "{}", request.describe());
        if attempts == 2 {
            assert_eq!(&result.expect("recovers")[..], OK.as_bytes());
        } else {
            let e = result.expect_err("a plain POST is not repeated");
            assert!(
                matches!(e, ApiError::Transport { attempts: 1, .. }),
                "{e:?}"
            );
            assert!(
                e.to_string()
                    .starts_with("POST /api/x on workspace 'w' failed: "),
                "{e}"
            );
        }
    }
}

#[tokio::test]
async fn a_silent_server_times_out_and_only_safe_requests_try_again() {
    let config = || ClientConfig {
        retry: fast_policy(3),
        request_timeout: Duration::from_millis(300),
        ..ClientConfig::default()
    };
    let raw = RawServer::start(vec![Raw::Silent]).await;
    let ws = workspace("w", &raw.base);
    let host = raw.base.trim_start_matches("http://").to_string();
    let e = client(config())
        .send(&ws, &get())
        .await
        .expect_err("times out");
    assert_eq!(
        e.to_string(),
        format!("GET /api/x?a=1 on workspace 'w' failed: no complete response from {host} within 0.3 s (--request-timeout-secs) (after 3 attempts)")
    );
    assert_eq!(raw.requests(), 3);
    let e = client(config())
        .send(&ws, &post(false))
        .await
        .expect_err("times out");
    assert_eq!(e.attempts(), 1);
    assert_eq!(raw.requests(), 4);
}

#[tokio::test]
async fn a_body_cut_short_is_retried_then_named() {
    let raw = RawServer::start(vec![Raw::Write(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"runs\":[{\"run_id\":1",
    )])
    .await;
    let e = fast(3)
        .send(&workspace("w", &raw.base), &get())
        .await
        .expect_err("cut short");
    let host = raw.base.trim_start_matches("http://");
    assert!(
        e.to_string().starts_with(&format!(
            "GET /api/x?a=1 on workspace 'w' failed: the response from {host} was cut short: "
        )) && e.to_string().ends_with("(after 3 attempts)"),
        "{e}"
    );
    assert_eq!(raw.requests(), 3);
}

#[tokio::test]
async fn a_refused_connection_names_the_host_and_workspace() {
    let base = closed_port();
    let e = fast(2)
        .send(&workspace("gone", &base), &get())
        .await
        .expect_err("refused");
    let host = base.trim_start_matches("http://");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "GET /api/x?a=1 on workspace 'gone' failed: cannot connect to {host}: "
        )) && text.to_lowercase().contains("refused")
            && text.ends_with("(after 2 attempts)"),
        "{text}"
    );
}
