//! Canceling a slow scan from real clients: psql interrupted by SIGINT (it sends a
//! `CancelRequest` on a new connection) and psycopg 3's `conn.cancel()` / `cancel_safe()` from
//! another thread, in clear and over TLS. Each must end with `57014 canceling statement due to
//! user request`, and the emulator's request log must stop growing within 1 s of the cancel.

use std::process::Child;
use std::time::{Duration, Instant};

use jobsql_emulator::{EmulatorConfig, EmulatorHandle};
use jobsql_pgwire::{AuthMethod, ServerHandle};

use super::common::{history_config, start};
use super::serve_security::{conninfo, secured, test_certificate, PASSWORD};
use crate::support::clients::{psql_spawn, python_spawn};

/// 20,000 runs: 800 pages of 100 ms, 16 at a time: the whole scan takes about 5 s.
const PAGES: usize = 800;

const SLOW_SCAN: &str = "SELECT count(*) FROM databricks_workspace.jobs.job_runs";

async fn slow_emulator() -> EmulatorHandle {
    start(EmulatorConfig {
        latency: Duration::from_millis(100),
        ..history_config(20_000, 7)
    })
    .await
}

/// Wait (up to 20 s) until the emulator has received `n` requests: the scan is running.
async fn until_requests(emu: &EmulatorHandle, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while emu.requests().len() < n {
        assert!(Instant::now() < deadline, "the scan never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How long after `since` the emulator's request log last grew, watched for 2 s after it.
pub(super) async fn last_growth_after(emu: &EmulatorHandle, since: Instant) -> Duration {
    let mut count = emu.requests().len();
    let mut last = Duration::ZERO;
    while since.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = emu.requests().len();
        if now != count {
            count = now;
            last = since.elapsed();
        }
    }
    last
}

fn signal(child: &Child, signal: i32) {
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) on a child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "signal sent");
}

/// Runs `child` until it ends; its stdout and stderr.
async fn finish(child: Child) -> (String, String) {
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("joins")
        .expect("client ends");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// psql runs the slow scan, is sent SIGINT once it is running: it reports the cancel and the
/// requests stop.
async fn psql_ctrl_c(emu: &EmulatorHandle, server: &ServerHandle, sslmode: &str) {
    emu.clear_requests();
    let info = conninfo(server, &format!("sslmode={sslmode}"));
    let child = psql_spawn(&["-X", "-d", &info, "-c", SLOW_SCAN], Some(PASSWORD));
    until_requests(emu, 20).await;
    let canceled = Instant::now();
    signal(&child, libc::SIGINT);
    let (stdout, stderr) = finish(child).await;
    assert!(
        stderr.contains("canceling statement due to user request"),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let last = last_growth_after(emu, canceled).await;
    let sent = emu.requests().len();
    eprintln!("psql sslmode={sslmode}: last request {last:?} after SIGINT, {sent} in all");
    assert!(last < Duration::from_secs(1), "requests went on {last:?}");
    assert!(
        sent < PAGES / 2,
        "{sent} requests: the scan was not stopped"
    );
}

/// psycopg: the scan on one thread, `conn.<method>()` on the main one once SIGUSR1 says the
/// scan is running; prints the error's SQLSTATE and message.
const PSYCOPG_CANCEL: &str = r#"
import sys, signal, threading, psycopg
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
conn = psycopg.connect(sys.argv[1], password=sys.argv[2])
outcome = []
def scan():
    try:
        conn.execute(sys.argv[3]).fetchall()
        outcome.append("finished")
    except psycopg.Error as e:
        outcome.append(f"{e.sqlstate} {e}")
thread = threading.Thread(target=scan)
thread.start()
signal.sigwait([signal.SIGUSR1])
getattr(conn, sys.argv[4])()
thread.join()
print(outcome[0])
print(conn.execute("SELECT 1").fetchone()[0])
"#;

async fn psycopg_cancel(emu: &EmulatorHandle, server: &ServerHandle, sslmode: &str, method: &str) {
    emu.clear_requests();
    let info = conninfo(server, &format!("sslmode={sslmode}"));
    let child = python_spawn(
        &["psycopg"],
        PSYCOPG_CANCEL,
        &[&info, PASSWORD, SLOW_SCAN, method],
    );
    until_requests(emu, 20).await;
    let canceled = Instant::now();
    signal(&child, libc::SIGUSR1);
    let (stdout, stderr) = finish(child).await;
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("57014 canceling statement due to user request"),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // The connection goes on.
    assert_eq!(
        lines.next(),
        Some("1"),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let last = last_growth_after(emu, canceled).await;
    let sent = emu.requests().len();
    eprintln!("psycopg {method} sslmode={sslmode}: last request {last:?} after, {sent} in all");
    assert!(last < Duration::from_secs(1), "requests went on {last:?}");
    assert!(
        sent < PAGES / 2,
        "{sent} requests: the scan was not stopped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_ctrl_c_cancels_a_slow_scan_in_clear_and_over_tls() {
    let emu = slow_emulator().await;
    let clear = secured(&emu, AuthMethod::default(), None).await;
    psql_ctrl_c(&emu, &clear, "disable").await;
    clear.shutdown().await;
    // psql 15 sends the CancelRequest of a TLS session on a plain connection.
    let (_dir, files) = test_certificate();
    let tls = secured(&emu, AuthMethod::default(), Some(files)).await;
    psql_ctrl_c(&emu, &tls, "require").await;
    tls.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg_cancel_stops_a_slow_scan_in_clear_and_over_tls() {
    let emu = slow_emulator().await;
    let clear = secured(&emu, AuthMethod::default(), None).await;
    psycopg_cancel(&emu, &clear, "disable", "cancel").await;
    clear.shutdown().await;
    // Over TLS: the old PQcancel (in clear) and libpq 17+'s cancel_safe (over TLS).
    let (_dir, files) = test_certificate();
    let tls = secured(&emu, AuthMethod::default(), Some(files)).await;
    psycopg_cancel(&emu, &tls, "require", "cancel").await;
    psycopg_cancel(&emu, &tls, "require", "cancel_safe").await;
    tls.shutdown().await;
}
