//! A run's status at a time. A generated run stands as recorded. A live run (created,
//! released or retried through the API) is `pending` until its `ready_ms` (none: until
//! released with `ready`), then moves one step per phase: `ready` → `starting` →
//! `creating_sail` → `waiting_for_sail` → `creating_runner` → `running` → its outcome
//! (`succeeded`, or what the `outcome` parameter of its first attempt asked for). `startedAt`
//! is when it entered `starting`, `finishedAt` when it ended; both null until then.

use crate::lakesail::state::model::{Life, Run, Status};

/// The steps from `ready` to the last one before the outcome.
const STEPS: [Status; 6] = [
    Status::Ready,
    Status::Starting,
    Status::CreatingSail,
    Status::WaitingForSail,
    Status::CreatingRunner,
    Status::Running,
];

/// A run's status and times at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct View {
    pub status: Status,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
}

/// The status of `run` at `now_ms`, with steps of `phase_ms`.
pub(crate) fn view(run: &Run, now_ms: i64, phase_ms: i64) -> View {
    match &run.life {
        Life::Recorded {
            status,
            started_ms,
            finished_ms,
        } => View {
            status: *status,
            started_ms: *started_ms,
            finished_ms: *finished_ms,
        },
        Life::Live { ready_ms, outcome } => match ready_ms {
            Some(ready) if now_ms >= *ready => {
                let step = ((now_ms - ready) / phase_ms.max(1)) as usize;
                let started = ready + phase_ms;
                let finished = ready + phase_ms * STEPS.len() as i64;
                match STEPS.get(step) {
                    Some(s) => View {
                        status: *s,
                        started_ms: (step >= 1).then_some(started),
                        finished_ms: None,
                    },
                    None => View {
                        status: *outcome,
                        started_ms: Some(started),
                        finished_ms: Some(finished),
                    },
                }
            }
            _ => View {
                status: Status::Pending,
                started_ms: None,
                finished_ms: None,
            },
        },
    }
}

/// The `statusMessage` of a run in `status`.
pub(crate) fn message(status: Status) -> &'static str {
    match status {
        Status::Pending => "Waiting to be released",
        Status::Ready => "Ready to be placed on a node",
        Status::Starting => "Creating the pod",
        Status::CreatingSail => "Deploying Sail",
        Status::WaitingForSail => "Waiting for Sail to be ready",
        Status::CreatingRunner => "Starting the runner",
        Status::Running => "Running",
        Status::Succeeded => "Run succeeded",
        Status::Failed => "Run failed: the job exited with code 1",
        Status::Cancelled => "Run cancelled",
        Status::Timeout => "Run exceeded the job's timeout",
    }
}

/// The outcome a new first attempt ends with: the `outcome` parameter when it names a
/// terminal status, else `succeeded`.
pub(crate) fn outcome(parameters: &serde_json::Map<String, serde_json::Value>) -> Status {
    parameters
        .get("outcome")
        .and_then(|v| v.as_str())
        .and_then(Status::parse)
        .filter(|s| s.is_terminal())
        .unwrap_or(Status::Succeeded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lakesail::state::model::Trigger;

    fn live(ready_ms: Option<i64>, outcome: Status) -> Run {
        Run {
            id: "R1".into(),
            job_id: "J1".into(),
            job_key: "k".into(),
            version: 1,
            trigger: Trigger::Api,
            parameters: Default::default(),
            created_ms: 0,
            created_by: "u".into(),
            attempt: 1,
            life: Life::Live { ready_ms, outcome },
        }
    }

    #[test]
    fn a_live_run_moves_one_step_per_phase_and_ends_with_its_outcome() {
        let r = live(Some(1_000), Status::Failed);
        assert_eq!(view(&r, 999, 10).status, Status::Pending);
        let seen: Vec<Status> = (0..8)
            .map(|k| view(&r, 1_000 + k * 10, 10).status)
            .collect();
        assert_eq!(&seen[..6], &STEPS);
        assert_eq!(seen[6], Status::Failed);
        assert_eq!(view(&r, 1_015, 10).started_ms, Some(1_010));
        assert_eq!(view(&r, 1_005, 10).started_ms, None);
        assert_eq!(view(&r, 5_000, 10).finished_ms, Some(1_060));
        assert_eq!(
            view(&live(None, Status::Succeeded), i64::MAX, 10).status,
            Status::Pending
        );
    }
}
