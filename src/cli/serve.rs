//! `jobsql serve`: the Postgres wire-protocol server ([`jobsql_pgwire`]) until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::choice::choice;
use super::setup::Setup;
use super::CliError;
use jobsql_core::frontend::sessions;
use jobsql_pgwire::limits::{
    Limits, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_MESSAGE_MB, DEFAULT_MEMORY_LIMIT_MB,
    DEFAULT_STATEMENT_TIMEOUT_SECS, DEFAULT_TOTAL_MEMORY_LIMIT_MB,
};
use jobsql_pgwire::{start, AuthMethod, ServeOptions, TlsFiles};

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
    /// The password clients must give (SCRAM-SHA-256 unless --auth md5). Prefer the
    /// environment variable to the command line, which other users of the machine can see.
    #[arg(long, env = "JOBSQL_SERVE_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// How the password is checked: scram-sha-256, or md5 for old clients only.
    #[arg(long, default_value = "scram-sha-256", value_parser = choice::<AuthMethod>())]
    pub auth: AuthMethod,
    /// TLS certificate chain (PEM, the server's certificate first; with --tls-key). With TLS,
    /// clients must connect with TLS (sslmode=require or stricter).
    #[arg(long, value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM: PKCS#8, RSA or EC; with --tls-cert).
    #[arg(long, value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// Load provider specs from this directory instead of the built-in ones.
    #[arg(long)]
    pub spec_dir: Option<PathBuf>,
    /// Let clients read and write files under this directory (CREATE EXTERNAL TABLE, COPY TO,
    /// SELECT FROM 'file'); without it, clients open no file on this machine.
    #[arg(long, value_name = "DIR")]
    pub allow_files: Option<PathBuf>,
    /// Memory one statement may hold (MB): its sorts, aggregations, joins and every function's
    /// result; beyond, it fails.
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_MEMORY_LIMIT_MB)]
    pub memory_limit_mb: usize,
    /// Memory all statements may hold together (MB).
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_TOTAL_MEMORY_LIMIT_MB)]
    pub total_memory_limit_mb: usize,
    /// Longest a statement may run, its rows sent included (0: no limit).
    #[arg(long, value_name = "S", default_value_t = DEFAULT_STATEMENT_TIMEOUT_SECS)]
    pub statement_timeout_secs: u64,
    /// Most client sessions at once (and, apart, most connections still logging in).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Longest message a logged-in client may send (MB: a query, a Bind with its parameters,
    /// ...); a longer one closes its connection. Before login the cap is 64 KB.
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_MAX_MESSAGE_MB)]
    pub max_message_mb: usize,
    /// How the API is called (retries, timeouts, concurrency, ...).
    #[command(flatten)]
    pub api: super::ApiArgs,
}

/// Run `jobsql serve` until Ctrl-C.
pub async fn run_serve(args: ServeArgs) -> Result<(), CliError> {
    // The clients' password is a secret like the tokens: masked in anything printed.
    if let Some(password) = &args.password {
        jobsql_core::redact::register(password);
    }
    let options = ServeOptions {
        addr: args.addr,
        user: args.user.clone(),
        password: args.password.clone(),
        auth: args.auth,
        tls: TlsFiles::from_options(args.tls_cert.clone(), args.tls_key.clone())
            .map_err(jobsql_pgwire::ServeError::from)?,
        limits: Limits {
            allow_files: args.allow_files.clone(),
            memory_limit_bytes: args.memory_limit_mb.saturating_mul(1 << 20),
            total_memory_limit_bytes: args.total_memory_limit_mb.saturating_mul(1 << 20),
            statement_timeout: std::time::Duration::from_secs(args.statement_timeout_secs),
            max_connections: args.max_connections,
            max_message_bytes: args.max_message_mb.saturating_mul(1 << 20),
            ..Limits::default()
        },
    };
    // Refuse an exposed address before starting anything.
    options.check()?;
    let setup = Setup::new(args.demo, args.spec_dir.as_ref(), &args.api, None).await?;
    let (specs, runtime) = (setup.specs.clone(), setup.runtime.clone());
    let factory = sessions(specs, runtime);
    let server = start(options, factory).await?;
    let addr = server.local_addr();
    let user = args.user.as_deref().unwrap_or("jobsql");
    let sslmode = if args.tls_cert.is_some() {
        "require"
    } else {
        "disable"
    };
    println!("jobsql serve: Postgres protocol on {addr}");
    println!(
        "  psql \"host={} port={} user={user} dbname=jobsql sslmode={sslmode}\"",
        addr.ip(),
        addr.port()
    );
    println!("Serving until Ctrl-C.");
    let stopped = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    setup.shutdown().await;
    Ok(stopped?)
}
