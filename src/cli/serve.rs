//! `jobsql serve`: the Postgres wire-protocol server ([`crate::serve`]) until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::setup::Setup;
use super::{message, CliError};
use crate::serve::{start, ContextFactory, ServeOptions};
use crate::session::new_context;

/// Arguments of `jobsql serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Start the emulator in-process and make it the default workspace (as `query --demo`).
    #[arg(long)]
    pub demo: bool,
    /// Address to listen on. Anything but loopback needs --password.
    #[arg(long, default_value = "127.0.0.1:5433")]
    pub addr: SocketAddr,
    /// The user name clients must give (needs --password; default: any).
    #[arg(long)]
    pub user: Option<String>,
    /// The password clients must give (MD5 authentication). Prefer the environment variable
    /// to the command line, which other users of the machine can see.
    #[arg(long, env = "JOBSQL_SERVE_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Load provider specs from this directory instead of the built-in ones.
    #[arg(long)]
    pub spec_dir: Option<PathBuf>,
    /// How the API is called (retries, timeouts, concurrency, ...).
    #[command(flatten)]
    pub api: super::ApiArgs,
}

/// Run `jobsql serve` until Ctrl-C.
pub async fn run_serve(args: ServeArgs) -> Result<(), CliError> {
    let options = ServeOptions {
        addr: args.addr,
        user: args.user.clone(),
        password: args.password.clone(),
    };
    // Refuse an exposed address before starting anything.
    options.check().map_err(message)?;
    let setup = Setup::new(args.demo, args.spec_dir.as_ref(), &args.api).await?;
    let (specs, runtime) = (setup.specs.clone(), setup.runtime.clone());
    let factory: ContextFactory = Arc::new(move || new_context(&specs, runtime.clone()));
    let server = start(options, factory).await.map_err(message)?;
    let addr = server.local_addr();
    let user = args.user.as_deref().unwrap_or("jobsql");
    println!("jobsql serve: Postgres protocol on {addr}");
    println!(
        "  psql \"host={} port={} user={user} dbname=jobsql sslmode=disable\"",
        addr.ip(),
        addr.port()
    );
    println!("Serving until Ctrl-C.");
    let stopped = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    setup.shutdown().await;
    stopped.map_err(message)
}
