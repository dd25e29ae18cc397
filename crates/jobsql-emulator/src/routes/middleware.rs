//! The layer every request goes through, in order: buffer the body (so it can be recorded),
//! add the configured latency, inject a fault (429 `REQUEST_LIMIT_EXCEEDED` with
//! `Retry-After: 1`, or 503 `TEMPORARILY_UNAVAILABLE`) with probability `fault_rate` from a
//! deterministic per-request PRNG, check the bearer token (401 `UNAUTHENTICATED`: neither the configured token nor an OAuth
//! token issued and unexpired; the `/oidc/` endpoints are open), run the
//! handler, lose its response if an after-commit fault is armed for the path (`state::faults`),
//! then record the request (method, path, query, JSON or form body, status, when it arrived
//! and was answered) in memory (the latest
//! `record_limit`) and, when configured, as one JSON line in the request log.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::domain::errors::ApiError;
use crate::domain::params::Query;
use crate::shared::wire::{self, answered, bearer, roll, RandomFault};
use crate::state::app::{App, RecordedRequest};
use crate::state::data::mix;
use crate::state::oauth::TokenState;

/// Largest request body accepted (the Jobs API limit is 10 MB).
const MAX_BODY: usize = 10 * 1024 * 1024;

fn auth_error(app: &App, header: Option<&str>) -> Option<ApiError> {
    let Some(value) = header else {
        return Some(ApiError::unauthenticated(
            "Credential was not sent or was of an unsupported type for this API.",
        ));
    };
    match bearer(Some(value)) {
        Some(t) if t == app.token => None,
        Some(t) => match app.oauth.check(t, app.now()) {
            TokenState::Valid => None,
            TokenState::Expired => Some(ApiError::unauthenticated("Token expired.")),
            TokenState::Unknown => Some(ApiError::unauthenticated("Invalid access token.")),
        },
        None => Some(ApiError::unauthenticated(
            "Credential was not sent or was of an unsupported type for this API.",
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
    let query = Query::parse(parts.uri.query());
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => Ok(b),
        Err(_) => Err(ApiError::malformed(
            "The request body is too large or could not be read",
        )),
    };
    let received_us = app.started.elapsed().as_micros() as u64;
    let json = bytes
        .as_ref()
        .ok()
        .filter(|b| !b.is_empty())
        .and_then(|b| serde_json::from_slice(b).ok().or_else(|| form_fields(b)));
    // The OAuth endpoints authenticate the client themselves.
    let open = path.starts_with("/oidc/");
    let n = app.counter.fetch_add(1, Ordering::Relaxed);
    if !app.latency.is_zero() {
        tokio::time::sleep(app.latency).await;
    }
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (response, status) = if let Some(e) = fault(&app, n) {
        answered(e.into_response())
    } else if let Some(e) = auth_error(&app, header.as_deref()).filter(|_| !open) {
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
        query: query.pairs().to_vec(),
        body: json,
        status,
        received_us,
        answered_us: app.started.elapsed().as_micros() as u64,
    };
    app.record.push(record, |record| {
        serde_json::json!({
            "ts_ms": app.now(),
            "method": record.method,
            "path": record.path,
            "query": record.query,
            "body": record.body,
            "status": record.status,
            "duration_ms": started.elapsed().as_secs_f64() * 1000.0,
        })
    });
    response
}

/// A form body (`a=1&b=2`) as a JSON object, its `client_secret` masked.
fn form_fields(body: &[u8]) -> Option<serde_json::Value> {
    let pairs: serde_json::Map<String, serde_json::Value> = url::form_urlencoded::parse(body)
        .map(|(k, v)| {
            let v = if k == "client_secret" {
                "***".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), serde_json::Value::String(v))
        })
        .collect();
    (!pairs.is_empty() && body.contains(&b'=')).then_some(serde_json::Value::Object(pairs))
}

/// The response to send for a processed request to `path`: the real one, or its loss.
/// Returns the response and the status to record (0 when the connection is dropped).
fn after_commit(app: &App, path: &str, response: Response) -> (Response, u16) {
    wire::after_commit(&app.faults, path, response, || {
        ApiError::unavailable().into_response()
    })
}
