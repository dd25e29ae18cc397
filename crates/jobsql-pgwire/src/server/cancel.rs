//! Stopping a running statement: a Postgres `CancelRequest`, the statement timeout, and a
//! client that goes away.
//!
//! Stopping means dropping the statement's future and its row stream, which drops the API
//! requests in flight and sends no more. pgwire only races its own cancel signal against the
//! handler's `do_query`, not against the rows streamed afterwards, so jobsql keeps its own:
//!
//! - [`CancelRegistry`] maps each authenticated connection's (pid, secret key) — the
//!   `BackendKeyData` the client was given — to its [`CancelFlag`]; a `CancelRequest` arriving
//!   on another socket raises the flag.
//! - [`Guard`] is taken when a query starts: it fires when the flag is raised after that, or
//!   when the statement timeout passes. [`Guard::run`] races a future against it and
//!   [`Guard::rows`] ends a row stream with the error when it fires.
//! - [`peer_closed`] resolves when the client's side of the socket is closed, even while the
//!   connection is busy running a statement and reads nothing (the server drops the whole
//!   connection task then).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use pgwire::api::cancel::CancelHandler;
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::startup::SecretKey;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

/// One connection's cancel signal: a counter raised by each `CancelRequest`.
#[derive(Debug)]
pub struct CancelFlag {
    raised: watch::Sender<u64>,
}

impl Default for CancelFlag {
    fn default() -> Self {
        CancelFlag {
            raised: watch::channel(0).0,
        }
    }
}

impl CancelFlag {
    /// Cancel whatever statement is running now (nothing if none is).
    pub fn raise(&self) {
        self.raised.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A guard for a statement starting now, with an optional timeout (zero: none).
    pub fn guard(&self, timeout: Duration) -> Guard {
        Guard {
            cancel: self.raised.subscribe(),
            deadline: (!timeout.is_zero()).then(|| Instant::now() + timeout),
            timeout,
        }
    }
}

/// Key of a connection: its pid and secret key.
type Key = (i32, Bytes);

/// The authenticated connections that can be canceled.
#[derive(Debug, Default)]
pub struct CancelRegistry {
    connections: Mutex<HashMap<Key, Arc<CancelFlag>>>,
}

/// Removes its connection from the registry when dropped.
#[derive(Debug)]
pub struct Registration {
    key: Key,
    registry: Arc<CancelRegistry>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut map) = self.registry.connections.lock() {
            map.remove(&self.key);
        }
    }
}

impl CancelRegistry {
    /// Make `flag` reachable by `CancelRequest`s carrying `pid` and `secret`.
    pub fn register(
        self: &Arc<Self>,
        pid: i32,
        secret: &SecretKey,
        flag: Arc<CancelFlag>,
    ) -> Registration {
        let key = (pid, secret.to_bytes());
        if let Ok(mut map) = self.connections.lock() {
            map.insert(key.clone(), flag);
        }
        Registration {
            key,
            registry: self.clone(),
        }
    }
}

#[async_trait]
impl CancelHandler for CancelRegistry {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let key = (request.pid, request.secret_key.to_bytes());
        let flag = self
            .connections
            .lock()
            .ok()
            .and_then(|map| map.get(&key).cloned());
        if let Some(flag) = flag {
            flag.raise();
        }
    }
}

/// Fires when the statement it was taken for is canceled or runs out of time.
#[derive(Debug, Clone)]
pub struct Guard {
    cancel: watch::Receiver<u64>,
    deadline: Option<Instant>,
    timeout: Duration,
}

/// The error of a statement stopped by its timeout (SQLSTATE 57014, as Postgres).
pub fn timeout_error(timeout: Duration) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        "57014".to_string(),
        format!(
            "canceling statement due to statement timeout ({} s, --statement-timeout-secs)",
            timeout.as_secs_f64()
        ),
    )))
}

impl Guard {
    /// Resolves with the error to report once the statement must stop.
    pub fn stopped(&self) -> impl Future<Output = PgWireError> + Send + 'static {
        let mut cancel = self.cancel.clone();
        let (deadline, timeout) = (self.deadline, self.timeout);
        async move {
            let canceled = async {
                if cancel.changed().await.is_err() {
                    // The connection is gone; its task ends on its own.
                    futures::future::pending::<()>().await;
                }
            };
            let timed_out = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => futures::future::pending().await,
                }
            };
            tokio::select! {
                _ = canceled => PgWireError::QueryCanceled,
                _ = timed_out => timeout_error(timeout),
            }
        }
    }

    /// `future`, unless the guard fires first (then the future is dropped).
    pub async fn run<T>(&self, future: impl Future<Output = PgWireResult<T>>) -> PgWireResult<T> {
        tokio::select! {
            result = future => result,
            error = self.stopped() => Err(error),
        }
    }

    /// `rows` until the guard fires; then the error, and the stream (with its statement) is
    /// dropped.
    pub fn rows<S, T>(&self, rows: S) -> impl Stream<Item = PgWireResult<T>> + Send + 'static
    where
        S: Stream<Item = PgWireResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        let stop = Box::pin(self.stopped());
        futures::stream::unfold(Some((Box::pin(rows), stop)), |state| async move {
            let (mut rows, mut stop) = state?;
            tokio::select! {
                error = &mut stop => Some((Err(error), None)),
                item = rows.next() => item.map(|item| (item, Some((rows, stop)))),
            }
        })
    }
}

/// Resolves once the client has closed its side of `peer` (a second handle on the
/// connection's socket, see [`watch_handle`]). Data the client sends meanwhile is left for the
/// connection to read.
pub async fn peer_closed(peer: TcpStream) {
    loop {
        match peer.ready(Interest::READABLE).await {
            Ok(ready) if ready.is_read_closed() => return,
            Ok(_) => {
                // Readable because of data the connection will read: forget this readiness
                // and wait for the next event (more data, or the close).
                let _ = peer.try_io(Interest::READABLE, || {
                    Err::<(), _>(std::io::ErrorKind::WouldBlock.into())
                });
            }
            Err(_) => return,
        }
    }
}

/// `socket`, and a second handle on it for [`peer_closed`].
pub fn watch_handle(socket: TcpStream) -> std::io::Result<(TcpStream, TcpStream)> {
    let std_socket = socket.into_std()?;
    let copy = std_socket.try_clone()?;
    Ok((TcpStream::from_std(std_socket)?, TcpStream::from_std(copy)?))
}
