//! `INSERT INTO <resource> (columns) VALUES ... | SELECT ...` → one call of the resource's
//! `insert` method per row (StackQL's form: `data__<field>` columns are body fields, objects and
//! arrays as JSON text; the server variable picks each row's workspace).
//!
//! Every row is checked before anything is sent: an unknown column lists the valid ones, a
//! value that does not fit (invalid JSON, text for an integer) names its column and row, a
//! missing required field names the row. Each row gets an idempotency token (unless it has
//! one) that its retries reuse, so a retried submit never launches twice. Rows go concurrently
//! (at most `--max-concurrency` at a time). If some fail, the error lists every row: which were
//! created (with their key), which failed (with the API's error) and which are unknown.
//!
//! Two rows with the same idempotency token are refused before anything is sent. A row whose
//! answer was lost is reported *unknown*, not failed ([`super::report`]).
//!
//! Without RETURNING the result is `count` (as DataFusion's DML reports); `RETURNING run_id`
//! answers from the responses, and other columns are read back through the table by key
//! (`returning.rs`); if that fails, the error still lists the ids created.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::UInt64Array;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{ScalarValue, TableReference};
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Insert, ObjectName, Statement as SqlStatement, TableObject};
use futures::{stream, StreamExt};
use serde_json::Value;

use super::StatementResult;
use crate::hints::user_message;
use crate::provider::ApiRuntime;
use crate::spec::{MethodSpec, ParamLocation, Resource};

use super::report::{created_ids, insert_report, RowInput, RowOutcome};
use super::returning::returning;
use super::{find_api_table, send_mutation, WriteError};
use crate::request::args::{fill_idempotency_token, missing_required, typed_value};
use crate::request::{build_call, Unlisted};
use crate::sql::SqlValue;

/// Where an INSERT column goes.
#[derive(Debug, Clone)]
enum Target {
    /// The server variable: the row's workspace.
    Workspace,
    /// A method parameter.
    Param(String),
}

/// One validated row, ready to send.
struct Row {
    workspace: Option<String>,
    values: BTreeMap<String, Value>,
}

/// Run an INSERT into an API table; `None` when the table is not one (DataFusion inserts).
pub async fn run_insert(ctx: &SessionContext, insert: &Insert) -> Result<Option<StatementResult>> {
    let TableObject::TableName(name) = &insert.table else {
        return Ok(None);
    };
    let Some((resource, runtime)) = find_api_table(ctx, table_reference(name)).await else {
        return Ok(None);
    };
    let table = resource.qualified_name();
    let Some(method) = resource
        .spec
        .insert
        .as_ref()
        .and_then(|i| resource.spec.methods.get(&i.method))
    else {
        return Err(WriteError::NotSupported {
            statement: "INSERT",
            table,
            hint: exec_hint(&resource),
        }
        .into());
    };
    let targets = targets(&resource, method, insert)?;
    let Some(source) = &insert.source else {
        return Err(invalid(&table, "INSERT needs VALUES or a SELECT".into()).into());
    };
    let plan = ctx
        .state()
        .statement_to_plan(DfStatement::Statement(Box::new(SqlStatement::Query(
            source.clone(),
        ))))
        .await?;
    let batches = ctx.execute_logical_plan(plan).await?.collect().await?;
    let rows = rows(&resource, method, &targets, &batches)?;
    distinct_tokens(&table, method, &rows)?;
    let outcomes = send_rows(&runtime, method, &rows).await;
    let inputs: Vec<RowInput<'_>> = rows
        .iter()
        .map(|r| RowInput {
            workspace: r.workspace.as_deref(),
            values: &r.values,
        })
        .collect();
    insert_report(&resource, method, &inputs, &outcomes)?;
    let bodies: Vec<Vec<u8>> = outcomes
        .into_iter()
        .filter_map(|o| o.ok().flatten())
        .collect();
    let result = match &insert.returning {
        None => count_result(rows.len() as u64),
        Some(_) if runtime.dry_run.is_some() => count_result(0),
        Some(items) => {
            let workspaces: Vec<Option<&str>> =
                rows.iter().map(|r| r.workspace.as_deref()).collect();
            returning(ctx, &resource, items, &workspaces, &bodies).await
        }
    };
    // The rows exist whatever happens next: an error after them still names them.
    result
        .map_err(|e| match created_ids(&resource, &bodies) {
            Some(ids) => WriteError::AfterCreated {
                table: table.clone(),
                created: bodies.len(),
                ids,
                error: user_message(&e),
            }
            .into(),
            None => e,
        })
        .map(Some)
}

/// Two rows with the same idempotency token would be one object reported twice (the API
/// answers the second with the first's id): refused before anything is sent.
fn distinct_tokens(table: &str, method: &MethodSpec, rows: &[Row]) -> Result<()> {
    let Some(token) = &method.idempotency_token else {
        return Ok(());
    };
    let mut seen: BTreeMap<(Option<&str>, String), usize> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        let Some(value) = row.values.get(token) else {
            continue;
        };
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // Tokens are per workspace: the same token in two workspaces is two objects.
        if let Some(first) = seen.insert((row.workspace.as_deref(), text.clone()), i + 1) {
            return Err(invalid(
                table,
                format!(
                    "rows {first} and {} have the same data__{token} '{text}': the API would \
                     create one object for both and report it twice. Give each row its own \
                     token (or none: jobsql makes one per row)",
                    i + 1
                ),
            )
            .into());
        }
    }
    Ok(())
}

fn invalid(table: &str, message: String) -> WriteError {
    WriteError::InvalidValue {
        statement: "INSERT",
        target: table.to_string(),
        message,
    }
}

fn exec_hint(resource: &Resource) -> String {
    if resource.spec.exec.is_empty() {
        String::new()
    } else {
        format!(" (EXEC methods: {})", resource.spec.exec.join(", "))
    }
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

/// The target of each INSERT column, or an error listing the valid columns.
fn targets(resource: &Resource, method: &MethodSpec, insert: &Insert) -> Result<Vec<Target>> {
    let table = resource.qualified_name();
    let variable = &resource.server.variable;
    let valid = || {
        let mut names = vec![variable.clone()];
        for (name, p) in &method.params {
            names.push(match p.location {
                ParamLocation::Body => format!("data__{name}"),
                _ => name.clone(),
            });
        }
        names.join(", ")
    };
    if insert.columns.is_empty() {
        return Err(invalid(
            &table,
            format!(
                "name the columns, e.g. INSERT INTO {table} ({}) SELECT ...",
                valid()
            ),
        )
        .into());
    }
    let mut out: Vec<Target> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for column in &insert.columns {
        let name = column.to_string().trim_matches('"').to_lowercase();
        if seen.contains(&name) {
            return Err(invalid(&table, format!("column {name} is given twice")).into());
        }
        seen.push(name.clone());
        let target = if &name == variable {
            Some(Target::Workspace)
        } else if let Some(field) = name.strip_prefix("data__") {
            method
                .params
                .get(field)
                .filter(|p| p.location == ParamLocation::Body)
                .map(|_| Target::Param(field.to_string()))
        } else {
            method
                .params
                .get(&name)
                .filter(|p| p.location != ParamLocation::Body)
                .map(|_| Target::Param(name.clone()))
        };
        out.push(target.ok_or_else(|| WriteError::UnknownParameter {
            statement: "INSERT INTO",
            target: table.clone(),
            what: "column",
            name: name.clone(),
            valid: valid(),
        })?);
    }
    Ok(out)
}

/// Every row typed and checked, before anything is sent.
fn rows(
    resource: &Resource,
    method: &MethodSpec,
    targets: &[Target],
    batches: &[RecordBatch],
) -> Result<Vec<Row>> {
    let table = resource.qualified_name();
    let mut rows = Vec::new();
    for batch in batches {
        if batch.num_columns() != targets.len() {
            return Err(invalid(
                &table,
                format!(
                    "{} columns are named but the rows have {} values",
                    targets.len(),
                    batch.num_columns()
                ),
            )
            .into());
        }
        for i in 0..batch.num_rows() {
            let n = rows.len() + 1;
            let mut row = Row {
                workspace: None,
                values: BTreeMap::new(),
            };
            for (j, target) in targets.iter().enumerate() {
                let value =
                    SqlValue::from_scalar(&ScalarValue::try_from_array(batch.column(j), i)?);
                match target {
                    Target::Workspace => {
                        row.workspace = match value {
                            SqlValue::Null => None,
                            SqlValue::Text(t) => Some(t),
                            other => {
                                return Err(invalid(
                                    &table,
                                    format!(
                                        "row {n}: {} must be text, got {other:?}",
                                        resource.server.variable
                                    ),
                                )
                                .into())
                            }
                        }
                    }
                    Target::Param(name) => {
                        let spec = &method.params[name];
                        let shown = match spec.location {
                            ParamLocation::Body => format!("data__{name}"),
                            _ => name.clone(),
                        };
                        if let Some(v) = typed_value(&shown, spec, &value)
                            .map_err(|m| invalid(&table, format!("row {n}: {m}")))?
                        {
                            row.values.insert(name.clone(), v);
                        }
                    }
                }
            }
            fill_idempotency_token(method, &mut row.values);
            if let Some(name) = missing_required(method, &row.values).into_iter().next() {
                return Err(WriteError::MissingParameter {
                    statement: "INSERT INTO",
                    target: table.clone(),
                    name: format!("data__{name}"),
                    row: format!(" (row {n})"),
                }
                .into());
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Send every row, at most the runtime's `max_concurrency` at a time; outcomes in row order.
async fn send_rows(runtime: &ApiRuntime, method: &MethodSpec, rows: &[Row]) -> Vec<RowOutcome> {
    let sends: Vec<_> = rows
        .iter()
        .map(|row| {
            // Owned values only: the futures stay `Send` (a server drives them on any thread).
            let request = build_call(method, &row.values, Unlisted::Body);
            let workspace = row.workspace.clone();
            async move {
                send_mutation(runtime, workspace.as_deref(), &request)
                    .await
                    .map(|body| body.map(|b| b.to_vec()))
            }
        })
        .collect();
    stream::iter(sends)
        .buffered(runtime.max_concurrency)
        .collect()
        .await
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
