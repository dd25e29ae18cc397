//! jobsql as a plugin: add the job-run tables to a DataFusion `SessionContext` you already have.
//!
//! One call, [`register`], puts into your context everything `jobsql query` uses: every resource
//! of the specs as a table named `provider.service.resource` (catalog, schema and table, e.g.
//! `databricks_workspace.jobs.job_runs`, with WHERE pushdown into the API), and the JSON
//! functions of datafusion-functions-json (`json_get_str(cluster_spec, 'existing_cluster_id')`).
//! [`JobsqlOptions`] chooses the specs (compiled in, or a directory), the workspaces and
//! credentials (the environment and `~/.databrickscfg`, an explicit host and token, or your own
//! [`WorkspaceResolver`]), the retry policy and how many API requests a scan keeps in flight.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use datafusion::prelude::SessionContext;
//! use jobsql_core::plugin::{register, JobsqlOptions};
//!
//! let mut ctx = SessionContext::new();
//! let options = JobsqlOptions::default()
//!     .with_workspace("prod", "https://dbc-abcd0123-a1bc.cloud.databricks.com", "dapi...")
//!     .with_max_concurrency(4);
//! register(&mut ctx, options)?;
//! let runs = ctx
//!     .sql("SELECT run_id, state['result_state'] FROM databricks_workspace.jobs.job_runs LIMIT 5")
//!     .await?
//!     .collect()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! What the host decides:
//! - `SHOW TABLES` / `DESCRIBE` need the host's `information_schema` on
//!   (`SessionConfig::with_information_schema(true)`).
//! - SELECT, DELETE and INSERT go through DataFusion's own planner, so `ctx.sql(...)` runs them
//!   (an INSERT's submits are the table's `insert_into`, see [`crate::provider::insert`]).
//!   StackQL's `EXEC` statement is not DataFusion SQL, and `INSERT ... RETURNING` is jobsql's:
//!   run SQL text through [`crate::session::run_sql`] (it takes any context set up by
//!   [`register`]) to have them.
//! - Registering adds an analyzer rule ([`crate::provider::delete::rule`]) that makes a DELETE on
//!   an API table act on exactly the rows the same SELECT returns; the host's optimizer rules
//!   are left as they are.
//! - Registering counts every function's results in the context's memory pool
//!   ([`crate::memory::install`]): with a bounded pool
//!   (`RuntimeEnvBuilder::with_memory_pool`), `repeat('x', 1000000000)` is refused before it
//!   is built; with DataFusion's default (unbounded) pool nothing is refused.
//!
//! [`crate::session::new_context`] is this same registration on a context with jobsql's defaults.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use crate::client::{ApiClient, ClientError, RetryPolicy};
use crate::provider::{AddedTables, ApiRuntime, ProviderError};
use crate::spec::{load_dir, load_embedded, SpecError, SpecSet};
use crate::workspace::{Workspace, WorkspaceError, WorkspaceResolver};

/// Why jobsql could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The specs could not be loaded.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] ClientError),
    /// The explicit workspace is not usable (e.g. a malformed host).
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The tables could not be registered.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The JSON functions could not be registered.
    #[error("cannot register the JSON functions: {0}")]
    Functions(DataFusionError),
}

impl From<PluginError> for DataFusionError {
    fn from(e: PluginError) -> Self {
        DataFusionError::External(Box::new(e))
    }
}

/// Where the resource specs come from.
#[derive(Debug, Clone, Default)]
pub enum SpecSource {
    /// The specs compiled into jobsql (`provider-spec/`).
    #[default]
    Embedded,
    /// Every `*.yaml` file under a directory.
    Dir(PathBuf),
    /// Specs already loaded.
    Loaded(SpecSet),
}

/// Which workspaces the tables query, and with which credentials.
#[derive(Debug, Clone, Default)]
enum Workspaces {
    /// `DATABRICKS_HOST` / `DATABRICKS_TOKEN`, profiles of `~/.databrickscfg`: as the
    /// Databricks CLI resolves them.
    #[default]
    FromEnvironment,
    /// The caller's resolver.
    Resolver(Box<WorkspaceResolver>),
    /// One workspace: the default, and also `deployment_name = name`.
    Explicit {
        name: String,
        host: String,
        token: String,
    },
}

/// What [`register`] registers, and against what. Build it with the `with_*` methods.
#[derive(Debug, Clone, Default)]
pub struct JobsqlOptions {
    specs: SpecSource,
    workspaces: Workspaces,
    retry: RetryPolicy,
    max_concurrency: Option<usize>,
    max_deletes: Option<usize>,
    max_writes: Option<usize>,
    added_tables: Vec<Arc<dyn AddedTables>>,
}

impl JobsqlOptions {
    /// Load the specs from every `*.yaml` file under `dir` instead of the built-in ones.
    pub fn with_spec_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.specs = SpecSource::Dir(dir.into());
        self
    }

    /// Use specs already loaded (e.g. by [`crate::spec::load_sources`]).
    pub fn with_specs(mut self, specs: SpecSet) -> Self {
        self.specs = SpecSource::Loaded(specs);
        self
    }

    /// Query one workspace: `host` (`https://...`; `http://` only for loopback) with the personal
    /// access token `token`. It is the default workspace, and `deployment_name = name` names it.
    pub fn with_workspace(mut self, name: &str, host: &str, token: &str) -> Self {
        self.workspaces = Workspaces::Explicit {
            name: name.to_string(),
            host: host.to_string(),
            token: token.to_string(),
        };
        self
    }

    /// Resolve workspaces with `resolver` (default: [`WorkspaceResolver::from_env`], read when
    /// [`register`] is called).
    pub fn with_resolver(mut self, resolver: WorkspaceResolver) -> Self {
        self.workspaces = Workspaces::Resolver(Box::new(resolver));
        self
    }

    /// Retry throttled and failed requests with this policy (default: [`RetryPolicy::default`]).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// At most `max` API requests in flight per scan (parallel listing, `IN` fan-out,
    /// INSERT / DELETE fan-out; 1: strictly sequential). Default:
    /// [`crate::provider::DEFAULT_MAX_CONCURRENCY`]. The client also adapts to throttling per
    /// workspace.
    pub fn with_max_concurrency(mut self, max: usize) -> Self {
        self.max_concurrency = Some(max);
        self
    }

    /// Refuse a DELETE that would delete more than `max` rows, before any request (default:
    /// [`crate::provider::DEFAULT_MAX_DELETES`]).
    pub fn with_max_deletes(mut self, max: usize) -> Self {
        self.max_deletes = Some(max);
        self
    }

    /// Refuse an INSERT of more than `max` rows (and a script of more than `max` EXEC calls
    /// and `INSERT ... VALUES` rows), before any request (default:
    /// [`crate::provider::DEFAULT_MAX_WRITES`]).
    pub fn with_max_writes(mut self, max: usize) -> Self {
        self.max_writes = Some(max);
        self
    }

    /// The runtime these options describe: one HTTP client and the workspaces.
    pub fn runtime(&self) -> Result<Arc<ApiRuntime>, PluginError> {
        let client = ApiClient::new(self.retry)?;
        let resolver = match &self.workspaces {
            Workspaces::FromEnvironment => WorkspaceResolver::from_env(),
            Workspaces::Resolver(r) => r.as_ref().clone(),
            Workspaces::Explicit { name, host, token } => {
                let ws = Workspace::new(name, host, token)?;
                WorkspaceResolver::from_parts(HashMap::new(), None, None)
                    .with_default(ws.clone())
                    .with_named(ws)
            }
        };
        let mut runtime = ApiRuntime::new(client, resolver);
        if let Some(max) = self.max_concurrency {
            runtime = runtime.with_max_concurrency(max);
        }
        if let Some(max) = self.max_deletes {
            runtime = runtime.with_max_deletes(max);
        }
        if let Some(max) = self.max_writes {
            runtime = runtime.with_max_writes(max);
        }
        runtime.added_tables = self.added_tables.clone();
        Ok(Arc::new(runtime))
    }

    /// Add `tables` beside the spec's in every session (e.g. the run history's: with
    /// `jobsql-history`, `.with_tables(Arc::new(HistoryRoot::parse(dir)?))` gives each
    /// resource's Delta table there as the table `<resource>_history`). Default: none.
    pub fn with_tables(mut self, tables: Arc<dyn AddedTables>) -> Self {
        self.added_tables.push(tables);
        self
    }

    /// The specs these options name, loaded.
    pub fn specs(&self) -> Result<SpecSet, PluginError> {
        Ok(match &self.specs {
            SpecSource::Embedded => load_embedded()?,
            SpecSource::Dir(dir) => load_dir(dir)?,
            SpecSource::Loaded(specs) => specs.clone(),
        })
    }
}

/// What was registered: the specs (one table per resource) and the runtime the tables share.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The loaded specs.
    pub specs: SpecSet,
    /// The HTTP client and workspaces every table uses.
    pub runtime: Arc<ApiRuntime>,
}

impl Registration {
    /// `provider.service.resource` of every table, in spec order.
    pub fn table_names(&self) -> Vec<String> {
        self.specs
            .resources
            .iter()
            .map(|r| r.qualified_name())
            .collect()
    }
}

/// Register jobsql's tables and functions into `ctx`, as `options` say.
///
/// Catalogs and schemas that already exist in `ctx` are reused; a table that already exists
/// under the same name is an error.
pub fn register(
    ctx: &mut SessionContext,
    options: JobsqlOptions,
) -> Result<Registration, PluginError> {
    let specs = options.specs()?;
    let runtime = options.runtime()?;
    register_with_runtime(ctx, &specs, runtime.clone())?;
    Ok(Registration { specs, runtime })
}

/// Register the tables of `specs`, sharing `runtime`, and the JSON functions into `ctx`: the
/// lower-level form of [`register`], for callers that build the [`ApiRuntime`] themselves.
pub fn register_with_runtime(
    ctx: &mut SessionContext,
    specs: &SpecSet,
    runtime: Arc<ApiRuntime>,
) -> Result<(), PluginError> {
    // `ORDER BY start_time DESC, ... LIMIT n`: the scan reads only the top n (with ties).
    use datafusion::physical_optimizer::PhysicalOptimizerRule;
    let rule = Arc::new(crate::provider::top_n::TopNInListingOrder);
    if !ctx
        .state()
        .physical_optimizers()
        .iter()
        .any(|r| r.name() == rule.name())
    {
        // Replaced in place: what holds the context's state (its session store) stays valid.
        let state = ctx.state_ref();
        let mut state = state.write();
        *state = datafusion::execution::SessionStateBuilder::new_from_existing(state.clone())
            .with_physical_optimizer_rule(rule)
            .build();
    }
    datafusion_functions_json::register_all(ctx).map_err(PluginError::Functions)?;
    ctx.add_analyzer_rule(Arc::new(crate::provider::delete::rule::DeleteRule));
    ctx.add_analyzer_rule(Arc::new(crate::provider::update::rule::UpdateRule));
    let added = runtime.added_tables.clone();
    let schemas = crate::provider::register(ctx, specs, runtime)?;
    // e.g. `job_runs_history` beside `job_runs`: the Delta tables `jobsql sync` writes.
    for tables in &added {
        tables.register(&schemas, specs);
    }
    // Every function of a statement counted in the session's memory pool.
    crate::memory::install(ctx);
    Ok(())
}
