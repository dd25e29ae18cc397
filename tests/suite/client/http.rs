//! The client against a scripted stub server on 127.0.0.1:0 (the suite's [`Stub`]): auth
//! header, URL building, error bodies, and which failures are retried.

use std::collections::HashMap;
use std::time::Duration;

use jobsql_core::client::{ApiClient, ApiError, ApiRequest, RetryPolicy};
use jobsql_core::workspace::Workspace;

use crate::support::stub::{Reply, Seen, Stub};

pub const TOKEN: &str = "dapi-stub-secret-0001";

/// One scripted answer: status, `Retry-After`, body.
#[derive(Clone)]
struct Answer(u16, Option<&'static str>, &'static str);

/// The suite's stub ([`Stub`]) answering each path from a script: the i-th request to a path
/// gets its i-th answer (the last one repeats); a path not in the script is a 404.
struct Server(Stub);

/// `body` as axum sends a `&str`: `text/plain`, with `Retry-After` if given.
fn reply(status: u16, retry_after: Option<&str>, body: &str) -> Reply {
    let mut headers = vec![("content-type", "text/plain; charset=utf-8".to_string())];
    headers.extend(retry_after.map(|v| ("retry-after", v.to_string())));
    Reply {
        status,
        headers,
        body: body.as_bytes().to_vec(),
        delay: Duration::ZERO,
    }
}

impl Server {
    async fn start(script: &[(&str, Vec<Answer>)]) -> Server {
        let script: HashMap<String, Vec<Answer>> = script
            .iter()
            .map(|(p, a)| (p.to_string(), a.clone()))
            .collect();
        let stub = Stub::start(move |seen, n| {
            let path = seen.uri.split('?').next().unwrap_or_default();
            let Some(answers) = script.get(path) else {
                return reply(
                    404,
                    None,
                    r#"{"error_code":"ENDPOINT_NOT_FOUND","message":"no such endpoint"}"#,
                );
            };
            let Answer(status, retry_after, body) = answers[n.min(answers.len() - 1)].clone();
            reply(status, retry_after, body)
        })
        .await;
        Server(stub)
    }

    fn workspace(&self, base_path: &str) -> Workspace {
        Workspace::new("stub", &format!("{}{base_path}", self.0.base), TOKEN).expect("workspace")
    }

    fn seen(&self) -> Vec<Seen> {
        self.0.seen()
    }
}

/// Retries that take milliseconds, not seconds.
pub fn fast(max_attempts: u32) -> ApiClient {
    ApiClient::new(RetryPolicy {
        max_attempts,
        max_total: Duration::from_secs(5),
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(20),
    })
    .expect("client")
}

const OK: Answer = Answer(200, None, r#"{"ok":true}"#);
const BUSY: Answer = Answer(
    503,
    Some("0"),
    r#"{"error_code":"TEMPORARILY_UNAVAILABLE","message":"try again"}"#,
);
const THROTTLED_NOW: Answer = Answer(
    429,
    Some("0"),
    r#"{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}"#,
);
const THROTTLED: Answer = Answer(
    429,
    Some("1"),
    r#"{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}"#,
);

fn assert_no_token(e: &ApiError) {
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
    }
}

#[tokio::test]
async fn sends_the_bearer_token_keeps_the_base_path_and_encodes_the_query() {
    let server = Server::start(&[("/base/api/2.2/jobs/runs/list", vec![OK])]).await;
    let req = ApiRequest::get(
        "/api/2.2/jobs/runs/list",
        vec![
            ("limit".into(), "25".into()),
            ("name".into(), "a&b c/é".into()),
        ],
    );
    let body = fast(1)
        .send(&server.workspace("/base/"), &req)
        .await
        .expect("ok");
    assert_eq!(&body[..], br#"{"ok":true}"#);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(
        seen[0].auth.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        seen[0].uri,
        "/base/api/2.2/jobs/runs/list?limit=25&name=a%26b+c%2F%C3%A9"
    );
}

#[tokio::test]
async fn api_errors_keep_code_and_message_and_name_the_call() {
    let server = Server::start(&[(
        "/api/2.2/jobs/runs/get",
        vec![Answer(
            400,
            None,
            r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Run 7 does not exist."}"#,
        )],
    )])
    .await;
    let req = ApiRequest::get(
        "/api/2.2/jobs/runs/get",
        vec![("run_id".into(), "7".into())],
    );
    let e = fast(5)
        .send(&server.workspace(""), &req)
        .await
        .expect_err("400");
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.error_code(), Some("INVALID_PARAMETER_VALUE"));
    assert_eq!(e.message(), "Run 7 does not exist.");
    assert_eq!(
        e.to_string(),
        "GET /api/2.2/jobs/runs/get?run_id=7 on workspace 'stub' failed: HTTP 400 INVALID_PARAMETER_VALUE: Run 7 does not exist."
    );
    assert_eq!(server.seen().len(), 1, "a 400 is not retried");
    assert_no_token(&e);
}

#[tokio::test]
async fn html_from_a_proxy_is_quoted_not_parsed() {
    let html = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center></body></html>";
    let server = Server::start(&[("/api/x", vec![Answer(502, None, html)])]).await;
    let e = fast(5)
        .send(&server.workspace(""), &ApiRequest::get("/api/x", vec![]))
        .await
        .expect_err("502");
    let text = e.to_string();
    assert_eq!(e.status(), Some(502));
    assert!(
        text.contains("GET /api/x")
            && text.contains("HTTP 502")
            && text.contains("<title>502 Bad Gateway</title>"),
        "{text}"
    );
    assert_eq!(server.seen().len(), 1, "a 502 is not retried");
}

#[tokio::test]
async fn a_login_page_with_status_200_is_an_invalid_response() {
    let server = Server::start(&[(
        "/api/x",
        vec![Answer(200, None, "<!DOCTYPE html><title>Sign in</title>")],
    )])
    .await;
    let e = fast(3)
        .send(&server.workspace(""), &ApiRequest::get("/api/x", vec![]))
        .await
        .expect_err("html");
    assert!(
        matches!(e, ApiError::InvalidResponse { status: 200, .. }),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("not JSON") && e.to_string().contains("Sign in"),
        "{e}"
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn get_is_retried_on_429_and_503_honouring_retry_after() {
    let server = Server::start(&[("/api/flaky", vec![BUSY, THROTTLED_NOW, BUSY, OK])]).await;
    // The backoff alone would wait 100 s, beyond the 30 s budget: only Retry-After (0 s) lets
    // these retries happen at all.
    let client = ApiClient::new(RetryPolicy {
        max_attempts: 5,
        max_total: Duration::from_secs(30),
        base_delay: Duration::from_secs(100),
        max_delay: Duration::from_secs(100),
    })
    .expect("client");
    let body = client
        .send(
            &server.workspace(""),
            &ApiRequest::get("/api/flaky", vec![]),
        )
        .await
        .expect("recovers");
    assert_eq!(&body[..], br#"{"ok":true}"#);
    assert_eq!(server.seen().len(), 4);
}

#[tokio::test]
async fn retries_stop_at_max_attempts_and_max_total() {
    let server = Server::start(&[("/api/busy", vec![THROTTLED])]).await;
    let ws = server.workspace("");
    let e = fast(3)
        .send(&ws, &ApiRequest::get("/api/busy", vec![]))
        .await
        .expect_err("gives up");
    assert_eq!(e.status(), Some(429));
    assert_eq!(e.error_code(), Some("REQUEST_LIMIT_EXCEEDED"));
    assert!(e.to_string().ends_with("(after 3 attempts)"), "{e}");
    assert_eq!(server.seen().len(), 3);

    let no_time = ApiClient::new(RetryPolicy {
        max_total: Duration::ZERO,
        ..RetryPolicy::default()
    })
    .expect("client");
    no_time
        .send(&ws, &ApiRequest::get("/api/busy", vec![]))
        .await
        .expect_err("no retry");
    assert_eq!(server.seen().len(), 4);
}

#[tokio::test]
async fn post_with_a_token_is_retried_on_503_with_the_same_body_a_plain_one_is_not() {
    let server = Server::start(&[("/api/2.2/jobs/run-now", vec![BUSY, BUSY, OK])]).await;
    let mut req = ApiRequest::post("/api/2.2/jobs/run-now", serde_json::json!({"job_id": 3}));
    // A plain POST answered 503 may have been done: it is not repeated.
    fast(5)
        .send(&server.workspace(""), &req)
        .await
        .expect_err("not retried");
    assert_eq!(server.seen().len(), 1);
    req.retry_safe = true;
    fast(5)
        .send(&server.workspace(""), &req)
        .await
        .expect("recovers");
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen
        .iter()
        .all(|s| s.method == "POST" && s.body == r#"{"job_id":3}"#));
}

#[tokio::test]
async fn transport_errors_retry_get_but_never_post() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let ws = Workspace::new("gone", &format!("http://{addr}"), TOKEN).expect("ws");
    let client = fast(3);
    let get = client
        .send(&ws, &ApiRequest::get("/api/x", vec![]))
        .await
        .expect_err("refused");
    // Retried, but a refused connection only once (at most 2 attempts).
    assert!(
        matches!(get, ApiError::Transport { attempts: 2, .. }),
        "{get:?}"
    );
    assert!(get.to_string().contains("on workspace 'gone'"), "{get}");
    assert_no_token(&get);
    let post = client
        .send(&ws, &ApiRequest::post("/api/x", serde_json::json!({})))
        .await
        .expect_err("refused");
    assert!(
        matches!(post, ApiError::Transport { attempts: 1, .. }),
        "{post:?}"
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = Server::start(&[("/api/x", vec![Answer(302, None, "")])]).await;
    let e = fast(3)
        .send(&server.workspace(""), &ApiRequest::get("/api/x", vec![]))
        .await
        .expect_err("302");
    assert_eq!(e.status(), Some(302));
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn one_client_is_shared_cheaply() {
    let server = Server::start(&[("/api/x", vec![OK])]).await;
    let client = fast(1);
    let ws = server.workspace("");
    let calls = (0..8).map(|_| {
        let (client, ws) = (client.clone(), ws.clone());
        tokio::spawn(async move { client.send(&ws, &ApiRequest::get("/api/x", vec![])).await })
    });
    for call in futures::future::join_all(calls).await {
        call.expect("joined").expect("ok");
    }
    assert_eq!(server.seen().len(), 8);
    assert!(format!("{client:?}").contains("max_attempts"));
}
