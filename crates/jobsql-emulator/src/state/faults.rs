//! Faults injected *after* a request was processed: the handler ran and its change is kept
//! (the run is submitted, deleted, canceled, ...), but the client never sees the real answer.
//! This is what a lost response looks like to a client, and what its retry path must survive:
//! a retried `runs/submit` with the same `idempotency_token` must not create a second run, and
//! a retried `runs/delete` gets the answer the API gives for a run that is already gone.
//!
//! A fault is armed for requests whose path ends with a suffix (at a `/` boundary:
//! `runs/submit` matches `/api/2.2/jobs/runs/submit`, `delete` matches both deletes, `elete`
//! matches nothing) and fires on the next `times` such requests that the handler answered
//! with a 2xx; a request that failed changed nothing, so it keeps its real error and does not
//! use up the fault. The lost response is either a 503 `TEMPORARILY_UNAVAILABLE` or a
//! connection closed before any byte of the response; jobsql's client retries either only
//! for requests it knows to be safe to repeat, and reports the others' outcome as unknown.
//!
//! This module holds the armed faults and uses them up; the lost response itself is made by
//! the middleware (`routes::middleware`).

use std::str::FromStr;

use std::sync::Mutex;

/// How the response of a processed request is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostResponse {
    /// Answer 503 `TEMPORARILY_UNAVAILABLE` instead of the real response.
    Unavailable,
    /// Close the connection without sending any response (recorded with status 0).
    Dropped,
}

/// A fault armed for the requests whose path ends with `path_suffix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterCommitFault {
    /// Path suffix, matched at a `/` boundary (`runs/submit`, `jobs/runs/delete`, ...).
    pub path_suffix: String,
    /// How many successful responses to lose.
    pub times: u32,
    /// How they are lost.
    pub mode: LostResponse,
}

/// Why an `--fault-after-commit` / `--drop-after-commit` value is not `SUFFIX[:TIMES]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected PATH_SUFFIX[:TIMES] (e.g. runs/submit:2), got '{0}'")]
pub struct FaultSpecError(String);

impl FromStr for AfterCommitFault {
    type Err = FaultSpecError;

    /// `SUFFIX[:TIMES]` (TIMES defaults to 1), as a 503 fault.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || FaultSpecError(s.to_string());
        let (suffix, times) = match s.rsplit_once(':') {
            Some((suffix, n)) => (suffix, n.trim().parse::<u32>().map_err(|_| bad())?),
            None => (s, 1),
        };
        let suffix = suffix.trim().trim_start_matches('/');
        if suffix.is_empty() {
            return Err(bad());
        }
        Ok(AfterCommitFault {
            path_suffix: suffix.to_string(),
            times,
            mode: LostResponse::Unavailable,
        })
    }
}

/// Does `path` end with `suffix` at a `/` boundary?
fn matches(path: &str, suffix: &str) -> bool {
    let suffix = suffix.trim_start_matches('/');
    if suffix.is_empty() {
        return false;
    }
    match path.strip_suffix(suffix) {
        Some(rest) => rest.is_empty() || rest.ends_with('/'),
        None => false,
    }
}

/// Arm a fault (adds to any already armed).
pub(crate) fn arm(armed: &Mutex<Vec<AfterCommitFault>>, fault: AfterCommitFault) {
    if fault.times == 0 {
        return;
    }
    armed.lock().unwrap_or_else(|e| e.into_inner()).push(fault);
}

/// Arm `times` lost responses (`mode`) for the paths ending with `path_suffix` (what a
/// handle's `fail_after_commit` / `drop_after_commit` do).
pub(crate) fn arm_for(
    armed: &Mutex<Vec<AfterCommitFault>>,
    path_suffix: &str,
    times: u32,
    mode: LostResponse,
) {
    arm(
        armed,
        AfterCommitFault {
            path_suffix: path_suffix.to_string(),
            times,
            mode,
        },
    );
}

/// Use up one armed fault for a processed request to `path`, if any matches.
pub(crate) fn take(armed: &Mutex<Vec<AfterCommitFault>>, path: &str) -> Option<LostResponse> {
    let mut faults = armed.lock().unwrap_or_else(|e| e.into_inner());
    let k = faults.iter().position(|f| matches(path, &f.path_suffix))?;
    let mode = faults[k].mode;
    faults[k].times -= 1;
    if faults[k].times == 0 {
        faults.remove(k);
    }
    Some(mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_match_at_a_slash_boundary() {
        assert!(matches("/api/2.2/jobs/runs/submit", "runs/submit"));
        assert!(matches("/api/2.2/jobs/runs/submit", "/jobs/runs/submit"));
        assert!(matches("/api/2.2/jobs/runs/delete", "delete"));
        assert!(matches("/api/2.2/jobs/delete", "jobs/delete"));
        assert!(!matches("/api/2.2/jobs/runs/delete", "jobs/delete"));
        assert!(!matches("/api/2.2/jobs/runs/delete", "elete"));
        assert!(!matches("/api/2.2/jobs/runs/delete", ""));
    }

    #[test]
    fn specs_parse_with_a_default_of_one() {
        let f: AfterCommitFault = "runs/submit:3".parse().expect("valid");
        assert_eq!((f.path_suffix.as_str(), f.times), ("runs/submit", 3));
        let f: AfterCommitFault = "/runs/delete".parse().expect("valid");
        assert_eq!((f.path_suffix.as_str(), f.times), ("runs/delete", 1));
        assert_eq!(f.mode, LostResponse::Unavailable);
        for bad in ["", ":2", "runs/submit:x", "runs/submit:-1"] {
            assert!(bad.parse::<AfterCommitFault>().is_err(), "{bad}");
        }
    }
}
