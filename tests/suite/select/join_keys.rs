//! Keys from joins: `job_runs JOIN jobs ON job_id WHERE <job filter>` (in `ON`, `WHERE`,
//! `USING`, `EXISTS`, or with `VALUES`) lists only the matching jobs' runs, one listing each,
//! and reads the jobs listing once; past `MAX_KEYS` keys, with no matching job, and for a
//! `LEFT JOIN`, the rows are exactly SQL's.

use std::collections::BTreeSet;

use jobsql_core::session::keys::MAX_KEYS;
use jobsql_emulator::RecordedRequest;

use super::common::*;
use super::keys::listed_jobs;

const JOBS: &str = "databricks_workspace.jobs.jobs";

/// How many requests went to `path`.
fn sent(requests: &[RecordedRequest], path: &str) -> usize {
    requests.iter().filter(|r| r.path.ends_with(path)).count()
}

/// Two jobs with runs picked by name: the name filter, the ids it matches (as `IN` text) and
/// those ids as the listings expected.
async fn two_jobs(env: &Env) -> (String, String, BTreeSet<Option<String>>) {
    let jobs = env.emulator.notable().job_ids;
    let (named, _) = env
        .run(&format!(
            "SELECT name FROM {JOBS} WHERE job_id IN ({}, {})",
            jobs[0], jobs[3]
        ))
        .await;
    let names: Vec<String> = strings(&named, 0)
        .into_iter()
        .flatten()
        .map(|n| format!("'{n}'"))
        .collect();
    assert_eq!(names.len(), 2, "two named jobs");
    let filter = format!("j.name IN ({})", names.join(", "));
    let (ids, _) = env
        .run(&format!("SELECT job_id FROM {JOBS} j WHERE {filter}"))
        .await;
    let ids: Vec<i64> = ints(&ids, 0).into_iter().flatten().collect();
    let listed = ids.iter().map(|i| Some(i.to_string())).collect();
    let list = ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    (filter, list, listed)
}

#[tokio::test]
async fn a_join_on_a_job_filter_lists_only_those_jobs() {
    let env = env(400).await;
    let (filter, ids, listed) = two_jobs(&env).await;
    let (want, _) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE job_id IN ({ids}) ORDER BY run_id"
        ))
        .await;
    assert!(ints(&want, 0).len() > 10, "a real answer");
    let (_, alone) = env
        .run(&format!("SELECT job_id FROM {JOBS} j WHERE {filter}"))
        .await;
    let forms = [
        format!("SELECT r.run_id FROM {RUNS} r JOIN {JOBS} j ON r.job_id = j.job_id WHERE {filter} ORDER BY r.run_id"),
        format!("SELECT r.run_id FROM {RUNS} r, {JOBS} j WHERE r.job_id = j.job_id AND {filter} ORDER BY r.run_id"),
        format!("SELECT j.job_id, run_id FROM {JOBS} j JOIN {RUNS} r USING (job_id) WHERE {filter} ORDER BY run_id"),
        format!("SELECT run_id FROM {RUNS} r WHERE EXISTS (SELECT 1 FROM {JOBS} j WHERE j.job_id = r.job_id AND {filter}) ORDER BY run_id"),
        format!("SELECT run_id FROM {RUNS} r JOIN (VALUES {}) AS v(id) ON r.job_id = v.id ORDER BY run_id",
            ids.split(", ").map(|i| format!("({i})")).collect::<Vec<_>>().join(", ")),
    ];
    for (i, sql) in forms.iter().enumerate() {
        let (got, requests) = env.run(sql).await;
        let column = usize::from(i == 2);
        assert_eq!(ints(&got, column), ints(&want, 0), "{sql}");
        assert_eq!(listed_jobs(&requests), listed, "only those listings: {sql}");
        let jobs_read = if i == 4 {
            0
        } else {
            sent(&alone, "/jobs/list")
        };
        assert_eq!(
            sent(&requests, "/jobs/list"),
            jobs_read,
            "the jobs listing read once: {sql}"
        );
    }
}

#[tokio::test]
async fn past_the_bound_the_full_listing_answers_the_same() {
    let env = env(300).await;
    let (filter, ids, listed) = two_jobs(&env).await;
    let keyed = format!(
        "SELECT r.run_id FROM {RUNS} r JOIN (SELECT job_id FROM {JOBS} j WHERE {filter}) k \
         ON r.job_id = k.job_id ORDER BY r.run_id"
    );
    let (want, requests) = env.run(&keyed).await;
    assert_eq!(listed_jobs(&requests), listed);
    // The same jobs and more than MAX_KEYS others: DataFusion's join over the full listing.
    let padded = format!(
        "SELECT r.run_id FROM {RUNS} r JOIN (SELECT job_id FROM {JOBS} j WHERE {filter} \
         UNION ALL SELECT value FROM generate_series(1, {})) k ON r.job_id = k.job_id \
         ORDER BY r.run_id",
        MAX_KEYS + 50
    );
    let (got, requests) = env.run(&padded).await;
    assert_eq!(ints(&got, 0), ints(&want, 0));
    assert_eq!(listed_jobs(&requests), [None].into_iter().collect());
    assert!(ids.contains(", "), "two jobs: {ids}");
}

#[tokio::test]
async fn no_matching_job_lists_no_runs() {
    let env = env(100).await;
    let (got, requests) = env
        .run(&format!(
            "SELECT count(*) FROM {RUNS} r JOIN {JOBS} j ON r.job_id = j.job_id \
             WHERE j.name = 'no such job'"
        ))
        .await;
    assert_eq!(ints(&got, 0), [Some(0)]);
    assert!(listed_jobs(&requests).is_empty(), "{requests:?}");
    assert_eq!(sent(&requests, "/jobs/list"), 1, "{requests:?}");
}

#[tokio::test]
async fn left_joins_keep_their_rows() {
    let env = env(300).await;
    let (filter, ids, listed) = two_jobs(&env).await;
    // The nullable side keyed by the preserved one; -1 matches no run (a NULL-extended row).
    let values = format!("(VALUES ({}), (-1)) AS v(id)", ids.replace(", ", "), ("));
    let keyed = format!(
        "SELECT v.id, r.run_id FROM {values} LEFT JOIN {RUNS} r ON r.job_id = v.id \
         ORDER BY v.id, r.run_id"
    );
    let (got, requests) = env.run(&keyed).await;
    let mut with_none = listed.clone();
    with_none.insert(Some("-1".to_string()));
    assert_eq!(listed_jobs(&requests), with_none, "each key's listing");
    // The same join over a LIMITed runs table (not keyed: DataFusion's own answer).
    let unkeyed = keyed.replace(
        &format!("{RUNS} r"),
        &format!("(SELECT * FROM {RUNS} LIMIT 1000000) r"),
    );
    let (want, requests) = env.run(&unkeyed).await;
    assert!(listed_jobs(&requests).contains(&None), "{requests:?}");
    assert_eq!(ints(&got, 0), ints(&want, 0));
    assert_eq!(ints(&got, 1), ints(&want, 1));
    assert_eq!(
        ints(&got, 1).first(),
        Some(&None),
        "the -1 row, NULL-extended"
    );
    // The preserved side is not filtered: every run, once.
    let (all, _) = env.run(&format!("SELECT count(*) FROM {RUNS}")).await;
    let (kept, requests) = env
        .run(&format!(
            "SELECT count(*) FROM {RUNS} r LEFT JOIN {JOBS} j \
             ON r.job_id = j.job_id AND {filter}"
        ))
        .await;
    assert_eq!(ints(&kept, 0), ints(&all, 0));
    assert_eq!(listed_jobs(&requests), [None].into_iter().collect());
}

#[tokio::test]
async fn explain_of_a_join_sends_no_request() {
    let env = env(50).await;
    let (_, requests) = env
        .run(&format!(
            "EXPLAIN SELECT r.run_id FROM {RUNS} r JOIN {JOBS} j ON r.job_id = j.job_id \
             WHERE j.name = 'x'"
        ))
        .await;
    assert!(requests.is_empty(), "{requests:?}");
}
