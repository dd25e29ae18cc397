//! Scenario f — the queries analysts write (issue 16), on the slow emulator: newest-10,
//! newest-10 for `job_id IN (3 jobs)`, and a 6-hour window, each with its requests and wall
//! time against the fewest requests any client could make (`run_id IN (10 ids)` is e's).

use serde_json::Value;

use super::emulator::Emulator;
use super::error::BenchError;
use super::floor::get_json;
use super::report::Row;
use super::scenarios::TABLE;
use super::sides::{interleave, Programs, Side};

const HOUR_MS: i64 = 3_600_000;

/// What the scenarios need of the listing: the newest start time, three job ids, and the
/// runs of the 6-hour window ending at the newest run.
struct Facts {
    newest: i64,
    jobs: Vec<i64>,
    window_runs: usize,
}

/// Facts from the API directly (this process, not jobsql).
fn facts(emu: &Emulator) -> Result<Facts, BenchError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Runtime)?;
    rt.block_on(async {
        let client = reqwest::Client::new();
        let url = format!("{}/api/2.2/jobs/runs/list", emu.base_url);
        let page: Value = get_json(&client, &url, &emu.token, &[("limit", "25".into())]).await?;
        let runs = page["runs"].as_array().cloned().unwrap_or_default();
        let newest = runs
            .first()
            .and_then(|r| r["start_time"].as_i64())
            .unwrap_or(0);
        let mut jobs: Vec<i64> = Vec::new();
        for id in runs.iter().filter_map(|r| r["job_id"].as_i64()) {
            if !jobs.contains(&id) && jobs.len() < 3 {
                jobs.push(id);
            }
        }
        let (mut window_runs, mut token) = (0, None::<String>);
        loop {
            let mut q = vec![
                ("limit", "25".to_string()),
                ("start_time_from", (newest - 6 * HOUR_MS).to_string()),
                ("start_time_to", newest.to_string()),
            ];
            if let Some(t) = &token {
                q.push(("page_token", t.clone()));
            }
            let page: Value = get_json(&client, &url, &emu.token, &q).await?;
            window_runs += page["runs"].as_array().map_or(0, Vec::len);
            token = page["next_page_token"].as_str().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(Facts {
            newest,
            jobs,
            window_runs,
        })
    })
}

/// One page of `limit` runs, as the fewest-requests baseline.
fn one_page(limit: u32) -> Side<'static> {
    Side::Floor(vec![
        "--limit".into(),
        limit.to_string(),
        "--max-pages".into(),
        "1".into(),
    ])
}

/// Scenario f's rows on `emu` (latency `ms`).
pub fn run(
    p: &Programs,
    emu: &Emulator,
    ms: u64,
    repeat: usize,
    rows: &mut Vec<Row>,
) -> Result<(), BenchError> {
    let f = facts(emu)?;
    let check = |got: usize, target: usize| if got <= target { "✅" } else { "❌" };

    let newest_sql =
        format!("SELECT run_id, start_time FROM {TABLE} ORDER BY start_time DESC LIMIT 10");
    let side = Side::Jobsql {
        sql: &newest_sql,
        extra: vec![],
    };
    let pair = interleave(p, emu, &side, Some(&one_page(10)), repeat)?;
    let n = pair.trace.requests.len();
    rows.push(Row {
        scenario: format!("f. newest-10 (`ORDER BY start_time DESC LIMIT 10`), {ms} ms"),
        jobsql: Some(pair.jobsql),
        baseline_name: "one request".into(),
        baseline: pair.baseline,
        target: None,
        note: format!("{n} request(s) — target 1 {}", check(n, 1)),
    });

    let ids: Vec<String> = f.jobs.iter().map(i64::to_string).collect();
    let per_job_sql = format!(
        "SELECT run_id, start_time FROM {TABLE} WHERE job_id IN ({}) \
         ORDER BY start_time DESC LIMIT 10",
        ids.join(", ")
    );
    let side = Side::Jobsql {
        sql: &per_job_sql,
        extra: vec![],
    };
    let pair = interleave(p, emu, &side, None, repeat)?;
    let n = pair.trace.requests.len();
    rows.push(Row {
        scenario: format!("f. newest-10 for `job_id IN ({} jobs)`, {ms} ms", ids.len()),
        jobsql: Some(pair.jobsql),
        baseline_name: "—".into(),
        baseline: None,
        target: None,
        note: format!(
            "{n} request(s) — target {} (one page per job) {}",
            ids.len(),
            check(n, ids.len())
        ),
    });

    let (lo, hi) = (f.newest - 6 * HOUR_MS, f.newest);
    let window_sql = format!(
        "SELECT run_id, state FROM {TABLE} WHERE start_time >= to_timestamp_millis({lo}) \
         AND start_time <= to_timestamp_millis({hi})"
    );
    let side = Side::Jobsql {
        sql: &window_sql,
        extra: vec![],
    };
    let pair = interleave(p, emu, &side, None, repeat)?;
    let n = pair.trace.requests.len();
    let pages = f.window_runs.div_ceil(25).max(1);
    rows.push(Row {
        scenario: format!("f. 6-hour window, {ms} ms"),
        jobsql: Some(pair.jobsql),
        baseline_name: "—".into(),
        baseline: None,
        target: None,
        note: format!(
            "{n} request(s) for {} runs ({pages} pages) — target ≤ p + 1 = {} {}",
            f.window_runs,
            pages + 1,
            check(n, pages + 1)
        ),
    });
    Ok(())
}
