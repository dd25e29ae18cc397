//! INSERT planned by DataFusion itself (`ctx.sql`, no jobsql session code): the table's
//! `insert_into` does the submits, the result is DataFusion's `count`.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use jobsql_core::client::RetryPolicy;
use jobsql_core::provider::ProviderError;
use jobsql_core::session::user_message;

use super::common::*;

const TASK: &str = r#"[{"task_key":"main","notebook_task":{"notebook_path":"/Repos/etl/main"}}]"#;

async fn df_sql(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}

/// The `runs/submit` bodies among `requests`.
fn submits(requests: &[jobsql_emulator::RecordedRequest]) -> Vec<serde_json::Value> {
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/2.2/jobs/runs/submit")
        .map(|r| r.body.clone().expect("a JSON body"))
        .collect()
}

fn field(bodies: &[serde_json::Value], name: &str) -> Vec<String> {
    let mut values: Vec<String> = bodies
        .iter()
        .map(|b| match &b[name] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    values.sort();
    values
}

#[tokio::test]
async fn a_plain_ctx_sql_insert_submits_each_row_and_counts_them() {
    let env = env().await;
    env.emulator.clear_requests();
    let sql = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks, data__timeout_seconds) \
         VALUES ('ctx-a', '{TASK}', 600), ('ctx-b', '{TASK}', '900')"
    );
    let batches = df_sql(&env.ctx, &sql).await.expect("inserts");
    assert_eq!(count(&batches), 2);
    let requests = env.emulator.requests();
    assert_eq!(mutations(&requests).len(), 2, "{requests:?}");
    let bodies = submits(&requests);
    assert_eq!(bodies.len(), 2, "{requests:?}");
    assert_eq!(field(&bodies, "run_name"), ["ctx-a", "ctx-b"]);
    // An integer and a text value both arrive typed as the API expects.
    assert_eq!(field(&bodies, "timeout_seconds"), ["600", "900"]);
    assert!(
        bodies.iter().all(|b| b["timeout_seconds"].is_i64()),
        "{bodies:?}"
    );
    assert!(bodies.iter().all(|b| b["tasks"].is_array()), "{bodies:?}");
    let tokens = field(&bodies, "idempotency_token");
    assert!(
        tokens.iter().all(|t| t.starts_with("jobsql-")),
        "{tokens:?}"
    );
    assert_ne!(tokens[0], tokens[1]);
    let names = df_sql(
        &env.ctx,
        &format!("SELECT run_name FROM {RUNS} WHERE run_name LIKE 'ctx-%' ORDER BY 1"),
    )
    .await
    .expect("reads back");
    assert_eq!(
        strings(&names, 0),
        [Some("ctx-a".to_string()), Some("ctx-b".to_string())]
    );
}

#[tokio::test]
async fn insert_select_of_several_batches_sends_one_submit_per_row() {
    let env = env().await;
    // Batches of two rows: the sink consumes every batch, and numbers rows across them.
    df_sql(&env.ctx, "SET datafusion.execution.batch_size = 2")
        .await
        .expect("set");
    env.emulator.clear_requests();
    let sql = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks, data__idempotency_token) \
         SELECT 'gen-' || value, '{TASK}', 'tok-gen-' || value FROM generate_series(1, 5)"
    );
    let batches = df_sql(&env.ctx, &sql).await.expect("inserts");
    assert_eq!(count(&batches), 5);
    let bodies = submits(&env.emulator.requests());
    assert_eq!(
        field(&bodies, "run_name"),
        ["gen-1", "gen-2", "gen-3", "gen-4", "gen-5"]
    );
    assert_eq!(
        field(&bodies, "idempotency_token"),
        [
            "tok-gen-1",
            "tok-gen-2",
            "tok-gen-3",
            "tok-gen-4",
            "tok-gen-5"
        ]
    );
    // A bad value in the last batch: named by its row, and nothing is sent.
    env.emulator.clear_requests();
    let sql = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks, data__timeout_seconds) \
         SELECT 'late-' || value, '{TASK}', CASE WHEN value = 5 THEN 'soon' ELSE '60' END \
         FROM generate_series(1, 5)"
    );
    let error = df_sql(&env.ctx, &sql).await.expect_err("row 5 is bad");
    let message = user_message(&error);
    assert!(
        message.contains("row 5: data__timeout_seconds expects an integer, got 'soon'"),
        "{message}"
    );
    assert!(mutations(&env.emulator.requests()).is_empty());
}

#[tokio::test]
async fn a_dry_run_ctx_sql_insert_sends_nothing_and_records_each_submit() {
    let env = env().await;
    let (ctx, log) = session(&env.emulator, true);
    let log = log.expect("dry-run log");
    env.emulator.clear_requests();
    let sql = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES ('dry-a', '{TASK}'), ('dry-b', '{TASK}')"
    );
    let batches = df_sql(&ctx, &sql).await.expect("dry run");
    assert_eq!(count(&batches), 2, "two rows would be submitted");
    let requests = env.emulator.requests();
    assert!(requests.is_empty(), "nothing was sent: {requests:?}");
    let planned = log.take();
    assert_eq!(planned.len(), 2, "{planned:?}");
    for (p, name) in planned.iter().zip(["dry-a", "dry-b"]) {
        assert_eq!(p.request.method, reqwest::Method::POST);
        assert!(p.url.ends_with("/api/2.2/jobs/runs/submit"), "{}", p.url);
        let body = p.request.body.as_ref().expect("a body");
        assert_eq!(body["run_name"], name, "{body}");
        assert!(body["idempotency_token"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn a_partial_ctx_sql_insert_reports_created_failed_and_unknown_rows() {
    // No retries: the submit whose answer is lost stays unknown.
    let env = env_with_policy(RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    })
    .await;
    env.emulator.drop_after_commit("runs/submit", 1);
    env.emulator.clear_requests();
    let sql = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES \
         ('part-1', '{TASK}'), ('part-bad', '[{{\"notebook_task\": {{}}}}]'), ('part-2', '{TASK}')"
    );
    let error = df_sql(&env.ctx, &sql).await.expect_err("partly failed");
    let unknown = match error.find_root() {
        DataFusionError::External(e) => e
            .downcast_ref::<ProviderError>()
            .is_some_and(ProviderError::outcome_unknown),
        _ => false,
    };
    assert!(unknown, "a typed error whose outcome is unknown: {error:?}");
    let message = user_message(&error);
    let unknown = one_created_failed_unknown(&message, "/api/2.2/jobs/runs/submit", "run_id");
    // The token is shown whole (the emulator's own token shares no prefix with it).
    assert!(
        unknown.contains("re-running the row with data__idempotency_token = 'jobsql-")
            && unknown.contains("is safe"),
        "{message}"
    );
    let requests = env.emulator.requests();
    let mut statuses: Vec<u16> = requests
        .iter()
        .filter(|r| r.path == "/api/2.2/jobs/runs/submit")
        .map(|r| r.status)
        .collect();
    statuses.sort();
    assert_eq!(statuses, [0, 200, 400], "each row sent once: {requests:?}");
}

#[tokio::test]
async fn insert_columns_read_as_null_and_explain_shows_the_sink() {
    let env = env().await;
    env.emulator.clear_requests();
    let rows = df_sql(
        &env.ctx,
        &format!("SELECT run_id, data__run_name FROM {RUNS} WHERE data__tasks IS NULL LIMIT 3"),
    )
    .await
    .expect("reads");
    assert_eq!(ints(&rows, 0).iter().flatten().count(), 3);
    assert_eq!(strings(&rows, 1), [None, None, None]);
    let requests = env.emulator.requests();
    assert!(
        !requests.is_empty() && requests.iter().all(|r| r.path == "/api/2.2/jobs/runs/list"),
        "{requests:?}"
    );
    env.emulator.clear_requests();
    let plan = df_sql(
        &env.ctx,
        &format!("EXPLAIN INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES ('x', '{TASK}')"),
    )
    .await
    .expect("explains");
    let text = pretty_format_batches(&plan).expect("format").to_string();
    assert!(
        text.contains("InsertSink: POST /api/2.2/jobs/runs/submit per row into databricks_workspace.jobs.job_runs"),
        "{text}"
    );
    assert!(env.emulator.requests().is_empty(), "EXPLAIN sends nothing");
}
