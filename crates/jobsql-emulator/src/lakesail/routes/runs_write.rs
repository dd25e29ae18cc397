//! The job-run writes: `POST /workloads/jobs/{job}/runs` (create: 201 with the new run),
//! `DELETE .../{jobRun}` (204, no body), `POST .../{jobRun}/ready` and
//! `POST .../{jobRun}/retry` (200 with the run). The rules and their 404s and 409s are
//! `domain::rules`; the bodies `domain::body`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::lakesail::domain::body;
use crate::lakesail::domain::errors::ApiError;
use crate::lakesail::domain::rules::{self, Timing};
use crate::lakesail::render::run::render;
use crate::lakesail::state::app::App;

fn timing(app: &App) -> Timing {
    Timing {
        now: app.now(),
        phase_ms: app.phase_ms,
        dispatch_ms: app.dispatch_ms,
    }
}

/// The run `run` as it is now.
fn current(app: &App, job: &str, run: &str) -> Result<Json<serde_json::Value>, ApiError> {
    let store = app.read();
    let r = rules::run(&store, job, run)?;
    Ok(Json(render(r, app.now(), app.phase_ms)))
}

/// `POST /workloads/jobs/{job}/runs`.
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Path(job) = path?;
    let bytes = bytes?;
    let parameters = body::create(&bytes)?;
    let t = timing(&app);
    let mut store = app.write();
    let id = rules::create(&mut store, &job, parameters, &app.user, t)?;
    let r = rules::run(&store, &job, &id)?;
    Ok((StatusCode::CREATED, Json(render(r, t.now, t.phase_ms))).into_response())
}

/// `DELETE /workloads/jobs/{job}/runs/{jobRun}`.
pub(crate) async fn delete(
    State(app): State<Arc<App>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path((job, run)) = path?;
    let t = timing(&app);
    rules::delete(&mut app.write(), &job, &run, t)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /workloads/jobs/{job}/runs/{jobRun}/ready`.
pub(crate) async fn ready(
    State(app): State<Arc<App>>,
    path: Result<Path<(String, String)>, PathRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Path((job, run)) = path?;
    let bytes = bytes?;
    body::ready(&bytes)?;
    let t = timing(&app);
    rules::ready(&mut app.write(), &job, &run, t)?;
    current(&app, &job, &run)
}

/// `POST /workloads/jobs/{job}/runs/{jobRun}/retry`.
pub(crate) async fn retry(
    State(app): State<Arc<App>>,
    path: Result<Path<(String, String)>, PathRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Path((job, run)) = path?;
    let bytes = bytes?;
    let hold = body::retry(&bytes)?;
    let t = timing(&app);
    rules::retry(&mut app.write(), &job, &run, hold, t)?;
    current(&app, &job, &run)
}
