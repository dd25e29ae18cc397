//! The top layer of the LakeSail emulator: the axum handlers, one module per group of
//! endpoints (`runs_read`, `runs_write`, `jobs`), the middleware every request goes through
//! (`middleware`), and here the router: every endpoint under `/api/v1`, the middleware, a 404
//! `{"message"}` for an unknown path and a 405 for a known path's other methods. A handler
//! module uses `state`, `domain` and `render`, never another handler module.

mod jobs;
mod middleware;
mod runs_read;
mod runs_write;

use std::sync::Arc;

use axum::http::{Method, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

use crate::lakesail::domain::errors::ApiError;
use crate::lakesail::state::app::App;

/// The API's base path.
pub(crate) const BASE: &str = "/api/v1";

/// Build the router for `app`.
pub(crate) fn router(app: Arc<App>) -> Router {
    let runs = format!("{BASE}/workloads/jobs/{{job}}/runs");
    Router::new()
        .route(&format!("{BASE}/me/jobs/runs"), get(runs_read::mine))
        .route(&format!("{BASE}/workloads/jobs"), get(jobs::list_jobs))
        .route(&runs, get(runs_read::of_job).post(runs_write::create))
        .route(
            &format!("{runs}/{{job_run}}"),
            get(runs_read::describe).delete(runs_write::delete),
        )
        .route(
            &format!("{runs}/{{job_run}}/ready"),
            post(runs_write::ready),
        )
        .route(
            &format!("{runs}/{{job_run}}/retry"),
            post(runs_write::retry),
        )
        .fallback(no_endpoint)
        .method_not_allowed_fallback(not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            middleware::middleware,
        ))
        .with_state(app)
}

async fn no_endpoint(method: Method, uri: Uri) -> impl IntoResponse {
    ApiError::no_endpoint(method.as_str(), uri.path())
}

async fn not_allowed(method: Method, uri: Uri) -> impl IntoResponse {
    ApiError::method_not_allowed(method.as_str(), uri.path())
}
