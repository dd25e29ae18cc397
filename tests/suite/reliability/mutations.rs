//! Retries of mutations and what a failed one may have done: a POST without an idempotency
//! key is retried only on 429 (refused, not done) — never on 503 or after its connection was
//! lost — and its failure says whether the outcome is unknown (it may have been done).

use std::time::Duration;

use jobsql_core::client::{ApiRequest, ClientConfig, MutationFailure};

use super::common::*;

const OK: &str = r#"{"ok":true}"#;
const SLOW_DOWN: &str = r#"{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}"#;
const BUSY: &str = r#"{"error_code":"TEMPORARILY_UNAVAILABLE","message":"try again"}"#;
const NO: &str = r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"no"}"#;

/// The replies a stub gives in turn (status, body); the last repeats.
type Replies = Vec<(u16, &'static str)>;

fn post(retry_safe: bool) -> ApiRequest {
    let mut req = ApiRequest::post("/api/2.2/jobs/create", serde_json::json!({"name": "x"}));
    req.retry_safe = retry_safe;
    req
}

/// Send `req` to a stub answering `replies` in turn (the last repeats): the outcome and the
/// number of requests that reached the stub.
async fn send(replies: Replies, req: ApiRequest) -> (Result<(), MutationFailure>, usize) {
    let stub = Stub::start(move |_, n| {
        let (status, body) = replies[n.min(replies.len() - 1)];
        let reply = Reply::json(status, body);
        if status == 429 {
            reply.retry_after("0")
        } else {
            reply
        }
    })
    .await;
    let outcome = fast(4)
        .send_mutation(&stub.workspace("w"), &req)
        .await
        .map(|_| ());
    (outcome, stub.seen().len())
}

#[tokio::test]
async fn a_plain_post_is_retried_on_429_but_not_on_503() {
    let (outcome, requests) = send(vec![(429, SLOW_DOWN), (200, OK)], post(false)).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(requests, 2, "429 is a refusal: retried");

    let (outcome, requests) = send(vec![(503, BUSY), (200, OK)], post(false)).await;
    let failure = outcome.expect_err("not retried");
    assert_eq!(
        requests, 1,
        "a 503 may come after the work was done: not retried"
    );
    assert!(failure.outcome_unknown, "{failure}");
    assert_eq!(
        failure.error.to_string(),
        "POST /api/2.2/jobs/create on workspace 'w' failed: HTTP 503 TEMPORARILY_UNAVAILABLE: try again"
    );

    // With an idempotency key the same 503 is retried, as before.
    let (outcome, requests) = send(vec![(503, BUSY), (200, OK)], post(true)).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(requests, 2);
}

#[tokio::test]
async fn a_failure_says_whether_the_call_may_have_been_done() {
    // (replies, retry-safe, requests made, outcome unknown)
    let cases: Vec<(Replies, bool, usize, bool)> = vec![
        (vec![(400, NO)], false, 1, false),
        (vec![(404, NO)], true, 1, false),
        (vec![(429, SLOW_DOWN)], false, 4, false),
        (vec![(500, NO)], false, 1, true),
        (vec![(502, "<html>bad gateway</html>")], false, 1, true),
        (vec![(503, BUSY)], false, 1, true),
        (vec![(503, BUSY)], true, 4, true),
        // A retry's refusal settles it ("does not exist", "already ended"): known.
        (vec![(503, BUSY), (400, NO)], true, 2, false),
        // Done on the first attempt, then throttled: still unknown.
        (vec![(503, BUSY), (429, SLOW_DOWN)], true, 4, true),
    ];
    for (replies, safe, want_requests, want_unknown) in cases {
        let label = format!("{replies:?} retry_safe={safe}");
        let (outcome, requests) = send(replies, post(safe)).await;
        let failure = outcome.expect_err(&label);
        assert_eq!(requests, want_requests, "{label}");
        assert_eq!(failure.outcome_unknown, want_unknown, "{label}: {failure}");
    }
}

#[tokio::test]
async fn a_lost_connection_is_unknown_a_refused_one_is_not() {
    let raw = RawServer::start(vec![Raw::Close]).await;
    let failure = fast(3)
        .send_mutation(&workspace("w", &raw.base), &post(false))
        .await
        .expect_err("closed");
    assert_eq!(raw.requests(), 1);
    assert!(failure.outcome_unknown, "the request was sent: {failure}");

    let silent = RawServer::start(vec![Raw::Silent]).await;
    let failure = client(ClientConfig {
        retry: fast_policy(3),
        request_timeout: Duration::from_millis(200),
        ..ClientConfig::default()
    })
    .send_mutation(&workspace("w", &silent.base), &post(false))
    .await
    .expect_err("times out");
    assert_eq!(silent.requests(), 1);
    assert!(
        failure.outcome_unknown,
        "timed out after sending: {failure}"
    );

    let failure = fast(3)
        .send_mutation(&workspace("w", &closed_port()), &post(false))
        .await
        .expect_err("refused");
    assert!(
        !failure.outcome_unknown,
        "nothing was sent to a closed port: {failure}"
    );
}

#[tokio::test]
async fn a_submit_with_its_token_that_stays_unknown_says_re_running_with_the_token_is_safe() {
    let stub = Stub::start(|_, _| Reply::json(503, BUSY)).await;
    let ctx = session(runtime(fast(3), &[stub.workspace("w")]));
    let message = error(
        &ctx,
        &format!("INSERT INTO {RUNS} (data__run_name) VALUES ('x') RETURNING run_id"),
    )
    .await;
    let seen = stub.seen();
    assert_eq!(seen.len(), 3, "retried: it carries its token");
    let tokens: Vec<String> = seen
        .iter()
        .map(|s| {
            let body: serde_json::Value = serde_json::from_str(&s.body).expect("json");
            body["idempotency_token"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(tokens[0].starts_with("jobsql-") && tokens.iter().all(|t| t == &tokens[0]));
    assert!(
        message.contains(&format!(
            "row 1: UNKNOWN, may have been created: re-running the row with \
             data__idempotency_token = '{}' is safe",
            tokens[0]
        )),
        "{message}"
    );
    assert!(message.contains("(after 3 attempts)"), "{message}");
}

#[tokio::test]
async fn a_delete_that_stays_unknown_is_reported_unknown() {
    let stub = Stub::start(|_, _| Reply::json(503, BUSY)).await;
    let ctx = session(runtime(fast(2), &[stub.workspace("w")]));
    let message = error(&ctx, &format!("DELETE FROM {RUNS} WHERE run_id = 7")).await;
    assert_eq!(stub.seen().len(), 2, "a delete is idempotent: retried");
    assert!(
        message.contains("run_id 7: UNKNOWN, may have been deleted: re-running the DELETE is safe"),
        "{message}"
    );
}
