//! Faults, unexpected responses, and a resource added with YAML alone.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use jobsql_core::client::{ApiClient, RetryPolicy};
use jobsql_core::provider::ApiRuntime;
use jobsql_core::session::{new_context, run_sql, user_message};
use jobsql_core::spec::{load_embedded, load_sources};
use jobsql_core::workspace::{Workspace, WorkspaceResolver};
use jobsql_emulator::{start_local, EmulatorConfig};

use super::common::*;

#[tokio::test]
async fn throttling_and_unavailability_are_retried_and_lose_no_row() {
    let config = |fault_rate| EmulatorConfig {
        runs: 150,
        jobs: 5,
        seed: 9,
        now_ms: Some(1_795_000_000_000),
        fault_rate,
        ..EmulatorConfig::default()
    };
    let clean = start_local(config(0.0)).await.expect("emulator");
    let faulty = start_local(config(0.3)).await.expect("emulator");
    let sql = format!("SELECT run_id FROM {RUNS} ORDER BY run_id");
    let want = ints(&query(&session(&clean, &[]), &sql).await, 0);
    let got = ints(&query(&session(&faulty, &[]), &sql).await, 0);
    assert_eq!(got, want);
    assert_eq!(want.len(), 150);
    let statuses: BTreeSet<u16> = faulty.requests().iter().map(|r| r.status).collect();
    assert!(
        statuses.contains(&429) || statuses.contains(&503),
        "faults happened: {statuses:?}"
    );
}

/// A server that answers runs/list with `body`, to see how bad responses are reported.
async fn stub(body: &'static str) -> String {
    let app = axum::Router::new().route(
        "/api/2.2/jobs/runs/list",
        axum::routing::get(move || async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn error_from(body: &'static str, sql: &str) -> String {
    let url = stub(body).await;
    let resolver = WorkspaceResolver::from_parts(HashMap::new(), None, None)
        .with_default(Workspace::new("stub", &url, "t0k3n-for-stub").expect("workspace"));
    let runtime = Arc::new(ApiRuntime::new(
        ApiClient::new(RetryPolicy::default()).expect("client"),
        resolver,
    ));
    let ctx = new_context(&load_embedded().expect("specs"), runtime).expect("session");
    match run_sql(&ctx, sql).await {
        Ok(_) => panic!("{body} should fail"),
        Err(e) => user_message(&e),
    }
}

#[tokio::test]
async fn a_value_of_the_wrong_type_names_the_column_and_the_run() {
    let message = error_from(
        r#"{"runs":[{"run_id":1,"job_id":7},{"run_id":2,"job_id":"seven"}]}"#,
        &format!("SELECT run_id, job_id FROM {RUNS}"),
    )
    .await;
    assert!(
        message.contains("job_id") && message.contains("run_id 2"),
        "{message}"
    );
    assert!(!message.contains("t0k3n"), "{message}");
}

#[tokio::test]
async fn a_response_that_is_not_the_api_shape_is_a_clear_error() {
    let message = error_from(
        r#"{"runs": {"run_id": 1}}"#,
        &format!("SELECT count(*) FROM {RUNS}"),
    )
    .await;
    assert!(
        message.contains("runs") && message.contains("array"),
        "{message}"
    );
    let message = error_from(r#"[1, 2]"#, &format!("SELECT count(*) FROM {RUNS}")).await;
    assert!(message.contains("unexpected response"), "{message}");
    let message = error_from(
        r#"{"runs":[], "next_page_token": 5}"#,
        &format!("SELECT count(*) FROM {RUNS}"),
    )
    .await;
    assert!(message.contains("next_page_token"), "{message}");
}

/// The `jobs` resource written only in YAML, loaded beside the built-in specs.
const JOBS_YAML: &str = r#"
provider: databricks_workspace
service: jobdefs
resources:
  jobs:
    methods:
      get:
        verb: GET
        path: /api/2.2/jobs/get
        params: { job_id: { type: integer, required: true } }
        response:
          not_found: [ { status: 400, message_contains: "does not exist" } ]
      list:
        verb: GET
        path: /api/2.2/jobs/list
        params: { name: { type: string } }
        response: { objects: jobs }
        pagination: { style: token, param: page_token, next: next_page_token, page_size: { param: limit, max: 100 } }
    select: [get, list]
    columns:
      - { name: job_id, type: integer }
      - { name: creator_user_name, type: string }
      - { name: created_time, type: timestamp_ms }
      - { name: settings, type: json }
    pushdown:
      - { column: job_id, param: job_id, ops: [eq, in] }
"#;

#[tokio::test]
async fn a_new_resource_is_new_yaml_not_new_rust() {
    let env = env(100).await;
    let mut specs = load_embedded().expect("specs");
    specs.resources.extend(
        load_sources([("jobdefs.yaml".to_string(), JOBS_YAML.to_string())])
            .expect("valid")
            .resources,
    );
    let resolver = WorkspaceResolver::from_parts(HashMap::new(), None, None).with_default(
        Workspace::new("emu", &env.emulator.base_url(), env.emulator.token()).expect("workspace"),
    );
    let runtime = Arc::new(ApiRuntime::new(
        ApiClient::new(RetryPolicy::default()).expect("client"),
        resolver,
    ));
    let ctx = new_context(&specs, runtime).expect("session");
    let jobs = env.emulator.notable().job_ids;
    let batches = query(&ctx, "SELECT job_id, json_get_str(settings, 'name') FROM databricks_workspace.jobdefs.jobs ORDER BY job_id").await;
    let got: BTreeSet<i64> = ints(&batches, 0).into_iter().flatten().collect();
    assert_eq!(got, jobs.iter().copied().collect::<BTreeSet<_>>());
    assert!(strings(&batches, 1).iter().all(|n| n.is_some()));
    env.emulator.clear_requests();
    let batches = query(
        &ctx,
        &format!(
            "SELECT job_id FROM databricks_workspace.jobdefs.jobs WHERE job_id = {}",
            jobs[0]
        ),
    )
    .await;
    assert_eq!(ints(&batches, 0), [Some(jobs[0])]);
    let requests = env.emulator.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/api/2.2/jobs/get");
}
