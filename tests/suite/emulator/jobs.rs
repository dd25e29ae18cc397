//! jobs/list, jobs/get, jobs/create, jobs/run-now.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use super::common::*;

const P: &str = "/api/2.2/jobs";

#[tokio::test]
async fn list_pages_through_every_job() {
    let h = emu(200, 23).await;
    let api = Api::new(&h);
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut q = vec![("limit", "10")];
        if let Some(t) = &token {
            q.push(("page_token", t));
        }
        let page = api.ok(&format!("{P}/list"), &q).await;
        for j in page["jobs"].as_array().unwrap() {
            assert!(
                j["settings"]["name"].is_string()
                    && j["created_time"].is_i64()
                    && j["creator_user_name"].is_string()
            );
            assert!(
                j["settings"].get("tasks").is_none(),
                "no tasks without expand_tasks"
            );
            seen.push(j["job_id"].as_i64().unwrap());
        }
        match page["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, h.notable().job_ids);
    let expanded = api
        .ok(
            &format!("{P}/list"),
            &[("expand_tasks", "true"), ("limit", "100")],
        )
        .await;
    let jobs = expanded["jobs"].as_array().unwrap();
    assert!(jobs.iter().all(|j| j["settings"]["tasks"].is_array()));
    let big = jobs.last().unwrap();
    assert_eq!(big["settings"]["tasks"].as_array().unwrap().len(), 100);
    assert_eq!(big["has_more"], true);
    let named = api
        .ok(
            &format!("{P}/list"),
            &[("name", jobs[0]["settings"]["name"].as_str().unwrap())],
        )
        .await;
    assert_eq!(named["jobs"].as_array().unwrap().len(), 1);
    for (k, v) in [
        ("limit", "101"),
        ("limit", "x"),
        ("page_token", "bad"),
        ("expand_tasks", "2"),
    ] {
        let (s, b) = api.get(&format!("{P}/list"), &[(k, v)]).await;
        assert_error(s, &b, 400, "INVALID_PARAMETER_VALUE", k);
    }
    h.shutdown().await;
}

#[tokio::test]
async fn get_pages_the_big_job() {
    let h = emu(200, 8).await;
    let api = Api::new(&h);
    let big = *h.notable().job_ids.last().unwrap();
    let p1 = api
        .ok(&format!("{P}/get"), &[("job_id", &big.to_string())])
        .await;
    assert_eq!(p1["job_id"], big);
    assert_eq!(p1["settings"]["tasks"].as_array().unwrap().len(), 100);
    let t = p1["next_page_token"].as_str().unwrap();
    let p2 = api
        .ok(
            &format!("{P}/get"),
            &[("job_id", &big.to_string()), ("page_token", t)],
        )
        .await;
    assert_eq!(p2["settings"]["tasks"].as_array().unwrap().len(), 30);
    assert_eq!(p2["settings"]["job_clusters"].as_array().unwrap().len(), 5);
    assert_eq!(p2["settings"]["parameters"].as_array().unwrap().len(), 10);
    assert!(p2.get("next_page_token").is_none());
    let keys: HashSet<_> = [&p1, &p2]
        .iter()
        .flat_map(|p| {
            p["settings"]["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["task_key"].clone())
        })
        .map(|v| v.to_string())
        .collect();
    assert_eq!(keys.len(), 130);
    let (s, v) = api.get(&format!("{P}/get"), &[("job_id", "17")]).await;
    assert_error(
        s,
        &v,
        400,
        "INVALID_PARAMETER_VALUE",
        "Job 17 does not exist.",
    );
    let (s, v) = api.get(&format!("{P}/get"), &[]).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "job_id");
    h.shutdown().await;
}

#[tokio::test]
async fn create_then_run_now() {
    let (h, clock) = clocked(100).await;
    let api = Api::new(&h);
    let (s, v) = api
        .post(
            &format!("{P}/create"),
            json!({"name": "x", "tasks": [{"notebook_task": {}}]}),
        )
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "task_key");
    let (s, v) = api
        .post(
            &format!("{P}/create"),
            json!({"name": "x", "schedule": {"timezone_id": "UTC"}}),
        )
        .await;
    assert_error(
        s,
        &v,
        400,
        "INVALID_PARAMETER_VALUE",
        "quartz_cron_expression",
    );
    let created = api
        .post_ok(
            &format!("{P}/create"),
            json!({
                "name": "emulator_test_job",
                "tasks": [{"task_key": "only", "notebook_task": {"notebook_path": "/Shared/t"}, "job_cluster_key": "c"}],
                "job_clusters": [{"job_cluster_key": "c", "new_cluster": {"spark_version": "15.4.x-scala2.12", "num_workers": 1}}],
                "parameters": [{"name": "env", "default": "dev"}],
                "max_concurrent_runs": 3
            }),
        )
        .await;
    let job_id = created["job_id"].as_i64().unwrap();
    assert!(!h.notable().job_ids.contains(&job_id));
    let job = api
        .ok(&format!("{P}/get"), &[("job_id", &job_id.to_string())])
        .await;
    assert_eq!(job["settings"]["name"], "emulator_test_job");
    assert_eq!(job["settings"]["max_concurrent_runs"], 3);
    let listed = api
        .ok(&format!("{P}/list"), &[("name", "emulator_test_job")])
        .await;
    assert_eq!(listed["jobs"][0]["job_id"], job_id);

    let (s, v) = api.post(&format!("{P}/run-now"), json!({})).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "job_id");
    let (s, v) = api
        .post(&format!("{P}/run-now"), json!({"job_id": 1}))
        .await;
    assert_error(
        s,
        &v,
        400,
        "INVALID_PARAMETER_VALUE",
        "Job 1 does not exist.",
    );
    let r = api.post_ok(&format!("{P}/run-now"), json!({"job_id": job_id, "job_parameters": {"env": "prod"}, "idempotency_token": "once"})).await;
    let run_id = r["run_id"].as_i64().unwrap();
    assert!(r["number_in_job"].is_i64());
    let again = api
        .post_ok(
            &format!("{P}/run-now"),
            json!({"job_id": job_id, "idempotency_token": "once"}),
        )
        .await;
    assert_eq!(again["run_id"], run_id);
    let run = api.run(run_id).await;
    assert_eq!(life(&run), "QUEUED");
    assert_eq!(
        run["status"]["queue_details"]["code"],
        "MAX_CONCURRENT_RUNS_REACHED"
    );
    assert_eq!(
        (
            run["job_id"].as_i64(),
            run["run_type"].as_str(),
            run["trigger"].as_str()
        ),
        (Some(job_id), Some("JOB_RUN"), Some("ONE_TIME"))
    );
    assert_eq!(
        run["job_parameters"],
        json!([{"name": "env", "default": "dev", "value": "prod"}])
    );
    let by_job = walk(&api, &[("job_id", &job_id.to_string())]).await;
    assert_eq!(ids(&by_job), vec![run_id]);
    clock.advance(Duration::from_millis(100));
    assert_eq!(life(&api.run(run_id).await), "RUNNING");
    clock.advance(Duration::from_millis(100));
    let done = api.run(run_id).await;
    assert_eq!(life(&done), "TERMINATED");
    assert_eq!(done["state"]["result_state"], "SUCCESS");
    h.shutdown().await;
}
