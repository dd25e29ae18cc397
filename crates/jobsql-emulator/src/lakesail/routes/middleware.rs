//! The layer every LakeSail request goes through, in order: buffer the body (so it can be
//! recorded), add the configured latency, inject a fault (429 with `Retry-After: 1`, or 503)
//! with probability `fault_rate` from a deterministic per-request generator, check the bearer
//! token (401 `{"message"}` when it is missing or wrong), run the handler, lose its response
//! if an after-commit fault is armed for the path (the shared `shared::wire` over the
//! generic `state::faults`), then record the request (method, path, query, JSON body, whether an
//! `Authorization` header came, status) in memory (the latest `record_limit`) and, when
//! configured, as one JSON line in the request log. The token is never recorded.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::lakesail::domain::errors::ApiError;
use crate::lakesail::domain::paging::pairs;
use crate::lakesail::state::app::{App, RecordedRequest};
use crate::lakesail::state::rng::mix;
use crate::shared::wire::{self, answered, bearer, roll, RandomFault};

/// Largest request body accepted.
const MAX_BODY: usize = 10 * 1024 * 1024;

fn auth_error(app: &App, header: Option<&str>) -> Option<ApiError> {
    match bearer(header) {
        Some(t) if t == app.token => None,
        Some(_) => Some(ApiError::unauthorized("invalid bearer token")),
        None => Some(ApiError::unauthorized(
            "missing credentials: send Authorization: Bearer <token>",
        )),
    }
}

fn fault(app: &App, n: u64) -> Option<ApiError> {
    roll(app.seed, n, app.fault_rate, mix).map(|f| match f {
        RandomFault::RateLimited => ApiError::rate_limited(1),
        RandomFault::Unavailable => ApiError::unavailable(),
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
    app.record.push(record, |record| {
        serde_json::json!({
            "ts_ms": app.now(),
            "method": record.method,
            "path": record.path,
            "query": record.query,
            "body": record.body,
            "authorization": record.authorization,
            "status": record.status,
            "duration_ms": started.elapsed().as_secs_f64() * 1000.0,
        })
    });
    response
}

/// The response to send for a processed request to `path`: the real one, or its loss.
fn after_commit(app: &App, path: &str, response: Response) -> (Response, u16) {
    wire::after_commit(&app.faults, path, response, || {
        ApiError::unavailable().into_response()
    })
}
