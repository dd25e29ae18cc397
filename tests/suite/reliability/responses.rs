//! Answers that are not the API's JSON, served to a table: each is a clear error naming the
//! table and the call, never a panic, and never a silent partial result.

use jobsql_core::client::ClientConfig;

use super::common::*;

/// The error of `SELECT <columns> FROM job_runs` against a stub answering runs/list with
/// `status` and `body`, and the number of requests made.
async fn select_error(status: u16, body: &'static [u8], columns: &str) -> (String, usize) {
    let stub = Stub::start(move |_, _| Reply::json(status, body.to_vec())).await;
    let ctx = session(runtime(fast(3), &[stub.workspace("w")]));
    let message = error(&ctx, &format!("SELECT {columns} FROM {RUNS}")).await;
    assert!(!message.contains(TOKEN), "{message}");
    (message, stub.seen().len())
}

const CALL: &str =
    "databricks_workspace.jobs.job_runs: GET /api/2.2/jobs/runs/list?limit=25 on workspace 'w'";

#[tokio::test]
async fn a_login_page_with_status_200_is_quoted() {
    let (message, requests) = select_error(
        200,
        b"<!DOCTYPE html>\n<html><title>Sign in - Okta</title></html>",
        "run_id",
    )
    .await;
    assert_eq!(
        message,
        format!("{CALL}: invalid response (HTTP 200): the response is not JSON: \"<!DOCTYPE html> <html><title>Sign in - Okta</title></html>\"")
    );
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_proxy_error_page_is_quoted_and_not_retried() {
    let (message, requests) = select_error(
        502,
        b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        "run_id",
    )
    .await;
    assert_eq!(
        message,
        format!("{CALL} failed: HTTP 502: the response is not the API's JSON error: \"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>\"")
    );
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_huge_error_body_is_quoted_in_200_characters() {
    static BODY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let body = BODY.get_or_init(|| "<p>oops</p>".repeat(200_000).into_bytes());
    let (message, _) = select_error(500, body, "run_id").await;
    assert!(
        message.starts_with(&format!(
            "{CALL} failed: HTTP 500: the response is not the API's JSON error: \"<p>oops</p>"
        )),
        "{message}"
    );
    assert!(
        message.ends_with("...\"") && message.len() < 450,
        "{}",
        message.len()
    );
}

#[tokio::test]
async fn a_page_larger_than_the_limit_is_refused_not_buffered() {
    static BODY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let body: &'static [u8] = BODY.get_or_init(|| {
        let run =
            r#"{"run_id":1,"job_id":2,"run_name":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},"#;
        format!("{{\"runs\":[{}{{\"run_id\":0}}]}}", run.repeat(30_000)).into_bytes()
    });
    let stub = Stub::start(move |_, _| Reply::json(200, body.to_vec())).await;
    let small = client(ClientConfig {
        max_response_bytes: 1024 * 1024,
        ..ClientConfig::default()
    });
    let ctx = session(runtime(small, &[stub.workspace("w")]));
    let message = error(&ctx, &format!("SELECT count(*) FROM {RUNS}")).await;
    assert_eq!(
        message,
        format!("{CALL}: invalid response (HTTP 200): the response is larger than 1048576 bytes; narrow the query")
    );
    assert_eq!(stub.seen().len(), 1);
}

#[tokio::test]
async fn json_cut_short_is_an_unexpected_response() {
    let (message, requests) =
        select_error(200, br#"{"runs":[{"run_id":1,"job_id":"#, "run_id").await;
    assert!(
        message.starts_with("databricks_workspace.jobs.job_runs: unexpected response"),
        "{message}"
    );
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn bodies_of_the_wrong_shape_are_unexpected_responses() {
    for body in [
        &b"null"[..],
        b"\"runs\"",
        b"[]",
        b"",
        b"   ",
        br#"{"runs":[1,2,3]}"#,
        br#"{"runs":[null]}"#,
        br#"{"runs":"all of them"}"#,
    ] {
        let (message, _) = select_error(200, body, "run_id, job_id").await;
        assert!(
            message.starts_with("databricks_workspace.jobs.job_runs:"),
            "{}: {message}",
            String::from_utf8_lossy(body)
        );
    }
}

#[tokio::test]
async fn values_of_the_wrong_type_name_the_column() {
    for (body, column) in [
        (&br#"{"runs":[{"run_id":"abc"}]}"#[..], "run_id"),
        (br#"{"runs":[{"run_id":1,"job_id":1e400}]}"#, "job_id"),
        (br#"{"runs":[{"run_id":1,"state":[1,2]}]}"#, "state"),
        (
            br#"{"runs":[{"run_id":1,"start_time":"yesterday"}]}"#,
            "start_time",
        ),
    ] {
        let (message, _) = select_error(200, body, "run_id, job_id, state, start_time").await;
        assert!(
            message.starts_with("databricks_workspace.jobs.job_runs:") && message.contains(column),
            "{}: {message}",
            String::from_utf8_lossy(body)
        );
    }
}

#[tokio::test]
async fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    static BODY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let body: &'static [u8] = BODY.get_or_init(|| {
        format!(
            "{{\"runs\":[{{\"run_id\":1,\"state\":{}{}}}]}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        )
        .into_bytes()
    });
    let (message, requests) = select_error(200, body, "run_id, state").await;
    assert_eq!(
        message,
        format!("{CALL}: invalid response (HTTP 200): the response nests arrays or objects more than 128 levels deep")
    );
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_page_that_keeps_failing_fails_the_query_naming_the_page() {
    // Page 1 arrives; page 2 fails every time: the query fails, it is not cut short silently.
    let stub = Stub::start(|seen, _| {
        if seen.uri.contains("page_token=") {
            Reply::json(500, r#"{"error_code":"INTERNAL_ERROR","message":"boom"}"#)
        } else {
            Reply::json(
                200,
                r#"{"runs":[{"run_id":1},{"run_id":2}],"next_page_token":"p2","has_more":true}"#,
            )
        }
    })
    .await;
    let ctx = session(runtime(fast(3), &[stub.workspace("w")]));
    let message = error(&ctx, &format!("SELECT run_id FROM {RUNS}")).await;
    assert_eq!(
        message,
        "databricks_workspace.jobs.job_runs: GET /api/2.2/jobs/runs/list?limit=25&page_token=p2 on workspace 'w' failed: HTTP 500 INTERNAL_ERROR: boom"
    );
    assert_eq!(stub.seen().len(), 2);
}
