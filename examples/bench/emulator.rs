//! The emulator, out of process: `jobsql emulator --addr 127.0.0.1:0 --runs N --latency-ms L
//! --log FILE`, its base URL and token read from what it prints. Requests are counted from its
//! JSON-lines log: the emulator writes a request's line before it sends the response, so once a
//! client has exited, every request it made is in the file. Dropping an [`Emulator`] stops it
//! (SIGINT, then SIGKILL), so an error never leaves one running.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::error::BenchError;

/// A running emulator process.
pub struct Emulator {
    child: Child,
    // Kept open so the emulator can still write to its stdout.
    _stdout: BufReader<ChildStdout>,
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub base_url: String,
    /// The bearer token it expects.
    pub token: String,
    /// Its request log.
    pub log: PathBuf,
    /// Runs it holds.
    pub runs: usize,
    /// Latency it adds to every request, in ms.
    pub latency_ms: u64,
}

/// One request from the log.
#[derive(Debug, Deserialize)]
pub struct LoggedRequest {
    /// The path (`/api/2.2/jobs/runs/list`).
    pub path: String,
    /// The query parameters, in order.
    #[serde(default)]
    pub query: Vec<(String, String)>,
}

impl LoggedRequest {
    /// The value of query parameter `name`, if sent.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Emulator {
    /// Start `jobsql emulator` with `runs` runs and `latency_ms` of latency, logging to `log`.
    pub fn start(
        jobsql: &Path,
        runs: usize,
        latency_ms: u64,
        log: PathBuf,
    ) -> Result<Self, BenchError> {
        if log.exists() {
            std::fs::remove_file(&log).map_err(|e| BenchError::file(&log, e))?;
        }
        let what = format!("the emulator ({runs} runs, {latency_ms} ms)");
        let mut child = Command::new(jobsql)
            .args(["emulator", "--addr", "127.0.0.1:0"])
            .args(["--runs", &runs.to_string()])
            .args(["--latency-ms", &latency_ms.to_string()])
            .arg("--log")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| BenchError::Spawn {
                what: what.clone(),
                source,
            })?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(BenchError::EmulatorStart(String::new()));
        };
        let mut stdout = BufReader::new(stdout);
        let (mut base_url, mut token, mut seen) = (None, None, String::new());
        let mut line = String::new();
        loop {
            line.clear();
            match stdout.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            seen.push_str(&line);
            let l = line.trim();
            if let Some(v) = l.strip_prefix("base URL:") {
                base_url = Some(v.trim().to_string());
            } else if let Some(v) = l.strip_prefix("token:") {
                token = Some(v.trim().to_string());
            } else if l.starts_with("Serving until") {
                break;
            }
        }
        let (Some(base_url), Some(token)) = (base_url, token) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(BenchError::EmulatorStart(seen));
        };
        Ok(Emulator {
            child,
            _stdout: stdout,
            base_url,
            token,
            log,
            runs,
            latency_ms,
        })
    }

    /// A mark in the log: requests after it are those made from now on.
    pub fn mark(&self) -> Result<u64, BenchError> {
        std::fs::metadata(&self.log)
            .map(|m| m.len())
            .or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(0),
                _ => Err(BenchError::file(&self.log, e)),
            })
    }

    /// The requests logged after `mark`.
    pub fn requests_since(&self, mark: u64) -> Result<Vec<LoggedRequest>, BenchError> {
        let mut text = String::new();
        match File::open(&self.log) {
            Ok(mut f) => {
                f.seek(SeekFrom::Start(mark))
                    .and_then(|_| f.read_to_string(&mut text))
                    .map_err(|e| BenchError::file(&self.log, e))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(BenchError::file(&self.log, e)),
        }
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).map_err(|_| BenchError::Output {
                    what: format!("the emulator log {}", self.log.display()),
                    text: l.chars().take(200).collect(),
                })
            })
            .collect()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: signalling our own child, which has not been reaped yet.
            unsafe { libc::kill(pid, libc::SIGINT) };
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
