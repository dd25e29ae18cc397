//! The generated clean rooms: a few rooms, each with its notebook task runs (newest first),
//! a pure function of the seed and the start instant. Served by
//! the clean-room list handler (`routes::cleanrooms`).

use serde_json::{json, Map, Value};

use super::data::{h, pick};

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
