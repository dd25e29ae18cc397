//! A scriptable HTTP server (axum) on 127.0.0.1:0: each answer comes from a handler given the
//! request and how many requests to the same path came before; every request is recorded, with
//! how many were in flight when it arrived.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use jobsql_core::workspace::Workspace;

use super::client::workspace;

/// A request the stub saw, raw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The HTTP method.
    pub method: String,
    /// Path and query exactly as sent.
    pub uri: String,
    /// The `Authorization` header.
    pub auth: Option<String>,
    /// The body, as text.
    pub body: String,
    /// Every header, as `(lowercase name, value)`.
    pub headers: Vec<(String, String)>,
    /// Requests in flight (this one included) when it arrived.
    pub in_flight: usize,
}

/// The stub's answer.
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers to set.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Reply {
    /// `body` as `application/json` with `status`, at once.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// With a `Retry-After` header.
    pub fn retry_after(mut self, secs: &str) -> Reply {
        self.headers.push(("retry-after", secs.to_string()));
        self
    }

    /// Answered after `delay`.
    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// Decides each answer: the request, and how many requests with the same path came before.
pub type Handler = Arc<dyn Fn(Seen, usize) -> BoxFuture<'static, Reply> + Send + Sync>;

struct StubState {
    handler: Handler,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
}

/// An HTTP server on 127.0.0.1:0 answering every request with its handler.
pub struct Stub {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    state: Arc<StubState>,
}

async fn serve(
    State(state): State<Arc<StubState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let in_flight = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let seen = Seen {
        method: method.to_string(),
        uri: uri.to_string(),
        auth: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: String::from_utf8_lossy(&body).into_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        in_flight,
    };
    let n = {
        let mut all = state.seen.lock().expect("lock");
        let n = all
            .iter()
            .filter(|s| s.uri.split('?').next() == Some(uri.path()))
            .count();
        all.push(seen.clone());
        n
    };
    let reply = (state.handler)(seen, n).await;
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    let mut response = (
        StatusCode::from_u16(reply.status).expect("status"),
        reply.body,
    )
        .into_response();
    for (name, value) in reply.headers {
        response
            .headers_mut()
            .insert(name, value.parse().expect("header value"));
    }
    response
}

impl Stub {
    /// Start a stub answering with `handler`.
    pub async fn start(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Stub {
        let handler = Arc::new(handler);
        Stub::start_async(move |seen, n| {
            let reply = handler(&seen, n);
            Box::pin(async move { reply })
        })
        .await
    }

    /// With a handler that may await (e.g. forward the request elsewhere).
    pub async fn start_async(
        handler: impl Fn(Seen, usize) -> BoxFuture<'static, Reply> + Send + Sync + 'static,
    ) -> Stub {
        let state = Arc::new(StubState {
            handler: Arc::new(handler),
            seen: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .fallback(serve)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Stub { base, state }
    }

    /// Always the same answer.
    pub async fn fixed(status: u16, body: &'static str) -> Stub {
        Stub::start(move |_, _| Reply::json(status, body)).await
    }

    /// A workspace `name` on the stub, with the suite's token.
    pub fn workspace(&self, name: &str) -> Workspace {
        workspace(name, &self.base)
    }

    /// Every request so far, in order of arrival.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().expect("lock").clone()
    }
}
