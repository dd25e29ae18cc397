//! INSERT into an API table, where the statements layer adds to DataFusion's plan of it.
//!
//! A plain `INSERT INTO <resource> (data__field, ...) VALUES ... | SELECT ...` is DataFusion's:
//! the table's `insert_into` does the submits ([`crate::provider::insert`]) and the result is
//! `count`. Two things are this module's:
//!
//! - `INSERT ... RETURNING`, which DataFusion parses but does not plan: [`run_returning`] plans
//!   the same INSERT without the clause (so the rows go through the very same sink), runs it,
//!   and answers from the sink's responses: `RETURNING run_id` from the responses, other
//!   columns read back through the table by key (`returning.rs`). If that fails, the error
//!   still lists the ids created.
//! - The wording of INSERT's planning errors ([`planning_error`]): DataFusion resolves the
//!   columns, and words an unknown one or a missing column list its own way; these are worded
//!   as jobsql's other INSERT errors (the column, and the valid ones).
//! - [`plan_insert`]: `INSERT ... SELECT` planned as DataFusion's SQL planner plans it, but with
//!   its source planned on its own. DataFusion 55 hands the INSERT's column list to every
//!   `VALUES` inside the source, so `INSERT INTO t (a, b, c) SELECT ... FROM (VALUES (1), (2))`
//!   fails there ("Inconsistent data length across values list"); a plain `INSERT ... VALUES`
//!   is left to DataFusion (it types `$1` placeholders from the columns).

use std::sync::Arc;

use datafusion::arrow::array::UInt64Array;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{DFSchema, ScalarValue, SchemaError, TableReference};
use datafusion::datasource::provider_as_source;
use datafusion::datasource::sink::DataSinkExec;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::{collect, ExecutionPlan};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    Insert, ObjectName, SetExpr, Statement as SqlStatement, TableObject,
};

use crate::hints::user_message;
use crate::provider::insert::report::created_ids;
use crate::provider::insert::{insert_method, valid_columns, InsertError, InsertSink};

use super::returning::returning;
use super::StatementResult;
use super::{find_api_table, WriteError};

/// Run `INSERT ... RETURNING` into an API table; `None` when the statement has no RETURNING or
/// its table is not an API table (DataFusion then answers).
pub async fn run_returning(
    ctx: &SessionContext,
    insert: &Insert,
) -> Result<Option<StatementResult>> {
    let Some(items) = &insert.returning else {
        return Ok(None);
    };
    let TableObject::TableName(name) = &insert.table else {
        return Ok(None);
    };
    let Some((resource, runtime)) = find_api_table(ctx, table_reference(name)).await else {
        return Ok(None);
    };
    let mut plain = insert.clone();
    plain.returning = None;
    let plan = match plan_insert(ctx, &plain).await? {
        Some(plan) => plan,
        None => {
            ctx.state()
                .statement_to_plan(DfStatement::Statement(Box::new(SqlStatement::Insert(
                    plain,
                ))))
                .await?
        }
    };
    let df = ctx.execute_logical_plan(plan).await?;
    let task = Arc::new(df.task_ctx());
    let physical = df.create_physical_plan().await?;
    let sink = find_sink(&physical).ok_or_else(|| {
        DataFusionError::Internal(format!(
            "INSERT INTO {}: no InsertSink in the plan",
            resource.qualified_name()
        ))
    })?;
    collect(physical.clone(), task).await?;
    if runtime.dry_run.is_some() {
        return count_result(0).map(Some);
    }
    let created = sink.created();
    let workspaces: Vec<Option<&str>> = created.iter().map(|c| c.workspace.as_deref()).collect();
    let bodies: Vec<Vec<u8>> = created.iter().map(|c| c.body.clone()).collect();
    let result = returning(ctx, &resource, items, &workspaces, &bodies).await;
    // The rows exist whatever happens next: an error after them still names them.
    result
        .map_err(|e| match created_ids(&resource, &bodies) {
            Some(ids) => WriteError::AfterCreated {
                table: resource.qualified_name(),
                created: bodies.len(),
                ids,
                error: user_message(&e),
            }
            .into(),
            None => e,
        })
        .map(Some)
}

/// The plan of `INSERT INTO <api table> (columns) <query>` with `<query>` planned on its own
/// (see the module's header), as DataFusion's SQL planner would plan it otherwise: the named
/// columns cast to the table's types, the others NULL, into the table's `insert_into`. `None`
/// when DataFusion plans it as it is (not an API table, a plain `VALUES` source) or when it has
/// no column list (DataFusion's error is then worded by [`planning_error`]).
pub async fn plan_insert(ctx: &SessionContext, insert: &Insert) -> Result<Option<LogicalPlan>> {
    let TableObject::TableName(name) = &insert.table else {
        return Ok(None);
    };
    let Some(source) = &insert.source else {
        return Ok(None);
    };
    let bare_values = matches!(source.body.as_ref(), SetExpr::Values(_))
        && source.with.is_none()
        && source.order_by.is_none()
        && source.limit_clause.is_none();
    if bare_values || insert.columns.is_empty() || insert.returning.is_some() {
        return Ok(None);
    }
    let reference = table_reference(name);
    let Some((resource, _)) = find_api_table(ctx, reference.clone()).await else {
        return Ok(None);
    };
    let provider = ctx.table_provider(reference.clone()).await?;
    let table_schema = provider.schema();
    let query = DfStatement::Statement(Box::new(SqlStatement::Query(source.clone())));
    let input = ctx.state().statement_to_plan(query).await?;
    if input.schema().fields().len() != insert.columns.len() {
        return Err(DataFusionError::Plan(format!(
            "INSERT INTO {}: {} columns are named but the rows have {} values",
            resource.qualified_name(),
            insert.columns.len(),
            input.schema().fields().len()
        )));
    }
    let mut value_of: Vec<Option<usize>> = vec![None; table_schema.fields().len()];
    for (j, column) in insert.columns.iter().enumerate() {
        let column = column.to_string();
        let name = match column.strip_prefix('"').and_then(|c| c.strip_suffix('"')) {
            Some(quoted) => quoted.to_string(),
            None => column.to_lowercase(),
        };
        let Some(i) = table_schema.fields().iter().position(|f| f.name() == &name) else {
            let method = insert_method(&resource)?;
            return Err(InsertError::UnknownColumn {
                table: resource.qualified_name(),
                valid: valid_columns(&resource, method),
                name,
            }
            .into());
        };
        if value_of[i].replace(j).is_some() {
            return Err(InsertError::InvalidValue {
                table: resource.qualified_name(),
                message: format!("column {name} is given twice"),
            }
            .into());
        }
    }
    let mut exprs = Vec::with_capacity(value_of.len());
    for (field, value) in table_schema.fields().iter().zip(value_of) {
        let expr = match value {
            Some(j) => Expr::Column(input.schema().qualified_field(j).into())
                .cast_to(field.data_type(), input.schema())?,
            None => Expr::Literal(ScalarValue::Null, None)
                .cast_to(field.data_type(), &DFSchema::empty())?,
        };
        exprs.push(expr.alias(field.name()));
    }
    let projected = LogicalPlanBuilder::from(input).project(exprs)?.build()?;
    let plan = LogicalPlanBuilder::insert_into(
        projected,
        reference,
        provider_as_source(provider),
        InsertOp::Append,
    )?
    .build()?;
    Ok(Some(plan))
}

/// The [`InsertSink`] of a physical INSERT plan.
fn find_sink(plan: &Arc<dyn ExecutionPlan>) -> Option<&InsertSink> {
    if let Some(exec) = plan.downcast_ref::<DataSinkExec>() {
        return exec.sink().downcast_ref::<InsertSink>();
    }
    plan.children().into_iter().find_map(find_sink)
}

/// `error`, from planning `insert`, worded as jobsql's INSERT errors when the table is an API
/// table: no column list ("name the columns"), or a column the table does not have (the valid
/// ones listed). Anything else is returned as it is.
pub async fn planning_error(
    ctx: &SessionContext,
    insert: &Insert,
    error: DataFusionError,
) -> DataFusionError {
    let TableObject::TableName(name) = &insert.table else {
        return error;
    };
    let Some((resource, _)) = find_api_table(ctx, table_reference(name)).await else {
        return error;
    };
    let Ok(method) = insert_method(&resource) else {
        return error;
    };
    let table = resource.qualified_name();
    let valid = valid_columns(&resource, method);
    if insert.columns.is_empty() {
        return InsertError::InvalidValue {
            message: format!("name the columns, e.g. INSERT INTO {table} ({valid}) SELECT ..."),
            table,
        }
        .into();
    }
    if let DataFusionError::SchemaError(e, _) = error.find_root() {
        if let SchemaError::FieldNotFound { field, .. } = e.as_ref() {
            return InsertError::UnknownColumn {
                table,
                name: field.name.clone(),
                valid,
            }
            .into();
        }
    }
    error
}

/// A table name as DataFusion resolves it (unquoted parts are lower-cased).
pub fn table_reference(name: &ObjectName) -> TableReference {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p.as_ident() {
            Some(i) if i.quote_style.is_none() => i.value.to_lowercase(),
            Some(i) => i.value.clone(),
            None => p.to_string(),
        })
        .collect();
    match parts.as_slice() {
        [c, s, t] => TableReference::full(c.as_str(), s.as_str(), t.as_str()),
        [s, t] => TableReference::partial(s.as_str(), t.as_str()),
        _ => TableReference::bare(parts.join(".")),
    }
}

/// The `count` result of a DML statement.
pub(super) fn count_result(count: u64) -> Result<StatementResult> {
    let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new(
        "count",
        DataType::UInt64,
        false,
    )]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(UInt64Array::from(vec![count]))],
    )?;
    Ok(StatementResult {
        schema,
        batches: vec![batch],
    })
}
