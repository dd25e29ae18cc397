//! One attempt of a request: send it, read the body (at most
//! [`ClientConfig::max_response_bytes`](super::ClientConfig::max_response_bytes)), and classify
//! the outcome — a body (with its `Link` header), or a [`Failure`] that says whether repeating
//! the request is allowed.
//!
//! Which failures may be repeated:
//! * HTTP 429, for every method: the API refused the call without doing it.
//! * HTTP 503 and transport errors (connection refused or reset, timeout, a body cut short)
//!   only for requests that are harmless to repeat ([`ApiRequest::is_idempotent`]): a 503 may
//!   come from a proxy or a server that did the work and lost the answer, and a request whose
//!   connection failed may have been done.
//! * nothing else: other 4xx/5xx, a success body that is not JSON, a body that is too large.
//!
//! Each failure also says whether the call [may have been done](Failure::may_be_done): not
//! after a 4xx (the API refused it) or a connection that could not be opened (nothing was
//! sent), possibly after anything else (a 5xx, a connection lost once the request was sent, a
//! timeout, a 2xx whose body could not be read).

use std::time::Duration;

use bytes::BytesMut;
use reqwest::header::{ACCEPT, LOCATION, RETRY_AFTER};
use reqwest::StatusCode;
use url::Url;

use super::auth::Credential;
use super::body::check_success_body;
use super::error::{chain, parse_error_body};
use super::reply::{links, Reply};
use super::retry::parse_retry_after;
use super::{ApiError, ApiRequest, ClientConfig};
use crate::redact::outgoing;
use crate::workspace::Workspace;

/// One failed attempt, and whether it may be repeated.
pub struct Failure {
    /// The error (with `attempts: 1`).
    pub error: ApiError,
    /// The server's `Retry-After`.
    pub retry_after: Option<Duration>,
    /// Whether another attempt is allowed.
    pub retryable: bool,
    /// Whether the request may have reached the server and been done.
    pub may_be_done: bool,
    /// Whether the connection could not be set up (refused, unreachable, DNS): retried at
    /// most [`MAX_CONNECT_ATTEMPTS`](super::MAX_CONNECT_ATTEMPTS) times in all.
    pub cannot_connect: bool,
}

impl Failure {
    /// Whether the workspace answered 429.
    pub fn throttled(&self) -> bool {
        self.error.status() == Some(StatusCode::TOO_MANY_REQUESTS.as_u16())
    }
}

/// Send `req` once to `url` and read the answer.
pub async fn attempt(
    http: &reqwest::Client,
    config: &ClientConfig,
    ws: &Workspace,
    req: &ApiRequest,
    url: Url,
    credential: &Credential,
) -> Result<Reply, Failure> {
    let transport = |e: reqwest::Error, reading: bool| Failure {
        error: ApiError::Transport {
            message: outgoing(&scheme_noted(
                describe_transport(&e, ws, config, reading),
                ws,
            )),
            method: req.method.to_string(),
            path: req.path_for_errors(),
            workspace: ws.name.clone(),
            attempts: 1,
        },
        retry_after: None,
        retryable: req.is_idempotent(),
        // A connection that could not be opened carried nothing; any other may have.
        may_be_done: !e.is_connect(),
        cannot_connect: e.is_connect(),
    };
    let invalid = |status: StatusCode, message: String| Failure {
        error: ApiError::InvalidResponse {
            status: status.as_u16(),
            message: outgoing(&message),
            method: req.method.to_string(),
            path: req.path_for_errors(),
            workspace: ws.name.clone(),
        },
        retry_after: None,
        retryable: false,
        may_be_done: !status.is_client_error(),
        cannot_connect: false,
    };
    let mut builder = credential
        .apply(http.request(req.method.clone(), url))
        .header(ACCEPT, "application/json");
    if !req.query.is_empty() {
        builder = builder.query(&req.query);
    }
    if let Some(body) = &req.body {
        builder = builder.json(body);
    }
    let mut response = builder.send().await.map_err(|e| transport(e, false))?;
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
    let link = links(response.headers());
    let max = config.max_response_bytes;
    let too_large = || format!("the response is larger than {max} bytes; narrow the query");
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(invalid(status, too_large()));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport(e, true))? {
        if body.len() + chunk.len() > max {
            return Err(invalid(status, too_large()));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    if status.is_success() {
        return match check_success_body(&body) {
            None => Ok(Reply { body, link }),
            Some(message) => Err(invalid(status, message)),
        };
    }
    let (error_code, message) =
        parse_error_body(&body, status.as_u16(), location.as_deref(), ws.errors());
    Err(Failure {
        error: ApiError::Http {
            status: status.as_u16(),
            error_code,
            message: outgoing(&message),
            method: req.method.to_string(),
            path: req.path_for_errors(),
            workspace: ws.name.clone(),
            attempts: 1,
        },
        retry_after,
        retryable: status == StatusCode::TOO_MANY_REQUESTS
            || (status == StatusCode::SERVICE_UNAVAILABLE && req.is_idempotent()),
        may_be_done: status.is_server_error(),
        cannot_connect: false,
    })
}

/// A transport error in words: what failed (connecting, waiting, reading) and the root cause.
fn describe_transport(
    e: &reqwest::Error,
    ws: &Workspace,
    config: &ClientConfig,
    reading: bool,
) -> String {
    let host = match (ws.base_url().host_str(), ws.base_url().port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => ws.base_url().to_string(),
    };
    let root = root_cause(e);
    if e.is_timeout() && e.is_connect() {
        format!(
            "cannot connect to {host}: no connection within {} s (--connect-timeout-secs)",
            secs(config.connect_timeout)
        )
    } else if e.is_timeout() {
        format!(
            "no complete response from {host} within {} s (--request-timeout-secs)",
            secs(config.request_timeout)
        )
    } else if e.is_connect() {
        format!("cannot connect to {host}: {root}")
    } else if reading || e.is_body() || e.is_decode() {
        format!("the response from {host} was cut short: {root}")
    } else {
        format!("no response from {host}: {}", chain(e))
    }
}

/// A transport error's text, with [`Workspace::scheme_note`] when `https://` was assumed.
fn scheme_noted(message: String, ws: &Workspace) -> String {
    match ws.scheme_note() {
        Some(note) => format!("{message} ({note})"),
        None => message,
    }
}

/// The innermost cause (e.g. "Connection refused (os error 111)").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}", d.as_secs())
    } else {
        format!("{s:.1}")
    }
}
