//! What `jobsql shell` and `jobsql serve` set up before their first statement: the specs, one
//! [`ApiRuntime`] (one HTTP client) over the workspaces of the environment, and with `--demo`
//! the in-process emulators (Databricks `demo`, the default, and `demo2`; LakeSail `demo`), as
//! `jobsql query --demo` does.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::prelude::SessionContext;

use super::CliError;
use jobsql_core::provider::progress::Progress;
use jobsql_core::provider::ApiRuntime;
use jobsql_core::session::{bounded_context, new_context};
use jobsql_core::spec::{load_dir, load_embedded, SpecSet};
use jobsql_core::workspace::{Workspace, WorkspaceResolver, Workspaces};
use jobsql_emulator::lakesail::{LakeSailConfig, LakeSailHandle};
use jobsql_emulator::{EmulatorConfig, EmulatorHandle};

/// The specs and runtime every session of the command shares.
pub struct Setup {
    /// The loaded specs.
    pub specs: SpecSet,
    /// The shared HTTP client and workspaces.
    pub runtime: Arc<ApiRuntime>,
    demo: Demo,
}

impl Setup {
    /// Load the specs (`spec_dir`, else the built-in ones) and resolve workspaces from the
    /// environment; with `demo`, start the emulators and make them the workspaces. `api`
    /// shapes the calls (retries, timeouts, concurrency); `progress` counts the pages.
    pub async fn new(
        demo: bool,
        spec_dir: Option<&PathBuf>,
        api: &super::ApiArgs,
        progress: Option<Arc<Progress>>,
    ) -> Result<Setup, CliError> {
        let specs = load_specs(spec_dir)?;
        let (workspaces, handles) = workspaces(demo, &specs).await?;
        let mut runtime = api.runtime(workspaces)?;
        runtime.progress = progress;
        let runtime = Arc::new(runtime);
        Ok(Setup {
            specs,
            runtime,
            demo: handles,
        })
    }

    /// A new session over the shared runtime.
    pub fn context(&self) -> Result<SessionContext, CliError> {
        new_context(&self.specs, self.runtime.clone()).map_err(CliError::Session)
    }

    /// A new session over the shared runtime whose statements may each use `limit` bytes
    /// ([`jobsql_core::session::bounded_context`]).
    pub fn bounded_context(&self, limit: usize) -> Result<SessionContext, CliError> {
        bounded_context(&self.specs, self.runtime.clone(), limit).map_err(CliError::Session)
    }

    /// Stop the demo emulators.
    pub async fn shutdown(self) {
        self.demo.shutdown().await;
    }
}

/// The specs of `spec_dir`, else the built-in ones.
pub fn load_specs(spec_dir: Option<&PathBuf>) -> Result<SpecSet, CliError> {
    match spec_dir {
        Some(dir) => load_dir(dir),
        None => load_embedded(),
    }
    .map_err(CliError::from)
}

/// The in-process emulators of `--demo`, to stop at the end.
#[derive(Default)]
pub struct Demo {
    databricks: Vec<EmulatorHandle>,
    lakesail: Vec<LakeSailHandle>,
}

impl Demo {
    /// Stop them.
    pub async fn shutdown(self) {
        for handle in self.databricks {
            handle.shutdown().await;
        }
        for handle in self.lakesail {
            handle.shutdown().await;
        }
    }
}

/// The workspaces of the environment (the Databricks resolver's warnings printed on stderr;
/// other providers' resolvers are read from the environment when first used); with `demo`, in-process emulators: two Databricks workspaces, `demo`
/// (the default) and `demo2`, and, when the specs have the LakeSail provider, a LakeSail
/// endpoint `demo` (its default).
pub async fn workspaces(demo: bool, specs: &SpecSet) -> Result<(Workspaces, Demo), CliError> {
    let mut databricks = WorkspaceResolver::from_env();
    for warning in databricks.warnings() {
        eprintln!(
            "warning: {}",
            jobsql_core::redact::outgoing(&warning.to_string())
        );
    }
    let mut handles = Demo::default();
    if !demo {
        return Ok((Workspaces::new([databricks]), handles));
    }
    for (name, seed) in [("demo", 42), ("demo2", 7)] {
        let handle = jobsql_emulator::start_local(EmulatorConfig {
            seed,
            ..EmulatorConfig::default()
        })
        .await?;
        let ws = Workspace::new(name, &handle.base_url(), handle.token())?;
        databricks = if name == "demo" {
            databricks.with_default(ws.clone()).with_named(ws)
        } else {
            databricks.with_named(ws)
        };
        handles.databricks.push(handle);
    }
    let mut workspaces = Workspaces::new([databricks]);
    if let Some(profile) = specs.providers.get("lakesail") {
        let handle = jobsql_emulator::lakesail::start_local(LakeSailConfig::default()).await?;
        let endpoint = Workspace::new("demo", &handle.base_url(), handle.token())?;
        let resolver = WorkspaceResolver::from_env_for(profile.clone())
            .with_default(endpoint.clone())
            .with_named(endpoint);
        workspaces = workspaces.with(resolver);
        handles.lakesail.push(handle);
    }
    Ok((workspaces, handles))
}
