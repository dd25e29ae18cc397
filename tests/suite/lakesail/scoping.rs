//! Credentials stay with their provider: a query over Databricks and LakeSail tables sends each
//! platform's token only to that platform's host — through explicit resolvers, and through the
//! environment as a user sets it (`DATABRICKS_*` and `LAKESAIL_*` at once, `jobsql query`).

use std::collections::HashMap;
use std::sync::Arc;

use jobsql_core::provider::ApiRuntime;
use jobsql_core::spec::load_embedded;
use jobsql_core::workspace::{Workspace, WorkspaceResolver, Workspaces};

use crate::support::cli::{jobsql_env, stderr, stdout};
use crate::support::stub::{Reply, Stub};

use super::common::*;

const DBX_TOKEN: &str = "dapi-7f3a-dbx-only-41c0";
const SAIL_TOKEN: &str = "sail-lakesail-only-91c2";

/// A Databricks-like stub (no runs) and a LakeSail-like one (no runs).
async fn stubs() -> (Stub, Stub) {
    let dbx = Stub::start(|_, _| Reply::json(200, r#"{"runs": []}"#)).await;
    let sail = Stub::start(|_, _| Reply::json(200, r#"{"items": []}"#)).await;
    (dbx, sail)
}

/// Every header value a stub saw, with the request it came with.
fn header_values(stub: &Stub) -> Vec<(String, String)> {
    stub.seen()
        .into_iter()
        .flat_map(|s| {
            let uri = s.uri.clone();
            s.headers.into_iter().map(move |(_, v)| (uri.clone(), v))
        })
        .collect()
}

/// Each stub got requests, all with its own token, and the other token in no header.
fn assert_scoped(dbx: &Stub, sail: &Stub) {
    for (stub, own, other, what) in [
        (dbx, DBX_TOKEN, SAIL_TOKEN, "Databricks"),
        (sail, SAIL_TOKEN, DBX_TOKEN, "LakeSail"),
    ] {
        let seen = stub.seen();
        assert!(!seen.is_empty(), "the {what} host was called");
        for s in &seen {
            assert_eq!(
                s.auth.as_deref(),
                Some(format!("Bearer {own}").as_str()),
                "{}",
                s.uri
            );
        }
        for (uri, value) in header_values(stub) {
            assert!(
                !value.contains(other),
                "{what} host got the other token with {uri}"
            );
        }
    }
    assert!(sail
        .seen()
        .iter()
        .all(|s| s.uri.starts_with("/api/v1/me/jobs/runs")));
    assert!(dbx
        .seen()
        .iter()
        .all(|s| s.uri.starts_with("/api/2.2/jobs/runs/list")));
}

const BOTH: &str = "SELECT 'databricks' AS platform, CAST(run_id AS VARCHAR) AS id \
     FROM databricks_workspace.jobs.job_runs \
     UNION ALL SELECT 'lakesail', job_run_id FROM lakesail.jobs.job_runs";

#[tokio::test]
async fn each_provider_resolver_sends_only_its_own_token() {
    let (dbx, sail) = stubs().await;
    let specs = load_embedded().expect("specs");
    let databricks = WorkspaceResolver::from_parts(HashMap::new(), None, None)
        .with_default(Workspace::new("emu", &dbx.base, DBX_TOKEN).expect("workspace"));
    let lakesail = WorkspaceResolver::from_parts_for(
        specs.providers["lakesail"].clone(),
        HashMap::new(),
        None,
        None,
    )
    .with_default(
        Workspace::new("sail", &format!("{}/api/v1", sail.base), SAIL_TOKEN).expect("endpoint"),
    );
    let runtime = ApiRuntime::with_workspaces(
        crate::support::client::fast(1),
        Workspaces::new([databricks, lakesail]),
    );
    let ctx = jobsql_core::session::new_context(&specs, Arc::new(runtime)).expect("session");
    assert_eq!(rows(&query(&ctx, BOTH).await), 0);
    assert_scoped(&dbx, &sail);
}

#[tokio::test]
async fn from_the_environment_each_platform_gets_only_its_own_variables() {
    let (dbx, sail) = stubs().await;
    let sail_url = format!("{}/api/v1", sail.base);
    let env = [
        ("DATABRICKS_HOST", dbx.base.clone()),
        ("DATABRICKS_TOKEN", DBX_TOKEN.to_string()),
        ("LAKESAIL_API_URL", sail_url),
        ("LAKESAIL_TOKEN", SAIL_TOKEN.to_string()),
    ];
    let o = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        jobsql_env(&["query", "--format", "csv", BOTH], &env)
    })
    .await
    .expect("joins");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "platform,id");
    assert_scoped(&dbx, &sail);
    // Without LAKESAIL_TOKEN, the LakeSail table fails naming its own variable, and the
    // Databricks token is not tried on the LakeSail host.
    let (dbx, sail) = stubs().await;
    let sail_url = format!("{}/api/v1", sail.base);
    let env = [
        ("DATABRICKS_HOST", dbx.base.clone()),
        ("DATABRICKS_TOKEN", DBX_TOKEN.to_string()),
        ("LAKESAIL_API_URL", sail_url),
    ];
    let o = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        jobsql_env(
            &["query", "SELECT count(*) FROM lakesail.jobs.job_runs"],
            &env,
        )
    })
    .await
    .expect("joins");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("LAKESAIL_TOKEN"), "{}", stderr(&o));
    assert!(!stderr(&o).contains(DBX_TOKEN));
    assert!(sail.seen().is_empty(), "{:?}", sail.seen());
}
