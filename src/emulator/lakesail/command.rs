//! `jobsql emulator lakesail`: serve the LakeSail emulator on an address until Ctrl-C, after
//! printing the base URL, the token and the `export LAKESAIL_API_URL=... LAKESAIL_TOKEN=...`
//! line that points jobsql at it. As a command it keeps no request record in memory;
//! `--log FILE` writes every request as a JSON line instead.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::server::{start, LakeSailConfig, LakeSailError, DEFAULT_TOKEN};
use crate::emulator::state::faults::{AfterCommitFault, LostResponse};

/// Arguments of `jobsql emulator lakesail` (`Debug` masks the token).
#[derive(clap::Args, Clone)]
pub struct LakeSailArgs {
    /// Address to listen on (the API is under /api/v1).
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub addr: SocketAddr,
    /// Bearer token clients must send.
    #[arg(long, default_value = DEFAULT_TOKEN)]
    pub token: String,
    /// Seed of the generated history (same seed, same jobs and runs).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of generated jobs.
    #[arg(long, default_value_t = 6)]
    pub jobs: usize,
    /// Number of generated runs (last 60 days; the first job gets about 60% of them).
    #[arg(long, default_value_t = 700)]
    pub runs: usize,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Probability (0..=1) of answering a request with a 429 or 503.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Append every request to this file as JSON lines.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Time per life-cycle step of a released run (ready → starting → ... → succeeded), in ms.
    #[arg(long, default_value_t = 2000)]
    pub phase_ms: u64,
    /// Dispatch a created run (pending → ready) after MS, as the scheduler would; without it a
    /// created run stays pending until released with POST .../ready.
    #[arg(long, value_name = "MS")]
    pub dispatch_ms: Option<u64>,
    /// Process the next TIMES (default 1) successful requests whose path ends with SUFFIX,
    /// then answer 503 instead of the real response (a lost response); repeatable.
    #[arg(long, value_name = "SUFFIX[:TIMES]")]
    pub fault_after_commit: Vec<AfterCommitFault>,
    /// Like --fault-after-commit, but close the connection without any response.
    #[arg(long, value_name = "SUFFIX[:TIMES]")]
    pub drop_after_commit: Vec<AfterCommitFault>,
}

impl std::fmt::Debug for LakeSailArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LakeSailArgs")
            .field("addr", &self.addr)
            .field("token", &"****")
            .field("seed", &self.seed)
            .field("jobs", &self.jobs)
            .field("runs", &self.runs)
            .finish_non_exhaustive()
    }
}

impl LakeSailArgs {
    /// The configuration these arguments describe.
    pub fn config(&self) -> LakeSailConfig {
        LakeSailConfig {
            token: self.token.clone(),
            seed: self.seed,
            jobs: self.jobs,
            runs: self.runs,
            latency: Duration::from_millis(self.latency_ms),
            fault_rate: self.fault_rate,
            log_file: self.log.clone(),
            phase: Duration::from_millis(self.phase_ms),
            auto_dispatch: self.dispatch_ms.map(Duration::from_millis),
            after_commit_faults: self
                .fault_after_commit
                .iter()
                .cloned()
                .chain(self.drop_after_commit.iter().map(|f| AfterCommitFault {
                    mode: LostResponse::Dropped,
                    ..f.clone()
                }))
                .collect(),
            // Nothing reads the in-memory record of a command; `--log` keeps every request.
            record_limit: 0,
            ..LakeSailConfig::default()
        }
    }
}

/// Run `jobsql emulator lakesail` until Ctrl-C.
pub async fn run_command(args: LakeSailArgs) -> Result<(), LakeSailError> {
    let started = std::time::Instant::now();
    let handle = start(args.config(), args.addr).await?;
    println!(
        "jobsql emulator lakesail: {} runs across {} jobs (seed {}), ready in {} ms",
        handle.run_count(),
        args.jobs,
        args.seed,
        started.elapsed().as_millis()
    );
    println!("  base URL: {}", handle.base_url());
    println!("  token:    {}", handle.token());
    println!();
    println!(
        "  export LAKESAIL_API_URL={} LAKESAIL_TOKEN={}",
        handle.base_url(),
        handle.token()
    );
    println!();
    println!("Serving until Ctrl-C.");
    tokio::signal::ctrl_c()
        .await
        .map_err(LakeSailError::Serve)?;
    handle.shutdown().await;
    Ok(())
}
