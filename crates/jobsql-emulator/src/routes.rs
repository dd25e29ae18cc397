//! The top layer: the axum handlers, one module per group of endpoints (`runs_read`,
//! `runs_write`, `jobs_read`, `jobs_write`, `task_runs`, `permissions`, `policies`,
//! `cleanrooms`, `oauth`), the middleware every
//! request goes through (`middleware`), and here the router: every endpoint under each
//! accepted API version prefix, the middleware stack and a fallback answering unknown paths
//! with `ENDPOINT_NOT_FOUND`. A handler module uses `state`, `domain` and `render`, never
//! another handler module; only this router names them all.

mod cleanrooms;
mod jobs_read;
mod jobs_write;
mod middleware;
mod oauth;
mod permissions;
mod policies;
mod runs_read;
mod runs_write;
mod task_runs;

use std::sync::Arc;

use axum::http::{Method, Uri};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::Router;

use crate::domain::errors::ApiError;
use crate::state::app::App;

/// Build the router for `app`.
pub(crate) fn router(app: Arc<App>) -> Router {
    let mut router = Router::new();
    for version in ["2.2", "2.1", "2.0"] {
        let p = format!("/api/{version}/jobs");
        router = router
            .route(&format!("{p}/runs/list"), get(runs_read::list))
            .route(&format!("{p}/runs/get"), get(runs_read::get))
            .route(&format!("{p}/runs/export"), get(task_runs::export))
            .route(&format!("{p}/runs/get-output"), get(task_runs::get_output))
            .route(&format!("{p}/runs/submit"), post(runs_write::submit))
            .route(&format!("{p}/runs/delete"), post(runs_write::delete))
            .route(&format!("{p}/runs/cancel"), post(runs_write::cancel))
            .route(
                &format!("{p}/runs/cancel-all"),
                post(runs_write::cancel_all),
            )
            .route(&format!("{p}/runs/repair"), post(runs_write::repair))
            .route(&format!("{p}/list"), get(jobs_read::list))
            .route(&format!("{p}/get"), get(jobs_read::get))
            .route(&format!("{p}/create"), post(jobs_write::create))
            .route(&format!("{p}/reset"), post(jobs_write::reset))
            .route(&format!("{p}/update"), post(jobs_write::update))
            .route(&format!("{p}/delete"), post(jobs_write::delete))
            .route(&format!("{p}/run-now"), post(jobs_write::run_now));
    }
    router
        .route(
            "/api/2.0/permissions/jobs/{job_id}",
            get(permissions::get)
                .patch(permissions::update)
                .put(permissions::set),
        )
        .route(
            "/api/2.0/permissions/jobs/{job_id}/permissionLevels",
            get(permissions::levels),
        )
        .route("/api/2.0/policies/jobs/get-compliance", get(policies::get))
        .route(
            "/api/2.0/policies/jobs/list-compliance",
            get(policies::list),
        )
        .route(
            "/api/2.0/policies/jobs/enforce-compliance",
            post(policies::enforce_compliance),
        )
        .route("/api/2.0/clean-rooms", get(cleanrooms::rooms))
        .route(
            "/api/2.0/clean-rooms/{clean_room_name}",
            delete(cleanrooms::delete),
        )
        .route(
            "/api/2.0/clean-rooms/{clean_room_name}/runs",
            get(cleanrooms::list),
        )
        .route(
            "/oidc/.well-known/oauth-authorization-server",
            get(oauth::discovery),
        )
        .route("/oidc/v1/token", post(oauth::token))
        .fallback(fallback)
        .method_not_allowed_fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            middleware::middleware,
        ))
        .with_state(app)
}

async fn fallback(method: Method, uri: Uri) -> impl IntoResponse {
    ApiError::no_endpoint(method.as_str(), uri.path())
}
