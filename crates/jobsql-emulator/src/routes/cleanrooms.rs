//! Clean rooms: `GET /api/2.0/clean-rooms` lists the clean rooms (`clean_rooms`: name, owner,
//! created_at, status, local_collaborator_alias; `page_size` default and most 100,
//! `page_token` → `next_page_token`), and `GET /api/2.0/clean-rooms/{clean_room_name}/runs`
//! lists the notebook task runs of a clean room, newest first, with `notebook_name` filter,
//! `page_size` (default 20, at most 100; the public reference says it is currently ignored)
//! and `page_token` → `next_page_token`. `DELETE /api/2.0/clean-rooms/{name}` deletes a room:
//! it and its runs are gone from both listings. The rooms are generated in `state::rooms`; an
//! unknown (or deleted) room is a 404.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::domain::errors::{ApiError, ApiResult};
use crate::domain::params::{decode_token, encode_token, fingerprint, Query, TOKEN_ROOM};
use crate::state::app::App;

/// `GET /api/2.0/clean-rooms`: the rooms in name order.
pub(crate) async fn rooms(State(app): State<Arc<App>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let size = page_size(&q, 100)?;
    let fp = fingerprint(&"clean-rooms");
    let offset = offset(&q, fp)?;
    let mut rooms = app.rooms();
    rooms.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    let page: Vec<Value> = rooms
        .iter()
        .skip(offset)
        .take(size)
        .map(|room| {
            // Created a day before its first run.
            let first = room
                .runs
                .last()
                .and_then(|r| r.get("start_time"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            json!({
                "name": room.name,
                "owner": "alice@example.com",
                "created_at": first - 86_400_000,
                "updated_at": first - 86_400_000,
                "status": "ACTIVE",
                "local_collaborator_alias": "creator",
            })
        })
        .collect();
    let mut body = Map::new();
    body.insert("clean_rooms".into(), Value::Array(page));
    next_page(&mut body, rooms.len(), offset, size, fp);
    Ok(Json(Value::Object(body)).into_response())
}

/// The answer for a room that does not exist (or was deleted).
fn not_found(room: &str) -> ApiError {
    ApiError::not_found(format!("Clean room '{room}' does not exist."))
}

/// `page_size`: `default` when absent or 0, else 1 to 100.
fn page_size(q: &Query, default: usize) -> Result<usize, ApiError> {
    match q.int("page_size")? {
        None | Some(0) => Ok(default),
        Some(n @ 1..=100) => Ok(n as usize),
        Some(n) => Err(ApiError::invalid(format!(
            "Invalid value for parameter page_size: {n}. It must be between 1 and 100"
        ))),
    }
}

/// Where `page_token` (of a listing fingerprinted `fp`) resumes; 0 without one.
fn offset(q: &Query, fp: u64) -> Result<usize, ApiError> {
    match q.token() {
        Some(t) => Ok(decode_token(t, &[TOKEN_ROOM], fp)?.1 as usize),
        None => Ok(0),
    }
}

/// `next_page_token` in `body` when `total` items go past this page.
fn next_page(body: &mut Map<String, Value>, total: usize, offset: usize, size: usize, fp: u64) {
    if total > offset.saturating_add(size) {
        body.insert(
            "next_page_token".into(),
            json!(encode_token(TOKEN_ROOM, (offset + size) as u64, fp)),
        );
    }
}

/// `GET /api/2.0/clean-rooms/{clean_room_name}/runs`.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Path(room): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let size = page_size(&q, 20)?;
    let notebook = q
        .get("notebook_name")
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let fp = fingerprint(&(room.clone(), notebook.clone()));
    let offset = offset(&q, fp)?;
    let r = app.room(&room).ok_or_else(|| not_found(&room))?;
    let matching: Vec<&Value> = r
        .runs
        .iter()
        .filter(|v| {
            notebook
                .as_ref()
                .is_none_or(|n| v.get("notebook_name").and_then(Value::as_str) == Some(n))
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(size)
        .map(|v| (*v).clone())
        .collect();
    let mut body = Map::new();
    if !page.is_empty() {
        body.insert("runs".into(), Value::Array(page));
    }
    next_page(&mut body, matching.len(), offset, size, fp);
    Ok(Json(Value::Object(body)).into_response())
}

/// `DELETE /api/2.0/clean-rooms/{name}`: `{}`, and the room and its runs are gone.
pub(crate) async fn delete(State(app): State<Arc<App>>, Path(room): Path<String>) -> ApiResult {
    let known = app.rooms.iter().any(|r| r.name == room);
    // Checked and marked under one lock: of two deletes, the second is the 404.
    let deleted = known
        && app
            .deleted_rooms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(room.clone());
    if !deleted {
        return Err(not_found(&room));
    }
    Ok(Json(json!({})).into_response())
}
