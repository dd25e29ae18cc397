//! The layer every LakeSail request goes through, in order: buffer the body (so it can be
//! recorded), add the configured latency, inject a fault (429 with `Retry-After: 1`, or 503)
//! with probability `fault_rate` from a deterministic per-request generator, check the bearer
//! token (401 `{"message"}` when it is missing or wrong), run the handler, lose its response
//! if an after-commit fault is armed for the path (the Databricks emulator's generic
//! `state::faults`), then record the request (method, path, query, JSON body, whether an
//! `Authorization` header came, status) in memory (the latest `record_limit`) and, when
//! configured, as one JSON line in the request log. The token is never recorded.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::emulator::lakesail::domain::errors::ApiError;
use crate::emulator::lakesail::domain::paging::pairs;
use crate::emulator::lakesail::state::app::{App, RecordedRequest};
use crate::emulator::lakesail::state::rng::mix;
use crate::emulator::state::faults::{self, LostResponse};

/// Largest request body accepted.
const MAX_BODY: usize = 10 * 1024 * 1024;

fn auth_error(app: &App, header: Option<&str>) -> Option<ApiError> {
    let token = header
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    match token {
        Some(t) if t == app.token => None,
        Some(_) => Some(ApiError::unauthorized("invalid bearer token")),
        None => Some(ApiError::unauthorized(
            "missing credentials: send Authorization: Bearer <token>",
        )),
    }
}

fn fault(app: &App, n: u64) -> Option<ApiError> {
    if app.fault_rate <= 0.0 {
        return None;
    }
    let r = mix(app.seed ^ mix(n ^ 0xfa17));
    let p = (r >> 11) as f64 / (1u64 << 53) as f64;
    (p < app.fault_rate).then(|| {
        if r & 1 == 0 {
            ApiError::rate_limited(1)
        } else {
            ApiError::unavailable()
        }
    })
}

/// The middleware (see the module doc).
pub(crate) async fn middleware(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query = pairs(parts.uri.query());
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::bad_request("the request body is too large or could not be read"));
    let json = bytes
        .as_ref()
        .ok()
        .filter(|b| !b.is_empty())
        .and_then(|b| serde_json::from_slice(b).ok());
    let n = app.counter.fetch_add(1, Ordering::Relaxed);
    if !app.latency.is_zero() {
        tokio::time::sleep(app.latency).await;
    }
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("").to_string());
    let authorization = header.is_some();
    let (response, status) = if let Some(e) = fault(&app, n) {
        answered(e.into_response())
    } else if let Some(e) = auth_error(&app, header.as_deref()) {
        answered(e.into_response())
    } else {
        match bytes {
            Ok(b) => {
                let r = next.run(Request::from_parts(parts, Body::from(b))).await;
                after_commit(&app, &path, r)
            }
            Err(e) => answered(e.into_response()),
        }
    };
    let record = RecordedRequest {
        method,
        path,
        query,
        body: json,
        authorization,
        status,
    };
    if let Some(log) = &app.log {
        let line = serde_json::json!({
            "ts_ms": app.now(),
            "method": record.method,
            "path": record.path,
            "query": record.query,
            "body": record.body,
            "authorization": record.authorization,
            "status": record.status,
            "duration_ms": started.elapsed().as_secs_f64() * 1000.0,
        });
        let mut w = log.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(w, "{line}");
        let _ = w.flush();
    }
    if app.record_limit > 0 {
        let mut requests = app.requests.lock().unwrap_or_else(|e| e.into_inner());
        while requests.len() >= app.record_limit {
            requests.pop_front();
        }
        requests.push_back(record);
    }
    response
}

fn answered(response: Response) -> (Response, u16) {
    let status = response.status().as_u16();
    (response, status)
}

/// A body that fails before yielding anything: the connection closes with no response.
fn dropped() -> Response {
    let failing = futures::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "response dropped by an injected fault",
        ))
    });
    Response::new(Body::from_stream(failing))
}

/// The response to send for a processed request to `path`: the real one, or its loss.
fn after_commit(app: &App, path: &str, response: Response) -> (Response, u16) {
    if !response.status().is_success() {
        return answered(response);
    }
    match faults::take(&app.faults, path) {
        None => answered(response),
        Some(LostResponse::Unavailable) => answered(ApiError::unavailable().into_response()),
        Some(LostResponse::Dropped) => (dropped(), 0),
    }
}
