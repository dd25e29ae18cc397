//! `jobsql emulator`: serve the emulator on an address until Ctrl-C, after printing the base
//! URL, the token and the `export` lines that point jobsql at it. As a command it keeps no
//! request record in memory (it would grow for as long as it serves); `--log FILE` writes
//! every request as a JSON line instead.

use std::net::SocketAddr;
use std::time::Duration;

use super::server::{start, EmulatorConfig, EmulatorError};
use super::state::oauth::OAuthConfig;
use crate::shared::knobs::ServeKnobs;

/// Arguments of `jobsql emulator`.
#[derive(clap::Args, Debug, Clone)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Bearer token clients must send.
    #[arg(long, default_value = "dev-emulator-token")]
    pub token: String,
    /// Seed of the generated data (same seed, same workspace).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of generated jobs.
    #[arg(long, default_value_t = 20)]
    pub jobs: usize,
    /// Number of generated runs (history of the last 60 days).
    #[arg(long, default_value_t = 2000)]
    pub runs: usize,
    /// The knobs both emulator commands take (latency, faults, the request log).
    #[command(flatten)]
    pub knobs: ServeKnobs,
    /// Time per life-cycle step (QUEUED/PENDING → RUNNING → TERMINATED) of new runs, in ms.
    #[arg(long, default_value_t = 2000)]
    pub phase_ms: u64,
    /// The OAuth client id its token endpoint (`/oidc/v1/token`) accepts.
    #[arg(long, default_value = "dev-emulator-client")]
    pub client_id: String,
    /// That client's secret.
    #[arg(long, default_value = "dev-emulator-client-secret")]
    pub client_secret: String,
    /// Lifetime of the OAuth tokens it issues, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_lifetime_secs: u64,
}

impl EmulatorArgs {
    /// The configuration these arguments describe.
    pub fn config(&self) -> EmulatorConfig {
        EmulatorConfig {
            token: self.token.clone(),
            seed: self.seed,
            jobs: self.jobs,
            runs: self.runs,
            latency: self.knobs.latency(),
            fault_rate: self.knobs.fault_rate,
            log_file: self.knobs.log.clone(),
            now_ms: None,
            clock: None,
            phase: Duration::from_millis(self.phase_ms),
            after_commit_faults: self.knobs.after_commit_faults(),
            // Nothing reads the in-memory record of a command; `--log` keeps every request.
            record_limit: 0,
            oauth: OAuthConfig {
                client_id: self.client_id.clone(),
                client_secret: self.client_secret.clone(),
                token_lifetime: Duration::from_secs(self.token_lifetime_secs),
            },
        }
    }
}

/// Run `jobsql emulator` until Ctrl-C.
pub async fn run_command(args: EmulatorArgs) -> Result<(), EmulatorError> {
    let started = std::time::Instant::now();
    let handle = start(args.config(), args.addr).await?;
    println!(
        "jobsql emulator: {} runs across {} jobs (seed {}), ready in {} ms",
        args.runs,
        args.jobs,
        args.seed,
        started.elapsed().as_millis()
    );
    println!("  base URL: {}", handle.base_url());
    println!("  token:    {}", handle.token());
    println!();
    println!(
        "  export DATABRICKS_HOST={} DATABRICKS_TOKEN={}",
        handle.base_url(),
        handle.token()
    );
    println!(
        "  or, as a service principal (OAuth M2M, tokens valid {} s):",
        args.token_lifetime_secs
    );
    println!(
        "  export DATABRICKS_HOST={} DATABRICKS_CLIENT_ID={} DATABRICKS_CLIENT_SECRET=<--client-secret>",
        handle.base_url(),
        args.client_id
    );
    println!();
    println!("Serving until Ctrl-C.");
    tokio::signal::ctrl_c()
        .await
        .map_err(EmulatorError::Serve)?;
    handle.shutdown().await;
    Ok(())
}
