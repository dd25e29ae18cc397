//! The `jobs` resource, written in YAML only: created, run and deleted through SQL.

use super::common::*;

const JOBS: &str = "databricks_workspace.jobs.jobs";

#[tokio::test]
async fn jobs_are_created_run_and_deleted() {
    let env = env().await;
    let tasks = r#"[{"task_key":"main","notebook_task":{"notebook_path":"/Repos/x/main"}}]"#;
    let (batches, requests) = env
        .run(&format!(
            "INSERT INTO {JOBS} (data__name, data__tasks, data__max_concurrent_runs) \
             VALUES ('sql-made', '{tasks}', 2) RETURNING job_id"
        ))
        .await;
    let job = ints(&batches, 0)[0].expect("job id");
    assert_eq!(requests[0].path, "/api/2.2/jobs/create");
    assert_eq!(
        requests[0].body.as_ref().expect("body")["max_concurrent_runs"].as_i64(),
        Some(2)
    );

    let (rows, _) = env
        .run(&format!(
            "SELECT settings->>'name' FROM {JOBS} WHERE job_id = {job}"
        ))
        .await;
    assert_eq!(strings(&rows, 0), [Some("sql-made".into())]);

    let (batches, requests) = env
        .run(&format!("EXEC {JOBS}.run_now @job_id = {job}"))
        .await;
    let run = ints(&batches, 0)[0].expect("run id");
    let body = requests[0].body.as_ref().expect("body");
    assert!(
        body["idempotency_token"].is_string(),
        "run_now carries a token: {body}"
    );
    let (rows, _) = env
        .run(&format!("SELECT job_id FROM {RUNS} WHERE run_id = {run}"))
        .await;
    assert_eq!(ints(&rows, 0), [Some(job)]);

    let (batches, requests) = env
        .run(&format!("DELETE FROM {JOBS} WHERE job_id = {job}"))
        .await;
    assert_eq!(count(&batches), 1);
    // Its runs are listed first (the API deletes them with it: they are counted), then it goes.
    assert_eq!(requests[0].path, "/api/2.2/jobs/runs/list");
    assert_eq!(mutations(&requests).len(), 1);
    assert_eq!(mutations(&requests)[0].path, "/api/2.2/jobs/delete");
    let (rows, _) = env
        .run(&format!("SELECT job_id FROM {JOBS} WHERE job_id = {job}"))
        .await;
    assert!(ints(&rows, 0).is_empty(), "the job is gone");
}
