//! The Postgres protocol written and read by hand over a raw socket, as `serve_wire`'s
//! clients speak it: the frontend's messages, the backend's read back, and SCRAM-SHA-256
//! handshakes brought to any step.

use std::net::SocketAddr;
use std::time::Duration;

use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::super::serve_limits::startup_packet;
use super::USER;
use crate::support::base64;

// --- The frontend's messages, written by hand. ---

/// A typed message: `tag`, the length, `body`.
pub(super) fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![tag];
    m.extend_from_slice(&(i32::try_from(body.len() + 4).expect("fits")).to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// A simple query.
pub(super) fn query(sql: &str) -> Vec<u8> {
    let mut body = sql.as_bytes().to_vec();
    body.push(0);
    message(b'Q', &body)
}

/// A SASLInitialResponse: the mechanism, the length of `data`, `data`.
pub(super) fn sasl_initial(mechanism: &str, data: &[u8]) -> Vec<u8> {
    let mut body = mechanism.as_bytes().to_vec();
    body.push(0);
    body.extend_from_slice(&(i32::try_from(data.len()).expect("fits")).to_be_bytes());
    body.extend_from_slice(data);
    message(b'p', &body)
}

/// A SCRAM client-final for `server_first`'s nonce (or `nonce` instead) with a proof that is
/// not the password's: 32 bytes that are not the HMAC of anything.
pub(super) fn wrong_client_final(server_first: &[u8], nonce: Option<&str>, seed: u8) -> Vec<u8> {
    let nonce = nonce.map_or_else(|| nonce_of(server_first), str::to_string);
    let proof: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37) ^ seed).collect();
    let body = format!("c=biws,r={nonce},p={}", base64::encode(&proof, false, true));
    message(b'p', body.as_bytes())
}

/// The combined nonce of a server-first message (`r=...,s=...,i=...`).
pub(super) fn nonce_of(server_first: &[u8]) -> String {
    let text = std::str::from_utf8(server_first).expect("server-first is text");
    text.split(',')
        .find_map(|f| f.strip_prefix("r="))
        .unwrap_or_else(|| panic!("no nonce in {text:?}"))
        .to_string()
}

// --- The backend's messages, read by hand. ---

/// A message from the server: its type byte and body.
#[derive(Debug)]
pub(super) struct Backend {
    pub(super) tag: u8,
    pub(super) body: Vec<u8>,
}

/// The fields of an ErrorResponse that a client acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PgError {
    pub(super) severity: String,
    pub(super) code: String,
    pub(super) message: String,
}

impl Backend {
    /// An authentication request's code (`R`: 0 ok, 10 SASL, 11 SASL continue, 12 SASL final).
    pub(super) fn auth_code(&self) -> Option<i32> {
        (self.tag == b'R' && self.body.len() >= 4)
            .then(|| i32::from_be_bytes([self.body[0], self.body[1], self.body[2], self.body[3]]))
    }

    /// An ErrorResponse's severity (`V`, else `S`), code and message.
    pub(super) fn error(&self) -> Option<PgError> {
        if self.tag != b'E' {
            return None;
        }
        let mut error = PgError {
            severity: String::new(),
            code: String::new(),
            message: String::new(),
        };
        let mut fields = self.body.split(|b| *b == 0);
        while let Some(field) = fields.next().filter(|f| !f.is_empty()) {
            let value = String::from_utf8_lossy(&field[1..]).into_owned();
            match field[0] {
                b'V' => error.severity = value,
                b'S' if error.severity.is_empty() => error.severity = value,
                b'C' => error.code = value,
                b'M' => error.message = value,
                _ => {}
            }
        }
        Some(error)
    }

    /// The first column of a DataRow, as text.
    pub(super) fn first_value(&self) -> Option<String> {
        if self.tag != b'D' || self.body.len() < 6 {
            return None;
        }
        let len = i32::from_be_bytes([self.body[2], self.body[3], self.body[4], self.body[5]]);
        let len = usize::try_from(len).ok()?;
        self.body
            .get(6..6 + len)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

/// The next message, `None` once the stream ends (closed, or reset).
pub(super) async fn next(socket: &mut (impl AsyncRead + Unpin)) -> Option<Backend> {
    let mut header = [0u8; 5];
    socket.read_exact(&mut header).await.ok()?;
    let len = i32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    let len = usize::try_from(len).ok()?.checked_sub(4)?;
    assert!(len < 1 << 20, "the server declares a {len}-byte message");
    let mut body = vec![0; len];
    socket.read_exact(&mut body).await.ok()?;
    Some(Backend {
        tag: header[0],
        body,
    })
}

/// Everything the server sends until it closes the connection, waiting at most `limit`; and
/// whether it did close it.
pub(super) async fn until_closed(
    socket: &mut (impl AsyncRead + Unpin),
    limit: Duration,
) -> (Vec<Backend>, bool) {
    let mut messages = Vec::new();
    let closed = tokio::time::timeout(limit, async {
        while let Some(m) = next(socket).await {
            messages.push(m);
        }
    })
    .await
    .is_ok();
    (messages, closed)
}

impl PgError {
    /// Assert it is a `FATAL` of `code` whose message holds every one of `parts`.
    pub(super) fn assert_fatal(&self, code: &str, parts: &[&str]) {
        assert_eq!(
            (self.severity.as_str(), self.code.as_str()),
            ("FATAL", code),
            "{self:?}"
        );
        for part in parts {
            assert!(self.message.contains(part), "{part:?} in {self:?}");
        }
    }
}

/// The one ErrorResponse among `messages`.
pub(super) fn the_error(messages: &[Backend]) -> PgError {
    let errors: Vec<PgError> = messages.iter().filter_map(Backend::error).collect();
    assert_eq!(errors.len(), 1, "{messages:?}");
    errors[0].clone()
}

/// How a handshake ended after its last message: logged in (ReadyForQuery; the SASL final
/// message's data), refused with an error, or closed without a word.
#[derive(Debug)]
pub(super) enum Outcome {
    LoggedIn(Vec<u8>),
    Refused(PgError),
    Closed,
}

pub(super) async fn outcome(socket: &mut (impl AsyncRead + Unpin)) -> Outcome {
    let read = async {
        let mut server_final = Vec::new();
        while let Some(m) = next(socket).await {
            if m.auth_code() == Some(12) {
                server_final = m.body[4..].to_vec();
            }
            if let Some(e) = m.error() {
                return Outcome::Refused(e);
            }
            if m.tag == b'Z' {
                return Outcome::LoggedIn(server_final);
            }
        }
        Outcome::Closed
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the handshake ended")
}

/// A connection brought through startup and SCRAM's first round (a SASLInitialResponse with
/// `client_first`): the socket, and the server-first message.
pub(super) async fn to_client_final(addr: SocketAddr, client_first: &[u8]) -> (TcpStream, Vec<u8>) {
    let mut socket = TcpStream::connect(addr).await.expect("connects");
    socket
        .write_all(&startup_packet(USER))
        .await
        .expect("writes");
    let sasl = next(&mut socket).await.expect("an authentication request");
    assert_eq!(
        sasl.auth_code(),
        Some(10),
        "not AuthenticationSASL: {sasl:?}"
    );
    assert!(
        sasl.body.windows(14).any(|w| w == b"SCRAM-SHA-256\0"),
        "{sasl:?}"
    );
    socket
        .write_all(&sasl_initial("SCRAM-SHA-256", client_first))
        .await
        .expect("writes");
    let first = next(&mut socket).await.expect("the server-first message");
    assert_eq!(
        first.auth_code(),
        Some(11),
        "not AuthenticationSASLContinue: {first:?}"
    );
    (socket, first.body[4..].to_vec())
}

/// A raw SCRAM-SHA-256 login with `password` (the proof computed by postgres-protocol, the
/// client tokio-postgres uses): the socket when logged in (the server's signature verified),
/// or how it ended.
pub(super) async fn raw_login(addr: SocketAddr, password: &str) -> Result<TcpStream, Outcome> {
    let mut scram = ScramSha256::new(password.as_bytes(), ChannelBinding::unsupported());
    let (mut socket, server_first) = to_client_final(addr, scram.message()).await;
    scram.update(&server_first).expect("a server-first message");
    socket
        .write_all(&message(b'p', scram.message()))
        .await
        .expect("writes");
    match outcome(&mut socket).await {
        Outcome::LoggedIn(server_final) => {
            scram
                .finish(&server_final)
                .expect("the server proves it knows the password");
            Ok(socket)
        }
        other => Err(other),
    }
}
