//! Run write rules used by more than one endpoint: validating a `tasks` array (runs/submit,
//! jobs/create, jobs/reset and jobs/update), idempotency tokens (runs/submit and
//! jobs/run-now) and canceling one run (runs/cancel, runs/cancel-all, jobs/delete).

use serde_json::{Map, Value};

use crate::state::app::App;
use crate::state::data::TaskDef;
use crate::state::store::Store;

use super::errors::ApiError;
use super::lifecycle::current_life;

/// Validate an idempotency token; `Ok(Some(index))` when it already names a run.
pub(crate) fn check_idempotency(
    app: &App,
    body: &Map<String, Value>,
) -> Result<(Option<String>, Option<u32>), ApiError> {
    let token = match body.get("idempotency_token") {
        None | Some(Value::Null) => return Ok((None, None)),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid value for field idempotency_token: expected a string",
            ))
        }
    };
    if token.chars().count() > 64 {
        return Err(ApiError::invalid(
            "idempotency_token must have at most 64 characters",
        ));
    }
    let store = app.read();
    match store.idempotency.get(&token) {
        Some(&i) if !store.exists(i) => Err(ApiError::invalid_state(format!(
            "The run created with idempotency token '{token}' has been deleted"
        ))),
        Some(&i) => Ok((Some(token), Some(i))),
        None => Ok((Some(token), None)),
    }
}

/// Validate a `tasks` array (task_key present, unique, depends_on known).
pub(crate) fn parse_tasks(value: Option<&Value>, required: bool) -> Result<Vec<TaskDef>, ApiError> {
    let list = match value {
        None | Some(Value::Null) if !required => return Ok(vec![]),
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                "At least one task is required: tasks must be a non-empty array",
            ))
        }
        Some(Value::Array(a)) if a.is_empty() && required => {
            return Err(ApiError::invalid(
                "At least one task is required: tasks must be a non-empty array",
            ))
        }
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid value for field tasks: expected an array",
            ))
        }
    };
    let mut keys: Vec<String> = Vec::new();
    for (n, task) in list.iter().enumerate() {
        let obj = task
            .as_object()
            .ok_or_else(|| ApiError::invalid(format!("tasks[{n}] must be an object")))?;
        let key = match obj.get("task_key") {
            Some(Value::String(k)) if !k.is_empty() && k.len() <= 100 => k.clone(),
            Some(Value::String(_)) => {
                return Err(ApiError::invalid(format!(
                    "tasks[{n}].task_key must be 1 to 100 characters"
                )))
            }
            _ => {
                return Err(ApiError::invalid(format!(
                    "Missing required field: tasks[{n}].task_key"
                )))
            }
        };
        if keys.contains(&key) {
            return Err(ApiError::invalid(format!(
                "Duplicate task_key '{key}': task keys must be unique"
            )));
        }
        keys.push(key);
    }
    let mut out = Vec::new();
    for (n, task) in list.iter().enumerate() {
        let obj = task
            .as_object()
            .ok_or_else(|| ApiError::invalid(format!("tasks[{n}] must be an object")))?;
        if let Some(deps) = obj.get("depends_on") {
            let deps = deps.as_array().ok_or_else(|| {
                ApiError::invalid(format!("tasks[{n}].depends_on must be an array"))
            })?;
            for d in deps {
                let k = d
                    .get("task_key")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !keys.iter().any(|x| x == k) || k == keys[n] {
                    return Err(ApiError::invalid(format!(
                        "Task {} depends on '{k}', which is not a task of this run",
                        keys[n]
                    )));
                }
            }
        }
        out.push(TaskDef::from_api(obj, &keys));
    }
    Ok(out)
}

/// Cancel run `i` if it is active (no-op otherwise).
pub(crate) fn cancel_index(store: &mut Store, i: u32, now: i64) {
    if !current_life(store, i, now).is_active() {
        return;
    }
    let overlay = store.overlays.entry(i).or_default();
    match overlay.repairs.last_mut() {
        Some(r) => r.cancelled_at = Some(now),
        None => overlay.cancelled_at = Some(now),
    }
}
