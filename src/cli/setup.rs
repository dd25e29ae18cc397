//! What `jobsql shell` and `jobsql serve` set up before their first statement: the specs, one
//! [`ApiRuntime`] (one HTTP client) over the workspaces of the environment, and with `--demo`
//! the two in-process emulators (`demo`, the default, and `demo2`), as `jobsql query --demo`
//! does.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::prelude::SessionContext;

use super::CliError;
use crate::emulator::{self, EmulatorConfig, EmulatorHandle};
use crate::provider::progress::Progress;
use crate::provider::ApiRuntime;
use crate::session::new_context;
use crate::spec::{load_dir, load_embedded, SpecSet};
use crate::workspace::{Workspace, WorkspaceResolver};

/// The specs and runtime every session of the command shares.
pub struct Setup {
    /// The loaded specs.
    pub specs: SpecSet,
    /// The shared HTTP client and workspaces.
    pub runtime: Arc<ApiRuntime>,
    demo: Vec<EmulatorHandle>,
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
        let (workspaces, handles) = workspaces(demo).await?;
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

    /// Stop the demo emulators.
    pub async fn shutdown(self) {
        for handle in self.demo {
            handle.shutdown().await;
        }
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

/// The workspaces of the environment (its warnings printed on stderr); with `demo`, two
/// in-process emulators, `demo` (the default) and `demo2`, and their handles to stop them.
pub async fn workspaces(demo: bool) -> Result<(WorkspaceResolver, Vec<EmulatorHandle>), CliError> {
    let mut workspaces = WorkspaceResolver::from_env();
    for warning in workspaces.warnings() {
        eprintln!("warning: {}", crate::redact::outgoing(&warning.to_string()));
    }
    let mut handles = Vec::new();
    if demo {
        for (name, seed) in [("demo", 42), ("demo2", 7)] {
            let handle = emulator::start_local(EmulatorConfig {
                seed,
                ..EmulatorConfig::default()
            })
            .await?;
            let ws = Workspace::new(name, &handle.base_url(), handle.token())?;
            workspaces = if name == "demo" {
                workspaces.with_default(ws.clone()).with_named(ws)
            } else {
                workspaces.with_named(ws)
            };
            handles.push(handle);
        }
    }
    Ok((workspaces, handles))
}
