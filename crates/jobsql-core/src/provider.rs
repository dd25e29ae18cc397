//! Table providers: every spec resource as a DataFusion table.
//!
//! - [`table::ApiTable`] (the `TableProvider`): schema from the spec, and the pushdown answers.
//! - [`pushdown`]: the one translator from WHERE predicates to API parameters.
//! - [`exec::ApiExec`] (the `ExecutionPlan`): the planned requests; streams one batch per page.
//! - [`fetch`]: one request template → its pages (pagination, not-found, merging).
//! - [`decode`]: a page's bytes → an Arrow batch.
//! - [`delete`]: `DELETE` — [`delete::rule`] (an analyzer rule) plans the DELETE's whole query,
//!   [`delete::DeleteExec`] deletes each row it returns (or the keys its WHERE names).
//! - [`update`]: `UPDATE` / `REPLACE` — the same shape as DELETE: the statement's query (the
//!   key columns and the SET values per row) is carried to [`update::UpdateExec`], which sends
//!   one call of the resource's update or replace method per row. [`write_rows`]: the checks
//!   both share on which rows a write takes.
//! - [`insert`]: `INSERT` — `ApiTable::insert_into` plans DataFusion's `DataSinkExec` over an
//!   [`insert::InsertSink`], one call of the resource's insert method per row.
//! - [`send`] (one mutating call built by [`crate::request`], or its record in a dry run,
//!   [`dry_run`]): shared with the statements layer's EXEC.
//!
//! [`register`] puts every resource of a [`SpecSet`] into a `SessionContext` as
//! `provider.service.resource` (catalog.schema.table), the names StackQL uses, in catalogs and
//! schemas that refuse DDL over them ([`guarded`]).

pub mod added;
pub mod decode;
pub mod delete;
pub mod dry_run;
pub mod exec;
pub mod fetch;
pub mod guarded;
pub mod insert;
pub mod order;
pub mod progress;
pub mod pushdown;
pub mod send;
pub mod table;
pub mod top_n;
pub mod update;
pub mod write_rows;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use datafusion::catalog::CatalogProvider;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use crate::client::{ApiClient, ApiError};
use crate::spec::SpecSet;
use crate::workspace::{Workspace, WorkspaceError, WorkspaceResolver, Workspaces};

pub use added::AddedTables;
pub use table::ApiTable;

/// Errors of the provider layer.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// No select method can be called with the given WHERE clause.
    #[error("{table} cannot be listed without a parameter: add WHERE {needed}")]
    MissingParameter {
        /// The table.
        table: String,
        /// The predicates that would make it callable.
        needed: String,
    },
    /// The API answered with an error.
    #[error("{table}: {source}")]
    Api {
        /// The table.
        table: String,
        /// The API error.
        source: Box<ApiError>,
    },
    /// The workspace could not be resolved.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The response is not what the API documents.
    #[error("{table}: unexpected response: {message}")]
    InvalidResponse {
        /// The table.
        table: String,
        /// What is wrong.
        message: String,
    },
    /// A value in a response does not fit its column's type.
    #[error("{table}: a value in the response does not fit its column{row}: {message}")]
    UnexpectedValue {
        /// The table.
        table: String,
        /// The row's key, e.g. ` (run_id 42)`.
        row: String,
        /// Arrow's message, naming the field.
        message: String,
    },
    /// DDL that would drop or replace an API table, or the schema holding it.
    #[error("{name} is an API table: it cannot be {action} (API tables are defined by the specs)")]
    ApiTableDdl {
        /// The table (or `schema ...`).
        name: String,
        /// `dropped` or `replaced`.
        action: &'static str,
    },
    /// DDL (or a second registration) that would put another table under an API table's name.
    #[error("{0} already exists as an API table: it cannot be replaced (API tables are defined by the specs)")]
    ApiTableExists(String),
    /// A listing went on past the page cap (a server that always sends a next-page token).
    #[error(
        "{table}: stopped after {max} pages of {request} (--max-pages {max}): the API kept \
         sending a next-page token; narrow the query, or raise --max-pages"
    )]
    TooManyPages {
        /// The table.
        table: String,
        /// The last page's request, described (bounded in length).
        request: String,
        /// The cap.
        max: usize,
    },
    /// An `IN` list (or `OR` of equalities) longer than one request per value may be, on a
    /// column the scan cannot leave to the rows (the workspace, a required parameter).
    #[error(
        "{table}: {column} IN (...) has {count} distinct values, more than the {max} jobsql \
         sends one request each for{why}: narrow the list"
    )]
    TooManyValues {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Its distinct values.
        count: usize,
        /// The cap ([`pushdown::MAX_KEYS`]).
        max: usize,
        /// Why the values cannot be checked on the rows instead.
        why: &'static str,
    },
    /// IN lists whose combinations are more requests than the cap, none of which the scan
    /// can leave to the rows.
    #[error(
        "{table}: the IN lists on {columns} would make {requests} requests, more than the \
         {max} one scan sends: narrow them"
    )]
    TooManyRequests {
        /// The table.
        table: String,
        /// The columns of the lists.
        columns: String,
        /// The requests their combinations make.
        requests: usize,
        /// The cap ([`pushdown::MAX_KEYS`]).
        max: usize,
    },
    /// Registering the tables failed.
    #[error("cannot register tables: {0}")]
    Register(String),
    /// An INSERT was refused, or some of its rows failed.
    #[error(transparent)]
    Insert(#[from] insert::InsertError),
    /// A DELETE was refused, or some of its rows failed.
    #[error(transparent)]
    Delete(#[from] delete::DeleteError),
    /// An UPDATE or REPLACE was refused, or some of its rows failed.
    #[error(transparent)]
    Update(#[from] update::UpdateError),
}

impl ProviderError {
    /// Whether something sent may have been done without its answer arriving (an INSERT row
    /// whose outcome is unknown): the user must check before re-running (the CLI exits 3).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            ProviderError::Insert(e) => e.outcome_unknown(),
            ProviderError::Delete(e) => e.outcome_unknown(),
            ProviderError::Update(e) => e.outcome_unknown(),
            _ => false,
        }
    }
}

impl From<ProviderError> for DataFusionError {
    fn from(e: ProviderError) -> Self {
        DataFusionError::External(Box::new(e))
    }
}

/// What every table shares: the HTTP client (one connection pool), the workspaces, and
/// whether mutations are sent or only recorded (`--dry-run`).
#[derive(Debug, Clone)]
pub struct ApiRuntime {
    /// The shared client.
    pub client: ApiClient,
    /// Resolves an endpoint name (`deployment_name`, or the default) to a workspace and its
    /// credentials, per provider: a table only ever gets its own provider's.
    pub workspaces: Workspaces,
    /// `Some` in a dry run: mutating requests are recorded there instead of being sent.
    pub dry_run: Option<dry_run::DryRunLog>,
    /// Requests a scan keeps in flight at most (parallel listing, `IN` fan-out).
    pub max_concurrency: usize,
    /// Counts pages and rows as they arrive, when someone shows them.
    pub progress: Option<Arc<progress::Progress>>,
    /// Whether a query over several workspaces goes on without one that fails
    /// (`--keep-going`): see [`ApiRuntime::skip_failed_workspace`].
    pub keep_going: bool,
    /// Warnings for the user (e.g. a workspace skipped), printed by the CLI to stderr.
    pub warnings: Warnings,
    /// The most rows one DELETE may delete (`--max-deletes`); more is refused before any
    /// request.
    pub max_deletes: usize,
    /// The most calls one statement (an INSERT's rows) or one script (its EXEC statements and
    /// `INSERT ... VALUES` rows) may make to create or change things (`--max-writes`); more
    /// is refused before any request.
    pub max_writes: usize,
    /// Pages one listing may take at most (`--max-pages`): past it, the query fails.
    pub max_pages: usize,
    /// How long one scan may take at most, its requests, retries and waits included
    /// (`--timeout`); `None`: no limit but the per-request ones.
    pub timeout: Option<std::time::Duration>,
    /// Tables registered beside the spec's in every session made with this runtime (the run
    /// history's `<resource>_history`, from `jobsql-history`).
    pub added_tables: Vec<Arc<dyn added::AddedTables>>,
}

/// Warnings collected while statements run. Cloning shares the list.
#[derive(Debug, Clone, Default)]
pub struct Warnings(Arc<Mutex<Vec<String>>>);

impl Warnings {
    /// Add one.
    pub fn push(&self, warning: String) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(warning);
    }

    /// Take those added so far.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The default of [`ApiRuntime::max_concurrency`]: well inside the Jobs API's rate limits.
pub const DEFAULT_MAX_CONCURRENCY: usize = 16;

/// The default of [`ApiRuntime::max_deletes`].
pub const DEFAULT_MAX_DELETES: usize = 100;
/// The default of [`ApiRuntime::max_writes`].
pub const DEFAULT_MAX_WRITES: usize = 100;
/// The default of [`ApiRuntime::max_pages`]: 100,000 pages are 2.5 million runs at 25 a page,
/// far more than any workspace keeps in the API's 60 days; only a server that never stops
/// sending next-page tokens gets there.
pub const DEFAULT_MAX_PAGES: usize = 100_000;

impl ApiRuntime {
    /// A runtime that sends every request, resolving endpoints with `resolver` for its provider
    /// (and from the environment for others).
    pub fn new(client: ApiClient, resolver: WorkspaceResolver) -> Self {
        Self::with_workspaces(client, Workspaces::new([resolver]))
    }

    /// A runtime that sends every request, resolving endpoints with `workspaces`.
    pub fn with_workspaces(client: ApiClient, workspaces: Workspaces) -> Self {
        Self {
            client,
            workspaces,
            dry_run: None,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            progress: None,
            keep_going: false,
            warnings: Warnings::default(),
            max_deletes: DEFAULT_MAX_DELETES,
            max_writes: DEFAULT_MAX_WRITES,
            max_pages: DEFAULT_MAX_PAGES,
            timeout: None,
            added_tables: Vec::new(),
        }
    }

    /// The same runtime, letting one DELETE delete at most `n` rows.
    pub fn with_max_deletes(mut self, n: usize) -> Self {
        self.max_deletes = n;
        self
    }

    /// The same runtime, letting one statement (or script) make at most `n` calls that create
    /// or change things (INSERT rows, EXEC calls).
    pub fn with_max_writes(mut self, n: usize) -> Self {
        self.max_writes = n;
        self
    }

    /// The same runtime, failing a listing that goes on past `n` pages (at least 1).
    pub fn with_max_pages(mut self, n: usize) -> Self {
        self.max_pages = n.max(1);
        self
    }

    /// The same runtime, failing a scan still running `limit` after it started.
    pub fn with_timeout(mut self, limit: std::time::Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// The same runtime with at most `n` requests in flight per scan (1: strictly sequential).
    pub fn with_max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n.max(1);
        self
    }

    /// The same runtime, going on without a workspace whose requests fail.
    pub fn with_keep_going(mut self) -> Self {
        self.keep_going = true;
        self
    }

    /// Where a request to `workspace` for `table` failed with `error`: with `--keep-going`,
    /// and when the failure is the workspace's rather than the query's
    /// ([`ApiError::is_workspace_failure`]: unreachable, timed out, credentials refused,
    /// server errors and throttling that outlasted the retries), record a warning naming the
    /// workspace and return `true`: the caller then goes on as if the workspace had no (more)
    /// rows. Otherwise `false`: the caller fails the query with `error`.
    pub fn skip_failed_workspace(
        &self,
        table: &str,
        workspace: &Workspace,
        error: &ApiError,
    ) -> bool {
        if !self.keep_going || !error.is_workspace_failure() {
            return false;
        }
        self.warnings.push(format!(
            "{table}: skipped workspace '{}' (--keep-going), its rows are missing or incomplete: {error}",
            workspace.name
        ));
        true
    }

    /// The same runtime, recording mutations instead of sending them.
    pub fn with_dry_run(mut self) -> Self {
        self.dry_run = Some(dry_run::DryRunLog::default());
        self
    }
}

/// Register every resource of `specs` in `ctx`, as `provider.service.resource`; the schemas
/// that hold them, by `(provider, service)` (e.g. for [`guarded::GuardedSchema::also_answer_for`]).
pub fn register(
    ctx: &SessionContext,
    specs: &SpecSet,
    runtime: Arc<ApiRuntime>,
) -> Result<added::Schemas, ProviderError> {
    let reg = |e: DataFusionError| ProviderError::Register(e.to_string());
    let mut created = BTreeMap::new();
    for resource in &specs.resources {
        let catalog = match ctx.catalog(&resource.provider) {
            Some(c) => c,
            None => {
                let c: Arc<dyn CatalogProvider> = Arc::new(guarded::GuardedCatalog::new());
                ctx.register_catalog(&resource.provider, c.clone());
                c
            }
        };
        let at = (resource.provider.clone(), resource.service.clone());
        let schema = match catalog.schema(&resource.service) {
            Some(s) => s,
            None => {
                let s = Arc::new(guarded::GuardedSchema::new(format!(
                    "{}.{}",
                    resource.provider, resource.service
                )));
                catalog
                    .register_schema(&resource.service, s.clone())
                    .map_err(reg)?;
                created.insert(at, s.clone());
                s
            }
        };
        let table = ApiTable::new(resource.clone(), runtime.clone());
        schema
            .register_table(resource.name.clone(), Arc::new(table))
            .map_err(reg)?;
    }
    Ok(created)
}
