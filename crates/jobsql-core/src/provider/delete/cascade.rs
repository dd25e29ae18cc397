//! What the API deletes with a deleted row (the spec's `delete.cascade`: a job's runs go with
//! the job), found before anything is sent.
//!
//! For each cascade, the other resource's rows whose `column` is one of the targets' `from`
//! values are listed through that resource's table — its scan, with the filter
//! `column IN (values)` (pushed down: one listing per deleted row, at most
//! [`MAX_KEYS`](crate::provider::pushdown::MAX_KEYS) values a scan) and the workspace — as
//! `Expr`s, never as SQL text. The listing stops as soon as the rows found pass what the
//! guard still allows (`--max-deletes` less the targets): a refused DELETE costs only the
//! pages that show it is too large. Each row found is attributed to its target, so a dry run
//! lists it under the request that takes it.
//!
//! The cost: one listing per deleted row, of ⌈its rows / page size⌉ pages (runs/list: 25 a
//! page), run concurrently; nothing when the resource declares no cascade.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::Array;
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::datasource::TableProvider;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{col, lit, Expr};
use datafusion::physical_plan::execute_stream;
use futures::StreamExt;
use serde_json::Value;

use super::Target;
use crate::provider::pushdown::MAX_KEYS;
use crate::provider::ApiTable;
use crate::spec::{CascadeSpec, DeleteSpec, Resource};

/// One cascade of the deleted resource, with the table its rows are listed through.
#[derive(Debug, Clone)]
pub(super) struct Cascade {
    spec: CascadeSpec,
    /// The delete parameter whose value the rows' `column` equals.
    param: String,
    table: Arc<ApiTable>,
}

/// The rows the targets take with them: per target, each row's label.
#[derive(Debug, Default)]
pub(super) struct Taken {
    /// Per target (in the targets' order), the rows deleted with it.
    pub per_target: Vec<Vec<String>>,
    /// The rows found, by table.
    pub by_table: BTreeMap<String, usize>,
    /// Whether the listing stopped early, past what the guard allowed (the counts are then
    /// lower bounds).
    pub stopped: bool,
}

impl Taken {
    /// Rows found in all.
    pub fn total(&self) -> usize {
        self.by_table.values().sum()
    }
}

/// The cascades of `spec`, each with the other resource's table found in the session (an
/// error when it is not there: what the DELETE takes with it could not be counted).
pub(super) async fn cascades(
    resource: &Resource,
    spec: &DeleteSpec,
    state: &dyn Session,
) -> Result<Vec<Cascade>> {
    let mut out = Vec::new();
    for cascade in &spec.cascade {
        let missing = || {
            DataFusionError::Plan(format!(
                "DELETE FROM {}: the API deletes rows of {}.{}.{} with it, and that table is not \
                 in this session to count them: refused",
                resource.qualified_name(),
                resource.provider,
                resource.service,
                cascade.resource
            ))
        };
        let table = state
            .as_any()
            .downcast_ref::<datafusion::execution::SessionState>()
            .and_then(|s| s.catalog_list().catalog(&resource.provider))
            .and_then(|c| c.schema(&resource.service))
            .ok_or_else(missing)?
            .table(&cascade.resource)
            .await?
            .ok_or_else(missing)?;
        let table = api_table(table).ok_or_else(missing)?;
        let param = spec
            .params
            .iter()
            .find(|(_, column)| **column == cascade.from)
            .map(|(param, _)| param.clone())
            .ok_or_else(missing)?;
        out.push(Cascade {
            spec: cascade.clone(),
            param,
            table,
        });
    }
    Ok(out)
}

fn api_table(table: Arc<dyn TableProvider>) -> Option<Arc<ApiTable>> {
    let any: Arc<dyn std::any::Any + Send + Sync> = table;
    any.downcast::<ApiTable>().ok()
}

/// List what `targets` take with them, stopping once more than `allowed` rows are found.
pub(super) async fn taken(
    cascades: &[Cascade],
    targets: &[Target],
    allowed: usize,
    task: Arc<TaskContext>,
) -> Result<Taken> {
    let mut taken = Taken {
        per_target: vec![Vec::new(); targets.len()],
        ..Taken::default()
    };
    if cascades.is_empty() || targets.is_empty() {
        return Ok(taken);
    }
    let state = SessionStateBuilder::new()
        .with_config(task.session_config().clone())
        .with_runtime_env(task.runtime_env())
        .build();
    for cascade in cascades {
        let other = cascade.table.resource().clone();
        let name = other.qualified_name();
        // The targets by workspace, then by value (a value may name several targets only
        // when the same row was named twice, which the caller removed).
        let mut groups: BTreeMap<Option<String>, Vec<(String, usize)>> = BTreeMap::new();
        for (i, target) in targets.iter().enumerate() {
            if let Some(value) = target.values.get(&cascade.param) {
                groups
                    .entry(target.workspace.clone())
                    .or_default()
                    .push((value_text(value), i));
            }
        }
        for (workspace, values) in groups {
            for chunk in values.chunks(MAX_KEYS) {
                let found = list(
                    &state,
                    cascade,
                    &other,
                    workspace.as_deref(),
                    chunk,
                    &task,
                    allowed.saturating_sub(taken.total()),
                )
                .await?;
                for (target, label) in found.rows {
                    taken.per_target[target].push(label);
                    *taken.by_table.entry(name.clone()).or_default() += 1;
                }
                if found.stopped {
                    taken.stopped = true;
                    return Ok(taken);
                }
            }
        }
    }
    Ok(taken)
}

/// The rows one listing found: (target index, label), and whether it stopped early.
struct Found {
    rows: Vec<(usize, String)>,
    stopped: bool,
}

/// List `other`'s rows whose cascade column is one of `values` in `workspace`, stopping past
/// `allowed` rows.
#[allow(clippy::too_many_arguments)]
async fn list(
    state: &dyn Session,
    cascade: &Cascade,
    other: &Resource,
    workspace: Option<&str>,
    values: &[(String, usize)],
    task: &Arc<TaskContext>,
    allowed: usize,
) -> Result<Found> {
    let schema = cascade.table.schema();
    let column = &cascade.spec.column;
    let variable = &other.server.variable;
    let column_type = schema.field_with_name(column)?.data_type().clone();
    let literals: Vec<Expr> = values
        .iter()
        .map(|(text, _)| ScalarValue::try_from_string(text.clone(), &column_type).map(lit))
        .collect::<Result<_>>()?;
    let mut filters = vec![col(column.as_str()).in_list(literals, false)];
    if let Some(ws) = workspace {
        filters.push(col(variable.as_str()).eq(lit(ws.to_string())));
    }
    // The key columns (for the labels), then the cascade column (to attribute each row).
    let mut names: Vec<&String> = other.spec.key.iter().collect();
    names.push(column);
    let projection: Vec<usize> = names
        .iter()
        .map(|n| schema.index_of(n))
        .collect::<std::result::Result<_, _>>()?;
    let plan = cascade
        .table
        .scan(state, Some(&projection), &filters, None)
        .await?;
    let by_value: HashMap<&str, usize> = values.iter().map(|(t, i)| (t.as_str(), *i)).collect();
    let mut stream = execute_stream(plan, task.clone())?;
    let mut found = Found {
        rows: Vec::new(),
        stopped: false,
    };
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let key_columns = other.spec.key.len();
        for row in 0..batch.num_rows() {
            let cell = |i: usize| -> Result<String> {
                let array = batch.column(i);
                if array.is_null(row) {
                    return Ok("NULL".to_string());
                }
                Ok(ScalarValue::try_from_array(array, row)?.to_string())
            };
            let Some(&target) = by_value.get(cell(key_columns)?.as_str()) else {
                continue;
            };
            let mut parts = vec![other.qualified_name()];
            for (i, key) in other.spec.key.iter().enumerate() {
                parts.push(format!("{key} {}", cell(i)?));
            }
            if let Some(ws) = workspace {
                parts.push(format!("in '{ws}'"));
            }
            found.rows.push((target, parts.join(" ")));
            if found.rows.len() > allowed {
                // Enough to refuse: the rest of the listing is not read (dropping the stream
                // stops its paging).
                found.stopped = true;
                return Ok(found);
            }
        }
    }
    Ok(found)
}

/// A delete parameter's value as the text a column's value prints as (`5`, `abc`).
fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
