//! The HTTP client every table shares: one `reqwest` client (one connection pool) per process,
//! Bearer-token auth per [`Workspace`], basic retries, and errors that name the workspace,
//! method and path but never the token.
//!
//! An [`ApiRequest`] (method, percent-encoded path, query pairs, JSON body) is sent to a
//! workspace by [`ApiClient::send`], which returns the body of a 2xx response as bytes (the
//! provider decodes them straight into Arrow). The URL is the workspace's base URL (any base
//! path kept) followed by the request's path; query values are encoded by reqwest.
//!
//! # Retries (basic; a later issue hardens them)
//! * **GET** (and other idempotent methods) are retried on HTTP 429 and 503 and on transport
//!   errors (connection refused or reset, timeouts, a body cut short).
//! * **POST** is retried only on 429 and 503 responses — the API refused the call without doing
//!   it — and never after a transport error, where the call may have been done (callers that
//!   need more add idempotency tokens).
//! * The wait honours `Retry-After` seconds (capped by [`RetryPolicy::max_delay`]), else
//!   exponential backoff with jitter; see [`RetryPolicy`] for the limits (attempts and total
//!   time). The last error is returned with the number of attempts made.
//!
//! A 2xx body that is not JSON (a proxy's login page) is an [`ApiError::InvalidResponse`]
//! quoting its start, not bytes for the decoder to choke on.
//!
//! Redirects are not followed: a workspace API does not redirect, and a redirect usually means a
//! wrong host or a login page in front of it, which the error then names. Connect timeout 10 s,
//! request timeout 60 s, user agent `jobsql/<version>`.

mod error;
mod request;
mod retry;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{ACCEPT, LOCATION, RETRY_AFTER};
use reqwest::StatusCode;
use url::Url;

pub use error::{ApiError, ClientError};
pub use request::ApiRequest;
pub use retry::RetryPolicy;

use crate::workspace::Workspace;
use error::{chain, check_success_body, parse_error_body, redact};
use retry::{parse_retry_after, Jitter};

/// The shared API client. Cloning is cheap and shares the connection pool.
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    policy: RetryPolicy,
    jitter: Jitter,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

/// One failed attempt, and whether it may be repeated.
struct Failure {
    error: ApiError,
    retry_after: Option<Duration>,
    retryable: bool,
}

impl ApiClient {
    /// A client with the given retry policy.
    pub fn new(policy: RetryPolicy) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("jobsql/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(ApiClient {
            inner: Arc::new(Inner {
                http,
                policy,
                jitter: Jitter::new(),
            }),
        })
    }

    /// The retry policy in force.
    pub fn policy(&self) -> &RetryPolicy {
        &self.inner.policy
    }

    /// Send `req` to `ws`, retrying as the module doc says; the body of the 2xx response.
    pub async fn send(&self, ws: &Workspace, req: &ApiRequest) -> Result<Bytes, ApiError> {
        let url = request_url(ws, req)?;
        let policy = &self.inner.policy;
        let start = Instant::now();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let failure = match self.attempt(ws, req, url.clone()).await {
                Ok(body) => return Ok(body),
                Err(f) => f,
            };
            let error = with_attempts(failure.error, attempts);
            if !failure.retryable {
                return Err(error);
            }
            let delay = policy.delay(attempts, failure.retry_after, self.inner.jitter.next_f64());
            if !policy.allows(attempts, start.elapsed(), delay) {
                return Err(error);
            }
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, ws: &Workspace, req: &ApiRequest, url: Url) -> Result<Bytes, Failure> {
        let token = ws.token();
        let path = || req.path_and_query();
        let transport = |context: &str, e: reqwest::Error| Failure {
            error: ApiError::Transport {
                message: redact(format!("{context}{}", chain(&e)), token),
                method: req.method.to_string(),
                path: path(),
                workspace: ws.name.clone(),
                attempts: 1,
            },
            retry_after: None,
            retryable: req.is_idempotent(),
        };
        let mut builder = self
            .inner
            .http
            .request(req.method.clone(), url)
            .bearer_auth(token)
            .header(ACCEPT, "application/json");
        if !req.query.is_empty() {
            builder = builder.query(&req.query);
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        let response = builder.send().await.map_err(|e| transport("", e))?;
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header(RETRY_AFTER).as_deref().and_then(parse_retry_after);
        let location = header(LOCATION);
        let body = response
            .bytes()
            .await
            .map_err(|e| transport("reading the response: ", e))?;
        if status.is_success() {
            return match check_success_body(&body) {
                None => Ok(body),
                Some(message) => Err(Failure {
                    error: ApiError::InvalidResponse {
                        status: status.as_u16(),
                        message: redact(message, token),
                        method: req.method.to_string(),
                        path: path(),
                        workspace: ws.name.clone(),
                    },
                    retry_after: None,
                    retryable: false,
                }),
            };
        }
        let (error_code, message) = parse_error_body(&body, status.as_u16(), location.as_deref());
        Err(Failure {
            error: ApiError::Http {
                status: status.as_u16(),
                error_code,
                message: redact(message, token),
                method: req.method.to_string(),
                path: path(),
                workspace: ws.name.clone(),
                attempts: 1,
            },
            retry_after,
            retryable: matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            ),
        })
    }
}

fn with_attempts(mut error: ApiError, n: u32) -> ApiError {
    if let ApiError::Http { attempts, .. } | ApiError::Transport { attempts, .. } = &mut error {
        *attempts = n;
    }
    error
}

/// The workspace's base URL (its base path kept) followed by the request's path.
fn request_url(ws: &Workspace, req: &ApiRequest) -> Result<Url, ApiError> {
    if !req.path.starts_with('/') {
        return Err(ApiError::InvalidRequest {
            message: "the path must start with '/'".into(),
            request: req.describe(),
        });
    }
    let mut url = ws.base_url().clone();
    let path = format!("{}{}", url.path().trim_end_matches('/'), req.path);
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_base_path_and_cannot_gain_a_query() {
        let ws = Workspace::new("w", "https://h.example.com/base/", "tok").expect("ws");
        let req = ApiRequest::get("/api/2.2/jobs/runs/get", vec![]);
        assert_eq!(
            request_url(&ws, &req).expect("url").as_str(),
            "https://h.example.com/base/api/2.2/jobs/runs/get"
        );
        let sneaky = ApiRequest::get("/api/x?y=1#z", vec![]);
        let url = request_url(&ws, &sneaky).expect("url");
        assert_eq!(url.query(), None);
        assert!(url.path().ends_with("/api/x%3Fy=1%23z"), "{url}");
        assert!(request_url(&ws, &ApiRequest::get("api", vec![])).is_err());
    }

    #[test]
    fn describe_encodes_query_and_shows_body() {
        let req = ApiRequest::get(
            "/api/2.2/jobs/runs/list",
            vec![("limit".into(), "25".into()), ("job_id".into(), "3".into())],
        );
        assert_eq!(
            req.describe(),
            "GET /api/2.2/jobs/runs/list?limit=25&job_id=3"
        );
        let amp = ApiRequest::get("/p", vec![("name".into(), "a&b c".into())]);
        assert_eq!(amp.describe(), "GET /p?name=a%26b+c");
        let post = ApiRequest::post("/api/2.2/jobs/run-now", serde_json::json!({"job_id": 1}));
        assert_eq!(
            post.describe(),
            r#"POST /api/2.2/jobs/run-now {"job_id":1}"#
        );
        assert!(!post.is_idempotent() && req.is_idempotent());
    }
}
