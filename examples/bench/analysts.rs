//! Scenario f — the queries analysts write (issue 16), on the slow emulator: newest-10,
//! newest-10 for `job_id IN (3 jobs)`, a 6-hour window, and the runs of 2 jobs picked by name
//! as a join with the jobs and as `job_id IN (SELECT …)`, each with its requests and wall time
//! against the fewest requests any client could make (`run_id IN (10 ids)` is e's).

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
    /// The names of the first two jobs, and the pages listing their runs (one listing each).
    names: Vec<String>,
    job_pages: usize,
}

/// The pages of the listing at `url` with `query` (25 a page), and the items of each page's
/// `field`, concatenated.
async fn pages(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &[(&str, String)],
    field: &str,
) -> Result<(usize, Vec<Value>), BenchError> {
    let (mut n, mut items, mut next) = (0, Vec::new(), None::<String>);
    loop {
        let mut q = query.to_vec();
        q.push(("limit", "25".to_string()));
        if let Some(t) = &next {
            q.push(("page_token", t.clone()));
        }
        let page: Value = get_json(client, url, token, &q).await?;
        n += 1;
        items.extend(page[field].as_array().cloned().unwrap_or_default());
        next = page["next_page_token"].as_str().map(str::to_string);
        if next.is_none() {
            return Ok((n, items));
        }
    }
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
        let window = [
            ("start_time_from", (newest - 6 * HOUR_MS).to_string()),
            ("start_time_to", newest.to_string()),
        ];
        let window_runs = pages(&client, &url, &emu.token, &window, "runs")
            .await?
            .1
            .len();
        let jobs_url = format!("{}/api/2.2/jobs/get", emu.base_url);
        let (mut names, mut job_pages) = (Vec::new(), 0);
        for id in jobs.iter().take(2) {
            let job: Value = get_json(
                &client,
                &jobs_url,
                &emu.token,
                &[("job_id", id.to_string())],
            )
            .await?;
            names.push(job["settings"]["name"].as_str().unwrap_or("").to_string());
            let by_job = [("job_id", id.to_string())];
            job_pages += pages(&client, &url, &emu.token, &by_job, "runs").await?.0;
        }
        Ok(Facts {
            newest,
            jobs,
            window_runs,
            names,
            job_pages,
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
    by_name(p, emu, ms, repeat, &f, rows)
}

/// The runs of two jobs picked by name: as a join with the jobs, and as `job_id IN
/// (SELECT …)`; the fewest requests are those jobs' listings and one page of jobs.
fn by_name(
    p: &Programs,
    emu: &Emulator,
    ms: u64,
    repeat: usize,
    f: &Facts,
    rows: &mut Vec<Row>,
) -> Result<(), BenchError> {
    let names: Vec<String> = f.names.iter().map(|n| format!("'{n}'")).collect();
    let names = names.join(", ");
    let jobs = "databricks_workspace.jobs.jobs";
    let forms = [
        (
            "join on a job filter",
            format!(
                "SELECT r.run_id, r.state FROM {TABLE} r JOIN {jobs} j ON r.job_id = j.job_id \
                 WHERE j.name IN ({names})"
            ),
        ),
        (
            "`job_id IN (SELECT …)`",
            format!(
                "SELECT run_id, state FROM {TABLE} WHERE job_id IN \
                 (SELECT job_id FROM {jobs} WHERE name IN ({names}))"
            ),
        ),
    ];
    let fewest = f.job_pages + 1;
    for (what, sql) in &forms {
        let side = Side::Jobsql { sql, extra: vec![] };
        let pair = interleave(p, emu, &side, None, repeat)?;
        let n = pair.trace.requests.len();
        let ids: Vec<String> = f.jobs.iter().take(2).map(i64::to_string).collect();
        let runs: Vec<_> = pair
            .trace
            .requests
            .iter()
            .filter(|r| r.path.ends_with("/runs/list"))
            .collect();
        let only = runs.iter().all(|r| {
            r.query
                .iter()
                .any(|(k, v)| k == "job_id" && ids.contains(v))
        });
        rows.push(Row {
            scenario: format!("f. {what} ({} jobs), {ms} ms", f.names.len()),
            jobsql: Some(pair.jobsql),
            baseline_name: "—".into(),
            baseline: None,
            target: None,
            note: format!(
                "{n} request(s), {} of runs: only those jobs' listings {} — fewest any client \
                 could: {fewest} ({} pages of their runs + 1 of jobs; {:.1} s one at a time)",
                runs.len(),
                if only && !runs.is_empty() {
                    "✅"
                } else {
                    "❌"
                },
                f.job_pages,
                fewest as f64 * ms as f64 / 1000.0
            ),
        });
    }
    Ok(())
}
