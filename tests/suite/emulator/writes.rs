//! The write endpoints and the clock-driven life cycle: submit, run-now, cancel, cancel-all,
//! delete, repair, idempotency tokens and body validation.

use std::time::Duration;

use serde_json::json;

use super::common::*;

const P: &str = "/api/2.2/jobs";

fn notebook_task(key: &str) -> serde_json::Value {
    json!({"task_key": key, "notebook_task": {"notebook_path": "/Shared/demo"}, "existing_cluster_id": "0101-000000-abcdefgh"})
}

#[tokio::test]
async fn submitted_runs_go_pending_running_terminated_and_show_in_list() {
    let (h, clock) = clocked(150).await;
    let api = Api::new(&h);
    let before = api.ok(&format!("{P}/runs/list"), &[("limit", "1")]).await;
    let v = api
        .post_ok(
            &format!("{P}/runs/submit"),
            json!({"run_name": "adhoc", "tasks": [notebook_task("a")]}),
        )
        .await;
    let id = v["run_id"].as_i64().unwrap();
    assert!(
        id > before["runs"][0]["run_id"].as_i64().unwrap(),
        "new ids are larger"
    );
    let run = api.run(id).await;
    assert_eq!(life(&run), "PENDING");
    assert_eq!(
        (
            run["run_type"].as_str(),
            run.get("job_id"),
            run["run_name"].as_str()
        ),
        (Some("SUBMIT_RUN"), None, Some("adhoc"))
    );
    assert_eq!(run["end_time"], 0);
    let newest = api.ok(&format!("{P}/runs/list"), &[("limit", "1")]).await;
    assert_eq!(newest["runs"][0]["run_id"], id, "newest first");
    let active = walk(&api, &[("active_only", "true")]).await;
    assert!(ids(&active).contains(&id));
    // One phase (150 ms of the emulator's clock) per step, to the millisecond.
    clock.advance(Duration::from_millis(149));
    assert_eq!(life(&api.run(id).await), "PENDING");
    clock.advance(Duration::from_millis(1));
    let running = api.run(id).await;
    assert_eq!(life(&running), "RUNNING");
    assert_eq!(running["end_time"], 0);
    assert!(ids(&walk(&api, &[("active_only", "true")]).await).contains(&id));
    clock.advance(Duration::from_millis(149));
    assert_eq!(life(&api.run(id).await), "RUNNING");
    clock.advance(Duration::from_millis(1));
    let done = api.run(id).await;
    assert_eq!(life(&done), "TERMINATED");
    assert_eq!(done["state"]["result_state"], "SUCCESS");
    assert_eq!(done["status"]["termination_details"]["code"], "SUCCESS");
    assert_eq!(done["start_time"], NOW);
    assert_eq!(done["end_time"], NOW + 300);
    assert!(!ids(&walk(&api, &[("active_only", "true")]).await).contains(&id));
    let completed = api
        .ok(
            &format!("{P}/runs/list"),
            &[("completed_only", "true"), ("limit", "1")],
        )
        .await;
    assert_eq!(completed["runs"][0]["run_id"], id);
    h.shutdown().await;
}

#[tokio::test]
async fn submit_validates_the_body_and_honours_idempotency_tokens() {
    let (h, _clock) = clocked(1000).await;
    let api = Api::new(&h);
    let url = format!("{P}/runs/submit");
    let (s, v) = api.post(&url, json!({"run_name": "x"})).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "task");
    let (s, v) = api.post(&url, json!({"tasks": []})).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "task");
    let (s, v) = api
        .post(&url, json!({"tasks": [{"notebook_task": {}}]}))
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "task_key");
    let (s, v) = api
        .post(
            &url,
            json!({"tasks": [notebook_task("a"), notebook_task("a")]}),
        )
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "Duplicate");
    let (s, v) = api
        .post(
            &url,
            json!({"tasks": [{"task_key": "b", "depends_on": [{"task_key": "zz"}]}]}),
        )
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "zz");
    let (s, v) = api
        .post(
            &url,
            json!({"tasks": [notebook_task("a")], "idempotency_token": "x".repeat(65)}),
        )
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "idempotency_token");
    let r = api
        .client
        .post(format!("{}{url}", api.base))
        .bearer_auth(&api.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (s, v) = (
        r.status().as_u16(),
        r.json::<serde_json::Value>().await.unwrap(),
    );
    assert_error(s, &v, 400, "MALFORMED_REQUEST", "JSON");

    // The 2.0 single-task form is still accepted.
    api.post_ok(&url, json!({"run_name": "legacy", "notebook_task": {"notebook_path": "/x"}, "existing_cluster_id": "c"})).await;

    let token = "t".repeat(64);
    let body = json!({"tasks": [notebook_task("a")], "idempotency_token": token});
    let first = api.post_ok(&url, body.clone()).await;
    let count = walk(&api, &[]).await.len();
    let again = api.post_ok(&url, body).await;
    assert_eq!(first["run_id"], again["run_id"]);
    assert_eq!(walk(&api, &[]).await.len(), count, "nothing new");
    // Deleting the run makes the token an error (after it ends).
    api.post_ok(
        &format!("{P}/runs/cancel"),
        json!({"run_id": first["run_id"]}),
    )
    .await;
    api.post_ok(
        &format!("{P}/runs/delete"),
        json!({"run_id": first["run_id"]}),
    )
    .await;
    let (s, v) = api
        .post(
            &url,
            json!({"tasks": [notebook_task("a")], "idempotency_token": token}),
        )
        .await;
    assert_error(s, &v, 400, "INVALID_STATE", "deleted");
    h.shutdown().await;
}

#[tokio::test]
async fn cancel_and_delete() {
    let (h, _clock) = clocked(60_000).await;
    let api = Api::new(&h);
    let active = h.notable().active[0];
    let (s, v) = api
        .post(&format!("{P}/runs/delete"), json!({"run_id": active}))
        .await;
    assert_error(s, &v, 400, "INVALID_STATE", "active");
    api.post_ok(&format!("{P}/runs/cancel"), json!({"run_id": active}))
        .await;
    let run = api.run(active).await;
    assert_eq!(
        (life(&run).as_str(), run["state"]["result_state"].as_str()),
        ("TERMINATED", Some("CANCELED"))
    );
    assert_eq!(
        run["status"]["termination_details"]["code"],
        "USER_CANCELED"
    );
    assert_eq!(run["state"]["user_cancelled_or_timedout"], true);
    assert!(run["end_time"].as_i64().unwrap() > 0);
    // Canceling a terminated run is a no-op.
    api.post_ok(&format!("{P}/runs/cancel"), json!({"run_id": active}))
        .await;
    assert!(!walk(&api, &[("active_only", "true")])
        .await
        .iter()
        .any(|r| r["run_id"] == active));

    let before = walk(&api, &[]).await.len();
    api.post_ok(&format!("{P}/runs/delete"), json!({"run_id": active}))
        .await;
    let (s, v) = api
        .get(&format!("{P}/runs/get"), &[("run_id", &active.to_string())])
        .await;
    assert_error(
        s,
        &v,
        400,
        "INVALID_PARAMETER_VALUE",
        &format!("Run {active} does not exist."),
    );
    let after = walk(&api, &[]).await;
    assert_eq!(after.len(), before - 1);
    assert!(!ids(&after).contains(&active));
    for (path, body, needle) in [
        ("runs/delete", json!({"run_id": active}), "does not exist"),
        ("runs/cancel", json!({"run_id": 5}), "Run 5 does not exist."),
        ("runs/delete", json!({}), "run_id"),
        ("runs/cancel", json!({"run_id": "x"}), "run_id"),
    ] {
        let (s, v) = api.post(&format!("{P}/{path}"), body).await;
        assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", needle);
    }
    h.shutdown().await;
}

#[tokio::test]
async fn cancel_all_by_job_or_all_queued() {
    let (h, _clock) = clocked(60_000).await;
    let api = Api::new(&h);
    let (s, v) = api.post(&format!("{P}/runs/cancel-all"), json!({})).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "job_id");
    let (s, v) = api
        .post(&format!("{P}/runs/cancel-all"), json!({"job_id": 99}))
        .await;
    assert_error(
        s,
        &v,
        400,
        "INVALID_PARAMETER_VALUE",
        "Job 99 does not exist.",
    );
    let job = h.notable().job_ids[0];
    let mut mine = Vec::new();
    for _ in 0..3 {
        mine.push(
            api.post_ok(&format!("{P}/run-now"), json!({"job_id": job}))
                .await["run_id"]
                .as_i64()
                .unwrap(),
        );
    }
    let other = api
        .post_ok(
            &format!("{P}/runs/submit"),
            json!({"tasks": [notebook_task("a")]}),
        )
        .await["run_id"]
        .as_i64()
        .unwrap();
    // all_queued_runs cancels the QUEUED runs of every job (run-now runs and the history's),
    // not the PENDING submitted one nor running ones.
    let active = h.notable().active;
    let lives: Vec<String> = {
        let mut v = Vec::new();
        for id in &active {
            v.push(life(&api.run(*id).await));
        }
        v
    };
    let queued = active[lives.iter().position(|l| l == "QUEUED").unwrap()];
    let running = active[lives.iter().position(|l| l == "RUNNING").unwrap()];
    api.post_ok(
        &format!("{P}/runs/cancel-all"),
        json!({"all_queued_runs": true}),
    )
    .await;
    for id in mine.iter().chain([&queued]) {
        assert_eq!(api.run(*id).await["state"]["result_state"], "CANCELED");
    }
    assert_eq!(life(&api.run(other).await), "PENDING");
    assert_eq!(life(&api.run(running).await), "RUNNING");
    let again = api
        .post_ok(&format!("{P}/run-now"), json!({"job_id": job}))
        .await["run_id"]
        .as_i64()
        .unwrap();
    api.post_ok(&format!("{P}/runs/cancel-all"), json!({"job_id": job}))
        .await;
    assert_eq!(api.run(again).await["state"]["result_state"], "CANCELED");
    assert!(walk(
        &api,
        &[("active_only", "true"), ("job_id", &job.to_string())]
    )
    .await
    .is_empty());
    assert_eq!(life(&api.run(other).await), "PENDING");
    h.shutdown().await;
}

#[tokio::test]
async fn repair_reruns_failed_tasks_and_records_history() {
    let (h, clock) = clocked(100).await;
    let api = Api::new(&h);
    let url = format!("{P}/runs/repair");
    let tasks = json!([notebook_task("extract"), {"task_key": "load_fails", "depends_on": [{"task_key": "extract"}], "notebook_task": {"notebook_path": "/x"}}, {"task_key": "report", "depends_on": [{"task_key": "load_fails"}], "notebook_task": {"notebook_path": "/y"}}]);
    let id = api
        .post_ok(&format!("{P}/runs/submit"), json!({"tasks": tasks}))
        .await["run_id"]
        .as_i64()
        .unwrap();
    let (s, v) = api
        .post(&url, json!({"run_id": id, "rerun_all_failed_tasks": true}))
        .await;
    assert_error(s, &v, 400, "INVALID_STATE", "active");
    clock.advance(Duration::from_millis(199));
    assert!(is_active(&api.run(id).await), "two phases to end");
    clock.advance(Duration::from_millis(1));
    let failed = api.run(id).await;
    assert_eq!(life(&failed), "TERMINATED");
    assert_eq!(failed["state"]["result_state"], "FAILED");
    let states: Vec<_> = failed["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"]["result_state"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(states, ["SUCCESS", "FAILED", "UPSTREAM_FAILED"]);

    for body in [
        json!({"run_id": id}),
        json!({"run_id": id, "rerun_tasks": ["extract"], "rerun_all_failed_tasks": true}),
        json!({"run_id": id, "rerun_tasks": ["nope"]}),
        json!({"run_id": id, "rerun_all_failed_tasks": true, "latest_repair_id": 12}),
    ] {
        let (s, v) = api.post(&url, body.clone()).await;
        assert_eq!(
            (s, v["error_code"].as_str()),
            (400, Some("INVALID_PARAMETER_VALUE")),
            "{body}: {v}"
        );
    }
    let (s, v) = api
        .post(&url, json!({"run_id": 3, "rerun_all_failed_tasks": true}))
        .await;
    assert_error(
        s,
        &v,
        400,
        "INVALID_PARAMETER_VALUE",
        "Run 3 does not exist.",
    );

    let repair_id = api
        .post_ok(&url, json!({"run_id": id, "rerun_all_failed_tasks": true}))
        .await["repair_id"]
        .as_i64()
        .unwrap();
    let running = api.run(id).await;
    assert!(is_active(&running), "a repair makes the run active again");
    clock.advance(Duration::from_millis(199));
    assert!(is_active(&api.run(id).await), "the repair takes two phases");
    clock.advance(Duration::from_millis(1));
    let done = api.run(id).await;
    assert_eq!(life(&done), "TERMINATED");
    assert_eq!(done["state"]["result_state"], "SUCCESS");
    let tasks = done["tasks"].as_array().unwrap();
    assert!(tasks
        .iter()
        .all(|t| t["state"]["result_state"] == "SUCCESS"));
    assert_eq!(tasks[1]["attempt_number"], 1);
    assert_ne!(
        tasks[1]["run_id"], failed["tasks"][1]["run_id"],
        "a rerun task run has a new id"
    );
    let with = api
        .ok(
            &format!("{P}/runs/get"),
            &[("run_id", &id.to_string()), ("include_history", "true")],
        )
        .await;
    let hist = with["repair_history"].as_array().unwrap();
    assert_eq!(hist.len(), 2);
    assert_eq!(
        (
            hist[0]["type"].as_str(),
            hist[1]["type"].as_str(),
            hist[1]["id"].as_i64()
        ),
        (Some("ORIGINAL"), Some("REPAIR"), Some(repair_id))
    );
    assert_eq!(
        hist[1]["task_run_ids"].as_array().unwrap().len(),
        2,
        "the failed task and its dependant"
    );
    // Once repaired, a run needs the latest repair id to be repaired again.
    let (s, v) = api
        .post(&url, json!({"run_id": id, "rerun_all_failed_tasks": true}))
        .await;
    assert_error(
        s,
        &v,
        400,
        "INVALID_PARAMETER_VALUE",
        "The latest repair ID needs to be provided in order to create a new repair",
    );
    // Nothing left to rerun; rerun_tasks with the right latest_repair_id works.
    let (s, v) = api
        .post(
            &url,
            json!({"run_id": id, "rerun_all_failed_tasks": true, "latest_repair_id": repair_id}),
        )
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "no failed tasks");
    let second = api
        .post_ok(
            &url,
            json!({"run_id": id, "rerun_tasks": ["report"], "latest_repair_id": repair_id}),
        )
        .await;
    assert_ne!(second["repair_id"], repair_id);
    h.shutdown().await;
}

#[tokio::test]
async fn repairing_a_repaired_history_run_needs_the_latest_repair_id() {
    let (h, _clock) = clocked(60_000).await;
    let api = Api::new(&h);
    let id = h.notable().repaired[1];
    let run = api
        .ok(
            &format!("{P}/runs/get"),
            &[("run_id", &id.to_string()), ("include_history", "true")],
        )
        .await;
    let history = run["repair_history"].as_array().unwrap();
    let latest = history.last().unwrap()["id"].as_i64().unwrap();
    let task = run["tasks"][0]["task_key"].clone();
    let url = format!("{P}/runs/repair");
    let (s, v) = api
        .post(&url, json!({"run_id": id, "rerun_tasks": [task]}))
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "latest repair ID");
    let (s, v) = api
        .post(
            &url,
            json!({"run_id": id, "rerun_tasks": [task], "latest_repair_id": history[0]["id"].as_i64().unwrap_or(1)}),
        )
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "latest_repair_id");
    let r = api
        .post_ok(
            &url,
            json!({"run_id": id, "rerun_tasks": [task], "latest_repair_id": latest}),
        )
        .await;
    assert_ne!(r["repair_id"], latest);
    let after = api
        .ok(
            &format!("{P}/runs/get"),
            &[("run_id", &id.to_string()), ("include_history", "true")],
        )
        .await;
    assert_eq!(
        after["repair_history"].as_array().unwrap().len(),
        history.len() + 1
    );
    assert!(is_active(&after));
    h.shutdown().await;
}
