//! Writing LakeSail runs: INSERT creates (RETURNING reads the new run), DELETE deletes what its
//! WHERE selects (keys sent directly, any other WHERE read first; a 409 reported per run with
//! the others still deleted), EXEC `ready` and `retry` (`@hold`).

use jobsql_emulator::lakesail::{LakeSailConfig, LakeSailHandle};
use serde_json::{json, Value};

use super::common::*;

async fn sail() -> LakeSailHandle {
    start(LakeSailConfig::default()).await
}

/// The runs of `job` whose status is `wanted`, newest first.
async fn runs_with(h: &LakeSailHandle, job: &str, wanted: &str) -> Vec<Value> {
    let (runs, _) = Sail::new(h)
        .walk(&format!("/workloads/jobs/{job}/runs"), 100)
        .await;
    runs.into_iter().filter(|r| status(r) == wanted).collect()
}

fn id(run: &Value) -> String {
    run["id"].as_str().expect("an id").to_string()
}

#[tokio::test]
async fn insert_creates_a_pending_run_and_returning_reads_it() {
    let h = sail().await;
    let job = h.jobs()[2].clone();
    let ctx = sail_session(&h, None);
    h.clear_requests();
    let sql = format!(
        "INSERT INTO {SAIL_RUNS} (job_id, data__parameters) \
         VALUES ('{job}', '{{\"day\": \"2026-11-30\"}}') RETURNING job_run_id, job_id, status, attempt"
    );
    let batches = query(&ctx, &sql).await;
    assert_eq!(rows(&batches), 1);
    let run = strings(&batches, 0)[0].clone().expect("the new run's id");
    assert_eq!(strings(&batches, 1), [Some(job.clone())]);
    assert_eq!(strings(&batches, 2), [Some("pending".to_string())]);
    assert_eq!(ints(&batches, 3), [Some(1)]);
    let requests = h.requests();
    let create = requests
        .iter()
        .find(|r| r.method == "POST")
        .expect("a create");
    assert_eq!(create.path, format!("/api/v1/workloads/jobs/{job}/runs"));
    assert_eq!(
        create.body,
        Some(json!({"parameters": {"day": "2026-11-30"}}))
    );
    let (s, got) = Sail::new(&h).run(&job, &run).await;
    assert_eq!((s, status(&got)), (200, "pending"));
    assert_eq!(got["parameters"], json!({"day": "2026-11-30"}));

    // A column the response lacks (`endpoint`) is read back by the whole key (job_id and
    // job_run_id): the new run alone, not every run of its job.
    h.clear_requests();
    let sql = format!(
        "INSERT INTO {SAIL_RUNS} (job_id) VALUES ('{job}') RETURNING job_run_id, endpoint, status"
    );
    let batches = query(&ctx, &sql).await;
    assert_eq!(rows(&batches), 1);
    assert_eq!(strings(&batches, 1), [Some("sail".to_string())]);
    let new = strings(&batches, 0)[0].clone().expect("an id");
    let read: Vec<String> = h
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(read, [format!("/api/v1/workloads/jobs/{job}/runs/{new}")]);
}

#[tokio::test]
async fn delete_by_keys_reports_a_409_per_run_and_deletes_the_others() {
    let h = sail().await;
    let api = Sail::new(&h);
    let job = h.jobs()[0].clone();
    let done: Vec<String> = runs_with(&h, &job, "succeeded")
        .await
        .iter()
        .take(2)
        .map(id)
        .collect();
    let pending = id(&api.create(&job, None).await);
    let ctx = sail_session(&h, None);
    h.clear_requests();
    let sql = format!(
        "DELETE FROM {SAIL_RUNS} WHERE job_id = '{job}' AND job_run_id IN ('{}', '{}', '{pending}')",
        done[0], done[1]
    );
    let message = error(&ctx, &sql).await;
    assert!(
        message.contains(&pending) && message.contains("409"),
        "{message}"
    );
    let deletes: Vec<String> = h
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(deletes.len(), 3, "{deletes:?}");
    assert!(
        h.requests().iter().all(|r| r.body.is_none()),
        "a DELETE carries no body"
    );
    assert!(
        h.requests().iter().all(|r| r.method == "DELETE"),
        "keys need no read first"
    );
    for run in &done {
        assert_eq!(api.run(&job, run).await.0, 404, "{run} deleted");
    }
    assert_eq!(
        api.run(&job, &pending).await.0,
        200,
        "the pending run is kept"
    );
}

#[tokio::test]
async fn delete_with_any_where_reads_first_and_deletes_exactly_what_it_selects() {
    let h = sail().await;
    let job = h.jobs()[1].clone();
    let failed: Vec<String> = runs_with(&h, &job, "failed").await.iter().map(id).collect();
    assert!(!failed.is_empty());
    let before = h.run_count();
    let ctx = sail_session(&h, None);
    h.clear_requests();
    let sql = format!("DELETE FROM {SAIL_RUNS} WHERE job_id = '{job}' AND status = 'failed'");
    let batches = query(&ctx, &sql).await;
    assert_eq!(count(&batches), failed.len() as u64);
    let mut deleted: Vec<String> = h
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path.rsplit('/').next().unwrap_or_default().to_string())
        .collect();
    deleted.sort();
    let mut want = failed.clone();
    want.sort();
    assert_eq!(deleted, want);
    assert_eq!(h.run_count(), before - failed.len());
    assert!(runs_with(&h, &job, "failed").await.is_empty());
}

#[tokio::test]
async fn exec_ready_releases_and_retry_resets_in_place() {
    let h = sail().await;
    let api = Sail::new(&h);
    let job = h.jobs()[0].clone();
    let pending = id(&api.create(&job, None).await);
    let ctx = sail_session(&h, None);
    h.clear_requests();
    let released = query(
        &ctx,
        &format!("EXEC lakesail.jobs.job_runs.ready @job_id='{job}', @job_run_id='{pending}'"),
    )
    .await;
    // The answer is the run, as columns (the method's `columns:`).
    let names: Vec<String> = released[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "job_run_id",
            "job_id",
            "status",
            "status_message",
            "attempt",
            "version"
        ]
    );
    assert_eq!(strings(&released, 0), [Some(pending.clone())]);
    assert_eq!(strings(&released, 2), [Some("ready".to_string())]);
    let requests = h.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.clone()),
        (
            "POST",
            format!("/api/v1/workloads/jobs/{job}/runs/{pending}/ready")
        )
    );
    assert_eq!(status(&api.run(&job, &pending).await.1), "ready");

    // Ready again: the API's 409, named.
    let message = error(
        &ctx,
        &format!("EXEC lakesail.jobs.job_runs.ready @job_id='{job}', @job_run_id='{pending}'"),
    )
    .await;
    assert!(message.contains("409"), "{message}");

    let failed = runs_with(&h, &job, "failed").await.remove(0);
    let run = id(&failed);
    h.clear_requests();
    let retried = query(
        &ctx,
        &format!(
            "EXEC lakesail.jobs.job_runs.retry @job_id='{job}', @job_run_id='{run}', @hold=true"
        ),
    )
    .await;
    assert_eq!(strings(&retried, 2), [Some("pending".to_string())]);
    assert_eq!(
        ints(&retried, 4),
        [failed["attempt"].as_i64().map(|a| a + 1)]
    );
    let requests = h.requests();
    assert_eq!(requests[0].body, Some(json!({"hold": true})));
    let (_, after) = api.run(&job, &run).await;
    assert_eq!(status(&after), "pending");
    assert_eq!(
        after["attempt"].as_i64(),
        failed["attempt"].as_i64().map(|a| a + 1)
    );
    assert_eq!(after["id"], failed["id"], "the same run");
}
