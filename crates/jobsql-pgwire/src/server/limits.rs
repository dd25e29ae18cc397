//! How much one client, or many, may take of a `jobsql serve` server.
//!
//! - [`Limits`]: the operator's settings (`--max-connections`, `--memory-limit-mb`,
//!   `--total-memory-limit-mb`, `--statement-timeout-secs`, `--max-message-mb`,
//!   `--allow-files`, the auth timeout and login backoff).
//! - [`Gate`]: at most `max_connections` sockets in the handshake (startup and authentication,
//!   each closed after `auth_timeout`) and at most `max_connections` authenticated sessions;
//!   one more is answered with Postgres' `53300 too_many_connections` and closed. Idle sockets
//!   therefore cannot exhaust file descriptors, nor crowd out sessions already open.
//! - [`LoginThrottle`](super::throttle::LoginThrottle): failed logins per client address and
//!   for the account, counted where the password is checked (1 s backoff, doubling up to 30 s).
//! - [`MessageCaps`](super::frames::MessageCaps): the length a message may declare, 64 KiB
//!   before login and `--max-message-mb` after ([`super::frames`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use pgwire::error::ErrorInfo;
use pgwire::messages::response::ErrorResponse;
use pgwire::messages::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The bounds of a server.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The directory clients may read and write files under (`--allow-files`); none when
    /// `None`.
    pub allow_files: Option<PathBuf>,
    /// The memory one statement may hold (its operators and its functions' results), in bytes.
    pub memory_limit_bytes: usize,
    /// The memory all statements may hold together, in bytes.
    pub total_memory_limit_bytes: usize,
    /// The longest a statement may run, rows sent included (zero: no limit).
    pub statement_timeout: Duration,
    /// The most authenticated sessions, and separately the most sockets in the handshake.
    pub max_connections: usize,
    /// The longest a socket may take to finish startup and authentication.
    pub auth_timeout: Duration,
    /// The wait after a first failed login from an address (doubling with each further one).
    pub login_backoff: Duration,
    /// The most a message may declare once its client has logged in, in bytes
    /// (`--max-message-mb`; before login the cap is [`BEFORE_LOGIN_CAP`]).
    pub max_message_bytes: usize,
}

pub use jobsql_core::memory::pool::{DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TOTAL_MEMORY_LIMIT_MB};
/// The default `--statement-timeout-secs`.
pub const DEFAULT_STATEMENT_TIMEOUT_SECS: u64 = 300;
/// The default `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;
pub use super::frames::{BEFORE_LOGIN_CAP, DEFAULT_MAX_MESSAGE_MB, MAX_MAX_MESSAGE_MB};
pub use super::throttle::MAX_LOGIN_BACKOFF;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            allow_files: None,
            memory_limit_bytes: DEFAULT_MEMORY_LIMIT_MB << 20,
            total_memory_limit_bytes: DEFAULT_TOTAL_MEMORY_LIMIT_MB << 20,
            statement_timeout: Duration::from_secs(DEFAULT_STATEMENT_TIMEOUT_SECS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            auth_timeout: Duration::from_secs(10),
            login_backoff: Duration::from_secs(1),
            max_message_bytes: DEFAULT_MAX_MESSAGE_MB << 20,
        }
    }
}

impl Limits {
    /// The caps on a message's declared length.
    pub fn message_caps(&self) -> super::frames::MessageCaps {
        super::frames::MessageCaps {
            before_login: BEFORE_LOGIN_CAP,
            after_login: self.max_message_bytes,
        }
    }
}

/// Counts the sockets in the handshake and the sessions.
#[derive(Debug, Clone)]
pub struct Gate {
    handshakes: Arc<Semaphore>,
    sessions: Arc<Semaphore>,
    refusals: Arc<Semaphore>,
}

/// Most refusals being written at once; beyond, excess sockets are closed without a word.
const MAX_REFUSALS: usize = 256;

impl Gate {
    /// A gate for `max` handshakes and `max` sessions.
    pub fn new(max: usize) -> Self {
        Gate {
            handshakes: Arc::new(Semaphore::new(max)),
            sessions: Arc::new(Semaphore::new(max)),
            refusals: Arc::new(Semaphore::new(MAX_REFUSALS)),
        }
    }

    /// A handshake slot, if one is free.
    pub fn handshake(&self) -> Option<OwnedSemaphorePermit> {
        self.handshakes.clone().try_acquire_owned().ok()
    }

    /// A session slot, if one is free.
    pub fn session(&self) -> Option<OwnedSemaphorePermit> {
        self.sessions.clone().try_acquire_owned().ok()
    }

    /// Answer `socket` with `53300 too_many_connections` and close it, in the background.
    pub fn refuse(&self, mut socket: TcpStream) {
        let Ok(permit) = self.refusals.clone().try_acquire_owned() else {
            return;
        };
        tokio::spawn(async move {
            let _permit = permit;
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                // Read the startup packet first (answering an SSLRequest with 'N'), so that the
                // client reads the error instead of a reset.
                let mut first = read_packet(&mut socket).await?;
                if first.as_deref() == Some(&SSL_REQUEST[..]) {
                    socket.write_all(b"N").await?;
                    first = read_packet(&mut socket).await?;
                }
                let _ = first;
                socket.write_all(&too_many_connections()).await?;
                socket.shutdown().await?;
                let mut rest = [0u8; 512];
                while socket.read(&mut rest).await? > 0 {}
                Ok::<(), std::io::Error>(())
            })
            .await;
        });
    }
}

/// The body of an SSLRequest packet (its code).
const SSL_REQUEST: [u8; 4] = 80877103i32.to_be_bytes();

/// One length-prefixed startup packet's body (at most 10,000 bytes), `None` at end of stream.
async fn read_packet(socket: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    if socket.read_exact(&mut len).await.is_err() {
        return Ok(None);
    }
    let len = usize::try_from(i32::from_be_bytes(len)).unwrap_or(0);
    if !(4..=10_000).contains(&len) {
        return Ok(None);
    }
    let mut body = vec![0u8; len - 4];
    socket.read_exact(&mut body).await?;
    Ok(Some(body))
}

/// The `ErrorResponse` Postgres sends when it has no room for a connection.
pub fn too_many_connections_error() -> ErrorInfo {
    ErrorInfo::new(
        "FATAL".to_string(),
        "53300".to_string(),
        "sorry, too many clients already (--max-connections)".to_string(),
    )
}

fn too_many_connections() -> BytesMut {
    let mut buf = BytesMut::new();
    let response: ErrorResponse = too_many_connections_error().into();
    // Encoding a short fixed message cannot fail; an empty buffer just closes the socket.
    if response.encode(&mut buf).is_err() {
        buf.clear();
    }
    buf
}
