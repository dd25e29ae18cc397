//! Shared set-up: a secret token, fast retry policies, a scriptable HTTP stub (axum), a raw TCP
//! server for faults below HTTP (resets, cut bodies, silence), and sessions over either.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use futures::future::BoxFuture;
use jobsql::client::{ApiClient, ClientConfig, RetryPolicy};
use jobsql::emulator::{start_local, EmulatorConfig, EmulatorHandle};
use jobsql::provider::ApiRuntime;
use jobsql::session::{new_context, run_sql, user_message};
use jobsql::spec::load_embedded;
use jobsql::workspace::{Workspace, WorkspaceResolver};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The token every stub and test workspace uses: it must appear in no output.
pub const TOKEN: &str = "dapi-reliability-secret-7f3a9c";
pub const RUNS: &str = "databricks_workspace.jobs.job_runs";
pub const LIST: &str = "/api/2.2/jobs/runs/list";

/// Retries in milliseconds: `max_attempts`, waits of at most 5 ms (`Retry-After` included).
pub fn fast_policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        max_total: Duration::from_secs(20),
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

pub fn fast(max_attempts: u32) -> ApiClient {
    ApiClient::new(fast_policy(max_attempts)).expect("client")
}

pub fn client(config: ClientConfig) -> ApiClient {
    ApiClient::with_config(config).expect("client")
}

pub fn workspace(name: &str, base: &str) -> Workspace {
    Workspace::new(name, base, TOKEN).expect("workspace")
}

/// A base URL where nothing listens.
pub fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

/// A runtime whose default workspace is the first of `workspaces` and which resolves each by
/// name.
pub fn runtime(client: ApiClient, workspaces: &[Workspace]) -> ApiRuntime {
    let mut resolver = WorkspaceResolver::from_parts(HashMap::new(), None, None);
    if let Some(first) = workspaces.first() {
        resolver = resolver.with_default(first.clone());
    }
    for ws in workspaces {
        resolver = resolver.with_named(ws.clone());
    }
    ApiRuntime::new(client, resolver)
}

pub fn session(runtime: ApiRuntime) -> SessionContext {
    new_context(&load_embedded().expect("specs"), Arc::new(runtime)).expect("session")
}

pub async fn emulator(config: EmulatorConfig) -> EmulatorHandle {
    start_local(config).await.expect("emulator starts")
}

/// A workspace on `emu` (its own token).
pub fn emu_workspace(name: &str, emu: &EmulatorHandle) -> Workspace {
    Workspace::new(name, &emu.base_url(), emu.token()).expect("workspace")
}

pub async fn rows(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    match run_sql(ctx, sql).await {
        Ok(mut results) => results.pop().expect("one statement").batches,
        Err(e) => panic!("{sql}: {}", user_message(&e)),
    }
}

pub async fn error(ctx: &SessionContext, sql: &str) -> String {
    match run_sql(ctx, sql).await {
        Ok(_) => panic!("expected an error from {sql}"),
        Err(e) => user_message(&e),
    }
}

/// The Int64 values of column `i`.
pub fn ints(batches: &[RecordBatch], i: usize) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(i).as_primitive::<Int64Type>();
            (0..a.len())
                .filter(|&r| a.is_valid(r))
                .map(|r| a.value(r))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A request the stub saw, raw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query exactly as sent.
    pub uri: String,
    pub auth: Option<String>,
    pub body: String,
    /// Requests in flight (this one included) when it arrived.
    pub in_flight: usize,
}

/// The stub's answer.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn retry_after(mut self, secs: &str) -> Reply {
        self.headers.push(("retry-after", secs.to_string()));
        self
    }

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

    pub fn workspace(&self, name: &str) -> Workspace {
        workspace(name, &self.base)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().expect("lock").clone()
    }
}

/// What the raw server does with the n-th connection (the last entry repeats).
#[derive(Clone, Copy, Debug)]
pub enum Raw {
    /// Read the request, then close the connection without a byte.
    Close,
    /// Read the request, write these bytes, close.
    Write(&'static str),
    /// Read the request and keep the connection open, silent, for a minute.
    Silent,
}

/// A TCP server for what HTTP servers will not do: resets, cut bodies, silence.
pub struct RawServer {
    pub base: String,
    requests: Arc<AtomicUsize>,
    arrived: Arc<tokio::sync::Notify>,
}

impl RawServer {
    pub async fn start(script: Vec<Raw>) -> RawServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(AtomicUsize::new(0));
        let arrived = Arc::new(tokio::sync::Notify::new());
        let (count, notify) = (requests.clone(), arrived.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (count, notify, script) = (count.clone(), notify.clone(), script.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    notify.notify_one();
                    match script[n.min(script.len() - 1)] {
                        Raw::Close => {}
                        Raw::Write(bytes) => {
                            let _ = socket.write_all(bytes.as_bytes()).await;
                            let _ = socket.flush().await;
                        }
                        Raw::Silent => tokio::time::sleep(Duration::from_secs(60)).await,
                    }
                });
            }
        });
        RawServer {
            base,
            requests,
            arrived,
        }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Wait until a request has arrived.
    pub async fn arrived(&self) {
        self.arrived.notified().await
    }
}
