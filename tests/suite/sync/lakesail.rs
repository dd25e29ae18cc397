//! `jobsql sync` of LakeSail's job runs (`lakesail.jobs.job_runs`, `incremental: order`):
//! a first sync equals the live listing; a second with nothing new reads the newest page
//! (stopped at the mark; with the scan's read-ahead, at most 3) plus a get per run still
//! active below it and adds nothing; after
//! runs finish and new ones start, it adds the new, updates the finished and duplicates none.
//! Against the LakeSail emulator over HTTP, counting the requests.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::prelude::SessionContext;
use jobsql_history::sync::SyncReport;

use super::common::history_dir;
use crate::support::history::{history_session, resource, sync_table};
use crate::support::lakesail::{Sail, SAIL_RUNS};
use crate::support::session::query;

const LISTING: &str = "/api/v1/me/jobs/runs";

async fn sync_sail(ctx: &SessionContext, dir: &std::path::Path) -> SyncReport {
    sync_table(ctx, dir, SAIL_RUNS, "sail").await
}

/// `(job_id, job_run_id, finished)` of every row, from `sql`.
async fn runs(ctx: &SessionContext, sql: &str) -> Vec<(String, String, bool)> {
    let batches = query(ctx, sql).await;
    let mut out = Vec::new();
    for b in &batches {
        let job = b.column(0).as_string::<i32>();
        let run = b.column(1).as_string::<i32>();
        for i in 0..b.num_rows() {
            out.push((
                job.value(i).to_string(),
                run.value(i).to_string(),
                !b.column(2).is_null(i),
            ));
        }
    }
    out.sort();
    out
}

/// The rows of the history table under `dir`, read back by jobsql's reader.
async fn history(dir: &std::path::Path) -> Vec<(String, String, bool)> {
    let ctx = history_session(dir, "lakesail", "jobs", "job_runs").await;
    runs(&ctx, "SELECT job_id, job_run_id, finished_at FROM h").await
}

const LIVE: &str = "SELECT job_id, job_run_id, finished_at FROM lakesail.jobs.job_runs";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lakesail_runs_sync_newest_first_down_to_the_mark_and_exactly_once() {
    let clock = jobsql_emulator::ManualClock::new(crate::support::emulator::NOW);
    let h = crate::support::lakesail::start(jobsql_emulator::lakesail::LakeSailConfig {
        runs: 3_000,
        clock: Some(Arc::new(clock.clone())),
        phase: std::time::Duration::from_secs(1),
        ..jobsql_emulator::lakesail::LakeSailConfig::default()
    })
    .await;
    assert_eq!(resource(SAIL_RUNS).provider, "lakesail");
    let ctx = crate::support::lakesail::sail_session(&h, None);
    let dir = history_dir("lakesail");
    // Two runs released to run (they move on with the clock), still active at the first sync.
    let api = Sail::new(&h);
    let job = h.jobs()[0].clone();
    let mut released = BTreeSet::new();
    for _ in 0..2 {
        let run = api.create(&job, None).await;
        let id = run["id"].as_str().expect("an id").to_string();
        let (status, body) = api.act(&job, &id, "ready", None).await;
        assert!(status < 300, "ready: {body}");
        released.insert(id);
    }

    h.clear_requests();
    let first = sync_sail(&ctx, &dir).await;
    let pages = h.requests().iter().filter(|r| r.path == LISTING).count();
    let live = runs(&ctx, LIVE).await;
    assert!(live.len() > 100, "more than a page: {}", live.len());
    assert_eq!(first.counts.new, live.len());
    let kept = history(&dir).await;
    assert_eq!(kept, live, "the history is the live listing");
    let active = live.iter().filter(|r| !r.2).count();
    assert!(active > 0, "some runs are still active");

    // Nothing new: the listing's first page only, a get per active run below it, nothing added.
    h.clear_requests();
    let second = sync_sail(&ctx, &dir).await;
    let requests = h.requests();
    let listings = requests.iter().filter(|r| r.path == LISTING).count();
    // The page with the mark, and what the scan had already read ahead when the sync stopped
    // reading (the listing streams: its next pages are requested while a page is consumed).
    assert!(
        listings <= 3,
        "the first page and the read-ahead: {requests:?}"
    );
    assert!(
        listings * 4 < pages,
        "{listings} pages of the {pages} of the first sync"
    );
    let gets = requests.iter().filter(|r| r.path != LISTING).count();
    assert!(
        gets <= active,
        "at most a get per active run: {gets} of {active}"
    );
    eprintln!("re-sync: {listings} listing pages (first sync: {pages}), {gets} gets");
    assert_eq!(second.counts.new, 0, "{:?}", second.counts);
    assert_eq!(history(&dir).await, live, "nothing duplicated");

    // Runs move on (the active ones end) and two new ones start.
    clock.advance(std::time::Duration::from_secs(3_600));
    let created: BTreeSet<String> = [api.create(&job, None).await, api.create(&job, None).await]
        .iter()
        .map(|r| r["id"].as_str().expect("an id").to_string())
        .collect();
    let third = sync_sail(&ctx, &dir).await;
    let now = runs(&ctx, LIVE).await;
    assert_eq!(third.counts.new, created.len(), "{:?}", third.counts);
    let finished = live
        .iter()
        .filter(|r| !r.2 && now.iter().any(|n| n.0 == r.0 && n.1 == r.1 && n.2))
        .count();
    assert!(
        finished >= released.len(),
        "the released runs finished: {finished}"
    );
    assert!(
        third.counts.updated >= finished,
        "{:?}: {finished} finished",
        third.counts
    );
    let kept = history(&dir).await;
    assert_eq!(
        kept, now,
        "the history is the live listing again, every run once"
    );
    let keys: BTreeSet<_> = kept.iter().map(|r| (&r.0, &r.1)).collect();
    assert_eq!(keys.len(), kept.len(), "no run twice");
}
