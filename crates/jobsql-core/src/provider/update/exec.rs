//! [`UpdateExec`]: read the statement's rows, then one call per object, and the report.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::{
    collect, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties,
};
use futures::{stream, StreamExt};
use serde_json::Value;

use super::error::UpdateError;
use super::sets::{self, Set, Statement};
use crate::provider::send::{send_mutation, SendError};
use crate::provider::write_rows::{count_output, count_stream};
use crate::provider::ApiRuntime;
use crate::request::args::{missing_required, typed_value};
use crate::request::{build_call, is_not_found, Unlisted};
use crate::spec::Resource;
use crate::sql::SqlValue;

/// The plan of an UPDATE / REPLACE: its query's rows, then one call per object.
#[derive(Debug)]
pub struct UpdateExec {
    resource: Arc<Resource>,
    runtime: Arc<ApiRuntime>,
    replace: bool,
    sets: Vec<Set>,
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl UpdateExec {
    /// The calls of `sets` for each row of `input` (the key columns, the server variable, the
    /// SET values).
    pub fn new(
        resource: Arc<Resource>,
        runtime: Arc<ApiRuntime>,
        replace: bool,
        sets: Vec<Set>,
        input: Arc<dyn ExecutionPlan>,
    ) -> Self {
        let (schema, properties) = count_output();
        Self {
            resource,
            runtime,
            replace,
            sets,
            input,
            schema,
            properties,
        }
    }
}

impl DisplayAs for UpdateExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let word = if self.replace { "replace" } else { "update" };
        write!(f, "UpdateExec: {}, {word}", self.resource.qualified_name())
    }
}

impl ExecutionPlan for UpdateExec {
    fn name(&self) -> &str {
        "UpdateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match children.as_slice() {
            [child] => Ok(Arc::new(UpdateExec::new(
                self.resource.clone(),
                self.runtime.clone(),
                self.replace,
                self.sets.clone(),
                child.clone(),
            ))),
            _ => Err(DataFusionError::Internal(
                "UpdateExec: wrong number of children".into(),
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let (resource, runtime, sets, input) = (
            self.resource.clone(),
            self.runtime.clone(),
            self.sets.clone(),
            self.input.clone(),
        );
        let replace = self.replace;
        count_stream(self.name(), partition, self.schema.clone(), async move {
            let statement = Statement::of(&resource, replace)?;
            let rows = collect(input, context).await?;
            let calls = calls(&resource, &statement, &sets, &rows)?;
            send_all(&resource, &runtime, &statement, calls).await
        })
    }
}

/// One call: the object (its workspace and key values) and the body.
#[derive(Debug, Clone, PartialEq)]
struct Call {
    workspace: Option<String>,
    keys: BTreeMap<String, Value>,
    body: BTreeMap<String, Value>,
}

impl Call {
    /// `job_id 5 in 'prod'`.
    fn label(&self, statement: &Statement) -> String {
        let mut parts: Vec<String> = statement
            .spec
            .params
            .iter()
            .map(|(param, column)| {
                let v = self
                    .keys
                    .get(param)
                    .map(Value::to_string)
                    .unwrap_or_default();
                format!("{column} {v}")
            })
            .collect();
        if let Some(ws) = &self.workspace {
            parts.push(format!("in '{ws}'"));
        }
        parts.join(" ")
    }
}

/// The calls the rows make: one per object (a row named twice is one call; two rows of one
/// object with different values are refused).
fn calls(
    resource: &Resource,
    statement: &Statement,
    sets: &[Set],
    batches: &[RecordBatch],
) -> Result<Vec<Call>> {
    let table = resource.qualified_name();
    let invalid = |message: String| UpdateError::InvalidValue {
        statement: statement.word,
        table: table.clone(),
        message,
    };
    let keys = statement.spec.params.len();
    let mut calls: Vec<Call> = Vec::new();
    for batch in batches {
        let values: Vec<ArrayRef> = batch.columns()[keys + 1..].to_vec();
        for row in 0..batch.num_rows() {
            let mut call = Call {
                workspace: None,
                keys: BTreeMap::new(),
                body: BTreeMap::new(),
            };
            for (i, param) in statement.spec.params.keys().enumerate() {
                let value =
                    SqlValue::from_scalar(&ScalarValue::try_from_array(batch.column(i), row)?);
                let Some(param_spec) = statement.method.params.get(param) else {
                    continue;
                };
                if let Some(v) = typed_value(param, param_spec, &value).map_err(invalid)? {
                    call.keys.insert(param.clone(), v);
                }
            }
            if let SqlValue::Text(ws) =
                SqlValue::from_scalar(&ScalarValue::try_from_array(batch.column(keys), row)?)
            {
                call.workspace = Some(ws);
            }
            let label = call.label(statement);
            call.body = sets::body(statement, sets, &values, row, &label).map_err(invalid)?;
            let mut all = call.body.clone();
            all.extend(call.keys.clone());
            if let Some(missing) = missing_required(statement.method, &all).first() {
                return Err(invalid(format!(
                    "missing required parameter `{}{missing}` ({label})",
                    sets::BODY_PREFIX
                ))
                .into());
            }
            match calls
                .iter()
                .find(|c| c.workspace == call.workspace && c.keys == call.keys)
            {
                Some(same) if *same == call => {}
                Some(_) => {
                    return Err(UpdateError::Conflicting {
                        statement: statement.word,
                        table: table.clone(),
                        message: format!("two rows of {label} set different values"),
                    }
                    .into())
                }
                None => calls.push(call),
            }
        }
    }
    Ok(calls)
}

/// Send every call (concurrently, up to the runtime's concurrency), count the objects changed,
/// and report every row when any call failed.
async fn send_all(
    resource: &Resource,
    runtime: &ApiRuntime,
    statement: &Statement<'_>,
    calls: Vec<Call>,
) -> Result<u64> {
    let table = resource.qualified_name();
    if calls.len() > runtime.max_writes {
        return Err(UpdateError::TooMany {
            statement: statement.word,
            table,
            count: calls.len(),
            max: runtime.max_writes,
        }
        .into());
    }
    let method = statement.method;
    let sends = calls.iter().cloned().map(|call| {
        let mut values = call.body;
        values.extend(call.keys);
        let request = build_call(method, &values, Unlisted::Dropped);
        let workspace = call.workspace;
        async move {
            send_mutation(runtime, resource, workspace.as_deref(), &request)
                .await
                .map(|_| ())
        }
    });
    let outcomes: Vec<Result<(), SendError>> = stream::iter(sends)
        .buffered(runtime.max_concurrency)
        .collect()
        .await;
    let gone = |e: &SendError| matches!(e, SendError::Api(api) if is_not_found(method, api));
    let changed = outcomes.iter().filter(|o| o.is_ok()).count() as u64;
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o, Err(e) if !gone(e)))
        .count();
    if failed == 0 {
        return Ok(changed);
    }
    let unknown = outcomes
        .iter()
        .filter(|o| matches!(o, Err(e) if e.outcome_unknown()))
        .count();
    let (verb, word) = (statement.verb(), statement.word);
    let mut report = match unknown {
        0 => format!(
            "{word} {table}: {failed} of {} could not be {verb}d ({changed} {verb}d):",
            calls.len()
        ),
        _ => format!(
            "{word} {table}: {failed} of {} not confirmed ({changed} {verb}d, {unknown} unknown):",
            calls.len()
        ),
    };
    for (call, outcome) in calls.iter().zip(&outcomes) {
        let line = match outcome {
            Ok(()) => format!("{verb}d"),
            Err(e) if gone(e) => "gone (no longer exists)".to_string(),
            Err(e) if e.outcome_unknown() => {
                format!("UNKNOWN, may have been {verb}d: re-running the {word} is safe; {e}")
            }
            Err(e) => format!("FAILED: {e}"),
        };
        report.push_str(&format!("\n  {}: {line}", call.label(statement)));
    }
    if unknown > 0 {
        return Err(UpdateError::Unknown(report).into());
    }
    Err(UpdateError::Partial(report).into())
}
