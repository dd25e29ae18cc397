//! The LakeSail emulator's writes and errors over real HTTP, on a manual clock: create (201,
//! `pending` until released), ready, the life cycle step by step, retry (same id, attempt + 1,
//! `ready` or held `pending`), delete (204, ended runs only), the 409s, 404s, 400s for bad
//! bodies, 401s, auto-dispatch, faults, latency, the request log, and
//! `jobsql emulator lakesail` as a process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jobsql::emulator::lakesail::LakeSailConfig;
use jobsql::emulator::ManualClock;
use serde_json::{json, Value};

use super::common::NOW;
use crate::support::lakesail::{clocked, start, status, Sail};

const ENDED: [&str; 4] = ["succeeded", "failed", "cancelled", "timeout"];

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("in range")
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Every run of the emulator (walked).
async fn all_runs(api: &Sail) -> Vec<Value> {
    api.walk("/me/jobs/runs", 100).await.0
}

/// The first run in `status`, as `(jobId, id)`.
fn first_in(runs: &[Value], want: &str) -> (String, String) {
    let r = runs
        .iter()
        .find(|r| status(r) == want)
        .unwrap_or_else(|| panic!("a {want} run"));
    (
        r["jobId"].as_str().expect("jobId").into(),
        r["id"].as_str().expect("id").into(),
    )
}

fn assert_message(answer: &(u16, Value), want: u16, needle: &str) {
    assert_eq!(answer.0, want, "{}", answer.1);
    let message = answer.1["message"]
        .as_str()
        .unwrap_or_else(|| panic!("a message: {}", answer.1));
    assert!(
        message.contains(needle),
        "{message:?} should mention {needle:?}"
    );
}

#[tokio::test]
async fn lakesail_a_created_run_waits_pending_then_moves_one_step_per_phase() {
    let (h, clock) = clocked(1000).await;
    let api = Sail::new(&h);
    let job = h.jobs()[1].clone();
    let jobs = api.ok("/workloads/jobs", &[]).await;
    let listed = jobs["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|j| j["id"] == job.as_str())
        .expect("the job is listed")
        .clone();
    let run = api
        .create(
            &job,
            Some(r#"{"parameters": {"date": "2026-01-01", "n": 3}}"#),
        )
        .await;
    assert_eq!(status(&run), "pending");
    assert_eq!(run["jobId"], job.as_str());
    assert_eq!(run["jobKey"], listed["jobKey"]);
    assert_eq!(run["version"], listed["version"]);
    assert_eq!(run["parameters"], json!({"date": "2026-01-01", "n": 3}));
    assert_eq!(
        (run["trigger"].as_str(), run["attempt"].as_i64()),
        (Some("api"), Some(1))
    );
    assert_eq!(run["createdBy"], "dev@lakesail.local");
    assert_eq!(run["createdAt"], rfc3339(NOW));
    assert!(run["startedAt"].is_null() && run["finishedAt"].is_null());
    let id = run["id"].as_str().expect("id").to_string();
    let recorded = h.requests().pop().expect("recorded");
    assert_eq!(
        (recorded.method.as_str(), recorded.path.clone()),
        ("POST", format!("/api/v1/workloads/jobs/{job}/runs"))
    );
    assert_eq!(
        recorded.body,
        Some(json!({"parameters": {"date": "2026-01-01", "n": 3}}))
    );
    assert_eq!(recorded.status, 201);
    // Newest first in both lists.
    let mine = api.ok("/me/jobs/runs", &[("limit", "1")]).await;
    assert_eq!(mine["items"][0]["id"], id.as_str());
    let of_job = api
        .ok(&format!("/workloads/jobs/{job}/runs"), &[("limit", "1")])
        .await;
    assert_eq!(of_job["items"][0], run);
    // No auto-dispatch by default: it waits for ready.
    clock.advance(Duration::from_secs(3600));
    assert_eq!(status(&api.run(&job, &id).await.1), "pending");
    let released_at = NOW + 3_600_000;
    let ready = api.act(&job, &id, "ready", None).await;
    assert_eq!(ready.0, 200, "{}", ready.1);
    assert_eq!(status(&ready.1), "ready");
    assert_message(&api.act(&job, &id, "ready", None).await, 409, "pending");
    let mut seen = vec![];
    for _ in 0..7 {
        clock.advance(Duration::from_millis(1000));
        let r = api.run(&job, &id).await.1;
        seen.push(status(&r).to_string());
        if status(&r) == "starting" {
            assert_eq!(r["startedAt"], rfc3339(released_at + 1000));
            assert!(r["finishedAt"].is_null());
        }
        if status(&r) == "succeeded" {
            assert_eq!(r["startedAt"], rfc3339(released_at + 1000));
            assert_eq!(r["finishedAt"], rfc3339(released_at + 6000));
            assert_eq!(r["statusMessage"], "Run succeeded");
        }
    }
    assert_eq!(
        seen,
        [
            "starting",
            "creating_sail",
            "waiting_for_sail",
            "creating_runner",
            "running",
            "succeeded",
            "succeeded"
        ]
    );
    // A created run with no body has no parameters.
    let (s, empty) = api.post(&format!("/workloads/jobs/{job}/runs"), None).await;
    assert_eq!((s, &empty["parameters"]), (201, &json!({})));
    h.shutdown().await;
}

#[tokio::test]
async fn lakesail_retry_resets_an_ended_run_in_place_and_hold_keeps_it_pending() {
    let (h, clock) = clocked(1000).await;
    let api = Sail::new(&h);
    let job = h.jobs()[0].clone();
    let run = api
        .create(&job, Some(r#"{"parameters": {"outcome": "failed"}}"#))
        .await;
    let id = run["id"].as_str().expect("id").to_string();
    assert_message(&api.act(&job, &id, "retry", None).await, 409, "pending");
    assert_eq!(api.act(&job, &id, "ready", Some("{}")).await.0, 200);
    clock.advance(Duration::from_secs(6));
    let failed = api.run(&job, &id).await.1;
    assert_eq!(status(&failed), "failed");
    assert!(!failed["finishedAt"].is_null());
    let retried = api
        .act(&job, &id, "retry", Some(r#"{"hold": false}"#))
        .await;
    assert_eq!(retried.0, 200, "{}", retried.1);
    let r = &retried.1;
    assert_eq!(
        (r["id"].as_str(), r["attempt"].as_i64(), status(r)),
        (Some(id.as_str()), Some(2), "ready")
    );
    assert!(
        r["startedAt"].is_null() && r["finishedAt"].is_null(),
        "reset: {r}"
    );
    assert_eq!(
        (&r["createdAt"], &r["parameters"], &r["version"]),
        (&run["createdAt"], &run["parameters"], &run["version"])
    );
    clock.advance(Duration::from_secs(6));
    assert_eq!(
        status(&api.run(&job, &id).await.1),
        "succeeded",
        "a retry succeeds"
    );
    assert_message(&api.act(&job, &id, "retry", None).await, 409, "succeeded");
    // A failed run of the history, held: pending until released, however long.
    let runs = all_runs(&api).await;
    for want in ["failed", "timeout", "cancelled"] {
        let (job, id) = first_in(&runs, want);
        let before = api.run(&job, &id).await.1;
        let held = api.act(&job, &id, "retry", Some(r#"{"hold": true}"#)).await;
        assert_eq!(held.0, 200, "{}", held.1);
        assert_eq!(status(&held.1), "pending", "{want}");
        assert_eq!(
            held.1["attempt"].as_i64(),
            before["attempt"].as_i64().map(|a| a + 1)
        );
        clock.advance(Duration::from_secs(86_400));
        assert_eq!(status(&api.run(&job, &id).await.1), "pending");
        assert_message(&api.act(&job, &id, "retry", None).await, 409, "pending");
        assert_eq!(status(&api.act(&job, &id, "ready", None).await.1), "ready");
    }
    for want in ["running", "starting", "ready", "succeeded"] {
        let (job, id) = first_in(&runs, want);
        assert_message(&api.act(&job, &id, "retry", None).await, 409, want);
    }
    let (job, id) = first_in(&runs, "pending");
    assert_message(
        &api.act(&job, &id, "retry", Some(r#"{"hold": "yes"}"#))
            .await,
        400,
        "hold",
    );
    assert_message(
        &api.act(&job, &id, "retry", Some("hold")).await,
        400,
        "JSON",
    );
    assert_message(
        &api.act(&job, &id, "ready", Some(r#"{"now": true}"#)).await,
        400,
        "now",
    );
    h.shutdown().await;
}

#[tokio::test]
async fn lakesail_delete_removes_only_ended_runs_with_a_204_and_no_body() {
    let (h, _clock) = clocked(1000).await;
    let api = Sail::new(&h);
    let runs = all_runs(&api).await;
    let total = runs.len();
    for want in ENDED {
        let (job, id) = first_in(&runs, want);
        let answer = api.delete(&job, &id).await;
        assert_eq!(answer, (204, Value::Null), "{want}: no body");
        assert_message(&api.run(&job, &id).await, 404, &id);
        assert_message(&api.delete(&job, &id).await, 404, &id);
    }
    for want in [
        "pending",
        "ready",
        "starting",
        "creating_sail",
        "waiting_for_sail",
        "creating_runner",
        "running",
    ] {
        let (job, id) = first_in(&runs, want);
        assert_message(&api.delete(&job, &id).await, 409, want);
        assert_eq!(api.run(&job, &id).await.0, 200, "still there");
    }
    assert_eq!(all_runs(&api).await.len(), total - 4);
    assert_eq!(h.run_count(), total - 4);
    let deletes: Vec<_> = h
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(
        deletes.iter().map(|r| r.status).collect::<Vec<_>>(),
        [204, 404, 204, 404, 204, 404, 204, 404, 409, 409, 409, 409, 409, 409, 409]
    );
    h.shutdown().await;
}

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
async fn lakesail_auto_dispatch_releases_a_created_run_but_never_a_held_one() {
    let clock = ManualClock::new(NOW);
    let h = start(LakeSailConfig {
        clock: Some(Arc::new(clock.clone())),
        phase: Duration::from_secs(1),
        auto_dispatch: Some(Duration::from_secs(5)),
        ..LakeSailConfig::default()
    })
    .await;
    let api = Sail::new(&h);
    let job = h.jobs()[0].clone();
    let id = api
        .create(&job, Some(r#"{"parameters": {"outcome": "timeout"}}"#))
        .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    clock.advance(Duration::from_millis(4999));
    assert_eq!(status(&api.run(&job, &id).await.1), "pending");
    clock.advance(Duration::from_millis(1));
    assert_eq!(status(&api.run(&job, &id).await.1), "ready");
    clock.advance(Duration::from_secs(6));
    assert_eq!(status(&api.run(&job, &id).await.1), "timeout");
    assert_eq!(
        status(
            &api.act(&job, &id, "retry", Some(r#"{"hold": true}"#))
                .await
                .1
        ),
        "pending"
    );
    clock.advance(Duration::from_secs(3600));
    assert_eq!(status(&api.run(&job, &id).await.1), "pending", "held");
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
            .contains("dev-lakesail-token"),
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

#[test]
fn jobsql_emulator_lakesail_prints_its_url_token_and_exports_and_serves() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jobsql"))
        .args([
            "emulator",
            "lakesail",
            "--addr",
            "127.0.0.1:0",
            "--seed",
            "3",
            "--runs",
            "40",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("jobsql emulator lakesail starts");
    let stdout = child.stdout.take().expect("stdout");
    let lines: Vec<String> = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.starts_with("Serving until"))
        .collect();
    let text = lines.join("\n");
    let base = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("base URL:"))
        .map(|u| u.trim().to_string())
        .unwrap_or_else(|| panic!("a base URL: {text}"));
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/api/v1"),
        "{text}"
    );
    assert!(text.contains("40 runs across 6 jobs (seed 3)"), "{text}");
    assert!(text.contains("token:    dev-lakesail-token"), "{text}");
    assert!(
        text.contains(&format!(
            "export LAKESAIL_API_URL={base} LAKESAIL_TOKEN=dev-lakesail-token"
        )),
        "{text}"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let page: Value = runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{base}/me/jobs/runs"))
            .bearer_auth("dev-lakesail-token")
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(40), "{page}");
    assert!(page.get("marker").is_none());
}
