//! Queries over several workspaces: one that cannot be reached fails the query with an error
//! naming it; with `--keep-going` the others' rows come back and a warning names it.

use jobsql_core::client::{ApiError, ApiRequest};
use jobsql_emulator::EmulatorConfig;

use super::common::*;

const IN_BOTH: &str = "SELECT deployment_name, count(*) AS n FROM databricks_workspace.jobs.job_runs WHERE deployment_name IN ('emu', 'gone') GROUP BY deployment_name";

#[tokio::test]
async fn an_unreachable_workspace_fails_the_query_naming_it() {
    let emu = emulator(EmulatorConfig {
        runs: 60,
        jobs: 4,
        ..EmulatorConfig::default()
    })
    .await;
    let gone = closed_port();
    let ctx = session(runtime(
        fast(2),
        &[emu_workspace("emu", &emu), workspace("gone", &gone)],
    ));
    let message = error(&ctx, IN_BOTH).await;
    let host = gone.trim_start_matches("http://");
    assert!(
        message.starts_with(&format!(
            "databricks_workspace.jobs.job_runs: GET /api/2.2/jobs/runs/list?limit=25 on workspace 'gone' failed: cannot connect to {host}: "
        )) && message.ends_with("(after 2 attempts)"),
        "{message}"
    );
}

#[tokio::test]
async fn keep_going_skips_only_failures_of_the_workspace_itself() {
    let gone = workspace("gone", &closed_port());
    let table = "databricks_workspace.jobs.job_runs";
    let strict = runtime(fast(1), std::slice::from_ref(&gone));
    let lenient = runtime(fast(1), std::slice::from_ref(&gone)).with_keep_going();
    let refused = fast(1)
        .send(&gone, &ApiRequest::get("/api/2.2/jobs/runs/list", vec![]))
        .await
        .expect_err("refused");
    assert!(!strict.skip_failed_workspace(table, &gone, &refused));
    assert!(strict.warnings.take().is_empty());
    assert!(lenient.skip_failed_workspace(table, &gone, &refused));
    let warnings = lenient.warnings.take();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].starts_with(&format!(
            "{table}: skipped workspace 'gone' (--keep-going), its rows are missing or incomplete: GET /api/2.2/jobs/runs/list on workspace 'gone' failed: cannot connect to "
        )),
        "{}",
        warnings[0]
    );
    // The query's own mistakes are not the workspace's: they still fail it.
    let http = |status: u16| ApiError::Http {
        status,
        error_code: Some("X".into()),
        message: "m".into(),
        method: "GET".into(),
        path: "/p".into(),
        workspace: "gone".into(),
        attempts: 1,
    };
    for (status, skipped) in [
        (400, false),
        (404, false),
        (401, true),
        (403, true),
        (429, true),
        (500, true),
        (503, true),
    ] {
        assert_eq!(
            lenient.skip_failed_workspace(table, &gone, &http(status)),
            skipped,
            "HTTP {status}"
        );
    }
}

/// End to end: the scan skips the unreachable workspace and the CLI warns.
#[tokio::test]
async fn keep_going_returns_the_reachable_workspaces_rows_with_a_warning() {
    let emu = emulator(EmulatorConfig {
        runs: 60,
        jobs: 4,
        ..EmulatorConfig::default()
    })
    .await;
    let rt = runtime(
        fast(2),
        &[
            emu_workspace("emu", &emu),
            workspace("gone", &closed_port()),
        ],
    )
    .with_keep_going();
    let warnings = rt.warnings.clone();
    let ctx = session(rt);
    let batches = rows(&ctx, IN_BOTH).await;
    assert_eq!(ints(&batches, 1), [60]);
    let warnings = warnings.take();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("skipped workspace 'gone'"),
        "{warnings:?}"
    );
}
