//! What a write reports when it is not plainly a success: a request whose answer was lost is
//! sent once (no idempotency key) and reported UNKNOWN with how to check, never FAILED; each
//! row is created, failed or unknown; created ids survive a later error; duplicate tokens and
//! ambiguous `@@json` are refused before anything is sent. The emulator's state says what was
//! really done.

use std::process::Command;

use jobsql_core::client::RetryPolicy;

use super::common::*;

const JOBS: &str = "databricks_workspace.jobs.jobs";
const TASKS: &str = r#"[{"task_key":"main","notebook_task":{"notebook_path":"/Repos/x/main"}}]"#;

/// How many jobs are named `name` in the emulator.
async fn jobs_named(env: &Env, name: &str) -> usize {
    let (rows, _) = env
        .run(&format!("SELECT job_id FROM {JOBS} WHERE name = '{name}'"))
        .await;
    ints(&rows, 0).len()
}

fn create(names: &[&str]) -> String {
    let rows: Vec<String> = names
        .iter()
        .map(|n| {
            let tasks = if n.contains("bad") {
                r#"[{"notebook_task":{}}]"#
            } else {
                TASKS
            };
            format!("('{n}', '{tasks}')")
        })
        .collect();
    format!(
        "INSERT INTO {JOBS} (data__name, data__tasks) VALUES {}",
        rows.join(", ")
    )
}

#[tokio::test]
async fn a_create_answered_503_after_commit_is_sent_once_and_reported_unknown() {
    let env = env().await;
    env.emulator.fail_after_commit("jobs/create", 1);
    let (message, requests) = env.fail(&create(&["lost-503"])).await;
    assert_eq!(mutations(&requests).len(), 1, "not retried: {requests:?}");
    assert!(
        message.starts_with(&format!(
            "INSERT INTO {JOBS}: 0 of 1 rows created, 0 failed, 1 unknown"
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "row 1: UNKNOWN, may have been created: check with SELECT job_id FROM {JOBS} \
             WHERE name = 'lost-503' before re-running it; POST /api/2.2/jobs/create"
        )),
        "{message}"
    );
    assert!(message.contains("HTTP 503"), "{message}");
    assert!(!message.contains("FAILED"), "{message}");
    assert_eq!(
        jobs_named(&env, "lost-503").await,
        1,
        "one job, as the hint finds"
    );
}

#[tokio::test]
async fn a_create_whose_connection_dropped_is_unknown_not_failed() {
    let env = env().await;
    env.emulator.drop_after_commit("jobs/create", 1);
    let (message, requests) = env.fail(&create(&["lost-drop"])).await;
    assert_eq!(mutations(&requests).len(), 1, "{requests:?}");
    assert_eq!(requests[0].status, 0, "the emulator closed the connection");
    assert!(
        message.contains("row 1: UNKNOWN, may have been created"),
        "{message}"
    );
    assert!(!message.contains("FAILED"), "{message}");
    assert_eq!(jobs_named(&env, "lost-drop").await, 1, "the job exists");
}

#[tokio::test]
async fn each_row_is_created_failed_or_unknown() {
    let env = env().await;
    // One of the two good rows loses its answer; the bad row is refused (400).
    env.emulator.drop_after_commit("jobs/create", 1);
    let (message, requests) = env.fail(&create(&["mix-a", "mix-bad", "mix-b"])).await;
    assert_eq!(mutations(&requests).len(), 3, "each row once: {requests:?}");
    one_created_failed_unknown(&message, "/api/2.2/jobs/create", "job_id");
    assert_eq!(
        jobs_named(&env, "mix-a").await + jobs_named(&env, "mix-b").await,
        2
    );
    assert_eq!(jobs_named(&env, "mix-bad").await, 0);
}

#[tokio::test]
async fn created_run_ids_survive_a_failed_read_back() {
    // No retries: the read-back's 503 ends the statement.
    let env = env_with_policy(RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    })
    .await;
    env.emulator.fail_after_commit("runs/get", 1);
    let (message, requests) = env
        .fail(&format!(
            "INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES ('rb-1', '{TASKS}'), \
             ('rb-2', '{TASKS}') RETURNING run_id, state"
        ))
        .await;
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.path.ends_with("runs/submit"))
            .count(),
        2
    );
    assert!(
        requests
            .iter()
            .any(|r| r.path.ends_with("runs/get") && r.status == 503),
        "the read-back failed: {requests:?}"
    );
    let (rows, _) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE run_name LIKE 'rb-%'"
        ))
        .await;
    let ids: Vec<i64> = ints(&rows, 0).into_iter().flatten().collect();
    assert_eq!(ids.len(), 2, "both runs were created");
    assert!(
        message.starts_with(&format!("{RUNS}: 2 rows were created (run_id ")),
        "{message}"
    );
    for id in ids {
        assert!(
            message.contains(&format!("run_id {id}")),
            "{id} in {message}"
        );
    }
    assert!(
        message.contains("but then: ") && message.contains("HTTP 503"),
        "{message}"
    );
}

#[tokio::test]
async fn duplicate_idempotency_tokens_are_refused_before_anything_is_sent() {
    let env = env().await;
    let (message, requests) = env
        .fail(&format!(
            "INSERT INTO {RUNS} (data__run_name, data__tasks, data__idempotency_token) VALUES \
             ('d-1', '{TASKS}', 'same'), ('d-2', '{TASKS}', 'other'), ('d-3', '{TASKS}', 'same')"
        ))
        .await;
    assert!(
        message.contains("rows 1 and 3 have the same data__idempotency_token 'same'"),
        "{message}"
    );
    assert!(requests.is_empty(), "nothing sent: {requests:?}");
}

#[tokio::test]
async fn an_exec_without_a_token_whose_answer_was_lost_is_unknown() {
    let env = env().await;
    let tasks =
        r#"[{"task_key":"load"},{"task_key":"will_fail","depends_on":[{"task_key":"load"}]}]"#;
    let (batches, _) = env
        .run(&format!(
            "INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES ('lost-repair', '{tasks}') RETURNING run_id"
        ))
        .await;
    let run = ints(&batches, 0)[0].expect("run id");
    env.wait_for(run, "state['result_state']", "FAILED").await;
    env.emulator.fail_after_commit("runs/repair", 1);
    let (message, requests) = env
        .fail(&format!(
            "EXEC {RUNS}.repair @run_id={run}, @rerun_tasks='[\"will_fail\"]'"
        ))
        .await;
    assert_eq!(mutations(&requests).len(), 1, "not retried: {requests:?}");
    assert!(
        message.starts_with(&format!(
            "EXEC {RUNS}.repair: UNKNOWN outcome, the call may have been done: check its \
             effect (e.g. with SELECT) before re-running it; POST /api/2.2/jobs/runs/repair"
        )),
        "{message}"
    );
    let (rows, _) = env
        .run(&format!(
            "SELECT h['type'] FROM (SELECT unnest(repair_history) AS h FROM {RUNS} WHERE run_id = {run})"
        ))
        .await;
    assert_eq!(
        strings(&rows, 0),
        [Some("ORIGINAL".into()), Some("REPAIR".into())],
        "the repair was done, once"
    );
}

#[tokio::test]
async fn json_keys_the_spec_does_not_know_go_into_the_body() {
    let env = env().await;
    let job = env.emulator.notable().job_ids[0];
    let (_, requests) = env
        .run(&format!(
            "EXEC {RUNS}.cancel_all @@json='{{\"job_id\": \"{job}\", \"x_extra\": {{\"a\": [1]}}}}'"
        ))
        .await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        requests[0].body,
        Some(serde_json::json!({"job_id": job, "x_extra": {"a": [1]}})),
        "typed where the spec knows the key, as given where it does not"
    );
}

#[tokio::test]
async fn a_json_key_given_twice_is_refused_and_nothing_is_sent() {
    let env = env().await;
    let cases = [
        (
            format!("EXEC {RUNS}.cancel @@json='{{\"run_id\": 1, \"run_id\": 2}}'"),
            "@@json is not a JSON object: key \"run_id\" is given twice",
        ),
        (
            format!("EXEC {RUNS}.repair @run_id = 1 @@json='{{\"run_id\": 2}}'"),
            "run_id is given twice, as @run_id and in @@json",
        ),
        (
            format!("EXEC {RUNS}.repair @@json='{{\"run_id\": 2, \"rerun_tasks\": [{{\"a\": 1, \"a\": 2}}]}}'"),
            "key \"a\" is given twice",
        ),
        (
            format!("EXEC {RUNS}.export @run_id = 1 @@json='{{\"bogus\": 1}}'"),
            "@@json key \"bogus\" is not a parameter of export (valid: run_id, views_to_export), and a GET request has no body",
        ),
        (
            format!("EXEC {RUNS}.cancel @@json='{{\"run_id\": 1, \"deployment_name\": \"x\"}}'"),
            "@@json key \"deployment_name\" picks the workspace: give it as @deployment_name",
        ),
    ];
    for (sql, expected) in cases {
        let (message, requests) = env.fail(&sql).await;
        assert!(message.contains(expected), "{sql}\n→ {message}");
        assert!(requests.is_empty(), "{sql} sent {requests:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_exits_3_when_an_outcome_is_unknown_and_1_when_rows_failed() {
    let env = env().await;
    let run = |sql: String| {
        let (base, token) = (env.emulator.base_url(), env.emulator.token().to_string());
        Command::new(env!("CARGO_BIN_EXE_jobsql"))
            .args(["query", "--retry-budget-secs", "5", &sql])
            .env("DATABRICKS_HOST", base)
            .env("DATABRICKS_TOKEN", token)
            .env_remove("DATABRICKS_CONFIG_PROFILE")
            .env("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
            .output()
            .expect("the binary runs")
    };
    env.emulator.drop_after_commit("jobs/create", 1);
    let out = run(create(&["cli-lost"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.starts_with("error: INSERT INTO"), "{stderr}");
    assert!(stderr.contains("row 1: UNKNOWN"), "{stderr}");
    let out = run(create(&["cli-bad"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("row 1: FAILED"), "{stderr}");
    // Unknown beats failed: re-running the statement blindly is what must not happen.
    env.emulator.fail_after_commit("jobs/create", 1);
    let out = run(create(&["cli-bad-2", "cli-lost-2"]));
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
