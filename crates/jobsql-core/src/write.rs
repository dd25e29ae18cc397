//! The write path: SQL statements that change things through the API.
//!
//! - `INSERT INTO <resource> (data__field, ...) VALUES|SELECT ...` is DataFusion's, planned
//!   through the table's `insert_into` ([`crate::provider::insert`]); `INSERT ... RETURNING`,
//!   which DataFusion does not plan, and the wording of INSERT's planning errors are
//!   [`insert`]'s.
//! - `DELETE FROM <resource> WHERE ...` is DataFusion's, one request per row the same SELECT
//!   returns ([`crate::provider::delete`]); `DELETE ... ORDER BY ... LIMIT n`, which DataFusion
//!   does not plan, is planned as that SELECT here ([`delete`]).
//! - `UPDATE <resource> SET ... WHERE ...` and StackQL's `REPLACE <resource> SET ...`: one
//!   call of the resource's update / replace method per row the same SELECT returns
//!   ([`crate::provider::update`]); planned from the statement's tree here ([`update`]), so
//!   `SET data__<param> = ...` works as INSERT's `data__` columns do.
//! - `--max-writes` over a script ([`guard`]).
//! - `EXEC <resource>.<method> @param='value' ... [@@json='{...}']` → one request of any method
//!   the spec lists under `exec` ([`exec`]).
//!
//! Both build requests with [`crate::request`] (typed values from SQL checked against
//! the method's parameters) and send them with [`send_mutation`], which in a dry run records
//! them in the runtime's [`DryRunLog`] instead (both the provider layer's, which INSERT uses
//! too).

pub mod delete;
pub mod exec;
pub mod guard;
pub mod insert;
mod json_body;
mod returning;
pub mod update;

use std::sync::Arc;

use datafusion::common::TableReference;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use crate::provider::{ApiRuntime, ApiTable, ProviderError};
use crate::spec::Resource;

pub use crate::provider::dry_run::{DryRunLog, PlannedRequest};
pub use crate::provider::send::{send_mutation, SendError};

/// The result of one statement: its schema (also for zero rows) and its rows.
#[derive(Debug)]
pub struct StatementResult {
    /// The result's schema.
    pub schema: datafusion::arrow::datatypes::SchemaRef,
    /// The rows.
    pub batches: Vec<datafusion::arrow::record_batch::RecordBatch>,
}

/// Errors of the write path.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The statement names a table that is not an API resource.
    #[error("{statement}: {table} is not an API table (tables: {tables})")]
    UnknownTable {
        /// INSERT, DELETE or EXEC.
        statement: &'static str,
        /// The name as written.
        table: String,
        /// The API tables there are.
        tables: String,
    },
    /// EXEC of a method the resource does not have.
    #[error("EXEC: {table} has no method `{method}` (methods: {methods})")]
    UnknownMethod {
        /// The table.
        table: String,
        /// The method asked for.
        method: String,
        /// The methods EXEC can call.
        methods: String,
    },
    /// A parameter or column the method does not take.
    #[error("{statement} {target}: unknown {what} `{name}` (valid: {valid})")]
    UnknownParameter {
        /// INSERT or EXEC.
        statement: &'static str,
        /// The table or method.
        target: String,
        /// "parameter" or "column".
        what: &'static str,
        /// The name given.
        name: String,
        /// The valid names.
        valid: String,
    },
    /// A required parameter is missing.
    #[error("{statement} {target}: missing required parameter `{name}`{row}")]
    MissingParameter {
        /// INSERT or EXEC.
        statement: &'static str,
        /// The table or method.
        target: String,
        /// The parameter (as the user writes it).
        name: String,
        /// ` (row N)` for INSERT.
        row: String,
    },
    /// A value that does not fit its parameter.
    #[error("{statement} {target}: {message}")]
    InvalidValue {
        /// INSERT or EXEC.
        statement: &'static str,
        /// The table or method.
        target: String,
        /// What is wrong, naming the parameter (and row).
        message: String,
    },
    /// The one call of an EXEC failed, or its outcome is unknown (then `hint` says how to
    /// check).
    #[error("EXEC {target}: {}{source}", unknown_prefix(source, hint))]
    Call {
        /// The method.
        target: String,
        /// Why.
        source: Box<SendError>,
        /// For an unknown outcome: how to check it (else empty).
        hint: String,
    },
    /// Rows were created, then the statement failed (e.g. `RETURNING` could not read them
    /// back): the error names what was created.
    #[error("{table}: {created} rows were created ({ids}), but then: {error}")]
    AfterCreated {
        /// The table.
        table: String,
        /// How many rows were created.
        created: usize,
        /// Their ids, e.g. `run_id 5, run_id 6`.
        ids: String,
        /// What failed afterwards.
        error: String,
    },
    /// More calls that create or change things than the write guard allows.
    #[error(
        "the script would make {count} calls that create or change things ({what}), more than \
         --max-writes {max}: refused, nothing was sent. Split it, or raise --max-writes to at \
         least {count}"
    )]
    TooManyWrites {
        /// The calls counted.
        count: usize,
        /// What they are (`150 EXEC and 20 INSERT rows`).
        what: String,
        /// The guard.
        max: usize,
    },
    /// A response could not be decoded.
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

fn unknown_prefix(source: &SendError, hint: &str) -> String {
    if source.outcome_unknown() {
        format!("UNKNOWN outcome, the call may have been done: {hint}; ")
    } else {
        String::new()
    }
}

impl WriteError {
    /// Whether something the statement sent may have been done without its answer arriving:
    /// the user must check before re-running it (the CLI exits with code 3).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            WriteError::Call { source, .. } => source.outcome_unknown(),
            _ => false,
        }
    }
}

impl From<WriteError> for DataFusionError {
    fn from(e: WriteError) -> Self {
        DataFusionError::External(Box::new(e))
    }
}

/// The API table `name` refers to in `ctx`, with its resource and runtime; `None` when the
/// name is some other table (a memory table, a file), or no table at all.
pub async fn find_api_table(
    ctx: &SessionContext,
    name: TableReference,
) -> Option<(Arc<Resource>, Arc<ApiRuntime>)> {
    let provider = ctx.table_provider(name).await.ok()?;
    let any: &dyn std::any::Any = provider.as_ref();
    let table = any.downcast_ref::<ApiTable>()?;
    Some((table.resource().clone(), table.runtime().clone()))
}

/// The qualified names of every API table in `ctx`, for messages.
pub fn api_table_names(ctx: &SessionContext) -> String {
    let mut names = Vec::new();
    for catalog_name in ctx.catalog_names() {
        let Some(catalog) = ctx.catalog(&catalog_name) else {
            continue;
        };
        for schema_name in catalog.schema_names() {
            let Some(schema) = catalog.schema(&schema_name) else {
                continue;
            };
            for table in schema.table_names() {
                if catalog_name != "datafusion" && schema_name != "information_schema" {
                    names.push(format!("{catalog_name}.{schema_name}.{table}"));
                }
            }
        }
    }
    names.sort();
    names.join(", ")
}
