//! The LakeSail emulator in-process on 127.0.0.1:0 and its API called directly (reqwest):
//! JSON requests with the bearer token, and marker walks of its lists.

use std::sync::Arc;
use std::time::Duration;

use jobsql_emulator::lakesail::{start_local, LakeSailConfig, LakeSailHandle};
use jobsql_emulator::ManualClock;
use serde_json::Value;

use super::emulator::NOW;

/// Start a LakeSail emulator with `config`.
pub async fn start(config: LakeSailConfig) -> LakeSailHandle {
    start_local(config)
        .await
        .expect("the LakeSail emulator starts")
}

/// A LakeSail emulator on a [`ManualClock`] standing at [`NOW`] whose released runs move one
/// step per `phase_ms` of it; and the clock.
pub async fn clocked(phase_ms: u64) -> (LakeSailHandle, ManualClock) {
    let clock = ManualClock::new(NOW);
    let h = start(LakeSailConfig {
        clock: Some(Arc::new(clock.clone())),
        phase: Duration::from_millis(phase_ms),
        ..LakeSailConfig::default()
    })
    .await;
    (h, clock)
}

/// A reqwest client on one LakeSail emulator.
pub struct Sail {
    /// The HTTP client.
    pub client: reqwest::Client,
    /// `http://127.0.0.1:PORT/api/v1`.
    pub base: String,
    /// The bearer token sent.
    pub token: String,
}

/// An answer: status and body (JSON, or `Null` when the body is empty).
pub type Answer = (u16, Value);

impl Sail {
    /// A client on `h`.
    pub fn new(h: &LakeSailHandle) -> Sail {
        Sail {
            client: reqwest::Client::new(),
            base: h.base_url(),
            token: h.token().to_string(),
        }
    }

    /// Send `method path?query` with `body` (raw text, sent as JSON) and the token.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .query(query);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        let bytes = r.bytes().await.expect("body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {bytes:?}"))
        };
        (status, value)
    }

    /// GET with `query`.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Answer {
        self.send("GET", path, query, None).await
    }

    /// GET that must answer 200.
    pub async fn ok(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let (s, v) = self.get(path, query).await;
        assert_eq!(s, 200, "GET {path} {query:?}: {v}");
        v
    }

    /// POST `body`.
    pub async fn post(&self, path: &str, body: Option<&str>) -> Answer {
        self.send("POST", path, &[], body).await
    }

    /// Create a run of `job` with `body`: it must answer 201; the run.
    pub async fn create(&self, job: &str, body: Option<&str>) -> Value {
        let (s, v) = self
            .post(&format!("/workloads/jobs/{job}/runs"), body)
            .await;
        assert_eq!(s, 201, "create: {v}");
        v
    }

    /// GET one run: the status and body.
    pub async fn run(&self, job: &str, run: &str) -> Answer {
        self.get(&format!("/workloads/jobs/{job}/runs/{run}"), &[])
            .await
    }

    /// POST `.../{run}/{action}` (`ready`, `retry`) with `body`.
    pub async fn act(&self, job: &str, run: &str, action: &str, body: Option<&str>) -> Answer {
        self.post(&format!("/workloads/jobs/{job}/runs/{run}/{action}"), body)
            .await
    }

    /// DELETE one run.
    pub async fn delete(&self, job: &str, run: &str) -> Answer {
        self.send(
            "DELETE",
            &format!("/workloads/jobs/{job}/runs/{run}"),
            &[],
            None,
        )
        .await
    }

    /// Every item of the list at `path`, walked page by page with `limit` (each page checked
    /// to hold at most `limit` items, 100 for 0); the pages' sizes.
    pub async fn walk(&self, path: &str, limit: usize) -> (Vec<Value>, Vec<usize>) {
        self.walk_with(path, limit, |_| async {}).await
    }

    /// As [`walk`](Self::walk), calling `between(page number)` after each page but the last.
    pub async fn walk_with<F, Fut>(
        &self,
        path: &str,
        limit: usize,
        mut between: F,
    ) -> (Vec<Value>, Vec<usize>)
    where
        F: FnMut(usize) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let mut items = Vec::new();
        let mut sizes = Vec::new();
        let mut marker: Option<String> = None;
        let limit_s = limit.to_string();
        loop {
            let mut q = vec![("limit", limit_s.as_str())];
            if let Some(m) = &marker {
                q.push(("marker", m.as_str()));
            }
            let page = self.ok(path, &q).await;
            let got = page["items"].as_array().expect("items").clone();
            let max = if limit == 0 { 100 } else { limit };
            assert!(got.len() <= max, "{} items on a page of {max}", got.len());
            sizes.push(got.len());
            items.extend(got);
            match page.get("marker") {
                None => return (items, sizes),
                Some(m) => {
                    let m = m.as_str().expect("a marker is a string").to_string();
                    assert!(sizes.len() < 10_000, "the walk does not end");
                    between(sizes.len()).await;
                    marker = Some(m);
                }
            }
        }
    }
}

/// The `id`s of `items`.
pub fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|r| r["id"].as_str().expect("an id").to_string())
        .collect()
}

/// A run's `status`.
pub fn status(run: &Value) -> &str {
    run["status"].as_str().expect("a status")
}

/// The statuses of an ended run.
pub const ENDED: [&str; 4] = ["succeeded", "failed", "cancelled", "timeout"];

/// `ms` as the emulator writes timestamps (RFC 3339 UTC, milliseconds).
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("in range")
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Every run of the emulator (walked).
pub async fn all_runs(api: &Sail) -> Vec<Value> {
    api.walk("/me/jobs/runs", 100).await.0
}

/// The first run in `status`, as `(jobId, id)`.
pub fn first_in(runs: &[Value], want: &str) -> (String, String) {
    let r = runs
        .iter()
        .find(|r| status(r) == want)
        .unwrap_or_else(|| panic!("a {want} run"));
    (
        r["jobId"].as_str().expect("jobId").into(),
        r["id"].as_str().expect("id").into(),
    )
}

/// Assert an error answer: its status, and a `message` mentioning `needle`.
pub fn assert_message(answer: &(u16, Value), want: u16, needle: &str) {
    assert_eq!(answer.0, want, "{}", answer.1);
    let message = answer.1["message"]
        .as_str()
        .unwrap_or_else(|| panic!("a message: {}", answer.1));
    assert!(
        message.contains(needle),
        "{message:?} should mention {needle:?}"
    );
}

/// The LakeSail job runs table, fully qualified.
pub const SAIL_RUNS: &str = "lakesail.jobs.job_runs";

/// A session over the built-in specs whose LakeSail endpoint is `sail` (named `sail`, the
/// default) and, when given, whose default Databricks workspace is `dbx` (named `emu`): each
/// provider with its own resolver and token.
pub fn sail_session(
    sail: &LakeSailHandle,
    dbx: Option<&jobsql_emulator::EmulatorHandle>,
) -> datafusion::prelude::SessionContext {
    use std::collections::HashMap;

    use jobsql_core::provider::ApiRuntime;
    use jobsql_core::spec::load_embedded;
    use jobsql_core::workspace::{Workspace, WorkspaceResolver, Workspaces};

    let specs = load_embedded().expect("specs");
    let endpoint = Workspace::new("sail", &sail.base_url(), sail.token()).expect("endpoint");
    let lakesail = WorkspaceResolver::from_parts_for(
        specs.providers["lakesail"].clone(),
        HashMap::new(),
        None,
        None,
    )
    .with_default(endpoint.clone())
    .with_named(endpoint);
    let mut databricks = WorkspaceResolver::from_parts(HashMap::new(), None, None);
    if let Some(dbx) = dbx {
        let ws = Workspace::new("emu", &dbx.base_url(), dbx.token()).expect("workspace");
        databricks = databricks.with_default(ws.clone()).with_named(ws);
    }
    let runtime = ApiRuntime::with_workspaces(
        super::client::fast(3),
        Workspaces::new([databricks, lakesail]),
    );
    jobsql_core::session::new_context(&specs, Arc::new(runtime)).expect("session")
}
