//! The `jobsql` servers as child processes (the built binary), so that what they take of the
//! machine can be read from outside: [`peak_mb`] (the kernel's VmHWM, the peak resident set),
//! [`ServeProcess`] (`jobsql serve` on 127.0.0.1:0, its address read from what it prints; whether
//! it is still alive, and clients logged in to it) and [`McpProcess`] (`jobsql mcp --addr
//! 127.0.0.1:0`, its URL likewise). Both are killed when dropped; neither sees the machine's
//! workspace settings.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio_postgres::{Client, NoTls};

/// The peak resident set size of process `pid` so far (the kernel's VmHWM), in KiB; `None`
/// once it has no memory (exited).
pub fn peak_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The peak resident set size of running process `pid` so far, in MB.
pub fn peak_mb(pid: u32) -> u64 {
    peak_kb(pid).expect("VmHWM of a running process") / 1024
}

/// `jobsql ARGS` with only `env` and PATH in its environment (no `~/.databrickscfg`, no
/// history file); stdio as the caller sets it.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jobsql"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
        .env("JOBSQL_HISTORY", "none");
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

/// [`command`], started: stdout piped, stderr to `stderr`.
fn spawn(args: &[&str], env: &[(&str, &str)], stderr: Stdio) -> Child {
    command(args, env)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("jobsql starts")
}

/// The first line of `child`'s stdout for which `find` answers, the rest read and dropped in
/// the background (a closed pipe would end it).
fn first_line<T>(child: &mut Child, find: impl Fn(&str) -> Option<T>) -> T {
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let found = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| find(&l))
        .expect("jobsql prints where it listens");
    std::thread::spawn(move || lines.for_each(drop));
    found
}

/// `jobsql serve --addr 127.0.0.1:0 ARGS`; killed when dropped.
pub struct ServeProcess {
    child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
}

impl ServeProcess {
    /// Start it with `args` after `serve --addr 127.0.0.1:0`, `env` its environment.
    pub fn start(args: &[&str], env: &[(&str, &str)], stderr: Stdio) -> ServeProcess {
        let mut all = vec!["serve", "--addr", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut child = spawn(&all, env, stderr);
        let addr = first_line(&mut child, |l| {
            l.trim().rsplit(' ').next().and_then(|a| a.parse().ok())
        });
        ServeProcess { child, addr }
    }

    /// Start it against the workspace at `base_url` (its token `token`), with `args` and the
    /// further environment `env` (`JOBSQL_SERVE_PASSWORD`, ...), its stderr written to `log`.
    pub fn against(
        base_url: &str,
        token: &str,
        args: &[&str],
        env: &[(&str, &str)],
        log: std::fs::File,
    ) -> ServeProcess {
        let mut all = vec![("DATABRICKS_HOST", base_url), ("DATABRICKS_TOKEN", token)];
        all.extend_from_slice(env);
        ServeProcess::start(args, &all, Stdio::from(log))
    }

    /// Its peak resident set size so far, in MB.
    pub fn peak_mb(&self) -> u64 {
        peak_mb(self.child.id())
    }

    /// Whether the process is still running (it has not aborted: not gone, not a zombie).
    pub fn alive(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).is_ok_and(|s| {
            s.lines()
                .find(|l| l.starts_with("State:"))
                .is_some_and(|l| !l.contains("zombie"))
        })
    }

    /// A client logged in as `user` with `password` (any, when the server asks for none).
    pub async fn login(&self, user: &str, password: &str) -> Result<Client, tokio_postgres::Error> {
        let mut config = tokio_postgres::Config::new();
        config
            .host(self.addr.ip().to_string())
            .port(self.addr.port())
            .user(user)
            .password(password)
            .dbname("jobsql")
            .connect_timeout(Duration::from_secs(10));
        let (client, connection) = config.connect(NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `jobsql mcp --addr 127.0.0.1:0 ARGS` (streamable HTTP); killed when dropped.
pub struct McpProcess {
    child: Child,
    /// Its endpoint (`http://127.0.0.1:PORT/mcp`).
    pub url: String,
}

impl McpProcess {
    /// Start it with `args` after `mcp --addr 127.0.0.1:0`, `env` its environment.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> McpProcess {
        let mut all = vec!["mcp", "--addr", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut child = spawn(&all, env, Stdio::inherit());
        let url = first_line(&mut child, |l| {
            l.strip_prefix("jobsql mcp: streamable HTTP on ")
                .map(str::to_string)
        });
        McpProcess { child, url }
    }

    /// Its peak resident set size so far, in MB.
    pub fn peak_mb(&self) -> u64 {
        peak_mb(self.child.id())
    }
}

impl Drop for McpProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
