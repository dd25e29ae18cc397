//! The job permission endpoints (Permissions API, object type `jobs`):
//! `GET /api/2.0/permissions/jobs/{job_id}` (the access-control list, inherited levels
//! included), `GET .../{job_id}/permissionLevels`, `PATCH .../{job_id}` (add or change
//! entries) and `PUT .../{job_id}` (replace the direct entries); PATCH and PUT answer with
//! the whole list, as GET does. The rules are `domain::permissions`'. A job that does not
//! exist (or was deleted) is a 404 `RESOURCE_DOES_NOT_EXIST`; a job id that is not a number a
//! 400 `INVALID_PARAMETER_VALUE`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::Json;

use crate::domain::errors::{ApiError, ApiResult};
use crate::domain::params::body_object;
use crate::domain::permissions;
use crate::render::permissions::{levels as render_levels, object};
use crate::state::app::App;

/// The index of the job `raw` names.
fn job(app: &App, raw: &str) -> Result<(i64, usize), ApiError> {
    let job_id: i64 = raw
        .parse()
        .map_err(|_| ApiError::invalid(format!("Invalid job id: '{raw}'")))?;
    let j = app
        .read()
        .job_index(job_id)
        .ok_or_else(|| ApiError::not_found(format!("Job {job_id} does not exist.")))?;
    Ok((job_id, j))
}

/// `GET /api/2.0/permissions/jobs/{job_id}`.
pub(crate) async fn get(State(app): State<Arc<App>>, Path(raw): Path<String>) -> ApiResult {
    let (job_id, j) = job(&app, &raw)?;
    let acl = app.read().acl(j);
    Ok(Json(object(job_id, &acl)).into_response())
}

/// `GET /api/2.0/permissions/jobs/{job_id}/permissionLevels`.
pub(crate) async fn levels(State(app): State<Arc<App>>, Path(raw): Path<String>) -> ApiResult {
    job(&app, &raw)?;
    Ok(Json(render_levels()).into_response())
}

/// `PATCH /api/2.0/permissions/jobs/{job_id}`.
pub(crate) async fn update(
    State(app): State<Arc<App>>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    change(&app, &raw, &body, permissions::patch)
}

/// `PUT /api/2.0/permissions/jobs/{job_id}`.
pub(crate) async fn set(
    State(app): State<Arc<App>>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    change(&app, &raw, &body, permissions::set)
}

type Rule = fn(
    &[crate::state::acl::AclEntry],
    Vec<crate::state::acl::AclEntry>,
) -> Vec<crate::state::acl::AclEntry>;

fn change(app: &App, raw: &str, body: &[u8], rule: Rule) -> ApiResult {
    let body = body_object(body)?;
    let entries = permissions::parse(&body)?;
    let (job_id, j) = job(app, raw)?;
    let mut store = app.write();
    let acl = rule(&store.acl(j), entries);
    store.acls.insert(j, acl.clone());
    Ok(Json(object(job_id, &acl)).into_response())
}
