//! The `jobsql` binary run as a user runs it (arguments and environment in; stdout, stderr and
//! the exit code out), with no real workspace settings leaking in from the machine running the
//! tests; and `jobsql emulator` as a child process.

use std::path::PathBuf;
use std::process::{Command, Output};

/// `jobsql` with `args` and a clean environment.
pub fn jobsql(args: &[&str]) -> Output {
    jobsql_env(args, &[])
}

/// `jobsql` with `args` and extra environment variables.
pub fn jobsql_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jobsql"));
    cmd.args(args)
        // No real workspace settings leak in from the machine running the tests.
        .env_remove("DATABRICKS_HOST")
        .env_remove("DATABRICKS_TOKEN")
        .env_remove("DATABRICKS_CONFIG_PROFILE")
        .env_remove("LAKESAIL_API_URL")
        .env_remove("LAKESAIL_TOKEN")
        .env_remove("DATABRICKS_AUTH_TYPE")
        .env_remove("DATABRICKS_CLIENT_ID")
        .env_remove("DATABRICKS_CLIENT_SECRET")
        .env_remove("ARM_CLIENT_ID")
        .env_remove("ARM_CLIENT_SECRET")
        .env_remove("ARM_TENANT_ID")
        .env("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
        // Nor the machine's run history (~/.local/share/jobsql/history): a test names its own.
        .env("JOBSQL_HISTORY", "none")
        .env_remove("RUST_BACKTRACE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

/// Bytes as text (lossy).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The run's stdout as text.
pub fn stdout(o: &Output) -> String {
    text(&o.stdout)
}

/// The run's stderr as text.
pub fn stderr(o: &Output) -> String {
    text(&o.stderr)
}

/// An empty directory under the system's temp dir, unique to `name` and this process.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jobsql-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `jobsql emulator` on a free port, with the base URL it prints; killed on drop.
pub struct EmulatorProcess {
    child: std::process::Child,
    /// The base URL it printed.
    pub base_url: String,
}

impl EmulatorProcess {
    /// Start `jobsql emulator` on a free port with `extra` arguments.
    pub fn start(extra: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_jobsql"))
            .args(["emulator", "--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the emulator starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let base_url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                l.trim()
                    .strip_prefix("base URL:")
                    .map(|u| u.trim().to_string())
            })
            .expect("the emulator prints its base URL");
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        EmulatorProcess { child, base_url }
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
