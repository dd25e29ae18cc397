//! The read endpoints for runs: `runs/list` (filters, limit/offset, page tokens both ways; under
//! 2.2 each listed run shows at most 100 `tasks`, `job_clusters` and `job_parameters`, with
//! `has_more: true` when it has more) and
//! `runs/get` (100-element pages of tasks, job_clusters, job_parameters and repair_history; a
//! task run id is answered as that task run, see `render::task_run`).
//! Paging follows the version of the prefix ([`Version`]): 2.1 and 2.0 return a run's lists
//! whole (in `runs/get` and in `runs/list` with `expand_tasks`), and 2.0's `runs/list` takes
//! `limit` up to 1000 and answers no page tokens.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

use crate::domain::errors::{ApiError, ApiResult};
use crate::domain::lifecycle::scan;
use crate::domain::params::{
    decode_token, encode_token, fingerprint, Query, Version, TOKEN_GET, TOKEN_NEXT, TOKEN_PREV,
};
use crate::render::model::RunJson;
use crate::render::run::{render, RenderOpts};
use crate::render::task_run::get_task_run;
use crate::render::LIST_PAGE;
use crate::state::app::App;
use crate::state::data::RunType;
use crate::state::store::{RunFilter, Store};

#[derive(Serialize)]
struct ListResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    runs: Vec<RunJson>,
    has_more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_page_token: Option<String>,
}

fn parse_limit(q: &Query, version: Version) -> Result<usize, ApiError> {
    let max = if version == Version::V20 { 1000 } else { 25 };
    match q.int("limit")? {
        None => Ok(20),
        Some(0) => Ok(max),
        Some(n) if (1..=max as i64).contains(&n) => Ok(n as usize),
        Some(n) => Err(ApiError::invalid(format!(
            "Invalid value for parameter limit: {n}. The limit must be between 1 and {max} (0 means the maximum, {max})"
        ))),
    }
}

/// Parse the runs/list filters.
fn parse_filter(q: &Query, store: &Store) -> Result<RunFilter, ApiError> {
    let active_only = q.bool("active_only")?;
    let completed_only = q.bool("completed_only")?;
    if active_only && completed_only {
        return Err(ApiError::invalid(
            "active_only and completed_only cannot both be true",
        ));
    }
    let run_type = match q.get("run_type") {
        None => None,
        Some(s) => Some(RunType::parse(s).ok_or_else(|| {
            ApiError::invalid(format!("Invalid value for parameter run_type: '{s}'. Expected one of JOB_RUN, WORKFLOW_RUN, SUBMIT_RUN"))
        })?),
    };
    let job = match q.int("job_id")? {
        Some(id) => Some(store.job_index(id).ok_or_else(|| ApiError::no_job(id))?),
        None => None,
    };
    Ok(RunFilter {
        job,
        active_only,
        completed_only,
        run_type,
        from: q.non_negative("start_time_from")?,
        to: q.non_negative("start_time_to")?,
    })
}

/// `GET runs/list`.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let version = Version::of(uri.path());
    let q = Query::parse(raw.as_deref());
    let limit = parse_limit(&q, version)?;
    let offset = q.non_negative("offset")?.unwrap_or(0) as usize;
    let expand = q.bool("expand_tasks")?;
    let store = app.read();
    let filter = parse_filter(&q, &store)?;
    let fp = fingerprint(&filter);
    let now = app.now();
    let total = store.total();
    // 2.0 knows no page tokens: it pages by offset only.
    let token = q.token().filter(|_| version != Version::V20);
    let page: Vec<u32> = match token {
        Some(token) => {
            let (kind, cursor) = decode_token(token, &[TOKEN_NEXT, TOKEN_PREV], fp)?;
            let cursor = u32::try_from(cursor)
                .map_err(|_| ApiError::invalid(format!("Invalid page_token: '{token}'")))?;
            if kind == TOKEN_NEXT {
                scan(&store, &filter, now, 0, cursor, true, limit)
            } else {
                let mut v = scan(
                    &store,
                    &filter,
                    now,
                    cursor.saturating_add(1),
                    total,
                    false,
                    limit,
                );
                v.reverse();
                v
            }
        }
        None => {
            let v = scan(
                &store,
                &filter,
                now,
                0,
                total,
                true,
                offset.saturating_add(limit),
            );
            v.into_iter().skip(offset).collect()
        }
    };
    let (has_more, has_prev) = match (page.first(), page.last()) {
        (Some(&first), Some(&last)) => (
            !scan(&store, &filter, now, 0, last, true, 1).is_empty(),
            !scan(&store, &filter, now, first + 1, total, false, 1).is_empty(),
        ),
        _ => (false, false),
    };
    let runs = page
        .iter()
        .map(|&i| {
            let mut run = render(
                &store,
                i,
                now,
                &app.base_url,
                RenderOpts {
                    tasks: expand,
                    history: false,
                },
            );
            if version.pages_lists() {
                // 2.2 lists at most 100 elements of each array (tasks and job_clusters only
                // with expand_tasks) and says so with has_more.
                let truncated =
                    cap(&mut run.tasks) | cap(&mut run.job_clusters) | cap(&mut run.job_parameters);
                run.has_more = truncated.then_some(true);
            }
            run
        })
        .collect();
    let tokens = version != Version::V20;
    let body = ListResponse {
        runs,
        has_more,
        next_page_token: (has_more && tokens)
            .then(|| page.last().map(|&i| encode_token(TOKEN_NEXT, i as u64, fp)))
            .flatten(),
        prev_page_token: (has_prev && tokens)
            .then(|| {
                page.first()
                    .map(|&i| encode_token(TOKEN_PREV, i as u64, fp))
            })
            .flatten(),
    };
    Ok(Json(body).into_response())
}

/// Cut a listed array to [`LIST_PAGE`] elements; whether it was longer.
fn cap<T>(list: &mut Option<Vec<T>>) -> bool {
    match list.as_mut() {
        Some(v) if v.len() > LIST_PAGE => {
            v.truncate(LIST_PAGE);
            true
        }
        _ => false,
    }
}

fn slice<T: Clone>(list: &mut Option<Vec<T>>, page: usize, more: &mut bool) {
    if let Some(v) = list.take() {
        let start = page.saturating_mul(LIST_PAGE);
        *more |= v.len() > start.saturating_add(LIST_PAGE);
        let part: Vec<T> = v.into_iter().skip(start).take(LIST_PAGE).collect();
        if !part.is_empty() {
            *list = Some(part);
        }
    }
}

/// `GET runs/get`.
pub(crate) async fn get(
    State(app): State<Arc<App>>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let paged = Version::of(uri.path()).pages_lists();
    let q = Query::parse(raw.as_deref());
    let run_id = q.required_int("run_id")?;
    let history = q.bool("include_history")?;
    q.bool("include_resolved_values")?;
    let page = match q.token().filter(|_| paged) {
        Some(token) => {
            decode_token(token, &[TOKEN_GET], fingerprint(&(run_id, history)))?.1 as usize
        }
        None => 0,
    };
    let store = app.read();
    let Some(i) = store.index_of_run(run_id) else {
        return match get_task_run(&store, &app, run_id) {
            Some(task_run) => Ok(Json(task_run).into_response()),
            None => Err(ApiError::no_run(run_id)),
        };
    };
    let mut run = render(
        &store,
        i,
        app.now(),
        &app.base_url,
        RenderOpts {
            tasks: true,
            history,
        },
    );
    if !paged {
        return Ok(Json(run).into_response());
    }
    let mut more = false;
    slice(&mut run.tasks, page, &mut more);
    slice(&mut run.job_clusters, page, &mut more);
    slice(&mut run.job_parameters, page, &mut more);
    slice(&mut run.repair_history, page, &mut more);
    run.next_page_token =
        more.then(|| encode_token(TOKEN_GET, page as u64 + 1, fingerprint(&(run_id, history))));
    Ok(Json(run).into_response())
}
