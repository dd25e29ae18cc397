//! The JSON shapes of the Jobs API objects the emulator returns (Run, RunState, RunStatus,
//! RepairHistoryItem, ...), as serde structs. Field names follow the public API reference;
//! optional fields are skipped rather than sent as `null`, as the real service does.

use serde::Serialize;
use serde_json::Value;

use crate::state::data::{Life, Outcome};

/// `RunState` (deprecated in favour of `status`, still sent).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunState {
    pub life_cycle_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_state: Option<&'static str>,
    pub state_message: &'static str,
    pub user_cancelled_or_timedout: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_reason: Option<&'static str>,
}

/// `TerminationDetails`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Termination {
    pub code: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub message: &'static str,
}

/// `QueueDetails`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct QueueDetails {
    pub code: &'static str,
    pub message: &'static str,
}

/// `RunStatus`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunStatus {
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_details: Option<Termination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_details: Option<QueueDetails>,
}

const QUEUE_MESSAGE: &str = "Queued due to reaching maximum concurrent runs of 1.";

/// `state` and `status` of a life.
pub(crate) fn state_of(life: Life) -> (RunState, RunStatus) {
    let active = |lcs: &'static str, msg: &'static str| {
        (
            RunState {
                life_cycle_state: lcs,
                result_state: None,
                state_message: msg,
                user_cancelled_or_timedout: false,
                queue_reason: None,
            },
            RunStatus {
                state: lcs,
                termination_details: None,
                queue_details: None,
            },
        )
    };
    match life {
        Life::Queued => {
            let (mut s, mut st) = active("QUEUED", QUEUE_MESSAGE);
            s.queue_reason = Some(QUEUE_MESSAGE);
            st.queue_details = Some(QueueDetails {
                code: "MAX_CONCURRENT_RUNS_REACHED",
                message: QUEUE_MESSAGE,
            });
            (s, st)
        }
        Life::Pending => active("PENDING", "Waiting for cluster"),
        Life::Running => active("RUNNING", "In run"),
        Life::Blocked => active("BLOCKED", "Waiting for upstream tasks"),
        Life::Terminating => active("TERMINATING", "Cleaning up the cluster"),
        Life::Done(o) => done(o),
    }
}

fn done(o: Outcome) -> (RunState, RunStatus) {
    let (code, kind, message) = o.termination();
    (
        RunState {
            life_cycle_state: o.life_cycle_state(),
            result_state: Some(o.result_state()),
            state_message: o.state_message(),
            user_cancelled_or_timedout: o.user_cancelled_or_timedout(),
            queue_reason: None,
        },
        RunStatus {
            state: "TERMINATED",
            termination_details: Some(Termination {
                code,
                kind,
                message,
            }),
            queue_details: None,
        },
    )
}

/// `ClusterInstance`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ClusterInstance {
    pub cluster_id: String,
    pub spark_context_id: String,
}

/// `TriggerInfo`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TriggerInfo {
    pub run_id: i64,
}

/// `JobParameter` of a run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct JobParam {
    pub name: String,
    pub default: String,
    pub value: String,
}

/// `RepairHistoryItem`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RepairItem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub start_time: i64,
    pub end_time: i64,
    pub state: RunState,
    pub status: RunStatus,
    pub task_run_ids: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_performance_target: Option<&'static str>,
}

/// `Run`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
    pub run_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_run_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    pub number_in_job: i64,
    pub original_attempt_run_id: i64,
    pub attempt_number: i64,
    pub state: RunState,
    pub status: RunStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_spec: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_instance: Option<ClusterInstance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overriding_parameters: Option<Value>,
    pub start_time: i64,
    pub setup_duration: i64,
    pub execution_duration: i64,
    pub cleanup_duration: i64,
    pub end_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_duration: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_duration: Option<i64>,
    pub trigger: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_info: Option<TriggerInfo>,
    pub run_name: String,
    pub run_page_url: String,
    pub run_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_source: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_parameters: Option<Vec<JobParam>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_clusters: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repair_history: Option<Vec<RepairItem>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_performance_target: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_usage_policy_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}
