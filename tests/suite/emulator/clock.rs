//! The emulator's clock: the wall clock by default (as `jobsql emulator` and `--demo` run it),
//! or a [`ManualClock`] that reads the same everywhere (start times, the life cycle, cancel
//! times, the request log) and moves only when the test advances it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jobsql_emulator::{start_local, Clock, EmulatorConfig, EmulatorError, ManualClock};
use serde_json::{json, Value};

use super::common::*;

const P: &str = "/api/2.2/jobs";

fn submit(name: &str) -> Value {
    json!({"run_name": name, "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/Shared/x"}, "existing_cluster_id": "0101-000000-abcdefgh"}]})
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[tokio::test]
async fn the_wall_clock_is_the_default_and_moves_created_runs_by_itself() {
    assert!(EmulatorConfig::default().clock.is_none());
    let before = wall_ms();
    let h = emu_with(EmulatorConfig {
        runs: 30,
        jobs: 2,
        phase: Duration::from_millis(40),
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&h);
    let id = api
        .post_ok(&format!("{P}/runs/submit"), submit("wall"))
        .await["run_id"]
        .as_i64()
        .expect("run_id");
    let run = api.run(id).await;
    let start = run["start_time"].as_i64().expect("start_time");
    assert!(
        (before..=wall_ms()).contains(&start),
        "{before} <= {start}: the run starts at the wall clock's now"
    );
    // The one test that waits: the wall clock moves without anyone advancing it.
    let done = wait_for(&api, id, 10, |r| life(r) == "TERMINATED").await;
    assert_eq!(done["state"]["result_state"], "SUCCESS");
    assert!(done["end_time"].as_i64().expect("end_time") >= start + 80);
    h.shutdown().await;
}

#[tokio::test]
async fn a_manual_clock_sets_start_and_cancel_times_and_stands_still_until_advanced() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("requests.jsonl");
    let clock = ManualClock::new(NOW);
    let h = emu_with(EmulatorConfig {
        runs: 40,
        jobs: 3,
        phase: Duration::from_secs(1),
        clock: Some(Arc::new(clock.clone())),
        log_file: Some(log.clone()),
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&h);
    // The history is generated up to the clock's now, as with `now_ms`.
    let newest = api.ok(&format!("{P}/runs/list"), &[("limit", "1")]).await;
    assert!(newest["runs"][0]["start_time"].as_i64().expect("start") <= NOW);

    clock.advance(Duration::from_secs(5));
    let id = api
        .post_ok(&format!("{P}/runs/submit"), submit("manual"))
        .await["run_id"]
        .as_i64()
        .expect("run_id");
    // However long the test takes, nothing moves until the clock does.
    for _ in 0..3 {
        let run = api.run(id).await;
        assert_eq!(
            (life(&run), run["start_time"].as_i64()),
            ("PENDING".to_string(), Some(NOW + 5_000))
        );
    }
    clock.advance(Duration::from_millis(1_500));
    assert_eq!(life(&api.run(id).await), "RUNNING");
    api.post_ok(&format!("{P}/runs/cancel"), json!({"run_id": id}))
        .await;
    clock.advance(Duration::from_secs(60));
    let run = api.run(id).await;
    assert_eq!(
        (life(&run).as_str(), run["state"]["result_state"].as_str()),
        ("TERMINATED", Some("CANCELED"))
    );
    assert_eq!(run["end_time"], NOW + 6_500, "canceled at the clock's now");

    // The request log is stamped with the same clock.
    let stamps: Vec<(i64, String)> = std::fs::read_to_string(&log)
        .expect("log written")
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a JSON line");
            let path = v["path"].as_str().expect("path").to_string();
            (v["ts_ms"].as_i64().expect("ts_ms"), path)
        })
        .collect();
    let at = |suffix: &str| -> Vec<i64> {
        stamps
            .iter()
            .filter(|(_, p)| p.ends_with(suffix))
            .map(|(t, _)| *t)
            .collect()
    };
    assert_eq!(at("runs/list"), [NOW]);
    assert_eq!(at("runs/submit"), [NOW + 5_000]);
    assert_eq!(at("runs/cancel"), [NOW + 6_500]);
    assert_eq!(
        at("runs/get"),
        [
            NOW + 5_000,
            NOW + 5_000,
            NOW + 5_000,
            NOW + 6_500,
            NOW + 66_500
        ]
    );
    assert_eq!(clock.now_ms(), NOW + 66_500);
    h.shutdown().await;
}

#[tokio::test]
async fn a_clock_and_now_ms_together_are_a_configuration_error() {
    let err = start_local(EmulatorConfig {
        now_ms: Some(NOW),
        clock: Some(Arc::new(ManualClock::new(NOW))),
        ..EmulatorConfig::default()
    })
    .await
    .expect_err("refused");
    assert!(matches!(err, EmulatorError::Config(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid emulator configuration: set either now_ms or clock, not both"
    );
}
