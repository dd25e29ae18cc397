//! Filters over the emulator's request log ([`RecordedRequest`]).

use jobsql_emulator::RecordedRequest;

/// Requests to an endpoint (path ends with `suffix`).
pub fn to<'a>(requests: &'a [RecordedRequest], suffix: &str) -> Vec<&'a RecordedRequest> {
    requests
        .iter()
        .filter(|r| r.path.ends_with(suffix))
        .collect()
}

/// Requests that change something (every POST).
pub fn mutations(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    requests.iter().filter(|r| r.method == "POST").collect()
}
