//! `jobsql emulator lakesail`: serve the LakeSail emulator on an address until Ctrl-C, after
//! printing the base URL, the token and the `export LAKESAIL_API_URL=... LAKESAIL_TOKEN=...`
//! line that points jobsql at it. As a command it keeps no request record in memory;
//! `--log FILE` writes every request as a JSON line instead.

use std::net::SocketAddr;
use std::time::Duration;

use super::server::{start, LakeSailConfig, LakeSailError, DEFAULT_TOKEN};
use crate::shared::knobs::ServeKnobs;

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
    /// The knobs both emulator commands take (latency, faults, the request log).
    #[command(flatten)]
    pub knobs: ServeKnobs,
    /// Time per life-cycle step of a released run (ready → starting → ... → succeeded), in ms.
    #[arg(long, default_value_t = 2000)]
    pub phase_ms: u64,
    /// Dispatch a created run (pending → ready) after MS, as the scheduler would; without it a
    /// created run stays pending until released with POST .../ready.
    #[arg(long, value_name = "MS")]
    pub dispatch_ms: Option<u64>,
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
            latency: self.knobs.latency(),
            fault_rate: self.knobs.fault_rate,
            log_file: self.knobs.log.clone(),
            phase: Duration::from_millis(self.phase_ms),
            auto_dispatch: self.dispatch_ms.map(Duration::from_millis),
            after_commit_faults: self.knobs.after_commit_faults(),
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
