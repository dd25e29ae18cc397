//! The HTTP client every table shares: one `reqwest` client (one connection pool) per process,
//! each [`Workspace`]'s credentials on every attempt ([`auth`]: bearer, header and basic as
//! they are; OAuth 2 client credentials and token commands through token sources cached in
//! the client, fetched single-flight, a 401 with a cached token refreshing it and sending the
//! request once more), retries, adaptive concurrency per workspace, timeouts, and errors that
//! name the workspace, method and path but never a secret.
//!
//! An [`ApiRequest`] (method, percent-encoded path, query pairs, JSON body) is sent to a
//! workspace by [`ApiClient::send`], which returns the body of a 2xx response as bytes (the
//! provider decodes them straight into Arrow; [`ApiClient::send_page_by`] adds the `Link`
//! header, for listings that page by it). The URL is the workspace's base URL (any base
//! path kept) followed by the request's path; query values are encoded by reqwest. A path
//! with an empty, `.` or `..` segment is refused before sending: a value from SQL cannot climb
//! out of the path it was put in; so is a URL longer than [`MAX_URL_BYTES`], naming its longest
//! value. Error and log lines quote a request in at most
//! [`ERROR_QUOTE_BYTES`] bytes.
//!
//! # Retries
//! * **GET** (and other idempotent methods), and mutations marked
//!   [`retry_safe`](ApiRequest::retry_safe) (a submit carrying its idempotency token, cancel,
//!   delete), are retried on HTTP 429 and 503 and on transport errors (connection refused or
//!   reset, timeouts, a body cut short).
//! * Other **POST**s are retried only on 429 — the API refused the call without doing it —
//!   and never after a 503 or a transport error, where the call may have been done (a 503
//!   can be a proxy's or a server's that did the work and lost the answer).
//!   [`ApiClient::send_mutation`] says when a failed call's outcome is unknown.
//! * Nothing else is retried: other 4xx/5xx surface at once.
//! * The wait honours `Retry-After` seconds (capped by [`RetryPolicy::max_delay`]), else
//!   exponential backoff with jitter; no retry starts once the total budget
//!   ([`RetryPolicy::max_total`], `--retry-budget-secs`) would be exceeded. A connection that
//!   cannot be set up (refused, no route) is tried at most [`MAX_CONNECT_ATTEMPTS`] times. The
//!   last error is returned with the number of attempts made.
//! * [`ApiClient::send_by`] also stops at a [`Deadline`] (`--timeout`): the attempt in flight is
//!   abandoned there and no retry wait runs past it ([`ApiError::Deadline`]).
//!
//! # Throttling
//! Each attempt first takes a permit from its workspace's AIMD limiter ([`throttle`]): a 429
//! halves the number of attempts in flight to that workspace, a window of successes adds one
//! back, never more than [`ClientConfig::max_concurrency`]. Every caller (SELECT fan-out,
//! listings, INSERT / DELETE fan-out, EXEC) shares it.
//!
//! A 2xx body that is not JSON (a proxy's login page), nested deeper than
//! [`body::MAX_DEPTH`] levels, or larger than [`ClientConfig::max_response_bytes`], is an
//! [`ApiError::InvalidResponse`], not bytes for the decoder to choke on. Redirects are not followed: a workspace API does not redirect, and a
//! redirect usually means a wrong host or a login page in front of it, which the error then
//! names. User agent `jobsql/<version>`; timeouts from [`ClientConfig`].

mod attempt;
pub mod auth;
pub mod body;
mod config;
mod deadline;
mod error;
mod outcome;
mod reply;
mod request;
mod retry;
mod target;
pub mod throttle;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

pub use config::{ClientConfig, LogSink};
pub use deadline::Deadline;
pub use error::{ApiError, ClientError};
pub use outcome::MutationFailure;
pub use reply::Reply;
pub use request::{ApiRequest, ERROR_QUOTE_BYTES};
pub use retry::RetryPolicy;

use crate::workspace::Workspace;
use attempt::attempt;
use auth::Tokens;
use retry::Jitter;
use target::request_url;
use throttle::Throttle;

/// The shared API client. Cloning is cheap and shares the connection pool and the limiters.
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    jitter: Jitter,
    throttle: Throttle,
    tokens: Tokens,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client with the given retry policy and default settings otherwise.
    pub fn new(policy: RetryPolicy) -> Result<Self, ClientError> {
        Self::with_config(ClientConfig {
            retry: policy,
            ..ClientConfig::default()
        })
    }

    /// A client with the given settings.
    pub fn with_config(config: ClientConfig) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("jobsql/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(ApiClient {
            inner: Arc::new(Inner {
                http,
                throttle: Throttle::new(config.max_concurrency),
                config,
                jitter: Jitter::new(),
                tokens: Tokens::default(),
            }),
        })
    }

    /// The retry policy in force.
    pub fn policy(&self) -> &RetryPolicy {
        &self.inner.config.retry
    }

    /// The settings in force.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// How many attempts to `ws` may be in flight at once now (the AIMD limit).
    pub fn concurrency_limit(&self, ws: &Workspace) -> usize {
        self.inner.throttle.limiter(ws.base_url().as_str()).limit()
    }

    /// Send `req` to `ws`, retrying as the module doc says; the body of the 2xx response.
    pub async fn send(&self, ws: &Workspace, req: &ApiRequest) -> Result<Bytes, ApiError> {
        self.send_by(ws, req, None).await
    }

    /// [`send`](Self::send), stopping at `deadline` when there is one: the attempt in flight is
    /// abandoned there, and no retry wait runs past it.
    pub async fn send_by(
        &self,
        ws: &Workspace,
        req: &ApiRequest,
        deadline: Option<Deadline>,
    ) -> Result<Bytes, ApiError> {
        self.send_page_by(ws, req, deadline).await.map(|r| r.body)
    }

    /// [`send_by`](Self::send_by), with the response's `Link` header: a listing's page.
    pub async fn send_page_by(
        &self,
        ws: &Workspace,
        req: &ApiRequest,
        deadline: Option<Deadline>,
    ) -> Result<Reply, ApiError> {
        self.send_mutation_by(ws, req, deadline)
            .await
            .map_err(|f| f.error)
    }

    /// [`send`](Self::send), and on failure whether the call may have been done anyway
    /// ([`MutationFailure::outcome_unknown`]): what a write needs to report it truthfully.
    pub async fn send_mutation(
        &self,
        ws: &Workspace,
        req: &ApiRequest,
    ) -> Result<Bytes, MutationFailure> {
        self.send_mutation_by(ws, req, None).await.map(|r| r.body)
    }

    /// The one sending loop: [`send_mutation`](Self::send_mutation), stopping at `deadline`.
    async fn send_mutation_by(
        &self,
        ws: &Workspace,
        req: &ApiRequest,
        deadline: Option<Deadline>,
    ) -> Result<Reply, MutationFailure> {
        let url = request_url(ws, req).map_err(|error| MutationFailure {
            error,
            outcome_unknown: false,
        })?;
        let inner = &self.inner;
        let policy = &inner.config.retry;
        let limiter = inner.throttle.limiter(ws.base_url().as_str());
        let start = Instant::now();
        let mut attempts = 0u32;
        let mut may_have_been_done = false;
        let past = |attempts: u32, outcome_unknown: bool| MutationFailure {
            error: ApiError::Deadline {
                limit: deadline.map(|d| d.limit_text()).unwrap_or_default(),
                method: req.method.to_string(),
                path: req.path_for_errors(),
                workspace: ws.name.clone(),
                attempts,
            },
            outcome_unknown,
        };
        // A 401 on a request that used a cached token refreshes it and retries, once.
        let mut refreshed = false;
        loop {
            attempts += 1;
            let began = Instant::now();
            let log = |line: &str| self.log_line(line);
            let once = async {
                let lease = inner
                    .tokens
                    .lease(&inner.http, &inner.config, ws, &log)
                    .await?;
                let permit = limiter.acquire().await;
                let outcome = attempt(
                    &inner.http,
                    &inner.config,
                    ws,
                    req,
                    url.clone(),
                    &lease.credential,
                )
                .await;
                Ok::<_, ApiError>((permit, outcome, lease.source))
            };
            let done = match deadline {
                None => once.await,
                Some(d) => match tokio::time::timeout_at(d.at(), once).await {
                    Ok(done) => done,
                    Err(_) => {
                        // Abandoned in flight: a mutation may have been done.
                        let failure = past(attempts, !req.is_idempotent());
                        self.log(ws, req, attempts, began, failure.error.message());
                        return Err(failure);
                    }
                },
            };
            let (permit, outcome, source) = done.map_err(|error| {
                self.log(ws, req, attempts, began, error.message());
                MutationFailure {
                    error,
                    outcome_unknown: may_have_been_done,
                }
            })?;
            let failure = match outcome {
                Ok(reply) => {
                    permit.succeeded();
                    self.log(
                        ws,
                        req,
                        attempts,
                        began,
                        &format!("{} bytes", reply.body.len()),
                    );
                    return Ok(reply);
                }
                Err(f) => f,
            };
            if let (Some(401), Some((source, used)), false) =
                (failure.error.status(), &source, refreshed)
            {
                // Refused, so not done: the same request again with a new token.
                drop(permit);
                source.invalidate(used).await;
                refreshed = true;
                self.log(
                    ws,
                    req,
                    attempts,
                    began,
                    "HTTP 401: token refused; refreshing it",
                );
                continue;
            }
            may_have_been_done |= failure.may_be_done;
            if failure.throttled() {
                if let Some(limit) = permit.throttled() {
                    self.log_line(&format!(
                        "workspace '{}' answered 429: at most {limit} requests at once",
                        ws.name
                    ));
                }
            } else {
                drop(permit);
            }
            let error = with_attempts(failure.error, attempts);
            let delay = policy.delay(attempts, failure.retry_after, inner.jitter.next_f64());
            // A host that refuses connections gets one more try, not the whole budget.
            let connect_spent = failure.cannot_connect && attempts >= MAX_CONNECT_ATTEMPTS;
            let retry = failure.retryable
                && !connect_spent
                && policy.allows(attempts, start.elapsed(), delay);
            let what = match (&error, retry) {
                (e, true) => format!("{}; retrying in {}", e.message(), seconds(delay)),
                (e, false) => e.message().to_string(),
            };
            self.log(ws, req, attempts, began, &failed_line(&error, &what));
            if !retry {
                return Err(MutationFailure {
                    outcome_unknown: outcome::outcome_unknown(may_have_been_done, &error),
                    error,
                });
            }
            if deadline.is_some_and(|d| d.exceeded_by(delay)) {
                return Err(past(attempts, may_have_been_done));
            }
            tokio::time::sleep(delay).await;
        }
    }

    fn log(&self, ws: &Workspace, req: &ApiRequest, attempt: u32, began: Instant, what: &str) {
        if self.inner.config.log.is_some() {
            self.log_line(&format!(
                "{} {} @ {} (attempt {attempt}, {} ms): {what}",
                req.method,
                req.path_for_errors(),
                ws.name,
                began.elapsed().as_millis()
            ));
        }
    }

    fn log_line(&self, line: &str) {
        if let Some(sink) = &self.inner.config.log {
            sink.line(line);
        }
    }
}

fn failed_line(error: &ApiError, what: &str) -> String {
    match error.status() {
        Some(status) => format!("HTTP {status}: {what}"),
        None => what.to_string(),
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Attempts at most for a request whose connection cannot be set up (refused, no route, DNS):
/// the first and one retry, in case the refusal was a blip.
pub const MAX_CONNECT_ATTEMPTS: u32 = 2;

/// The longest URL sent (path and encoded query): 16 KiB, which web servers and proxies
/// accept (many refuse more) and which leaves room for the longest values the Jobs API takes
/// (a 4,096-byte name, percent-encoded). A longer one is an error before sending.
pub const MAX_URL_BYTES: usize = 16 * 1024;

fn with_attempts(mut error: ApiError, n: u32) -> ApiError {
    if let ApiError::Http { attempts, .. } | ApiError::Transport { attempts, .. } = &mut error {
        *attempts = n;
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

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
