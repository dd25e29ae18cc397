//! The Databricks Python SDK baseline: a virtualenv under `target/bench-venv` with
//! `databricks-sdk` from PyPI (created on first use, reused after), and the command that runs
//! `examples/bench_sdk.py` against an emulator. Without python3 or the registry, [`prepare`]
//! says why, and the benchmark skips the SDK rows with that note.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::child::output_of;
use super::error::BenchError;

/// A ready Python with the SDK.
#[derive(Debug, Clone)]
pub struct Sdk {
    python: PathBuf,
    script: PathBuf,
    /// `databricks-sdk` version.
    pub version: String,
    /// Python version.
    pub python_version: String,
}

/// Create (or reuse) the virtualenv at `venv` and install the SDK; `Err` is the reason to skip.
pub fn prepare(venv: &Path, script: &Path) -> Result<Sdk, String> {
    let python = venv.join("bin").join("python");
    if !python.exists() {
        let base = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| "python3".to_string());
        eprintln!("bench: creating a virtualenv at {}", venv.display());
        output_of(
            "python3 -m venv",
            Command::new(&base).args(["-m", "venv"]).arg(venv),
        )
        .map_err(|e| format!("no usable python3 ({e})"))?;
    }
    let probe = |python: &Path| -> Result<String, BenchError> {
        output_of(
            "import databricks.sdk",
            Command::new(python).args([
                "-c",
                "import databricks.sdk.version as v; print(v.__version__)",
            ]),
        )
    };
    let version = match probe(&python) {
        Ok(v) => v,
        Err(_) => {
            eprintln!(
                "bench: pip install databricks-sdk (into {})",
                venv.display()
            );
            output_of(
                "pip install databricks-sdk",
                Command::new(&python).args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "databricks-sdk",
                ]),
            )
            .map_err(|e| format!("cannot install databricks-sdk from the registry ({e})"))?;
            probe(&python).map_err(|e| format!("databricks-sdk installed but unusable ({e})"))?
        }
    };
    let python_version = output_of("python --version", Command::new(&python).arg("--version"))
        .map(|v| v.trim().trim_start_matches("Python ").to_string())
        .unwrap_or_default();
    Ok(Sdk {
        python,
        script: script.to_path_buf(),
        version: version.trim().to_string(),
        python_version,
    })
}

impl Sdk {
    /// The command listing every run of the workspace at `base_url`.
    pub fn command(&self, base_url: &str, token: &str) -> Command {
        let mut cmd = Command::new(&self.python);
        cmd.arg(&self.script).arg(base_url).arg(token);
        // Only the host and token given: no profile or environment may change the client.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("DATABRICKS_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg");
        cmd
    }
}

/// The rows an SDK run reported (`rows N seconds S`), and its own seconds.
pub fn parse_output(head: &str) -> Result<(usize, f64), BenchError> {
    let bad = || BenchError::Output {
        what: "bench_sdk.py".to_string(),
        text: head.chars().take(200).collect(),
    };
    let words: Vec<&str> = head.split_whitespace().collect();
    match words.as_slice() {
        ["rows", rows, "seconds", secs, ..] => Ok((
            rows.parse().map_err(|_| bad())?,
            secs.parse().map_err(|_| bad())?,
        )),
        _ => Err(bad()),
    }
}
