//! Auth, faults, latency, the request record and log, unknown endpoints, clean rooms,
//! determinism and shutdown.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use jobsql_emulator::{EmulatorConfig, LostResponse};
use serde_json::{json, Value};

use super::common::*;

#[tokio::test]
async fn every_request_needs_the_bearer_token() {
    let h = emu(50, 3).await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/2.2/jobs/runs/list", h.base_url());
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Basic dXNlcjpwYXNz"),
        Some("dev-emulator-token"),
    ] {
        let mut req = client.get(&url);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let r = req.send().await.unwrap();
        let s = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        assert_error(s, &v, 401, "UNAUTHENTICATED", "");
    }
    let ok = client
        .get(&url)
        .bearer_auth(h.token())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let post = client
        .post(format!("{}/api/2.2/jobs/runs/cancel", h.base_url()))
        .json(&json!({"run_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 401);
    assert!(!h.token().starts_with("dapi"));
    h.shutdown().await;
}

#[tokio::test]
async fn faults_answer_429_with_retry_after_or_503() {
    let h = emu_with(EmulatorConfig {
        runs: 50,
        jobs: 3,
        fault_rate: 1.0,
        ..EmulatorConfig::default()
    })
    .await;
    let client = reqwest::Client::new();
    let mut kinds = HashSet::new();
    for _ in 0..30 {
        let r = client
            .get(format!("{}/api/2.2/jobs/runs/list", h.base_url()))
            .bearer_auth(h.token())
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        let retry = r
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        let v: Value = r.json().await.unwrap();
        match s {
            429 => {
                assert_error(s, &v, 429, "REQUEST_LIMIT_EXCEEDED", "");
                assert_eq!(retry.as_deref(), Some("1"));
            }
            503 => assert_error(s, &v, 503, "TEMPORARILY_UNAVAILABLE", ""),
            other => panic!("unexpected {other}"),
        }
        kinds.insert(s);
    }
    assert_eq!(kinds.len(), 2, "both kinds of fault");
    let recorded = h.requests();
    assert_eq!(recorded.len(), 30, "faulted requests are recorded");
    assert!(recorded.iter().all(|r| r.status == 429 || r.status == 503));
    h.shutdown().await;

    // A partial rate faults some requests, deterministically.
    let h = emu_with(EmulatorConfig {
        runs: 50,
        jobs: 3,
        fault_rate: 0.3,
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&h);
    let mut statuses = Vec::new();
    for _ in 0..60 {
        statuses.push(api.get("/api/2.2/jobs/runs/list", &[]).await.0);
    }
    let faults = statuses.iter().filter(|s| **s != 200).count();
    assert!((5..=35).contains(&faults), "{faults} faults of 60");
    h.shutdown().await;
}

#[tokio::test]
async fn latency_is_added_to_each_request() {
    let h = emu_with(EmulatorConfig {
        runs: 50,
        jobs: 3,
        latency: Duration::from_millis(80),
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&h);
    let t = Instant::now();
    api.ok("/api/2.2/jobs/runs/list", &[]).await;
    assert!(t.elapsed() >= Duration::from_millis(80));
    h.shutdown().await;
}

#[tokio::test]
async fn requests_are_recorded_and_logged() {
    let log =
        std::env::temp_dir().join(format!("jobsql-emulator-test-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let h = emu_with(EmulatorConfig {
        runs: 50,
        jobs: 3,
        log_file: Some(log.clone()),
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&h);
    api.ok(
        "/api/2.2/jobs/runs/list",
        &[
            ("limit", "3"),
            ("job_id", &h.notable().job_ids[0].to_string()),
        ],
    )
    .await;
    api.post("/api/2.2/jobs/runs/cancel", json!({"run_id": 1}))
        .await;
    api.get("/api/2.2/jobs/nope", &[]).await;
    let r = h.requests();
    assert_eq!(r.len(), 3);
    assert_eq!(
        (r[0].method.as_str(), r[0].path.as_str(), r[0].status),
        ("GET", "/api/2.2/jobs/runs/list", 200)
    );
    assert_eq!(r[0].param("limit"), Some("3"));
    assert_eq!(
        r[0].param("job_id"),
        Some(h.notable().job_ids[0].to_string().as_str())
    );
    assert!(r[0].body.is_none());
    assert_eq!((r[1].method.as_str(), r[1].status), ("POST", 400));
    assert_eq!(r[1].body, Some(json!({"run_id": 1})));
    assert_eq!(r[2].status, 404);
    h.clear_requests();
    assert!(h.requests().is_empty());
    h.shutdown().await;
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["body"], json!({"run_id": 1}));
    assert_eq!(lines[0]["status"], 200);
    assert!(lines[0]["ts_ms"].is_i64() && lines[0]["duration_ms"].is_number());
    let _ = std::fs::remove_file(&log);
}

#[tokio::test]
async fn unknown_endpoints_are_404s_in_the_api_shape() {
    let h = emu(50, 3).await;
    let api = Api::new(&h);
    let (s, v) = api.get("/api/2.2/jobs/runs/nope", &[]).await;
    assert_error(s, &v, 404, "ENDPOINT_NOT_FOUND", "runs/nope");
    let (s, v) = api.post("/api/2.2/jobs/runs/list", json!({})).await;
    assert_eq!(
        (s, v["error_code"].as_str()),
        (404, Some("ENDPOINT_NOT_FOUND"))
    );
    h.shutdown().await;
}

#[tokio::test]
async fn clean_room_task_runs_page_and_filter() {
    let h = emu(50, 3).await;
    let api = Api::new(&h);
    let rooms = h.notable().clean_rooms;
    assert!(rooms.len() >= 2);
    let room = &rooms[0];
    let path = format!("/api/2.0/clean-rooms/{room}/runs");
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut q = vec![("page_size", "10")];
        if let Some(t) = &token {
            q.push(("page_token", t));
        }
        let page = api.ok(&path, &q).await;
        pages += 1;
        let runs = page["runs"].as_array().cloned().unwrap_or_default();
        assert!(runs.len() <= 10);
        all.extend(runs);
        match page["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert!(pages >= 3, "enough runs for several pages");
    let keys: HashSet<String> = all
        .iter()
        .map(|r| format!("{}{}", r["start_time"], r["notebook_name"]))
        .collect();
    assert_eq!(keys.len(), all.len(), "no duplicates");
    for w in all.windows(2) {
        assert!(
            w[0]["start_time"].as_i64() >= w[1]["start_time"].as_i64(),
            "newest first"
        );
    }
    let fields: HashSet<&str> = all
        .iter()
        .flat_map(|r| r.as_object().unwrap().keys().map(String::as_str))
        .collect();
    for f in [
        "notebook_name",
        "notebook_job_run_state",
        "start_time",
        "run_duration",
        "collaborator_job_run_info",
        "output_schema_name",
        "notebook_etag",
        "notebook_updated_at",
        "output_schema_expiration_time",
    ] {
        assert!(fields.contains(f), "{f}");
    }
    let nb = all[0]["notebook_name"].as_str().unwrap();
    let filtered = api
        .ok(&path, &[("notebook_name", nb), ("page_size", "100")])
        .await;
    let f = filtered["runs"].as_array().unwrap();
    assert_eq!(
        f.len(),
        all.iter().filter(|r| r["notebook_name"] == nb).count()
    );
    assert!(f.iter().all(|r| r["notebook_name"] == nb));
    let default = api.ok(&path, &[]).await;
    assert_eq!(default["runs"].as_array().unwrap().len(), 20);
    let (s, v) = api.get("/api/2.0/clean-rooms/no_such_room/runs", &[]).await;
    assert_error(s, &v, 404, "RESOURCE_DOES_NOT_EXIST", "no_such_room");
    let (s, v) = api.get(&path, &[("page_token", "bad")]).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "page_token");
    let (s, v) = api.get(&path, &[("page_size", "x")]).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "page_size");
    h.shutdown().await;
}

#[tokio::test]
async fn same_seed_same_workspace() {
    let a = emu(500, 6).await;
    let b = emu(500, 6).await;
    let c = emu_with(EmulatorConfig {
        runs: 500,
        jobs: 6,
        seed: 7,
        now_ms: Some(NOW),
        ..EmulatorConfig::default()
    })
    .await;
    let strip = |mut runs: Vec<Value>| {
        for r in runs.iter_mut() {
            r.as_object_mut().unwrap().remove("run_page_url");
        }
        runs
    };
    let ra = strip(walk(&Api::new(&a), &[]).await);
    let rb = strip(walk(&Api::new(&b), &[]).await);
    let rc = strip(walk(&Api::new(&c), &[]).await);
    assert_eq!(ra, rb);
    assert_ne!(ids(&ra), ids(&rc));
    assert_eq!(a.notable().job_ids, b.notable().job_ids);
    for h in [a, b, c] {
        h.shutdown().await;
    }
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let h = emu(20, 2).await;
    let url = h.base_url();
    let clone = h.clone();
    h.shutdown().await;
    let r = reqwest::Client::new()
        .get(format!("{url}/api/2.2/jobs/runs/list"))
        .bearer_auth(clone.token())
        .send()
        .await;
    assert!(r.is_err(), "nothing listens after shutdown");
}

#[tokio::test]
async fn tiny_and_empty_workspaces_work() {
    for (runs, jobs) in [(0, 0), (0, 5), (1, 0), (3, 1), (7, 2)] {
        let h = emu(runs, jobs).await;
        let api = Api::new(&h);
        let all = walk(&api, &[]).await;
        assert_eq!(all.len(), runs, "{runs} runs, {jobs} jobs");
        assert_eq!(h.notable().job_ids.len(), jobs);
        if jobs == 0 {
            assert!(all.iter().all(|r| r["run_type"] == "SUBMIT_RUN"));
        }
        for r in &all {
            api.run(r["run_id"].as_i64().unwrap()).await;
        }
        let page = api.ok("/api/2.2/jobs/list", &[]).await;
        assert_eq!(page.get("jobs").is_some(), jobs > 0);
        h.shutdown().await;
    }
}

#[derive(clap::Parser)]
struct Cli {
    #[command(flatten)]
    args: jobsql_emulator::EmulatorArgs,
}

#[test]
fn command_arguments_map_to_the_config() {
    use clap::Parser;
    let d = Cli::parse_from(["emulator"]).args;
    assert_eq!(d.addr.to_string(), "127.0.0.1:8080");
    let c = d.config();
    assert!(
        c.clock.is_none() && c.now_ms.is_none(),
        "`jobsql emulator` runs on the wall clock"
    );
    let def = EmulatorConfig::default();
    assert_eq!(
        (c.token, c.seed, c.jobs, c.runs, c.phase),
        (def.token, def.seed, def.jobs, def.runs, def.phase)
    );
    let a = Cli::parse_from([
        "emulator",
        "--addr",
        "0.0.0.0:9",
        "--token",
        "t",
        "--seed",
        "7",
        "--jobs",
        "3",
        "--runs",
        "1000000",
        "--latency-ms",
        "5",
        "--fault-rate",
        "0.5",
        "--log",
        "/tmp/x.jsonl",
        "--phase-ms",
        "10",
        "--fault-after-commit",
        "runs/submit:2",
        "--drop-after-commit",
        "runs/delete",
        "--fault-after-commit",
        "jobs/delete",
    ])
    .args
    .config();
    assert_eq!(
        (a.token.as_str(), a.seed, a.jobs, a.runs),
        ("t", 7, 3, 1_000_000)
    );
    assert_eq!(
        (a.latency, a.fault_rate, a.phase),
        (Duration::from_millis(5), 0.5, Duration::from_millis(10))
    );
    assert_eq!(
        a.log_file.as_deref(),
        Some(std::path::Path::new("/tmp/x.jsonl"))
    );
    let faults: Vec<_> = a
        .after_commit_faults
        .iter()
        .map(|f| (f.path_suffix.as_str(), f.times, f.mode))
        .collect();
    assert_eq!(
        faults,
        [
            ("runs/submit", 2, LostResponse::Unavailable),
            ("jobs/delete", 1, LostResponse::Unavailable),
            ("runs/delete", 1, LostResponse::Dropped),
        ]
    );
    assert_eq!(a.record_limit, 0, "a command keeps no request record");
    assert!(c.after_commit_faults.is_empty());
    assert!(Cli::try_parse_from(["emulator", "--fault-after-commit", "runs/submit:x"]).is_err());
}

#[tokio::test]
async fn a_bad_fault_rate_is_refused() {
    let r = jobsql_emulator::start_local(EmulatorConfig {
        fault_rate: 1.5,
        ..EmulatorConfig::default()
    })
    .await;
    assert!(r.is_err());
}

#[tokio::test]
async fn concurrent_clients_are_served() {
    let h = emu(5000, 10).await;
    let api = std::sync::Arc::new(Api::new(&h));
    let mut tasks = Vec::new();
    for k in 0..40 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            if k % 4 == 0 {
                api.post_ok(
                    "/api/2.2/jobs/runs/submit",
                    json!({"tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/x"}}]}),
                )
                .await;
            }
            api.ok(
                "/api/2.2/jobs/runs/list",
                &[("limit", "25"), ("offset", &(k * 25).to_string())],
            )
            .await["runs"]
                .as_array()
                .unwrap()
                .len()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 25);
    }
    assert_eq!(h.requests().len(), 50);
    let all = walk(&api, &[]).await;
    assert_eq!(all.len(), 5010);
    for w in all.windows(2) {
        assert!(w[0]["start_time"].as_i64() >= w[1]["start_time"].as_i64());
    }
    h.shutdown().await;
}
