//! `jobsql mcp`: the MCP server ([`jobsql_mcp`]) for AI assistants, over stdio (the default: the
//! MCP client starts the command) or, with `--addr`, streamable HTTP until Ctrl-C. Its session
//! is set up as `jobsql query`'s ([`Setup`]: `--demo`, `--spec-dir`, the workspaces of the
//! environment, the API flags). Nothing but the protocol goes to stdout in stdio mode; warnings
//! go to stderr.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::setup::Setup;
use super::CliError;
use jobsql_core::memory::pool::{DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TOTAL_MEMORY_LIMIT_MB};
use jobsql_core::memory::TotalPool;
use jobsql_mcp::{serve_http, serve_stdio, McpError, McpOptions, McpServer, DEFAULT_MAX_ROWS};

/// Arguments of `jobsql mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// Start the emulators in-process and make them the default workspaces (as `query --demo`).
    #[arg(long)]
    pub demo: bool,
    /// Load provider specs from this directory instead of the built-in ones.
    #[arg(long)]
    pub spec_dir: Option<PathBuf>,
    /// Serve streamable HTTP on this address (endpoint `/mcp`) instead of stdio. Loopback only
    /// unless --allow-remote.
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// Let --addr be a non-loopback address (the server has no sign-in of its own).
    #[arg(long, requires = "addr")]
    pub allow_remote: bool,
    /// Let the query tool run INSERT, DELETE, EXEC, COPY, SET and DDL (refused otherwise).
    #[arg(long)]
    pub allow_writes: bool,
    /// Let SQL read and write files under this directory (SELECT FROM 'file', COPY TO, CREATE
    /// EXTERNAL TABLE); without it, no file on this machine is opened.
    #[arg(long, value_name = "DIR")]
    pub allow_files: Option<PathBuf>,
    /// Memory one session's statement may hold (MB): its sorts, aggregations, joins and every
    /// function's result; beyond, it fails. Nothing spills to disk.
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_MEMORY_LIMIT_MB,
          value_parser = super::megabytes)]
    pub memory_limit_mb: usize,
    /// Memory all sessions' statements may hold together (MB).
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_TOTAL_MEMORY_LIMIT_MB,
          value_parser = super::megabytes)]
    pub total_memory_limit_mb: usize,
    /// Most rows one query answer holds (the answer says so when there were more).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_ROWS)]
    pub max_rows: usize,
    /// How the API is called (retries, timeouts, concurrency, ...).
    #[command(flatten)]
    pub api: super::ApiArgs,
}

/// Run `jobsql mcp` until stdin closes (stdio) or Ctrl-C (HTTP).
pub async fn run_mcp(args: McpArgs) -> Result<(), CliError> {
    let allow_files = match &args.allow_files {
        Some(dir) => {
            Some(jobsql_core::frontend::sandbox::canonical_root(dir).map_err(McpError::Files)?)
        }
        None => None,
    };
    let options = Arc::new(McpOptions {
        allow_writes: args.allow_writes,
        max_rows: args.max_rows,
        allow_files,
        memory_limit_bytes: args.memory_limit_mb.saturating_mul(1 << 20),
        total_memory: TotalPool::new(args.total_memory_limit_mb.saturating_mul(1 << 20)),
    });
    if let Some(addr) = args.addr {
        // Refuse an exposed address before starting anything.
        if !args.allow_remote && !addr.ip().is_loopback() {
            return Err(McpError::NotLoopback(addr).into());
        }
    }
    let setup = Setup::new(args.demo, args.spec_dir.as_ref(), &args.api, None).await?;
    let specs = Arc::new(setup.specs.clone());
    let runtime = setup.runtime.clone();
    let make = move || McpServer::new(specs.clone(), runtime.clone(), options.clone());
    let result = match args.addr {
        None => match make() {
            Ok(server) => serve_stdio(server).await.map_err(CliError::from),
            Err(e) => Err(e.into()),
        },
        Some(addr) => match serve_http(addr, args.allow_remote, make).await {
            Ok(server) => {
                println!("jobsql mcp: streamable HTTP on {}", server.url());
                println!("Serving until Ctrl-C.");
                let stopped = tokio::signal::ctrl_c().await;
                server.shutdown().await;
                stopped.map_err(CliError::from)
            }
            Err(e) => Err(e.into()),
        },
    };
    setup.shutdown().await;
    result
}
