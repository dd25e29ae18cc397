//! INSERT rows → typed calls of the resource's `insert` method (StackQL's form: `data__<field>`
//! columns are body fields, objects and arrays as JSON text; the server variable picks each
//! row's workspace).
//!
//! Every row is checked before anything is sent: a value in a column the method does not take
//! lists the valid ones, a value that does not fit (invalid JSON, text for an integer) names
//! its column and row, a missing required field names the row. Each row gets an idempotency
//! token (unless it has one) that its retries reuse, so a retried submit never launches twice.
//! Two rows with the same token are refused before anything is sent. Rows go concurrently (at
//! most `--max-concurrency` at a time); [`super::report`] says what each did.

use std::collections::BTreeMap;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use futures::{stream, StreamExt};
use serde_json::Value;

use crate::provider::send::send_mutation;
use crate::provider::ApiRuntime;
use crate::request::args::{fill_idempotency_token, missing_required, typed_value};
use crate::request::{build_call, Unlisted};
use crate::spec::{MethodSpec, ParamLocation, ParamSpec, Resource};
use crate::sql::SqlValue;

use super::report::RowOutcome;
use super::InsertError;

/// Where an INSERT column goes.
#[derive(Debug, Clone)]
enum Target {
    /// The server variable: the row's workspace.
    Workspace,
    /// A method parameter.
    Param(String),
    /// A column of the table the method does not take: only NULL fits it.
    NotInsertable(String),
}

/// One validated row, ready to send.
pub struct Row {
    /// The server variable's value, if the row set it.
    pub workspace: Option<String>,
    /// The typed parameter values.
    pub values: BTreeMap<String, Value>,
}

/// The INSERT column of parameter `name`: `data__<name>` for a body field, else `name`.
pub fn column_name(name: &str, spec: &ParamSpec) -> String {
    match spec.location {
        ParamLocation::Body => format!("data__{name}"),
        _ => name.to_string(),
    }
}

/// The columns an INSERT may name, for messages: the server variable, then each parameter.
pub fn valid_columns(resource: &Resource, method: &MethodSpec) -> String {
    let mut names = vec![resource.server.variable.clone()];
    for (name, spec) in &method.params {
        names.push(column_name(name, spec));
    }
    names.join(", ")
}

/// The target of the column `name`.
fn target(resource: &Resource, method: &MethodSpec, name: &str) -> Target {
    if name == resource.server.variable {
        return Target::Workspace;
    }
    let param = match name.strip_prefix("data__") {
        Some(field) => method
            .params
            .get_key_value(field)
            .filter(|(_, p)| p.location == ParamLocation::Body),
        None => method
            .params
            .get_key_value(name)
            .filter(|(_, p)| p.location != ParamLocation::Body),
    };
    match param {
        Some((field, _)) => Target::Param(field.clone()),
        None => Target::NotInsertable(name.to_string()),
    }
}

fn invalid(table: &str, message: String) -> InsertError {
    InsertError::InvalidValue {
        table: table.to_string(),
        message,
    }
}

/// Every row of `batches` typed and checked, before anything is sent.
pub fn rows(
    resource: &Resource,
    method: &MethodSpec,
    batches: &[RecordBatch],
) -> Result<Vec<Row>, InsertError> {
    let table = resource.qualified_name();
    let mut rows = Vec::new();
    for batch in batches {
        let targets: Vec<Target> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| target(resource, method, f.name()))
            .collect();
        for i in 0..batch.num_rows() {
            let n = rows.len() + 1;
            let mut row = Row {
                workspace: None,
                values: BTreeMap::new(),
            };
            for (j, target) in targets.iter().enumerate() {
                let scalar = ScalarValue::try_from_array(batch.column(j), i)
                    .map_err(|e| invalid(&table, format!("row {n}: {e}")))?;
                let value = SqlValue::from_scalar(&scalar);
                match (target, value) {
                    (_, SqlValue::Null) => {}
                    (Target::NotInsertable(name), _) => {
                        return Err(InsertError::UnknownColumn {
                            table,
                            name: name.clone(),
                            valid: valid_columns(resource, method),
                        })
                    }
                    (Target::Workspace, SqlValue::Text(t)) => row.workspace = Some(t),
                    (Target::Workspace, other) => {
                        return Err(invalid(
                            &table,
                            format!(
                                "row {n}: {} must be text, got {other:?}",
                                resource.server.variable
                            ),
                        ))
                    }
                    (Target::Param(name), value) => {
                        let spec = &method.params[name];
                        let shown = column_name(name, spec);
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
                return Err(InsertError::MissingParameter {
                    table,
                    name: column_name(&name, &method.params[&name]),
                    row: n,
                });
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Two rows with the same idempotency token would be one object reported twice (the API
/// answers the second with the first's id): refused before anything is sent.
pub fn distinct_tokens(table: &str, method: &MethodSpec, rows: &[Row]) -> Result<(), InsertError> {
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
            ));
        }
    }
    Ok(())
}

/// Send every row, at most the runtime's `max_concurrency` at a time; outcomes in row order.
pub async fn send_rows(
    runtime: &ApiRuntime,
    resource: &Resource,
    method: &MethodSpec,
    rows: &[Row],
) -> Vec<RowOutcome> {
    let sends: Vec<_> = rows
        .iter()
        .map(|row| {
            // Owned values only: the futures stay `Send` (a server drives them on any thread).
            let request = build_call(method, &row.values, Unlisted::Body);
            let workspace = row.workspace.clone();
            async move {
                send_mutation(runtime, resource, workspace.as_deref(), &request)
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
