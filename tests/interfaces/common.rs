//! Shared set-up: an emulator on 127.0.0.1:0, and helpers over its request log.

use std::time::Duration;

use jobsql::emulator::{start_local, EmulatorConfig, EmulatorHandle, RecordedRequest};

/// An emulator with a small deterministic history.
pub async fn emulator() -> EmulatorHandle {
    emulator_with_latency(Duration::ZERO).await
}

/// The same, answering every request after `latency`.
pub async fn emulator_with_latency(latency: Duration) -> EmulatorHandle {
    start_local(EmulatorConfig {
        runs: 300,
        jobs: 8,
        seed: 42,
        latency,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

/// Requests to an endpoint (path ends with `suffix`).
pub fn to<'a>(requests: &'a [RecordedRequest], suffix: &str) -> Vec<&'a RecordedRequest> {
    requests
        .iter()
        .filter(|r| r.path.ends_with(suffix))
        .collect()
}
