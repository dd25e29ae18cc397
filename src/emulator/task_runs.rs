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

use super::data::{Life, Outcome, TaskKind};
use super::errors::{ApiError, ApiResult};
use super::lifecycle::segments;
use super::params::Query;
use super::render::{render_with, task_run_at, RenderOpts};
use super::store::Store;
use super::App;

/// What a job run id with a single task is resolved for.
#[derive(Clone, Copy)]
enum Purpose {
    Output,
    Export,
}

/// A task run found by id: the job run index, its rendered task object, its kind and life.
struct TaskHit {
    index: u32,
    task: Value,
    kind: TaskKind,
    life: Life,
    name: String,
}

/// Resolve a task run id, or a single-task job run id, to its task run.
fn find_task(store: &Store, app: &App, run_id: i64, what: Purpose) -> Result<TaskHit, ApiError> {
    let (i, off) = store
        .hist
        .locate(run_id)
        .filter(|(i, _)| store.exists(*i))
        .ok_or_else(|| ApiError::no_run(run_id))?;
    let now = app.now();
    let segs = segments(store, i, now);
    let tasks = store.tasks_of(i);
    let (s, t) = if off == 0 {
        if tasks.len() > 1 {
            return Err(ApiError::invalid(match what {
                Purpose::Output => "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.",
                Purpose::Export => "Exporting runs with multiple tasks is not supported. Please export each individual task run instead.",
            }));
        }
        let owners = super::lifecycle::task_owners(&segs, tasks.len());
        (owners.first().map_or(0, |o| o.0), 0)
    } else {
        segs.iter()
            .enumerate()
            .filter(|(_, seg)| {
                off >= seg.first_offset && off < seg.first_offset + seg.rerun.len() as i64
            })
            .map(|(s, seg)| (s, seg.rerun[(off - seg.first_offset) as usize]))
            .next_back()
            .ok_or_else(|| ApiError::no_run(run_id))?
    };
    if t >= tasks.len() {
        return Err(ApiError::no_run(run_id));
    }
    let down = segs[s]
        .failed_task
        .map(|f| super::lifecycle::downstream(tasks, f))
        .unwrap_or_default();
    let task = task_run_at(store, i, &segs, s, t, &down, &app.base_url);
    let life = match task.pointer("/state/result_state").and_then(Value::as_str) {
        Some("SUCCESS") => Life::Done(Outcome::Success),
        Some(_) => Life::Done(Outcome::Failed),
        None => Life::Running,
    };
    Ok(TaskHit {
        index: i,
        kind: tasks[t].kind,
        life,
        name: tasks[t].key.clone(),
        task,
    })
}

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

/// `GET runs/get-output`.
pub(crate) async fn get_output(State(app): State<Arc<App>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let run_id = q.required_int("run_id")?;
    let store = app.read();
    let hit = find_task(&store, &app, run_id, Purpose::Output)?;
    let (life, kind, name) = (hit.life, hit.kind, hit.name.clone());
    let meta = as_run(&store, &app, hit);
    let mut out = Map::new();
    out.insert("metadata".into(), Value::Object(meta));
    match (life, kind) {
        (Life::Done(Outcome::Success), TaskKind::Notebook) => {
            out.insert("notebook_output".into(), json!({"result": format!("{{\"rows_written\": {}}}", run_id % 100_000), "truncated": false}));
        }
        (Life::Done(Outcome::Success), TaskKind::Python | TaskKind::Jar) => {
            out.insert(
                "logs".into(),
                json!(format!(
                    "INFO starting {}\nINFO wrote {} rows\nINFO done\n",
                    name,
                    run_id % 100_000
                )),
            );
            out.insert("logs_truncated".into(), json!(false));
        }
        (Life::Done(Outcome::Success), _) => {}
        (Life::Done(_), _) => {
            out.insert(
                "error".into(),
                json!(format!(
                    "Task {} failed: java.lang.RuntimeException: workload failed",
                    name
                )),
            );
            out.insert("error_trace".into(), json!("java.lang.RuntimeException: workload failed\n\tat com.example.jobs.Main.run(Main.scala:42)"));
        }
        _ => {}
    }
    Ok(Json(Value::Object(out)).into_response())
}

/// The task run of `hit` as a `Run` object (what runs/get of a task run id answers, and the
/// `metadata` of runs/get-output).
fn as_run(store: &Store, app: &App, hit: TaskHit) -> Map<String, Value> {
    let segs = segments(store, hit.index, app.now());
    let parent = render_with(
        store,
        hit.index,
        &segs,
        &app.base_url,
        RenderOpts::default(),
    );
    let mut run = match hit.task {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    run.insert("job_run_id".into(), json!(parent.run_id));
    if let Some(j) = parent.job_id {
        run.insert("job_id".into(), json!(j));
    }
    run.insert("number_in_job".into(), json!(parent.run_id));
    run.insert(
        "original_attempt_run_id".into(),
        run.get("run_id").cloned().unwrap_or(Value::Null),
    );
    run.insert("creator_user_name".into(), json!(parent.creator_user_name));
    run.insert("run_name".into(), json!(parent.run_name));
    run.insert("run_type".into(), json!(parent.run_type));
    run.insert("trigger".into(), json!(parent.trigger));
    run
}

/// `runs/get` of `run_id` when it names a task run (not a job run): the task run as a `Run`.
pub(crate) fn get_task_run(store: &Store, app: &App, run_id: i64) -> Option<Value> {
    match store.hist.locate(run_id) {
        Some((i, off)) if off > 0 && store.exists(i) => {
            let hit = find_task(store, app, run_id, Purpose::Output).ok()?;
            Some(Value::Object(as_run(store, app, hit)))
        }
        _ => None,
    }
}
