//! The two sides of a scenario, each one measured child process: `jobsql query --format csv`
//! (the release binary, pointed at the emulator with `DATABRICKS_HOST` / `DATABRICKS_TOKEN`),
//! the request floor (this program re-run as `bench floor ...`), or the Python SDK script.
//! [`interleave`] runs a scenario's sides alternately, so drift in a shared machine's load hits
//! both alike.

use std::path::PathBuf;
use std::process::Command;

use super::child::{run_measured, Measured};
use super::emulator::{Emulator, LoggedRequest};
use super::error::BenchError;
use super::report::{Sample, Summary};
use super::sdk::{parse_output, Sdk};

/// What the sides need: the programs to run.
pub struct Programs {
    /// The release `jobsql` binary.
    pub jobsql: PathBuf,
    /// This benchmark's own executable (for `bench floor`).
    pub bench: PathBuf,
    /// The Python SDK, or why it is skipped.
    pub sdk: Result<Sdk, String>,
    /// Whether `jobsql query` takes `--max-concurrency`.
    pub max_concurrency: bool,
}

/// What a run left besides its sample: its stdout head and its requests.
#[derive(Debug, Default)]
pub struct Trace {
    /// The first KiB of stdout.
    pub head: String,
    /// The requests it made.
    pub requests: Vec<LoggedRequest>,
}

/// One side of a scenario: something that can be run once and measured.
pub enum Side<'a> {
    /// `jobsql query --format csv [extra...] SQL`.
    Jobsql {
        /// The SQL.
        sql: &'a str,
        /// Extra `jobsql query` options.
        extra: Vec<String>,
    },
    /// `bench floor --base-url .. --token .. [args...]`.
    Floor(Vec<String>),
    /// `bench_sdk.py HOST TOKEN`.
    Sdk(&'a Sdk),
}

impl Side<'_> {
    fn run(&self, p: &Programs, emu: &Emulator) -> Result<(Sample, Trace), BenchError> {
        let mark = emu.mark()?;
        let (m, rows) = match self {
            Side::Jobsql { sql, extra } => {
                let mut cmd = Command::new(&p.jobsql);
                cmd.args(["query", "--format", "csv"])
                    .args(extra)
                    .arg(sql)
                    .env("DATABRICKS_HOST", &emu.base_url)
                    .env("DATABRICKS_TOKEN", &emu.token)
                    .env_remove("DATABRICKS_CONFIG_PROFILE");
                let m = run_measured("jobsql query", &mut cmd)?;
                let rows = m.lines.saturating_sub(1);
                (m, rows)
            }
            Side::Floor(args) => {
                let mut cmd = Command::new(&p.bench);
                cmd.arg("floor")
                    .args(["--base-url", &emu.base_url, "--token", &emu.token])
                    .args(args);
                let m = run_measured("the request floor", &mut cmd)?;
                let rows = floor_rows(&m)?;
                (m, rows)
            }
            Side::Sdk(sdk) => {
                let m = run_measured(
                    "the Python SDK script",
                    &mut sdk.command(&emu.base_url, &emu.token),
                )?;
                let rows = parse_output(&m.head)?.0;
                (m, rows)
            }
        };
        let requests = emu.requests_since(mark)?;
        let sample = Sample {
            wall: m.wall,
            rss_kib: m.max_rss_kib,
            cpu: m.cpu,
            requests: requests.len(),
            rows,
        };
        Ok((
            sample,
            Trace {
                head: m.head,
                requests,
            },
        ))
    }
}

fn floor_rows(m: &Measured) -> Result<usize, BenchError> {
    let words: Vec<&str> = m.head.split_whitespace().collect();
    match words.as_slice() {
        ["rows", n, "requests", _] => n.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| BenchError::Output {
        what: "the request floor".to_string(),
        text: m.head.clone(),
    })
}

/// Both sides' summaries, and the last trace of jobsql.
pub struct Pair {
    /// jobsql's runs.
    pub jobsql: Summary,
    /// The baseline's runs, if there was one.
    pub baseline: Option<Summary>,
    /// jobsql's last run's trace.
    pub trace: Trace,
}

/// Run `jobsql` and `baseline` alternately, `repeat` times each.
pub fn interleave(
    p: &Programs,
    emu: &Emulator,
    jobsql: &Side<'_>,
    baseline: Option<&Side<'_>>,
    repeat: usize,
) -> Result<Pair, BenchError> {
    let (mut js, mut bs) = (Vec::new(), Vec::new());
    let mut trace = Trace::default();
    for _ in 0..repeat.max(1) {
        let (s, t) = jobsql.run(p, emu)?;
        js.push(s);
        trace = t;
        if let Some(b) = baseline {
            bs.push(b.run(p, emu)?.0);
        }
    }
    Ok(Pair {
        jobsql: Summary { samples: js },
        baseline: baseline.map(|_| Summary { samples: bs }),
        trace,
    })
}

/// Run `side` alone, `repeat` times.
pub fn alone(
    p: &Programs,
    emu: &Emulator,
    side: &Side<'_>,
    repeat: usize,
) -> Result<(Summary, Trace), BenchError> {
    let mut samples = Vec::new();
    let mut trace = Trace::default();
    for _ in 0..repeat.max(1) {
        let (s, t) = side.run(p, emu)?;
        samples.push(s);
        trace = t;
    }
    Ok((Summary { samples }, trace))
}
