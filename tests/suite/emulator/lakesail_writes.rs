//! The LakeSail emulator's writes over real HTTP, on a manual clock: create (201, `pending`
//! until released), ready, the life cycle step by step, retry (same id, attempt + 1, `ready`
//! or held `pending`), delete (204, ended runs only) with their 409s, and auto-dispatch.

use std::sync::Arc;
use std::time::Duration;

use jobsql_emulator::lakesail::LakeSailConfig;
use jobsql_emulator::ManualClock;
use serde_json::{json, Value};

use super::common::NOW;
use crate::support::lakesail::{
    all_runs, assert_message, clocked, first_in, rfc3339, start, status, Sail, ENDED,
};

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
