//! `unnest(tasks)` in the select list gives one row per task; an unnest in `FROM` over the
//! runs' column (`CROSS JOIN unnest(r.tasks)`, `, unnest(...)`, `LATERAL`), which DataFusion 55
//! cannot run, fails with one line naming that form, before any request.

use super::common::*;

#[tokio::test]
async fn unnest_in_the_select_list_gives_one_row_per_task() {
    let env = env(60).await;
    let (counts, read) = env
        .run(&format!(
            "SELECT run_id, CAST(array_length(tasks) AS BIGINT) FROM {RUNS} WHERE tasks IS NOT NULL ORDER BY run_id"
        ))
        .await;
    let mut want: Vec<Option<i64>> = Vec::new();
    for (run, n) in ints(&counts, 0).into_iter().zip(ints(&counts, 1)) {
        want.extend(std::iter::repeat_n(run, n.unwrap_or_default() as usize));
    }
    assert!(want.len() > 60, "runs with several tasks: {}", want.len());
    let (got, requests) = env
        .run(&format!(
            "SELECT run_id, unnest(tasks)['task_key'] AS task_key FROM {RUNS} ORDER BY run_id"
        ))
        .await;
    assert_eq!(ints(&got, 0), want);
    assert!(
        strings(&got, 1).iter().all(Option::is_some),
        "each task's key"
    );
    // The same reads as any query of the tasks: the listing, and the gets completing the
    // runs with more than 100 tasks.
    let gets = |rs: &[jobsql_emulator::RecordedRequest]| {
        let mut g: Vec<String> = rs
            .iter()
            .filter(|r| r.path.ends_with("/runs/get"))
            .map(|r| format!("{:?}", r.query))
            .collect();
        g.sort();
        g
    };
    assert!(
        requests
            .iter()
            .all(|r| r.path.ends_with("/runs/list") || r.path.ends_with("/runs/get")),
        "{requests:?}"
    );
    assert_eq!(gets(&requests), gets(&read));
}

#[tokio::test]
async fn an_unnest_in_from_names_the_supported_form() {
    let env = env(20).await;
    for sql in [
        format!("SELECT r.run_id, t.* FROM {RUNS} r CROSS JOIN unnest(r.tasks) AS t"),
        format!("SELECT r.run_id FROM {RUNS} r CROSS JOIN LATERAL unnest(r.tasks) AS t"),
        format!("SELECT r.run_id, t.task FROM {RUNS} r, unnest(r.tasks) AS t(task)"),
    ] {
        let (message, requests) = env.fail(&sql).await;
        assert_eq!(
            message,
            "unnest(r.tasks) in FROM is not supported (DataFusion 55 has no lateral unnest): \
             unnest in the select list instead, e.g. SELECT run_id, unnest(tasks) AS task FROM job_runs",
            "{sql}"
        );
        assert!(!message.contains('\n'), "one line");
        assert!(requests.is_empty(), "{sql}: {requests:?}");
    }
    // An unnest in FROM over no column still works.
    let (got, _) = env.run("SELECT * FROM unnest([1, 2, 3]) AS t").await;
    assert_eq!(ints(&got, 0), [Some(1), Some(2), Some(3)]);
}
