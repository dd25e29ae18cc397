//! `GET /workloads/jobs`: the jobs, newest first by `createdAt`, paged with `limit` and
//! `marker` exactly as the run lists are (this emulator's choice: the reference gives the
//! endpoint with `limit` only).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::Json;
use serde_json::Value;

use crate::lakesail::domain::errors::ApiError;
use crate::lakesail::domain::paging::{page, paging, pairs};
use crate::lakesail::render::{job::render, list};
use crate::lakesail::state::app::App;

/// `GET /workloads/jobs`.
pub(crate) async fn list_jobs(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let paging = paging(&pairs(q.as_deref()))?;
    let store = app.read();
    let mut jobs: Vec<_> = store.jobs().iter().collect();
    jobs.sort_by(|a, b| (b.created_ms, &b.id).cmp(&(a.created_ms, &a.id)));
    let key = |j: &&crate::lakesail::state::model::Job| (j.created_ms, j.id.clone());
    let after = paging.after.clone();
    let jobs = jobs
        .into_iter()
        .filter(|j| after.as_ref().is_none_or(|a| key(j) < *a));
    let (jobs, marker) = page(jobs, &paging, key);
    Ok(Json(list(jobs.into_iter().map(render).collect(), marker)))
}
