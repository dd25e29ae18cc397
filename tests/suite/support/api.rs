//! The emulator's API called directly over HTTP (reqwest), as the API reference describes it:
//! GET / POST with the bearer token, error-body checks, runs/list walked with page tokens, run
//! states, and polling a run until a state holds.

use std::time::Duration;

use jobsql_emulator::EmulatorHandle;
use serde_json::Value;

/// A reqwest client on one emulator, with its base URL and token.
pub struct Api {
    /// The HTTP client.
    pub client: reqwest::Client,
    /// The emulator's base URL.
    pub base: String,
    /// The emulator's token, sent as the bearer token.
    pub token: String,
}

impl Api {
    /// An API client on `h`.
    pub fn new(h: &EmulatorHandle) -> Api {
        Api {
            client: reqwest::Client::new(),
            base: h.base_url(),
            token: h.token().to_string(),
        }
    }

    /// GET `path` with `query`: the status and the JSON body.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .query(query)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.expect("json body"))
    }

    /// GET that must answer 200: the JSON body.
    pub async fn ok(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let (s, v) = self.get(path, query).await;
        assert_eq!(s, 200, "{path} {query:?}: {v}");
        v
    }

    /// POST `body` as JSON to `path`: the status and the JSON body.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.expect("json body"))
    }

    /// `method` (PATCH, PUT, ...) with `body` as JSON to `path`: the status and the JSON body.
    pub async fn send(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.expect("json body"))
    }

    /// POST that must answer 200: the JSON body.
    pub async fn post_ok(&self, path: &str, body: Value) -> Value {
        let (s, v) = self.post(path, body.clone()).await;
        assert_eq!(s, 200, "{path} {body}: {v}");
        v
    }

    /// GET runs/get for a run id.
    pub async fn run(&self, run_id: i64) -> Value {
        self.ok("/api/2.2/jobs/runs/get", &[("run_id", &run_id.to_string())])
            .await
    }
}

/// Assert a 400 INVALID_PARAMETER_VALUE (or `code`) whose message mentions `needle`.
pub fn assert_error(status: u16, body: &Value, want_status: u16, code: &str, needle: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error_code"], code, "{body}");
    let msg = body["message"].as_str().expect("message");
    assert!(
        msg.contains(needle),
        "message {msg:?} should mention {needle:?}"
    );
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(2),
        "only error_code and message: {body}"
    );
}

/// Every run matching `query`, walked with page tokens (limit 25).
pub async fn walk(api: &Api, query: &[(&str, &str)]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut q: Vec<(&str, &str)> = query.to_vec();
        q.push(("limit", "25"));
        if let Some(t) = &token {
            q.push(("page_token", t));
        }
        let page = api.ok("/api/2.2/jobs/runs/list", &q).await;
        let runs = page["runs"].as_array().cloned().unwrap_or_default();
        assert!(runs.len() <= 25);
        assert_eq!(
            page["has_more"],
            page.get("next_page_token").is_some(),
            "{}",
            page["has_more"]
        );
        out.extend(runs);
        match page["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => return out,
        }
    }
}

/// The `run_id` of each run.
pub fn ids(runs: &[Value]) -> Vec<i64> {
    runs.iter()
        .map(|r| r["run_id"].as_i64().expect("run_id"))
        .collect()
}

/// A run's `state.life_cycle_state` ("" when absent).
pub fn life(run: &Value) -> String {
    run["state"]["life_cycle_state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Whether a run's life-cycle state is an active one.
pub fn is_active(run: &Value) -> bool {
    matches!(
        life(run).as_str(),
        "QUEUED" | "PENDING" | "RUNNING" | "TERMINATING" | "BLOCKED"
    )
}

/// Poll runs/get until `pred` holds (or panic after `secs`): only for the wall clock (the
/// default of `jobsql emulator` and `--demo`); a clocked emulator is advanced instead.
pub async fn wait_for(api: &Api, run_id: i64, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let run = api.run(run_id).await;
        if pred(&run) {
            return run;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "run {run_id} never reached the state: {}",
            run["state"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every run of `emulator` matching `query`, via the raw API ([`walk`]).
pub async fn all_runs_raw(emulator: &EmulatorHandle, query: &[(&str, &str)]) -> Vec<Value> {
    walk(&Api::new(emulator), query).await
}
