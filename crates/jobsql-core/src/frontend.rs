//! What every front end that runs other people's SQL shares: `jobsql serve` (a Postgres
//! client's statements) and `jobsql mcp` (a model's). Each gets the server's workspace
//! credentials, not its machine:
//!
//! - [`sessions`]: a session per connection over one shared [`ApiRuntime`] (one HTTP pool),
//!   made in an environment of the server's choosing;
//! - [`sandboxed_runtime`] / [`sandboxed_session`]: no spilling to disk, and no file opened
//!   unless under `--allow-files DIR` ([`sandbox`], [`url_tables`]), the session's memory drawn
//!   from a pool the caller bounds ([`crate::memory`]);
//! - [`settings`]: `SET` only of harmless settings; no tables kept in memory.

pub mod sandbox;
pub mod settings;
pub mod url_tables;

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::execution::context::SessionConfig;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::MemoryPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::SessionContext;

use crate::provider::ApiRuntime;
use crate::spec::SpecSet;
use sandbox::SandboxRegistry;

/// Builds each connection's session from the configuration and runtime environment the server
/// gives (its memory pool and sandboxed object stores): see [`sessions`].
pub type ContextFactory = Arc<
    dyn Fn(SessionConfig, Arc<RuntimeEnv>) -> datafusion::error::Result<SessionContext>
        + Send
        + Sync
        + 'static,
>;

/// Sessions over `specs` and the shared `runtime`, with the short table names (`job_runs`,
/// `jobs.job_runs`) of `query` and the shell.
pub fn sessions(specs: SpecSet, runtime: Arc<ApiRuntime>) -> ContextFactory {
    Arc::new(move |config, env| {
        let mut ctx = SessionContext::new_with_config_rt(config, env);
        crate::plugin::register_with_runtime(&mut ctx, &specs, runtime.clone())
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        crate::session::names::add_short_names(&ctx, &specs);
        Ok(ctx)
    })
}

/// The runtime of a session whose SQL comes from a client (`serve`) or a model (`mcp`): no
/// spilling to disk, and files opened only under `allow_files` ([`SandboxRegistry`]; pair it
/// with [`url_tables::with_url_tables`] for `FROM 'file'`, as [`sandboxed_session`] does).
pub fn sandboxed_runtime(allow_files: Option<PathBuf>) -> RuntimeEnvBuilder {
    RuntimeEnvBuilder::new()
        .with_disk_manager_builder(
            DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
        )
        .with_object_store_registry(Arc::new(SandboxRegistry::new(allow_files)))
}

/// One session of `factory`'s in a sandboxed environment: its statements draw on `pool`, files
/// are tables (`FROM 'x.parquet'`) only under `allow_files`.
pub fn sandboxed_session(
    factory: &ContextFactory,
    allow_files: Option<PathBuf>,
    pool: Arc<dyn MemoryPool>,
) -> datafusion::error::Result<SessionContext> {
    let env = sandboxed_runtime(allow_files.clone())
        .with_memory_pool(pool)
        .build_arc()?;
    let ctx = factory(crate::session::config(), env)?;
    Ok(url_tables::with_url_tables(ctx, allow_files))
}
