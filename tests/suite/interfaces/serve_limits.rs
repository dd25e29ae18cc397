//! `jobsql serve` under pressure: rows streamed, statements stopped by a CancelRequest, a
//! disconnect or the statement timeout (their API requests stop, per the emulator's log), the
//! memory limit, connection and handshake caps, the auth timeout, failed logins (one message,
//! backed off), empty passwords.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::{pin_mut, StreamExt};
use jobsql_emulator::{EmulatorConfig, EmulatorHandle};
use jobsql_pgwire::{ServeError, ServeOptions};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_postgres::{NoTls, SimpleQueryMessage};

use super::common::{history_config, start};
use super::serve::{connect, connect_as, server_with, simple_rows};

/// An emulator whose full listing takes many pages, each answered after `latency`.
async fn big_emulator(runs: usize, latency: Duration) -> EmulatorHandle {
    start(EmulatorConfig {
        latency,
        ..history_config(runs, 7)
    })
    .await
}

fn options() -> ServeOptions {
    ServeOptions::new("127.0.0.1:0".parse().expect("addr"))
}

/// The SQLSTATE of a failed call.
fn code(err: &tokio_postgres::Error) -> String {
    err.as_db_error()
        .map(|e| e.code().code().to_string())
        .unwrap_or_else(|| format!("not a Postgres error: {err:?}"))
}

/// Wait (up to 10 s) until the emulator has received at least `n` requests.
async fn until_requests(emu: &EmulatorHandle, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while emu.requests().len() < n {
        assert!(Instant::now() < deadline, "the scan never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The requests the emulator receives from now until they stop for `quiet`, at most 10 s.
async fn requests_until_quiet(emu: &EmulatorHandle, quiet: Duration) -> usize {
    let start = emu.requests().len();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = start;
    loop {
        tokio::time::sleep(quiet).await;
        let now = emu.requests().len();
        if now == last || Instant::now() > deadline {
            return now - start;
        }
        last = now;
    }
}

const FULL_SCAN: &str = "SELECT run_id, state FROM databricks_workspace.jobs.job_runs";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_query_rows_are_streamed_before_the_scan_ends() {
    // 4,000 runs: 160 pages of 20 ms each, 16 at a time: the scan takes > 200 ms.
    let emu = big_emulator(4000, Duration::from_millis(20)).await;
    let server = server_with(&emu, options()).await;
    let client = connect(server.local_addr()).await;
    emu.clear_requests();
    let stream = client.simple_query_raw(FULL_SCAN).await.expect("starts");
    pin_mut!(stream);
    let first = loop {
        match stream.next().await.expect("a message").expect("no error") {
            SimpleQueryMessage::Row(row) => break row,
            _ => continue,
        }
    };
    assert!(first.get(0).is_some());
    let at_first_row = emu.requests().len();
    let mut rows = 1;
    while let Some(message) = stream.next().await {
        if let SimpleQueryMessage::Row(_) = message.expect("no error") {
            rows += 1;
        }
    }
    let total = emu.requests().len();
    assert_eq!(rows, 4000);
    assert!(
        at_first_row < total / 2,
        "the first row came after {at_first_row} of {total} requests: the result was buffered"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_request_stops_the_statement_and_its_requests() {
    // 20,000 runs: 800 pages of 20 ms; the scan would take about a second.
    let emu = big_emulator(20_000, Duration::from_millis(20)).await;
    let server = server_with(&emu, options()).await;
    let client = connect(server.local_addr()).await;
    let cancel = client.cancel_token();
    emu.clear_requests();
    let started = Instant::now();
    let query = tokio::spawn(async move {
        let result = client
            .simple_query("SELECT count(*) FROM databricks_workspace.jobs.job_runs")
            .await;
        (client, result)
    });
    until_requests(&emu, 20).await;
    cancel.cancel_query(NoTls).await.expect("cancel sent");
    let (client, result) = query.await.expect("joins");
    let err = result.expect_err("canceled");
    assert_eq!(code(&err), "57014", "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let sent = emu.requests().len();
    let after = requests_until_quiet(&emu, Duration::from_millis(300)).await;
    // At most the requests in flight (--max-concurrency, 16) arrive after the cancel.
    assert!(after <= 16, "{after} requests after the cancel");
    assert!(sent < 700, "{sent} requests: the scan was not stopped");
    // The connection is still usable.
    let rows = simple_rows(&client.simple_query("SELECT 1").await.expect("usable"));
    assert_eq!(rows, [[Some("1".to_string())]]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_stops_its_statement_and_its_requests() {
    let emu = big_emulator(20_000, Duration::from_millis(20)).await;
    let server = server_with(&emu, options()).await;
    let addr = server.local_addr();
    let mut config = tokio_postgres::Config::new();
    config
        .host(addr.ip().to_string())
        .port(addr.port())
        .user("u")
        .dbname("jobsql");
    let (client, connection) = config.connect(NoTls).await.expect("connects");
    let connection = tokio::spawn(connection);
    emu.clear_requests();
    let query = tokio::spawn(async move {
        let _ = client
            .simple_query("SELECT count(*) FROM databricks_workspace.jobs.job_runs")
            .await;
    });
    until_requests(&emu, 20).await;
    // The client goes away: its socket is closed.
    connection.abort();
    query.abort();
    let _ = connection.await;
    let at_close = emu.requests().len();
    let after = requests_until_quiet(&emu, Duration::from_millis(300)).await;
    assert!(
        after <= 16,
        "{after} requests after the disconnect ({at_close} before)"
    );
    assert!(at_close + after < 700, "the scan ran to its end");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statement_timeout_stops_a_slow_statement() {
    let emu = big_emulator(300, Duration::from_secs(3)).await;
    let mut options = options();
    options.limits.statement_timeout = Duration::from_millis(300);
    let server = server_with(&emu, options).await;
    let client = connect(server.local_addr()).await;
    let started = Instant::now();
    let err = client
        .simple_query("SELECT count(*) FROM databricks_workspace.jobs.job_runs")
        .await
        .expect_err("times out");
    assert_eq!(code(&err), "57014", "{err:?}");
    let message = err.as_db_error().map(|e| e.message().to_string());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("statement timeout") && m.contains("0.3 s")),
        "{message:?}"
    );
    // The extended protocol too.
    let err = client
        .query(
            "SELECT count(*) FROM databricks_workspace.jobs.job_runs",
            &[],
        )
        .await
        .expect_err("times out");
    assert_eq!(code(&err), "57014", "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let rows = simple_rows(&client.simple_query("SELECT 1").await.expect("usable"));
    assert_eq!(rows, [[Some("1".to_string())]]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statement_timeout_stops_rows_already_streaming() {
    let emu = big_emulator(20_000, Duration::from_millis(20)).await;
    let mut options = options();
    options.limits.statement_timeout = Duration::from_millis(400);
    let server = server_with(&emu, options).await;
    let client = connect(server.local_addr()).await;
    emu.clear_requests();
    let stream = client.simple_query_raw(FULL_SCAN).await.expect("starts");
    pin_mut!(stream);
    let mut rows = 0;
    let err = loop {
        match stream.next().await {
            Some(Ok(SimpleQueryMessage::Row(_))) => rows += 1,
            Some(Ok(_)) => {}
            Some(Err(e)) => break e,
            None => panic!("the scan ended: {rows} rows"),
        }
    };
    assert_eq!(code(&err), "57014", "{err:?}");
    assert!(rows > 0 && rows < 20_000, "{rows} rows before the timeout");
    let sent = emu.requests().len();
    let after = requests_until_quiet(&emu, Duration::from_millis(300)).await;
    assert!(after <= 16, "{after} requests after the timeout");
    assert!(sent < 700, "{sent} requests");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_over_the_memory_limit_fails_and_the_connection_goes_on() {
    let emu = big_emulator(300, Duration::ZERO).await;
    let mut options = options();
    options.limits.memory_limit_bytes = 16 << 20;
    let server = server_with(&emu, options).await;
    let client = connect(server.local_addr()).await;
    assert_over_memory(&client, "--memory-limit-mb").await;
    // Within the limit, the same kind of query works.
    let rows = simple_rows(
        &client
            .simple_query("SELECT count(DISTINCT v) FROM range(1000) t(v)")
            .await
            .expect("small enough"),
    );
    assert_eq!(rows, [[Some("1000".to_string())]]);
    server.shutdown().await;

    // The server's total bounds statements under their own limit too.
    let mut options = self::options();
    options.limits.memory_limit_bytes = 256 << 20;
    options.limits.total_memory_limit_bytes = 16 << 20;
    let server = server_with(&emu, options).await;
    let client = connect(server.local_addr()).await;
    assert_over_memory(&client, "--total-memory-limit-mb").await;
    server.shutdown().await;
}

/// [`HEAVY`] on `client` fails with 53200 (out of memory), naming the 16 MB limit and `flag`.
async fn assert_over_memory(client: &tokio_postgres::Client, flag: &str) {
    let err = client
        .simple_query(HEAVY)
        .await
        .expect_err("over the limit");
    assert_eq!(code(&err), "53200", "{err:?}");
    let message = err.as_db_error().map(|e| e.message().to_string());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("16 MB") && m.contains(flag)),
        "{flag}: {message:?}"
    );
}

/// An aggregation holding 3,000,000 groups (the key is not in the input's order).
const HEAVY: &str = "SELECT k, count(*) FROM (SELECT (v * 7919) % 2999999 AS k \
                     FROM range(3000000) t(v)) GROUP BY k ORDER BY count(*) DESC LIMIT 1";

/// Read from `socket` until the server closes it; how long that took.
async fn closed_after(mut socket: TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(limit, async {
        while socket.read(&mut buf).await.is_ok_and(|n| n > 0) {}
    })
    .await;
    assert!(read.is_ok(), "the socket was still open after {limit:?}");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_are_capped_and_closed_after_the_auth_timeout() {
    let emu = big_emulator(300, Duration::ZERO).await;
    let mut options = options();
    options.limits.max_connections = 3;
    options.limits.auth_timeout = Duration::from_millis(500);
    let server = server_with(&emu, options).await;
    let addr = server.local_addr();
    // Three sockets that never log in fill the handshake slots...
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(addr).await.expect("connects"));
    }
    // ... so a fourth connection is refused as Postgres does: 53300.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let err = connect_as(addr, "u", None).await.expect_err("refused");
    assert_eq!(code(&err), "53300", "{err:?}");
    // The idle ones are closed by the auth timeout.
    for socket in idle {
        let took = closed_after(socket, Duration::from_secs(5)).await;
        assert!(took < Duration::from_secs(2), "{took:?}");
    }

    // Sessions are capped the same way; a freed slot is taken again.
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(connect(addr).await);
    }
    let err = connect_as(addr, "u", None).await.expect_err("refused");
    assert_eq!(code(&err), "53300", "{err:?}");
    for client in &clients {
        client.simple_query("SELECT 1").await.expect("still served");
    }
    drop(clients.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match connect_as(addr, "u", None).await {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                assert_eq!(code(&e), "53300");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("the freed slot was not reused: {e:?}"),
        }
    }
    server.shutdown().await;
}

/// A Postgres 3.0 startup packet for `user` (with `password` auth, the server then waits for
/// the password).
pub(super) fn startup_packet(user: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&196608i32.to_be_bytes());
    for (k, v) in [("user", user), ("database", "jobsql")] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut packet = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    packet.extend(body);
    packet
}

async fn login_error(addr: SocketAddr, user: &str, password: &str) -> (String, String) {
    let err = connect_as(addr, user, Some(password))
        .await
        .expect_err("refused");
    let db = err.as_db_error().expect("a Postgres error");
    (db.code().code().to_string(), db.message().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_look_alike_and_are_backed_off() {
    let emu = big_emulator(300, Duration::ZERO).await;
    // Generous windows: each login is a SCRAM exchange (4,096 PBKDF2 rounds in the client, a
    // debug build) on a loaded 2-core machine, which must fit inside both of them.
    let backoff = Duration::from_millis(1500);
    let mut options = ServeOptions {
        user: Some("analyst".into()),
        password: Some("s3cret".into()),
        ..options()
    };
    options.limits.login_backoff = backoff;
    options.limits.auth_timeout = Duration::from_millis(1500);
    let server = server_with(&emu, options).await;
    let addr = server.local_addr();
    // A client that starts but never answers the password challenge is closed by the auth
    // timeout.
    let mut half = TcpStream::connect(addr).await.expect("connects");
    tokio::io::AsyncWriteExt::write_all(&mut half, &startup_packet("analyst"))
        .await
        .expect("writes");
    let took = closed_after(half, Duration::from_secs(10)).await;
    assert!(took >= Duration::from_millis(1400), "{took:?}");
    // An unknown user and a wrong password: the same error, naming only the user given.
    let unknown = login_error(addr, "nobody", "s3cret").await;
    let failed_at = Instant::now();
    assert_eq!(
        unknown,
        (
            "28P01".to_string(),
            "password authentication failed for user \"nobody\"".to_string()
        )
    );
    let wrong = login_error(addr, "analyst", "guess").await;
    assert_eq!(
        wrong,
        (
            "28P01".to_string(),
            "password authentication failed for user \"analyst\"".to_string()
        )
    );
    // Right after failures, even the right password is not checked: guessing is slowed.
    let right_too_soon = login_error(addr, "analyst", "s3cret").await;
    assert_eq!(right_too_soon, wrong);
    assert!(
        failed_at.elapsed() < backoff,
        "the test machine is too slow"
    );
    // Once the backoff has passed, the right password gets in.
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        match connect_as(addr, "analyst", Some("s3cret")).await {
            Ok(client) => break client,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("never let in: {e:?}"),
        }
    };
    assert!(failed_at.elapsed() >= backoff);
    client.simple_query("SELECT 1").await.expect("logged in");
    // Guessing as fast as possible keeps the address backed off: the right password, right
    // after, is still refused (the soak test counts the guesses actually checked).
    // (A fixed number of guesses, not a time window: a loaded machine makes fewer.)
    for _ in 0..12 {
        let _ = login_error(addr, "analyst", "guess").await;
    }
    assert_eq!(login_error(addr, "analyst", "s3cret").await, wrong);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_password_is_no_password() {
    let exposed = ServeOptions {
        password: Some(String::new()),
        ..ServeOptions::new("0.0.0.0:0".parse().expect("addr"))
    };
    let err = exposed.check().expect_err("refused");
    assert!(matches!(err, ServeError::Unprotected(_)), "{err}");
    let with_user = ServeOptions {
        user: Some("u".into()),
        password: Some(String::new()),
        ..options()
    };
    assert!(matches!(
        with_user.check(),
        Err(ServeError::UserWithoutPassword)
    ));
    // The command refuses it before starting anything.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_jobsql"))
        .args(["serve", "--addr", "0.0.0.0:0", "--password", ""])
        .env_remove("JOBSQL_SERVE_PASSWORD")
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("without a password"), "{stderr}");
    // On loopback it is an open server: a client gets in with any password or none.
    let emu = big_emulator(300, Duration::ZERO).await;
    let server = server_with(
        &emu,
        ServeOptions {
            password: Some(String::new()),
            ..options()
        },
    )
    .await;
    connect(server.local_addr())
        .await
        .simple_query("SELECT 1")
        .await
        .expect("open");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_query_rows_are_streamed_before_the_scan_ends() {
    // The extended protocol answers through the same statement stream as the simple one.
    let emu = big_emulator(4000, Duration::from_millis(20)).await;
    let server = server_with(&emu, options()).await;
    let client = connect(server.local_addr()).await;
    let statement = client.prepare(FULL_SCAN).await.expect("prepares");
    emu.clear_requests();
    let none: [&(dyn tokio_postgres::types::ToSql + Sync); 0] = [];
    let stream = client.query_raw(&statement, none).await.expect("starts");
    pin_mut!(stream);
    let first = stream.next().await.expect("a row").expect("no error");
    let run_id: i64 = first.get(0);
    assert!(run_id > 0);
    let at_first_row = emu.requests().len();
    let mut rows = 1;
    while let Some(row) = stream.next().await {
        row.expect("no error");
        rows += 1;
    }
    let total = emu.requests().len();
    assert_eq!(rows, 4000);
    assert!(
        at_first_row < total / 2,
        "the first row came after {at_first_row} of {total} requests: the result was buffered"
    );
    server.shutdown().await;
}
