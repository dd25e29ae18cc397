//! The job read endpoints: `jobs/list` (limit/offset/page_token, `name` and `expand_tasks`)
//! and `jobs/get` (tasks, job_clusters, parameters and environments paged 100 at a time; with
//! `expand_tasks`, `jobs/list` shows the first 100 of each and `has_more`). Deleted jobs are
//! in neither. Under the 2.1 and 2.0 prefixes the lists are whole, and 2.0's `jobs/list` is
//! every job with all its settings, unpaged (see [`Version`]). The writes are in
//! [`super::jobs_write`].

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};

use super::data::JobDef;
use super::errors::{ApiError, ApiResult};
use super::params::{
    decode_token, encode_token, fingerprint, Query, Version, TOKEN_GET, TOKEN_JOBS,
};
use super::runs_routes::LIST_PAGE;
use super::App;

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

fn job_json(job: &JobDef, page: Option<usize>, more: &mut bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("job_id".into(), json!(job.job_id));
    m.insert("creator_user_name".into(), json!(job.creator));
    m.insert("run_as_user_name".into(), json!(job.creator));
    m.insert("settings".into(), settings(job, page, more));
    m.insert("created_time".into(), json!(job.created_time));
    m
}

/// A job with all its settings, lists whole (API 2.1 and 2.0).
fn job_json_whole(job: &JobDef) -> Map<String, Value> {
    let mut m = job_json(job, None, &mut false);
    m.insert(
        "settings".into(),
        Value::Object(super::job_settings::full(job)),
    );
    m
}

/// `GET jobs/list` of API 2.0: every job, with all its settings.
fn list_v20(app: &App, name: Option<&str>) -> ApiResult {
    let store = app.read();
    let jobs: Vec<Value> = store
        .jobs
        .iter()
        .enumerate()
        .filter(|(k, j)| !store.deleted_jobs.contains(k) && name.is_none_or(|n| j.name == n))
        .map(|(_, j)| {
            let mut m = job_json_whole(j);
            m.remove("run_as_user_name");
            Value::Object(m)
        })
        .collect();
    let mut body = Map::new();
    if !jobs.is_empty() {
        body.insert("jobs".into(), Value::Array(jobs));
    }
    Ok(Json(Value::Object(body)).into_response())
}

/// `GET jobs/list`.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let version = Version::of(uri.path());
    let q = Query::parse(raw.as_deref());
    if version == Version::V20 {
        return list_v20(&app, q.get("name"));
    }
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
        .enumerate()
        .filter(|(k, j)| {
            !store.deleted_jobs.contains(k) && name.as_ref().is_none_or(|n| &j.name == n)
        })
        .map(|(_, j)| j)
        .collect();
    let mut out = Vec::new();
    for job in matching.iter().skip(offset).take(limit) {
        let mut more = false;
        let mut m = if expand && !version.pages_lists() {
            job_json_whole(job)
        } else {
            job_json(job, expand.then_some(0), &mut more)
        };
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
pub(crate) async fn get(
    State(app): State<Arc<App>>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let paged = Version::of(uri.path()).pages_lists();
    let q = Query::parse(raw.as_deref());
    let job_id = q.required_int("job_id")?;
    let fp = fingerprint(&(job_id, "job"));
    let page = match q.token().filter(|_| paged) {
        Some(t) => decode_token(t, &[TOKEN_GET], fp)?.1 as usize,
        None => 0,
    };
    let store = app.read();
    let j = store
        .job_index(job_id)
        .ok_or_else(|| ApiError::no_job(job_id))?;
    if !paged {
        return Ok(Json(Value::Object(job_json_whole(&store.jobs[j]))).into_response());
    }
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
