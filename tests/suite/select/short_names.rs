//! `job_runs` and `jobs.job_runs` name `databricks_workspace.jobs.job_runs` when no other
//! resource has that name: the same rows and the same requests as the full name; the session's
//! own tables come first; the listings name each API table once; an ambiguous short name stays
//! an error naming the full names.

use std::collections::HashMap;
use std::sync::Arc;

use jobsql_core::client::{ApiClient, RetryPolicy};
use jobsql_core::provider::ApiRuntime;
use jobsql_core::session::new_context;
use jobsql_core::spec::load_sources;
use jobsql_core::workspace::{Workspace, WorkspaceResolver};

use super::common::*;

#[tokio::test]
async fn short_names_answer_what_the_full_name_answers() {
    let env = env(300).await;
    let full =
        format!("SELECT run_id, job_id FROM {RUNS} WHERE run_type = 'JOB_RUN' ORDER BY run_id");
    let (want, want_requests) = env.run(&full).await;
    assert!(ints(&want, 0).len() > 10, "a real listing");
    for short in ["job_runs", "jobs.job_runs"] {
        let sql = full.replace(RUNS, short);
        let (got, requests) = env.run(&sql).await;
        assert_eq!(ints(&got, 0), ints(&want, 0), "{short}");
        assert_eq!(ints(&got, 1), ints(&want, 1), "{short}");
        let paths = |r: &[jobsql_emulator::RecordedRequest]| {
            let mut q: Vec<String> = r
                .iter()
                .map(|r| format!("{} {:?}", r.path, r.query))
                .collect();
            q.sort();
            q
        };
        assert_eq!(
            paths(&requests),
            paths(&want_requests),
            "{short}: the same requests"
        );
    }
    let (jobs, requests) = env.run("SELECT count(*) FROM jobs").await;
    assert_eq!(ints(&jobs, 0), [Some(8)]);
    assert_eq!(requests[0].path, "/api/2.2/jobs/list");
}

#[tokio::test]
async fn the_sessions_own_tables_come_first_and_listings_are_unchanged() {
    let env = env(50).await;
    let (tables, _) = env
        .run("SELECT table_catalog, table_name FROM information_schema.tables WHERE table_name = 'job_runs' ORDER BY 1")
        .await;
    assert_eq!(
        strings(&tables, 0),
        [
            Some("databricks_workspace".to_string()),
            Some("lakesail".to_string())
        ],
        "each provider's job_runs is listed once, by its full name (the short name is not)"
    );
    // A name the session resolves is taken: CREATE TABLE says so.
    let message = env.error("CREATE TABLE job_runs AS SELECT 7 AS x").await;
    assert!(message.contains("already exists"), "{message}");
    // A table of the session's own (registered by an embedder) comes first.
    let mine = datafusion::arrow::record_batch::RecordBatch::try_from_iter([(
        "x",
        Arc::new(datafusion::arrow::array::Int64Array::from(vec![7]))
            as datafusion::arrow::array::ArrayRef,
    )])
    .expect("batch");
    env.ctx
        .register_batch("job_runs", mine)
        .expect("registered");
    let (rows, requests) = env.run("SELECT x FROM job_runs").await;
    assert_eq!(ints(&rows, 0), [Some(7)]);
    assert!(requests.is_empty(), "{requests:?}");
    let (rows, _) = env.run(&format!("SELECT count(*) FROM {RUNS}")).await;
    assert_eq!(
        ints(&rows, 0),
        [Some(50)],
        "the full name is still the API's"
    );
}

#[tokio::test]
async fn an_ambiguous_short_name_names_the_full_ones() {
    let emulator = emulator(50, 42).await;
    let text = include_str!("../../../provider-spec/databricks_workspace/jobs.yaml");
    let other = text.replacen("service: jobs", "service: jobs_copy", 1);
    let specs = load_sources([
        ("jobs.yaml".to_string(), text.to_string()),
        ("copy.yaml".to_string(), other),
    ])
    .expect("both specs load");
    let resolver = WorkspaceResolver::from_parts(HashMap::new(), None, None).with_default(
        Workspace::new("emu", &emulator.base_url(), emulator.token()).expect("workspace"),
    );
    let runtime = ApiRuntime::new(
        ApiClient::new(RetryPolicy::default()).expect("client"),
        resolver,
    );
    let ctx = new_context(&specs, Arc::new(runtime)).expect("session");
    let err = crate::support::session::error(&ctx, "SELECT run_id FROM job_runs").await;
    assert!(
        err.contains("databricks_workspace.jobs.job_runs")
            && err.contains("databricks_workspace.jobs_copy.job_runs"),
        "{err}"
    );
    // The schema names are unique: each resolves.
    for schema in ["jobs", "jobs_copy"] {
        let rows = query(&ctx, &format!("SELECT count(*) FROM {schema}.job_runs")).await;
        assert_eq!(ints(&rows, 0), [Some(50)], "{schema}");
    }
    assert!(emulator
        .requests()
        .iter()
        .all(|r| r.path == "/api/2.2/jobs/runs/list"));
}
