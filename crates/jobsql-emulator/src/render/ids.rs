//! The identifiers and links a rendered run and its task runs share: the workspace id, a task
//! run's id, its cluster and Spark context ids, whether it ran on classic compute, and the
//! run page URL. Pure functions of the store and the segment.

use serde_json::{Map, Value};

use crate::domain::lifecycle::Segment;
use crate::domain::params::fingerprint;
use crate::state::data::mix;
use crate::state::store::Store;

/// The workspace id shown in run page URLs.
pub(crate) fn workspace_id(seed: u64) -> u64 {
    1_000_000_000_000_000 + mix(seed ^ 0x0a11) % 1_000_000_000_000_000
}

/// The cluster id a task ran on: its existing cluster, or a generated one (tasks sharing a
/// job cluster share it).
pub(crate) fn cluster_id(store: &Store, i: u32, spec: &Map<String, Value>, start: i64) -> String {
    if let Some(id) = spec.get("existing_cluster_id").and_then(Value::as_str) {
        return id.to_string();
    }
    // Tasks sharing a job cluster share its instance.
    let salt = spec
        .get("job_cluster_key")
        .or_else(|| spec.get("task_key"))
        .and_then(Value::as_str)
        .map_or(0, |k| fingerprint(&k) as u32);
    let secs = start / 1000;
    format!(
        "{:02}{:02}-{:06}-{:08x}",
        1 + (secs / 2_592_000) % 12,
        1 + (secs / 86_400) % 28,
        secs % 1_000_000,
        store.hist.rand(i, 40) as u32 ^ salt
    )
}

/// The Spark context id of run `i` (`salt`: the task's position).
pub(crate) fn context_id(store: &Store, i: u32, salt: u64) -> String {
    (store.hist.rand(i, 41 + salt) % 9_000_000_000_000_000_000 + 1_000_000_000_000_000_000)
        .to_string()
}

/// Does a task run on classic compute (and so have a cluster instance)?
pub(crate) fn classic(spec: &Map<String, Value>) -> bool {
    spec.contains_key("existing_cluster_id")
        || spec.contains_key("new_cluster")
        || spec.contains_key("job_cluster_key")
}

/// Task run id of position `p` in segment `seg`.
pub(crate) fn task_run_id(base: i64, seg: &Segment, p: usize) -> i64 {
    base + seg.first_offset + p as i64
}

/// The run page URL of a job run or one-time run.
pub(crate) fn page_url(base: &str, ws: u64, job_id: Option<i64>, run_id: i64) -> String {
    match job_id {
        Some(j) => format!("{base}/?o={ws}#job/{j}/run/{run_id}"),
        None => format!("{base}/?o={ws}#run/{run_id}"),
    }
}
