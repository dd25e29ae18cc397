//! Scenario g — `jobsql sync` (issue 18): a first sync of the slow emulator's whole history
//! into a fresh Delta table, then a re-sync with no new runs, each one process measured
//! (wall time, peak RSS, CPU) with its requests from the emulator's log and the runs it
//! reports as new.

use std::path::Path;
use std::process::Command;

use super::child::run_measured;
use super::emulator::Emulator;
use super::error::BenchError;
use super::report::{Row, Sample, Summary};
use super::sides::Programs;

/// The number before ` new,` in the summary line (`... : 100000 new, 0 updated, ...`).
fn new_runs(head: &str) -> usize {
    head.split(": ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Scenario g's rows: `runs` runs at `ms` of latency.
pub fn run(
    p: &Programs,
    runs: usize,
    ms: u64,
    logs: &Path,
    rows: &mut Vec<Row>,
) -> Result<(), BenchError> {
    let emu = Emulator::start(
        &p.jobsql,
        runs,
        ms,
        logs.join(format!("emulator-sync-{runs}.log")),
    )?;
    eprintln!(
        "bench: emulator {} ({runs} runs, {ms} ms) for jobsql sync",
        emu.base_url
    );
    let history = logs.join("sync-history");
    let _ = std::fs::remove_dir_all(&history);
    for label in ["first sync", "re-sync, no new runs"] {
        let mark = emu.mark()?;
        let mut cmd = Command::new(&p.jobsql);
        // The scenario: the job runs (a plain `jobsql sync` also syncs the task runs).
        cmd.args(["sync", "--table", "job_runs"])
            .arg("--to")
            .arg(&history)
            .env("DATABRICKS_HOST", &emu.base_url)
            .env("DATABRICKS_TOKEN", &emu.token)
            .env("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
            .env_remove("DATABRICKS_CONFIG_PROFILE")
            .env_remove("JOBSQL_HISTORY");
        let m = run_measured(&format!("jobsql sync ({label})"), &mut cmd)?;
        let requests = emu.requests_since(mark)?;
        let lists = requests
            .iter()
            .filter(|r| r.path.ends_with("runs/list"))
            .count();
        let gets = requests
            .iter()
            .filter(|r| r.path.ends_with("runs/get"))
            .count();
        rows.push(Row {
            scenario: format!("g. `jobsql sync`: {label}, {runs} runs, {ms} ms"),
            jobsql: Some(Summary {
                samples: vec![Sample {
                    wall: m.wall,
                    rss_kib: m.max_rss_kib,
                    cpu: m.cpu,
                    requests: requests.len(),
                    rows: new_runs(&m.head),
                }],
            }),
            baseline_name: "—".into(),
            baseline: None,
            target: None,
            note: format!(
                "{lists} runs/list + {gets} runs/get; rows = runs reported new; `{}`",
                m.head.trim()
            ),
        });
    }
    let _ = std::fs::remove_dir_all(&history);
    Ok(())
}
