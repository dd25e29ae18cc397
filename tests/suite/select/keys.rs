//! Keys from subqueries: `job_id IN (SELECT job_id FROM … )` lists only the jobs the subquery
//! answers (one listing each), up to `MAX_KEYS` keys; past it, and for `NOT IN`, DataFusion's
//! semi-join over the full listing answers. The rows are the same either way.

use std::collections::BTreeSet;

use jobsql_core::session::keys::MAX_KEYS;
use jobsql_emulator::RecordedRequest;

use super::common::*;

/// The `job_id` of each runs/list request (`None`: the full listing).
pub(super) fn listed_jobs(requests: &[RecordedRequest]) -> BTreeSet<Option<String>> {
    requests
        .iter()
        .filter(|r| r.path.ends_with("/runs/list"))
        .map(|r| r.param("job_id").map(str::to_string))
        .collect()
}

#[tokio::test]
async fn an_in_subquery_lists_only_the_jobs_it_answers() {
    let env = env(400).await;
    let jobs = env.emulator.notable().job_ids;
    let (a, b) = (jobs[0], jobs[3]);
    let (want, _) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE job_id IN ({a}, {b}) ORDER BY run_id"
        ))
        .await;
    assert!(ints(&want, 0).len() > 10, "a real answer");
    let (got, requests) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE job_id IN \
             (SELECT job_id FROM databricks_workspace.jobs.jobs WHERE job_id IN ({a}, {b})) \
             ORDER BY run_id"
        ))
        .await;
    assert_eq!(ints(&got, 0), ints(&want, 0));
    assert_eq!(
        listed_jobs(&requests),
        [Some(a.to_string()), Some(b.to_string())]
            .into_iter()
            .collect(),
        "only those jobs' listings"
    );
    // A subquery answering no key: no listing at all.
    let (none, requests) = env
        .run(&format!(
            "SELECT count(*) FROM {RUNS} WHERE job_id IN \
             (SELECT job_id FROM databricks_workspace.jobs.jobs WHERE job_id = -1)"
        ))
        .await;
    assert_eq!(ints(&none, 0), [Some(0)]);
    assert!(listed_jobs(&requests).is_empty(), "{requests:?}");
}

#[tokio::test]
async fn past_the_bound_and_for_not_in_the_full_listing_answers_the_same() {
    let env = env(300).await;
    let in_jobs = format!(
        "SELECT count(*) FROM {RUNS} WHERE job_id IN (SELECT job_id FROM databricks_workspace.jobs.jobs)"
    );
    let (keyed, requests) = env.run(&in_jobs).await;
    assert!(!listed_jobs(&requests).contains(&None), "per job");
    // The same keys and more than MAX_KEYS others: the semi-join over the full listing.
    let padded = format!(
        "SELECT count(*) FROM {RUNS} WHERE job_id IN (SELECT job_id FROM databricks_workspace.jobs.jobs \
         UNION ALL SELECT value FROM generate_series(1, {}))",
        MAX_KEYS + 50
    );
    let (full, requests) = env.run(&padded).await;
    assert_eq!(ints(&full, 0), ints(&keyed, 0));
    assert_eq!(
        listed_jobs(&requests),
        [None].into_iter().collect(),
        "the full listing"
    );
    let (all, _) = env.run(&format!("SELECT count(*) FROM {RUNS}")).await;
    let (not_in, requests) = env
        .run(&format!(
            "SELECT count(*) FROM {RUNS} WHERE job_id NOT IN (SELECT job_id FROM databricks_workspace.jobs.jobs)"
        ))
        .await;
    assert_eq!(listed_jobs(&requests), [None].into_iter().collect());
    let total = ints(&all, 0)[0].unwrap_or_default();
    let with_job = ints(&keyed, 0)[0].unwrap_or_default();
    let (without_job, _) = env
        .run(&format!("SELECT count(*) FROM {RUNS} WHERE job_id IS NULL"))
        .await;
    assert_eq!(
        ints(&not_in, 0)[0].unwrap_or_default(),
        total - with_job - ints(&without_job, 0)[0].unwrap_or_default()
    );
}

#[tokio::test]
async fn explain_runs_no_subquery() {
    let env = env(50).await;
    let (_, requests) = env
        .run(&format!(
            "EXPLAIN SELECT count(*) FROM {RUNS} WHERE job_id IN (SELECT job_id FROM databricks_workspace.jobs.jobs)"
        ))
        .await;
    assert!(requests.is_empty(), "{requests:?}");
}
