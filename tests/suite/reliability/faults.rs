//! Faults in the middle of a paged scan retry the same page: the result equals a fault-free
//! run's, compared by run-id set — at a 20% fault rate over 10,000 runs, and for a lost or
//! dropped answer at a known page.

use std::collections::BTreeSet;

use jobsql_emulator::{EmulatorConfig, EmulatorHandle};

use super::common::*;

/// A fixed clock, so two emulators with the same seed hold the same history.
const NOW_MS: i64 = 1_790_000_000_000;

fn config(runs: usize, fault_rate: f64) -> EmulatorConfig {
    EmulatorConfig {
        runs,
        jobs: 25,
        seed: 2026,
        now_ms: Some(NOW_MS),
        fault_rate,
        record_limit: 100_000,
        ..EmulatorConfig::default()
    }
}

async fn run_ids(emu: &EmulatorHandle, sql: &str) -> Vec<i64> {
    // 12 attempts: at 20% a page fails them all once in 244 million.
    let ctx = session(runtime(fast(12), &[emu_workspace("emu", emu)]));
    ints(&rows(&ctx, sql).await, 0)
}

#[tokio::test]
async fn twenty_percent_faults_over_ten_thousand_runs_lose_nothing() {
    let clean = emulator(config(10_000, 0.0)).await;
    let faulty = emulator(config(10_000, 0.2)).await;
    for sql in [
        format!("SELECT run_id FROM {RUNS}"),
        format!("SELECT run_id FROM {RUNS} WHERE start_time >= to_timestamp_millis({}) AND run_type IN ('JOB_RUN', 'SUBMIT_RUN')", NOW_MS - 30 * 86_400_000),
    ] {
        faulty.clear_requests();
        let want = run_ids(&clean, &sql).await;
        let got = run_ids(&faulty, &sql).await;
        assert_eq!(got.len(), want.len(), "no run twice, none missing: {sql}");
        let (want, got): (BTreeSet<i64>, BTreeSet<i64>) =
            (want.into_iter().collect(), got.into_iter().collect());
        assert_eq!(got, want, "{sql}");
        let statuses: Vec<u16> = faulty.requests().iter().map(|r| r.status).collect();
        let faults = statuses.iter().filter(|s| matches!(s, 429 | 503)).count();
        let share = faults as f64 / statuses.len() as f64;
        assert!(
            (0.12..0.28).contains(&share),
            "{faults} faults in {} requests",
            statuses.len()
        );
    }
    let all = run_ids(&clean, &format!("SELECT run_id FROM {RUNS}")).await;
    assert_eq!(all.len(), 10_000);
}

/// The runs/list requests and their statuses.
fn listings(emu: &EmulatorHandle) -> Vec<(Vec<(String, String)>, u16)> {
    emu.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("runs/list"))
        .map(|r| (r.query, r.status))
        .collect()
}

#[tokio::test]
async fn a_lost_page_answer_is_asked_again_with_the_same_page_token() {
    let clean = emulator(config(300, 0.0)).await;
    let emu = emulator(config(300, 0.0)).await;
    let sql = format!("SELECT run_id FROM {RUNS} ORDER BY run_id");
    let want = run_ids(&clean, &sql).await;
    // Once page 1 is answered, lose the next two answers (503 after the work is done) and drop
    // the connection of the one after: all in the middle of the listing.
    let ctx = session(runtime(fast(5), &[emu_workspace("emu", &emu)]));
    let handle = emu.clone();
    let arm = tokio::spawn(async move {
        loop {
            let page_one = handle
                .requests()
                .iter()
                .any(|r| r.path.ends_with("runs/list") && r.status == 200);
            if page_one {
                handle.fail_after_commit("runs/list", 2);
                handle.drop_after_commit("runs/list", 1);
                return;
            }
            tokio::task::yield_now().await;
        }
    });
    let got = ints(&rows(&ctx, &sql).await, 0);
    arm.await.expect("armed");
    assert_eq!(got, want);
    let pages = listings(&emu);
    let lost: Vec<&(Vec<(String, String)>, u16)> =
        pages.iter().filter(|(_, s)| *s != 200).collect();
    assert_eq!(lost.len(), 3, "{pages:?}");
    for (query, _) in lost {
        let index = pages.iter().position(|(q, _)| q == query).expect("seen");
        let answered = pages[index..].iter().find(|(q, s)| q == query && *s == 200);
        assert!(answered.is_some(), "{query:?} was asked again and answered");
    }
    let distinct: BTreeSet<&Vec<(String, String)>> = pages.iter().map(|(q, _)| q).collect();
    // 300 runs are 12 pages sequentially; parallel slices add at most one partial page each.
    assert!(
        (12..=12 + 2 * jobsql_core::provider::DEFAULT_MAX_CONCURRENCY).contains(&distinct.len()),
        "each page asked for until answered: {} distinct requests",
        distinct.len()
    );
}
