//! Job settings as the write endpoints take them: validating a `JobSettings` object
//! (`jobs/create`, `new_settings` of `jobs/reset` / `jobs/update`) into the parts a
//! [`JobDef`] holds, and the partial-update rules of `jobs/update`: top-level fields are replaced, except the
//! `tasks` and `job_clusters` arrays, whose entries are replaced or added by `task_key` /
//! `job_cluster_key`; `fields_to_remove` names top-level fields or `tasks/<key>` /
//! `job_clusters/<key>` entries. The full settings `jobs/update` starts from are rendered by
//! `render::jobs`.

use serde_json::{json, Map, Value};

use crate::state::data::{JobDef, TaskDef};

use super::errors::ApiError;
use super::params::body_int;
use super::runs::parse_tasks;

/// Validated settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub name: String,
    pub tasks: Vec<TaskDef>,
    pub job_clusters: Vec<Value>,
    pub parameters: Vec<(String, String)>,
    pub schedule: Option<Value>,
    pub git_source: Option<Value>,
    pub description: Option<String>,
    pub extra: Map<String, Value>,
    pub performance_target: Option<&'static str>,
    pub usage_policy_id: Option<String>,
}

/// Fields with a place of their own in [`JobDef`] (everything else goes to `extra`).
const TYPED: [&str; 10] = [
    "name",
    "tasks",
    "job_clusters",
    "parameters",
    "schedule",
    "git_source",
    "description",
    "access_control_list",
    "performance_target",
    "usage_policy_id",
];

fn job_clusters(value: Option<&Value>) -> Result<Vec<Value>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) => {
            let mut keys: Vec<&str> = Vec::new();
            for c in a {
                let key = c
                    .get("job_cluster_key")
                    .and_then(Value::as_str)
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| {
                        ApiError::invalid("Missing required field: job_clusters[].job_cluster_key")
                    })?;
                if keys.contains(&key) {
                    return Err(ApiError::invalid(format!(
                        "Duplicate job_cluster_key '{key}': job cluster keys must be unique"
                    )));
                }
                keys.push(key);
            }
            Ok(a.clone())
        }
        Some(_) => Err(ApiError::invalid(
            "Invalid value for field job_clusters: expected an array",
        )),
    }
}

fn parameters(value: Option<&Value>) -> Result<Vec<(String, String)>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|p| {
                let n = p
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty());
                let d = p.get("default").and_then(Value::as_str);
                match (n, d) {
                    (Some(n), Some(d)) => Ok((n.to_string(), d.to_string())),
                    _ => Err(ApiError::invalid(
                        "Each job parameter needs a name and a default",
                    )),
                }
            })
            .collect(),
        Some(_) => Err(ApiError::invalid(
            "Invalid value for field parameters: expected an array",
        )),
    }
}

fn schedule(value: Option<&Value>) -> Result<Option<Value>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(s) => {
            let cron = s.get("quartz_cron_expression").and_then(Value::as_str);
            let tz = s.get("timezone_id").and_then(Value::as_str);
            if cron.is_none() || tz.is_none() {
                return Err(ApiError::invalid(
                    "schedule needs quartz_cron_expression and timezone_id",
                ));
            }
            let mut s = s.clone();
            if let Some(o) = s.as_object_mut() {
                o.entry("pause_status").or_insert(json!("UNPAUSED"));
            }
            Ok(Some(s))
        }
    }
}

/// Validate a settings object.
pub(crate) fn parse(body: &Map<String, Value>) -> Result<Settings, ApiError> {
    let name = match body.get("name") {
        None | Some(Value::Null) => "Untitled".to_string(),
        Some(Value::String(s)) if s.len() <= 4096 => s.clone(),
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid value for field name: expected a string of at most 4096 bytes",
            ))
        }
    };
    let tasks = parse_tasks(body.get("tasks"), false)?;
    if let Some(n) = body_int(body, "max_concurrent_runs")? {
        if !(0..=1000).contains(&n) {
            return Err(ApiError::invalid(
                "max_concurrent_runs must be between 0 and 1000",
            ));
        }
    }
    let performance_target = match body.get("performance_target") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_str() {
            Some("STANDARD") => Some("STANDARD"),
            Some("PERFORMANCE_OPTIMIZED") => Some("PERFORMANCE_OPTIMIZED"),
            _ => {
                return Err(ApiError::invalid(format!(
                    "Invalid value for field performance_target: {v}. Expected one of STANDARD, PERFORMANCE_OPTIMIZED"
                )))
            }
        },
    };
    let mut extra = Map::new();
    for (k, v) in body {
        if !TYPED.contains(&k.as_str()) {
            extra.insert(k.clone(), v.clone());
        }
    }
    extra.entry("format").or_insert(json!("MULTI_TASK"));
    extra.entry("max_concurrent_runs").or_insert(json!(1));
    extra.entry("timeout_seconds").or_insert(json!(0));
    Ok(Settings {
        name,
        tasks,
        job_clusters: job_clusters(body.get("job_clusters"))?,
        parameters: parameters(body.get("parameters"))?,
        schedule: schedule(body.get("schedule"))?,
        git_source: body.get("git_source").filter(|v| !v.is_null()).cloned(),
        description: body
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string),
        extra,
        performance_target,
        usage_policy_id: body
            .get("usage_policy_id")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// Replace the settings of `job` (id, creator and creation time stay).
pub(crate) fn apply(job: &mut JobDef, s: Settings) {
    job.name = s.name;
    job.tasks = s.tasks;
    job.job_clusters = s.job_clusters;
    job.parameters = s.parameters;
    job.schedule = s.schedule;
    job.git_source = s.git_source;
    job.description = s.description;
    job.extra = s.extra;
    job.performance_target = s.performance_target;
    job.usage_policy_id = s.usage_policy_id;
}

/// The key field of the entries of a keyed array (`tasks`, `job_clusters`).
fn key_field(array: &str) -> Option<&'static str> {
    match array {
        "tasks" => Some("task_key"),
        "job_clusters" => Some("job_cluster_key"),
        _ => None,
    }
}

/// Apply `fields_to_remove` to `current`.
pub(crate) fn remove(current: &mut Map<String, Value>, fields: &[String]) {
    for field in fields {
        match field.split_once('/') {
            Some((array, key)) => {
                let Some(key_name) = key_field(array) else {
                    continue;
                };
                if let Some(Value::Array(items)) = current.get_mut(array) {
                    items.retain(|item| item.get(key_name).and_then(Value::as_str) != Some(key));
                }
            }
            None => {
                current.remove(field);
            }
        }
    }
}

/// Merge `new` into `current` the way `jobs/update` does. Entries of a keyed array must
/// each name their key, once.
pub(crate) fn merge(
    current: &mut Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<(), ApiError> {
    for (k, v) in new {
        let (Some(key_name), Value::Array(updates)) = (key_field(k), v) else {
            current.insert(k.clone(), v.clone());
            continue;
        };
        let mut seen: Vec<&str> = Vec::new();
        for u in updates {
            let key = u
                .get(key_name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    ApiError::invalid(format!("Missing required field: {k}[].{key_name}"))
                })?;
            if seen.contains(&key) {
                return Err(ApiError::invalid(format!(
                    "Duplicate {key_name} '{key}': keys must be unique"
                )));
            }
            seen.push(key);
        }
        match current.get_mut(k) {
            Some(Value::Array(items)) => {
                for u in updates {
                    let key = u.get(key_name);
                    match items.iter_mut().find(|item| item.get(key_name) == key) {
                        Some(item) => *item = u.clone(),
                        None => items.push(u.clone()),
                    }
                }
            }
            _ => {
                current.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(())
}
