//! runs/get (paged lists, repair history, errors), runs/export and runs/get-output, and the
//! fields of the Run object across the generated history.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use super::common::*;

const GET: &str = "/api/2.2/jobs/runs/get";

/// Every page of runs/get for a run: the concatenated `key` lists, and the page count.
async fn all_pages(api: &Api, run_id: i64, history: bool) -> (Vec<Value>, usize) {
    let id = run_id.to_string();
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut q = vec![
            ("run_id", id.as_str()),
            ("include_history", if history { "true" } else { "false" }),
        ];
        if let Some(t) = &token {
            q.push(("page_token", t));
        }
        let page = api.ok(GET, &q).await;
        assert_eq!(page["run_id"], run_id, "every page is the same run");
        let next = page["next_page_token"].as_str().map(str::to_string);
        pages.push(page);
        match next {
            Some(t) => token = Some(t),
            None => {
                let n = pages.len();
                return (pages, n);
            }
        }
    }
}

fn concat(pages: &[Value], key: &str) -> Vec<Value> {
    pages
        .iter()
        .flat_map(|p| p[key].as_array().cloned().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn big_runs_page_tasks_job_clusters_and_parameters_by_100() {
    let h = emu(2000, 20).await;
    let api = Api::new(&h);
    let big = h.notable().big_multi_task[0];
    let (pages, n) = all_pages(&api, big, false).await;
    assert_eq!(n, 2);
    assert_eq!(pages[0]["tasks"].as_array().unwrap().len(), 100);
    assert_eq!(pages[0]["job_clusters"].as_array().unwrap().len(), 100);
    assert_eq!(pages[0]["job_parameters"].as_array().unwrap().len(), 100);
    let tasks = concat(&pages, "tasks");
    assert_eq!(tasks.len(), 130);
    assert_eq!(concat(&pages, "job_clusters").len(), 105);
    assert_eq!(concat(&pages, "job_parameters").len(), 110);
    let keys: HashSet<_> = tasks
        .iter()
        .map(|t| t["task_key"].as_str().unwrap().to_string())
        .collect();
    let ids: HashSet<_> = tasks
        .iter()
        .map(|t| t["run_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        (keys.len(), ids.len()),
        (130, 130),
        "no task twice across pages"
    );
    assert!(
        pages[1].get("repair_history").is_none(),
        "no history unless asked"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn include_history_pages_a_long_repair_history() {
    let h = emu(2000, 20).await;
    let api = Api::new(&h);
    let heavy = h.notable().repaired[0];
    let plain = api.run(heavy).await;
    assert!(plain.get("repair_history").is_none());
    let (pages, _) = all_pages(&api, heavy, true).await;
    let history = concat(&pages, "repair_history");
    assert!(history.len() > 100, "{}", history.len());
    assert_eq!(pages[0]["repair_history"].as_array().unwrap().len(), 100);
    assert_eq!(history[0]["type"], "ORIGINAL");
    assert!(history[0].get("id").is_none());
    assert!(history[1..]
        .iter()
        .all(|r| r["type"] == "REPAIR" && r["id"].is_i64()));
    let repair_ids: HashSet<_> = history[1..]
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(repair_ids.len(), history.len() - 1);
    for w in history.windows(2) {
        assert!(
            w[0]["end_time"].as_i64() <= w[1]["start_time"].as_i64(),
            "repairs follow each other"
        );
    }
    assert_eq!(
        history.last().unwrap()["state"]["result_state"],
        plain["state"]["result_state"]
    );
    assert!(plain["end_time"].as_i64().unwrap() < NOW);
    // A once-repaired multi-task run: the failed task ran twice, with two run ids.
    let once = h.notable().repaired[1];
    let run = api
        .ok(
            GET,
            &[("run_id", &once.to_string()), ("include_history", "true")],
        )
        .await;
    let hist = run["repair_history"].as_array().unwrap();
    assert!(hist.len() >= 2);
    let all_task_ids: Vec<i64> = hist
        .iter()
        .flat_map(|r| {
            r["task_run_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
        })
        .collect();
    assert_eq!(
        all_task_ids.iter().collect::<HashSet<_>>().len(),
        all_task_ids.len()
    );
    h.shutdown().await;
}

#[tokio::test]
async fn get_errors() {
    let h = emu(100, 4).await;
    let api = Api::new(&h);
    let (s, v) = api.get(GET, &[("run_id", "42")]).await;
    assert_error(
        s,
        &v,
        400,
        "INVALID_PARAMETER_VALUE",
        "Run 42 does not exist.",
    );
    let (s, v) = api.get(GET, &[]).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "run_id");
    let (s, v) = api.get(GET, &[("run_id", "x1")]).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "run_id");
    let id = h.notable().submit_runs[0].to_string();
    let (s, v) = api
        .get(GET, &[("run_id", &id), ("include_history", "sure")])
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "include_history");
    let (s, v) = api
        .get(GET, &[("run_id", &id), ("page_token", "nope")])
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "page_token");
    h.shutdown().await;
}

#[tokio::test]
async fn get_agrees_with_list_and_the_history_fills_every_field() {
    let h = emu(2000, 20).await;
    let api = Api::new(&h);
    let runs = walk(&api, &[("expand_tasks", "true")]).await;
    let mut keys = BTreeSet::new();
    let mut values: BTreeSet<(String, String)> = BTreeSet::new();
    for r in &runs {
        keys.extend(r.as_object().unwrap().keys().cloned());
        for k in ["run_type", "trigger"] {
            values.insert((k.to_string(), r[k].as_str().unwrap().to_string()));
        }
        values.insert(("life".into(), life(r)));
        if let Some(s) = r["state"]["result_state"].as_str() {
            values.insert(("result".into(), s.to_string()));
        }
        assert!(
            r["run_id"].is_i64() && r["start_time"].is_i64() && r["end_time"].is_i64(),
            "numbers are JSON numbers"
        );
        assert!(
            r.as_object().unwrap().values().all(|v| !v.is_null()),
            "absent, never null: {r}"
        );
        if let (Some(tasks), Some("SUCCESS")) =
            (r["tasks"].as_array(), r["state"]["result_state"].as_str())
        {
            for w in tasks.windows(2) {
                assert!(
                    w[0]["end_time"].as_i64() <= w[1]["start_time"].as_i64(),
                    "tasks run in turn"
                );
            }
            let (first, last) = (&tasks[0], &tasks[tasks.len() - 1]);
            assert!(first["start_time"].as_i64() >= r["start_time"].as_i64());
            if r.get("repair_history").is_none() && r["run_duration"].as_i64().is_some() {
                assert!(last["end_time"].as_i64() <= r["end_time"].as_i64());
            }
        }
        if r["status"]["state"] == "TERMINATED" {
            assert!(r["status"]["termination_details"]["code"].is_string());
            assert!(r["end_time"].as_i64().unwrap() >= r["start_time"].as_i64().unwrap());
        }
    }
    for k in [
        "job_id",
        "job_run_id",
        "run_id",
        "creator_user_name",
        "number_in_job",
        "original_attempt_run_id",
        "attempt_number",
        "state",
        "status",
        "schedule",
        "tasks",
        "cluster_spec",
        "cluster_instance",
        "overriding_parameters",
        "start_time",
        "setup_duration",
        "execution_duration",
        "cleanup_duration",
        "end_time",
        "run_duration",
        "queue_duration",
        "trigger",
        "trigger_info",
        "run_name",
        "run_page_url",
        "run_type",
        "git_source",
        "job_parameters",
        "job_clusters",
        "description",
        "effective_performance_target",
        "effective_usage_policy_id",
        "has_more",
    ] {
        assert!(keys.contains(k), "some run has {k}: {keys:?}");
    }
    for (k, v) in [
        ("run_type", "JOB_RUN"),
        ("run_type", "WORKFLOW_RUN"),
        ("run_type", "SUBMIT_RUN"),
        ("trigger", "PERIODIC"),
        ("trigger", "ONE_TIME"),
        ("trigger", "RETRY"),
        ("life", "RUNNING"),
        ("life", "QUEUED"),
        ("life", "PENDING"),
        ("life", "TERMINATING"),
        ("life", "TERMINATED"),
        ("life", "INTERNAL_ERROR"),
        ("life", "SKIPPED"),
        ("result", "SUCCESS"),
        ("result", "FAILED"),
        ("result", "CANCELED"),
        ("result", "TIMEDOUT"),
    ] {
        assert!(
            values.contains(&(k.to_string(), v.to_string())),
            "some run has {k} {v}"
        );
    }
    // runs/get shows the same run as the list (which caps lists at 100 and never shows history).
    for r in runs.iter().step_by(97) {
        let mut got = api.run(r["run_id"].as_i64().unwrap()).await;
        let mut listed = r.clone();
        for v in [&mut got, &mut listed] {
            let o = v.as_object_mut().unwrap();
            for k in [
                "tasks",
                "job_clusters",
                "job_parameters",
                "has_more",
                "next_page_token",
            ] {
                o.remove(k);
            }
        }
        assert_eq!(got, listed);
    }
    h.shutdown().await;
}

#[tokio::test]
async fn export_views_of_notebook_task_runs() {
    let h = emu(300, 6).await;
    let api = Api::new(&h);
    let sub = h.notable().submit_runs[0];
    let run = api.run(sub).await;
    let task_id = run["tasks"][0]["run_id"].as_i64().unwrap().to_string();
    for (views, n, kinds) in [
        (None, 1, vec!["NOTEBOOK"]),
        (Some("CODE"), 1, vec!["NOTEBOOK"]),
        (Some("DASHBOARDS"), 1, vec!["DASHBOARD"]),
        (Some("ALL"), 2, vec!["NOTEBOOK", "DASHBOARD"]),
    ] {
        let mut q = vec![("run_id", task_id.as_str())];
        if let Some(v) = views {
            q.push(("views_to_export", v));
        }
        let out = api.ok("/api/2.2/jobs/runs/export", &q).await;
        let list = out["views"].as_array().unwrap();
        assert_eq!(list.len(), n);
        assert_eq!(
            list.iter()
                .map(|v| v["type"].as_str().unwrap())
                .collect::<Vec<_>>(),
            kinds
        );
        assert!(list.iter().all(|v| v["content"]
            .as_str()
            .unwrap()
            .starts_with("<!DOCTYPE html>")
            && v["name"].is_string()));
    }
    // A single-task run id works like its task's id.
    api.ok("/api/2.2/jobs/runs/export", &[("run_id", &sub.to_string())])
        .await;
    let (s, v) = api
        .get(
            "/api/2.2/jobs/runs/export",
            &[("run_id", &task_id), ("views_to_export", "SLIDES")],
        )
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "views_to_export");
    let multi = h.notable().multi_task[0].to_string();
    let (s, v) = api
        .get("/api/2.2/jobs/runs/export", &[("run_id", &multi)])
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "multiple tasks");
    let (s, v) = api
        .get("/api/2.2/jobs/runs/export", &[("run_id", "7")])
        .await;
    assert_error(
        s,
        &v,
        400,
        "INVALID_PARAMETER_VALUE",
        "Run 7 does not exist.",
    );
    h.shutdown().await;
}

#[tokio::test]
async fn get_output_of_task_runs_and_not_of_multi_task_parents() {
    let h = emu(300, 6).await;
    let api = Api::new(&h);
    let multi = h.notable().multi_task[0];
    let (s, v) = api
        .get(
            "/api/2.2/jobs/runs/get-output",
            &[("run_id", &multi.to_string())],
        )
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.");
    let run = api.run(multi).await;
    for task in run["tasks"].as_array().unwrap() {
        let id = task["run_id"].as_i64().unwrap();
        let out = api
            .ok(
                "/api/2.2/jobs/runs/get-output",
                &[("run_id", &id.to_string())],
            )
            .await;
        assert_eq!(out["metadata"]["run_id"], id);
        assert_eq!(out["metadata"]["job_run_id"], multi);
        assert_eq!(out["metadata"]["task_key"], task["task_key"]);
        let result = task["state"]["result_state"].as_str().unwrap_or_default();
        if result == "SUCCESS" && task.get("notebook_task").is_some() {
            assert!(out["notebook_output"]["result"].is_string());
        }
        match result {
            "FAILED" => {
                let error = out["error"].as_str().unwrap_or_default();
                let trace = out["error_trace"].as_str().unwrap_or_default();
                assert!(
                    !error.is_empty() && !error.contains('\n'),
                    "a short message: {out}"
                );
                assert!(trace.lines().count() > 1, "a stack trace: {out}");
            }
            "TIMEDOUT" | "CANCELED" => {
                assert!(out["error"].is_string() && out.get("error_trace").is_none());
            }
            // Succeeded, or never ran (upstream failed): no error.
            _ => assert!(out.get("error").is_none(), "{out}"),
        }
    }
    let (s, v) = api.get("/api/2.2/jobs/runs/get-output", &[]).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "run_id");
    h.shutdown().await;
}

#[tokio::test]
async fn get_of_a_task_run_id_answers_the_task_run() {
    let h = emu(300, 6).await;
    let api = Api::new(&h);
    let multi = h.notable().multi_task[0];
    let run = api.run(multi).await;
    for task in run["tasks"].as_array().unwrap() {
        let id = task["run_id"].as_i64().unwrap();
        let got = api.run(id).await;
        assert_eq!(
            (&got["run_id"], got["job_run_id"].as_i64(), &got["job_id"]),
            (&task["run_id"], Some(multi), &run["job_id"])
        );
        assert_eq!(got["task_key"], task["task_key"]);
        assert_eq!(got["state"], task["state"]);
        assert_eq!(got["start_time"], task["start_time"]);
        assert!(got.get("tasks").is_none(), "a task run has no tasks: {got}");
        let out = api
            .ok(
                "/api/2.2/jobs/runs/get-output",
                &[("run_id", &id.to_string())],
            )
            .await;
        assert_eq!(out["metadata"], got, "runs/get = get-output's metadata");
    }
    // A task run superseded by a repair is still there, as it ended.
    let repaired = h.notable().repaired[1];
    let with = api
        .ok(
            "/api/2.2/jobs/runs/get",
            &[
                ("run_id", &repaired.to_string()),
                ("include_history", "true"),
            ],
        )
        .await;
    let first = with["repair_history"][0]["task_run_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect::<Vec<_>>();
    let failed: Vec<Value> = {
        let mut v = Vec::new();
        for id in &first {
            let t = api.run(*id).await;
            if t["state"]["result_state"] == "FAILED" {
                v.push(t);
            }
        }
        v
    };
    assert!(!failed.is_empty(), "the original attempt had a failed task");
    let latest = with["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["task_key"] == failed[0]["task_key"])
        .cloned()
        .unwrap();
    assert_ne!(latest["run_id"], failed[0]["run_id"]);
    // Ids in a run's block that name no task run are not runs.
    for id in [
        multi + 900,
        run["tasks"][0]["run_id"].as_i64().unwrap() + 500,
    ] {
        let (s, v) = api
            .get("/api/2.2/jobs/runs/get", &[("run_id", &id.to_string())])
            .await;
        assert_error(
            s,
            &v,
            400,
            "INVALID_PARAMETER_VALUE",
            &format!("Run {id} does not exist."),
        );
    }
    h.shutdown().await;
}
