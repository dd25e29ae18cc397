//! `jobsql serve` sign-in and TLS with real clients: SCRAM-SHA-256 by default (tokio-postgres,
//! psql, psycopg), a wrong password refused with `28P01`, MD5 only with `--auth md5`, TLS with
//! `sslmode=require` (psql, psycopg; certificates made at test time), clear-text sessions
//! refused when TLS is on, and bad TLS files refused by the CLI.

use std::path::Path;
use std::time::Duration;

use jobsql_emulator::EmulatorHandle;
use jobsql_pgwire::{AuthMethod, Limits, ServeOptions, ServerHandle, TlsFiles};
use tempfile::TempDir;

use super::common::{emulator, to};
use super::serve::{connect_as, server_with, simple_rows};
use crate::support::cli::{jobsql, stderr};
use crate::support::clients::{psql, python, stdout_of};

/// The password of the servers these tests start.
pub const PASSWORD: &str = "s3cret-pw";

/// A self-signed certificate for 127.0.0.1 and localhost, and its key, written to a fresh
/// directory removed when the [`TempDir`] is dropped (nothing of it is committed).
pub fn test_certificate() -> (TempDir, TlsFiles) {
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("certificate");
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, generated.cert.pem()).expect("cert written");
    std::fs::write(&key, generated.signing_key.serialize_pem()).expect("key written");
    (dir, TlsFiles { cert, key })
}

/// A server over `emu` with the password, `auth` and `tls` (no login backoff: these tests
/// fail logins on purpose; the backoff has its own test).
pub async fn secured(
    emu: &EmulatorHandle,
    auth: AuthMethod,
    tls: Option<TlsFiles>,
) -> ServerHandle {
    server_with(
        emu,
        ServeOptions {
            user: Some("analyst".into()),
            password: Some(PASSWORD.into()),
            auth,
            tls,
            limits: Limits {
                login_backoff: Duration::ZERO,
                ..Limits::default()
            },
            ..ServeOptions::new("127.0.0.1:0".parse().expect("addr"))
        },
    )
    .await
}

/// A libpq connection string to `server` as `analyst` with `extra` settings.
pub fn conninfo(server: &ServerHandle, extra: &str) -> String {
    let addr = server.local_addr();
    format!(
        "host={} port={} user=analyst dbname=jobsql {extra}",
        addr.ip(),
        addr.port()
    )
}

/// The query every client runs: a pushed-down count of one job's runs.
fn count_query(emu: &EmulatorHandle) -> (i64, String) {
    let job = emu.notable().job_ids[0];
    (
        job,
        format!(
            "SELECT job_id, count(*) AS runs FROM databricks_workspace.jobs.job_runs \
             WHERE job_id = {job} GROUP BY job_id"
        ),
    )
}

/// `job|count` as a client printed it: the job asked for, a count, and requests that pushed
/// the job down.
fn assert_counted(emu: &EmulatorHandle, job: i64, printed: &str) {
    let line = printed.trim();
    let (got_job, count) = line.split_once('|').unwrap_or((line, ""));
    assert_eq!(got_job.trim(), job.to_string(), "{printed}");
    let count: i64 = count.trim().parse().unwrap_or(0);
    assert!(count > 0, "{printed}");
    let requests = emu.requests();
    assert!(!to(&requests, "/runs/list").is_empty());
    assert!(requests
        .iter()
        .all(|r| r.param("job_id") == Some(job.to_string().as_str())));
}

/// psql running `sql` unaligned, tuples only.
async fn psql_run(conninfo: String, sql: String, password: &'static str) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        psql(
            &["-X", "-A", "-t", "-d", &conninfo, "-c", &sql],
            Some(password),
        )
    })
    .await
    .expect("psql ran")
}

/// psycopg connecting with `conninfo` and running `sql`: `job|count|ssl_in_use`, or the error
/// as `ERROR sqlstate message`.
const PSYCOPG_RUN: &str = r#"
import sys, psycopg
try:
    with psycopg.connect(sys.argv[1], password=sys.argv[2]) as conn:
        row = conn.execute(sys.argv[3]).fetchone()
        print(f"{row[0]}|{row[1]}|{int(conn.info.pgconn.ssl_in_use)}")
except psycopg.OperationalError as e:
    print("ERROR", getattr(e, "sqlstate", None), str(e).replace("\n", " "))
"#;

async fn psycopg_run(conninfo: String, sql: String, password: &'static str) -> String {
    let out = tokio::task::spawn_blocking(move || {
        python(&["psycopg"], PSYCOPG_RUN, &[&conninfo, password, &sql])
    })
    .await
    .expect("python ran");
    stdout_of(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_is_the_default_and_real_clients_sign_in_with_it() {
    let emu = emulator().await;
    let server = secured(&emu, AuthMethod::default(), None).await;
    let (job, sql) = count_query(&emu);

    // tokio-postgres (SCRAM-SHA-256 without channel binding, no TLS).
    emu.clear_requests();
    let client = connect_as(server.local_addr(), "analyst", Some(PASSWORD))
        .await
        .expect("SCRAM sign-in");
    let rows = simple_rows(&client.simple_query(&sql).await.expect("runs"));
    let printed = format!(
        "{}|{}",
        rows[0][0].as_deref().unwrap_or(""),
        rows[0][1].as_deref().unwrap_or("")
    );
    assert_counted(&emu, job, &printed);

    // psql (libpq 15 has no require_auth; the MD5 test shows which method is asked for).
    emu.clear_requests();
    let out = psql_run(conninfo(&server, "sslmode=disable"), sql.clone(), PASSWORD).await;
    assert_counted(&emu, job, &stdout_of(&out));

    // psycopg 3, told to accept nothing but SCRAM (libpq's require_auth).
    emu.clear_requests();
    let printed = psycopg_run(
        conninfo(&server, "sslmode=disable require_auth=scram-sha-256"),
        sql,
        PASSWORD,
    )
    .await;
    assert!(printed.trim().ends_with("|0"), "not in clear: {printed}");
    assert_counted(&emu, job, printed.trim().trim_end_matches("|0"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_scram_password_fails_with_28p01() {
    let emu = emulator().await;
    let server = secured(&emu, AuthMethod::default(), None).await;
    let err = connect_as(server.local_addr(), "analyst", Some("wrong"))
        .await
        .expect_err("refused");
    let db = err.as_db_error().expect("a Postgres error");
    assert_eq!(db.code().code(), "28P01");
    assert_eq!(
        db.message(),
        "password authentication failed for user \"analyst\""
    );
    // psql is told the same.
    let out = psql_run(
        conninfo(&server, "sslmode=disable"),
        "SELECT 1".into(),
        "wrong",
    )
    .await;
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("password authentication failed for user \"analyst\""),
        "{said}"
    );
    assert!(!said.contains(PASSWORD));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn md5_is_refused_by_default_and_accepted_with_auth_md5() {
    let emu = emulator().await;
    let (job, sql) = count_query(&emu);
    // A client that accepts only MD5 is never asked for it by the default server.
    let scram = secured(&emu, AuthMethod::default(), None).await;
    let printed = psycopg_run(
        conninfo(&scram, "sslmode=disable require_auth=md5"),
        sql.clone(),
        PASSWORD,
    )
    .await;
    assert!(printed.starts_with("ERROR"), "{printed}");
    assert!(printed.contains("SASL"), "{printed}");
    scram.shutdown().await;

    // With --auth md5: MD5 it is (and a SCRAM-only client is refused).
    let md5 = secured(&emu, AuthMethod::Md5, None).await;
    emu.clear_requests();
    let printed = psycopg_run(
        conninfo(&md5, "sslmode=disable require_auth=md5"),
        sql.clone(),
        PASSWORD,
    )
    .await;
    assert_counted(&emu, job, printed.trim().trim_end_matches("|0"));
    let printed = psycopg_run(
        conninfo(&md5, "sslmode=disable require_auth=scram-sha-256"),
        sql.clone(),
        PASSWORD,
    )
    .await;
    assert!(printed.starts_with("ERROR"), "{printed}");
    // tokio-postgres speaks MD5 too.
    let client = connect_as(md5.local_addr(), "analyst", Some(PASSWORD))
        .await
        .expect("MD5 sign-in");
    assert!(!client.simple_query(&sql).await.expect("runs").is_empty());
    md5.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_sslmode_require_from_psql_and_psycopg() {
    let emu = emulator().await;
    let (_dir, files) = test_certificate();
    let server = secured(&emu, AuthMethod::default(), Some(files)).await;
    let (job, sql) = count_query(&emu);

    // psql: TLS, and SCRAM bound to the channel (SCRAM-SHA-256-PLUS).
    emu.clear_requests();
    let out = psql_run(
        conninfo(&server, "sslmode=require channel_binding=require"),
        sql.clone(),
        PASSWORD,
    )
    .await;
    assert_counted(&emu, job, &stdout_of(&out));

    // psycopg: over TLS (libpq says so).
    emu.clear_requests();
    let printed = psycopg_run(conninfo(&server, "sslmode=require"), sql.clone(), PASSWORD).await;
    assert!(printed.trim().ends_with("|1"), "not over TLS: {printed}");
    assert_counted(&emu, job, printed.trim().trim_end_matches("|1"));

    // In clear: refused before any password is asked for.
    let out = psql_run(conninfo(&server, "sslmode=disable"), sql.clone(), PASSWORD).await;
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("accepts TLS connections only"), "{said}");
    let printed = psycopg_run(conninfo(&server, "sslmode=disable"), sql, PASSWORD).await;
    assert!(
        printed.starts_with("ERROR") && printed.contains("sslmode=require"),
        "{printed}"
    );
    let err = connect_as(server.local_addr(), "analyst", Some(PASSWORD))
        .await
        .expect_err("refused in clear");
    assert_eq!(
        err.as_db_error().map(|e| e.code().code()),
        Some("28000"),
        "{err:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn without_tls_an_ssl_request_is_answered_n() {
    let emu = emulator().await;
    let server = secured(&emu, AuthMethod::default(), None).await;
    let printed = psycopg_run(
        conninfo(&server, "sslmode=require"),
        "SELECT 1".into(),
        PASSWORD,
    )
    .await;
    assert!(printed.contains("server does not support SSL"), "{printed}");
    server.shutdown().await;
}

fn serve_with(cert: &Path, key: &Path) -> String {
    let out = jobsql(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().expect("path"),
        "--tls-key",
        key.to_str().expect("path"),
    ]);
    assert!(!out.status.success(), "started with bad TLS files");
    stderr(&out)
}

#[test]
fn bad_tls_files_are_a_one_line_error_naming_the_file() {
    let (dir, good) = test_certificate();
    let dir = dir.path();
    let missing = dir.join("missing.pem");
    let said = serve_with(&missing, &good.key);
    assert!(said.contains("cannot read --tls-cert"), "{said}");
    assert!(said.contains(missing.to_str().expect("path")), "{said}");
    assert_eq!(said.trim().lines().count(), 1, "{said}");

    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").expect("written");
    let said = serve_with(&good.cert, &garbage);
    assert!(said.contains("--tls-key"), "{said}");
    assert!(said.contains("no PEM private key"), "{said}");
    assert!(said.contains(garbage.to_str().expect("path")), "{said}");
    assert_eq!(said.trim().lines().count(), 1, "{said}");

    // One without the other.
    let out = jobsql(&["serve", "--tls-cert", good.cert.to_str().expect("path")]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--tls-cert and --tls-key go together"));
}
