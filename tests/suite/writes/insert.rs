//! INSERT → runs/submit.

use super::common::*;

const TASK: &str = r#"[{"task_key":"main","notebook_task":{"notebook_path":"/Repos/etl/main"}}]"#;

#[tokio::test]
async fn inserted_runs_appear_in_select_and_reach_terminated() {
    let env = env().await;
    let sql = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks, data__timeout_seconds) \
         VALUES ('nightly-a', '{TASK}', 3600), ('nightly-b', '{TASK}', '60') RETURNING run_id"
    );
    let (batches, requests) = env.run(&sql).await;
    let ids: Vec<i64> = ints(&batches, 0).into_iter().flatten().collect();
    assert_eq!(ids.len(), 2, "one run per row");
    assert_ne!(ids[0], ids[1]);
    // Exactly two submits, bodies typed as the API wants them; nothing else was requested.
    assert_eq!(requests.len(), 2, "{requests:?}");
    let mut names = Vec::new();
    let mut tokens = Vec::new();
    for r in &requests {
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("POST", "/api/2.2/jobs/runs/submit")
        );
        let body = r.body.as_ref().expect("JSON body");
        assert!(body["tasks"].is_array(), "tasks sent as an array: {body}");
        assert!(
            body["timeout_seconds"].is_i64(),
            "timeout_seconds sent as an integer"
        );
        let token = body["idempotency_token"].as_str().expect("a token per row");
        assert!(token.len() <= 64);
        tokens.push(token.to_string());
        names.push(body["run_name"].as_str().unwrap_or_default().to_string());
    }
    names.sort();
    assert_eq!(names, ["nightly-a", "nightly-b"]);
    assert_ne!(tokens[0], tokens[1], "each row has its own token");

    let (rows, _) = env
        .run(&format!(
            "SELECT run_name, run_type FROM {RUNS} WHERE run_id = {}",
            ids[0]
        ))
        .await;
    assert_eq!(strings(&rows, 0), [Some("nightly-a".to_string())]);
    assert_eq!(strings(&rows, 1), [Some("SUBMIT_RUN".to_string())]);
    env.wait_for(ids[0], "state['life_cycle_state']", "TERMINATED")
        .await;
    env.wait_for(ids[0], "state['result_state']", "SUCCESS")
        .await;
}

#[tokio::test]
async fn insert_select_counts_rows_and_keeps_given_idempotency_tokens() {
    let env = env().await;
    let sql = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks, data__idempotency_token) \
         SELECT 'batch-' || i, '{TASK}', 'tok-' || i FROM (VALUES (1), (2), (3)) AS t(i)"
    );
    let (batches, requests) = env.run(&sql).await;
    assert_eq!(count(&batches), 3);
    let mut tokens: Vec<String> = mutations(&requests)
        .iter()
        .map(|r| {
            r.body.as_ref().expect("body")["idempotency_token"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    tokens.sort();
    assert_eq!(tokens, ["tok-1", "tok-2", "tok-3"]);
    // Running the same statement again creates nothing new: the API answers the same runs.
    let again = format!("{} RETURNING run_id", sql);
    let (first, _) = env.run(&again).await;
    let (second, _) = env.run(&again).await;
    assert_eq!(ints(&first, 0), ints(&second, 0));
    let (runs, _) = env
        .run(&format!(
            "SELECT count(*) FROM {RUNS} WHERE run_type = 'SUBMIT_RUN' AND run_name LIKE 'batch-%'"
        ))
        .await;
    assert_eq!(ints(&runs, 0), [Some(3)]);
}

#[tokio::test]
async fn returning_other_columns_reads_the_runs_back() {
    let env = env().await;
    let sql = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES ('back', '{TASK}') \
         RETURNING run_id, run_name, state['life_cycle_state'] AS life_cycle"
    );
    let (batches, requests) = env.run(&sql).await;
    assert_eq!(strings(&batches, 1), [Some("back".to_string())]);
    assert!(strings(&batches, 2)[0].is_some(), "state read back");
    let id = ints(&batches, 0)[0].expect("run id");
    assert!(
        requests.iter().any(|r| r.path == "/api/2.2/jobs/runs/get"
            && r.query.contains(&("run_id".to_string(), id.to_string()))),
        "read back with runs/get: {requests:?}"
    );
}

#[tokio::test]
async fn bad_rows_are_refused_before_anything_is_sent() {
    let env = env().await;
    let cases = [
        (
            format!("INSERT INTO {RUNS} (data__run_nme, data__tasks) VALUES ('x', '{TASK}')"),
            vec!["unknown column `data__run_nme`", "data__run_name", "data__tasks", "deployment_name"],
        ),
        (
            format!(
                "INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES ('ok', '{TASK}'), ('bad', '[{{\"task_key\": ')"
            ),
            vec!["row 2", "data__tasks is not valid JSON"],
        ),
        (
            format!("INSERT INTO {RUNS} (data__tasks, data__timeout_seconds) VALUES ('{TASK}', 'soon')"),
            vec!["row 1", "data__timeout_seconds expects an integer, got 'soon'"],
        ),
        (
            format!("INSERT INTO {RUNS} VALUES ('x')"),
            vec!["name the columns", "data__run_name"],
        ),
        (
            format!("INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES ('only one value')"),
            vec![],
        ),
        (
            "INSERT INTO databricks_workspace.cleanrooms.task_runs (clean_room_name) VALUES ('r')".to_string(),
            vec!["INSERT is not supported by databricks_workspace.cleanrooms.task_runs"],
        ),
    ];
    for (sql, expected) in cases {
        let (message, requests) = env.fail(&sql).await;
        for part in expected {
            assert!(
                message.contains(part),
                "{sql}\n→ {message}\n(missing {part:?})"
            );
        }
        assert!(mutations(&requests).is_empty(), "{sql} sent {requests:?}");
    }
}

#[tokio::test]
async fn a_partly_failed_insert_says_which_rows_were_created() {
    let env = env().await;
    let sql = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES \
         ('good-1', '{TASK}'), ('broken', '[{{\"notebook_task\": {{}}}}]'), ('good-2', '{TASK}')"
    );
    let (message, requests) = env.fail(&sql).await;
    assert_eq!(mutations(&requests).len(), 3, "every row was tried");
    assert!(
        message.contains("2 of 3 rows created, 1 failed, 0 unknown"),
        "{message}"
    );
    assert!(message.contains("row 1: created, run_id "), "{message}");
    assert!(
        message.contains("row 2: FAILED: POST /api/2.2/jobs/runs/submit"),
        "{message}"
    );
    assert!(message.contains("HTTP 400"), "{message}");
    assert!(message.contains("row 3: created, run_id "), "{message}");
    // The created runs exist.
    let (rows, _) = env
        .run(&format!(
            "SELECT count(*) FROM {RUNS} WHERE run_name LIKE 'good-%'"
        ))
        .await;
    assert_eq!(ints(&rows, 0), [Some(2)]);
}

#[tokio::test]
async fn a_submit_whose_answer_was_lost_is_retried_without_a_second_run() {
    let env = env().await;
    // The first submit is done, then its answer is lost (503); the second, its answer dropped
    // with the connection. Each row is retried with its own token: one run per row.
    env.emulator.fail_after_commit("runs/submit", 1);
    env.emulator.drop_after_commit("runs/submit", 1);
    let sql = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES ('retried-a', '{TASK}'), \
         ('retried-b', '{TASK}') RETURNING run_id"
    );
    let (batches, requests) = env.run(&sql).await;
    let ids: Vec<i64> = ints(&batches, 0).into_iter().flatten().collect();
    assert_eq!(ids.len(), 2);
    let submits = mutations(&requests);
    assert_eq!(submits.len(), 4, "each row was sent twice: {submits:?}");
    let mut tokens: Vec<&str> = submits
        .iter()
        .map(|r| {
            r.body
                .as_ref()
                .and_then(|b| b["idempotency_token"].as_str())
                .unwrap_or("")
        })
        .collect();
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 2, "a retry reuses its row's token");
    let (rows, _) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE run_name LIKE 'retried-%' ORDER BY run_id"
        ))
        .await;
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(
        ints(&rows, 0),
        sorted.into_iter().map(Some).collect::<Vec<_>>(),
        "no second run"
    );
}
