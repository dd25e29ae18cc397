//! `jobsql serve` as a process of its own (the built binary), so that what it does to itself —
//! its peak memory (VmHWM from /proc), an abort — is seen from outside, as an operator sees it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio_postgres::{Client, NoTls};

/// The server process; killed when dropped.
pub struct ServeProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServeProcess {
    /// `jobsql serve --addr 127.0.0.1:0 ARGS` against `base_url` (its token `token`), HOME
    /// `home`, stderr into `log`; started when it has printed its address.
    pub fn start(
        base_url: &str,
        token: &str,
        home: &Path,
        args: &[&str],
        log: std::fs::File,
    ) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jobsql"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .env("DATABRICKS_HOST", base_url)
            .env("DATABRICKS_TOKEN", token)
            .env("HOME", home)
            .env("DATABRICKS_CONFIG_FILE", home.join("none"))
            .env("JOBSQL_HISTORY", "none")
            .env_remove("RUST_BACKTRACE")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("jobsql serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let mut stdout = BufReader::new(stdout);
        stdout.read_line(&mut line).expect("reads");
        // The rest of what it prints is read (and dropped): a closed pipe would end it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let addr = line
            .trim()
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        ServeProcess { child, addr }
    }

    /// The process' peak resident set size so far, in MB.
    pub fn peak_mb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        let line = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .expect("VmHWM");
        let kb: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .expect("a number");
        kb / 1024
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
