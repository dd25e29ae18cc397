//! Child processes, measured exactly: [`run_measured`] starts a command, counts the lines it
//! writes to stdout (keeping the first few KiB), and reaps it with `wait4`, whose `rusage`
//! gives that one child's peak resident set (`ru_maxrss`) and CPU time — no polling, nothing
//! of the benchmark's own memory mixed in.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::error::BenchError;

/// What one child process cost.
#[derive(Debug, Clone)]
pub struct Measured {
    /// From spawn to exit.
    pub wall: Duration,
    /// Peak resident set size, in KiB (`ru_maxrss`).
    pub max_rss_kib: u64,
    /// User + system CPU time.
    pub cpu: Duration,
    /// Lines written to stdout.
    pub lines: usize,
    /// The first [`HEAD_BYTES`] bytes of stdout.
    pub head: String,
}

/// How much of stdout [`Measured::head`] keeps.
pub const HEAD_BYTES: usize = 4096;

/// Run `cmd` to completion (stdout counted, stderr kept for errors); fail unless it exits 0.
pub fn run_measured(what: &str, cmd: &mut Command) -> Result<Measured, BenchError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|source| BenchError::Spawn {
        what: what.to_string(),
        source,
    })?;
    let pid = child.id();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out_reader = thread::spawn(move || count_lines(stdout));
    let err_reader = thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut e) = stderr {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let waited = wait4(pid);
    let wall = started.elapsed();
    let (lines, head) = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let (status, usage) = waited.map_err(|source| BenchError::Wait {
        what: what.to_string(),
        source,
    })?;
    if let Some(problem) = failure(status) {
        return Err(BenchError::ChildFailed {
            what: what.to_string(),
            status: problem,
            stderr: tail(&stderr, 2000),
        });
    }
    Ok(Measured {
        wall,
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        lines,
        head,
    })
}

/// Run `cmd` and return its stdout, failing unless it exits 0 (no measurement).
pub fn output_of(what: &str, cmd: &mut Command) -> Result<String, BenchError> {
    let out = cmd.output().map_err(|source| BenchError::Spawn {
        what: what.to_string(),
        source,
    })?;
    if !out.status.success() {
        return Err(BenchError::ChildFailed {
            what: what.to_string(),
            status: out.status.to_string(),
            stderr: tail(&String::from_utf8_lossy(&out.stderr), 2000),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn count_lines(stdout: Option<std::process::ChildStdout>) -> (usize, String) {
    let Some(stdout) = stdout else {
        return (0, String::new());
    };
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let (mut lines, mut head) = (0usize, Vec::new());
    loop {
        let n = match reader.fill_buf() {
            Ok([]) | Err(_) => break,
            Ok(buf) => {
                lines += buf.iter().filter(|&&b| b == b'\n').count();
                let room = HEAD_BYTES.saturating_sub(head.len()).min(buf.len());
                head.extend_from_slice(&buf[..room]);
                buf.len()
            }
        };
        reader.consume(n);
    }
    (lines, String::from_utf8_lossy(&head).into_owned())
}

/// Reap `pid`, returning its wait status and resource usage.
fn wait4(pid: u32) -> std::io::Result<(i32, libc::rusage)> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| std::io::Error::other(format!("pid {pid} out of range")))?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value that wait4 overwrites.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; pid is our own unreaped child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// `None` for exit code 0, else the status in words.
fn failure(status: i32) -> Option<String> {
    if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            0 => None,
            code => Some(format!("exit code {code}")),
        }
    } else if libc::WIFSIGNALED(status) {
        Some(format!("killed by signal {}", libc::WTERMSIG(status)))
    } else {
        Some(format!("wait status {status}"))
    }
}

fn timeval(t: libc::timeval) -> Duration {
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let micros = u64::try_from(t.tv_usec).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(micros)
}

/// The last `max` bytes of `s` (on a char boundary), trimmed.
pub fn tail(s: &str, max: usize) -> String {
    let s = s.trim();
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    s[start..].to_string()
}
