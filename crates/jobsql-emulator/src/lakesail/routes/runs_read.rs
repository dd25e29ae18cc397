//! The job-run reads: `GET /me/jobs/runs` (every job's runs, merged newest first),
//! `GET /workloads/jobs/{job}/runs` (one job's, newest first; 404 for an unknown job) and
//! `GET /workloads/jobs/{job}/runs/{jobRun}` (one run; 404 for an unknown job or run, or a
//! run of another job).

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde_json::Value;

use crate::lakesail::domain::errors::ApiError;
use crate::lakesail::domain::paging::{page, paging, pairs};
use crate::lakesail::domain::rules;
use crate::lakesail::render::{list, run::render};
use crate::lakesail::state::app::App;

/// `GET /me/jobs/runs`.
pub(crate) async fn mine(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    runs_of(&app, q.as_deref(), None)
}

/// `GET /workloads/jobs/{job}/runs`.
pub(crate) async fn of_job(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let Path(job) = path?;
    runs_of(&app, q.as_deref(), Some(&job))
}

fn runs_of(app: &App, q: Option<&str>, job: Option<&str>) -> Result<Json<Value>, ApiError> {
    let paging = paging(&pairs(q))?;
    let store = app.read();
    if let Some(job) = job {
        rules::job(&store, job)?;
    }
    let now = app.now();
    let runs = store
        .runs_after(paging.after.as_ref())
        .filter(|r| job.is_none_or(|j| r.job_id == j));
    let (runs, marker) = page(runs, &paging, |r| (r.created_ms, r.id.clone()));
    let items = runs.iter().map(|r| render(r, now, app.phase_ms)).collect();
    Ok(Json(list(items, marker)))
}

/// `GET /workloads/jobs/{job}/runs/{jobRun}`.
pub(crate) async fn describe(
    State(app): State<Arc<App>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path((job, run)) = path?;
    let store = app.read();
    let r = rules::run(&store, &job, &run)?;
    Ok(Json(render(r, app.now(), app.phase_ms)))
}
