//! Binding and serving an emulator's router on a task, and [`Serving`], what its handle holds
//! to shut it down: a graceful stop, then an abort when the task has not ended within 2 s.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Bind `addr`; the listener and the address it got (the port of `:0`).
pub(crate) async fn bind(
    addr: SocketAddr,
) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// A router served on a task, until [`stop`](Self::stop).
#[derive(Clone)]
pub(crate) struct Serving {
    shutdown: Arc<Mutex<Option<tokio::sync::oneshot::Sender<()>>>>,
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Serving {
    /// Serve `router` on `listener`, on a new task.
    pub(crate) fn spawn(listener: tokio::net::TcpListener, router: axum::Router) -> Self {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Serving {
            shutdown: Arc::new(Mutex::new(Some(tx))),
            task: Arc::new(Mutex::new(Some(task))),
        }
    }

    /// Stop serving and wait (at most 2 s, then abort) for the task to end.
    pub(crate) async fn stop(&self) {
        let sender = self
            .shutdown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(tx) = sender {
            let _ = tx.send(());
        }
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}
