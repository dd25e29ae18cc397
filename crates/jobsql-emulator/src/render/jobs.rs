//! A job as the API's `Job` object: its `settings` with the lists (tasks, job clusters,
//! environments, parameters) paged [`LIST_PAGE`] at a time, or whole (API 2.1 and 2.0, and
//! [`full`], which `jobs/update` starts from).

use serde_json::{json, Map, Value};

use crate::state::data::JobDef;

use super::LIST_PAGE;

/// The `settings` object of a job; lists paged from `page` (None = leave them out).
pub(crate) fn settings(job: &JobDef, page: Option<usize>, more: &mut bool) -> Value {
    let mut s = Map::new();
    s.insert("name".into(), json!(job.name));
    if let Some(d) = &job.description {
        s.insert("description".into(), json!(d));
    }
    for (k, v) in &job.extra {
        // environments is one of the arrays paged below.
        if !(page.is_some() && k == "environments") {
            s.insert(k.clone(), v.clone());
        }
    }
    if let Some(v) = &job.schedule {
        s.insert("schedule".into(), v.clone());
    }
    if let Some(v) = &job.git_source {
        s.insert("git_source".into(), v.clone());
    }
    if let Some(t) = job.performance_target {
        s.insert("performance_target".into(), json!(t));
    }
    if let Some(p) = &job.usage_policy_id {
        s.insert("usage_policy_id".into(), json!(p));
    }
    if let Some(page) = page {
        let from = page.saturating_mul(LIST_PAGE);
        let mut put = |key: &str, items: Vec<Value>| {
            *more |= items.len() > from.saturating_add(LIST_PAGE);
            let part: Vec<Value> = items.into_iter().skip(from).take(LIST_PAGE).collect();
            if !part.is_empty() {
                s.insert(key.into(), Value::Array(part));
            }
        };
        put(
            "tasks",
            job.tasks
                .iter()
                .map(|t| Value::Object(t.spec.clone()))
                .collect(),
        );
        put("job_clusters", job.job_clusters.clone());
        let environments = match job.extra.get("environments") {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        put("environments", environments);
        put(
            "parameters",
            job.parameters
                .iter()
                .map(|(n, d)| json!({"name": n, "default": d}))
                .collect(),
        );
    }
    Value::Object(s)
}

pub(crate) fn job_json(job: &JobDef, page: Option<usize>, more: &mut bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("job_id".into(), json!(job.job_id));
    m.insert("creator_user_name".into(), json!(job.creator));
    m.insert("run_as_user_name".into(), json!(run_as(job)));
    m.insert("settings".into(), settings(job, page, more));
    m.insert("created_time".into(), json!(job.created_time));
    if let Some(state) = trigger_state(job) {
        m.insert("trigger_state".into(), state);
    }
    m
}

/// Who the job runs as: its `run_as` user or service principal, else its creator.
fn run_as(job: &JobDef) -> &str {
    let run_as = job.extra.get("run_as");
    ["user_name", "service_principal_name"]
        .iter()
        .find_map(|k| run_as?.get(*k)?.as_str())
        .unwrap_or(&job.creator)
}

/// The state of a file arrival or table update trigger (`trigger_state`).
fn trigger_state(job: &JobDef) -> Option<Value> {
    let trigger = job.extra.get("trigger")?;
    if trigger.get("file_arrival").is_some() {
        return Some(json!({"file_arrival": {"using_file_events": true}}));
    }
    let tables = trigger
        .get("table_update")?
        .get("table_names")?
        .as_array()?;
    let states: Vec<Value> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"table_name": t, "last_seen_version": 40 + i as i64 * 7}))
        .collect();
    Some(json!({"table": {"last_seen_table_states": states, "using_scalable_monitoring": false}}))
}

/// A job with all its settings, lists whole (API 2.1 and 2.0).
pub(crate) fn job_json_whole(job: &JobDef) -> Map<String, Value> {
    let mut m = job_json(job, None, &mut false);
    m.insert("settings".into(), Value::Object(full(job)));
    m
}

/// Every setting of `job` as one object (lists whole, not paged).
pub(crate) fn full(job: &JobDef) -> Map<String, Value> {
    let mut s = match settings(job, None, &mut false) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if !job.tasks.is_empty() {
        let tasks = job.tasks.iter().map(|t| Value::Object(t.spec.clone()));
        s.insert("tasks".into(), Value::Array(tasks.collect()));
    }
    if !job.job_clusters.is_empty() {
        s.insert(
            "job_clusters".into(),
            Value::Array(job.job_clusters.clone()),
        );
    }
    if !job.parameters.is_empty() {
        let params = job
            .parameters
            .iter()
            .map(|(n, d)| json!({"name": n, "default": d}));
        s.insert("parameters".into(), Value::Array(params.collect()));
    }
    s
}
