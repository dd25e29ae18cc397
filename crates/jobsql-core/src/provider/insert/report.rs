//! What a multi-row write did, row by row. Every row is exactly one of:
//!
//! - **created** (with its id, e.g. `run_id 123`): the API answered with success;
//! - **FAILED**: the API refused it (a 4xx, or 429 until the retry budget ran out) — nothing was
//!   done, fixing and re-running the row is safe;
//! - **UNKNOWN**: the request may have been done but its answer was lost (a 5xx, a connection
//!   closed after sending, a timeout) — the line says how to check before re-running it.
//!
//! The report is the statement's error when any row is not created: [`InsertError::Partial`]
//! when every failure is known, [`InsertError::Unknown`] when some outcome is unknown (the CLI
//! gives those different exit codes). Created ids also survive a later error of the statement
//! (e.g. `RETURNING` failing to read the rows back): [`created_ids`] names them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::spec::{MethodSpec, PushdownOp, Resource};
use crate::sql::build;
use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, SelectItem};

use crate::provider::send::SendError;

use super::InsertError;

/// One row's outcome: its response body, or why it failed.
pub type RowOutcome = Result<Option<Vec<u8>>, SendError>;

/// The row's values and workspace, for the hint of an unknown outcome.
pub struct RowInput<'a> {
    /// The server variable's value (the workspace), if the row set it.
    pub workspace: Option<&'a str>,
    /// The typed parameter values sent.
    pub values: &'a BTreeMap<String, Value>,
}

/// `Ok` when every row was created; else the row-by-row report as the error.
pub fn insert_report(
    resource: &Resource,
    method: &MethodSpec,
    rows: &[RowInput<'_>],
    outcomes: &[RowOutcome],
) -> Result<(), InsertError> {
    let table = resource.qualified_name();
    let key = resource.spec.key.first().map(String::as_str);
    let unknown = outcomes
        .iter()
        .filter(|o| matches!(o, Err(e) if e.outcome_unknown()))
        .count();
    let failed = outcomes.iter().filter(|o| o.is_err()).count() - unknown;
    if failed + unknown == 0 {
        return Ok(());
    }
    let created = outcomes.len() - failed - unknown;
    let mut report = format!(
        "INSERT INTO {table}: {created} of {} rows created, {failed} failed, {unknown} unknown \
         (nothing is rolled back):",
        outcomes.len()
    );
    for (i, (row, outcome)) in rows.iter().zip(outcomes).enumerate() {
        let line = match outcome {
            Ok(body) => {
                let id = key.and_then(|k| id_of(resource, k, body.as_deref()?));
                format!(
                    "created{}",
                    id.map(|id| format!(", {id}")).unwrap_or_default()
                )
            }
            Err(e @ SendError::Unknown(_)) => format!(
                "UNKNOWN, may have been created: {}; {e}",
                check_hint(resource, method, row)
            ),
            Err(e) => format!("FAILED: {e}"),
        };
        report.push_str(&format!("\n  row {}: {line}", i + 1));
    }
    Err(if unknown > 0 {
        InsertError::Unknown(report)
    } else {
        InsertError::Partial(report)
    })
}

/// `key value` (e.g. `run_id 123`) from a response body (at the key column's JSON field).
fn id_of(resource: &Resource, key: &str, body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    Some(format!("{key} {}", v.get(resource.json_field(key))?))
}

/// The ids of the created rows, e.g. `run_id 5, run_id 6`, for an error that comes after
/// them; `None` when no response named one.
pub fn created_ids(resource: &Resource, bodies: &[Vec<u8>]) -> Option<String> {
    let key = resource.spec.key.first()?;
    let ids: Vec<String> = bodies
        .iter()
        .filter_map(|b| id_of(resource, key, b))
        .collect();
    (!ids.is_empty()).then(|| ids.join(", "))
}

/// How to find out whether an unknown row was done: re-send it with the same idempotency
/// token (the API answers with what it created, if it did), or a SELECT by a field of the row
/// the table's WHERE pushes down (e.g. `name` for jobs), or a SELECT of the table.
pub fn check_hint(resource: &Resource, method: &MethodSpec, row: &RowInput<'_>) -> String {
    let table = resource.qualified_name();
    if let Some(token) = method
        .idempotency_token
        .as_ref()
        .and_then(|t| Some((t, build::json(row.values.get(t)?)?)))
    {
        return format!(
            "re-running the row with data__{} = {} is safe (the API answers with the {} it \
             created, if it did)",
            token.0,
            token.1,
            resource.spec.key.first().map_or("row", String::as_str),
        );
    }
    let mut conditions: Vec<SqlExpr> = resource
        .spec
        .pushdown
        .iter()
        .filter(|rule| rule.ops.contains(&PushdownOp::Eq))
        .filter_map(|rule| {
            let value = row.values.get(&rule.column)?;
            matches!(value, Value::String(_) | Value::Number(_))
                .then(|| Some(build::eq(build::column(&rule.column), build::json(value)?)))?
        })
        .collect();
    if !conditions.is_empty() {
        if let Some(ws) = row.workspace {
            conditions.push(build::eq(
                build::column(&resource.server.variable),
                build::text(ws),
            ));
        }
    }
    let items = match resource.spec.key.first() {
        Some(key) => vec![SelectItem::UnnamedExpr(build::column(key))],
        None => vec![SelectItem::Wildcard(Default::default())],
    };
    match build::select(items, Some(build::table(&table)), build::all(conditions)) {
        Ok(query) => format!("check with {query} before re-running it"),
        Err(_) => format!("check with a SELECT of {table} before re-running it"),
    }
}
