//! The library API: jobsql registered into a caller's own `SessionContext`.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::{SessionConfig, SessionContext};
use jobsql_core::workspace::{Workspace, WorkspaceResolver};
use jobsql_core::{register, JobsqlOptions};

use super::common::{emulator, to};
use super::embed_example;

#[tokio::test]
async fn the_embed_example_runs_its_query_against_the_workspace() {
    let emu = emulator().await;
    let job = emu.notable().job_ids[0];
    let batches = embed_example::run(&emu.base_url(), emu.token(), job)
        .await
        .expect("the example runs");
    let run_ids: Vec<i64> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
        .collect();
    let job_ids: Vec<i64> = batches
        .iter()
        .flat_map(|b| b.column(1).as_primitive::<Int64Type>().values().to_vec())
        .collect();
    assert_eq!(run_ids.len(), 5, "five latest runs of job {job}");
    assert!(job_ids.iter().all(|&j| j == job), "{job_ids:?}");
    assert!(run_ids.windows(2).all(|w| w[0] > w[1]), "{run_ids:?}");
    // The JSON function answered (NULL or a cluster id, never an error).
    assert_eq!(batches[0].schema().field(3).name(), "cluster");
    let requests = emu.requests();
    assert!(!requests.is_empty());
    assert_eq!(
        to(&requests, "/runs/list").len(),
        requests.len(),
        "{requests:?}"
    );
    for r in &requests {
        assert_eq!(r.param("job_id"), Some(job.to_string().as_str()), "{r:?}");
    }
}

#[tokio::test]
async fn the_embed_example_submits_a_run_with_a_plain_ctx_sql_insert() {
    let emu = emulator().await;
    let inserted = embed_example::submit(&emu.base_url(), emu.token(), "embedded-o'run")
        .await
        .expect("the example inserts");
    assert_eq!(inserted, 1);
    let requests = emu.requests();
    assert_eq!(requests.len(), 1, "one submit, nothing else: {requests:?}");
    let submit = &requests[0];
    assert_eq!(
        (submit.method.as_str(), submit.path.as_str(), submit.status),
        ("POST", "/api/2.2/jobs/runs/submit", 200)
    );
    let body = submit.body.as_ref().expect("a JSON body");
    assert_eq!(body["run_name"], "embedded-o'run", "{body}");
    assert_eq!(body["timeout_seconds"], 3600, "{body}");
    assert_eq!(body["tasks"][0]["task_key"], "main", "{body}");
    assert!(
        body["idempotency_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("jobsql-")),
        "{body}"
    );
}

#[tokio::test]
async fn register_keeps_the_host_tables_and_settings() {
    let emu = emulator().await;
    let mut ctx =
        SessionContext::new_with_config(SessionConfig::new().with_information_schema(true));
    ctx.sql("CREATE TABLE mine AS VALUES (1, 'a')")
        .await
        .expect("plan")
        .collect()
        .await
        .expect("own table");
    let resolver = WorkspaceResolver::from_parts(HashMap::new(), None, None)
        .with_default(Workspace::new("emu", &emu.base_url(), emu.token()).expect("workspace"));
    let registration =
        register(&mut ctx, JobsqlOptions::default().with_resolver(resolver)).expect("registers");
    assert!(registration
        .table_names()
        .contains(&"databricks_workspace.jobs.job_runs".to_string()));
    // The host's table and jobsql's tables side by side, in one query.
    let batches = ctx
        .sql(
            "SELECT (SELECT count(*) FROM mine) AS mine, count(*) AS active \
             FROM databricks_workspace.jobs.job_runs WHERE active_only = true",
        )
        .await
        .expect("plans")
        .collect()
        .await
        .expect("runs");
    assert_eq!(batches[0].column(0).as_primitive::<Int64Type>().value(0), 1);
    let requests = emu.requests();
    assert!(requests
        .iter()
        .all(|r| r.path.ends_with("/runs/list") && r.param("active_only") == Some("true")));
    // information_schema (the host's setting) lists jobsql's tables.
    let tables = ctx
        .sql("SELECT table_name FROM information_schema.tables WHERE table_catalog = 'databricks_workspace' AND table_schema <> 'information_schema' ORDER BY 1")
        .await
        .expect("plans")
        .collect()
        .await
        .expect("runs");
    let names: Vec<String> = tables
        .iter()
        .flat_map(|b| {
            let a = b.column(0).as_string::<i32>();
            (0..a.len())
                .map(|i| a.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut expected: Vec<String> = registration
        .table_names()
        .iter()
        .filter_map(|t| t.strip_prefix("databricks_workspace."))
        .filter_map(|t| t.split('.').nth(1).map(str::to_string))
        .collect();
    expected.sort();
    assert!(expected.contains(&"job_runs".to_string()), "{expected:?}");
    assert_eq!(names, expected);
    // Registering twice is an error naming the table, not a panic.
    let err = register(&mut ctx, JobsqlOptions::default()).expect_err("already there");
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[test]
fn bad_options_are_errors_that_never_show_the_token() {
    let mut ctx = SessionContext::new();
    let err = register(
        &mut ctx,
        JobsqlOptions::default().with_spec_dir("/nonexistent/specs"),
    )
    .expect_err("no such directory");
    assert!(err.to_string().contains("/nonexistent/specs"), "{err}");
    let err = register(
        &mut ctx,
        JobsqlOptions::default().with_workspace("w", "ftp://example.com", "dapi-secret-token"),
    )
    .expect_err("not an https host");
    let message = err.to_string();
    assert!(!message.contains("dapi-secret-token"), "{message}");
    assert!(
        message.contains("ftp://example.com") || message.contains("https"),
        "{message}"
    );
}

/// In a host's own context (no information_schema, `ctx.sql`): DELETE deletes exactly what
/// its WHERE selects, and DDL cannot drop the API tables or their schema.
#[tokio::test]
async fn a_host_context_gets_exact_deletes_and_guarded_tables() {
    let emu = emulator().await;
    let mut ctx = SessionContext::new();
    let resolver = WorkspaceResolver::from_parts(HashMap::new(), None, None)
        .with_default(Workspace::new("emu", &emu.base_url(), emu.token()).expect("workspace"));
    register(&mut ctx, JobsqlOptions::default().with_resolver(resolver)).expect("registers");
    let runs = "databricks_workspace.jobs.job_runs";
    let sql = |ctx: &SessionContext, q: String| {
        let ctx = ctx.clone();
        async move { ctx.sql(&q).await?.collect().await }
    };
    let done = sql(
        &ctx,
        format!("SELECT run_id, job_id FROM {runs} WHERE completed_only = true LIMIT 1"),
    )
    .await
    .expect("a finished run");
    let run = done[0].column(0).as_primitive::<Int64Type>().value(0);
    let job = done[0].column(1).as_primitive::<Int64Type>().value(0);
    emu.clear_requests();
    let delete = |subquery: String| {
        let q = format!("DELETE FROM {runs} WHERE job_id = {job} AND run_id IN ({subquery})");
        let ctx = ctx.clone();
        async move {
            let batches = ctx.sql(&q).await?.collect().await?;
            Ok::<u64, datafusion::error::DataFusionError>(
                batches[0]
                    .column(0)
                    .as_primitive::<datafusion::arrow::datatypes::UInt64Type>()
                    .value(0),
            )
        }
    };
    // No row of the job is in the subquery: nothing is deleted.
    assert_eq!(delete("SELECT -1".into()).await.expect("delete"), 0);
    assert!(
        emu.requests().iter().all(|r| r.method == "GET"),
        "{:?}",
        emu.requests()
    );
    assert_eq!(delete(format!("SELECT {run}")).await.expect("delete"), 1);
    // DataFusion words a refused DROP TABLE as "doesn't exist" (jobsql's session names the
    // reason); either way the table stays.
    for (q, want) in [
        (format!("DROP TABLE {runs}"), "doesn't exist"),
        (
            "DROP SCHEMA databricks_workspace.jobs CASCADE".to_string(),
            "schema jobs holds API tables: it cannot be dropped",
        ),
    ] {
        let error = sql(&ctx, q.clone()).await.expect_err("refused");
        assert!(error.to_string().contains(want), "{q}: {error}");
    }
    assert!(ctx.table_exist(runs).expect("name"), "still registered");
}
