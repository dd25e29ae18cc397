//! The write endpoints for runs: `runs/submit` (validated body, idempotency tokens),
//! `runs/delete`, `runs/cancel`, `runs/cancel-all` and `runs/repair`. Their effects are
//! overlays on the store, visible at once through the read endpoints.
//!
//! As the API does: canceling a run that already ended is a success that changes nothing;
//! `cancel-all` with `all_queued_runs` cancels the QUEUED runs of every job (of `job_id`'s
//! job only when both are given) and leaves running ones alone; deleting or canceling a run
//! that does not exist (or was deleted) is 400 "Run N does not exist."; deleting an active
//! run is refused. `runs/repair` needs exactly one of `rerun_tasks` / `rerun_all_failed_tasks`,
//! a terminated run, and — once a run has been repaired — the `latest_repair_id` ("The
//! latest repair ID needs to be provided in order to create a new repair", the service's
//! message); the other repair messages are the emulator's own wording.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::domain::errors::{ApiError, ApiResult};
use crate::domain::lifecycle::{
    current_life, downstream, has_room, repair_id, segments, task_life, task_owners,
};
use crate::domain::params::{body_bool, body_int, body_object};
use crate::domain::runs::{cancel_index, check_idempotency, parse_tasks};
use crate::state::app::App;
use crate::state::data::{Life, RunType, USERS};
use crate::state::store::{CreatedRun, RuntimeRepair};

/// Task-type keys of the 2.0 single-task form of runs/submit.
const LEGACY_TASK_KEYS: [&str; 6] = [
    "notebook_task",
    "spark_jar_task",
    "spark_python_task",
    "spark_submit_task",
    "pipeline_task",
    "run_job_task",
];

/// `POST runs/submit`.
pub(crate) async fn submit(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let mut body = body_object(&body)?;
    let (token, existing) = check_idempotency(&app, &body)?;
    if let Some(i) = existing {
        return Ok(Json(json!({"run_id": app.read().hist.run_id(i)})).into_response());
    }
    if !body.contains_key("tasks") {
        if let Some(k) = LEGACY_TASK_KEYS.iter().find(|k| body.contains_key(**k)) {
            let mut task = Map::new();
            task.insert(
                "task_key".into(),
                json!(body
                    .get("run_name")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .unwrap_or("task")),
            );
            for key in [*k, "new_cluster", "existing_cluster_id", "libraries"] {
                if let Some(v) = body.remove(key) {
                    task.insert(key.into(), v);
                }
            }
            body.insert("tasks".into(), json!([task]));
        }
    }
    let tasks = parse_tasks(body.get("tasks"), true)?;
    let run_name = match body.get("run_name") {
        None | Some(Value::Null) => "Untitled".to_string(),
        Some(Value::String(s)) if s.len() <= 4096 => s.clone(),
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid value for field run_name: expected a string of at most 4096 bytes",
            ))
        }
    };
    if let Some(t) = body_int(&body, "timeout_seconds")? {
        if t < 0 {
            return Err(ApiError::invalid("timeout_seconds must not be negative"));
        }
    }
    let mut store = app.write();
    if let Some(t) = &token {
        if let Some(&i) = store.idempotency.get(t) {
            return Ok(Json(json!({"run_id": store.hist.run_id(i)})).into_response());
        }
    }
    let run = CreatedRun {
        start: app.now(),
        job: None,
        run_type: RunType::Submit,
        run_name,
        tasks,
        queued: false,
        overriding: None,
        job_parameters: vec![],
        creator: USERS[0].to_string(),
        git_source: body.get("git_source").cloned(),
    };
    let i = store.add_run(run);
    if let Some(t) = token {
        store.idempotency.insert(t, i);
    }
    Ok(Json(json!({"run_id": store.hist.run_id(i)})).into_response())
}

fn required_run(body: &Map<String, Value>) -> Result<i64, ApiError> {
    body_int(body, "run_id")?.ok_or_else(|| ApiError::invalid("Missing required field: run_id"))
}

/// `POST runs/delete`.
pub(crate) async fn delete(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = body_object(&body)?;
    let run_id = required_run(&body)?;
    let mut store = app.write();
    let i = store
        .index_of_run(run_id)
        .ok_or_else(|| ApiError::no_run(run_id))?;
    if current_life(&store, i, app.now()).is_active() {
        return Err(ApiError::invalid_state(format!(
            "Run {run_id} is active and cannot be deleted. Cancel it first."
        )));
    }
    store.deleted.insert(i);
    Ok(Json(json!({})).into_response())
}

/// `POST runs/cancel`.
pub(crate) async fn cancel(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = body_object(&body)?;
    let run_id = required_run(&body)?;
    let mut store = app.write();
    let i = store
        .index_of_run(run_id)
        .ok_or_else(|| ApiError::no_run(run_id))?;
    cancel_index(&mut store, i, app.now());
    Ok(Json(json!({})).into_response())
}

/// `POST runs/cancel-all`.
pub(crate) async fn cancel_all(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = body_object(&body)?;
    let job_id = body_int(&body, "job_id")?;
    let queued_only = body_bool(&body, "all_queued_runs")?;
    if job_id.is_none() && !queued_only {
        return Err(ApiError::invalid(
            "Either job_id or all_queued_runs must be specified",
        ));
    }
    let now = app.now();
    let mut store = app.write();
    let job = match job_id {
        Some(id) => Some(store.job_index(id).ok_or_else(|| ApiError::no_job(id))?),
        None => None,
    };
    let candidates: Vec<u32> = store
        .dynamic
        .iter()
        .copied()
        .filter(|&i| store.exists(i) && (job.is_none() || store.job_of(i) == job))
        .filter(|&i| {
            let life = current_life(&store, i, now);
            life.is_active() && (!queued_only || life == Life::Queued)
        })
        .collect();
    for i in candidates {
        cancel_index(&mut store, i, now);
    }
    Ok(Json(json!({})).into_response())
}

/// `POST runs/repair`.
pub(crate) async fn repair(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = body_object(&body)?;
    let run_id = required_run(&body)?;
    let all_failed = body_bool(&body, "rerun_all_failed_tasks")?;
    let rerun_keys: Option<Vec<String>> = match body.get("rerun_tasks") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        ApiError::invalid("rerun_tasks must be an array of task keys")
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => {
            return Err(ApiError::invalid(
                "rerun_tasks must be an array of task keys",
            ))
        }
    };
    match (&rerun_keys, all_failed) {
        (Some(k), false) if !k.is_empty() => {}
        (None, true) => {}
        (Some(k), true) if k.is_empty() => {}
        (Some(_), true) => {
            return Err(ApiError::invalid(
                "rerun_tasks and rerun_all_failed_tasks cannot both be set",
            ))
        }
        _ => {
            return Err(ApiError::invalid(
                "Either rerun_tasks or rerun_all_failed_tasks must be set",
            ))
        }
    }
    let rerun_dependent = body_bool(&body, "rerun_dependent_tasks")?;
    let latest = body_int(&body, "latest_repair_id")?;
    let now = app.now();
    let mut store = app.write();
    let i = store
        .index_of_run(run_id)
        .ok_or_else(|| ApiError::no_run(run_id))?;
    let segs = segments(&store, i, now);
    if segs.last().is_some_and(|s| s.life.is_active()) {
        return Err(ApiError::invalid_state(format!(
            "Run {run_id} is still active: only terminated runs can be repaired"
        )));
    }
    let last_repair = segs.iter().rev().find_map(|s| s.repair_id);
    match (latest, last_repair) {
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "The latest repair ID needs to be provided in order to create a new repair",
            ))
        }
        (Some(l), _) if Some(l) != last_repair => {
            return Err(ApiError::invalid(format!(
                "latest_repair_id {l} is not the latest repair of run {run_id}"
            )))
        }
        _ => {}
    }
    let tasks = store.tasks_of(i).to_vec();
    let owners = task_owners(&segs, tasks.len());
    let mut rerun: Vec<usize> = match rerun_keys.filter(|k| !k.is_empty()) {
        Some(keys) => keys
            .iter()
            .map(|k| {
                tasks.iter().position(|t| &t.key == k).ok_or_else(|| {
                    ApiError::invalid(format!("Task '{k}' is not a task of run {run_id}"))
                })
            })
            .collect::<Result<_, _>>()?,
        None => (0..tasks.len())
            .filter(|&t| {
                let (s, _) = owners[t];
                let down = segs[s]
                    .failed_task
                    .map(|f| downstream(&tasks, f))
                    .unwrap_or_default();
                matches!(task_life(&tasks, &segs[s], t, &down), Life::Done(o) if o.is_failure())
            })
            .collect(),
    };
    if rerun.is_empty() {
        return Err(ApiError::invalid(format!(
            "Run {run_id} has no failed tasks to rerun"
        )));
    }
    if rerun_dependent {
        for t in rerun.clone() {
            rerun.extend(downstream(&tasks, t));
        }
    }
    rerun.sort_unstable();
    rerun.dedup();
    if !has_room(&segs, rerun.len()) {
        return Err(ApiError::invalid_state(format!(
            "Run {run_id} has reached the maximum number of repairs"
        )));
    }
    let r = segs.len() - 1;
    let id = repair_id(&store, i, r);
    store
        .overlays
        .entry(i)
        .or_default()
        .repairs
        .push(RuntimeRepair {
            id,
            start: now,
            rerun,
            cancelled_at: None,
        });
    store.dynamic.insert(i);
    Ok(Json(json!({"repair_id": id})).into_response())
}
