//! jobs/delete, jobs/reset and jobs/update, and what they do to the runs of the job.

use serde_json::{json, Value};

use super::common::*;

const P: &str = "/api/2.2/jobs";

fn task_keys(tasks: &Value) -> Vec<String> {
    tasks
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| t["task_key"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn deleting_a_job_hides_it_and_every_run_of_it() {
    let (h, _clock) = clocked(60_000).await;
    let api = Api::new(&h);
    let job = h.notable().job_ids[0];
    let jid = job.to_string();
    let history = walk(&api, &[("job_id", &jid)]).await;
    assert!(!history.is_empty());
    let old_run = history[history.len() - 1]["run_id"].as_i64().unwrap();
    let queued = api
        .post_ok(
            &format!("{P}/run-now"),
            json!({"job_id": job, "idempotency_token": "before-delete"}),
        )
        .await["run_id"]
        .as_i64()
        .unwrap();
    let queued_task = api.run(queued).await["tasks"][0]["run_id"]
        .as_i64()
        .unwrap();
    let all_before = walk(&api, &[]).await.len();

    h.clear_requests();
    let v = api
        .post_ok(&format!("{P}/delete"), json!({"job_id": job}))
        .await;
    assert_eq!(v, json!({}));
    let recorded = h.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (
            recorded[0].method.as_str(),
            recorded[0].path.as_str(),
            recorded[0].body.clone(),
            recorded[0].status
        ),
        (
            "POST",
            "/api/2.2/jobs/delete",
            Some(json!({"job_id": job})),
            200
        )
    );

    let gone = format!("Job {job} does not exist.");
    let (s, v) = api.get(&format!("{P}/get"), &[("job_id", &jid)]).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", &gone);
    let (s, v) = api
        .get(&format!("{P}/runs/list"), &[("job_id", &jid)])
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", &gone);
    for (path, body) in [
        ("delete", json!({"job_id": job})),
        ("run-now", json!({"job_id": job})),
        ("runs/cancel-all", json!({"job_id": job})),
        (
            "reset",
            json!({"job_id": job, "new_settings": {"name": "x"}}),
        ),
        (
            "update",
            json!({"job_id": job, "new_settings": {"name": "x"}}),
        ),
    ] {
        let (s, v) = api.post(&format!("{P}/{path}"), body).await;
        assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", &gone);
    }
    for id in [old_run, queued] {
        let (s, v) = api
            .get(&format!("{P}/runs/get"), &[("run_id", &id.to_string())])
            .await;
        assert_error(
            s,
            &v,
            400,
            "INVALID_PARAMETER_VALUE",
            &format!("Run {id} does not exist."),
        );
    }
    let (s, v) = api
        .get(
            &format!("{P}/runs/get-output"),
            &[("run_id", &queued_task.to_string())],
        )
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "does not exist");
    let (s, v) = api
        .post(
            &format!("{P}/run-now"),
            json!({"job_id": h.notable().job_ids[1], "idempotency_token": "before-delete"}),
        )
        .await;
    assert_error(s, &v, 400, "INVALID_STATE", "deleted");

    let all_after = walk(&api, &[]).await;
    assert!(all_after.iter().all(|r| r["job_id"] != job));
    assert_eq!(all_after.len(), all_before - history.len() - 1);
    assert!(walk(&api, &[("active_only", "true")])
        .await
        .iter()
        .all(|r| r["run_id"] != queued));
    let jobs = api.ok(&format!("{P}/list"), &[("limit", "100")]).await;
    let listed: Vec<i64> = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, h.notable().job_ids[1..]);

    // The older prefixes delete too; a missing job_id is named.
    let other = h.notable().job_ids[1];
    api.post_ok("/api/2.0/jobs/delete", json!({"job_id": other}))
        .await;
    let (s, v) = api
        .get("/api/2.1/jobs/get", &[("job_id", &other.to_string())])
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "does not exist");
    let (s, v) = api.post(&format!("{P}/delete"), json!({})).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "job_id");
    h.shutdown().await;
}

#[tokio::test]
async fn update_merges_tasks_by_key_and_reset_replaces_everything() {
    let (h, _clock) = clocked(60_000).await;
    let api = Api::new(&h);
    let job = h.notable().job_ids[1];
    let jid = job.to_string();
    let url = format!("{P}/get");
    let query = [("job_id", jid.as_str())];
    let get = || api.ok(&url, &query);
    let before = get().await;
    let name0 = before["settings"]["name"].as_str().unwrap().to_string();
    let keys0 = task_keys(&before["settings"]["tasks"]);
    assert!(before["settings"]["schedule"].is_object());
    let old_run = walk(
        &api,
        &[
            ("job_id", &jid),
            ("run_type", "JOB_RUN"),
            ("completed_only", "true"),
        ],
    )
    .await[0]["run_id"]
        .as_i64()
        .unwrap();
    let old = api.run(old_run).await;
    assert_eq!(old["run_name"], name0.as_str());

    let added =
        json!({"task_key": "added_task", "notebook_task": {"notebook_path": "/Shared/added"}});
    api.post_ok(
        &format!("{P}/update"),
        json!({"job_id": job, "new_settings": {"name": "renamed", "tasks": [added]}}),
    )
    .await;
    let after = get().await;
    assert_eq!(after["settings"]["name"], "renamed");
    let mut want = keys0.clone();
    want.push("added_task".into());
    assert_eq!(task_keys(&after["settings"]["tasks"]), want);
    for kept in [
        "schedule",
        "max_concurrent_runs",
        "tags",
        "email_notifications",
    ] {
        assert_eq!(after["settings"][kept], before["settings"][kept], "{kept}");
    }

    // Same key: the task is replaced; fields_to_remove drops a task and a field.
    let changed =
        json!({"task_key": keys0[0], "notebook_task": {"notebook_path": "/Shared/changed"}});
    api.post_ok(
        &format!("{P}/update"),
        json!({"job_id": job, "new_settings": {"tasks": [changed]}, "fields_to_remove": ["tasks/added_task", "schedule"]}),
    )
    .await;
    let after = get().await;
    assert_eq!(task_keys(&after["settings"]["tasks"]), keys0);
    assert_eq!(after["settings"]["tasks"][0], changed);
    assert!(after["settings"].get("schedule").is_none());

    // A bad update changes nothing.
    let dup = json!({"task_key": "d", "notebook_task": {"notebook_path": "/x"}});
    let (s, v) = api
        .post(
            &format!("{P}/update"),
            json!({"job_id": job, "new_settings": {"name": "bad", "tasks": [dup, dup]}}),
        )
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "Duplicate");
    assert_eq!(get().await, after);

    let only = json!({"task_key": "only", "notebook_task": {"notebook_path": "/Shared/only"}});
    api.post_ok(
        &format!("{P}/reset"),
        json!({"job_id": job, "new_settings": {"name": "fresh", "tasks": [only]}}),
    )
    .await;
    let reset = get().await;
    assert_eq!(reset["settings"]["name"], "fresh");
    assert_eq!(task_keys(&reset["settings"]["tasks"]), ["only"]);
    assert_eq!(
        reset["settings"]["max_concurrent_runs"], 1,
        "defaults again"
    );
    assert!(reset["settings"].get("tags").is_none());
    assert_eq!(
        (
            &reset["job_id"],
            &reset["creator_user_name"],
            &reset["created_time"]
        ),
        (
            &before["job_id"],
            &before["creator_user_name"],
            &before["created_time"]
        )
    );
    for body in [
        json!({"job_id": job}),
        json!({"job_id": job, "new_settings": 3}),
        json!({"new_settings": {}}),
    ] {
        let (s, v) = api.post(&format!("{P}/reset"), body.clone()).await;
        assert_eq!(
            (s, v["error_code"].as_str()),
            (400, Some("INVALID_PARAMETER_VALUE")),
            "{body}"
        );
    }

    // The history keeps what its runs ran; new runs use the new settings.
    assert_eq!(api.run(old_run).await, old);
    let new_run = api
        .post_ok(&format!("{P}/run-now"), json!({"job_id": job}))
        .await["run_id"]
        .as_i64()
        .unwrap();
    let run = api.run(new_run).await;
    assert_eq!(run["run_name"], "fresh");
    assert_eq!(task_keys(&run["tasks"]), ["only"]);
    h.shutdown().await;
}
