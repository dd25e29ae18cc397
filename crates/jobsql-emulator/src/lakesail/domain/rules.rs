//! The write rules and lookups of the job-runs endpoints, over the store:
//! - a job id that names no job is a 404, as is a run id that names no run or a run of
//!   another job;
//! - create adds a `pending` run of the job's current version (trigger `api`, attempt 1,
//!   `createdBy` the emulator's user); with an auto-dispatch delay it becomes `ready` that
//!   long after, else it waits for `ready`;
//! - ready releases a `pending` run (else 409); retry resets a `failed`, `timeout` or
//!   `cancelled` run in place (same id, `attempt` + 1, times cleared) to `ready`, or to
//!   `pending` with `hold` (a held run is never auto-dispatched) (else 409);
//! - delete removes a `succeeded`, `failed`, `cancelled` or `timeout` run (else 409).
//!
//! A run that is released or retried moves on the clock from then on (`lifecycle`).

use serde_json::{Map, Value};

use super::errors::ApiError;
use super::lifecycle::{self, view};
use crate::lakesail::state::model::{Job, Life, Run, Status, Trigger};
use crate::lakesail::state::store::Store;

/// The clock and knobs the rules read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    /// Now, epoch ms.
    pub now: i64,
    /// Time per life-cycle step, ms.
    pub phase_ms: i64,
    /// Auto-dispatch delay of created runs, ms.
    pub dispatch_ms: Option<i64>,
}

/// The job `job_id`, or a 404.
pub(crate) fn job<'a>(store: &'a Store, job_id: &str) -> Result<&'a Job, ApiError> {
    store
        .job(job_id)
        .ok_or_else(|| ApiError::not_found(format!("job {job_id} not found")))
}

/// The run `run_id` of job `job_id`, or a 404 (unknown job, unknown run, a run of another
/// job).
pub(crate) fn run<'a>(store: &'a Store, job_id: &str, run_id: &str) -> Result<&'a Run, ApiError> {
    job(store, job_id)?;
    store
        .run(run_id)
        .filter(|r| r.job_id == job_id)
        .ok_or_else(|| ApiError::not_found(format!("job run {run_id} of job {job_id} not found")))
}

/// Create a run of `job_id` with `parameters`; its id.
pub(crate) fn create(
    store: &mut Store,
    job_id: &str,
    parameters: Map<String, Value>,
    user: &str,
    t: Timing,
) -> Result<String, ApiError> {
    let job = job(store, job_id)?.clone();
    let id = store.new_run_id();
    let outcome = lifecycle::outcome(&parameters);
    store.insert(Run {
        id: id.clone(),
        job_id: job.id,
        job_key: job.key,
        version: job.version,
        trigger: Trigger::Api,
        parameters,
        created_ms: t.now,
        created_by: user.to_string(),
        attempt: 1,
        life: Life::Live {
            ready_ms: t.dispatch_ms.map(|d| t.now.saturating_add(d)),
            outcome,
        },
    });
    Ok(id)
}

/// The run, to change, after the lookup rules; and its status now.
fn target<'a>(
    store: &'a mut Store,
    job_id: &str,
    run_id: &str,
    t: Timing,
) -> Result<(&'a mut Run, Status), ApiError> {
    let status = view(run(store, job_id, run_id)?, t.now, t.phase_ms).status;
    let r = store
        .run_mut(run_id)
        .ok_or_else(|| ApiError::not_found(format!("job run {run_id} not found")))?;
    Ok((r, status))
}

/// Release a `pending` run.
pub(crate) fn ready(
    store: &mut Store,
    job_id: &str,
    run_id: &str,
    t: Timing,
) -> Result<(), ApiError> {
    let (r, status) = target(store, job_id, run_id, t)?;
    if status != Status::Pending {
        return Err(ApiError::conflict(format!(
            "job run {run_id} is {}: only a pending run can be released",
            status.as_str()
        )));
    }
    let outcome = if r.attempt == 1 {
        lifecycle::outcome(&r.parameters)
    } else {
        Status::Succeeded
    };
    r.life = Life::Live {
        ready_ms: Some(t.now),
        outcome,
    };
    Ok(())
}

/// Retry a `failed`, `timeout` or `cancelled` run, held `pending` or `ready`.
pub(crate) fn retry(
    store: &mut Store,
    job_id: &str,
    run_id: &str,
    hold: bool,
    t: Timing,
) -> Result<(), ApiError> {
    let (r, status) = target(store, job_id, run_id, t)?;
    if !matches!(status, Status::Failed | Status::Timeout | Status::Cancelled) {
        return Err(ApiError::conflict(format!(
            "job run {run_id} is {}: only a failed, timeout or cancelled run can be retried",
            status.as_str()
        )));
    }
    r.attempt += 1;
    r.life = Life::Live {
        ready_ms: (!hold).then_some(t.now),
        outcome: Status::Succeeded,
    };
    Ok(())
}

/// Delete an ended run.
pub(crate) fn delete(
    store: &mut Store,
    job_id: &str,
    run_id: &str,
    t: Timing,
) -> Result<(), ApiError> {
    let (_, status) = target(store, job_id, run_id, t)?;
    if !status.is_terminal() {
        return Err(ApiError::conflict(format!(
            "job run {run_id} is {}: only a succeeded, failed, cancelled or timeout run can be deleted",
            status.as_str()
        )));
    }
    store.remove(run_id);
    Ok(())
}
