//! Shared set-up: an emulator on 127.0.0.1:0 and a session pointed at it.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use jobsql::client::{ApiClient, RetryPolicy};
use jobsql::emulator::{start_local, EmulatorConfig, EmulatorHandle, RecordedRequest};
use jobsql::provider::ApiRuntime;
use jobsql::session::{new_context, run_sql, user_message};
use jobsql::spec::load_embedded;
use jobsql::workspace::{Workspace, WorkspaceResolver};

pub struct Env {
    pub emulator: EmulatorHandle,
    pub ctx: SessionContext,
}

pub async fn emulator(runs: usize, seed: u64) -> EmulatorHandle {
    start_local(EmulatorConfig {
        runs,
        seed,
        jobs: 8,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

/// A session whose default workspace is `emulator`, plus named workspaces.
pub fn session(default: &EmulatorHandle, named: &[(&str, &EmulatorHandle)]) -> SessionContext {
    let mut resolver = WorkspaceResolver::from_parts(HashMap::new(), None, None).with_default(
        Workspace::new("emu", &default.base_url(), default.token()).expect("workspace"),
    );
    for (name, handle) in named {
        resolver = resolver.with_named(
            Workspace::new(name, &handle.base_url(), handle.token()).expect("workspace"),
        );
    }
    let runtime = Arc::new(ApiRuntime::new(
        ApiClient::new(RetryPolicy::default()).expect("client"),
        resolver,
    ));
    new_context(&load_embedded().expect("specs"), runtime).expect("session")
}

pub async fn env(runs: usize) -> Env {
    let emulator = emulator(runs, 42).await;
    let ctx = session(&emulator, &[]);
    Env { emulator, ctx }
}

impl Env {
    /// Run SQL (the last statement's rows), with the requests it made.
    pub async fn query(&self, sql: &str) -> (Vec<RecordBatch>, Vec<RecordedRequest>) {
        self.emulator.clear_requests();
        let batches = query(&self.ctx, sql).await;
        (batches, self.emulator.requests())
    }

    pub async fn query_err(&self, sql: &str) -> String {
        match run_sql(&self.ctx, sql).await {
            Ok(_) => panic!("expected an error from {sql}"),
            Err(e) => user_message(&e),
        }
    }
}

pub async fn query(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    match run_sql(ctx, sql).await {
        Ok(mut results) => results.pop().expect("one statement").batches,
        Err(e) => panic!("{sql}: {}", user_message(&e)),
    }
}

/// The Int64 values of column `i`, in order.
pub fn ints(batches: &[RecordBatch], i: usize) -> Vec<Option<i64>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(i).as_primitive::<Int64Type>();
            (0..a.len())
                .map(|r| a.is_valid(r).then(|| a.value(r)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Strings of column `i` (any string type, cast if needed).
pub fn strings(batches: &[RecordBatch], i: usize) -> Vec<Option<String>> {
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::DataType;
    batches
        .iter()
        .flat_map(|b| {
            let a = cast(b.column(i), &DataType::Utf8).expect("castable to text");
            let a = a.as_string::<i32>();
            (0..a.len())
                .map(|r| a.is_valid(r).then(|| a.value(r).to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

pub fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

/// Requests to an endpoint (path ends with `suffix`).
pub fn to<'a>(requests: &'a [RecordedRequest], suffix: &str) -> Vec<&'a RecordedRequest> {
    requests
        .iter()
        .filter(|r| r.path.ends_with(suffix))
        .collect()
}

/// Every run of the emulator via the raw API (runs/list walked with page tokens).
pub async fn all_runs_raw(
    emulator: &EmulatorHandle,
    query: &[(&str, &str)],
) -> Vec<serde_json::Value> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut q: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        q.push(("limit".into(), "25".into()));
        if let Some(t) = &token {
            q.push(("page_token".into(), t.clone()));
        }
        let page: serde_json::Value = client
            .get(format!("{}/api/2.2/jobs/runs/list", emulator.base_url()))
            .bearer_auth(emulator.token())
            .query(&q)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        if let Some(runs) = page["runs"].as_array() {
            out.extend(runs.iter().cloned());
        }
        match page["next_page_token"].as_str() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return out,
        }
    }
}

/// splitmix64: a small deterministic generator, so a failure can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Equal sorted lists, or a failure naming the rows that differ (not the whole lists).
pub fn assert_same(got: &[(String, i64)], want: &[(String, i64)], what: &str) {
    let extra: Vec<_> = got.iter().filter(|p| !want.contains(p)).take(5).collect();
    let missing: Vec<_> = want.iter().filter(|p| !got.contains(p)).take(5).collect();
    assert!(
        got == want,
        "{what}: {} rows, want {}; extra {extra:?}, missing {missing:?}",
        got.len(),
        want.len()
    );
}

pub fn pairs(batches: &[datafusion::arrow::record_batch::RecordBatch]) -> Vec<(String, i64)> {
    strings(batches, 0)
        .into_iter()
        .zip(ints(batches, 1))
        .map(|(w, r)| (w.unwrap_or_default(), r.unwrap_or_default()))
        .collect()
}
