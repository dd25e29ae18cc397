//! Reading LakeSail runs: no `job_id` lists the caller's runs (`/me/jobs/runs`), `job_id = …`
//! the job's listing, `IN (…)` one listing per job, `job_id` with `job_run_id` one describe;
//! `limit` / `marker` pages walked with no duplicate or gap, LIMIT sizing and stopping them.

use std::collections::BTreeSet;

use jobsql_emulator::lakesail::{LakeSailConfig, RecordedRequest};

use super::common::*;

async fn sail() -> jobsql_emulator::lakesail::LakeSailHandle {
    start(LakeSailConfig::default()).await
}

fn paths(requests: &[RecordedRequest]) -> Vec<String> {
    requests.iter().map(|r| r.path.clone()).collect()
}

#[tokio::test]
async fn without_job_id_every_run_of_the_caller_is_listed_page_by_page() {
    let h = sail().await;
    let (items, sizes) = Sail::new(&h).walk("/me/jobs/runs", 100).await;
    let ctx = sail_session(&h, None);
    h.clear_requests();
    let batches = query(
        &ctx,
        &format!(
            "SELECT job_run_id, job_id, status, endpoint FROM {SAIL_RUNS} \
             ORDER BY created_at DESC, job_run_id DESC"
        ),
    )
    .await;
    let got: Vec<String> = strings(&batches, 0).into_iter().flatten().collect();
    assert_eq!(got.len(), h.run_count());
    assert_eq!(
        got.iter().collect::<BTreeSet<_>>().len(),
        got.len(),
        "no run twice"
    );
    assert_eq!(got, ids(&items), "the API's order (newest first), no gap");
    assert!(strings(&batches, 3)
        .iter()
        .all(|e| e.as_deref() == Some("sail")));
    let requests = h.requests();
    assert_eq!(requests.len(), sizes.len(), "one request a page");
    assert!(requests
        .iter()
        .all(|r| r.path == "/api/v1/me/jobs/runs" && r.param("limit") == Some("100")));
    assert_eq!(requests[0].param("marker"), None);
    assert!(requests[1..].iter().all(|r| r.param("marker").is_some()));
}

#[tokio::test]
async fn job_id_lists_that_job_and_in_lists_each_job() {
    let h = sail().await;
    let jobs = h.jobs();
    let api = Sail::new(&h);
    let ctx = sail_session(&h, None);
    let (first, _) = api
        .walk(&format!("/workloads/jobs/{}/runs", jobs[0]), 100)
        .await;
    h.clear_requests();
    let sql = format!(
        "SELECT job_run_id, job_id FROM {SAIL_RUNS} WHERE job_id = '{}' \
         ORDER BY created_at DESC, job_run_id DESC",
        jobs[0]
    );
    let batches = query(&ctx, &sql).await;
    assert_eq!(
        strings(&batches, 0)
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
        ids(&first)
    );
    assert!(first.len() > 300, "several pages: {}", first.len());
    let listing = format!("/api/v1/workloads/jobs/{}/runs", jobs[0]);
    assert!(paths(&h.requests()).iter().all(|p| *p == listing));
    assert_eq!(h.requests().len(), first.len().div_ceil(100));

    h.clear_requests();
    let three = &jobs[1..4];
    let sql = format!(
        "SELECT job_id, count(*) FROM {SAIL_RUNS} WHERE job_id IN ('{}', '{}', '{}') GROUP BY job_id",
        three[0], three[1], three[2]
    );
    let batches = query(&ctx, &sql).await;
    let got: BTreeSet<String> = strings(&batches, 0).into_iter().flatten().collect();
    let listed: BTreeSet<String> = paths(&h.requests()).into_iter().collect();
    let want: BTreeSet<String> = three
        .iter()
        .map(|j| format!("/api/v1/workloads/jobs/{j}/runs"))
        .collect();
    assert_eq!(listed, want, "only those jobs' listings");
    assert_eq!(got, three.iter().cloned().collect());
    for (job, n) in strings(&batches, 0).into_iter().zip(ints(&batches, 1)) {
        let (runs, _) = api
            .walk(
                &format!("/workloads/jobs/{}/runs", job.unwrap_or_default()),
                100,
            )
            .await;
        assert_eq!(n, Some(runs.len() as i64));
    }
}

#[tokio::test]
async fn job_id_and_job_run_id_describe_one_run_with_typed_columns() {
    let h = sail().await;
    let api = Sail::new(&h);
    let job = h.jobs()[0].clone();
    let (runs, _) = api.walk(&format!("/workloads/jobs/{job}/runs"), 100).await;
    let ended = runs
        .iter()
        .find(|r| ENDED.contains(&status(r)) && !r["startedAt"].is_null())
        .expect("an ended run");
    let run = ended["id"].as_str().expect("id").to_string();
    let ctx = sail_session(&h, None);
    h.clear_requests();
    let sql = format!(
        "SELECT job_run_id, job_key, status, attempt, version, \
         CAST(created_at AS BIGINT), CAST(finished_at AS BIGINT) - CAST(started_at AS BIGINT), \
         arrow_typeof(created_at), parameters \
         FROM {SAIL_RUNS} WHERE job_id = '{job}' AND job_run_id = '{run}'"
    );
    let batches = query(&ctx, &sql).await;
    assert_eq!(rows(&batches), 1);
    assert_eq!(strings(&batches, 0), [Some(run.clone())]);
    assert_eq!(
        strings(&batches, 1),
        [ended["jobKey"].as_str().map(str::to_string)]
    );
    assert_eq!(strings(&batches, 2), [Some(status(ended).to_string())]);
    assert_eq!(ints(&batches, 3), [ended["attempt"].as_i64()]);
    assert_eq!(ints(&batches, 4), [ended["version"].as_i64()]);
    let ms = |v: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
            .expect("RFC 3339")
            .timestamp_millis()
    };
    assert_eq!(ints(&batches, 5), [Some(ms(&ended["createdAt"]))]);
    assert_eq!(
        ints(&batches, 6),
        [Some(ms(&ended["finishedAt"]) - ms(&ended["startedAt"]))]
    );
    assert_eq!(
        strings(&batches, 7),
        [Some("Timestamp(ms, \"UTC\")".to_string())]
    );
    let parameters: serde_json::Value =
        serde_json::from_str(strings(&batches, 8)[0].as_deref().unwrap_or("null"))
            .expect("JSON text");
    assert_eq!(parameters, ended["parameters"]);
    let requests = h.requests();
    assert_eq!(
        paths(&requests),
        [format!("/api/v1/workloads/jobs/{job}/runs/{run}")]
    );

    // A run that does not exist, or one of another job: zero rows, not an error.
    let other = h.jobs()[1].clone();
    for (j, r) in [(job.as_str(), "RNOSUCHRUN"), (other.as_str(), run.as_str())] {
        let sql = format!(
            "SELECT job_run_id FROM {SAIL_RUNS} WHERE job_id = '{j}' AND job_run_id = '{r}'"
        );
        assert_eq!(rows(&query(&ctx, &sql).await), 0, "{j}/{r}");
    }
}

#[tokio::test]
async fn limit_sizes_and_stops_the_pages_and_newest_first_needs_no_full_listing() {
    let h = sail().await;
    let ctx = sail_session(&h, None);
    h.clear_requests();
    let batches = query(&ctx, &format!("SELECT job_run_id FROM {SAIL_RUNS} LIMIT 7")).await;
    assert_eq!(rows(&batches), 7);
    let requests = h.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].param("limit"), Some("7"));

    let (all, _) = Sail::new(&h).walk("/me/jobs/runs", 100).await;
    h.clear_requests();
    let batches = query(
        &ctx,
        &format!("SELECT job_run_id FROM {SAIL_RUNS} ORDER BY created_at DESC LIMIT 10"),
    )
    .await;
    let newest: Vec<String> = ids(&all).into_iter().take(10).collect();
    assert_eq!(
        strings(&batches, 0)
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
        newest
    );
    assert_eq!(h.requests().len(), 1, "{:?}", paths(&h.requests()));
}

#[tokio::test]
async fn the_jobs_table_lists_every_job() {
    let h = sail().await;
    let ctx = sail_session(&h, None);
    h.clear_requests();
    let batches = query(
        &ctx,
        "SELECT job_id, job_key, status FROM lakesail.jobs.jobs ORDER BY job_id",
    )
    .await;
    let mut want = h.jobs();
    want.sort();
    assert_eq!(
        strings(&batches, 0)
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
        want
    );
    assert!(strings(&batches, 1).iter().all(Option::is_some));
    assert!(paths(&h.requests())
        .iter()
        .all(|p| p == "/api/v1/workloads/jobs"));
}
