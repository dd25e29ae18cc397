//! DELETE deletes exactly the rows `SELECT ... WHERE <same>` returns (subqueries, anti-joins
//! and LIMIT included), never every row of a workspace, and never more than `--max-deletes`.

use super::common::*;
use jobsql_core::client::RetryPolicy;

/// The job with the most completed runs, and those runs (newest first).
async fn busiest_job(env: &Env) -> (i64, Vec<i64>) {
    let (rows, _) = env
        .run(&format!(
            "SELECT job_id FROM {RUNS} WHERE completed_only = true AND job_id IS NOT NULL \
             GROUP BY job_id ORDER BY count(*) DESC, job_id LIMIT 1"
        ))
        .await;
    let job = ints(&rows, 0)[0].expect("a job");
    let (rows, _) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE job_id = {job} AND completed_only = true \
             ORDER BY run_id DESC"
        ))
        .await;
    let runs: Vec<i64> = ints(&rows, 0).into_iter().flatten().collect();
    assert!(
        runs.len() >= 6,
        "job {job} has {} completed runs",
        runs.len()
    );
    (job, runs)
}

/// The run ids in the bodies of the runs/delete requests, sorted.
fn deleted(requests: &[jobsql_emulator::RecordedRequest]) -> Vec<i64> {
    let mut ids: Vec<i64> = mutations(requests)
        .iter()
        .map(|r| {
            assert_eq!(r.path, "/api/2.2/jobs/runs/delete");
            r.body.as_ref().expect("body")["run_id"]
                .as_i64()
                .expect("run_id")
        })
        .collect();
    ids.sort();
    ids
}

async fn select_ids(env: &Env, where_clause: &str) -> Vec<i64> {
    let (rows, _) = env
        .run(&format!("SELECT run_id FROM {RUNS} WHERE {where_clause}"))
        .await;
    let mut ids: Vec<i64> = ints(&rows, 0).into_iter().flatten().collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_delete_with_a_subquery_deletes_only_the_rows_the_select_returns() {
    let env = env().await;
    let (job, runs) = busiest_job(&env).await;
    let dir = std::env::temp_dir().join(format!("jobsql-delete-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let stale = dir.join("stale.parquet");
    let stale = stale.display();
    // Two of the job's runs, and one run id that is no run at all.
    env.run(&format!(
        "COPY (SELECT * FROM (VALUES ({}), ({}), (-5)) AS t(run_id)) TO '{stale}'",
        runs[0], runs[1]
    ))
    .await;
    let where_clause = format!(
        "job_id = {job} AND completed_only = true AND run_id IN (SELECT run_id FROM '{stale}')"
    );
    let selected = select_ids(&env, &where_clause).await;
    let mut want = vec![runs[0], runs[1]];
    want.sort();
    assert_eq!(selected, want);

    let (batches, requests) = env
        .run(&format!("DELETE FROM {RUNS} WHERE {where_clause}"))
        .await;
    assert_eq!(count(&batches), 2);
    assert_eq!(deleted(&requests), selected, "exactly the selected runs");
    let left = select_ids(&env, &format!("job_id = {job} AND completed_only = true")).await;
    assert_eq!(left.len(), runs.len() - 2, "the job's other runs are kept");

    // The same WHERE once the two are gone selects nothing, and deletes nothing.
    let (batches, requests) = env
        .run(&format!("DELETE FROM {RUNS} WHERE {where_clause}"))
        .await;
    assert_eq!(count(&batches), 0);
    assert!(mutations(&requests).is_empty(), "{requests:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn not_in_a_subquery_and_limit_are_honoured() {
    let env = env().await;
    let (job, runs) = busiest_job(&env).await;
    ctx_sql(
        &env,
        &format!(
            "CREATE TABLE keep AS SELECT run_id FROM {RUNS} WHERE job_id = {job} \
             AND completed_only = true AND run_id NOT IN ({}, {})",
            runs[0], runs[1]
        ),
    )
    .await;
    let (batches, requests) = env
        .run(&format!(
            "DELETE FROM {RUNS} WHERE job_id = {job} AND completed_only = true \
             AND run_id NOT IN (SELECT run_id FROM keep)"
        ))
        .await;
    assert_eq!(count(&batches), 2);
    let mut want = vec![runs[0], runs[1]];
    want.sort();
    assert_eq!(deleted(&requests), want);

    let (batches, requests) = env
        .run(&format!(
            "DELETE FROM {RUNS} WHERE job_id = {job} AND completed_only = true \
             ORDER BY start_time DESC LIMIT 1"
        ))
        .await;
    assert_eq!(count(&batches), 1);
    assert_eq!(mutations(&requests).len(), 1, "LIMIT 1 deletes one run");
    let left = select_ids(&env, &format!("job_id = {job} AND completed_only = true")).await;
    assert_eq!(left.len(), runs.len() - 3);
}

#[tokio::test]
async fn a_where_on_a_struct_field_deletes_what_the_select_returns() {
    let env = env().await;
    let (job, _) = busiest_job(&env).await;
    let where_clause =
        format!("job_id = {job} AND completed_only = true AND state['result_state'] = 'SUCCESS'");
    let selected = select_ids(&env, &where_clause).await;
    assert!(!selected.is_empty(), "job {job} has successful runs");
    let (batches, requests) = env
        .run(&format!("DELETE FROM {RUNS} WHERE {where_clause}"))
        .await;
    assert_eq!(count(&batches), selected.len() as u64);
    assert_eq!(deleted(&requests), selected);
}

#[tokio::test]
async fn a_dry_run_shows_the_same_set_as_the_delete() {
    let env = env().await;
    let (job, runs) = busiest_job(&env).await;
    ctx_sql(
        &env,
        &format!("CREATE TABLE stale AS VALUES ({}), ({})", runs[2], runs[4]),
    )
    .await;
    let (dry, log) = session(&env.emulator, true);
    let log = log.expect("dry-run log");
    let sql = format!(
        "DELETE FROM {RUNS} WHERE job_id = {job} AND run_id IN (SELECT column1 FROM stale)"
    );
    // The dry-run session has no `stale` table of its own: give it the same one.
    jobsql_core::session::run_sql(
        &dry,
        &format!("CREATE TABLE stale AS VALUES ({}), ({})", runs[2], runs[4]),
    )
    .await
    .expect("stale");
    let results = jobsql_core::session::run_sql(&dry, &sql)
        .await
        .expect("dry run");
    assert_eq!(count(&results[0].batches), 2);
    let mut planned: Vec<i64> = log
        .take()
        .iter()
        .map(|p| {
            p.request.body.as_ref().expect("body")["run_id"]
                .as_i64()
                .expect("run_id")
        })
        .collect();
    planned.sort();
    let (batches, requests) = env.run(&sql).await;
    assert_eq!(count(&batches), 2);
    assert_eq!(deleted(&requests), planned, "the dry run planned this set");
}

#[tokio::test]
async fn a_where_that_names_only_the_workspace_deletes_nothing() {
    let env = env().await;
    for table in [RUNS, "databricks_workspace.jobs.jobs"] {
        for where_clause in [
            "deployment_name = 'emu'",
            "deployment_name IN ('emu')",
            "deployment_name = 'emu' AND 1 = 1",
        ] {
            let sql = format!("DELETE FROM {table} WHERE {where_clause}");
            let (message, requests) = env.fail(&sql).await;
            assert!(
                message.contains(
                    "with a WHERE that names only the workspace would delete every row: refused"
                ),
                "{sql}: {message}"
            );
            assert!(requests.is_empty(), "{sql}: {requests:?}");
        }
    }
}

#[tokio::test]
async fn a_delete_of_more_rows_than_max_deletes_is_refused_before_any_delete() {
    let env = env().await;
    let all = select_ids(&env, "run_id > 0").await.len();
    assert!(all > 100, "{all}");
    for where_clause in [
        "run_id > 0",
        "run_id = run_id",
        "run_name IS NOT NULL OR run_id > 0",
    ] {
        let sql = format!("DELETE FROM {RUNS} WHERE {where_clause}");
        let (message, requests) = env.fail(&sql).await;
        assert!(
            message.contains(&format!(
                "would delete {all} rows, more than --max-deletes 100: refused, nothing was deleted"
            )),
            "{sql}: {message}"
        );
        assert!(mutations(&requests).is_empty(), "{sql}: {requests:?}");
    }
    // The dry run refuses the same way, and records nothing.
    let (dry, log) = session(&env.emulator, true);
    let error =
        jobsql_core::session::run_sql(&dry, &format!("DELETE FROM {RUNS} WHERE run_id > 0"))
            .await
            .expect_err("refused");
    assert!(
        jobsql_core::session::user_message(&error).contains(&format!("would delete {all} rows")),
        "{error}"
    );
    assert!(log.expect("log").take().is_empty());
}

#[tokio::test]
async fn the_guard_is_exact_at_its_limit_for_reads_and_direct_deletes() {
    let env = env().await;
    let (job, runs) = busiest_job(&env).await;
    let (ctx, _) = session_with(&env.emulator, false, RetryPolicy::default(), |r| {
        r.with_max_deletes(5)
    });
    let run = |sql: String| {
        let ctx = ctx.clone();
        async move { jobsql_core::session::run_sql(&ctx, &sql).await }
    };
    // Six runs by key: refused without a request.
    let six: Vec<String> = runs[..6].iter().map(|r| r.to_string()).collect();
    env.emulator.clear_requests();
    let error = run(format!(
        "DELETE FROM {RUNS} WHERE run_id IN ({})",
        six.join(", ")
    ))
    .await
    .expect_err("six is more than five");
    let message = jobsql_core::session::user_message(&error);
    assert!(
        message.contains("would delete 6 rows, more than --max-deletes 5"),
        "{message}"
    );
    assert!(env.emulator.requests().is_empty());
    // Six runs through a read: the read runs, no delete is sent.
    let error = run(format!(
        "DELETE FROM {RUNS} WHERE job_id = {job} AND run_id IN ({})",
        six.join(", ")
    ))
    .await
    .expect_err("refused");
    assert!(
        jobsql_core::session::user_message(&error).contains("would delete 6 rows"),
        "{error}"
    );
    assert!(mutations(&env.emulator.requests()).is_empty());
    // One run named twice is one delete.
    env.emulator.clear_requests();
    let results = run(format!(
        "DELETE FROM {RUNS} WHERE run_id IN ({}, {})",
        six[5], six[5]
    ))
    .await
    .expect("one run");
    assert_eq!(count(&results[0].batches), 1);
    assert_eq!(mutations(&env.emulator.requests()).len(), 1);
    // Five: deleted.
    env.emulator.clear_requests();
    let results = run(format!(
        "DELETE FROM {RUNS} WHERE job_id = {job} AND run_id IN ({})",
        six[..5].join(", ")
    ))
    .await
    .expect("five is allowed");
    assert_eq!(count(&results[0].batches), 5);
    assert_eq!(mutations(&env.emulator.requests()).len(), 5);
}

async fn ctx_sql(env: &Env, sql: &str) {
    jobsql_core::session::run_sql(&env.ctx, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// DELETE recognises its keys with the pushdown translator SELECT uses: what SELECT knows
/// matches nothing (a bound below the rule's `minimum`) deletes nothing and sends nothing, and
/// keys named by `OR` or across workspaces are deleted directly, without a read.
#[tokio::test]
async fn a_delete_recognises_its_keys_as_select_does() {
    let env = env().await;
    let (_, runs) = busiest_job(&env).await;
    let (a, b) = (runs[0], runs[1]);
    let nothing = format!("run_id = {a} AND start_time_to = -1");
    let (rows, requests) = env
        .run(&format!("SELECT run_id FROM {RUNS} WHERE {nothing}"))
        .await;
    assert!(
        ints(&rows, 0).is_empty() && requests.is_empty(),
        "{requests:?}"
    );
    let (batches, requests) = env
        .run(&format!("DELETE FROM {RUNS} WHERE {nothing}"))
        .await;
    assert_eq!(count(&batches), 0);
    assert!(requests.is_empty(), "nothing sent: {requests:?}");

    let (batches, requests) = env
        .run(&format!(
            "DELETE FROM {RUNS} WHERE (run_id = {a} OR run_id = {b}) AND deployment_name IN ('emu')"
        ))
        .await;
    assert_eq!(count(&batches), 2);
    assert_eq!(requests.len(), 2, "two deletes, no read: {requests:?}");
    assert_eq!(deleted(&requests), {
        let mut ids = vec![a, b];
        ids.sort();
        ids
    });
}

/// `DELETE ... ORDER BY ... LIMIT n` deletes exactly the n rows its SELECT shows, the same in
/// every dry run (ties at the cut broken by the key); an unordered LIMIT, in the DELETE or a
/// subquery, is refused before any request.
#[tokio::test]
async fn an_ordered_limit_deletes_what_its_select_shows_and_an_unordered_one_is_refused() {
    let env = env().await;
    let (job, _) = busiest_job(&env).await;
    let filter = format!("job_id = {job} AND completed_only = true");
    for unordered in [
        format!("DELETE FROM {RUNS} WHERE {filter} LIMIT 2"),
        format!(
            "DELETE FROM {RUNS} WHERE run_id IN (SELECT run_id FROM {RUNS} WHERE {filter} LIMIT 2)"
        ),
    ] {
        let (message, requests) = env.fail(&unordered).await;
        assert!(
            message.contains("a LIMIT without ORDER BY (in the DELETE or one of its subqueries)")
                && message.contains("Add an ORDER BY before the LIMIT"),
            "{unordered}: {message}"
        );
        assert!(requests.is_empty(), "{unordered}: {requests:?}");
    }
    // Every run of the job shares its job_id: ORDER BY job_id is all ties, cut by run_id.
    for (order, select_order) in [
        ("start_time", "start_time, run_id"),
        ("job_id", "run_id"),
        ("start_time DESC", "start_time DESC, run_id"),
    ] {
        let (rows, _) = env
            .run(&format!(
                "SELECT run_id FROM {RUNS} WHERE {filter} ORDER BY {select_order} LIMIT 2"
            ))
            .await;
        let mut want: Vec<i64> = ints(&rows, 0).into_iter().flatten().collect();
        want.sort();
        assert_eq!(want.len(), 2);
        let sql = format!("DELETE FROM {RUNS} WHERE {filter} ORDER BY {order} LIMIT 2");
        let (dry, log) = session(&env.emulator, true);
        let log = log.expect("dry-run log");
        for _ in 0..5 {
            jobsql_core::session::run_sql(&dry, &sql)
                .await
                .expect("dry run");
            let mut planned: Vec<i64> = log
                .take()
                .iter()
                .map(|p| {
                    p.request.body.as_ref().expect("body")["run_id"]
                        .as_i64()
                        .expect("id")
                })
                .collect();
            planned.sort();
            assert_eq!(planned, want, "{sql}: every dry run plans the same runs");
        }
        let (batches, requests) = env.run(&sql).await;
        assert_eq!(count(&batches), 2);
        assert_eq!(deleted(&requests), want, "{sql}");
    }
    // Without WHERE, an ordered LIMIT names its rows: the two oldest runs go.
    let (rows, _) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} ORDER BY start_time, run_id LIMIT 2"
        ))
        .await;
    let mut want: Vec<i64> = ints(&rows, 0).into_iter().flatten().collect();
    want.sort();
    let (_, requests) = env
        .run(&format!("DELETE FROM {RUNS} ORDER BY start_time LIMIT 2"))
        .await;
    assert_eq!(deleted(&requests), want);
}
