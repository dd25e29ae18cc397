//! Clean rooms: `GET /api/2.0/clean-rooms/{clean_room_name}/runs` lists the notebook task
//! runs of a clean room, newest first, with `notebook_name` filter, `page_size` (default 20,
//! at most 100; the public reference says it is currently ignored) and `page_token` →
//! `next_page_token`. A few rooms are generated from the seed; an unknown room is a 404.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};

use super::data::{h, pick};
use super::errors::{ApiError, ApiResult};
use super::params::{decode_token, encode_token, fingerprint, Query, TOKEN_ROOM};
use super::App;

/// A clean room and its task runs (newest first).
#[derive(Debug, Clone)]
pub(crate) struct Room {
    pub name: String,
    pub runs: Vec<Value>,
}

const ROOMS: [(&str, usize, [&str; 3]); 3] = [
    (
        "retail_insights_cr",
        57,
        ["overlap_analysis", "audience_lookalike", "basket_affinity"],
    ),
    (
        "ad_measurement_cr",
        23,
        ["campaign_lift", "reach_frequency", "conversion_join"],
    ),
    (
        "supply_chain_cr",
        6,
        ["supplier_risk", "inventory_match", "lead_time_stats"],
    ),
];

/// Generate the rooms.
pub(crate) fn generate(seed: u64, now: i64) -> Vec<Room> {
    ROOMS
        .iter()
        .enumerate()
        .map(|(r, (name, count, notebooks))| {
            let mut runs: Vec<Value> = (0..*count)
                .map(|k| {
                    let x = (r * 10_000 + k) as u64;
                    let start = now - 86_400_000 * 30 + (k as i64) * (86_400_000 * 30 / *count as i64) + pick(seed, x, 50, 3_600_000) as i64;
                    let duration = 60_000 + pick(seed, x, 51, 1_800_000) as i64;
                    let result = match pick(seed, x, 52, 10) {
                        0 => "FAILED",
                        1 => "CANCELED",
                        _ => "SUCCESS",
                    };
                    let running = k + 1 == *count && r == 0;
                    let nb = notebooks[pick(seed, x, 53, 3) as usize];
                    let mut m = Map::new();
                    m.insert("notebook_name".into(), json!(nb));
                    m.insert(
                        "notebook_job_run_state".into(),
                        if running {
                            json!({"life_cycle_state": "RUNNING"})
                        } else {
                            json!({"life_cycle_state": "TERMINATED", "result_state": result})
                        },
                    );
                    m.insert("start_time".into(), json!(start));
                    if !running {
                        m.insert("run_duration".into(), json!(duration));
                    }
                    m.insert(
                        "collaborator_job_run_info".into(),
                        json!({
                            "collaborator_alias": (["creator", "collaborator_1", "collaborator_2"][pick(seed, x, 54, 3) as usize]),
                            "collaborator_job_id": 100_000_000_000_000 + pick(seed, r as u64, 55, 1_000_000_000) as i64,
                            "collaborator_job_run_id": 200_000_000_000_000 + (k as i64) * 1000 + pick(seed, x, 56, 999) as i64,
                            "collaborator_task_run_id": 200_000_000_000_000 + (k as i64) * 1000 + 1000 - 1 - pick(seed, x, 57, 10) as i64,
                            "collaborator_workspace_id": 1_000_000_000_000_000 + pick(seed, r as u64, 58, 1_000_000_000_000) as i64
                        }),
                    );
                    m.insert("output_schema_name".into(), json!(format!("{nb}_output_{:08x}", h(seed, x, 59) as u32)));
                    m.insert("notebook_etag".into(), json!(format!("{:016x}", h(seed, (r * 10 + k % 3) as u64, 60))));
                    m.insert("notebook_updated_at".into(), json!(start - 86_400_000 * (1 + pick(seed, x, 61, 20) as i64)));
                    if result == "SUCCESS" && !running {
                        m.insert("output_schema_expiration_time".into(), json!(start + duration + 7 * 86_400_000));
                    }
                    Value::Object(m)
                })
                .collect();
            runs.reverse();
            Room { name: name.to_string(), runs }
        })
        .collect()
}

/// `GET /api/2.0/clean-rooms/{clean_room_name}/runs`.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Path(room): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let size = match q.int("page_size")? {
        None | Some(0) => 20,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(ApiError::invalid(format!(
                "Invalid value for parameter page_size: {n}. It must be between 1 and 100"
            )))
        }
    };
    let notebook = q
        .get("notebook_name")
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let fp = fingerprint(&(room.clone(), notebook.clone()));
    let offset = match q.token() {
        Some(t) => decode_token(t, &[TOKEN_ROOM], fp)?.1 as usize,
        None => 0,
    };
    let r = app
        .rooms
        .iter()
        .find(|r| r.name == room)
        .ok_or_else(|| ApiError::not_found(format!("Clean room '{room}' does not exist.")))?;
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
    if matching.len() > offset.saturating_add(size) {
        body.insert(
            "next_page_token".into(),
            json!(encode_token(TOKEN_ROOM, (offset + size) as u64, fp)),
        );
    }
    Ok(Json(Value::Object(body)).into_response())
}
