//! DELETE → runs/delete.

use super::common::*;

const TASK: &str = r#"[{"task_key":"main","notebook_task":{"notebook_path":"/Repos/etl/main"}}]"#;

/// Submit `names` and wait until every run has terminated; their run ids.
pub async fn finished_runs(env: &Env, names: &[&str]) -> Vec<i64> {
    let values: Vec<String> = names.iter().map(|n| format!("('{n}', '{TASK}')")).collect();
    let sql = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES {} RETURNING run_id",
        values.join(", ")
    );
    let ids: Vec<i64> = ints(&env.run(&sql).await.0, 0)
        .into_iter()
        .flatten()
        .collect();
    for id in &ids {
        env.wait_for(*id, "state['life_cycle_state']", "TERMINATED")
            .await;
    }
    ids
}

#[tokio::test]
async fn delete_by_run_id_sends_the_deletes_directly_and_is_safe_to_repeat() {
    let env = env().await;
    let ids = finished_runs(&env, &["del-a", "del-b", "keep"]).await;
    let sql = format!(
        "DELETE FROM {RUNS} WHERE run_id IN ({}, {})",
        ids[0], ids[1]
    );
    let (batches, requests) = env.run(&sql).await;
    assert_eq!(count(&batches), 2);
    assert_eq!(
        requests.len(),
        2,
        "no read before a delete by key: {requests:?}"
    );
    let mut deleted: Vec<i64> = requests
        .iter()
        .map(|r| {
            assert_eq!(
                (r.method.as_str(), r.path.as_str()),
                ("POST", "/api/2.2/jobs/runs/delete")
            );
            r.body.as_ref().expect("body")["run_id"]
                .as_i64()
                .expect("integer run_id")
        })
        .collect();
    deleted.sort();
    assert_eq!(deleted, [ids[0], ids[1]]);
    let (rows, _) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE run_id IN ({}, {}, {})",
            ids[0], ids[1], ids[2]
        ))
        .await;
    assert_eq!(ints(&rows, 0), [Some(ids[2])], "only the kept run is left");
    // Deleting again: the runs are already gone, which is not an error.
    let (batches, _) = env.run(&sql).await;
    assert_eq!(count(&batches), 0);
}

#[tokio::test]
async fn delete_with_any_other_where_reads_the_matching_runs_then_deletes_them() {
    let env = env().await;
    let ids = finished_runs(&env, &["cleanup-1", "cleanup-2", "other"]).await;
    let sql = format!(
        "DELETE FROM {RUNS} WHERE run_type = 'SUBMIT_RUN' AND run_name LIKE 'cleanup-%' \
         AND start_time > now() - INTERVAL '1 hour'"
    );
    let (batches, requests) = env.run(&sql).await;
    assert_eq!(count(&batches), 2);
    let list = requests
        .iter()
        .find(|r| r.path == "/api/2.2/jobs/runs/list")
        .expect("the matching runs are listed");
    assert!(
        list.query
            .contains(&("run_type".to_string(), "SUBMIT_RUN".to_string())),
        "{list:?}"
    );
    assert!(
        list.query.iter().any(|(k, _)| k == "start_time_from"),
        "{list:?}"
    );
    let mut deleted: Vec<i64> = mutations(&requests)
        .iter()
        .map(|r| {
            r.body.as_ref().expect("body")["run_id"]
                .as_i64()
                .expect("run_id")
        })
        .collect();
    deleted.sort();
    assert_eq!(deleted, [ids[0], ids[1]]);
}

#[tokio::test]
async fn active_runs_are_reported_and_the_rest_deleted() {
    let env = env().await;
    let done = finished_runs(&env, &["finished"]).await[0];
    let (active, _) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE active_only = true LIMIT 1"
        ))
        .await;
    let active = ints(&active, 0)[0].expect("an active run");
    let (message, requests) = env
        .fail(&format!(
            "DELETE FROM {RUNS} WHERE run_id IN ({done}, {active})"
        ))
        .await;
    assert_eq!(mutations(&requests).len(), 2, "both were tried");
    assert!(
        message.contains("1 of 2 could not be deleted (1 deleted)"),
        "{message}"
    );
    assert!(
        message.contains(&format!("run_id {done}: deleted")),
        "{message}"
    );
    assert!(
        message.contains(&format!("run_id {active}: FAILED")),
        "{message}"
    );
    assert!(message.contains("active"), "{message}");
    let (rows, _) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE run_id IN ({done}, {active})"
        ))
        .await;
    assert_eq!(ints(&rows, 0), [Some(active)]);
}

#[tokio::test]
async fn a_delete_without_where_is_refused_and_sends_nothing() {
    let env = env().await;
    for (sql, why) in [
        (
            format!("DELETE FROM {RUNS}"),
            "without WHERE would delete every row",
        ),
        (
            format!("DELETE FROM {RUNS} WHERE true"),
            "with a WHERE that names none of its columns would delete every row or none",
        ),
    ] {
        let (message, requests) = env.fail(&sql).await;
        assert!(
            message.contains(&format!("{why}: refused")),
            "{sql}: {message}"
        );
        assert!(requests.is_empty(), "{requests:?}");
    }
}

#[tokio::test]
async fn a_delete_whose_answer_was_lost_still_counts() {
    let env = env().await;
    let ids = finished_runs(&env, &["lost-answer"]).await;
    env.emulator.drop_after_commit("runs/delete", 1);
    let (batches, requests) = env
        .run(&format!("DELETE FROM {RUNS} WHERE run_id = {}", ids[0]))
        .await;
    assert_eq!(mutations(&requests).len(), 2, "retried once");
    assert_eq!(
        count(&batches),
        1,
        "deleted on the first attempt, confirmed by the retry"
    );
}
