//! `UPDATE <resource> SET ... WHERE ...` → one call of the resource's update method per row the
//! same `SELECT ... WHERE` returns; `REPLACE <resource> SET ... WHERE ...` (StackQL's; parsed as
//! `UPDATE OR REPLACE`) → its replace method. A job: `jobs/update` / `jobs/reset`.
//!
//! Both spellings arrive as one [`UpdateTarget`]: the resource, what each SET assignment sets
//! ([`sets`]), and the statement's query — the key columns the method takes, the server
//! variable, and each SET value computed per row — planned as any SELECT (pushdown, subqueries,
//! joins). The query comes from the statement's tree ([`crate::write::update`], every front
//! end of jobsql: `data__` parameters and REPLACE included) or from DataFusion's plan of an
//! UPDATE of table columns ([`rule`], any `SessionContext` with the tables registered).
//!
//! - The WHERE is checked as DELETE's ([`super::write_rows`]): none, one naming only the
//!   workspace or no column, and a LIMIT without ORDER BY are refused before anything is sent.
//! - The rows are read first, always: the statement changes exactly the objects its SELECT
//!   shows (a key that does not exist is no row, so no call). A row named twice is one call;
//!   two rows of one object with different values are refused.
//! - More rows than the runtime's `max_writes` (`--max-writes`): refused before any call.
//! - A dry run records each call instead of sending it.
//! - The result is `count`, the rows changed. When some calls fail, the others still go, and
//!   the error lists every row: changed, gone (the API says it no longer exists), failed with
//!   the API's error, or unknown (the answer was lost: re-running is safe, the methods are
//!   idempotent).

mod error;
mod exec;
pub mod rule;
pub mod sets;

pub use error::UpdateError;
pub use exec::UpdateExec;

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;

use super::write_rows::{has_unordered_limit, selects_everything};
use super::{ApiRuntime, ApiTable};
use crate::spec::Resource;
use sets::{Set, Statement};

/// The name of the `i`-th SET value's column in the statement's query.
pub fn set_column(i: usize) -> String {
    format!("__jobsql_set_{i}")
}

/// The target of one UPDATE / REPLACE: the API table, what its SET sets, and the query whose
/// rows it changes — the update parameters' columns (in the spec's order), the server
/// variable, then the SET values ([`set_column`]).
pub struct UpdateTarget {
    resource: Arc<Resource>,
    runtime: Arc<ApiRuntime>,
    schema: SchemaRef,
    replace: bool,
    sets: Vec<Set>,
    query: LogicalPlan,
}

impl fmt::Debug for UpdateTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpdateTarget")
            .field("table", &self.resource.qualified_name())
            .field("replace", &self.replace)
            .finish_non_exhaustive()
    }
}

impl UpdateTarget {
    /// The target of an UPDATE (`replace`: a REPLACE) of `table` setting `names` to the values
    /// of `query`'s last columns; refuses what the statement may not set and a WHERE that
    /// selects every row.
    pub fn new(
        table: &ApiTable,
        replace: bool,
        names: &[String],
        query: LogicalPlan,
    ) -> Result<Self> {
        let resource = table.resource().clone();
        let statement = Statement::of(&resource, replace)?;
        let sets = sets::resolve(&resource, &statement, names)?;
        let name = resource.qualified_name();
        if has_unordered_limit(&query)? {
            return Err(UpdateError::LimitWithoutOrder {
                statement: statement.word,
                table: name,
            }
            .into());
        }
        if let Some(filter) = selects_everything(&query, &resource.server.variable) {
            let example = statement
                .spec
                .params
                .values()
                .next()
                .map(|c| format!("{c} = ..."))
                .unwrap_or_default();
            return Err(UpdateError::Everything {
                statement: statement.word,
                verb: statement.verb(),
                table: name,
                example,
                filter,
            }
            .into());
        }
        Ok(Self {
            schema: table.schema(),
            runtime: table.runtime().clone(),
            resource,
            replace,
            sets,
            query,
        })
    }
}

#[async_trait]
impl TableProvider for UpdateTarget {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        _projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Err(DataFusionError::Internal(format!(
            "the UPDATE target of {} is not scanned",
            self.resource.qualified_name()
        )))
    }

    /// The assignments and filters DataFusion extracted are ignored: the carried query
    /// decides the rows and their values.
    async fn update(
        &self,
        state: &dyn Session,
        _assignments: Vec<(String, Expr)>,
        _filters: Vec<Expr>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = state.create_physical_plan(&self.query).await?;
        Ok(Arc::new(UpdateExec::new(
            self.resource.clone(),
            self.runtime.clone(),
            self.replace,
            self.sets.clone(),
            input,
        )))
    }
}

/// The API table behind `provider`, if it is one.
pub(crate) fn api_table(provider: &dyn TableProvider) -> Option<&ApiTable> {
    let any: &dyn Any = provider;
    any.downcast_ref::<ApiTable>()
}
