//! The performance benchmark of issue 6: jobsql against the request floor, sequential paging
//! and the Databricks Python SDK, on emulators running out of process; and issue 16's
//! scenario f, the queries analysts write, with their request targets; and scenario g,
//! `jobsql sync` (issue 18): a first sync and a re-sync of 100,000 runs at 50 ms.
//!
//! ```sh
//! cargo run --release --example bench -- [--runs 10000] [--repeat 5] [--python]
//! ```
//!
//! It builds the release `jobsql` binary (`cargo build --release --bin jobsql`; skip with
//! `--no-build`), starts `jobsql emulator` processes (one per size and latency), runs every
//! scenario as separate processes — `jobsql query` and a baseline, alternately, `--repeat` times
//! each — measuring wall time and each child's peak RSS exactly (`wait4`), counting requests in
//! the emulator's log, then prints the table and writes it into `BENCHMARKS.md` with the
//! machine and the date. `--python` adds the SDK (a virtualenv in `target/bench-venv`).

mod child;
mod emulator;
mod error;
mod floor;
mod report;
mod analysts;
mod scenarios;
mod sdk;
mod sides;
mod sync;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

use child::output_of;
use error::BenchError;
use scenarios::Plan;
use sides::Programs;

/// jobsql's performance benchmark (issue 6).
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Args {
    #[command(subcommand)]
    child: Option<ChildCommand>,
    /// Runs in the emulator of scenarios a, b, c, e.
    #[arg(long, default_value_t = 10_000)]
    runs: usize,
    /// Latency of the slow emulator (scenarios b, c, e), in ms.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// Runs of each side of each scenario (the median is reported).
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Sizes of the memory scenario (d), comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [100_000, 1_000_000])]
    memory_runs: Vec<usize>,
    /// Runs of each side at the largest memory size.
    #[arg(long, default_value_t = 1)]
    big_repeat: usize,
    /// Also measure the Databricks Python SDK (installs it into target/bench-venv).
    #[arg(long)]
    python: bool,
    /// Scenarios to run (letters of a, b, c, d, e, f, g).
    #[arg(long, default_value = "abcdefg")]
    only: String,
    /// Runs in the emulator of the sync scenario (g).
    #[arg(long, default_value_t = 100_000)]
    sync_runs: usize,
    /// The jobsql binary (default: target/release/jobsql, built first).
    #[arg(long)]
    jobsql: Option<PathBuf>,
    /// Do not run `cargo build --release --bin jobsql` first.
    #[arg(long)]
    no_build: bool,
    /// Where to write the results (use `-` to write nothing).
    #[arg(long, default_value = "BENCHMARKS.md")]
    output: String,
}

#[derive(Debug, Subcommand)]
enum ChildCommand {
    /// (internal) The request floor, run as a child process.
    #[command(hide = true)]
    Floor(floor::FloorArgs),
}

fn main() -> ExitCode {
    match main_inner(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main_inner(args: Args) -> Result<(), BenchError> {
    if let Some(ChildCommand::Floor(floor_args)) = &args.child {
        return floor::run_child(floor_args);
    }
    if args.only.chars().any(|c| !"abcdefg".contains(c)) {
        return Err(BenchError::Usage(format!(
            "--only takes letters of abcdefg, not {:?}",
            args.only
        )));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let jobsql = match &args.jobsql {
        Some(path) => path.clone(),
        None => {
            if !args.no_build {
                build(root)?;
            }
            target.join("release").join("jobsql")
        }
    };
    if !jobsql.exists() {
        return Err(BenchError::Usage(format!(
            "{} does not exist: build it with `cargo build --release`",
            jobsql.display()
        )));
    }
    let help = output_of(
        "jobsql query --help",
        Command::new(&jobsql).args(["query", "--help"]),
    )?;
    let sdk = if args.python {
        sdk::prepare(
            &target.join("bench-venv"),
            &root.join("examples").join("bench_sdk.py"),
        )
    } else {
        Err("run with --python to include the Databricks Python SDK".to_string())
    };
    if let Err(why) = &sdk {
        eprintln!("bench: Python SDK skipped: {why}");
    }
    let programs = Programs {
        jobsql: jobsql.clone(),
        bench: std::env::current_exe()
            .map_err(|e| BenchError::Usage(format!("cannot find this program: {e}")))?,
        sdk,
        max_concurrency: help.contains("--max-concurrency"),
    };
    let plan = Plan {
        runs: args.runs,
        latency_ms: args.latency_ms,
        repeat: args.repeat.max(1),
        memory_runs: args.memory_runs.clone(),
        big_repeat: args.big_repeat.max(1),
        only: args.only.clone(),
        sync_runs: args.sync_runs,
    };
    let logs = target.join("bench");
    std::fs::create_dir_all(&logs).map_err(|e| BenchError::file(&logs, e))?;
    let machine = report::machine();
    let commit = output_of(
        "git rev-parse",
        Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(root),
    )
    .map_or("unknown".to_string(), |c| c.trim().to_string());
    let binary = match &args.jobsql {
        Some(path) => format!("jobsql binary {}", path.display()),
        None => format!("commit {commit}"),
    };
    let rows = scenarios::run_all(&programs, &plan, &logs)?;
    let generated = describe(&args, &programs, &machine, &rows, &binary);
    println!("{generated}");
    if args.output != "-" {
        let path = root.join(&args.output);
        report::write_benchmarks(&path, &generated)?;
        eprintln!("bench: results written to {}", path.display());
    }
    Ok(())
}

/// `cargo build --release --bin jobsql` (cargo from `$CARGO`, as `cargo run` sets it).
fn build(root: &Path) -> Result<(), BenchError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    eprintln!("bench: cargo build --release --bin jobsql");
    let status = Command::new(cargo)
        .args(["build", "--release", "--bin", "jobsql"])
        .current_dir(root)
        .status()
        .map_err(|source| BenchError::Spawn {
            what: "cargo build".to_string(),
            source,
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(BenchError::ChildFailed {
            what: "cargo build --release --bin jobsql".to_string(),
            status: status.to_string(),
            stderr: "(see above)".to_string(),
        })
    }
}

/// The generated part of BENCHMARKS.md.
fn describe(
    args: &Args,
    p: &Programs,
    machine: &str,
    rows: &[report::Row],
    binary: &str,
) -> String {
    let mut command = format!(
        "cargo run --release --example bench -- --runs {} --repeat {}",
        args.runs, args.repeat
    );
    if args.python {
        command.push_str(" --python");
    }
    if args.only != "abcdefg" {
        command.push_str(&format!(" --only {}", args.only));
    }
    let sdk = match &p.sdk {
        Ok(s) => format!("databricks-sdk {} (Python {})", s.version, s.python_version),
        Err(why) => format!("Python SDK not measured ({why})"),
    };
    format!(
        "## Results ({date}, {binary})\n\n\
         `{command}`\n\n\
         Machine: {machine}; at the end {end}. {sdk}.\n\n\
         Every figure is the median of {repeat} runs (the largest memory size: {big}) of a whole \
         process — start-up included — with jobsql and its baseline run alternately against the \
         same out-of-process emulator. Peak RSS is the child's `ru_maxrss` (`wait4`), the highest \
         of its runs. Requests are counted in the emulator's log. Ratio = jobsql ÷ baseline (below \
         1: jobsql is faster; a target of ≤ 0.20 means at least 5× faster). jobsql prints CSV into \
         a pipe the harness reads and counts (rows). The request floor is a sequential reqwest \
         loop parsing each page into a minimal struct (`run_id`, `state`).\n\n\
         {table}\n{notes}",
        date = report::today(),
        end = report::load(),
        repeat = args.repeat.max(1),
        big = args.big_repeat.max(1),
        table = report::table(rows),
        notes = report::notes(rows),
    )
}
