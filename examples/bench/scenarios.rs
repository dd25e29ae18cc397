//! The scenarios of issue 6, grouped by the emulator they need (one emulator process per
//! size and latency, started, used, stopped):
//!
//! * a — overhead at zero latency: full scan vs the request floor (target ≤ 1.2×);
//! * b — latency hiding at 50 ms: full scan vs the sequential floor (target ≥ 5× faster), and
//!   with `--max-concurrency 1` when jobsql has it;
//! * c — the Databricks Python SDK at 0 and 50 ms (targets: faster; ≥ 5× faster);
//! * d — peak RSS of a full scan of 100,000 and 1,000,000 runs (target < 100 MB);
//! * e — requests per query: `LIMIT 5`, `run_id IN (10 ids)`, `count(*)`;
//! * f — the queries analysts write (issue 16): newest-10, newest-10 for 3 jobs, a 6-hour
//!   window ([`super::analysts`]);
//! * g — `jobsql sync` (issue 18): a first sync and a re-sync of `sync_runs` runs at the slow
//!   latency ([`super::sync`]).

use std::path::Path;

use super::emulator::Emulator;
use super::error::BenchError;
use super::floor::first_ids;
use super::report::Row;
use super::sides::{alone, interleave, Programs, Side};

/// The table every scan reads.
pub const TABLE: &str = "databricks_workspace.jobs.job_runs";

/// What to run, and how often.
pub struct Plan {
    /// Runs in the main emulator (a, b, c, e).
    pub runs: usize,
    /// Latency of the slow emulator (b, c, e), ms.
    pub latency_ms: u64,
    /// Runs per side per scenario.
    pub repeat: usize,
    /// The memory scenario's sizes (d).
    pub memory_runs: Vec<usize>,
    /// Runs per side at the largest memory size.
    pub big_repeat: usize,
    /// Scenario letters to run.
    pub only: String,
    /// Runs in the emulator of the sync scenario (g).
    pub sync_runs: usize,
}

impl Plan {
    fn wants(&self, letter: char) -> bool {
        self.only.contains(letter)
    }
}

fn scan_sql() -> String {
    format!("SELECT run_id, state FROM {TABLE}")
}

fn full_floor() -> Side<'static> {
    Side::Floor(vec!["--limit".into(), "25".into()])
}

fn mib_check(mib: f64) -> String {
    format!(
        "peak RSS {mib:.1} MiB — target < 100 MB (95.4 MiB) {}",
        if mib < 95.37 { "✅" } else { "❌" }
    )
}

/// Run every planned scenario; the rows in table order.
pub fn run_all(p: &Programs, plan: &Plan, logs: &Path) -> Result<Vec<Row>, BenchError> {
    let mut rows = Vec::new();
    let scan = scan_sql();
    let n = plan.runs;
    if plan.wants('a') || plan.wants('c') || plan.wants('e') {
        let emu = Emulator::start(&p.jobsql, n, 0, logs.join("emulator-0ms.log"))?;
        eprintln!("bench: emulator {} ({n} runs, 0 ms)", emu.base_url);
        let scan_side = Side::Jobsql {
            sql: &scan,
            extra: vec![],
        };
        // Warm-up (not measured): the binaries' pages into the page cache, the emulator's
        // first answers.
        let one = Side::Floor(vec![
            "--limit".into(),
            "25".into(),
            "--max-pages".into(),
            "4".into(),
        ]);
        let select_one = Side::Jobsql {
            sql: "SELECT 1",
            extra: vec![],
        };
        interleave(p, &emu, &select_one, Some(&one), 2)?;
        let start = alone(
            p,
            &emu,
            &Side::Jobsql {
                sql: "SELECT 1",
                extra: vec![],
            },
            plan.repeat,
        )?;
        rows.push(Row {
            scenario: "process start: `SELECT 1` (no request)".into(),
            jobsql: Some(start.0),
            baseline_name: "—".into(),
            baseline: None,
            target: None,
            note: String::new(),
        });
        let pair = interleave(p, &emu, &scan_side, Some(&full_floor()), plan.repeat)?;
        let jobsql_scan = pair.jobsql.clone();
        if plan.wants('a') {
            rows.push(Row {
                scenario: format!("a. full scan, {n} runs, 0 ms"),
                jobsql: Some(pair.jobsql),
                baseline_name: "request floor".into(),
                baseline: pair.baseline,
                target: Some(1.2),
                note: String::new(),
            });
        }
        if plan.wants('a') && p.max_concurrency {
            // Sequential against sequential: jobsql's own cost per page, without parallelism.
            let one = Side::Jobsql {
                sql: &scan,
                extra: vec!["--max-concurrency".into(), "1".into()],
            };
            let pair = interleave(p, &emu, &one, Some(&full_floor()), plan.repeat)?;
            rows.push(Row {
                scenario: "a. same, `--max-concurrency 1`, 0 ms".into(),
                jobsql: Some(pair.jobsql),
                baseline_name: "request floor".into(),
                baseline: pair.baseline,
                target: None,
                note: "sequential against sequential: jobsql's overhead per page alone".into(),
            });
        }
        if plan.wants('c') {
            rows.push(sdk_row(p, &emu, jobsql_scan, plan.repeat, Some(1.0))?);
        }
        if plan.wants('e') {
            let count_sql = format!("SELECT count(*) FROM {TABLE}");
            let count = Side::Jobsql {
                sql: &count_sql,
                extra: vec![],
            };
            let pair = interleave(p, &emu, &count, Some(&full_floor()), plan.repeat)?;
            let expanded = pair
                .trace
                .requests
                .iter()
                .filter(|r| r.param("expand_tasks") == Some("true"))
                .count();
            let value = pair.trace.head.lines().nth(1).unwrap_or("?").to_string();
            rows.push(Row {
                scenario: format!("e. `count(*)`, {n} runs, 0 ms"),
                jobsql: Some(pair.jobsql),
                baseline_name: "request floor".into(),
                baseline: pair.baseline,
                target: None,
                note: format!(
                    "count = {value}; requests with expand_tasks=true: {expanded} {}",
                    if expanded == 0 { "✅" } else { "❌" }
                ),
            });
        }
    }
    if plan.wants('b') || plan.wants('c') || plan.wants('e') || plan.wants('f') {
        slow(p, plan, logs, &mut rows)?;
    }
    if plan.wants('d') {
        for (i, &size) in plan.memory_runs.iter().enumerate() {
            let emu = Emulator::start(
                &p.jobsql,
                size,
                0,
                logs.join(format!("emulator-{size}.log")),
            )?;
            eprintln!("bench: emulator {} ({size} runs, 0 ms)", emu.base_url);
            let repeat = if i + 1 == plan.memory_runs.len() {
                plan.big_repeat
            } else {
                plan.repeat
            };
            let side = Side::Jobsql {
                sql: &scan,
                extra: vec![],
            };
            let pair = interleave(p, &emu, &side, Some(&full_floor()), repeat)?;
            let note = mib_check(pair.jobsql.rss_mib());
            rows.push(Row {
                scenario: format!("d. memory: full scan, {size} runs, 0 ms"),
                jobsql: Some(pair.jobsql),
                baseline_name: "request floor".into(),
                baseline: pair.baseline,
                target: None,
                note,
            });
        }
    }
    if plan.wants('g') {
        super::sync::run(p, plan.sync_runs, plan.latency_ms, logs, &mut rows)?;
    }
    Ok(rows)
}

/// The scenarios on the slow emulator: b, c at latency, e's LIMIT and IN, f's queries.
fn slow(p: &Programs, plan: &Plan, logs: &Path, rows: &mut Vec<Row>) -> Result<(), BenchError> {
    let (n, ms) = (plan.runs, plan.latency_ms);
    let emu = Emulator::start(&p.jobsql, n, ms, logs.join(format!("emulator-{ms}ms.log")))?;
    eprintln!("bench: emulator {} ({n} runs, {ms} ms)", emu.base_url);
    let scan = scan_sql();
    let scan_side = Side::Jobsql {
        sql: &scan,
        extra: vec![],
    };
    if plan.wants('b') || plan.wants('c') {
        let pair = interleave(p, &emu, &scan_side, Some(&full_floor()), plan.repeat)?;
        let jobsql_scan = pair.jobsql.clone();
        if plan.wants('b') {
            rows.push(Row {
                scenario: format!("b. full scan, {n} runs, {ms} ms"),
                jobsql: Some(pair.jobsql),
                baseline_name: "sequential floor".into(),
                baseline: pair.baseline.clone(),
                target: Some(0.2),
                note: String::new(),
            });
            if p.max_concurrency {
                let one = Side::Jobsql {
                    sql: &scan,
                    extra: vec!["--max-concurrency".into(), "1".into()],
                };
                let (summary, _) = alone(p, &emu, &one, plan.repeat)?;
                rows.push(Row {
                    scenario: format!("b. same, `--max-concurrency 1`, {ms} ms"),
                    jobsql: Some(summary),
                    baseline_name: "sequential floor".into(),
                    baseline: pair.baseline,
                    target: None,
                    note: String::new(),
                });
            } else {
                rows.push(Row {
                    scenario: "b. same, `--max-concurrency 1`".into(),
                    jobsql: None,
                    baseline_name: "—".into(),
                    baseline: None,
                    target: None,
                    note: "not run: this jobsql has no --max-concurrency option".into(),
                });
            }
        }
        if plan.wants('c') {
            rows.push(sdk_row(p, &emu, jobsql_scan, plan.repeat, Some(0.2))?);
        }
    }
    if plan.wants('e') {
        let limit_sql = format!("SELECT run_id, state FROM {TABLE} LIMIT 5");
        let limit = Side::Jobsql {
            sql: &limit_sql,
            extra: vec![],
        };
        let one_page = Side::Floor(vec![
            "--limit".into(),
            "5".into(),
            "--max-pages".into(),
            "1".into(),
        ]);
        let pair = interleave(p, &emu, &limit, Some(&one_page), plan.repeat)?;
        let r = pair.jobsql.requests();
        rows.push(Row {
            scenario: format!("e. `LIMIT 5`, {ms} ms"),
            jobsql: Some(pair.jobsql),
            baseline_name: "one request".into(),
            baseline: pair.baseline,
            target: None,
            note: format!(
                "{r} request(s) — target 1 {}",
                if r == "1" { "✅" } else { "❌" }
            ),
        });
        let ids = first_ids(&emu.base_url, &emu.token, 10)?;
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let in_sql = format!(
            "SELECT run_id, state FROM {TABLE} WHERE run_id IN ({})",
            list.join(", ")
        );
        let by_id = Side::Jobsql {
            sql: &in_sql,
            extra: vec![],
        };
        let gets = Side::Floor(vec!["--get".into(), list.join(",")]);
        let pair = interleave(p, &emu, &by_id, Some(&gets), plan.repeat)?;
        let gets: Vec<_> = pair
            .trace
            .requests
            .iter()
            .filter(|r| r.path.ends_with("/runs/get"))
            .collect();
        let paged = gets
            .iter()
            .filter(|r| r.param("page_token").is_some())
            .count();
        let note = format!(
            "{} runs/get of {} requests (target: 10 gets), of which {paged} next pages of a run's \
             lists (a run with more than 100 tasks); one round trip is {ms} ms, and jobsql's \
             wall time includes its process start (first row)",
            gets.len(),
            pair.trace.requests.len(),
        );
        rows.push(Row {
            scenario: format!("e. `run_id IN (10 ids)`, {ms} ms"),
            jobsql: Some(pair.jobsql),
            baseline_name: "10 sequential gets".into(),
            baseline: pair.baseline,
            target: None,
            note,
        });
    }
    if plan.wants('f') {
        super::analysts::run(p, &emu, ms, plan.repeat, rows)?;
    }
    Ok(())
}

/// jobsql's scan (already measured) against the Python SDK on `emu`.
fn sdk_row(
    p: &Programs,
    emu: &Emulator,
    jobsql_scan: super::report::Summary,
    repeat: usize,
    target: Option<f64>,
) -> Result<Row, BenchError> {
    let scenario = format!(
        "c. full scan vs Python SDK `list_runs`, {} runs, {} ms",
        emu.runs, emu.latency_ms
    );
    match &p.sdk {
        Ok(sdk) => {
            let (summary, trace) = alone(p, emu, &Side::Sdk(sdk), repeat)?;
            let limits: Vec<&str> = trace
                .requests
                .iter()
                .filter_map(|r| r.param("limit"))
                .collect();
            let note = format!(
                "databricks-sdk {} on Python {}; its pages: limit={}",
                sdk.version,
                sdk.python_version,
                limits.first().copied().unwrap_or("(not sent)")
            );
            Ok(Row {
                scenario,
                jobsql: Some(jobsql_scan),
                baseline_name: "Python SDK".into(),
                baseline: Some(summary),
                target,
                note,
            })
        }
        Err(why) => Ok(Row {
            scenario,
            jobsql: Some(jobsql_scan),
            baseline_name: "Python SDK: skipped".into(),
            baseline: None,
            target,
            note: format!("skipped: {why}"),
        }),
    }
}
