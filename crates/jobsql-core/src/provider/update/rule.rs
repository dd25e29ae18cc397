//! UPDATE of table columns as DataFusion plans it, in any `SessionContext` the tables are
//! registered in: `UPDATE jobs SET name = 'x' WHERE job_id = 5`.
//!
//! DataFusion plans it as `Dml(Update)` over a projection of every column — the SET value for
//! an assigned column, the column itself for the others — over the statement's filter and
//! scan, and would hand the table's `update` only the assignments and the filters it can
//! attribute to the table (a subquery's semi-join would be lost, as for DELETE). [`UpdateRule`],
//! an analyzer rule, swaps the target for an [`UpdateTarget`] carrying the statement's whole
//! query instead: the update parameters' columns, the server variable and the assigned values,
//! over the projection's input.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::Column;
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{DmlStatement, Expr, LogicalPlan, LogicalPlanBuilder, WriteOp};
use datafusion::optimizer::AnalyzerRule;

use super::{api_table, set_column, sets::Statement, UpdateTarget};
use crate::provider::ApiTable;

/// The analyzer rule: `UPDATE <api table> SET <column> = ...` gets an [`UpdateTarget`].
#[derive(Debug, Default)]
pub struct UpdateRule;

impl AnalyzerRule for UpdateRule {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up(|node| {
            let LogicalPlan::Dml(dml) = &node else {
                return Ok(Transformed::no(node));
            };
            if dml.op != WriteOp::Update {
                return Ok(Transformed::no(node));
            }
            let Ok(provider) = source_as_provider(&dml.target) else {
                return Ok(Transformed::no(node));
            };
            let Some(table) = api_table(provider.as_ref()) else {
                return Ok(Transformed::no(node));
            };
            let target = target_of(table, &dml.input)?;
            Ok(Transformed::yes(LogicalPlan::Dml(DmlStatement::new(
                dml.table_name.clone(),
                provider_as_source(Arc::new(target)),
                WriteOp::Update,
                dml.input.clone(),
            ))))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "jobsql_update_exact_rows"
    }
}

/// The target of DataFusion's UPDATE plan `input` (a projection of every column).
fn target_of(table: &ApiTable, input: &LogicalPlan) -> Result<UpdateTarget> {
    let LogicalPlan::Projection(projection) = input else {
        return Err(DataFusionError::Internal(
            "UPDATE was not planned as a projection".into(),
        ));
    };
    let resource = table.resource();
    let statement = Statement::of(resource, false)?;
    let source = projection.input.as_ref();
    let mut columns = Vec::new();
    for column in statement
        .spec
        .params
        .values()
        .chain([&resource.server.variable])
    {
        let (qualifier, field) = source
            .schema()
            .qualified_field_with_unqualified_name(column)
            .map_err(|_| {
                DataFusionError::Plan(format!("{}: no column {column}", resource.qualified_name()))
            })?;
        columns.push(Expr::Column(Column::from((qualifier, field))));
    }
    let mut names = Vec::new();
    for expr in &projection.expr {
        let Expr::Alias(alias) = expr else {
            continue;
        };
        let unchanged = matches!(alias.expr.as_ref(), Expr::Column(c) if c.name == alias.name);
        if unchanged {
            continue;
        }
        columns.push(alias.expr.as_ref().clone().alias(set_column(names.len())));
        names.push(alias.name.clone());
    }
    let query = LogicalPlanBuilder::from(source.clone())
        .project(columns)?
        .build()?;
    UpdateTarget::new(table, false, &names, query)
}
