//! The job write endpoints: `jobs/create`, `jobs/reset` (replace every setting),
//! `jobs/update` (partial update, see `domain::job_settings`), `jobs/delete` and
//! `jobs/run-now` (which creates a `JOB_RUN` that then moves through its life cycle).
//!
//! A job that does not exist, or no longer does, is a 400 `INVALID_PARAMETER_VALUE`
//! "Job N does not exist." for every one of them (jobs/delete of a deleted job too: the 2.0
//! reference says "no action occurs", but current workspaces answer with this error, which
//! the Terraform provider and the SDKs' error overrides turn into "not found"). Deleting a
//! job cancels its active runs and hides all its runs: runs/get of one is "Run N does not
//! exist.", runs/list leaves them out, runs/list?job_id=N is "Job N does not exist.".

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::domain::errors::{ApiError, ApiResult};
use crate::domain::job_settings;
use crate::domain::params::{body_int, body_object};
use crate::domain::runs::{cancel_index, check_idempotency};
use crate::render::jobs::full;
use crate::state::app::App;
use crate::state::data::{JobDef, RunType, USERS};
use crate::state::jobgen::job_id_for;
use crate::state::store::CreatedRun;

fn required_job(body: &Map<String, Value>) -> Result<i64, ApiError> {
    body_int(body, "job_id")?.ok_or_else(|| ApiError::invalid("Missing required field: job_id"))
}

fn new_settings(body: &Map<String, Value>, required: bool) -> Result<Map<String, Value>, ApiError> {
    match body.get("new_settings") {
        Some(Value::Object(m)) => Ok(m.clone()),
        None | Some(Value::Null) if !required => Ok(Map::new()),
        None | Some(Value::Null) => Err(ApiError::invalid("Missing required field: new_settings")),
        Some(_) => Err(ApiError::invalid(
            "Invalid value for field new_settings: expected an object",
        )),
    }
}

/// `POST jobs/create`.
pub(crate) async fn create(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = body_object(&body)?;
    let s = job_settings::parse(&body)?;
    let now = app.now();
    let mut store = app.write();
    let j = store.jobs.len();
    let mut job = JobDef {
        job_id: job_id_for(store.hist.seed, j),
        name: String::new(),
        creator: USERS[0].to_string(),
        created_time: now,
        tasks: vec![],
        job_clusters: vec![],
        parameters: vec![],
        schedule: None,
        git_source: None,
        description: None,
        extra: Map::new(),
        performance_target: None,
        usage_policy_id: None,
    };
    job_settings::apply(&mut job, s);
    let job_id = job.job_id;
    store.jobs.push(job);
    store.per_job.push(Vec::new());
    Ok(Json(json!({"job_id": job_id})).into_response())
}

/// `POST jobs/reset`: replace every setting of a job.
pub(crate) async fn reset(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = body_object(&body)?;
    let job_id = required_job(&body)?;
    let s = job_settings::parse(&new_settings(&body, true)?)?;
    let mut store = app.write();
    let j = store
        .job_index(job_id)
        .ok_or_else(|| ApiError::no_job(job_id))?;
    store.keep_original(j);
    job_settings::apply(&mut store.jobs[j], s);
    Ok(Json(json!({})).into_response())
}

/// `POST jobs/update`: change some settings of a job.
pub(crate) async fn update(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = body_object(&body)?;
    let job_id = required_job(&body)?;
    let changes = new_settings(&body, false)?;
    let remove: Vec<String> = match body.get("fields_to_remove") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    ApiError::invalid("fields_to_remove must be an array of field names")
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ApiError::invalid(
                "fields_to_remove must be an array of field names",
            ))
        }
    };
    let mut store = app.write();
    let j = store
        .job_index(job_id)
        .ok_or_else(|| ApiError::no_job(job_id))?;
    let mut settings = full(&store.jobs[j]);
    job_settings::remove(&mut settings, &remove);
    job_settings::merge(&mut settings, &changes)?;
    let s = job_settings::parse(&settings)?;
    store.keep_original(j);
    job_settings::apply(&mut store.jobs[j], s);
    Ok(Json(json!({})).into_response())
}

/// `POST jobs/delete`.
pub(crate) async fn delete(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = body_object(&body)?;
    let job_id = required_job(&body)?;
    let now = app.now();
    let mut store = app.write();
    let j = store
        .job_index(job_id)
        .ok_or_else(|| ApiError::no_job(job_id))?;
    let active: Vec<u32> = store
        .dynamic
        .iter()
        .copied()
        .filter(|&i| store.exists(i) && store.job_of(i) == Some(j))
        .collect();
    for i in active {
        cancel_index(&mut store, i, now);
    }
    store.deleted_jobs.insert(j);
    Ok(Json(json!({})).into_response())
}

/// `POST jobs/run-now`.
pub(crate) async fn run_now(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = body_object(&body)?;
    let job_id = body_int(&body, "job_id")?
        .ok_or_else(|| ApiError::invalid("Missing required field: job_id"))?;
    let (token, existing) = check_idempotency(&app, &body)?;
    if let Some(i) = existing {
        let id = app.read().hist.run_id(i);
        return Ok(Json(json!({"run_id": id, "number_in_job": id})).into_response());
    }
    let overrides: Map<String, Value> = match body.get("job_parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid value for field job_parameters: expected an object",
            ))
        }
    };
    let mut overriding = Map::new();
    for k in [
        "notebook_params",
        "jar_params",
        "python_params",
        "spark_submit_params",
        "python_named_params",
        "sql_params",
        "dbt_commands",
        "pipeline_params",
    ] {
        if let Some(v) = body.get(k) {
            overriding.insert(k.into(), v.clone());
        }
    }
    let now = app.now();
    let mut store = app.write();
    let j = store
        .job_index(job_id)
        .ok_or_else(|| ApiError::no_job(job_id))?;
    if let Some(t) = &token {
        if let Some(&i) = store.idempotency.get(t) {
            let id = store.hist.run_id(i);
            return Ok(Json(json!({"run_id": id, "number_in_job": id})).into_response());
        }
    }
    let job = &store.jobs[j];
    if job.tasks.is_empty() {
        return Err(ApiError::invalid(format!(
            "Job {job_id} has no tasks to run"
        )));
    }
    let job_parameters = job
        .parameters
        .iter()
        .map(|(n, d)| {
            let v = overrides
                .get(n)
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .unwrap_or_else(|| d.clone());
            (n.clone(), d.clone(), v)
        })
        .collect();
    let run = CreatedRun {
        start: now,
        job: Some(j),
        run_type: RunType::Job,
        run_name: job.name.clone(),
        tasks: job.tasks.clone(),
        queued: true,
        overriding: (!overriding.is_empty()).then_some(Value::Object(overriding)),
        job_parameters,
        creator: USERS[0].to_string(),
        git_source: job.git_source.clone(),
    };
    let i = store.add_run(run);
    if let Some(t) = token {
        store.idempotency.insert(t, i);
    }
    let id = store.hist.run_id(i);
    Ok(Json(json!({"run_id": id, "number_in_job": id})).into_response())
}
