//! Parameters beyond the plain rules: filters arriving in later optimizer passes, values the API
//! would refuse, parameter columns the chosen method does not take, and `now()`.

use datafusion::arrow::util::pretty::pretty_format_batches;

use super::common::*;

const TASK_RUNS: &str = "databricks_workspace.cleanrooms.task_runs";

#[tokio::test]
async fn a_required_parameter_and_a_filter_that_cannot_be_pushed() {
    let env = env(50).await;
    let room = env.emulator.notable().clean_rooms[0].clone();
    let (all, _) = env
        .run(&format!(
            "SELECT notebook_name FROM {TASK_RUNS} WHERE clean_room_name = '{room}'"
        ))
        .await;
    let want = strings(&all, 0)
        .iter()
        .filter(|n| n.as_deref().is_some_and(|n| n.starts_with('a')))
        .count();
    assert!(want > 0 && want < rows(&all), "a LIKE that keeps some rows");
    // LIKE is not pushable: DataFusion asks about it again in a later pass, without the room.
    let (batches, requests) = env
        .run(&format!(
            "SELECT * FROM {TASK_RUNS} WHERE clean_room_name = '{room}' AND notebook_name LIKE 'a%'"
        ))
        .await;
    assert_eq!(rows(&batches), want);
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.path == format!("/api/2.0/clean-rooms/{room}/runs")
                && r.param("notebook_name").is_none()),
        "{requests:?}"
    );
    // The same with the pushable notebook filter beside a non-pushable one.
    let notebook = strings(&all, 0)[0].clone().expect("a notebook");
    let (batches, requests) = env
        .run(&format!(
            "SELECT notebook_name FROM {TASK_RUNS} WHERE clean_room_name = '{room}' AND notebook_name = '{notebook}' AND output_schema_name LIKE '%_output_%'"
        ))
        .await;
    assert!(rows(&batches) > 0);
    assert!(requests
        .iter()
        .all(|r| r.param("notebook_name") == Some(notebook.as_str())));
    // Really missing is still an error saying what to add, with no request.
    env.emulator.clear_requests();
    let message = env
        .error(&format!(
            "SELECT * FROM {TASK_RUNS} WHERE notebook_name LIKE 'a%'"
        ))
        .await;
    assert!(message.contains("clean_room_name"), "{message}");
    assert!(env.emulator.requests().is_empty());
}

#[tokio::test]
async fn a_run_type_outside_the_enum_is_zero_rows_without_a_request() {
    let env = env(300).await;
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE run_type = 'NOT_A_RUN_TYPE'"
        ))
        .await;
    assert_eq!(rows(&batches), 0);
    assert!(requests.is_empty(), "{requests:?}");
    // Lowercase is not the API's value either (SQL compares exactly).
    let (batches, requests) = env
        .run(&format!(
            "SELECT count(*) FROM {RUNS} WHERE run_type = 'submit_run'"
        ))
        .await;
    assert_eq!(ints(&batches, 0), [Some(0)]);
    assert!(requests.is_empty());
    // In a list, only the valid values are asked for.
    let raw = all_runs_raw(&env.emulator, &[("run_type", "SUBMIT_RUN")]).await;
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE run_type IN ('SUBMIT_RUN', 'BOGUS', 'ALSO_BOGUS')"
        ))
        .await;
    assert_eq!(rows(&batches), raw.len());
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.param("run_type") == Some("SUBMIT_RUN") && r.status == 200),
        "{requests:?}"
    );
    // EXPLAIN says so.
    let (batches, _) = env
        .run(&format!(
            "EXPLAIN SELECT run_id FROM {RUNS} WHERE run_type = 'BOGUS'"
        ))
        .await;
    let text = pretty_format_batches(&batches).expect("format").to_string();
    assert!(text.contains("requests=none"), "{text}");
}

#[tokio::test]
async fn empty_inverted_and_negative_time_ranges() {
    let env = env(300).await;
    let raw = all_runs_raw(&env.emulator, &[]).await;
    let x = raw[10]["start_time"].as_i64().expect("start_time");
    for predicate in [
        format!("start_time > to_timestamp_millis({x}) AND start_time < to_timestamp_millis({x})"),
        format!(
            "start_time > to_timestamp_millis({x}) AND start_time < to_timestamp_millis({})",
            x + 1
        ),
        format!(
            "start_time BETWEEN to_timestamp_millis({x}) AND to_timestamp_millis({})",
            x - 1000
        ),
        format!("start_time_from = {x} AND start_time_to = {}", x - 1),
        "start_time < to_timestamp_millis(-5)".to_string(),
        "start_time_to = -1".to_string(),
    ] {
        let (batches, requests) = env
            .run(&format!("SELECT count(*) FROM {RUNS} WHERE {predicate}"))
            .await;
        assert_eq!(ints(&batches, 0), [Some(0)], "{predicate}");
        assert!(requests.is_empty(), "{predicate}: {requests:?}");
    }
    // A lower bound before 1970 keeps every run and is sent as 0 (the API refuses negatives).
    let (batches, requests) = env
        .run(&format!(
            "SELECT count(*) FROM {RUNS} WHERE start_time >= to_timestamp_millis(-86400000)"
        ))
        .await;
    assert_eq!(ints(&batches, 0), [Some(raw.len() as i64)]);
    assert_eq!(requests[0].param("start_time_from"), Some("0"));
    assert!(requests.iter().all(|r| r.status == 200
        && r.param("start_time_from")
            .and_then(|v| v.parse::<i64>().ok())
            >= Some(0)));
}

#[tokio::test]
async fn active_only_and_completed_only_together_are_zero_rows_without_a_request() {
    let env = env(300).await;
    let active = env.emulator.notable().active[0];
    for predicate in [
        "active_only = true AND completed_only = true".to_string(),
        "active_only AND completed_only".to_string(),
        format!("run_id = {active} AND active_only = true AND completed_only = true"),
    ] {
        let (batches, requests) = env
            .run(&format!("SELECT run_id FROM {RUNS} WHERE {predicate}"))
            .await;
        assert_eq!(rows(&batches), 0, "{predicate}");
        assert!(requests.is_empty(), "{predicate}: {requests:?}");
    }
    // One of them false is no contradiction: the API lists them as usual.
    let raw = all_runs_raw(&env.emulator, &[("active_only", "true")]).await;
    let (batches, requests) = env
        .run(&format!(
            "SELECT count(*) FROM {RUNS} WHERE active_only = true AND completed_only = false"
        ))
        .await;
    assert_eq!(ints(&batches, 0), [Some(raw.len() as i64)]);
    assert!(requests.iter().all(|r| r.status == 200
        && r.param("active_only") == Some("true")
        && r.param("completed_only") == Some("false")));
}

#[tokio::test]
async fn parameter_columns_runs_get_does_not_take_are_answered_on_the_run() {
    let env = env(300).await;
    let active = env.emulator.notable().active[0];
    let raw = all_runs_raw(&env.emulator, &[("completed_only", "true")]).await;
    let done = raw[0]["run_id"].as_i64().expect("run_id");
    let done_start = raw[0]["start_time"].as_i64().expect("start_time");
    let cases: Vec<(String, Vec<i64>)> = vec![
        (
            format!("run_id = {active} AND active_only = true"),
            vec![active],
        ),
        (format!("run_id = {done} AND active_only = true"), vec![]),
        (
            format!("run_id = {done} AND completed_only = true"),
            vec![done],
        ),
        (format!("run_id = {active} AND completed_only"), vec![]),
        (
            format!("run_id IN ({active}, {done}) AND active_only"),
            vec![active],
        ),
        (
            format!("run_id = {done} AND active_only = false"),
            vec![done],
        ),
        (
            format!("run_id = {done} AND start_time_from = {done_start}"),
            vec![done],
        ),
        (
            format!("run_id = {done} AND start_time_from = {}", done_start + 1),
            vec![],
        ),
        (
            format!("run_id = {done} AND start_time_to = {}", done_start - 1),
            vec![],
        ),
    ];
    for (predicate, want) in cases {
        let (batches, requests) = env
            .run(&format!(
                "SELECT run_id, active_only, completed_only FROM {RUNS} WHERE {predicate}"
            ))
            .await;
        assert_eq!(
            ints(&batches, 0),
            want.iter().map(|r| Some(*r)).collect::<Vec<_>>(),
            "{predicate}"
        );
        assert!(
            !requests.is_empty() && requests.iter().all(|r| r.path.ends_with("/runs/get")),
            "{predicate}: {requests:?}"
        );
        // Not sent to runs/get, which does not take them.
        assert!(requests.iter().all(|r| r.param("active_only").is_none()
            && r.param("completed_only").is_none()
            && r.param("start_time_from").is_none()));
    }
    // The column holds the value the WHERE clause set.
    let (batches, _) = env
        .run(&format!(
            "SELECT active_only, completed_only FROM {RUNS} WHERE run_id = {active} AND active_only = true"
        ))
        .await;
    assert_eq!(strings(&batches, 0), [Some("true".to_string())]);
    assert_eq!(strings(&batches, 1), [None]);
}

#[tokio::test]
async fn now_minus_an_interval_pushes_start_time_from() {
    let env = env(300).await;
    let week_ms = 7 * 86_400_000i64;
    let before = chrono_now_ms() - week_ms;
    let (batches, requests) = env
        .run(&format!(
            "SELECT run_id, start_time_from FROM {RUNS} WHERE start_time > now() - INTERVAL '7 days'"
        ))
        .await;
    let after = chrono_now_ms() - week_ms;
    assert!(!requests.is_empty());
    let sent: Vec<i64> = requests
        .iter()
        .map(|r| {
            r.param("start_time_from")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("start_time_from sent: {r:?}"))
        })
        .collect();
    // The first request carries the cutoff; parallel slices start at or after it.
    let from = sent[0];
    assert!(sent.iter().all(|s| *s >= from));
    // `>` sends the next millisecond after the cutoff, which lies between the two clock readings.
    assert!(
        from > before && from <= after + 1,
        "{before} < {from} <= {after} + 1"
    );
    let want = all_runs_raw(&env.emulator, &[])
        .await
        .iter()
        .filter(|r| r["start_time"].as_i64().is_some_and(|s| s >= from))
        .count();
    assert!(want > 0);
    assert_eq!(rows(&batches), want);
    assert!(ints(&batches, 1).iter().all(|v| *v == Some(from)));
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
