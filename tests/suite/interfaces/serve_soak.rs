//! A soak of the `jobsql serve` binary: 50 clients scanning at once while a hostile client
//! changes settings, reaches for files, sends the 1,000-term `OR` of a BI tool's multi-select
//! (answered, and right) and memory bombs (`repeat`, `lpad`, `unnest(range(...))`: refused),
//! holds 1,000 idle sockets and guesses passwords. The server runs out of process (the built
//! binary, `--memory-limit-mb 64 --total-memory-limit-mb 128`) so that its own peak memory
//! (VmHWM) can be read from /proc; it must stay under a stated bound and keep answering the
//! others.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use jobsql_emulator::{start_local, EmulatorConfig, EmulatorHandle};
use tokio::net::TcpStream;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::support::api::{all_runs_raw, ids};
use crate::support::process::ServeProcess;

const PASSWORD: &str = "soak-password-1f0e";
const CLIENTS: usize = 50;
const RUNS: usize = 300;
const IDLE_SOCKETS: usize = 1_000;
/// The bound on the server's peak resident memory (measured: see the book's Postgres server
/// chapter, docs/src/postgres.md).
const MAX_PEAK_MB: u64 = 300;

/// The terms of the multi-select `OR`.
const OR_TERMS: usize = 1_000;
/// What one statement, and all together, may hold (MB).
const MEMORY_LIMIT_MB: &str = "64";
const TOTAL_MEMORY_LIMIT_MB: &str = "128";
/// Statements that would each build hundreds of MB, and the function their refusal names.
const BOMBS: &[(&str, &str)] = &[
    ("SELECT length(repeat('x', 1000000000))", "repeat"),
    ("SELECT length(lpad('x', 300000000))", "lpad"),
    (
        "SELECT count(*) FROM (SELECT unnest(range(30000000)))",
        "range",
    ),
];

fn start_server(base_url: &str, token: &str, log: std::fs::File) -> ServeProcess {
    ServeProcess::against(
        base_url,
        token,
        &[
            "--user",
            "soak",
            "--memory-limit-mb",
            MEMORY_LIMIT_MB,
            "--total-memory-limit-mb",
            TOTAL_MEMORY_LIMIT_MB,
        ],
        &[("JOBSQL_SERVE_PASSWORD", PASSWORD)],
        log,
    )
}

/// The 1,000-term `OR` a BI tool writes for a multi-select: every other run id of the
/// emulator's interleaved with small numbers, and how many runs it names (from the emulator's
/// own listing).
async fn wide_or(emu: &EmulatorHandle) -> (String, usize) {
    let runs: BTreeSet<i64> = ids(&all_runs_raw(emu, &[]).await).into_iter().collect();
    assert_eq!(runs.len(), RUNS);
    let mut real = runs.iter().step_by(2).copied();
    let mut small = 0..;
    let terms: Vec<i64> = (0..OR_TERMS)
        .map(|i| {
            let id = if i % 3 == 0 { real.next() } else { None };
            id.or_else(|| small.next()).unwrap_or_default()
        })
        .collect();
    let named = terms
        .iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|id| runs.contains(id))
        .count();
    // Real ids and others, so that a wrong count shows.
    assert!((100..OR_TERMS).contains(&named), "{named}");
    let or = terms
        .iter()
        .map(|i| format!("run_id = {i}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    (
        format!("SELECT count(*) FROM databricks_workspace.jobs.job_runs WHERE {or}"),
        named,
    )
}

async fn login(addr: SocketAddr, password: &str) -> Result<Client, tokio_postgres::Error> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(addr.ip().to_string())
        .port(addr.port())
        .user("soak")
        .password(password)
        .dbname("jobsql")
        .connect_timeout(Duration::from_secs(10));
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

fn rows(messages: &[SimpleQueryMessage]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
        .collect()
}

/// What the hostile client does; it must all be refused (but the wide `OR`, answered), none of
/// it stop the others.
async fn hostile(
    addr: SocketAddr,
    session: Client,
    (or_sql, or_count): (String, usize),
) -> (usize, usize) {
    for sql in [
        "SET datafusion.execution.target_partitions = 200000",
        "SET datafusion.runtime.memory_limit = '1T'",
        "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '~/.databrickscfg'",
        "SELECT * FROM '/etc/passwd'",
        "COPY (SELECT 1) TO '/tmp/jobsql-soak-owned.csv'",
    ] {
        let err = session.simple_query(sql).await.expect_err(sql);
        assert_eq!(
            err.as_db_error().map(|e| e.code().code()),
            Some("42501"),
            "{sql}: {err:?}"
        );
    }
    // The settings did not change: a GROUP BY still runs with 2 partitions.
    let n = rows(
        &session
            .simple_query(
                "SELECT count(*) FROM (SELECT job_id FROM databricks_workspace.jobs.job_runs \
                 GROUP BY job_id)",
            )
            .await
            .expect("runs"),
    );
    assert_eq!(n.len(), 1);
    // The wide OR runs, and is right.
    let counted = rows(
        &session
            .simple_query(&or_sql)
            .await
            .expect("the wide OR runs"),
    );
    assert_eq!(counted, [or_count.to_string()]);
    // The bombs are refused before they are built, naming the function and the limit.
    for (sql, what) in BOMBS {
        let err = session.simple_query(sql).await.expect_err(sql);
        let db = err
            .as_db_error()
            .unwrap_or_else(|| panic!("{sql}: {err:?}"));
        assert_eq!(db.code().code(), "53200", "{sql}: {db:?}");
        let message = db.message();
        assert!(
            message.contains(what)
                && message.contains(&format!("{MEMORY_LIMIT_MB} MB"))
                && message.contains("--memory-limit-mb"),
            "{sql}: {message}"
        );
    }
    // Password guessing, as fast as it goes, for 3 s.
    let started = Instant::now();
    let mut guesses = 0;
    while started.elapsed() < Duration::from_secs(3) {
        let err = login(addr, &format!("guess-{guesses}"))
            .await
            .expect_err("a wrong password is refused");
        let code = err.as_db_error().map(|e| e.code().code().to_string());
        assert_eq!(code.as_deref(), Some("28P01"), "{err:?}");
        guesses += 1;
    }
    // Idle sockets, as many as it can open.
    let mut idle = Vec::new();
    for _ in 0..IDLE_SOCKETS {
        match TcpStream::connect(addr).await {
            Ok(s) => idle.push(s),
            Err(e) => panic!("opened {} sockets, then: {e}", idle.len()),
        }
    }
    // Meanwhile no new login gets in: the handshake slots are full (53300, or the socket is
    // closed at once when even the refusals are busy), and the address is backed off.
    login(addr, PASSWORD).await.expect_err("not let in");
    (idle.len(), guesses)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_and_a_hostile_one() {
    let emu = start_local(EmulatorConfig {
        runs: RUNS,
        jobs: 20,
        seed: 11,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let home = tempfile::tempdir().expect("temp dir");
    let log_path = home.path().join("serve.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let server = start_server(&emu.base_url(), emu.token(), log);
    let addr = server.addr;
    let started = Instant::now();

    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        match login(addr, PASSWORD).await {
            Ok(c) => clients.push(c),
            Err(e) => panic!(
                "client {i}: {e:?}; server log: {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            ),
        }
    }
    let watcher = login(addr, PASSWORD).await.expect("logs in");
    let villain = login(addr, PASSWORD).await.expect("logs in");
    let wide = wide_or(&emu).await;
    let or_count = wide.1;
    let baseline = server.peak_mb();

    let scans: Vec<_> = clients
        .into_iter()
        .map(|client| {
            let log = log_path.clone();
            tokio::spawn(async move {
                let messages = client
                    .simple_query(
                        "SELECT run_id, state, start_time FROM databricks_workspace.jobs.job_runs",
                    )
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "scan: {e:?}; log: {}",
                            std::fs::read_to_string(&log).unwrap_or_default()
                        )
                    });
                let mut ids = rows(&messages);
                let n = ids.len();
                ids.sort();
                ids.dedup();
                (n, ids.len(), client)
            })
        })
        .collect();
    let attack = tokio::spawn(hostile(addr, villain, wide));
    // The others are answered meanwhile.
    let mut slowest = Duration::ZERO;
    while !attack.is_finished() {
        let asked = Instant::now();
        let one = rows(&watcher.simple_query("SELECT 1").await.expect("answered"));
        assert_eq!(one, ["1"]);
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (idle, guesses) = attack.await.expect("hostile client ran");
    let attack_took = started.elapsed();
    for scan in scans {
        let (n, unique, client) = scan.await.expect("joins");
        assert_eq!((n, unique), (RUNS, RUNS));
        drop(client);
    }
    let scans_took = started.elapsed();
    let peak = server.peak_mb();
    drop(server);
    let log = std::fs::read_to_string(&log_path).expect("log");
    let checked = log.matches("failed login for user \"soak\"").count();
    eprintln!(
        "soak: {CLIENTS} scans of {RUNS} runs done after {scans_took:?} (the hostile client \
         after {attack_took:?}); server peak RSS {peak} MB \
         (baseline {baseline} MB); the {OR_TERMS}-term OR counted {or_count} runs; {} bombs \
         refused; {idle} idle sockets; {guesses} password guesses, {checked} checked; slowest \
         SELECT 1 meanwhile {slowest:?}",
        BOMBS.len()
    );
    assert!(peak < MAX_PEAK_MB, "peak RSS {peak} MB");
    assert!(slowest < Duration::from_secs(3), "{slowest:?}");
    // 3 s of guessing: checked at 0, 1, 3 s (1 s backoff, doubling).
    assert!(guesses > checked && checked <= 4, "{checked} of {guesses}");
    assert!(!log.contains(PASSWORD) && !log.contains("guess-"), "{log}");
    assert!(!log.contains(emu.token()), "{log}");
    assert!(!std::path::Path::new("/tmp/jobsql-soak-owned.csv").exists());
}
