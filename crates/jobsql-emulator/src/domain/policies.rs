//! Cluster policies and the policy compliance of jobs (Policy compliance for jobs API).
//!
//! The workspace has two policies, each limiting `num_workers`; the generated jobs' job
//! clusters name one of them in `new_cluster.policy_id`, and a cluster with more workers than
//! its policy allows is a violation (the policy "changed after the job was last edited").
//! A violation's key is the setting's path prefixed by its cluster (`job_clusters[key].` or
//! `tasks[key].`), as the API's are. Enforcing lowers `num_workers` to the policy's maximum,
//! the change reported as text (`previous_value`, `new_value`).

use serde_json::{json, Map, Value};

use crate::state::data::JobDef;

/// A cluster policy: its id, name and the most workers it allows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub id: &'static str,
    pub name: &'static str,
    pub max_workers: i64,
}

/// The workspace's cluster policies.
pub(crate) const POLICIES: [Policy; 2] = [
    Policy {
        id: "D0C0A1B2C3D4E5F6",
        name: "Small jobs",
        max_workers: 4,
    },
    Policy {
        id: "E1F2A3B4C5D6E7F8",
        name: "Standard jobs",
        max_workers: 8,
    },
];

/// The policy of `id`.
pub(crate) fn policy(id: &str) -> Option<Policy> {
    POLICIES.iter().copied().find(|p| p.id == id)
}

/// One cluster setting out of compliance.
#[derive(Debug, Clone)]
pub(crate) struct Violation {
    /// `job_clusters[etl].new_cluster.num_workers`.
    pub field: String,
    pub message: String,
    pub current: i64,
    pub allowed: i64,
}

/// Each `new_cluster` of `job` (job clusters, then tasks') with the prefix of its keys.
fn clusters(job: &JobDef) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for c in &job.job_clusters {
        if let (Some(key), Some(cluster)) = (
            c.get("job_cluster_key").and_then(Value::as_str),
            c.get("new_cluster"),
        ) {
            out.push((format!("job_clusters[{key}]"), cluster));
        }
    }
    for t in &job.tasks {
        if let Some(cluster) = t.spec.get("new_cluster") {
            out.push((format!("tasks[{}]", t.key), cluster));
        }
    }
    out
}

/// Whether `job` uses the policy `id` in any of its clusters.
pub(crate) fn uses(job: &JobDef, id: &str) -> bool {
    clusters(job)
        .iter()
        .any(|(_, c)| c.get("policy_id").and_then(Value::as_str) == Some(id))
}

/// The violations of `job` (at most 200, as the API reports).
pub(crate) fn violations(job: &JobDef) -> Vec<Violation> {
    let mut out = Vec::new();
    for (prefix, cluster) in clusters(job) {
        let Some(p) = cluster
            .get("policy_id")
            .and_then(Value::as_str)
            .and_then(policy)
        else {
            continue;
        };
        let workers = cluster.get("num_workers").and_then(Value::as_i64);
        if let Some(n) = workers.filter(|n| *n > p.max_workers) {
            out.push(Violation {
                field: format!("{prefix}.new_cluster.num_workers"),
                message: format!(
                    "Value {n} is greater than the maximum of {} allowed by policy {} ({})",
                    p.max_workers, p.name, p.id
                ),
                current: n,
                allowed: p.max_workers,
            });
        }
    }
    out.truncate(200);
    out
}

/// A job's compliance as get-compliance and list-compliance show it (with `job_id` for the
/// list).
pub(crate) fn compliance(job: &JobDef, with_id: bool) -> Value {
    let found = violations(job);
    let mut m = Map::new();
    if with_id {
        m.insert("job_id".into(), json!(job.job_id));
    }
    m.insert("is_compliant".into(), json!(found.is_empty()));
    if !found.is_empty() {
        let v: Map<String, Value> = found
            .into_iter()
            .map(|v| (v.field, Value::String(v.message)))
            .collect();
        m.insert("violations".into(), Value::Object(v));
    }
    Value::Object(m)
}

/// Bring `job`'s clusters into compliance: each violating `num_workers` lowered to its
/// policy's maximum. Returns the changes (`field`, `previous_value`, `new_value`).
pub(crate) fn enforce(job: &mut JobDef) -> Vec<Value> {
    let found = violations(job);
    let lower = |cluster: &mut Value, allowed: i64| {
        if let Some(c) = cluster.as_object_mut() {
            c.insert("num_workers".into(), json!(allowed));
        }
    };
    for v in &found {
        for c in job.job_clusters.iter_mut() {
            let key = c.get("job_cluster_key").and_then(Value::as_str);
            if key.is_some_and(|k| v.field.starts_with(&format!("job_clusters[{k}]."))) {
                if let Some(cluster) = c.get_mut("new_cluster") {
                    lower(cluster, v.allowed);
                }
            }
        }
        for t in job.tasks.iter_mut() {
            if v.field.starts_with(&format!("tasks[{}].", t.key)) {
                if let Some(cluster) = t.spec.get_mut("new_cluster") {
                    lower(cluster, v.allowed);
                }
            }
        }
    }
    found
        .into_iter()
        .map(|v| {
            json!({
                "field": v.field,
                "previous_value": v.current.to_string(),
                "new_value": v.allowed.to_string(),
            })
        })
        .collect()
}
