//! Emulator benchmark: start time, resident memory and runs/list latency of a
//! 1,000,000-run emulator, next to a 1,000-run baseline in the same process.
//!
//! `cargo run --release --example emulator_bench [RUNS] [REQUESTS]`

use std::time::{Duration, Instant};

use jobsql_emulator::{start_local, EmulatorConfig, EmulatorHandle};
use serde_json::Value;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

struct Bench {
    client: reqwest::Client,
    handle: EmulatorHandle,
}

impl Bench {
    async fn page(&self, query: &[(&str, String)]) -> (Duration, Value) {
        let t = Instant::now();
        let r = self
            .client
            .get(format!("{}/api/2.2/jobs/runs/list", self.handle.base_url()))
            .bearer_auth(self.handle.token())
            .query(query)
            .send()
            .await
            .expect("request");
        assert!(r.status().is_success(), "{}", r.status());
        let v: Value = r.json().await.expect("json");
        (t.elapsed(), v)
    }

    /// Latencies of `n` requests of the same query.
    async fn repeat(&self, query: &[(&str, String)], n: usize) -> Vec<Duration> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.page(query).await.0);
        }
        out
    }

    /// Latencies of `n` consecutive next-page requests from `first`, starting over from
    /// `first` when the pages run out (as they do in the small baseline).
    async fn walk(
        &self,
        base: &[(&str, String)],
        first: Option<String>,
        n: usize,
    ) -> Vec<Duration> {
        let mut out = Vec::with_capacity(n);
        let mut token = first.clone();
        for _ in 0..n {
            let mut q = base.to_vec();
            if let Some(t) = &token {
                q.push(("page_token", t.clone()));
            }
            let (d, v) = self.page(&q).await;
            out.push(d);
            token = v["next_page_token"].as_str().map(str::to_string);
            if token.is_none() {
                token = first.clone();
            }
        }
        out
    }
}

fn stats(mut v: Vec<Duration>) -> (f64, f64, usize) {
    v.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let n = v.len();
    if n == 0 {
        return (0.0, 0.0, 0);
    }
    (us(v[n / 2]), us(v[((n * 99) / 100).min(n - 1)]), n)
}

async fn measure(
    runs: usize,
    requests: usize,
) -> (Duration, u64, Vec<(&'static str, (f64, f64, usize))>) {
    let before = rss_kib();
    let t = Instant::now();
    let handle = start_local(EmulatorConfig {
        runs,
        jobs: 20,
        ..EmulatorConfig::default()
    })
    .await
    .expect("start");
    let started = t.elapsed();
    let grew = rss_kib().saturating_sub(before);
    let b = Bench {
        client: reqwest::Client::new(),
        handle,
    };
    let lim = ("limit", "25".to_string());
    // Warm up the connection.
    b.repeat(std::slice::from_ref(&lim), 20).await;
    let mut rows = Vec::new();
    rows.push((
        "first page (limit 25)",
        stats(b.repeat(std::slice::from_ref(&lim), requests).await),
    ));
    // Deep pages: jump to the middle with offset, then follow next_page_token.
    let (_, mid) = b
        .page(&[lim.clone(), ("offset", (runs / 2).to_string())])
        .await;
    let token = mid["next_page_token"].as_str().map(str::to_string);
    rows.push((
        "deep pages via page_token",
        stats(b.walk(std::slice::from_ref(&lim), token, requests).await),
    ));
    let job = b.handle.notable().job_ids[3].to_string();
    let by_job = [lim.clone(), ("job_id", job)];
    rows.push((
        "job_id filter, walking pages",
        stats(b.walk(&by_job, None, requests).await),
    ));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let from = now - 31 * 86_400_000;
    let range = [
        lim.clone(),
        ("start_time_from", from.to_string()),
        ("start_time_to", (from + 86_400_000).to_string()),
    ];
    rows.push((
        "start_time 1-day range, walking",
        stats(b.walk(&range, None, requests).await),
    ));
    rows.push((
        "completed_only + run_type",
        stats(
            b.walk(
                &[
                    lim.clone(),
                    ("completed_only", "true".into()),
                    ("run_type", "SUBMIT_RUN".into()),
                ],
                None,
                requests,
            )
            .await,
        ),
    ));
    rows.push((
        "active_only",
        stats(
            b.repeat(&[lim.clone(), ("active_only", "true".into())], requests)
                .await,
        ),
    ));
    rows.push((
        "expand_tasks first page",
        stats(
            b.repeat(&[lim, ("expand_tasks", "true".into())], requests)
                .await,
        ),
    ));
    b.handle.shutdown().await;
    (started, grew, rows)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let requests: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(300);
    let (base_start, base_rss, base_rows) = measure(1_000, requests).await;
    let (start, rss, rows) = measure(runs, requests).await;
    println!("emulator benchmark: {runs} runs vs a 1000-run baseline, {requests} requests per row (client-side latency, localhost, keep-alive)\n");
    println!(
        "{:<34} {:>14} {:>14}",
        "",
        "1000 runs",
        format!("{runs} runs")
    );
    println!(
        "{:<34} {:>11.1} ms {:>11.1} ms",
        "start time",
        base_start.as_secs_f64() * 1e3,
        start.as_secs_f64() * 1e3
    );
    println!(
        "{:<34} {:>10.1} MiB {:>10.1} MiB",
        "resident memory added (VmRSS)",
        base_rss as f64 / 1024.0,
        rss as f64 / 1024.0
    );
    println!(
        "{:<34} {:>14} MiB",
        "process VmRSS at the end",
        rss_kib() / 1024
    );
    println!();
    println!(
        "{:<34} {:>21} {:>21}",
        "runs/list latency, µs", "median / p99 (n)", "median / p99 (n)"
    );
    for ((name, b), (_, s)) in base_rows.iter().zip(rows.iter()) {
        println!(
            "{:<34} {:>7.0} / {:>6.0} ({:>3}) {:>7.0} / {:>6.0} ({:>3})",
            name, b.0, b.1, b.2, s.0, s.1, s.2
        );
    }
}
