//! Slices sized to the data: after the first page of a time window, the rest is cut into as
//! many slices as the first page's density says the window needs, so a window of `p` pages
//! costs at most `p + 1` requests, while a full history is still listed in many concurrent
//! slices. The rows are those of the raw API listing, each exactly once.

use crate::support::api::Api;

use super::common::*;

const HOUR: i64 = 3_600_000;

/// The newest run's start time (ms), asked of the API directly.
async fn newest_start(env: &Env) -> i64 {
    let body = Api::new(&env.emulator)
        .ok("/api/2.2/jobs/runs/list", &[("limit", "1")])
        .await;
    body["runs"][0]["start_time"]
        .as_i64()
        .expect("a start time")
}

fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn a_window_of_p_pages_costs_at_most_p_plus_one_requests() {
    // 20,000 runs over the emulator's history: a 6-hour window holds about 80 (4 pages).
    let env = env(20_000).await;
    let newest = newest_start(&env).await;
    let mut checked_multi_page = 0;
    for (hours, ends_ago_days) in [(6, 0), (6, 30), (3, 12), (12, 0), (24, 45), (1, 2)] {
        let hi = newest - ends_ago_days * 24 * HOUR;
        let lo = hi - hours * HOUR;
        let (lo_s, hi_s) = (lo.to_string(), hi.to_string());
        let raw = all_runs_raw(
            &env.emulator,
            &[("start_time_from", &lo_s), ("start_time_to", &hi_s)],
        )
        .await;
        let want = sorted(raw.iter().filter_map(|r| r["run_id"].as_i64()).collect());
        let pages = want.len().div_ceil(25).max(1);
        let sql = format!(
            "SELECT run_id FROM {RUNS} WHERE start_time >= to_timestamp_millis({lo}) \
             AND start_time <= to_timestamp_millis({hi})"
        );
        let (batches, requests) = env.run(&sql).await;
        let got = ints(&batches, 0).into_iter().flatten().collect::<Vec<_>>();
        assert_eq!(
            got.len(),
            want.len(),
            "{hours}h window: no row lost or doubled"
        );
        assert_eq!(
            sorted(got),
            want,
            "{hours}h window, {ends_ago_days} days ago"
        );
        let lists = to(&requests, "/runs/list");
        assert_eq!(lists.len(), requests.len(), "only listings: {requests:?}");
        assert!(
            requests.len() <= pages + 1,
            "{hours}h window of {} runs ({pages} pages): {} requests",
            want.len(),
            requests.len()
        );
        if pages > 1 {
            checked_multi_page += 1;
            let slices = lists
                .iter()
                .filter(|r| {
                    r.param("page_token").is_none() && r.param("start_time_to") != Some(&hi_s)
                })
                .count();
            assert!(slices >= 1, "the rest of a {pages}-page window is sliced");
        }
    }
    assert!(checked_multi_page >= 4, "most windows span several pages");
}

#[tokio::test]
async fn a_full_history_is_still_listed_in_many_concurrent_slices() {
    let env = env(5_000).await;
    let raw = all_runs_raw(&env.emulator, &[]).await;
    let want = sorted(raw.iter().filter_map(|r| r["run_id"].as_i64()).collect());
    let (batches, requests) = env.run(&format!("SELECT run_id FROM {RUNS}")).await;
    let got = ints(&batches, 0).into_iter().flatten().collect::<Vec<_>>();
    assert_eq!(got.len(), want.len(), "no row lost or doubled");
    assert_eq!(sorted(got), want);
    // The first page, then one first request per slice (the others carry a page token).
    let starts: Vec<_> = requests[1..]
        .iter()
        .filter(|r| r.param("page_token").is_none())
        .collect();
    assert!(
        starts.iter().all(|r| r.param("start_time_to").is_some()),
        "every slice is bounded above"
    );
    assert_eq!(
        starts.len(),
        2 * jobsql_core::provider::DEFAULT_MAX_CONCURRENCY,
        "as many slices as before: twice the requests in flight"
    );
    let pages = want.len().div_ceil(25);
    assert!(
        requests.len() <= pages + starts.len() + 1,
        "{} requests for {pages} pages",
        requests.len()
    );
}
