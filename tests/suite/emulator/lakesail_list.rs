//! The LakeSail emulator's lists over real HTTP: `limit` 0 / 100 / 7 / 101, marker walks that
//! return every run exactly once newest first (also while runs are created and deleted
//! between pages), every status present with times that follow it, the jobs list, and a
//! history that is a function of the seed.

use std::collections::BTreeSet;
use std::sync::Arc;

use jobsql_emulator::lakesail::LakeSailConfig;
use jobsql_emulator::ManualClock;
use serde_json::Value;

use super::common::NOW;
use crate::support::lakesail::{ids, start, status, Sail};

const MINE: &str = "/me/jobs/runs";
const DAY_MS: i64 = 24 * 3600 * 1000;

/// An emulator of `seed` whose "now" is [`NOW`], standing still.
async fn fixed(seed: u64) -> (jobsql_emulator::lakesail::LakeSailHandle, ManualClock) {
    let clock = ManualClock::new(NOW);
    let h = start(LakeSailConfig {
        seed,
        clock: Some(Arc::new(clock.clone())),
        ..LakeSailConfig::default()
    })
    .await;
    (h, clock)
}

fn ms(ts: &Value) -> i64 {
    let s = ts.as_str().unwrap_or_else(|| panic!("a timestamp: {ts}"));
    assert!(s.ends_with('Z'), "UTC: {s}");
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s} is not RFC 3339: {e}"))
        .timestamp_millis()
}

/// `(createdAt, id)` of each run: strictly decreasing when listed newest first.
fn assert_newest_first(runs: &[Value]) {
    let keys: Vec<(i64, String)> = runs
        .iter()
        .map(|r| {
            (
                ms(&r["createdAt"]),
                r["id"].as_str().expect("id").to_string(),
            )
        })
        .collect();
    for w in keys.windows(2) {
        assert!(w[0] > w[1], "not newest first: {:?} then {:?}", w[0], w[1]);
    }
}

#[tokio::test]
async fn lakesail_limit_0_and_absent_mean_100_7_gives_7_and_101_is_a_400() {
    let (h, _clock) = fixed(42).await;
    let api = Sail::new(&h);
    for q in [&[("limit", "0")][..], &[][..], &[("limit", "100")][..]] {
        let page = api.ok(MINE, q).await;
        assert_eq!(page["items"].as_array().expect("items").len(), 100, "{q:?}");
        assert!(page["marker"].is_string(), "more pages follow: {q:?}");
    }
    let seven = api.ok(MINE, &[("limit", "7")]).await;
    assert_eq!(seven["items"].as_array().expect("items").len(), 7);
    let hundred = api.ok(MINE, &[("limit", "100")]).await;
    assert_eq!(
        ids(seven["items"].as_array().expect("items")),
        ids(&hundred["items"].as_array().expect("items")[..7])
    );
    let job = &h.jobs()[0];
    let per_job = api
        .ok(&format!("/workloads/jobs/{job}/runs"), &[("limit", "7")])
        .await;
    assert_eq!(per_job["items"].as_array().expect("items").len(), 7);
    for (q, needle) in [
        (("limit", "101"), "limit"),
        (("limit", "-1"), "limit"),
        (("limit", "ten"), "limit"),
        (("marker", "not a marker!"), "marker"),
        (("marker", "QUJD"), "marker"),
        (("page", "2"), "page"),
    ] {
        for path in [
            MINE.to_string(),
            format!("/workloads/jobs/{job}/runs"),
            "/workloads/jobs".to_string(),
        ] {
            let (s, body) = api.get(&path, &[q]).await;
            assert_eq!(s, 400, "{path} {q:?}: {body}");
            let message = body["message"].as_str().expect("a message");
            assert!(message.contains(needle), "{message}");
        }
    }
    // The request record: method, path (with /api/v1), query, the token's presence, status.
    let last = h.requests().pop().expect("recorded");
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("GET", "/api/v1/workloads/jobs")
    );
    assert_eq!(last.param("page"), Some("2"));
    assert!(last.authorization);
    assert_eq!(last.status, 400);
    let first = &h.requests()[0];
    assert_eq!(
        (first.path.as_str(), first.query.as_slice()),
        (
            "/api/v1/me/jobs/runs",
            &[("limit".to_string(), "0".to_string())][..]
        )
    );
    h.shutdown().await;
}

#[tokio::test]
async fn lakesail_a_marker_walk_returns_every_run_once_newest_first() {
    let (h, _clock) = fixed(42).await;
    let api = Sail::new(&h);
    let total = h.run_count();
    assert_eq!(total, 700);
    let (all, sizes) = api.walk(MINE, 100).await;
    assert_eq!(
        sizes,
        vec![100; 7],
        "full pages, and no marker after the last"
    );
    let (small, small_sizes) = api.walk(MINE, 7).await;
    assert_eq!(small_sizes.len(), 100);
    assert_eq!(
        ids(&all),
        ids(&small),
        "the same runs in the same order, whatever the page"
    );
    let unique: BTreeSet<String> = ids(&all).into_iter().collect();
    assert_eq!(unique.len(), total, "no run twice");
    assert_newest_first(&all);
    // Per job: each job's walk is its runs, in the same order; together they are every run.
    let mut union = BTreeSet::new();
    let mut counts = Vec::new();
    for job in h.jobs() {
        let (runs, sizes) = api.walk(&format!("/workloads/jobs/{job}/runs"), 0).await;
        assert!(runs.iter().all(|r| r["jobId"] == job.as_str()), "{job}");
        assert_newest_first(&runs);
        let want: Vec<String> = ids(&all)
            .into_iter()
            .zip(&all)
            .filter(|(_, r)| r["jobId"] == job.as_str())
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids(&runs), want, "{job}: {sizes:?}");
        counts.push(runs.len());
        union.extend(ids(&runs));
    }
    assert_eq!(union, unique);
    assert!(
        counts[0] >= 300,
        "the first job has several hundred runs: {counts:?}"
    );
    assert!(counts[0] > 3 * 100, "several pages at 100: {counts:?}");
    assert!(counts.iter().all(|&c| c > 0), "{counts:?}");
    // The walk sent the markers it was given, one page after the other.
    let walked: Vec<_> = h
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/me/jobs/runs" && r.param("limit") == Some("100"))
        .collect();
    assert_eq!(walked.len(), 7);
    assert!(walked[0].param("marker").is_none());
    assert!(walked[1..].iter().all(|r| r.param("marker").is_some()));
    h.shutdown().await;
}

#[tokio::test]
async fn lakesail_a_walk_has_no_duplicate_or_gap_while_runs_are_created_and_deleted() {
    let (h, clock) = fixed(42).await;
    let api = Sail::new(&h);
    let job = h.jobs()[0].clone();
    let path = format!("/workloads/jobs/{job}/runs");
    let (before, _) = api.walk(&path, 50).await;
    // The job's runs, as the merged list at 100 a page has them: each once.
    let (mine, _) = api.walk(MINE, 100).await;
    let theirs: Vec<Value> = mine
        .into_iter()
        .filter(|r| r["jobId"] == job.as_str())
        .collect();
    assert_eq!(ids(&before), ids(&theirs));
    let unique: BTreeSet<String> = ids(&before).into_iter().collect();
    assert_eq!(unique.len(), before.len(), "no run twice");
    let created = std::cell::RefCell::new(Vec::new());
    let deleted = std::cell::RefCell::new(None);
    // An ended run of the first page, deleted once that page was returned.
    let ended = before[..50]
        .iter()
        .find(|r| ["succeeded", "failed", "cancelled", "timeout"].contains(&status(r)))
        .expect("an ended run on the first page");
    let first_returned = ended["id"].as_str().expect("id").to_string();
    let (during, sizes) = api
        .walk_with(&path, 50, |page| {
            let (api, job, clock, created, deleted) = (&api, &job, &clock, &created, &deleted);
            let first_returned = first_returned.clone();
            async move {
                // New runs between pages, at the same instant and later.
                let id = api.create(job, None).await["id"]
                    .as_str()
                    .expect("id")
                    .to_string();
                created.borrow_mut().push(id);
                clock.advance(std::time::Duration::from_secs(1));
                let id = api.create(job, None).await["id"]
                    .as_str()
                    .expect("id")
                    .to_string();
                created.borrow_mut().push(id);
                // A run already returned goes away.
                if page == 1 {
                    let (s, _) = api.delete(job, &first_returned).await;
                    assert_eq!(s, 204);
                    *deleted.borrow_mut() = Some(first_returned);
                }
            }
        })
        .await;
    let (created, deleted) = (created.into_inner(), deleted.into_inner());
    assert!(sizes.len() > 6, "{sizes:?}");
    assert_eq!(
        ids(&during),
        ids(&before),
        "the walk is the runs that were there, each once"
    );
    let (after, _) = api.walk(&path, 50).await;
    let newest: BTreeSet<String> = ids(&after[..created.len()]).into_iter().collect();
    assert_eq!(
        newest,
        created.iter().cloned().collect(),
        "the created runs list first"
    );
    assert!(deleted.is_some());
    let want = before.len() + created.len() - 1;
    assert_eq!(after.len(), want);
    h.shutdown().await;
}

#[tokio::test]
async fn lakesail_every_status_is_present_and_times_follow_the_status() {
    let (h, _clock) = fixed(42).await;
    let api = Sail::new(&h);
    let (all, _) = api.walk(MINE, 100).await;
    let statuses: BTreeSet<&str> = all.iter().map(status).collect();
    let want: BTreeSet<&str> = [
        "pending",
        "ready",
        "starting",
        "creating_sail",
        "waiting_for_sail",
        "creating_runner",
        "running",
        "succeeded",
        "failed",
        "cancelled",
        "timeout",
    ]
    .into();
    assert_eq!(statuses, want);
    let fields: BTreeSet<&str> = [
        "id",
        "jobId",
        "jobKey",
        "version",
        "status",
        "statusMessage",
        "trigger",
        "parameters",
        "createdAt",
        "startedAt",
        "finishedAt",
        "createdBy",
        "attempt",
    ]
    .into();
    for r in &all {
        let keys: BTreeSet<&str> = r
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, fields, "{r}");
        let id = r["id"].as_str().expect("id");
        assert!(
            id.len() == 10
                && id
                    .bytes()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
            "{id}"
        );
        let created = ms(&r["createdAt"]);
        assert!((NOW - 60 * DAY_MS..=NOW).contains(&created), "{r}");
        let started = (!r["startedAt"].is_null()).then(|| ms(&r["startedAt"]));
        let finished = (!r["finishedAt"].is_null()).then(|| ms(&r["finishedAt"]));
        match status(r) {
            "pending" | "ready" => assert!(started.is_none() && finished.is_none(), "{r}"),
            "starting" | "creating_sail" | "waiting_for_sail" | "creating_runner" | "running" => {
                assert!(started.is_some() && finished.is_none(), "{r}")
            }
            "cancelled" => assert!(finished.is_some(), "{r}"),
            _ => assert!(started.is_some() && finished.is_some(), "{r}"),
        }
        if let Some(s) = started {
            assert!(s >= created && s <= NOW, "{r}");
        }
        if let (Some(s), Some(f)) = (started, finished) {
            assert!(f >= s && f <= NOW, "{r}");
        }
        assert!(["schedule", "manual", "api"].contains(&r["trigger"].as_str().expect("trigger")));
        assert!(r["version"].as_i64().expect("version") >= 1);
        assert!(r["attempt"].as_i64().expect("attempt") >= 1);
        assert!(
            r["parameters"].is_object()
                && r["statusMessage"].is_string()
                && r["createdBy"].is_string()
        );
    }
    // Spread over the 60 days, newest first.
    assert!(ms(&all[0]["createdAt"]) > NOW - DAY_MS);
    assert!(ms(&all[all.len() - 1]["createdAt"]) < NOW - 55 * DAY_MS);
    h.shutdown().await;
}

#[tokio::test]
async fn lakesail_the_history_is_a_function_of_the_seed() {
    let (a, _ca) = fixed(7).await;
    let (b, _cb) = fixed(7).await;
    let (c, _cc) = fixed(8).await;
    let (ra, rb, rc) = (Sail::new(&a), Sail::new(&b), Sail::new(&c));
    let (all_a, _) = ra.walk(MINE, 100).await;
    let (all_b, _) = rb.walk(MINE, 100).await;
    assert_eq!(all_a, all_b, "same seed, same runs");
    assert_eq!(
        ra.ok("/workloads/jobs", &[]).await,
        rb.ok("/workloads/jobs", &[]).await
    );
    assert_eq!(a.jobs(), b.jobs());
    let (all_c, _) = rc.walk(MINE, 100).await;
    assert_ne!(ids(&all_a), ids(&all_c), "another seed, other runs");
    assert_ne!(a.jobs(), c.jobs());
    for h in [a, b, c] {
        h.shutdown().await;
    }
}

#[tokio::test]
async fn lakesail_jobs_are_listed_newest_first_and_paged() {
    let (h, _clock) = fixed(42).await;
    let api = Sail::new(&h);
    let all = api.ok("/workloads/jobs", &[]).await;
    assert!(all.get("marker").is_none(), "one page: {all}");
    let jobs = all["items"].as_array().expect("items").clone();
    assert_eq!(jobs.len(), 6);
    let listed: BTreeSet<String> = ids(&jobs).into_iter().collect();
    assert_eq!(listed, h.jobs().into_iter().collect());
    assert_newest_first(&jobs);
    let fields: BTreeSet<&str> = [
        "id",
        "jobKey",
        "version",
        "status",
        "description",
        "createdAt",
    ]
    .into();
    for j in &jobs {
        let keys: BTreeSet<&str> = j
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, fields, "{j}");
        assert!(["active", "paused"].contains(&j["status"].as_str().expect("status")));
    }
    assert!(jobs.iter().any(|j| j["status"] == "paused"));
    let (paged, sizes) = api.walk("/workloads/jobs", 4).await;
    assert_eq!(sizes, vec![4, 2]);
    assert_eq!(paged, jobs);
    // Each job's runs carry its key and a version no later than the job's.
    let job = &jobs[0];
    let id = job["id"].as_str().expect("id");
    let runs = api
        .ok(&format!("/workloads/jobs/{id}/runs"), &[("limit", "5")])
        .await;
    for r in runs["items"].as_array().expect("items") {
        assert_eq!(r["jobKey"], job["jobKey"]);
        assert!(r["version"].as_i64() <= job["version"].as_i64());
    }
    h.shutdown().await;
}
