//! The request floor: the least a client can do to get the same data — one reqwest client
//! (keep-alive), sequential requests, each body parsed into a minimal struct (`run_id` and
//! `state`; serde still scans every other field) and dropped. It runs as a child process of
//! the benchmark (`bench floor ...`), so it is timed and measured exactly like `jobsql query`,
//! process start included.

use std::time::Duration;

use serde::Deserialize;

use super::error::BenchError;

/// What the floor fetches.
#[derive(Debug, Clone, clap::Args)]
pub struct FloorArgs {
    /// Base URL of the workspace (the emulator).
    #[arg(long)]
    pub base_url: String,
    /// Bearer token.
    #[arg(long)]
    pub token: String,
    /// runs/list page size.
    #[arg(long, default_value_t = 25)]
    pub limit: u32,
    /// Stop after this many pages (default: all).
    #[arg(long)]
    pub max_pages: Option<usize>,
    /// Instead of listing, one runs/get per id, in turn (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub get: Vec<i64>,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    runs: Vec<Run>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct Run {
    run_id: i64,
    #[allow(dead_code)]
    state: Option<State>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct State {
    life_cycle_state: Option<String>,
    result_state: Option<String>,
    queue_reason: Option<String>,
    state_message: Option<String>,
    user_cancelled_or_timedout: Option<bool>,
}

/// Totals of a floor run.
#[derive(Debug, Default)]
pub struct FloorTotals {
    /// Runs received.
    pub rows: usize,
    /// Requests made.
    pub requests: usize,
    /// Run ids received (only kept when asked).
    pub ids: Vec<i64>,
}

/// The floor as a child process: fetch, then print `rows N requests M`.
pub fn run_child(args: &FloorArgs) -> Result<(), BenchError> {
    let totals = block_on(fetch(args, false))?;
    println!("rows {} requests {}", totals.rows, totals.requests);
    Ok(())
}

/// The ids of the first `n` (≤ 25) runs of the listing, fetched in this process.
pub fn first_ids(base_url: &str, token: &str, n: u32) -> Result<Vec<i64>, BenchError> {
    let args = FloorArgs {
        base_url: base_url.to_string(),
        token: token.to_string(),
        limit: n,
        max_pages: Some(1),
        get: Vec::new(),
    };
    Ok(block_on(fetch(&args, true))?.ids)
}

fn block_on<F: std::future::Future<Output = Result<FloorTotals, BenchError>>>(
    f: F,
) -> Result<FloorTotals, BenchError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Runtime)?
        .block_on(f)
}

async fn fetch(args: &FloorArgs, keep_ids: bool) -> Result<FloorTotals, BenchError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| BenchError::Http {
            url: args.base_url.clone(),
            message: e.to_string(),
        })?;
    let mut totals = FloorTotals::default();
    if !args.get.is_empty() {
        let url = format!("{}/api/2.2/jobs/runs/get", args.base_url);
        for id in &args.get {
            let run: Run =
                get_json(&client, &url, &args.token, &[("run_id", id.to_string())]).await?;
            totals.requests += 1;
            totals.rows += 1;
            if keep_ids {
                totals.ids.push(run.run_id);
            }
        }
        return Ok(totals);
    }
    let url = format!("{}/api/2.2/jobs/runs/list", args.base_url);
    let mut token: Option<String> = None;
    loop {
        let mut query = vec![("limit", args.limit.to_string())];
        if let Some(t) = token.take() {
            query.push(("page_token", t));
        }
        let page: Page = get_json(&client, &url, &args.token, &query).await?;
        totals.requests += 1;
        totals.rows += page.runs.len();
        if keep_ids {
            totals.ids.extend(page.runs.iter().map(|r| r.run_id));
        }
        token = page.next_page_token;
        let capped = args.max_pages.is_some_and(|m| totals.requests >= m);
        if token.is_none() || capped {
            return Ok(totals);
        }
    }
}

/// GET `url` with `query` and the bearer token: the body as `T` (an error on a non-2xx status).
pub async fn get_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &[(&str, String)],
) -> Result<T, BenchError> {
    let http = |message: String| BenchError::Http {
        url: url.to_string(),
        message,
    };
    let response = client
        .get(url)
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .map_err(|e| http(e.to_string()))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| http(e.to_string()))?;
    if !status.is_success() {
        return Err(http(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(300)
                .collect::<String>()
        )));
    }
    serde_json::from_slice(&body).map_err(|e| http(format!("bad JSON: {e}")))
}
