//! The LakeSail emulator's data: [`Job`], [`Run`], the run [`Status`] and [`Trigger`], and a
//! run's [`Life`]: either recorded (a generated history run, which stands still) or live (a
//! run created, released or retried through the API, whose status follows the clock; the
//! rules are in `domain::lifecycle`).

use serde_json::{Map, Value};

/// A job run's status, in life-cycle order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Accepted, waiting to be released (or dispatched by the scheduler).
    Pending,
    /// Released, waiting to be placed on a node.
    Ready,
    /// The pod is being created.
    Starting,
    /// Sail is being deployed.
    CreatingSail,
    /// Waiting for Sail to come up.
    WaitingForSail,
    /// The runner pod is starting.
    CreatingRunner,
    /// The job's code is running.
    Running,
    /// Ended well.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Cancelled.
    Cancelled,
    /// Ran past the job's timeout.
    Timeout,
}

impl Status {
    /// Every status, in life-cycle order (terminal ones last).
    pub const ALL: [Status; 11] = [
        Status::Pending,
        Status::Ready,
        Status::Starting,
        Status::CreatingSail,
        Status::WaitingForSail,
        Status::CreatingRunner,
        Status::Running,
        Status::Succeeded,
        Status::Failed,
        Status::Cancelled,
        Status::Timeout,
    ];

    /// The API's name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Ready => "ready",
            Status::Starting => "starting",
            Status::CreatingSail => "creating_sail",
            Status::WaitingForSail => "waiting_for_sail",
            Status::CreatingRunner => "creating_runner",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::Timeout => "timeout",
        }
    }

    /// The status named `s`, if any.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Has the run ended (`succeeded`, `failed`, `cancelled`, `timeout`)?
    pub fn is_terminal(self) -> bool {
        self >= Status::Succeeded
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The job's schedule.
    Schedule,
    /// A user, in the UI.
    Manual,
    /// A call of the API.
    Api,
}

impl Trigger {
    /// The API's name of the trigger.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
            Trigger::Api => "api",
        }
    }
}

/// A job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub id: String,
    pub key: String,
    pub version: i64,
    /// `active` or `paused`.
    pub status: &'static str,
    pub description: String,
    pub created_ms: i64,
}

/// How a run's status is known.
#[derive(Debug, Clone)]
pub(crate) enum Life {
    /// As generated: stands still.
    Recorded {
        status: Status,
        started_ms: Option<i64>,
        finished_ms: Option<i64>,
    },
    /// Moving on the clock: `pending` until `ready_ms` (none: until released), then one
    /// step per phase from `ready` to `outcome`.
    Live {
        ready_ms: Option<i64>,
        outcome: Status,
    },
}

/// A job run.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub id: String,
    pub job_id: String,
    pub job_key: String,
    pub version: i64,
    pub trigger: Trigger,
    pub parameters: Map<String, Value>,
    pub created_ms: i64,
    pub created_by: String,
    pub attempt: i64,
    pub life: Life,
}
