//! The message loop of one `jobsql serve` connection: pgwire's `process_socket`, with the
//! message caps and with every failure an answer to that client.
//!
//! pgwire negotiates TLS ([`negotiate_tls`]) and then reads the socket through its codec; its
//! loop is rebuilt here from its public parts ([`process_message`], [`process_error`]) so that
//!
//! - the stream after TLS is read through [`Framed`], which refuses a message declaring more
//!   than its cap before its body is read ([`super::frames`]);
//! - a message that cannot be decoded, or is over the cap, is answered with a `FATAL`
//!   ErrorResponse before the connection closes (pgwire closed it without a word);
//! - a panic while decoding or handling a message — a bug, reached by that client's input — is
//!   caught: that client gets `FATAL XX000` and its connection closes, the server logs it and
//!   goes on serving everyone else.
//!
//! The handshake's deadline is the caller's (the auth timeout), not pgwire's 60 s.

use std::any::Any;
use std::io;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::{FutureExt, SinkExt, StreamExt};
use pgwire::api::{ClientInfo, ErrorHandler, PgWireServerHandlers};
use pgwire::error::{ErrorInfo, PgWireError};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::tokio::server::{
    negotiate_tls, process_error, process_message, PgWireMessageServerCodec,
};
use pgwire::tokio::TlsAcceptor;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_util::codec::{Framed as CodecFramed, FramedParts};

use super::frames::{FrameError, Framed, MessageCaps};

/// How long a closing connection reads (and drops) what its client still sends, so that the
/// client reads the error instead of a reset.
const LINGER: Duration = Duration::from_millis(500);
/// The most it reads meanwhile.
const LINGER_BYTES: usize = 1 << 20;

/// Serve the connection `socket` from `peer` with `handlers` until it ends: TLS (when
/// `tls`), startup and authentication, then statements. `logged_in` turns true once the client
/// has logged in (the cap of its messages changes then).
pub async fn serve_socket<H: PgWireServerHandlers>(
    socket: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    handlers: H,
    caps: MessageCaps,
    logged_in: watch::Receiver<bool>,
) -> io::Result<()> {
    let startup_handler = handlers.startup_handler();
    let simple_query_handler = handlers.simple_query_handler();
    let extended_query_handler = handlers.extended_query_handler();
    let copy_handler = handlers.copy_handler();
    let cancel_handler = handlers.cancel_handler();
    let error_handler = handlers.error_handler();

    let Some(negotiated) = negotiate_tls(socket, tls).await? else {
        // A direct TLS handshake to a server without TLS.
        return Ok(());
    };
    let old = negotiated.into_parts();
    let mut framed = Framed::new(old.io, caps, logged_in);
    let early = framed.follow_buffered(&old.read_buf);
    let mut parts = FramedParts::new::<PgWireBackendMessage>(framed, old.codec);
    parts.read_buf = old.read_buf;
    parts.write_buf = old.write_buf;
    let mut socket = CodecFramed::from_parts(parts);
    if let Err(e) = early {
        close_with(&mut socket, e.error_info()).await;
        return Ok(());
    }

    loop {
        let message = match AssertUnwindSafe(socket.next()).catch_unwind().await {
            Ok(Some(Ok(message))) => message,
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                close_with(&mut socket, unreadable(&e)).await;
                break;
            }
            Err(panic) => {
                close_with(&mut socket, internal_error(peer, "reading", &*panic)).await;
                break;
            }
        };
        // The client is leaving; some (asyncpg) wait for the server to close.
        if matches!(message, PgWireFrontendMessage::Terminate(_)) {
            break;
        }
        let is_extended_query = match socket.state() {
            pgwire::api::PgWireConnectionState::CopyInProgress(extended) => extended,
            _ => message.is_extended_query(),
        };
        let is_cancel_request = matches!(message, PgWireFrontendMessage::CancelRequest(_));
        let handled = AssertUnwindSafe(process_message(
            message,
            &mut socket,
            startup_handler.clone(),
            simple_query_handler.clone(),
            extended_query_handler.clone(),
            copy_handler.clone(),
            cancel_handler.clone(),
        ))
        .catch_unwind()
        .await;
        match handled {
            Ok(Ok(())) => {}
            Ok(Err(mut e)) => {
                error_handler.on_error(&socket, &mut e);
                let fatal = e.is_fatal();
                process_error(&mut socket, e, is_extended_query).await?;
                if fatal {
                    break;
                }
            }
            Err(panic) => {
                close_with(&mut socket, internal_error(peer, "handling", &*panic)).await;
                break;
            }
        }
        if is_cancel_request {
            break;
        }
    }
    Ok(())
}

/// The error of a message that could not be read: over its cap, or not decodable.
fn unreadable(e: &PgWireError) -> ErrorInfo {
    if let PgWireError::IoError(io) = e {
        if let Some(frame) = FrameError::of(io) {
            return frame.error_info();
        }
    }
    let what = jobsql_core::redact::outgoing(&e.to_string());
    ErrorInfo::new(
        "FATAL".to_string(),
        "08P01".to_string(),
        format!("invalid message: {}", cut(&what, 200)),
    )
}

/// A panic in a connection's task: logged with what it said, and the client's error.
fn internal_error(peer: SocketAddr, doing: &str, panic: &(dyn Any + Send)) -> ErrorInfo {
    let said = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string());
    eprintln!(
        "jobsql serve: internal error {doing} a message from {peer} (a bug; the connection is \
         closed, the server goes on): {}",
        jobsql_core::redact::outgoing(cut(&said, 500))
    );
    ErrorInfo::new(
        "FATAL".to_string(),
        "XX000".to_string(),
        "internal error in jobsql serve; this connection is closed (the server's log says more)"
            .to_string(),
    )
}

/// At most `n` bytes of `text`, cut at a character boundary.
fn cut(text: &str, n: usize) -> &str {
    let mut end = n.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Send `error`, then close: shut the write side, and read what the client still sends for a
/// moment (bounded), so that it reads the error rather than a reset.
async fn close_with<S, St>(
    socket: &mut CodecFramed<Framed<S>, PgWireMessageServerCodec<St>>,
    error: ErrorInfo,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let sent = tokio::time::timeout(
        LINGER,
        socket.send(PgWireBackendMessage::ErrorResponse(error.into())),
    )
    .await;
    if !matches!(sent, Ok(Ok(()))) {
        return;
    }
    let io = socket.get_mut().inner_mut();
    let _ = tokio::time::timeout(LINGER, async {
        let _ = tokio::io::AsyncWriteExt::shutdown(io).await;
        let mut buf = [0u8; 8192];
        let mut read = 0;
        while read < LINGER_BYTES {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
        }
    })
    .await;
}
