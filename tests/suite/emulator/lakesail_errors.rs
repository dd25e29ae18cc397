//! The LakeSail emulator's errors and knobs over real HTTP: 404 for unknown jobs and runs and
//! a run of another job, 400 for bad bodies, 401 without the right bearer token, random
//! 429/503 faults, lost responses, latency, the request log, bad configurations and paths.

use std::time::{Duration, Instant};

use jobsql_emulator::lakesail::LakeSailConfig;
use serde_json::{json, Value};

use crate::support::lakesail::{assert_message, clocked, start, status, Sail, ENDED};

#[tokio::test]
async fn lakesail_unknown_jobs_unknown_runs_and_runs_of_another_job_are_404() {
    let (h, _clock) = clocked(1000).await;
    let api = Sail::new(&h);
    let jobs = h.jobs();
    let runs = api
        .ok(
            &format!("/workloads/jobs/{}/runs", jobs[0]),
            &[("limit", "100")],
        )
        .await;
    let theirs = runs["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| ENDED.contains(&status(r)) && r["attempt"] == 1)
        .expect("an ended run")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let other = &jobs[1];
    for (job, run, needle) in [
        ("JNOSUCHJOB", theirs.as_str(), "JNOSUCHJOB"),
        (other.as_str(), theirs.as_str(), theirs.as_str()),
        (jobs[0].as_str(), "RNOSUCHRUN", "RNOSUCHRUN"),
    ] {
        assert_message(&api.run(job, run).await, 404, needle);
        assert_message(&api.delete(job, run).await, 404, needle);
        assert_message(&api.act(job, run, "ready", None).await, 404, needle);
        assert_message(&api.act(job, run, "retry", None).await, 404, needle);
    }
    assert_message(
        &api.get("/workloads/jobs/JNOSUCHJOB/runs", &[]).await,
        404,
        "JNOSUCHJOB",
    );
    assert_message(
        &api.post("/workloads/jobs/JNOSUCHJOB/runs", None).await,
        404,
        "JNOSUCHJOB",
    );
    // Still there under its own job.
    assert_eq!(api.run(&jobs[0], &theirs).await.0, 200);
    assert_message(
        &api.get("/workloads/nothing", &[]).await,
        404,
        "/api/v1/workloads/nothing",
    );
    assert_message(
        &api.send("PUT", &format!("/workloads/jobs/{other}/runs"), &[], None)
            .await,
        405,
        "PUT",
    );
    h.shutdown().await;
}

#[tokio::test]
async fn lakesail_bad_create_bodies_are_400_and_create_nothing() {
    let (h, _clock) = clocked(1000).await;
    let api = Sail::new(&h);
    let job = h.jobs()[0].clone();
    let before = h.run_count();
    for (body, needle) in [
        ("{not json", "JSON"),
        ("[1, 2]", "object"),
        (r#""text""#, "object"),
        (r#"{"parameters": 5}"#, "parameters"),
        (r#"{"parameters": "a=1"}"#, "parameters"),
        (r#"{"params": {}}"#, "params"),
    ] {
        assert_message(
            &api.post(&format!("/workloads/jobs/{job}/runs"), Some(body))
                .await,
            400,
            needle,
        );
    }
    assert_eq!(h.run_count(), before);
    h.shutdown().await;
}

#[tokio::test]
async fn lakesail_requests_without_the_right_bearer_token_are_401() {
    let (h, _clock) = clocked(1000).await;
    let job = h.jobs()[0].clone();
    let before = h.run_count();
    let client = reqwest::Client::new();
    let url = format!("{}/workloads/jobs/{job}/runs", h.base_url());
    let cases = [
        (None, "missing"),
        (Some("Bearer wrong-token".to_string()), "invalid"),
        (Some(format!("Basic {}", h.token())), "missing"),
        (Some(format!("Bearer{}", h.token())), "missing"),
    ];
    for (header, needle) in &cases {
        for post in [false, true] {
            let mut req = if post {
                client.post(&url).body("{}")
            } else {
                client.get(&url)
            };
            if let Some(v) = header {
                req = req.header("authorization", v);
            }
            let r = req.send().await.expect("request");
            let status = r.status().as_u16();
            let body: Value = r.json().await.expect("json");
            assert_message(&(status, body.clone()), 401, needle);
            assert!(
                !body.to_string().contains(h.token()),
                "the token is not echoed"
            );
        }
    }
    assert_eq!(h.run_count(), before, "a refused create creates nothing");
    let seen: Vec<bool> = h.requests().iter().map(|r| r.authorization).collect();
    assert_eq!(seen, [false, false, true, true, true, true, true, true]);
    assert_eq!(
        Sail::new(&h)
            .get(&format!("/workloads/jobs/{job}/runs"), &[])
            .await
            .0,
        200
    );
    h.shutdown().await;
}

#[tokio::test]
async fn lakesail_faults_lost_responses_latency_and_the_request_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("lakesail.jsonl");
    let faulty = start(LakeSailConfig {
        fault_rate: 1.0,
        log_file: Some(log.clone()),
        ..LakeSailConfig::default()
    })
    .await;
    let api = Sail::new(&faulty);
    let client = reqwest::Client::new();
    let mut statuses = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let r = client
            .get(format!("{}/me/jobs/runs", faulty.base_url()))
            .bearer_auth(faulty.token())
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        if status == 429 {
            assert_eq!(r.headers()["retry-after"], "1");
        }
        let body: Value = r.json().await.expect("json");
        assert!(body["message"].is_string(), "{body}");
        statuses.insert(status);
    }
    assert_eq!(
        statuses,
        [429, 503].into(),
        "every request faulted, both kinds"
    );
    let _ = api.get("/me/jobs/runs", &[("limit", "3")]).await;
    faulty.shutdown().await;
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .expect("the log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 21);
    assert_eq!(lines[20]["path"], "/api/v1/me/jobs/runs");
    assert_eq!(lines[20]["query"], json!([["limit", "3"]]));
    assert_eq!(lines[20]["authorization"], true);
    assert!(
        !std::fs::read_to_string(&log)
            .expect("log")
            .contains("dev-ls-token-4e9a"),
        "no token in the log"
    );

    // A create whose answer is lost: 503, and the run exists.
    let h = start(LakeSailConfig {
        latency: Duration::from_millis(60),
        ..LakeSailConfig::default()
    })
    .await;
    let api = Sail::new(&h);
    let job = h.jobs()[0].clone();
    let before = h.run_count();
    h.fail_after_commit("runs", 1);
    let started = Instant::now();
    let lost = api.post(&format!("/workloads/jobs/{job}/runs"), None).await;
    assert!(
        started.elapsed() >= Duration::from_millis(60),
        "latency is added"
    );
    assert_eq!(lost.0, 503, "{}", lost.1);
    assert_eq!(h.run_count(), before + 1, "the create was done");
    assert_eq!(
        api.post(&format!("/workloads/jobs/{job}/runs"), None)
            .await
            .0,
        201,
        "used up"
    );
    h.drop_after_commit("retry", 1);
    let runs = api.ok(&format!("/workloads/jobs/{job}/runs"), &[]).await;
    let failed = runs["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| status(r) == "failed")
        .expect("a failed run");
    let id = failed["id"].as_str().expect("id");
    let dropped = api
        .client
        .post(format!(
            "{}/workloads/jobs/{job}/runs/{id}/retry",
            h.base_url()
        ))
        .bearer_auth(h.token())
        .send()
        .await;
    assert!(dropped.is_err(), "no response: {dropped:?}");
    assert_eq!(
        status(&api.run(&job, id).await.1),
        "ready",
        "the retry was done"
    );
    assert_eq!(h.requests().last().map(|r| r.status), Some(200));
    assert!(h
        .requests()
        .iter()
        .any(|r| r.status == 0 && r.path.ends_with("/retry")));
    h.shutdown().await;
}

#[tokio::test]
async fn lakesail_a_bad_configuration_or_path_is_a_clear_error_and_debug_masks_the_token() {
    use jobsql_emulator::lakesail::{start_local, LakeSailError};
    for (config, needle) in [
        (
            LakeSailConfig {
                fault_rate: 1.5,
                ..LakeSailConfig::default()
            },
            "fault rate",
        ),
        (
            LakeSailConfig {
                jobs: 0,
                ..LakeSailConfig::default()
            },
            "jobs",
        ),
        (
            LakeSailConfig {
                runs: 10_000_000,
                ..LakeSailConfig::default()
            },
            "runs",
        ),
        (
            LakeSailConfig {
                auto_dispatch: Some(Duration::ZERO),
                ..LakeSailConfig::default()
            },
            "dispatch",
        ),
        (
            LakeSailConfig {
                token: String::new(),
                ..LakeSailConfig::default()
            },
            "token",
        ),
    ] {
        match start_local(config).await {
            Err(e @ LakeSailError::Config(_)) => assert!(e.to_string().contains(needle), "{e}"),
            other => panic!("{needle}: {other:?}"),
        }
    }
    let config = LakeSailConfig {
        token: "s3cret-token".into(),
        ..LakeSailConfig::default()
    };
    assert!(!format!("{config:?}").contains("s3cret"), "{config:?}");
    let h = start(config).await;
    assert!(!format!("{h:?}").contains("s3cret"));
    let api = Sail::new(&h);
    assert_message(
        &api.get("/workloads/jobs/%FF/runs", &[]).await,
        400,
        "invalid path",
    );
    assert_message(
        &api.post("/workloads/jobs/%FF/runs/R1/ready", None).await,
        400,
        "invalid path",
    );
    h.shutdown().await;
}
