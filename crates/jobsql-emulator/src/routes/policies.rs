//! The policy compliance endpoints for jobs: `GET /api/2.0/policies/jobs/get-compliance`
//! (`job_id`), `GET .../list-compliance` (`policy_id`; `page_size` up to 1000, default 100,
//! and `page_token`; the jobs using the policy in job id order) and
//! `POST .../enforce-compliance` (`job_id`, `validate_only`: the changes, and the settings
//! after them; with `validate_only` nothing is changed). The rules are `domain::policies`'.
//! An unknown job is a 400 "Job N does not exist." as the Jobs API answers; an unknown policy
//! a 404 `RESOURCE_DOES_NOT_EXIST`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::domain::errors::{ApiError, ApiResult};
use crate::domain::params::{
    body_bool, body_int, body_object, decode_token, encode_token, fingerprint, Query,
    TOKEN_COMPLIANCE,
};
use crate::domain::policies::{compliance, enforce, policy, uses};
use crate::render::jobs::full;
use crate::state::app::App;

/// `GET get-compliance?job_id=`.
pub(crate) async fn get(State(app): State<Arc<App>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let job_id = q.required_int("job_id")?;
    let store = app.read();
    let j = store
        .job_index(job_id)
        .ok_or_else(|| ApiError::no_job(job_id))?;
    Ok(Json(compliance(&store.jobs[j], false)).into_response())
}

/// `GET list-compliance?policy_id=`.
pub(crate) async fn list(State(app): State<Arc<App>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let id = q
        .get("policy_id")
        .ok_or_else(|| ApiError::invalid("Missing required field: policy_id"))?
        .to_string();
    if policy(&id).is_none() {
        return Err(ApiError::not_found(format!(
            "Cluster policy {id} does not exist."
        )));
    }
    let size = match q.int("page_size")? {
        None | Some(0) => 100,
        Some(n @ 1..=1000) => n as usize,
        Some(n) => {
            return Err(ApiError::invalid(format!(
                "Invalid value for parameter page_size: {n}. It must be between 1 and 1000"
            )))
        }
    };
    let fp = fingerprint(&(id.clone(), "compliance"));
    let offset = match q.token() {
        Some(t) => decode_token(t, &[TOKEN_COMPLIANCE], fp)?.1 as usize,
        None => 0,
    };
    let store = app.read();
    let mut using: Vec<&crate::state::data::JobDef> = store
        .jobs
        .iter()
        .enumerate()
        .filter(|(k, j)| !store.deleted_jobs.contains(k) && uses(j, &id))
        .map(|(_, j)| j)
        .collect();
    using.sort_by_key(|j| j.job_id);
    let jobs: Vec<Value> = using
        .iter()
        .skip(offset)
        .take(size)
        .map(|j| compliance(j, true))
        .collect();
    let mut body = Map::new();
    if !jobs.is_empty() {
        body.insert("jobs".into(), Value::Array(jobs));
    }
    if using.len() > offset.saturating_add(size) {
        body.insert(
            "next_page_token".into(),
            json!(encode_token(TOKEN_COMPLIANCE, (offset + size) as u64, fp)),
        );
    }
    if offset > 0 {
        body.insert(
            "prev_page_token".into(),
            json!(encode_token(
                TOKEN_COMPLIANCE,
                offset.saturating_sub(size) as u64,
                fp
            )),
        );
    }
    Ok(Json(Value::Object(body)).into_response())
}

/// `POST enforce-compliance`.
pub(crate) async fn enforce_compliance(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = body_object(&body)?;
    let job_id = body_int(&body, "job_id")?
        .ok_or_else(|| ApiError::invalid("Missing required field: job_id"))?;
    let validate_only = body_bool(&body, "validate_only")?;
    let mut store = app.write();
    let j = store
        .job_index(job_id)
        .ok_or_else(|| ApiError::no_job(job_id))?;
    let mut job = store.jobs[j].clone();
    let changes = enforce(&mut job);
    let settings = Value::Object(full(&job));
    if !validate_only && !changes.is_empty() {
        store.keep_original(j);
        store.jobs[j] = job;
    }
    Ok(Json(json!({
        "has_changes": !changes.is_empty(),
        "job_cluster_changes": changes,
        "settings": settings,
    }))
    .into_response())
}
