//! TCP servers for what HTTP servers will not do: resets, cut bodies, silence ([`RawServer`],
//! on tokio), and a plain-thread HTTP server echoing the request's `Authorization` header
//! ([`echoing_server`], for tests that run the binary without a runtime).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    requests: Arc<AtomicUsize>,
    arrived: Arc<tokio::sync::Notify>,
}

impl RawServer {
    /// Start a server treating the n-th connection as `script[n]`.
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

    /// How many requests arrived.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Wait until a request has arrived.
    pub async fn arrived(&self) {
        self.arrived.notified().await
    }
}

/// A plain-HTTP server on 127.0.0.1:0 answering every request with `status` and `body`, in
/// which `{auth}` becomes the request's `Authorization` header (a server echoing it). Returns
/// its `host:port` and a counter of the requests it read.
pub fn echoing_server(
    status: u16,
    body: &'static str,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for mut socket in listener.incoming().map_while(Result::ok) {
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
                if head.first() == Some(&0x16) {
                    break; // a TLS handshake, answered in plain HTTP below
                }
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            if !head.starts_with("GET ") && !head.starts_with("POST ") {
                let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
                continue;
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let auth = head
                .lines()
                .find_map(|l| {
                    l.split_once(':')
                        .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                        .map(|(_, v)| v.trim().to_string())
                })
                .unwrap_or_default();
            let body = body.replace("{auth}", &auth);
            let _ = write!(
                socket,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (addr, count)
}
