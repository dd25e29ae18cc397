//! Each pushdown rule: the rows, and the requests made.

use std::collections::BTreeSet;

use jobsql_emulator::RecordedRequest;

use super::common::*;

#[tokio::test]
async fn run_id_eq_is_one_runs_get_and_follows_task_pages() {
    let env = env(400).await;
    let notable = env.emulator.notable();
    let big = *notable
        .big_multi_task
        .first()
        .expect("a run with > 100 tasks");
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id, CAST(cardinality(tasks) AS BIGINT) FROM {RUNS} WHERE run_id = {big}"
        ))
        .await;
    assert_eq!(ints(&batches, 0), [Some(big)]);
    let gets = to(&requests, "/runs/get");
    assert_eq!(gets.len(), requests.len(), "only runs/get: {requests:?}");
    assert!(
        gets.len() >= 2,
        "tasks beyond 100 need a second page: {gets:?}"
    );
    assert!(gets
        .iter()
        .all(|r| r.param("run_id") == Some(big.to_string().as_str())));
    assert!(gets[1].param("page_token").is_some());
    let tasks = ints(&batches, 1)[0].expect("tasks");
    assert!(tasks > 100, "all tasks returned, got {tasks}");
    let (unnested, _) = env
        .run(&format!("SELECT t['task_key'] FROM (SELECT unnest(tasks) AS t FROM {RUNS} WHERE run_id = {big})"))
        .await;
    assert_eq!(rows(&unnested) as i64, tasks);
    let keys: BTreeSet<_> = strings(&unnested, 0).into_iter().collect();
    assert_eq!(keys.len() as i64, tasks, "no task twice");
}

#[tokio::test]
async fn run_id_in_is_concurrent_gets_and_a_missing_run_is_zero_rows() {
    let env = env(400).await;
    let raw = all_runs_raw(&env.emulator, &[]).await;
    let a = raw[3]["run_id"].as_i64().expect("run_id");
    let b = raw[40]["run_id"].as_i64().expect("run_id");
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE run_id IN ({a}, {b}, 999999999) ORDER BY run_id"
        ))
        .await;
    let mut want = vec![Some(a), Some(b)];
    want.sort();
    assert_eq!(ints(&batches, 0), want);
    let asked: BTreeSet<_> = to(&requests, "/runs/get")
        .iter()
        .filter_map(|r| r.param("run_id").map(str::to_string))
        .collect();
    assert_eq!(
        asked,
        BTreeSet::from([a.to_string(), b.to_string(), "999999999".to_string()])
    );
    assert!(to(&requests, "/runs/list").is_empty());
}

#[tokio::test]
async fn job_id_eq_and_in_list_per_job() {
    let env = env(400).await;
    let job = env.emulator.notable().job_ids[0];
    let job2 = env.emulator.notable().job_ids[1];
    let raw = all_runs_raw(&env.emulator, &[("job_id", &job.to_string())]).await;
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id, job_id FROM {RUNS} WHERE job_id = {job}"
        ))
        .await;
    assert_eq!(rows(&batches), raw.len());
    assert!(ints(&batches, 1).iter().all(|j| *j == Some(job)));
    let lists = to(&requests, "/runs/list");
    assert_eq!(lists.len(), requests.len());
    assert!(lists
        .iter()
        .all(|r| r.param("job_id") == Some(job.to_string().as_str())));
    assert!(
        lists.iter().all(|r| r.param("expand_tasks").is_none()),
        "tasks not read"
    );

    let raw2 = all_runs_raw(&env.emulator, &[("job_id", &job2.to_string())]).await;
    let (batches, requests) = env
        .run(&format!("SELECT job_id, count(*) FROM {RUNS} WHERE job_id IN ({job}, {job2}) GROUP BY job_id ORDER BY job_id"))
        .await;
    let mut want = vec![(job, raw.len() as i64), (job2, raw2.len() as i64)];
    want.sort();
    let got: Vec<_> = ints(&batches, 0)
        .into_iter()
        .zip(ints(&batches, 1))
        .map(|(a, b)| (a.unwrap_or(0), b.unwrap_or(0)))
        .collect();
    assert_eq!(got, want);
    let jobs: BTreeSet<_> = requests
        .iter()
        .filter_map(|r| r.param("job_id").map(str::to_string))
        .collect();
    assert_eq!(jobs, BTreeSet::from([job.to_string(), job2.to_string()]));
}

#[tokio::test]
async fn flags_and_run_type_become_parameters_and_columns_hold_them() {
    let env = env(400).await;
    let (batches, requests) = env
        .run(&format!(
            "SELECT state['life_cycle_state'], active_only FROM {RUNS} WHERE active_only = true"
        ))
        .await;
    assert!(rows(&batches) > 0, "the emulator has active runs");
    assert!(strings(&batches, 0).iter().all(|s| matches!(
        s.as_deref(),
        Some("QUEUED" | "PENDING" | "RUNNING" | "TERMINATING" | "BLOCKED" | "WAITING_FOR_RETRY")
    )));
    assert!(strings(&batches, 1)
        .iter()
        .all(|s| s.as_deref() == Some("true")));
    assert!(requests
        .iter()
        .all(|r| r.param("active_only") == Some("true")));

    let (batches, requests) = env
        .run(&format!("SELECT run_type, job_id FROM {RUNS} WHERE run_type = 'SUBMIT_RUN' AND completed_only = true"))
        .await;
    let raw = all_runs_raw(
        &env.emulator,
        &[("run_type", "SUBMIT_RUN"), ("completed_only", "true")],
    )
    .await;
    assert_eq!(rows(&batches), raw.len());
    assert!(rows(&batches) > 0);
    assert!(strings(&batches, 0)
        .iter()
        .all(|s| s.as_deref() == Some("SUBMIT_RUN")));
    assert!(
        ints(&batches, 1).iter().all(|j| j.is_none()),
        "one-time runs have no job_id"
    );
    assert!(requests
        .iter()
        .all(|r| r.param("run_type") == Some("SUBMIT_RUN")
            && r.param("completed_only") == Some("true")));
}

#[tokio::test]
async fn start_time_bounds_become_inclusive_millisecond_parameters() {
    let env = env(400).await;
    let raw = all_runs_raw(&env.emulator, &[]).await;
    let t = |i: usize| raw[i]["start_time"].as_i64().expect("start_time");
    let (hi, lo) = (t(20), t(120));
    // Strict bounds on exact run start times: the runs at the bounds are excluded.
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE start_time > to_timestamp_millis({lo}) AND start_time < to_timestamp_millis({hi})"
        ))
        .await;
    let want: BTreeSet<i64> = raw
        .iter()
        .filter(|r| {
            let s = r["start_time"].as_i64().unwrap_or(0);
            s > lo && s < hi
        })
        .filter_map(|r| r["run_id"].as_i64())
        .collect();
    let got: BTreeSet<i64> = ints(&batches, 0).into_iter().flatten().collect();
    assert_eq!(got, want);
    let lower = (lo + 1).to_string();
    let upper = (hi - 1).to_string();
    // The first request carries the bounds exactly; parallel slices stay inside them.
    assert_eq!(requests[0].param("start_time_from"), Some(lower.as_str()));
    assert_eq!(requests[0].param("start_time_to"), Some(upper.as_str()));
    assert!(
        requests.iter().all(|r| within(r, lo + 1, hi - 1)),
        "{requests:?}"
    );

    // BETWEEN is inclusive; the parameter columns show the values used.
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id, start_time_from, start_time_to FROM {RUNS} WHERE start_time BETWEEN to_timestamp_millis({lo}) AND to_timestamp_millis({hi})"
        ))
        .await;
    let want = raw
        .iter()
        .filter(|r| {
            let s = r["start_time"].as_i64().unwrap_or(0);
            s >= lo && s <= hi
        })
        .count();
    assert_eq!(rows(&batches), want);
    assert!(
        ints(&batches, 1).iter().all(|v| *v == Some(lo))
            && ints(&batches, 2).iter().all(|v| *v == Some(hi))
    );
    assert_eq!(
        requests[0].param("start_time_from"),
        Some(lo.to_string().as_str())
    );
    assert!(requests.iter().all(|r| within(r, lo, hi)), "{requests:?}");

    // The parameter columns themselves, with epoch ms.
    let (batches, requests) = env
        .run(&format!(
            "SELECT count(*) FROM {RUNS} WHERE start_time_from = {lo} AND start_time_to = {hi}"
        ))
        .await;
    assert_eq!(ints(&batches, 0), [Some(want as i64)]);
    assert_eq!(
        requests[0].param("start_time_to"),
        Some(hi.to_string().as_str())
    );
    assert!(requests.iter().all(|r| within(r, lo, hi)), "{requests:?}");
}

#[tokio::test]
async fn limit_asks_only_for_the_rows_needed() {
    let env = env(400).await;
    let (batches, requests) = env
        .run(&format!("SELECT run_id FROM {RUNS} LIMIT 30"))
        .await;
    assert_eq!(rows(&batches), 30);
    let limits: Vec<_> = requests
        .iter()
        .map(|r| r.param("limit").unwrap_or("").to_string())
        .collect();
    assert_eq!(limits, ["25", "5"]);
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE job_id = {} LIMIT 2",
            env.emulator.notable().job_ids[0]
        ))
        .await;
    assert_eq!(rows(&batches), 2);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].param("limit"), Some("2"));
}

#[tokio::test]
async fn count_star_reads_everything_without_tasks_and_tasks_ask_for_expansion() {
    let env = env(400).await;
    let raw = all_runs_raw(&env.emulator, &[]).await;
    let (batches, requests) = env.run(&format!("SELECT count(*) FROM {RUNS}")).await;
    assert_eq!(ints(&batches, 0), [Some(raw.len() as i64)]);
    // One request per page, plus at most one partial last page per parallel slice.
    let pages = raw.len().div_ceil(25);
    assert!(
        (pages..=pages + 2 * jobsql_core::provider::DEFAULT_MAX_CONCURRENCY)
            .contains(&requests.len()),
        "{} requests for {pages} pages",
        requests.len()
    );
    assert!(requests
        .iter()
        .all(|r| r.param("expand_tasks").is_none() && r.param("limit") == Some("25")));
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id, CAST(cardinality(tasks) AS BIGINT) FROM {RUNS} LIMIT 10"
        ))
        .await;
    assert_eq!(rows(&batches), 10);
    let lists = to(&requests, "/runs/list");
    assert!(
        !lists.is_empty()
            && lists
                .iter()
                .all(|r| r.param("expand_tasks") == Some("true"))
    );
}

#[tokio::test]
async fn several_workspaces_are_queried_concurrently_and_unioned() {
    let a = emulator(120, 1).await;
    let b = emulator(80, 2).await;
    let ctx = session(&a, &[("east", &a), ("west", &b)]);
    let batches = query(&ctx, &format!("SELECT deployment_name, count(*) FROM {RUNS} WHERE deployment_name IN ('east', 'west') GROUP BY deployment_name ORDER BY deployment_name")).await;
    let raw_a = all_runs_raw(&a, &[]).await.len() as i64;
    let raw_b = all_runs_raw(&b, &[]).await.len() as i64;
    assert_eq!(
        strings(&batches, 0),
        [Some("east".into()), Some("west".into())]
    );
    assert_eq!(ints(&batches, 1), [Some(raw_a), Some(raw_b)]);
    assert!(!a.requests().is_empty() && !b.requests().is_empty());
    let message = match jobsql_core::session::run_sql(
        &ctx,
        &format!("SELECT * FROM {RUNS} WHERE deployment_name = 'bad/name'"),
    )
    .await
    {
        Ok(_) => panic!("a bad deployment name is refused"),
        Err(e) => jobsql_core::session::user_message(&e),
    };
    assert!(message.contains("bad/name"), "{message}");
}

#[tokio::test]
async fn clean_room_task_runs_push_the_room_into_the_path_and_the_notebook_filter() {
    let env = env(50).await;
    let room = env.emulator.notable().clean_rooms[0].clone();
    let (all, requests) = env
        .run(&format!("SELECT notebook_name, clean_room_name FROM databricks_workspace.cleanrooms.task_runs WHERE clean_room_name = '{room}'"))
        .await;
    assert!(rows(&all) > 0);
    assert!(strings(&all, 1)
        .iter()
        .all(|s| s.as_deref() == Some(room.as_str())));
    assert!(
        requests
            .iter()
            .all(|r| r.path == format!("/api/2.0/clean-rooms/{room}/runs")),
        "{requests:?}"
    );
    let notebook = strings(&all, 0)[0].clone().expect("a notebook");
    let want = strings(&all, 0)
        .iter()
        .filter(|n| n.as_deref() == Some(notebook.as_str()))
        .count();
    let (batches, requests) = env
        .run(&format!("SELECT notebook_name FROM databricks_workspace.cleanrooms.task_runs WHERE clean_room_name = '{room}' AND notebook_name = '{notebook}'"))
        .await;
    assert_eq!(rows(&batches), want);
    assert!(requests
        .iter()
        .all(|r| r.param("notebook_name") == Some(notebook.as_str())));
    let message = env
        .error("SELECT * FROM databricks_workspace.cleanrooms.task_runs WHERE clean_room_name = 'no_such_room'")
        .await;
    assert!(
        message.contains("404") || message.to_lowercase().contains("not"),
        "{message}"
    );
}

#[tokio::test]
async fn listed_runs_with_more_than_100_tasks_are_completed_with_runs_get() {
    let env = env(400).await;
    let notable = env.emulator.notable();
    let big = notable.big_multi_task[0];
    let (whole, _) = env
        .run(&format!(
            "SELECT CAST(cardinality(tasks) AS BIGINT) FROM {RUNS} WHERE run_id = {big}"
        ))
        .await;
    let tasks = ints(&whole, 0)[0].expect("tasks");
    assert!(tasks > 100);
    let job: i64 = ints(
        &env.run(&format!("SELECT job_id FROM {RUNS} WHERE run_id = {big}"))
            .await
            .0,
        0,
    )[0]
    .expect("job");
    let (batches, requests) = env
        .run(&format!("SELECT run_id, CAST(cardinality(tasks) AS BIGINT), has_more FROM {RUNS} WHERE job_id = {job}"))
        .await;
    let listed = ints(&batches, 0);
    let counts = ints(&batches, 1);
    assert!(listed.contains(&Some(big)));
    assert!(
        counts.iter().all(|c| *c == Some(tasks)),
        "every run of the big job has all its tasks: {counts:?}"
    );
    assert!(strings(&batches, 2)
        .iter()
        .all(|h| h.as_deref() != Some("true")));
    let gets = to(&requests, "/runs/get");
    let lists = to(&requests, "/runs/list");
    assert!(lists
        .iter()
        .all(|r| r.param("expand_tasks") == Some("true")));
    assert_eq!(
        gets.iter()
            .filter(|r| r.param("page_token").is_none())
            .count(),
        listed.len(),
        "one runs/get per truncated run"
    );
    // Without tasks in the query, nothing is completed.
    let (_, requests) = env
        .run(&format!("SELECT run_id FROM {RUNS} WHERE job_id = {job}"))
        .await;
    assert!(to(&requests, "/runs/get").is_empty());
}

/// Whether a runs/list request's start_time bounds lie inside `[lo, hi]` (absent bounds count
/// as the query's own, which the first request carries).
fn within(r: &RecordedRequest, lo: i64, hi: i64) -> bool {
    let get = |k: &str| r.param(k).and_then(|v| v.parse::<i64>().ok());
    get("start_time_from").unwrap_or(lo) >= lo && get("start_time_to").unwrap_or(hi) <= hi
}
