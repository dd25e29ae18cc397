//! Statements from a small grammar of hostile SQL, sent to the real `jobsql serve` binary over
//! one connection: deep and long expressions, huge literals holding quotes, semicolons,
//! comments and NUL, generators, nested subqueries, and every DML and DDL verb. For each: the
//! process does not abort, the connection answers the next statement, its peak memory stays
//! under a bound, and the API sees no request a read would not make (no write: the generated
//! writes select nothing, so a write that reached the API would be one the statement did not
//! plan).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use jobsql_emulator::{start_local, EmulatorConfig};

use crate::support::process::ServeProcess;

/// The bound on the server's peak resident memory over the whole run (its own limits:
/// `--memory-limit-mb 64 --total-memory-limit-mb 128`, plus the engine itself).
const MAX_PEAK_MB: u64 = 400;

/// An expression of `n` terms joined by one operator.
fn chain() -> impl Strategy<Value = String> {
    let ops = prop_oneof![
        Just((" OR ", "run_id = 1")),
        Just((" AND ", "run_id <> 1")),
        Just(("+", "1")),
        Just(("||", "'a'")),
        Just(("*", "2")),
    ];
    let lengths = prop_oneof![
        Just(3usize),
        Just(200),
        Just(1_001),
        Just(60_000),
        Just(120_000)
    ];
    (ops, lengths).prop_map(|((op, term), n)| vec![term; n].join(op))
}

/// A string literal of hostile text (quotes doubled, as SQL writes them).
fn literal() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("'".to_string()),
        Just(";".to_string()),
        Just("--".to_string()),
        Just("/*".to_string()),
        Just("\\".to_string()),
        Just("$$".to_string()),
        Just("é\u{feff}".to_string()),
        "[a-z ]{1,8}",
    ];
    let sizes = prop_oneof![Just(1usize), Just(1_000), Just(200_000)];
    (proptest::collection::vec(pieces, 1..6), sizes)
        .prop_map(|(pieces, n)| pieces.concat().repeat(n).replace('\'', "''"))
}

/// One statement of the grammar, and whether it may write (DML and EXEC aimed at keys that do
/// not exist: the API may be asked, for those keys only).
fn statement() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        reads().prop_map(|s| (s, false)),
        writes().prop_map(|s| (s, true)),
    ]
}

/// Statements that read (or are refused): no write request may follow them.
fn reads() -> impl Strategy<Value = String> {
    prop_oneof![
        chain().prop_map(|c| format!("SELECT count(*) FROM job_runs WHERE ({c}) IS NOT NULL")),
        chain().prop_map(|c| format!("SELECT {c}")),
        literal().prop_map(|l| format!("SELECT length('{l}')")),
        literal().prop_map(|l| format!("SELECT run_id FROM job_runs WHERE run_name = '{l}'")),
        literal().prop_map(|l| format!("SELECT length(concat('{l}', chr(0), '{l}'))")),
        (1usize..80).prop_map(|d| format!("{}1{}", "SELECT (".repeat(d), ")".repeat(d))),
        (1usize..80).prop_map(|d| format!("SELECT {}1{}", "(".repeat(d), ")".repeat(d))),
        prop_oneof![Just(10u64), Just(1_000_000), Just(1_000_000_000)].prop_flat_map(|n| {
            prop_oneof![
                Just(format!("SELECT length(repeat('x', {n}))")),
                Just(format!("SELECT length(lpad('x', {n}))")),
                Just(format!("SELECT count(*) FROM range({n})")),
                Just(format!("SELECT count(*) FROM generate_series(1, {n})")),
                Just(format!("SELECT count(*) FROM (SELECT unnest(range({n})))")),
            ]
        }),
        Just("CREATE TABLE t AS SELECT 1".to_string()),
        Just("DROP TABLE IF EXISTS t".to_string()),
        Just("CREATE EXTERNAL TABLE e STORED AS CSV LOCATION '/etc/passwd'".to_string()),
        Just("COPY (SELECT 1) TO '/tmp/jobsql-fuzz-owned.csv'".to_string()),
        Just("SELECT * FROM '/etc/passwd'".to_string()),
        Just("SET datafusion.execution.target_partitions = 100000".to_string()),
        Just("PREPARE p AS SELECT 1".to_string()),
        Just("CREATE FUNCTION f(x INT) RETURNS INT RETURN x".to_string()),
        Just("EXPLAIN EXPLAIN SELECT 1".to_string()),
        (0usize..3).prop_map(|n| "SELECT 1;".repeat(n + 1)),
    ]
}

/// DML and EXEC whose WHERE names keys that do not exist.
fn writes() -> impl Strategy<Value = String> {
    prop_oneof![
        literal()
            .prop_map(|l| format!("DELETE FROM job_runs WHERE run_id = -1 AND run_name = '{l}'")),
        Just("DELETE FROM jobs WHERE job_id = -1".to_string()),
        Just("UPDATE job_runs SET run_name = 'x' WHERE run_id = -1".to_string()),
        Just("INSERT INTO job_runs SELECT * FROM job_runs WHERE run_id = -1".to_string()),
        Just("EXEC databricks_workspace.jobs.job_runs.cancel @run_id = -1".to_string()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_hostile_statements_never_abort_serve_nor_reach_past_their_plan() {
    let emu = start_local(EmulatorConfig {
        runs: 200,
        jobs: 10,
        seed: 3,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let home = tempfile::tempdir().expect("temp dir");
    let log_path = home.path().join("serve.log");
    let log = std::fs::File::create(&log_path).expect("log");
    // A generator of 10^9 rows is cheap in memory and long in CPU: the statement timeout is
    // what stops it (and what keeps this test's time bounded).
    let args = [
        "--memory-limit-mb",
        "64",
        "--total-memory-limit-mb",
        "128",
        "--statement-timeout-secs",
        "5",
    ];
    let server = ServeProcess::against(&emu.base_url(), emu.token(), &args, &[], log);
    let client = server.login("jobsql", "").await.expect("logs in");
    let handle = tokio::runtime::Handle::current();

    let mut runner = TestRunner::new(Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&statement(), |(sql, may_write)| {
        emu.clear_requests();
        let shown: String = sql.chars().take(120).collect();
        eprintln!("fuzz: {shown}");
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                // Its outcome is the statement's to choose; the server's survival is not.
                let _ = client.simple_query(&sql).await;
                let one = client
                    .simple_query("SELECT 1")
                    .await
                    .map_err(|e| TestCaseError::fail(format!("{shown}: then {e:?}")))?;
                prop_assert!(one.len() >= 2, "{}", shown);
                Ok(())
            })
        })?;
        prop_assert!(server.alive(), "the server died after {}", shown);
        let peak = server.peak_mb();
        prop_assert!(peak < MAX_PEAK_MB, "peak {} MB after {}", peak, shown);
        let writes: Vec<String> = emu
            .requests()
            .iter()
            .filter(|r| r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        prop_assert!(
            may_write || writes.is_empty(),
            "{:?} after {}",
            writes,
            shown
        );
        // A write names only keys that do not exist: whatever it asked, nothing was done.
        let done = emu
            .requests()
            .iter()
            .filter(|r| r.method != "GET" && r.status < 300)
            .count();
        prop_assert_eq!(done, 0, "a write succeeded after {}", shown);
        Ok(())
    });
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    if let Err(e) = result {
        panic!("{e}\nserver log: {log}");
    }
    for crash in ["overflowed its stack", "panicked", "aborting"] {
        assert!(!log.contains(crash), "{log}");
    }
    assert!(!std::path::Path::new("/tmp/jobsql-fuzz-owned.csv").exists());
    eprintln!("fuzz: 40 statements, server peak {} MB", server.peak_mb());
}
