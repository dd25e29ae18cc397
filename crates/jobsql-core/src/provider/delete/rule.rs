//! DELETE acts on exactly the rows the same WHERE selects.
//!
//! DataFusion hands a table's `delete_from` only the predicates it can attribute to the table
//! (`extract_dml_filters`): a semi-join from `run_id IN (SELECT ...)`, an anti-join from
//! `NOT IN`, or a `LIMIT` above the scan are dropped, and a DELETE built from those filters
//! alone would delete rows its WHERE excludes. So jobsql does not use them.
//!
//! [`DeleteRule`], an analyzer rule, finds `DELETE FROM <api table> ...` in a logical plan and
//! swaps the statement's target for a [`DeleteTarget`] that carries the whole input plan — the
//! scan, its filter, subqueries, joins and limit — projected to the delete method's key
//! columns and the server variable. When DataFusion plans the DELETE, the target's
//! `delete_from` ignores the extracted filters and plans that carried query instead (optimised
//! as any SELECT: pushdown, decorrelated subqueries), so the rows deleted are the rows
//! `SELECT ... WHERE <same>` returns.
//!
//! Before anything is planned, the WHERE is checked: none, one that names only the workspace
//! (`deployment_name = 'x'`), or one that names no column of the table (`true`, an
//! uncorrelated `EXISTS (...)`) selects every row (or none) and is refused, the message
//! saying which of the three it was (unless an ordered LIMIT bounds the rows). A column named
//! in a subquery as an outer reference (`EXISTS (... WHERE j.job_id = job_runs.job_id)`) names
//! the rows. A LIMIT without an ORDER BY, in the DELETE or in any of its subqueries
//! (`job_id IN (SELECT job_id FROM jobs LIMIT 20)`), is refused too: which rows it keeps
//! depends on the order they arrive in, so a dry run (or the SELECT a user checks first) would
//! not show the rows the delete takes.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::Column;
use datafusion::datasource::{provider_as_source, source_as_provider, TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{DmlStatement, Expr, LogicalPlan, LogicalPlanBuilder, WriteOp};
use datafusion::optimizer::AnalyzerRule;
use datafusion::physical_plan::ExecutionPlan;

use crate::provider::{ApiRuntime, ApiTable};
use crate::spec::Resource;

use super::{plan_delete, DeleteError, Selection};
use crate::provider::write_rows::{has_unordered_limit, selects_everything, where_predicates};

/// The analyzer rule: `DELETE FROM <api table>` gets a [`DeleteTarget`] carrying its query.
#[derive(Debug, Default)]
pub struct DeleteRule;

impl AnalyzerRule for DeleteRule {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up(|node| {
            let LogicalPlan::Dml(dml) = &node else {
                return Ok(Transformed::no(node));
            };
            if dml.op != WriteOp::Delete {
                return Ok(Transformed::no(node));
            }
            let Ok(provider) = source_as_provider(&dml.target) else {
                return Ok(Transformed::no(node));
            };
            let any: &dyn Any = provider.as_ref();
            let Some(table) = any.downcast_ref::<ApiTable>() else {
                return Ok(Transformed::no(node));
            };
            let target = DeleteTarget::new(table, dml.input.as_ref())?;
            Ok(Transformed::yes(LogicalPlan::Dml(DmlStatement::new(
                dml.table_name.clone(),
                provider_as_source(Arc::new(target)),
                WriteOp::Delete,
                dml.input.clone(),
            ))))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "jobsql_delete_exact_rows"
    }
}

/// The target of one DELETE: the API table, and the query whose rows are deleted.
pub struct DeleteTarget {
    resource: Arc<Resource>,
    runtime: Arc<ApiRuntime>,
    schema: SchemaRef,
    selection: Selection,
}

impl fmt::Debug for DeleteTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeleteTarget")
            .field("table", &self.resource.qualified_name())
            .finish_non_exhaustive()
    }
}

impl DeleteTarget {
    /// The target of `DELETE FROM table <input>`; refuses a WHERE that selects every row.
    fn new(table: &ApiTable, input: &LogicalPlan) -> Result<Self> {
        let resource = table.resource().clone();
        let name = resource.qualified_name();
        let Some(spec) = &resource.spec.delete else {
            return Err(DeleteError::NotSupported { table: name }.into());
        };
        if has_unordered_limit(input)? {
            return Err(DeleteError::LimitWithoutOrder { table: name }.into());
        }
        let predicates = where_predicates(input);
        let server = &resource.server.variable;
        if let Some(filter) = selects_everything(input, server) {
            let example = spec
                .params
                .values()
                .next()
                .map(|c| format!("{c} = ..."))
                .unwrap_or_default();
            return Err(DeleteError::DeleteEverything {
                table: name,
                example,
                filter,
            }
            .into());
        }
        let selection = if is_plain_filter(input) {
            let owned: Vec<Expr> = predicates.into_iter().cloned().collect();
            Selection::from_filters(&resource, spec, &owned)
        } else {
            None
        };
        let selection = match selection {
            Some(direct) => direct,
            None => {
                let mut columns: Vec<Expr> = Vec::new();
                for column in spec.params.values().chain([server]) {
                    let field = input
                        .schema()
                        .qualified_field_with_unqualified_name(column)
                        .map_err(|_| {
                            DataFusionError::Plan(format!("{name}: no column {column}"))
                        })?;
                    columns.push(Expr::Column(Column::from((field.0, field.1))));
                }
                let query = LogicalPlanBuilder::from(input.clone())
                    .project(columns)?
                    .build()?;
                Selection::Query(Box::new(query))
            }
        };
        Ok(Self {
            schema: table.schema(),
            resource,
            runtime: table.runtime().clone(),
            selection,
        })
    }
}

/// Whether the input is a plain `Filter` over the table's scan: no limit, and no subquery in
/// the predicate (the only shape whose rows the filters alone describe).
fn is_plain_filter(input: &LogicalPlan) -> bool {
    let LogicalPlan::Filter(filter) = input else {
        return false;
    };
    if !matches!(filter.input.as_ref(), LogicalPlan::TableScan(_)) {
        return false;
    }
    let mut subquery = false;
    let _ = filter.predicate.apply(|e| {
        subquery |= matches!(
            e,
            Expr::InSubquery(_)
                | Expr::Exists(_)
                | Expr::ScalarSubquery(_)
                | Expr::SetComparison(_)
        );
        Ok(TreeNodeRecursion::Continue)
    });
    !subquery
}

#[async_trait]
impl TableProvider for DeleteTarget {
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
            "the DELETE target of {} is not scanned",
            self.resource.qualified_name()
        )))
    }

    /// The filters DataFusion extracted are ignored: the carried query decides the rows.
    async fn delete_from(
        &self,
        state: &dyn Session,
        _filters: Vec<Expr>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan_delete(
            self.resource.clone(),
            self.runtime.clone(),
            state,
            self.selection.clone(),
        )
        .await
    }
}
