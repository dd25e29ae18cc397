//! The job endpoints: `jobs/list` (limit/offset/page_token, `name` and `expand_tasks`),
//! `jobs/get` (tasks, job_clusters and parameters paged 100 at a time), `jobs/create` and
//! `jobs/run-now` (which creates a `JOB_RUN` that then moves through its life cycle).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};

use super::data::{JobDef, RunType, USERS};
use super::errors::{ApiError, ApiResult};
use super::jobgen::job_id_for;
use super::params::{
    body_int, body_object, decode_token, encode_token, fingerprint, Query, TOKEN_GET, TOKEN_JOBS,
};
use super::runs_routes::LIST_PAGE;
use super::runs_write::{check_idempotency, parse_tasks};
use super::store::CreatedRun;
use super::App;

/// The `settings` object of a job; lists paged from `page` (None = leave them out).
fn settings(job: &JobDef, page: Option<usize>, more: &mut bool) -> Value {
    let mut s = Map::new();
    s.insert("name".into(), json!(job.name));
    if let Some(d) = &job.description {
        s.insert("description".into(), json!(d));
    }
    for (k, v) in &job.extra {
        s.insert(k.clone(), v.clone());
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

fn job_json(job: &JobDef, page: Option<usize>, more: &mut bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("job_id".into(), json!(job.job_id));
    m.insert("creator_user_name".into(), json!(job.creator));
    m.insert("run_as_user_name".into(), json!(job.creator));
    m.insert("settings".into(), settings(job, page, more));
    m.insert("created_time".into(), json!(job.created_time));
    m
}

/// `GET jobs/list`.
pub(crate) async fn list(State(app): State<Arc<App>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let limit = match q.int("limit")? {
        None | Some(0) => 20,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(ApiError::invalid(format!(
                "Invalid value for parameter limit: {n}. The limit must be between 1 and 100"
            )))
        }
    };
    let expand = q.bool("expand_tasks")?;
    let name = q.get("name").map(str::to_string);
    let fp = fingerprint(&(name.clone(), "jobs"));
    let offset = match q.token() {
        Some(t) => decode_token(t, &[TOKEN_JOBS], fp)?.1 as usize,
        None => q.non_negative("offset")?.unwrap_or(0) as usize,
    };
    let store = app.read();
    let matching: Vec<&JobDef> = store
        .jobs
        .iter()
        .filter(|j| name.as_ref().is_none_or(|n| &j.name == n))
        .collect();
    let mut out = Vec::new();
    for job in matching.iter().skip(offset).take(limit) {
        let mut more = false;
        let mut m = job_json(job, expand.then_some(0), &mut more);
        m.remove("run_as_user_name");
        if more {
            m.insert("has_more".into(), json!(true));
        }
        out.push(Value::Object(m));
    }
    let has_more = matching.len() > offset.saturating_add(limit);
    let mut body = Map::new();
    if !out.is_empty() {
        body.insert("jobs".into(), Value::Array(out));
    }
    body.insert("has_more".into(), json!(has_more));
    if has_more {
        body.insert(
            "next_page_token".into(),
            json!(encode_token(TOKEN_JOBS, (offset + limit) as u64, fp)),
        );
    }
    if offset > 0 {
        body.insert(
            "prev_page_token".into(),
            json!(encode_token(
                TOKEN_JOBS,
                offset.saturating_sub(limit) as u64,
                fp
            )),
        );
    }
    Ok(Json(Value::Object(body)).into_response())
}

/// `GET jobs/get`.
pub(crate) async fn get(State(app): State<Arc<App>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let job_id = q.required_int("job_id")?;
    let fp = fingerprint(&(job_id, "job"));
    let page = match q.token() {
        Some(t) => decode_token(t, &[TOKEN_GET], fp)?.1 as usize,
        None => 0,
    };
    let store = app.read();
    let j = store
        .job_index(job_id)
        .ok_or_else(|| ApiError::no_job(job_id))?;
    let mut more = false;
    let mut m = job_json(&store.jobs[j], Some(page), &mut more);
    if more {
        m.insert(
            "next_page_token".into(),
            json!(encode_token(TOKEN_GET, page as u64 + 1, fp)),
        );
    }
    Ok(Json(Value::Object(m)).into_response())
}

/// `POST jobs/create`.
pub(crate) async fn create(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = body_object(&body)?;
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
    let job_clusters = match body.get("job_clusters") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => {
            for c in a {
                if c.get("job_cluster_key")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    return Err(ApiError::invalid(
                        "Missing required field: job_clusters[].job_cluster_key",
                    ));
                }
            }
            a.clone()
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid value for field job_clusters: expected an array",
            ))
        }
    };
    let parameters = match body.get("parameters") {
        None | Some(Value::Null) => vec![],
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
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid value for field parameters: expected an array",
            ))
        }
    };
    let schedule = match body.get("schedule") {
        None | Some(Value::Null) => None,
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
            Some(s)
        }
    };
    if let Some(n) = body_int(&body, "max_concurrent_runs")? {
        if !(0..=1000).contains(&n) {
            return Err(ApiError::invalid(
                "max_concurrent_runs must be between 0 and 1000",
            ));
        }
    }
    let mut extra = Map::new();
    for (k, v) in &body {
        if ![
            "name",
            "tasks",
            "job_clusters",
            "parameters",
            "schedule",
            "git_source",
            "description",
            "access_control_list",
        ]
        .contains(&k.as_str())
        {
            extra.insert(k.clone(), v.clone());
        }
    }
    extra.entry("format").or_insert(json!("MULTI_TASK"));
    extra.entry("max_concurrent_runs").or_insert(json!(1));
    extra.entry("timeout_seconds").or_insert(json!(0));
    let now = app.now();
    let mut store = app.write();
    let j = store.jobs.len();
    let job = JobDef {
        job_id: job_id_for(store.hist.seed, j),
        name,
        creator: USERS[0].to_string(),
        created_time: now,
        tasks,
        job_clusters,
        parameters,
        schedule,
        git_source: body.get("git_source").cloned(),
        description: body
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string),
        extra,
        performance_target: None,
        usage_policy_id: None,
    };
    let job_id = job.job_id;
    store.jobs.push(job);
    store.per_job.push(Vec::new());
    Ok(Json(json!({"job_id": job_id})).into_response())
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
