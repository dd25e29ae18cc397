//! The message caps of `jobsql serve`, checked on the length a message *declares*, before its
//! body is read.
//!
//! pgwire buffers a frontend message whole before decoding it, and lets a simple query or a
//! `Bind` declare up to 1 GB: a client could make the server hold a gigabyte per socket, before
//! it has even logged in. [`Framed`] sits between the socket (after TLS) and pgwire's codec and
//! follows the framing of the byte stream as it is read — the startup-phase message (a length
//! only: startup or `CancelRequest`), then typed messages (a type byte and a length) — so that
//! every message of every type is checked against a cap as soon as its header has arrived:
//! [`BEFORE_LOGIN_CAP`] until the client has logged in, [`MessageCaps::after_login`]
//! (`--max-message-mb`) after. A declared length over the cap, or under the 4 bytes of the
//! length itself, is a [`FrameError`] instead of more bytes: the connection answers it with a
//! `FATAL` error and closes (see [`super::wire`]). Messages before the offending one are
//! delivered first.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pgwire::error::ErrorInfo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

use super::bodies::BodyCheck;

/// The most a message may declare before its client has logged in (startup, SSL and GSS
/// requests, password and SASL messages, and anything sent too early): 64 KiB.
pub const BEFORE_LOGIN_CAP: usize = 64 << 10;

/// The default `--max-message-mb`.
pub const DEFAULT_MAX_MESSAGE_MB: usize = 16;

/// The largest `--max-message-mb` (pgwire refuses messages from 1 GB on).
pub const MAX_MAX_MESSAGE_MB: usize = 1023;

/// The caps on the length a message declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageCaps {
    /// Before the client has logged in, in bytes.
    pub before_login: usize,
    /// After, in bytes (`--max-message-mb`).
    pub after_login: usize,
}

impl Default for MessageCaps {
    fn default() -> Self {
        MessageCaps {
            before_login: BEFORE_LOGIN_CAP,
            after_login: DEFAULT_MAX_MESSAGE_MB << 20,
        }
    }
}

/// A message whose declared length is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Longer than the cap in force.
    #[error(
        "message too large: {kind} declares {declared} bytes, more than the {limit} a message \
         may have {when}"
    )]
    TooLarge {
        /// The message, as the client named it (`'Q'`, the startup message).
        kind: String,
        /// The length it declares.
        declared: u64,
        /// The cap, as the operator would write it.
        limit: String,
        /// Before login, or after (with the flag that sets it).
        when: &'static str,
    },
    /// Shorter than its own length field: no message can be that.
    #[error("invalid message length {declared} declared by {kind}")]
    Invalid {
        /// The message.
        kind: String,
        /// The length it declares.
        declared: i64,
    },
    /// Its fields do not fit in its length ([`super::bodies`]).
    #[error("invalid {kind}: {what}")]
    Malformed {
        /// The message.
        kind: String,
        /// What is wrong.
        what: &'static str,
    },
}

impl FrameError {
    /// The Postgres error the client is sent before the connection closes: `54000`
    /// (program_limit_exceeded) for a message over the cap, `08P01` (protocol_violation) for
    /// an impossible length.
    pub fn error_info(&self) -> ErrorInfo {
        let code = match self {
            FrameError::TooLarge { .. } => "54000",
            FrameError::Invalid { .. } | FrameError::Malformed { .. } => "08P01",
        };
        ErrorInfo::new("FATAL".to_string(), code.to_string(), self.to_string())
    }

    /// This error, if `error` is one (as it comes back through pgwire's codec).
    pub fn of(error: &io::Error) -> Option<&FrameError> {
        error.get_ref()?.downcast_ref::<FrameError>()
    }
}

impl From<FrameError> for io::Error {
    fn from(e: FrameError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// Where in the framing of the byte stream the reader is.
#[derive(Debug, Clone, Default)]
pub struct Framing {
    /// Past the startup-phase message: messages start with a type byte.
    typed: bool,
    /// The header read so far (type byte, if any, and length).
    header: [u8; 5],
    /// How many bytes of `header` are read.
    have: usize,
    /// Bytes of the current message's body still to come.
    body_left: u64,
    /// The check of the current message's fields, and its name.
    body: Option<(BodyCheck, String)>,
}

impl Framing {
    /// At the start of the stream after SSL negotiation (the startup or cancel message next).
    pub fn new() -> Self {
        Framing::default()
    }

    fn header_len(&self) -> usize {
        if self.typed {
            5
        } else {
            4
        }
    }

    /// Follow `bytes`, the next bytes of the stream, checking each header completed in them
    /// against `caps` and each body's fields. On a refused message: the offset in `bytes`
    /// where that message starts (0 when it started in earlier bytes; either way its last
    /// bytes are at or after it), and why.
    pub fn follow(&mut self, bytes: &[u8], caps: Cap) -> Result<(), (usize, FrameError)> {
        let mut at = 0;
        // Where the current message starts in `bytes`.
        let mut from = 0;
        while at < bytes.len() {
            if self.body_left > 0 {
                let take = self.body_left.min((bytes.len() - at) as u64);
                // `take` is at most `bytes.len() - at`, a usize.
                let end = at + take as usize;
                self.body_left -= take;
                self.check_body(&bytes[at..end]).map_err(|e| (from, e))?;
                at = end;
                continue;
            }
            if self.have == 0 {
                from = at;
            }
            let need = self.header_len() - self.have;
            let take = need.min(bytes.len() - at);
            self.header[self.have..self.have + take].copy_from_slice(&bytes[at..at + take]);
            self.have += take;
            at += take;
            if self.have == self.header_len() {
                self.check_header(caps).map_err(|e| (from, e))?;
                // A message without a body is complete with its header.
                self.check_body(&[]).map_err(|e| (from, e))?;
            }
        }
        Ok(())
    }

    /// Feed the body's next bytes to its check; when it has ended, whether it was whole.
    fn check_body(&mut self, bytes: &[u8]) -> Result<(), FrameError> {
        let Some((check, kind)) = &mut self.body else {
            return Ok(());
        };
        let mut result = check.feed(bytes);
        if result.is_ok() && self.body_left == 0 {
            result = check.finish();
        }
        let ended = self.body_left == 0;
        let result = result.map_err(|what| FrameError::Malformed {
            kind: kind.clone(),
            what,
        });
        if ended || result.is_err() {
            self.body = None;
        }
        result
    }

    fn check_header(&mut self, caps: Cap) -> Result<(), FrameError> {
        let (kind, len) = if self.typed {
            let [t, a, b, c, d] = self.header;
            (describe_type(t), i32::from_be_bytes([a, b, c, d]))
        } else {
            let [a, b, c, d, _] = self.header;
            (
                "the startup message".to_string(),
                i32::from_be_bytes([a, b, c, d]),
            )
        };
        self.have = 0;
        let declared = match u64::try_from(len) {
            Ok(n) if n >= 4 => n,
            _ => {
                return Err(FrameError::Invalid {
                    kind,
                    declared: len.into(),
                })
            }
        };
        if declared > caps.bytes as u64 {
            return Err(FrameError::TooLarge {
                kind,
                declared,
                limit: caps.describe(),
                when: if caps.logged_in {
                    "after login (--max-message-mb)"
                } else {
                    "before login"
                },
            });
        }
        if self.typed {
            self.body = Some((BodyCheck::new(self.header[0]), kind));
        }
        // Only one message comes before the typed ones (startup, or a cancel that ends it).
        self.typed = true;
        self.body_left = declared - 4;
        Ok(())
    }
}

/// A message type byte as a client would recognise it: `'Q'`, or its code when not printable.
fn describe_type(t: u8) -> String {
    if t.is_ascii_graphic() {
        format!("message '{}'", t as char)
    } else {
        format!("message of type {t}")
    }
}

/// The cap in force for the next header.
#[derive(Debug, Clone, Copy)]
pub struct Cap {
    bytes: usize,
    logged_in: bool,
}

impl Cap {
    /// The cap of `caps` for a client logged in or not.
    pub fn of(caps: MessageCaps, logged_in: bool) -> Self {
        Cap {
            bytes: if logged_in {
                caps.after_login
            } else {
                caps.before_login
            },
            logged_in,
        }
    }

    /// `16 MB`, `64 KB`, or bytes.
    fn describe(&self) -> String {
        match self.bytes {
            b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MB", b >> 20),
            b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KB", b >> 10),
            b => format!("{b} bytes"),
        }
    }
}

/// A connection's stream (after TLS) whose reads stop at a message over its cap.
pub struct Framed<IO> {
    io: IO,
    framing: Framing,
    caps: MessageCaps,
    logged_in: watch::Receiver<bool>,
    /// A refusal found after bytes still to deliver: returned by the next read.
    pending: Option<FrameError>,
}

impl<IO> Framed<IO> {
    /// `io` at the start of the startup-phase message; `logged_in` becomes true once the client
    /// has logged in.
    pub fn new(io: IO, caps: MessageCaps, logged_in: watch::Receiver<bool>) -> Self {
        Framed {
            io,
            framing: Framing::new(),
            caps,
            logged_in,
            pending: None,
        }
    }

    fn cap(&self) -> Cap {
        Cap::of(self.caps, *self.logged_in.borrow())
    }

    /// The stream itself, unchecked (to drop what a client still sends after its refusal).
    pub fn inner_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    /// Follow bytes read before this wrapper was in place (pgwire's negotiation buffer).
    pub fn follow_buffered(&mut self, bytes: &[u8]) -> Result<(), FrameError> {
        let cap = self.cap();
        self.framing.follow(bytes, cap).map_err(|(_, e)| e)
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Framed<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.pending.take() {
            return Poll::Ready(Err(e.into()));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        let cap = this.cap();
        match this.framing.follow(&buf.filled()[before..], cap) {
            Ok(()) => Poll::Ready(Ok(())),
            Err((0, e)) => {
                buf.set_filled(before);
                Poll::Ready(Err(e.into()))
            }
            Err((start, e)) => {
                // The messages before the refused one are delivered; the refusal comes next.
                buf.set_filled(before + start);
                this.pending = Some(e);
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Framed<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn typed(t: u8, declared: i32, body: usize) -> Vec<u8> {
        let mut m = vec![t];
        m.extend_from_slice(&declared.to_be_bytes());
        m.extend(std::iter::repeat_n(b'x', body));
        m
    }

    fn startup(body: usize) -> Vec<u8> {
        let mut m = ((body + 4) as i32).to_be_bytes().to_vec();
        m.extend(std::iter::repeat_n(0u8, body));
        m
    }

    const CAPS: MessageCaps = MessageCaps {
        before_login: 64,
        after_login: 1000,
    };

    /// `stream` fed in chunks cut at `cuts`: where the refusal withholds bytes from, and the
    /// start of the read it came in.
    fn follow_in_chunks(stream: &[u8], cuts: &[usize], logged_in: bool) -> Option<(usize, usize)> {
        let mut framing = Framing::new();
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort_unstable();
        points.dedup();
        for w in points.windows(2) {
            let (from, to) = (w[0], w[1]);
            if let Err((start, _)) = framing.follow(&stream[from..to], Cap::of(CAPS, logged_in)) {
                return Some((from + start, from));
            }
        }
        None
    }

    #[test]
    fn the_cap_in_force_is_named() {
        let mut framing = Framing::new();
        let err = framing
            .follow(&startup(100), Cap::of(MessageCaps::default(), false))
            .map(|_| ());
        assert_eq!(err, Ok(()));
        let (_, err) = framing
            .follow(
                &typed(b'Q', 600 << 20, 0),
                Cap::of(MessageCaps::default(), false),
            )
            .expect_err("refused");
        assert_eq!(
            err.to_string(),
            "message too large: message 'Q' declares 629145600 bytes, more than the 64 KB a \
             message may have before login"
        );
        let mut framing = Framing {
            typed: true,
            ..Framing::new()
        };
        let (_, err) = framing
            .follow(
                &typed(b'B', (16 << 20) + 1, 0),
                Cap::of(MessageCaps::default(), true),
            )
            .expect_err("refused");
        assert!(
            err.to_string()
                .contains("more than the 16 MB a message may have after login (--max-message-mb)"),
            "{err}"
        );
        assert_eq!(err.error_info().code, "54000");
    }

    proptest! {
        /// Whatever the message types, lengths and the way the stream is cut into reads, the
        /// first message declaring more than the cap (or less than 4) is refused, at its
        /// offset, and nothing before it.
        #[test]
        fn the_first_message_over_the_cap_is_refused_wherever_reads_are_cut(
            first in 0usize..80,
            // Types whose bodies have no fields to check (the checks have their own tests).
            messages in prop::collection::vec(
                (prop::sample::select(b"dpSHXc".to_vec()), -8i32..1100), 0..12),
            cuts in prop::collection::vec(any::<usize>(), 0..8),
            logged_in in any::<bool>(),
        ) {
            let cap = if logged_in { CAPS.after_login } else { CAPS.before_login };
            let mut stream = startup(first);
            let mut expected = (first + 4 > cap).then_some(0);
            for (t, declared) in messages {
                let at = stream.len();
                let valid = declared >= 4;
                let body = if valid { declared as usize - 4 } else { 0 };
                if expected.is_none() && (!valid || declared as usize > cap) {
                    expected = Some(at);
                }
                stream.extend(typed(t, declared, body));
                if !valid {
                    break;
                }
            }
            // Withheld from the refused message's start, or from the read its header ended in.
            let got = follow_in_chunks(&stream, &cuts, logged_in);
            prop_assert_eq!(got.map(|(at, read)| (at, at == expected.unwrap_or(0).max(read))),
                            expected.map(|e| (got.map_or(e, |g| g.0), true)));
        }
    }

    /// pgwire's decoding of one message whose header passed [`Framing`], in `phase`.
    fn decode(bytes: &[u8], startup: bool) -> std::thread::Result<()> {
        use pgwire::messages::{DecodeContext, PgWireFrontendMessage, ProtocolVersion};
        let mut ctx = DecodeContext::new(ProtocolVersion::PROTOCOL3_0);
        ctx.awaiting_frontend_ssl = false;
        ctx.awaiting_frontend_startup = startup;
        let mut buf = bytes::BytesMut::from(bytes);
        std::panic::catch_unwind(move || {
            let _ = PgWireFrontendMessage::decode(&mut buf, &ctx);
        })
    }

    /// A body made of protocol pieces: C strings, counts, lengths and loose bytes, so that
    /// well-formed messages of every type come up, and all the ways of not quite being one.
    fn pieces() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            prop::collection::vec(1u8..=255, 0..6).prop_map(|mut s| {
                s.push(0);
                s
            }),
            (0u16..4).prop_map(|n| n.to_be_bytes().to_vec()),
            (-3i32..8).prop_map(|n| n.to_be_bytes().to_vec()),
            prop::collection::vec(any::<u8>(), 0..6),
        ];
        prop::collection::vec(piece, 0..10).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
        /// Whatever the body of a message of any type, the framing refuses it or pgwire
        /// decodes it to a message or an error — never a panic.
        #[test]
        fn what_the_framing_lets_through_decodes_without_a_panic(
            t in prop::sample::select(b"pQPBDECSHXdcfFZ\0".to_vec()),
            body in prop_oneof![pieces(), prop::collection::vec(any::<u8>(), 0..48)],
        ) {
            let mut framing = Framing { typed: true, ..Framing::new() };
            let mut message = typed(t, body.len() as i32 + 4, 0);
            message.extend_from_slice(&body);
            if framing.follow(&message, Cap::of(CAPS, true)).is_ok() {
                prop_assert!(decode(&message, false).is_ok(), "type {} body {:?}", t, body);
            }
        }

        /// The startup-phase decoders need no more than the framing's length check.
        #[test]
        fn any_startup_message_decodes_without_a_panic(
            startup in prop::collection::vec(any::<u8>(), 0..48),
        ) {
            let mut first = ((startup.len() + 4) as i32).to_be_bytes().to_vec();
            first.extend_from_slice(&startup);
            prop_assert!(Framing::new().follow(&first, Cap::of(CAPS, false)).is_ok());
            prop_assert!(decode(&first, true).is_ok(), "startup {:?}", startup);
        }
    }
}
