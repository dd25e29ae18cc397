//! `--max-writes`: an INSERT creating more rows than the guard, or a script whose EXEC calls
//! and `INSERT ... VALUES` rows are more, is refused before any request, naming the flag —
//! whatever the form (VALUES, SELECT of a generator, many statements). At the guard it goes.

use jobsql_core::client::RetryPolicy;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::common::*;

const TASKS: &str = r#"[{"task_key":"t","notebook_task":{"notebook_path":"/x"}}]"#;

/// A session on `env` with `--max-writes max`.
fn guarded(env: &Env, max: usize) -> datafusion::prelude::SessionContext {
    session_with(&env.emulator, false, RetryPolicy::default(), |r| {
        r.with_max_writes(max)
    })
    .0
}

#[tokio::test]
async fn an_insert_select_of_5000_rows_is_refused_before_any_request() {
    let env = env().await;
    let sql = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks) \
         SELECT 'r' || CAST(value AS VARCHAR), '{TASKS}' FROM generate_series(1, 5000)"
    );
    let (message, requests) = env.fail(&sql).await;
    assert!(
        message.contains(&format!(
            "INSERT INTO {RUNS} would create 5000 rows, more than --max-writes 100: refused, \
             nothing was sent"
        )),
        "{message}"
    );
    assert!(requests.is_empty(), "{} requests", requests.len());
}

/// `n` rows into the runs, as `VALUES` or as a `SELECT` of a generator.
fn insert(n: usize, values: bool) -> String {
    if values {
        let rows: Vec<String> = (0..n).map(|i| format!("('g{i}', '{TASKS}')")).collect();
        format!(
            "INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES {}",
            rows.join(", ")
        )
    } else {
        format!(
            "INSERT INTO {RUNS} (data__run_name, data__tasks) \
             SELECT 'g' || CAST(value AS VARCHAR), '{TASKS}' FROM generate_series(1, {n})"
        )
    }
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// INSERT sizes around the guard, both forms: at or under it every row is submitted; over it
/// nothing is, and the message names the count and the flag.
#[test]
fn inserts_around_max_writes() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let env = rt.block_on(env());
    let strategy = (1usize..6, 0usize..4, any::<bool>());
    runner(16)
        .run(&strategy, |(max, over, values)| {
            let n = (max + over).saturating_sub(1).max(1);
            let ctx = guarded(&env, max);
            let sql = insert(n, values);
            rt.block_on(async {
                env.emulator.clear_requests();
                let result = jobsql_core::session::run_sql(&ctx, &sql).await;
                let submits = to(&env.emulator.requests(), "/runs/submit").len();
                if n <= max {
                    prop_assert!(result.is_ok(), "{n} rows, max {max}: {result:?}");
                    prop_assert_eq!(submits, n);
                } else {
                    let message = jobsql_core::session::user_message(&result.expect_err("refused"));
                    let what = if values {
                        format!("({n} INSERT rows), more than --max-writes {max}")
                    } else {
                        format!("would create {n} rows, more than --max-writes {max}")
                    };
                    prop_assert!(message.contains(&what), "{message}");
                    prop_assert_eq!(env.emulator.requests().len(), 0);
                }
                Ok(())
            })
        })
        .expect("the guard holds at every size");
}

/// Scripts of EXEC calls (and INSERT rows) around the guard: the script is counted as a whole
/// before its first statement runs.
#[test]
fn exec_scripts_around_max_writes() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (env, runs) = rt.block_on(async {
        let env = env().await;
        let (rows, _) = env
            .run(&format!(
                "SELECT run_id FROM {RUNS} WHERE completed_only = true ORDER BY run_id LIMIT 12"
            ))
            .await;
        let runs: Vec<i64> = ints(&rows, 0).into_iter().flatten().collect();
        (env, runs)
    });
    let strategy = (1usize..6, 0usize..4, 0usize..3);
    runner(16)
        .run(&strategy, |(max, over, rows)| {
            let execs = (max + over).saturating_sub(1 + rows).max(1);
            let mut script: Vec<String> = runs[..execs]
                .iter()
                .map(|r| format!("EXEC {RUNS}.cancel @run_id = {r}"))
                .collect();
            if rows > 0 {
                script.push(insert(rows, true));
            }
            let sql = script.join(";\n");
            let total = execs + rows;
            let ctx = guarded(&env, max);
            rt.block_on(async {
                env.emulator.clear_requests();
                let result = jobsql_core::session::run_sql(&ctx, &sql).await;
                let requests = env.emulator.requests();
                if total <= max {
                    prop_assert!(result.is_ok(), "{sql}: {result:?}");
                    prop_assert_eq!(to(&requests, "/runs/cancel").len(), execs);
                    prop_assert_eq!(to(&requests, "/runs/submit").len(), rows);
                } else {
                    let message = jobsql_core::session::user_message(&result.expect_err("refused"));
                    prop_assert!(
                        message.starts_with(&format!(
                            "the script would make {total} calls that create or change things \
                             ({execs} EXEC"
                        )) && message.contains(&format!("more than --max-writes {max}: refused")),
                        "{message}"
                    );
                    prop_assert_eq!(requests.len(), 0);
                }
                Ok(())
            })
        })
        .expect("the guard holds for scripts");
}

#[tokio::test]
async fn one_exec_is_refused_by_a_guard_of_zero() {
    let env = env().await;
    let ctx = guarded(&env, 0);
    env.emulator.clear_requests();
    let message = error(&ctx, &format!("EXEC {RUNS}.cancel @run_id = 1")).await;
    assert!(
        message.contains("(1 EXEC), more than --max-writes 0: refused, nothing was sent"),
        "{message}"
    );
    assert!(env.emulator.requests().is_empty());
}
