//! What a failed mutation may have done. A GET that fails changed nothing; a POST that fails
//! may have been done anyway — the server can do the work and then lose the answer (a 503
//! from a proxy, a connection closed, a timeout). [`ApiClient::send_mutation`](super::ApiClient::send_mutation)
//! keeps that knowledge across attempts so the write path can report such a call as
//! *unknown* instead of failed.

use super::ApiError;

/// A mutation that did not succeed, and whether it may have been done.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct MutationFailure {
    /// The last attempt's error (with the number of attempts).
    pub error: ApiError,
    /// `true` when some attempt may have reached the server and been done, and no later
    /// answer settled it: a 5xx, a connection lost after the request was sent, a timeout, or a
    /// 2xx whose body could not be read — and the last answer is not the API refusing the call
    /// (a 4xx other than 429).
    pub outcome_unknown: bool,
}

/// Whether a run of attempts leaves the outcome unknown: some attempt `may_have_been_done`
/// and the final error is not a refusal by the API (a 4xx other than 429, which answers for
/// the object's current state: "does not exist", "already terminated", ...).
pub fn outcome_unknown(may_have_been_done: bool, last: &ApiError) -> bool {
    let refused = matches!(last.status(), Some(400..=499) if last.status() != Some(429))
        || matches!(last, ApiError::InvalidRequest { .. });
    may_have_been_done && !refused
}
