//! Deterministic data: everything about the generated history is a pure function of
//! `(seed, run index)` or `(seed, job index)`, computed on demand with a splitmix64 hash. Nothing
//! per run is stored except the small indexes in [`super::store`], which is how a million-run
//! history starts in well under a second and a few megabytes.
//!
//! Run `i` (0 = oldest) starts at `t0 + i * spacing + jitter(i)` with `t0 = now - 60 days`, so
//! start_time grows with the index and a time range is an index range found by binary search.
//! Run ids grow with the index too: `run_base + i * RUN_STRIDE + jitter`; the ids just above a
//! run's id (up to `MAX_TASK_OFFSET`) are its task runs, so a task run id maps back to its job
//! run in O(1).

use serde_json::{Map, Value};

/// Gap between the run ids of consecutive runs; task run ids live in the gap.
pub(crate) const RUN_STRIDE: i64 = 1000;
/// Run ids are `base + i * RUN_STRIDE + jitter`, jitter below this.
pub(crate) const RUN_JITTER: u64 = 100;
/// Largest task-run offset above its job run's id (original tasks plus repaired ones).
pub(crate) const MAX_TASK_OFFSET: i64 = RUN_STRIDE - RUN_JITTER as i64 - 1;
/// History spread: the last 60 days (runs older than that are gone in a real workspace).
pub(crate) const HISTORY_MS: i64 = 60 * 24 * 3600 * 1000;
/// Tasks of the big job (more than one 100-element page).
pub(crate) const BIG_TASKS: usize = 130;
/// Repairs of the heavily repaired run (its repair_history has more than 100 entries).
pub(crate) const HEAVY_REPAIRS: usize = 104;

/// splitmix64 finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of `(seed, index, salt)`: the only source of randomness.
pub(crate) fn h(seed: u64, i: u64, salt: u64) -> u64 {
    mix(seed ^ mix(i.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ mix(salt)))
}

/// `h` reduced to `0..n`.
pub(crate) fn pick(seed: u64, i: u64, salt: u64, n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        h(seed, i, salt) % n
    }
}

/// `run_type` of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum RunType {
    Job,
    Workflow,
    Submit,
}

impl RunType {
    pub const ALL: [RunType; 3] = [RunType::Job, RunType::Workflow, RunType::Submit];

    pub fn as_str(self) -> &'static str {
        match self {
            RunType::Job => "JOB_RUN",
            RunType::Workflow => "WORKFLOW_RUN",
            RunType::Submit => "SUBMIT_RUN",
        }
    }

    pub fn parse(s: &str) -> Option<RunType> {
        RunType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn slot(self) -> usize {
        self as usize
    }
}

/// How a finished run (or task run) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Failed,
    Canceled,
    TimedOut,
    InternalError,
    Skipped,
    SuccessWithFailures,
    UpstreamFailed,
    UpstreamCanceled,
}

impl Outcome {
    pub fn life_cycle_state(self) -> &'static str {
        match self {
            Outcome::InternalError => "INTERNAL_ERROR",
            Outcome::Skipped | Outcome::UpstreamFailed | Outcome::UpstreamCanceled => "SKIPPED",
            _ => "TERMINATED",
        }
    }

    pub fn result_state(self) -> &'static str {
        match self {
            Outcome::Success => "SUCCESS",
            Outcome::Failed | Outcome::InternalError => "FAILED",
            Outcome::Canceled => "CANCELED",
            Outcome::TimedOut => "TIMEDOUT",
            Outcome::Skipped => "MAXIMUM_CONCURRENT_RUNS_REACHED",
            Outcome::SuccessWithFailures => "SUCCESS_WITH_FAILURES",
            Outcome::UpstreamFailed => "UPSTREAM_FAILED",
            Outcome::UpstreamCanceled => "UPSTREAM_CANCELED",
        }
    }

    /// `(termination code, termination type, message)`.
    pub fn termination(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Outcome::Success => ("SUCCESS", "SUCCESS", ""),
            Outcome::Failed => (
                "RUN_EXECUTION_ERROR",
                "CLIENT_ERROR",
                "Workload failed, see run output for details",
            ),
            Outcome::Canceled => ("USER_CANCELED", "SUCCESS", "Run was canceled by the user"),
            Outcome::TimedOut => (
                "CANCELED",
                "CLIENT_ERROR",
                "Run timed out: the maximum run duration was exceeded",
            ),
            Outcome::InternalError => (
                "DRIVER_ERROR",
                "INTERNAL_ERROR",
                "The Spark driver failed to start or became unresponsive",
            ),
            Outcome::Skipped => (
                "MAX_CONCURRENT_RUNS_EXCEEDED",
                "CLIENT_ERROR",
                "Skipping this run because the limit of 1 maximum concurrent runs has been reached",
            ),
            Outcome::SuccessWithFailures => (
                "SUCCESS_WITH_FAILURES",
                "SUCCESS",
                "The run succeeded but some of its tasks failed",
            ),
            Outcome::UpstreamFailed => ("SKIPPED", "CLIENT_ERROR", "An upstream task failed"),
            Outcome::UpstreamCanceled => ("SKIPPED", "SUCCESS", "An upstream task was canceled"),
        }
    }

    pub fn state_message(self) -> &'static str {
        match self {
            Outcome::Success | Outcome::SuccessWithFailures => "",
            Outcome::Failed => {
                "Task failed with message: workload failed, see run output for details."
            }
            Outcome::Canceled => "Run cancelled.",
            Outcome::TimedOut => "Run timed out.",
            Outcome::InternalError => "Could not reach driver of cluster.",
            Outcome::Skipped => {
                "Skipping this run because the limit of 1 maximum concurrent runs has been reached."
            }
            Outcome::UpstreamFailed => "Upstream task failed.",
            Outcome::UpstreamCanceled => "Upstream task was canceled.",
        }
    }

    pub fn user_cancelled_or_timedout(self) -> bool {
        matches!(self, Outcome::Canceled | Outcome::TimedOut)
    }

    /// Did this end badly enough that `rerun_all_failed_tasks` reruns it?
    pub fn is_failure(self) -> bool {
        !matches!(self, Outcome::Success | Outcome::SuccessWithFailures)
    }
}

/// The life-cycle position of a run, repair or task run at some instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Life {
    Queued,
    Pending,
    Running,
    /// A task waiting for its dependencies.
    Blocked,
    /// Tasks done, the cluster being cleaned up.
    Terminating,
    Done(Outcome),
}

impl Life {
    pub fn is_active(self) -> bool {
        !matches!(self, Life::Done(_))
    }
}

/// Users who create jobs and runs.
pub(crate) const USERS: [&str; 6] = [
    "alice@example.com",
    "bob@example.com",
    "carol@example.com",
    "dmitri@example.com",
    "etl-service-principal@example.com",
    "fatima@example.com",
];

/// What a task runs (the task-type key in its settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TaskKind {
    Notebook,
    Python,
    Sql,
    Jar,
    Other,
}

/// One task of a job or of a submitted run.
#[derive(Clone, Debug)]
pub(crate) struct TaskDef {
    pub key: String,
    /// The task's settings as the API shows them (task type, cluster, depends_on, ...).
    pub spec: Map<String, Value>,
    pub kind: TaskKind,
    /// Indexes of the tasks this one depends on.
    pub deps: Vec<usize>,
    /// Submitted/created tasks whose key contains "fail" end FAILED (a test knob).
    pub fails: bool,
}

impl TaskDef {
    /// Build from an API task object (jobs/create, runs/submit).
    pub fn from_api(obj: &Map<String, Value>, keys: &[String]) -> TaskDef {
        let key = obj
            .get("task_key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kind = if obj.contains_key("notebook_task") {
            TaskKind::Notebook
        } else if obj.contains_key("spark_python_task") {
            TaskKind::Python
        } else if obj.contains_key("sql_task") {
            TaskKind::Sql
        } else if obj.contains_key("spark_jar_task") {
            TaskKind::Jar
        } else {
            TaskKind::Other
        };
        let deps = obj
            .get("depends_on")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|d| d.get("task_key").and_then(Value::as_str))
                    .filter_map(|k| keys.iter().position(|x| x == k))
                    .collect()
            })
            .unwrap_or_default();
        TaskDef {
            fails: key.to_ascii_lowercase().contains("fail"),
            key,
            spec: obj.clone(),
            kind,
            deps,
        }
    }
}

/// A job definition (generated or created through jobs/create).
#[derive(Clone, Debug)]
pub(crate) struct JobDef {
    pub job_id: i64,
    pub name: String,
    pub creator: String,
    pub created_time: i64,
    pub tasks: Vec<TaskDef>,
    pub job_clusters: Vec<Value>,
    /// `(name, default)`.
    pub parameters: Vec<(String, String)>,
    pub schedule: Option<Value>,
    pub git_source: Option<Value>,
    pub description: Option<String>,
    /// Other settings shown by jobs/get (timeout_seconds, max_concurrent_runs, tags, ...).
    pub extra: Map<String, Value>,
    pub performance_target: Option<&'static str>,
    pub usage_policy_id: Option<String>,
}
