//! The layer every request goes through, in order: buffer the body (so it can be recorded),
//! add the configured latency, inject a fault (429 `REQUEST_LIMIT_EXCEEDED` with
//! `Retry-After: 1`, or 503 `TEMPORARILY_UNAVAILABLE`) with probability `fault_rate` from a
//! deterministic per-request PRNG, check the bearer token (401 `UNAUTHENTICATED`: neither the configured token nor an OAuth
//! token issued and unexpired; the `/oidc/` endpoints are open), run the
//! handler, lose its response if an after-commit fault is armed for the path (`state::faults`),
//! then record the request (method, path, query, JSON or form body, status, when it arrived
//! and was answered) in memory (the latest
//! `record_limit`) and, when configured, as one JSON line in the request log.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::emulator::domain::errors::ApiError;
use crate::emulator::domain::params::Query;
use crate::emulator::state::app::{App, RecordedRequest};
use crate::emulator::state::data::mix;
use crate::emulator::state::faults::{self, LostResponse};
use crate::emulator::state::oauth::TokenState;

/// Largest request body accepted (the Jobs API limit is 10 MB).
const MAX_BODY: usize = 10 * 1024 * 1024;

fn auth_error(app: &App, header: Option<&str>) -> Option<ApiError> {
    let Some(value) = header else {
        return Some(ApiError::unauthenticated(
            "Credential was not sent or was of an unsupported type for this API.",
        ));
    };
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    match token {
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
    if let Some(log) = &app.log {
        let line = serde_json::json!({
            "ts_ms": app.now(),
            "method": record.method,
            "path": record.path,
            "query": record.query,
            "body": record.body,
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

fn answered(response: Response) -> (Response, u16) {
    let status = response.status().as_u16();
    (response, status)
}

/// A body that fails before yielding anything: hyper then closes the connection without
/// flushing the response head, so the client sees the connection end with no response.
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
/// Returns the response and the status to record (0 when the connection is dropped).
pub(crate) fn after_commit(app: &App, path: &str, response: Response) -> (Response, u16) {
    if !response.status().is_success() {
        let status = response.status().as_u16();
        return (response, status);
    }
    match faults::take(&app.faults, path) {
        None => {
            let status = response.status().as_u16();
            (response, status)
        }
        Some(LostResponse::Unavailable) => {
            let r = ApiError::unavailable().into_response();
            let status = r.status().as_u16();
            (r, status)
        }
        Some(LostResponse::Dropped) => (dropped(), 0),
    }
}
