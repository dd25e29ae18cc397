//! The messages of the mistakes users make most, each short and pointing at the fix, and none
//! of them costing a request: a misspelled column, a struct compared with text, a table named
//! without its catalog and schema, a host given without a scheme.

use std::collections::HashMap;

use jobsql_core::provider::ApiRuntime;
use jobsql_core::workspace::WorkspaceResolver;
use jobsql_emulator::EmulatorConfig;

use super::common::*;

async fn emulator_session() -> (
    jobsql_emulator::EmulatorHandle,
    datafusion::prelude::SessionContext,
) {
    let emu = emulator(EmulatorConfig {
        runs: 20,
        jobs: 2,
        ..EmulatorConfig::default()
    })
    .await;
    let ctx = session(runtime(fast(1), &[emu_workspace("emu", &emu)]));
    (emu, ctx)
}

#[tokio::test]
async fn a_misspelled_column_names_the_closest_columns_only() {
    let (emu, ctx) = emulator_session().await;
    let message = error(&ctx, &format!("SELECT run_idd FROM {RUNS} LIMIT 1")).await;
    assert_eq!(
        message,
        format!("no column named run_idd in {RUNS}: did you mean run_id?")
    );
    let message = error(
        &ctx,
        &format!("SELECT * FROM {RUNS} WHERE strat_time > now()"),
    )
    .await;
    assert_eq!(
        message,
        format!("no column named strat_time in {RUNS}: did you mean start_time?")
    );
    let message = error(&ctx, &format!("SELECT qqqqqqqqqqqq FROM {RUNS}")).await;
    assert_eq!(
        message,
        format!("no column named qqqqqqqqqqqq in {RUNS} (DESCRIBE the table for its columns)")
    );
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
}

#[tokio::test]
async fn a_struct_compared_with_text_names_the_field_to_compare() {
    let (emu, ctx) = emulator_session().await;
    for (predicate, column, value, hint) in [
        (
            "state = 'FAILED'",
            "state",
            "FAILED",
            "state['result_state']",
        ),
        (
            "'FAILED' <> state",
            "state",
            "FAILED",
            "state['result_state']",
        ),
        (
            "state IN ('TERMINATED')",
            "state",
            "TERMINATED",
            "state['life_cycle_state']",
        ),
        (
            "status = 'TERMINATED'",
            "status",
            "TERMINATED",
            "status['state']",
        ),
    ] {
        let message = error(
            &ctx,
            &format!("SELECT run_id FROM {RUNS} WHERE {predicate} LIMIT 1"),
        )
        .await;
        assert_eq!(
            message,
            format!(
                "{column} is a struct and cannot be compared with the text '{value}': did you mean {hint}?"
            ),
            "{predicate}"
        );
    }
    // A value no field's description lists: every text field is named.
    let message = error(
        &ctx,
        &format!("SELECT run_id FROM {RUNS} WHERE state = 'x'"),
    )
    .await;
    assert_eq!(
        message,
        "state is a struct and cannot be compared with the text 'x': did you mean state['life_cycle_state'], state['queue_reason'], state['result_state'] or state['state_message']?"
    );
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
}

#[tokio::test]
async fn a_table_not_found_names_its_full_name() {
    let (emu, ctx) = emulator_session().await;
    // The short names themselves (`job_runs`, `jobs.job_runs`, `task_runs`) now resolve
    // (select/short_names.rs); names close to them get the hint.
    // LakeSail's job_runs is as close to `job_run`: both are named.
    let both = format!("{RUNS} or lakesail.jobs.job_runs");
    for (written, full) in [
        ("job_run", both.as_str()),
        ("jobs.job_run", both.as_str()),
        ("databricks_workspace.jobs.job_run", RUNS),
        ("task_run", "databricks_workspace.cleanrooms.task_runs"),
    ] {
        let message = error(&ctx, &format!("SELECT count(*) FROM {written}")).await;
        assert_eq!(
            message,
            format!("table '{written}' not found: did you mean {full}?")
        );
    }
    let message = error(&ctx, "SELECT * FROM nothing_like_it").await;
    assert_eq!(message, "table 'nothing_like_it' not found");
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
}

#[tokio::test]
async fn a_host_without_a_scheme_says_https_was_assumed() {
    let emu = emulator(EmulatorConfig::default()).await;
    let authority = emu.base_url().trim_start_matches("http://").to_string();
    let resolver = WorkspaceResolver::from_parts(
        HashMap::from([
            ("DATABRICKS_HOST".to_string(), authority.clone()),
            ("DATABRICKS_TOKEN".to_string(), emu.token().to_string()),
        ]),
        None,
        None,
    );
    let ctx = session(ApiRuntime::new(fast(1), resolver));
    let message = error(&ctx, &format!("SELECT run_id FROM {RUNS} LIMIT 1")).await;
    assert!(
        message.starts_with(&format!(
            "{RUNS}: GET {LIST}?limit=1 on workspace '{authority}' failed: cannot connect to {authority}: "
        )) && message.ends_with(&format!(
            " (the host '{authority}' has no scheme, so https:// was assumed; for a plain-HTTP server write http://{authority})"
        )),
        "{message}"
    );
    // The TLS handshake failed: no HTTP request reached the emulator.
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
}

#[tokio::test]
async fn create_function_says_there_are_no_user_defined_functions() {
    let (emu, ctx) = emulator_session().await;
    for (sql, verb) in [
        (
            "CREATE FUNCTION plus_one(x INT) RETURNS INT RETURN x + 1",
            "CREATE",
        ),
        ("CREATE FUNCTION one() RETURNS INT RETURN 1", "CREATE"),
        ("DROP FUNCTION plus_one", "DROP"),
    ] {
        assert_eq!(
            error(&ctx, sql).await,
            format!(
                "{verb} FUNCTION is not supported: jobsql has no user-defined functions (write \
                 the expression in the query, or in a WITH clause)"
            ),
            "{sql}"
        );
    }
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
}

#[tokio::test]
async fn a_delete_through_an_alias_says_delete_takes_no_alias() {
    let (emu, ctx) = emulator_session().await;
    for sql in [
        "DELETE FROM job_runs r WHERE r.run_id = 5",
        "DELETE FROM job_runs AS r WHERE r.run_id IN (5, 6)",
    ] {
        assert_eq!(
            error(&ctx, sql).await,
            "DELETE FROM job_runs r: a DELETE cannot name its table by an alias; write run_id \
             instead of r.run_id",
            "{sql}"
        );
    }
    // A misspelled column of a DELETE without an alias is still a misspelling.
    assert_eq!(
        error(&ctx, &format!("DELETE FROM {RUNS} WHERE run_idd = 5")).await,
        format!("no column named run_idd in {RUNS}: did you mean run_id?")
    );
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
}

#[tokio::test]
async fn a_delete_whose_where_names_no_column_says_so_and_a_correlated_one_runs() {
    let (emu, ctx) = emulator_session().await;
    for predicate in [
        format!("EXISTS (SELECT 1 FROM {RUNS} WHERE run_id = 5)"),
        format!("NOT EXISTS (SELECT 1 FROM {RUNS} WHERE run_id = 5)"),
        "true".to_string(),
        "1 = 1".to_string(),
    ] {
        let sql = format!("DELETE FROM {RUNS} WHERE {predicate}");
        assert_eq!(
            error(&ctx, &sql).await,
            format!(
                "DELETE FROM {RUNS} with a WHERE that names none of its columns would delete \
                 every row or none: refused. Name the rows, e.g. WHERE run_id = ..."
            ),
            "{sql}"
        );
    }
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
    // An EXISTS naming the row (an outer reference) selects rows: it runs as its SELECT does.
    let sql = format!(
        "DELETE FROM {RUNS} WHERE EXISTS (SELECT 1 FROM databricks_workspace.jobs.jobs j \
         WHERE j.job_id = {RUNS}.job_id AND j.job_id < 0)"
    );
    let batches = rows(&ctx, &sql).await;
    assert_eq!(
        crate::support::batches::count(&batches),
        0,
        "no job has a negative id"
    );
    let requests = emu.requests();
    assert!(
        !requests.is_empty() && requests.iter().all(|r| r.method == "GET"),
        "read, nothing deleted: {requests:?}"
    );
}
