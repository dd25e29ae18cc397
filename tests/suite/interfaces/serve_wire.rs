//! `jobsql serve` (the built binary, a process of its own) against clients that write the
//! Postgres protocol by hand over raw sockets: issue 27's findings 4 and 5, and malformed SASL.
//!
//! - Finding 4: a message declaring more than its cap is refused from its header, its body not
//!   buffered: before login (64 KiB) a `Q` declaring 600 MB and a startup message declaring
//!   2 GB, on 8 sockets at once that keep sending: each is answered `FATAL 54000` naming the
//!   cap and closed, the server stops reading, its peak memory (VmHWM) stays low, and a normal
//!   client is answered afterwards. After login, `--max-message-mb 1` refuses a 2 MB query sent
//!   whole, naming the flag, while a 0.9 MB one is answered.
//! - Finding 5: 40 SCRAM-SHA-256 handshakes from 127.0.0.1 brought to their client-final
//!   together; 39 wrong proofs sent at once and the right proof right after the first refusal:
//!   the right one is refused (the address and the account are backed off), the server's log
//!   shows at most a handful of passwords checked, and once the backoff has passed the right
//!   password gets in.
//! - A malformed SASLInitialResponse, a client-final with another nonce or that does not parse:
//!   `FATAL 08P01` for that client, no password counted, the server alive and answering.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jobsql_emulator::{EmulatorConfig, EmulatorHandle};
use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_postgres::SimpleQueryMessage;

use super::common::start;
use super::serve_limits::startup_packet;
use crate::support::process::ServeProcess;

mod protocol;
use protocol::{
    message, next, nonce_of, outcome, query, raw_login, the_error, to_client_final, until_closed,
    wrong_client_final, Backend, Outcome,
};

const USER: &str = "analyst";
const PASSWORD: &str = "wire-password-7c2d";
/// The server's first login backoff (`Limits::default().login_backoff`; not a flag).
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The bound on the server's peak resident memory while 8 sockets each declare hundreds of MB
/// and keep sending: its baseline and 8 connections' sessions. One such message buffered would
/// be 600 MB.
const MAX_PEAK_MB: u64 = 150;
/// The most of a refused message's body a socket may get into the server before it stops
/// reading: the kernel's socket buffers on loopback (a few MB each way) and the 1 MB the server
/// reads and drops while it closes.
const MAX_SENT_AFTER_REFUSAL: usize = 32 << 20;

/// `jobsql serve --user analyst` with a password (SCRAM-SHA-256), its stderr in a log file.
struct Server {
    process: ServeProcess,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(emu: &EmulatorHandle, args: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("serve.log");
        let file = std::fs::File::create(&log).expect("log file");
        let mut all = vec!["--user", USER];
        all.extend_from_slice(args);
        let process = ServeProcess::against(
            &emu.base_url(),
            emu.token(),
            &all,
            &[("JOBSQL_SERVE_PASSWORD", PASSWORD)],
            file,
        );
        Server {
            process,
            log,
            _dir: dir,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.process.addr
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Passwords checked and found wrong, per the server's log (one line each).
    fn checked(&self) -> usize {
        self.log().matches("failed login for user").count()
    }

    /// A client (tokio-postgres) logs in with the right password and `SELECT 1` is answered.
    async fn answers_a_client(&self) {
        let client = self
            .process
            .login(USER, PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("not let in: {e:?}; log: {}", self.log()));
        let messages = client.simple_query("SELECT 1").await.expect("answered");
        let values: Vec<&str> = messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => r.get(0),
                _ => None,
            })
            .collect();
        assert_eq!(values, ["1"]);
    }

    /// Alive, answering, and no trace of a crash or a caught panic in its log.
    async fn is_well(&self) {
        assert!(self.process.alive(), "the server died: {}", self.log());
        self.answers_a_client().await;
        let log = self.log();
        for crash in [
            "internal error",
            "panicked",
            "overflowed its stack",
            "aborting",
        ] {
            assert!(!log.contains(crash), "{crash}: {log}");
        }
    }
}

async fn emulator() -> EmulatorHandle {
    start(EmulatorConfig {
        runs: 30,
        jobs: 5,
        seed: 27,
        ..EmulatorConfig::default()
    })
    .await
}

// --- Finding 4: message caps. ---

/// What one socket saw when it sent `prelude` and `header`, then kept sending the body its
/// header declares (up to `limit` bytes) while reading what the server said.
struct Flood {
    messages: Vec<Backend>,
    closed: bool,
    /// Body bytes the socket took before a write failed.
    sent: usize,
}

async fn flood(addr: SocketAddr, prelude: Vec<u8>, header: Vec<u8>, limit: usize) -> Flood {
    let socket = TcpStream::connect(addr).await.expect("connects");
    let (mut read, mut write) = socket.into_split();
    let sent = Arc::new(AtomicUsize::new(0));
    let writer = {
        let sent = sent.clone();
        tokio::spawn(async move {
            if write.write_all(&prelude).await.is_err() || write.write_all(&header).await.is_err() {
                return;
            }
            let chunk = vec![b'x'; 64 << 10];
            while sent.load(Ordering::Relaxed) < limit {
                if write.write_all(&chunk).await.is_err() {
                    return;
                }
                sent.fetch_add(chunk.len(), Ordering::Relaxed);
            }
        })
    };
    let (messages, closed) = until_closed(&mut read, Duration::from_secs(30)).await;
    // The writer's next write fails once the server has closed.
    let stopped = tokio::time::timeout(Duration::from_secs(10), async {
        while !writer.is_finished() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    writer.abort();
    assert!(stopped.is_ok(), "the socket could still be written to");
    Flood {
        messages,
        closed,
        sent: sent.load(Ordering::Relaxed),
    }
}

/// A `Q` declaring 600 MB after a startup message (before login), and a startup message
/// declaring 2 GB, on `SOCKETS` sockets at once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_login_a_huge_declared_message_is_refused_from_its_header_on_many_sockets() {
    const SOCKETS: usize = 8;
    const QUERY_DECLARES: i32 = 600 << 20;
    const STARTUP_DECLARES: i32 = 2_000_000_000;
    // Each socket goes on sending the body well past what a server that stopped reading can
    // take in (and a server that buffered it would hold SOCKETS × this much).
    const LIMIT: usize = 128 << 20;
    let emu = emulator().await;
    let server = Server::start(&emu, &[]);
    server.answers_a_client().await;
    let baseline = server.process.peak_mb();

    let mut header = vec![b'Q'];
    header.extend_from_slice(&QUERY_DECLARES.to_be_bytes());
    let floods: Vec<_> = (0..SOCKETS)
        .map(|_| {
            tokio::spawn(flood(
                server.addr(),
                startup_packet(USER),
                header.clone(),
                LIMIT,
            ))
        })
        .chain((0..SOCKETS).map(|_| {
            tokio::spawn(flood(
                server.addr(),
                Vec::new(),
                STARTUP_DECLARES.to_be_bytes().to_vec(),
                LIMIT,
            ))
        }))
        .collect();
    let mut most_sent = 0;
    for (i, flood) in floods.into_iter().enumerate() {
        let flood = flood.await.expect("joins");
        let (what, declared) = if i < SOCKETS {
            ("message 'Q'", QUERY_DECLARES)
        } else {
            ("the startup message", STARTUP_DECLARES)
        };
        assert!(flood.closed, "{what}: the server kept the socket open");
        let error = the_error(&flood.messages);
        error.assert_fatal(
            "54000",
            &[
                &format!("{what} declares {declared} bytes"),
                "64 KB",
                "before login",
            ],
        );
        // Nothing was answered but the SASL request (after the startup message) and the error.
        assert!(
            flood
                .messages
                .iter()
                .all(|m| m.tag == b'E' || m.auth_code() == Some(10)),
            "{:?}",
            flood.messages
        );
        assert!(
            flood.sent < MAX_SENT_AFTER_REFUSAL,
            "{what}: the socket took {} bytes of the body: the server kept reading",
            flood.sent
        );
        most_sent = most_sent.max(flood.sent);
    }
    let peak = server.process.peak_mb();
    eprintln!(
        "finding 4: {SOCKETS} sockets declaring {QUERY_DECLARES} bytes in a 'Q' and {SOCKETS} \
         declaring {STARTUP_DECLARES} in a startup message, each sending on: server peak RSS \
         {peak} MB (baseline {baseline} MB); at most {most_sent} body bytes taken by a socket \
         before the server closed it"
    );
    assert!(peak < MAX_PEAK_MB, "peak RSS {peak} MB");
    server.is_well().await;
}

/// `--max-message-mb 1`: a 2 MB query sent whole after login is refused naming the cap; a
/// 0.9 MB one is answered; the server goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_login_a_message_over_max_message_mb_is_refused_naming_the_flag() {
    let emu = emulator().await;
    let server = Server::start(&emu, &["--max-message-mb", "1"]);
    let mut socket = raw_login(server.addr(), PASSWORD)
        .await
        .unwrap_or_else(|o| panic!("not logged in: {o:?}; log: {}", server.log()));

    // Under the cap: answered, and right.
    let under = 900_000;
    socket
        .write_all(&query(&format!("SELECT length('{}')", "x".repeat(under))))
        .await
        .expect("writes");
    let mut value = None;
    loop {
        let m = next(&mut socket).await.expect("an answer");
        assert!(m.error().is_none(), "{:?}", m.error());
        value = value.or(m.first_value());
        if m.tag == b'Z' {
            break;
        }
    }
    assert_eq!(value, Some(under.to_string()));

    // Over it: a 2 MB query, sent whole (as far as the server reads it), in 64 KB writes.
    // (Written in one 2 MB write, about 1 run in 30 read no error at all, the connection reset:
    // the server reads at most 1 MB past a refused header before it closes, and a close with
    // bytes unread resets the connection.)
    let sql = format!("SELECT length('{}')", "x".repeat(2 << 20));
    let big = query(&sql);
    let declared = big.len() - 1;
    let (mut read, mut write) = socket.into_split();
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let written = written.clone();
        tokio::spawn(async move {
            for chunk in big.chunks(64 << 10) {
                if write.write_all(chunk).await.is_err() {
                    return false;
                }
                written.fetch_add(chunk.len(), Ordering::Relaxed);
            }
            true
        })
    };
    let (messages, closed) = until_closed(&mut read, Duration::from_secs(20)).await;
    let wrote_it_all = writer.await.expect("joins");
    let written = written.load(Ordering::Relaxed);
    assert!(
        !messages.is_empty(),
        "no answer (closed: {closed}); log: {}",
        server.log()
    );
    let error = the_error(&messages);
    eprintln!(
        "after login: a {declared}-byte query ({written} bytes written, {}) got {error:?}",
        if wrote_it_all {
            "all"
        } else {
            "then a write failed"
        }
    );
    assert!(closed, "the connection stayed open");
    error.assert_fatal(
        "54000",
        &[
            &format!("message 'Q' declares {declared} bytes"),
            "1 MB",
            "--max-message-mb",
        ],
    );
    server.is_well().await;
}

// --- Finding 5: the login backoff across concurrent handshakes. ---

/// 40 handshakes at their client-final at once: 39 wrong proofs, then the right one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_handshakes_check_a_handful_of_passwords_and_the_right_one_waits_its_backoff() {
    const HANDSHAKES: usize = 40;
    let emu = emulator().await;
    let server = Server::start(&emu, &[]);
    let addr = server.addr();

    // All 40 brought to the step before the client-final, the right one's proof computed.
    let mut right = ScramSha256::new(PASSWORD.as_bytes(), ChannelBinding::unsupported());
    let (mut right_socket, server_first) = to_client_final(addr, right.message()).await;
    right.update(&server_first).expect("a server-first message");
    let right_final = message(b'p', right.message());
    let mut wrong = Vec::new();
    for i in 0..HANDSHAKES - 1 {
        let guess = ScramSha256::new(b"not the password", ChannelBinding::unsupported());
        let (socket, server_first) = to_client_final(addr, guess.message()).await;
        let seed = u8::try_from(i).expect("fits");
        wrong.push((socket, wrong_client_final(&server_first, None, seed)));
    }
    assert_eq!(server.checked(), 0, "{}", server.log());

    // The 39 wrong ones, all at once.
    let barrier = Arc::new(tokio::sync::Barrier::new(HANDSHAKES));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for (mut socket, client_final) in wrong {
        let (barrier, tx) = (barrier.clone(), tx.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            socket.write_all(&client_final).await.expect("writes");
            let _ = tx.send((Instant::now(), outcome(&mut socket).await));
        });
    }
    drop(tx);
    barrier.wait().await;
    // The right one as soon as the first of them is answered: a password has been checked.
    let (first_at, first) = rx.recv().await.expect("an outcome");
    right_socket.write_all(&right_final).await.expect("writes");
    let right_outcome = outcome(&mut right_socket).await;
    let right_in = first_at.elapsed();
    let mut outcomes = vec![first];
    while let Some((_, o)) = rx.recv().await {
        outcomes.push(o);
    }
    let checked = server.checked();
    eprintln!(
        "finding 5: {HANDSHAKES} handshakes at their client-final; {checked} passwords checked \
         (per the log); the right proof, sent after the first refusal, got {right_outcome:?}"
    );
    assert!(
        right_in < FIRST_BACKOFF,
        "the test machine is too slow: the right proof was answered {right_in:?} after the \
         first refusal"
    );
    let failed = "password authentication failed for user \"analyst\"";
    assert_eq!(outcomes.len(), HANDSHAKES - 1);
    for o in &outcomes {
        assert!(
            matches!(o, Outcome::Refused(e) if e.code == "28P01" && e.message == failed),
            "{o:?}"
        );
    }
    assert!(
        matches!(&right_outcome, Outcome::Refused(e) if e.code == "28P01" && e.message == failed),
        "the right password was let in (or not refused as a failed login) right after \
         {checked} failures: {right_outcome:?}"
    );
    assert!(
        (1..=3).contains(&checked),
        "{checked} passwords checked of {HANDSHAKES}: {}",
        server.log()
    );

    // Once the backoff has passed, the right password gets in, through the same hand-written
    // handshake (each checked failure doubles the backoff: 1 s, 2 s, 4 s for 1, 2, 3 of them).
    let backoff = FIRST_BACKOFF * (1 << (checked - 1));
    tokio::time::sleep(
        (first_at + backoff + Duration::from_millis(200)).saturating_duration_since(Instant::now()),
    )
    .await;
    let started = Instant::now();
    let mut socket = raw_login(addr, PASSWORD)
        .await
        .unwrap_or_else(|o| panic!("refused after the backoff: {o:?}; log: {}", server.log()));
    eprintln!(
        "finding 5: let in {:?} after the first refusal (backoff {backoff:?})",
        first_at.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    socket
        .write_all(&query("SELECT 41 + 1"))
        .await
        .expect("writes");
    let mut value = None;
    while let Some(m) = next(&mut socket).await {
        value = value.or(m.first_value());
        if m.tag == b'Z' {
            break;
        }
    }
    assert_eq!(value.as_deref(), Some("42"));
    assert_eq!(server.checked(), checked, "no further password failed");
    assert!(!server.log().contains(PASSWORD), "{}", server.log());
    server.is_well().await;
}

// --- Malformed SASL. ---

/// A client-final made from the server-first message.
type ClientFinal = dyn Fn(&[u8]) -> Vec<u8>;

/// Garbage SASLInitialResponses and client-finals: each a protocol error for its client, no
/// password counted, the server alive and answering at once (no backoff).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_sasl_messages_are_errors_for_their_client_only() {
    let emu = emulator().await;
    let server = Server::start(&emu, &[]);
    let addr = server.addr();
    let mut errors = Vec::new();

    // SASLInitialResponses that do not hold together (they panicked pgwire's decoding).
    for body in [
        &b"SCRAM-SHA-256\0\x7f\xff\xff\xffabc"[..],
        b"SCRAM-SHA-256\0\xff\xff\xff\xfe",
        b"SCRAM-SHA-256\0\0\0",
        b"SCRAM-SHA-256\0",
        b"no terminator",
        b"",
    ] {
        let mut socket = TcpStream::connect(addr).await.expect("connects");
        socket
            .write_all(&startup_packet(USER))
            .await
            .expect("writes");
        let sasl = next(&mut socket).await.expect("an authentication request");
        assert_eq!(sasl.auth_code(), Some(10), "{sasl:?}");
        socket
            .write_all(&message(b'p', body))
            .await
            .expect("writes");
        let (messages, closed) = until_closed(&mut socket, Duration::from_secs(10)).await;
        assert!(closed, "{body:?}: left open");
        errors.push((
            String::from_utf8_lossy(body).into_owned(),
            the_error(&messages),
        ));
    }
    // Client-finals: another nonce, no proof, not SCRAM at all.
    let finals: [(&str, &ClientFinal); 3] = [
        ("another nonce", &|sf| {
            wrong_client_final(sf, Some("not-the-nonce"), 1)
        }),
        ("no proof", &|sf| {
            message(b'p', format!("c=biws,r={}", nonce_of(sf)).as_bytes())
        }),
        ("not SCRAM", &|_| message(b'p', b"\xff\xfe garbage \0\0")),
    ];
    for (what, client_final) in finals {
        let client = ScramSha256::new(PASSWORD.as_bytes(), ChannelBinding::unsupported());
        let (mut socket, server_first) = to_client_final(addr, client.message()).await;
        socket
            .write_all(&client_final(&server_first))
            .await
            .expect("writes");
        let (messages, closed) = until_closed(&mut socket, Duration::from_secs(10)).await;
        assert!(closed, "{what}: left open");
        errors.push((what.to_string(), the_error(&messages)));
    }
    for (what, error) in &errors {
        eprintln!("malformed SASL: {what:?} got {error:?}");
        error.assert_fatal("08P01", &[]);
        assert!(
            error
                .message
                .starts_with("invalid authentication message: "),
            "{what:?}: {error:?}"
        );
    }
    // None of them was a password checked: the next client is let in at once, no backoff.
    assert_eq!(server.checked(), 0, "{}", server.log());
    let started = Instant::now();
    raw_login(addr, PASSWORD)
        .await
        .unwrap_or_else(|o| panic!("not let in: {o:?}; log: {}", server.log()));
    assert!(started.elapsed() < FIRST_BACKOFF, "{:?}", started.elapsed());
    server.is_well().await;
}
