//! The results: [`Summary`] (median wall time, peak RSS, requests and rows of several runs of
//! one side), [`Row`] (one scenario: jobsql against its baseline, with the target), the
//! markdown table, the machine description, and `BENCHMARKS.md`, whose generated part sits
//! between two markers so the hand-written profile notes around it survive a re-run.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::BenchError;

/// One run of one side of a scenario.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Wall time of the process.
    pub wall: Duration,
    /// Its peak RSS in KiB.
    pub rss_kib: u64,
    /// Its CPU time (user + system).
    pub cpu: Duration,
    /// Requests it made (from the emulator's log).
    pub requests: usize,
    /// Rows it returned.
    pub rows: usize,
}

/// Several runs of one side.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The samples, in the order they ran.
    pub samples: Vec<Sample>,
}

impl Summary {
    /// Median wall time.
    pub fn wall(&self) -> Duration {
        median(self.samples.iter().map(|s| s.wall).collect())
    }
    /// Median CPU time.
    pub fn cpu(&self) -> Duration {
        median(self.samples.iter().map(|s| s.cpu).collect())
    }
    /// Highest peak RSS, in MiB.
    pub fn rss_mib(&self) -> f64 {
        self.samples.iter().map(|s| s.rss_kib).max().unwrap_or(0) as f64 / 1024.0
    }
    /// Requests per run (`a–b` when they differed).
    pub fn requests(&self) -> String {
        range(self.samples.iter().map(|s| s.requests))
    }
    /// Rows per run (`a–b` when they differed).
    pub fn rows(&self) -> String {
        range(self.samples.iter().map(|s| s.rows))
    }
}

/// A scenario's result.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub scenario: String,
    /// The jobsql side (None: skipped).
    pub jobsql: Option<Summary>,
    /// The baseline's name.
    pub baseline_name: String,
    /// The baseline side (None: skipped or none).
    pub baseline: Option<Summary>,
    /// The target on jobsql ÷ baseline (`≤ 1.2`), if the issue sets one.
    pub target: Option<f64>,
    /// A note (checks, why skipped).
    pub note: String,
}

impl Row {
    /// jobsql's time ÷ the baseline's.
    pub fn ratio(&self) -> Option<f64> {
        let (j, b) = (self.jobsql.as_ref()?, self.baseline.as_ref()?);
        let b = b.wall().as_secs_f64();
        (b > 0.0).then(|| j.wall().as_secs_f64() / b)
    }
}

/// The results table, in markdown.
pub fn table(rows: &[Row]) -> String {
    let mut s = String::new();
    s.push_str("| scenario | jobsql | baseline | ratio | target | requests (jobsql / baseline) | peak RSS (jobsql / baseline) | CPU (jobsql / baseline) | rows |\n");
    s.push_str("|---|---:|---|---:|---|---|---|---|---|\n");
    for r in rows {
        let j = r.jobsql.as_ref();
        let b = r.baseline.as_ref();
        let time = |x: Option<&Summary>| x.map_or("—".to_string(), |x| secs(x.wall()));
        let baseline = match b {
            Some(b) => format!("{}: {}", r.baseline_name, secs(b.wall())),
            None => r.baseline_name.clone(),
        };
        let ratio = r.ratio().map_or("—".to_string(), |x| format!("{x:.2}"));
        let target = match (r.target, r.ratio()) {
            (Some(t), Some(x)) => format!("≤ {t:.2} {}", if x <= t { "✅" } else { "❌" }),
            (Some(t), None) => format!("≤ {t:.2}"),
            (None, _) => "—".to_string(),
        };
        let pair = |f: &dyn Fn(&Summary) -> String| {
            format!("{} / {}", j.map_or("—".into(), f), b.map_or("—".into(), f))
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.scenario,
            time(j),
            baseline,
            ratio,
            target,
            pair(&|x| x.requests()),
            pair(&|x| format!("{:.1} MiB", x.rss_mib())),
            pair(&|x| secs(x.cpu())),
            pair(&|x| x.rows()),
        );
    }
    s
}

/// The notes under the table, one bullet per row that has one.
pub fn notes(rows: &[Row]) -> String {
    let mut s = String::new();
    for r in rows.iter().filter(|r| !r.note.is_empty()) {
        let _ = writeln!(s, "- **{}**: {}", r.scenario, r.note);
    }
    s
}

/// The machine: cores, CPU model, memory, load, date.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown".to_string(), |m| m.trim().to_string());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or("unknown".to_string(), |kb| {
            format!("{:.1} GiB", kb / 1024.0 / 1024.0)
        });
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{cores} cores (nproc), CPU {model}, {mem_gib} RAM; load average at start {}",
        load()
    )
}

/// `/proc/loadavg`'s first three numbers.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// Today's date (UTC), `YYYY-MM-DD`.
pub fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

const BEGIN: &str =
    "<!-- bench:begin (generated by examples/bench.rs; edit outside these markers) -->";
const END: &str = "<!-- bench:end -->";

/// Put `generated` between the markers of `path` (creating the file if needed).
pub fn write_benchmarks(path: &Path, generated: &str) -> Result<(), BenchError> {
    let old = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(BenchError::file(path, e)),
    };
    let block = format!("{BEGIN}\n{}\n{END}", generated.trim_end());
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{block}{}", &old[..b], &old[e + END.len()..])
        }
        _ => format!("# Benchmarks\n\n{block}\n{old}"),
    };
    std::fs::write(path, new).map_err(|e| BenchError::file(path, e))
}

/// Seconds with a sensible precision.
pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    match v.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2,
    }
}

fn range(values: impl Iterator<Item = usize>) -> String {
    let v: Vec<usize> = values.collect();
    match (v.iter().min(), v.iter().max()) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a}–{b}"),
        _ => "—".to_string(),
    }
}
