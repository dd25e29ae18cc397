//! The read endpoints for runs: `runs/list` (filters, limit/offset, page tokens both ways),
//! `runs/get` (100-element pages of tasks, job_clusters, job_parameters and repair_history),
//! `runs/export` and `runs/get-output` (both take a task run id, or a single-task job run id).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::data::{Life, Outcome, RunType, TaskKind};
use super::errors::{ApiError, ApiResult};
use super::lifecycle::segments;
use super::model::RunJson;
use super::params::{
    decode_token, encode_token, fingerprint, Query, TOKEN_GET, TOKEN_NEXT, TOKEN_PREV,
};
use super::render::{render, render_with, task_run_at, RenderOpts};
use super::store::{RunFilter, Store};
use super::App;

/// Elements per page of a run's lists (API 2.2).
pub(crate) const LIST_PAGE: usize = 100;

#[derive(Serialize)]
struct ListResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    runs: Vec<RunJson>,
    has_more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_page_token: Option<String>,
}

fn parse_limit(q: &Query) -> Result<usize, ApiError> {
    match q.int("limit")? {
        None => Ok(20),
        Some(0) => Ok(25),
        Some(n @ 1..=25) => Ok(n as usize),
        Some(n) => Err(ApiError::invalid(format!(
            "Invalid value for parameter limit: {n}. The limit must be between 1 and 25 (0 means the maximum, 25)"
        ))),
    }
}

/// Parse the runs/list filters.
fn parse_filter(q: &Query, store: &Store) -> Result<RunFilter, ApiError> {
    let active_only = q.bool("active_only")?;
    let completed_only = q.bool("completed_only")?;
    if active_only && completed_only {
        return Err(ApiError::invalid(
            "active_only and completed_only cannot both be true",
        ));
    }
    let run_type = match q.get("run_type") {
        None => None,
        Some(s) => Some(RunType::parse(s).ok_or_else(|| {
            ApiError::invalid(format!("Invalid value for parameter run_type: '{s}'. Expected one of JOB_RUN, WORKFLOW_RUN, SUBMIT_RUN"))
        })?),
    };
    let job = match q.int("job_id")? {
        Some(id) => Some(store.job_index(id).ok_or_else(|| ApiError::no_job(id))?),
        None => None,
    };
    Ok(RunFilter {
        job,
        active_only,
        completed_only,
        run_type,
        from: q.non_negative("start_time_from")?,
        to: q.non_negative("start_time_to")?,
    })
}

/// `GET runs/list`.
pub(crate) async fn list(State(app): State<Arc<App>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let limit = parse_limit(&q)?;
    let offset = q.non_negative("offset")?.unwrap_or(0) as usize;
    let expand = q.bool("expand_tasks")?;
    let store = app.read();
    let filter = parse_filter(&q, &store)?;
    let fp = fingerprint(&filter);
    let now = app.now();
    let total = store.total();
    let page: Vec<u32> = match q.token() {
        Some(token) => {
            let (kind, cursor) = decode_token(token, &[TOKEN_NEXT, TOKEN_PREV], fp)?;
            let cursor = u32::try_from(cursor)
                .map_err(|_| ApiError::invalid(format!("Invalid page_token: '{token}'")))?;
            if kind == TOKEN_NEXT {
                store.scan(&filter, now, 0, cursor, true, limit)
            } else {
                let mut v = store.scan(&filter, now, cursor.saturating_add(1), total, false, limit);
                v.reverse();
                v
            }
        }
        None => {
            let v = store.scan(&filter, now, 0, total, true, offset.saturating_add(limit));
            v.into_iter().skip(offset).collect()
        }
    };
    let (has_more, has_prev) = match (page.first(), page.last()) {
        (Some(&first), Some(&last)) => (
            !store.scan(&filter, now, 0, last, true, 1).is_empty(),
            !store
                .scan(&filter, now, first + 1, total, false, 1)
                .is_empty(),
        ),
        _ => (false, false),
    };
    let runs = page
        .iter()
        .map(|&i| {
            let mut run = render(
                &store,
                i,
                now,
                &app.base_url,
                RenderOpts {
                    tasks: expand,
                    history: false,
                },
            );
            if expand {
                let mut truncated = false;
                if let Some(t) = run.tasks.as_mut() {
                    truncated |= t.len() > LIST_PAGE;
                    t.truncate(LIST_PAGE);
                }
                if let Some(c) = run.job_clusters.as_mut() {
                    truncated |= c.len() > LIST_PAGE;
                    c.truncate(LIST_PAGE);
                }
                run.has_more = truncated.then_some(true);
            }
            run
        })
        .collect();
    let body = ListResponse {
        runs,
        has_more,
        next_page_token: has_more
            .then(|| page.last().map(|&i| encode_token(TOKEN_NEXT, i as u64, fp)))
            .flatten(),
        prev_page_token: has_prev
            .then(|| {
                page.first()
                    .map(|&i| encode_token(TOKEN_PREV, i as u64, fp))
            })
            .flatten(),
    };
    Ok(Json(body).into_response())
}

fn slice<T: Clone>(list: &mut Option<Vec<T>>, page: usize, more: &mut bool) {
    if let Some(v) = list.take() {
        let start = page.saturating_mul(LIST_PAGE);
        *more |= v.len() > start.saturating_add(LIST_PAGE);
        let part: Vec<T> = v.into_iter().skip(start).take(LIST_PAGE).collect();
        if !part.is_empty() {
            *list = Some(part);
        }
    }
}

/// `GET runs/get`.
pub(crate) async fn get(State(app): State<Arc<App>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let run_id = q.required_int("run_id")?;
    let history = q.bool("include_history")?;
    q.bool("include_resolved_values")?;
    let page = match q.token() {
        Some(token) => {
            decode_token(token, &[TOKEN_GET], fingerprint(&(run_id, history)))?.1 as usize
        }
        None => 0,
    };
    let store = app.read();
    let i = store
        .index_of_run(run_id)
        .ok_or_else(|| ApiError::no_run(run_id))?;
    let mut run = render(
        &store,
        i,
        app.now(),
        &app.base_url,
        RenderOpts {
            tasks: true,
            history,
        },
    );
    let mut more = false;
    slice(&mut run.tasks, page, &mut more);
    slice(&mut run.job_clusters, page, &mut more);
    slice(&mut run.job_parameters, page, &mut more);
    slice(&mut run.repair_history, page, &mut more);
    run.next_page_token =
        more.then(|| encode_token(TOKEN_GET, page as u64 + 1, fingerprint(&(run_id, history))));
    Ok(Json(run).into_response())
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
fn find_task(store: &Store, app: &App, run_id: i64, what: &str) -> Result<TaskHit, ApiError> {
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
            return Err(ApiError::invalid(format!(
                "{what} of runs with multiple tasks is not supported. Please {} of each individual task run instead.",
                if what == "Retrieving the output" { "retrieve the output" } else { "export" }
            )));
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
    let hit = find_task(&store, &app, run_id, "Exporting")?;
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
    let hit = find_task(&store, &app, run_id, "Retrieving the output")?;
    let now = app.now();
    let segs = segments(&store, hit.index, now);
    let parent = render_with(
        &store,
        hit.index,
        &segs,
        &app.base_url,
        RenderOpts::default(),
    );
    let mut meta = match hit.task {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    meta.insert("job_run_id".into(), json!(parent.run_id));
    if let Some(j) = parent.job_id {
        meta.insert("job_id".into(), json!(j));
    }
    meta.insert("number_in_job".into(), json!(parent.run_id));
    meta.insert(
        "original_attempt_run_id".into(),
        meta.get("run_id").cloned().unwrap_or(Value::Null),
    );
    meta.insert("creator_user_name".into(), json!(parent.creator_user_name));
    meta.insert("run_name".into(), json!(parent.run_name));
    meta.insert("run_type".into(), json!(parent.run_type));
    meta.insert("trigger".into(), json!(parent.trigger));
    let mut out = serde_json::Map::new();
    out.insert("metadata".into(), Value::Object(meta));
    match (hit.life, hit.kind) {
        (Life::Done(Outcome::Success), TaskKind::Notebook) => {
            out.insert("notebook_output".into(), json!({"result": format!("{{\"rows_written\": {}}}", run_id % 100_000), "truncated": false}));
        }
        (Life::Done(Outcome::Success), TaskKind::Python | TaskKind::Jar) => {
            out.insert(
                "logs".into(),
                json!(format!(
                    "INFO starting {}\nINFO wrote {} rows\nINFO done\n",
                    hit.name,
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
                    hit.name
                )),
            );
            out.insert("error_trace".into(), json!("java.lang.RuntimeException: workload failed\n\tat com.example.jobs.Main.run(Main.scala:42)"));
        }
        _ => {}
    }
    Ok(Json(Value::Object(out)).into_response())
}
