//! Endpoints that address one task run: `runs/get` with a task run id (the task run as a
//! `Run`: its task fields, `job_run_id` naming the job run it belongs to), `runs/export` and
//! `runs/get-output`. The last two also take the id of a job run with a single task (its
//! task run is meant); for a job run with several tasks they answer the API's 400
//! `INVALID_PARAMETER_VALUE` ("Retrieving the output of runs with multiple tasks is not
//! supported. Please retrieve the output of each individual task run instead."; for export
//! the same sentence with "Exporting" / "export", inferred by analogy).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::domain::errors::{ApiError, ApiResult};
use crate::domain::params::Query;
use crate::render::output::add_output;
use crate::render::task_run::{as_run, find_task, Purpose};
use crate::state::app::App;
use crate::state::data::TaskKind;

fn check_views(q: &Query) -> Result<&'static str, ApiError> {
    match q.get("views_to_export").unwrap_or("CODE") {
        "CODE" => Ok("CODE"),
        "DASHBOARDS" => Ok("DASHBOARDS"),
        "ALL" => Ok("ALL"),
        other => Err(ApiError::invalid(format!(
            "Invalid value for parameter views_to_export: '{other}'. Expected one of CODE, DASHBOARDS, ALL"
        ))),
    }
}

/// `GET runs/export`.
pub(crate) async fn export(State(app): State<Arc<App>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let run_id = q.required_int("run_id")?;
    let views = check_views(&q)?;
    let store = app.read();
    let hit = find_task(&store, &app, run_id, Purpose::Export)?;
    if hit.kind != TaskKind::Notebook {
        return Err(ApiError::invalid(format!(
            "Run {run_id} is not a notebook run: only notebook runs can be exported in HTML format."
        )));
    }
    let path = hit
        .task
        .pointer("/notebook_task/notebook_path")
        .and_then(Value::as_str)
        .unwrap_or(&hit.name);
    let name = path.rsplit('/').next().unwrap_or(path).to_string();
    let mut out = Vec::new();
    if views != "DASHBOARDS" {
        out.push(json!({
            "content": format!("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{name}</title></head><body><script>var __DATABRICKS_NOTEBOOK_MODEL = {{\"name\":\"{name}\",\"run_id\":{run_id}}};</script></body></html>"),
            "name": name,
            "type": "NOTEBOOK"
        }));
    }
    if views != "CODE" {
        out.push(json!({
            "content": format!("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{name} dashboard</title></head><body><div class=\"dashboard\">{name}</div></body></html>"),
            "name": format!("{name} dashboard"),
            "type": "DASHBOARD"
        }));
    }
    Ok(Json(json!({ "views": out })).into_response())
}

/// `GET runs/get-output`: the task run as `metadata` and its output (`render::output`).
pub(crate) async fn get_output(State(app): State<Arc<App>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let run_id = q.required_int("run_id")?;
    let store = app.read();
    let hit = find_task(&store, &app, run_id, Purpose::Output)?;
    let (kind, key) = (hit.kind, hit.name.clone());
    let result = hit
        .task
        .pointer("/state/result_state")
        .and_then(Value::as_str)
        .map(str::to_string);
    let task_run = hit
        .task
        .get("run_id")
        .and_then(Value::as_i64)
        .unwrap_or(run_id);
    let meta = as_run(&store, &app, hit);
    let mut out = Map::new();
    out.insert("metadata".into(), Value::Object(meta));
    add_output(&mut out, task_run, &key, kind, result.as_deref());
    Ok(Json(Value::Object(out)).into_response())
}
