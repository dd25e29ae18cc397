//! Parallel listing: a full scan is cut into concurrent start_time slices after its first page.
//! Results must be exactly those of a sequential scan — no duplicates, no gaps at the slice
//! boundaries (the API's bounds are inclusive) — whatever the order, the concurrency, or how
//! many runs share one start time.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use datafusion::prelude::SessionContext;
use serde_json::{json, Value};

use super::common::*;

const DAY: i64 = 86_400_000;

/// A runs/list that pages `runs` (run_id, start_time) newest first, honouring the inclusive
/// start_time bounds, and records every query it answers.
#[derive(Clone, Default)]
pub(super) struct Listing {
    pub(super) runs: Arc<Vec<(i64, i64)>>,
    pub(super) seen: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

async fn list(State(s): State<Listing>, Query(q): Query<HashMap<String, String>>) -> Json<Value> {
    s.seen.lock().expect("lock").push(q.clone());
    let num = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
    let (from, to) = (num("start_time_from"), num("start_time_to"));
    let mut runs: Vec<&(i64, i64)> = s
        .runs
        .iter()
        .filter(|(_, t)| from.is_none_or(|f| *t >= f) && to.is_none_or(|u| *t <= u))
        .collect();
    runs.sort_by_key(|(id, t)| (std::cmp::Reverse(*t), std::cmp::Reverse(*id)));
    let offset = num("page_token").unwrap_or(0) as usize;
    let limit = num("limit").unwrap_or(25).clamp(1, 25) as usize;
    let page: Vec<Value> = runs
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(id, t)| json!({"run_id": id, "job_id": 1, "start_time": t, "run_type": "JOB_RUN"}))
        .collect();
    let more = runs.len() > offset + limit;
    let mut body = json!({"runs": page, "has_more": more});
    if more {
        body["next_page_token"] = json!((offset + limit).to_string());
    }
    Json(body)
}

pub(super) async fn listing_session(listing: Listing, concurrency: usize) -> SessionContext {
    let app = Router::new()
        .route("/api/2.2/jobs/runs/list", get(list))
        .with_state(listing);
    super::pages::stub_session_with(app, concurrency).await
}

/// 3,000 runs on only 60 distinct instants (50 runs each: every page boundary falls inside a
/// tie), the oldest 90 days before the newest (beyond the 60-day slicing window).
pub(super) fn tie_heavy() -> Vec<(i64, i64)> {
    let newest = 1_790_000_000_000i64;
    (0..3000)
        .map(|i| (1_000 + i, newest - (i % 60) * (DAY * 3 / 2)))
        .collect()
}

fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn slices_return_every_run_once_even_when_pages_end_inside_ties() {
    let runs = tie_heavy();
    let want = sorted(runs.iter().map(|(id, _)| *id).collect());
    for concurrency in [1, 2, 3, 8, 32] {
        let listing = Listing {
            runs: Arc::new(runs.clone()),
            ..Listing::default()
        };
        let ctx = listing_session(listing.clone(), concurrency).await;
        let batches = query(&ctx, &format!("SELECT run_id FROM {RUNS}")).await;
        let got = sorted(ints(&batches, 0).into_iter().flatten().collect());
        assert_eq!(
            got.len(),
            want.len(),
            "concurrency {concurrency}: no duplicates, no gaps"
        );
        assert_eq!(got, want, "concurrency {concurrency}");
        let seen = listing.seen.lock().expect("lock").clone();
        let first = &seen[0];
        assert!(
            !first.contains_key("start_time_from") && !first.contains_key("start_time_to"),
            "the first page spans the whole range: {first:?}"
        );
        if concurrency == 1 {
            assert_eq!(
                seen.len(),
                want.len().div_ceil(25),
                "sequential: one request per page"
            );
            assert!(seen.iter().all(|q| !q.contains_key("start_time_to")));
        } else {
            assert_slices_tile_the_range(&seen[1..], concurrency);
        }
    }
}

/// The slices' first requests cover one contiguous range, oldest slice open below.
fn assert_slices_tile_the_range(requests: &[HashMap<String, String>], concurrency: usize) {
    let starts: Vec<&HashMap<String, String>> = requests
        .iter()
        .filter(|q| !q.contains_key("page_token"))
        .collect();
    assert_eq!(
        starts.len(),
        concurrency * 2,
        "twice as many slices as requests in flight"
    );
    let num = |q: &HashMap<String, String>, k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
    let mut ranges: BTreeMap<i64, i64> = BTreeMap::new();
    let mut open = 0;
    for q in &starts {
        let to = num(q, "start_time_to").expect("every slice has an upper bound");
        match num(q, "start_time_from") {
            Some(from) => {
                ranges.insert(from, to);
            }
            None => {
                open += 1;
                ranges.insert(i64::MIN, to);
            }
        }
    }
    assert_eq!(open, 1, "exactly the oldest slice is open below");
    let mut expected_from = i64::MIN;
    for (from, to) in &ranges {
        assert_eq!(
            *from, expected_from,
            "slices meet without gap or overlap: {ranges:?}"
        );
        expected_from = to + 1;
    }
}

#[tokio::test]
async fn a_query_range_is_sliced_inside_its_bounds() {
    let runs = tie_heavy();
    let (lo, hi) = (runs[2000].1, runs[15].1);
    let want = sorted(
        runs.iter()
            .filter(|(_, t)| *t >= lo && *t <= hi)
            .map(|(id, _)| *id)
            .collect(),
    );
    let listing = Listing {
        runs: Arc::new(runs),
        ..Listing::default()
    };
    let ctx = listing_session(listing.clone(), 4).await;
    let sql = format!(
        "SELECT run_id FROM {RUNS} WHERE start_time BETWEEN to_timestamp_millis({lo}) AND to_timestamp_millis({hi})"
    );
    let got = sorted(
        ints(&query(&ctx, &sql).await, 0)
            .into_iter()
            .flatten()
            .collect(),
    );
    assert_eq!(got, want);
    let seen = listing.seen.lock().expect("lock").clone();
    assert!(seen.len() > 1, "several pages, so slices were listed");
    for q in &seen {
        let num = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
        assert!(num("start_time_from").is_some_and(|f| f >= lo), "{q:?}");
        assert!(num("start_time_to").is_some_and(|t| t <= hi), "{q:?}");
    }
}

#[tokio::test]
async fn the_emulator_history_scanned_in_parallel_equals_the_raw_listing() {
    let env = env(1500).await;
    let raw = all_runs_raw(&env.emulator, &[]).await;
    let want = sorted(raw.iter().filter_map(|r| r["run_id"].as_i64()).collect());
    let (batches, requests) = env.run(&format!("SELECT run_id FROM {RUNS}")).await;
    assert_eq!(
        sorted(ints(&batches, 0).into_iter().flatten().collect()),
        want
    );
    assert!(
        requests.len()
            <= want.len().div_ceil(25) + 2 * jobsql_core::provider::DEFAULT_MAX_CONCURRENCY,
        "{} requests",
        requests.len()
    );
    // A LIMIT is served page by page from the newest: one request here.
    let (_, requests) = env.run(&format!("SELECT run_id FROM {RUNS} LIMIT 5")).await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].param("limit"), Some("5"));
}
