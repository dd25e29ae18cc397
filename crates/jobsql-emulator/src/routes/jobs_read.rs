//! The job read endpoints: `jobs/list` (limit/offset/page_token, `name` (ignoring case, as the
//! API does) and `expand_tasks`)
//! and `jobs/get` (tasks, job_clusters, parameters and environments paged 100 at a time; with
//! `expand_tasks`, `jobs/list` shows the first 100 of each and `has_more`). Deleted jobs are
//! in neither. Under the 2.1 and 2.0 prefixes the lists are whole, and 2.0's `jobs/list` is
//! every job with all its settings, unpaged (see [`Version`]). The JSON is rendered by
//! `render::jobs`; the writes are in `jobs_write`.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::domain::errors::{ApiError, ApiResult};
use crate::domain::params::{
    decode_token, encode_token, fingerprint, Query, Version, TOKEN_GET, TOKEN_JOBS,
};
use crate::render::jobs::{job_json, job_json_whole};
use crate::state::app::App;
use crate::state::data::JobDef;

/// jobs/list's `name` filter: "the exact (case insensitive) job name".
fn same_name(job: &str, filter: &str) -> bool {
    job.to_lowercase() == filter.to_lowercase()
}

/// `GET jobs/list` of API 2.0: every job, with all its settings.
fn list_v20(app: &App, name: Option<&str>) -> ApiResult {
    let store = app.read();
    let jobs: Vec<Value> = store
        .jobs
        .iter()
        .enumerate()
        .filter(|(k, j)| {
            !store.deleted_jobs.contains(k) && name.is_none_or(|n| same_name(&j.name, n))
        })
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
            !store.deleted_jobs.contains(k) && name.as_ref().is_none_or(|n| same_name(&j.name, n))
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
