//! `DELETE FROM <resource> WHERE ...` → one call of the resource's `delete` method per row the
//! same `SELECT ... WHERE` returns. [`rule`] decides the [`Selection`] when the
//! statement is planned; this module plans and runs the deletes.
//!
//! - No WHERE, or one that names only the workspace: refused ([`rule`]).
//! - `key = N`, `key IN (...)` (and the server variable `= '...'`): the deletes are sent
//!   directly, no read first. An object the API says does not exist (the method's `not_found`
//!   rules) was already gone: not counted, not an error, so a DELETE can be re-run safely.
//! - Any other WHERE (subqueries, joins and LIMIT included): the DELETE's whole query runs
//!   first, then each row it returns is deleted.
//! - More rows than the runtime's `max_deletes` (`--max-deletes`, default 100): refused before
//!   any delete is sent (or recorded, in a dry run), naming the count. What the API deletes
//!   with each row (the spec's `delete.cascade`: a job's runs) is listed first (`cascade`)
//!   and counted too; a dry run shows it under each request, and the deletes report it.
//!
//! The result is `count`, the number of the table's rows deleted. When some deletes fail (an active run), the
//! others still go, and the error lists every row: deleted, already gone, or failed (with the
//! API's error).

mod cascade;
mod error;
pub mod rule;

pub use error::DeleteError;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::{
    collect, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties,
};
use futures::{stream, StreamExt};
use serde_json::Value;

use super::pushdown::{self, Answer};
use super::write_rows::{count_output, count_stream};
use super::ApiRuntime;
use crate::spec::{DeleteSpec, MethodSpec, Resource};

use super::send::{send_mutation_taking, SendError};
use crate::request::args::typed_value;
use crate::request::{build_call, is_not_found, Unlisted};
use crate::sql::SqlValue;

/// One object to delete.
#[derive(Debug, Clone)]
pub struct Target {
    workspace: Option<String>,
    values: BTreeMap<String, Value>,
}

impl Target {
    fn label(&self, spec: &DeleteSpec) -> String {
        let mut parts: Vec<String> = spec
            .params
            .iter()
            .map(|(param, column)| {
                let v = self
                    .values
                    .get(param)
                    .map(|v| v.to_string())
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

/// Which rows a DELETE deletes: decided when it is planned ([`rule`]).
#[derive(Debug, Clone)]
pub enum Selection {
    /// Named by the WHERE clause (`key = N`, `key IN (...)`): deleted without a read.
    Direct(Vec<Target>),
    /// The rows of this query: the DELETE's whole input (scan, filter, subqueries, limit),
    /// projected to the delete parameters' columns, then the server variable.
    Query(Box<LogicalPlan>),
}

impl Selection {
    /// The direct selection when every filter is `key = literal`, `key IN (literals)` (for
    /// each column of the key) or `server_variable = 'name'`; else `None`.
    pub fn from_filters(resource: &Resource, spec: &DeleteSpec, filters: &[Expr]) -> Option<Self> {
        direct_targets(resource, spec, filters).map(Selection::Direct)
    }
}

/// Where the objects to delete come from, once planned.
#[derive(Debug, Clone)]
enum Source {
    /// Named by the WHERE clause.
    Direct(Vec<Target>),
    /// Read through the table: the delete parameters' columns, then the server variable.
    Scan(Arc<dyn ExecutionPlan>),
}

/// The plan of a DELETE: its source of objects, and the deletes.
#[derive(Debug)]
pub struct DeleteExec {
    resource: Arc<Resource>,
    runtime: Arc<ApiRuntime>,
    source: Source,
    cascades: Vec<cascade::Cascade>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

/// The physical plan of a DELETE of `selection` from `resource`'s table.
pub async fn plan_delete(
    resource: Arc<Resource>,
    runtime: Arc<ApiRuntime>,
    state: &dyn Session,
    selection: Selection,
) -> Result<Arc<dyn ExecutionPlan>> {
    let source = match selection {
        Selection::Direct(targets) => Source::Direct(targets),
        Selection::Query(query) => Source::Scan(state.create_physical_plan(&query).await?),
    };
    let cascades = match &resource.spec.delete {
        Some(spec) => cascade::cascades(&resource, spec, state).await?,
        None => Vec::new(),
    };
    Ok(Arc::new(DeleteExec::new(
        resource, runtime, source, cascades,
    )))
}

/// The targets when the pushdown translator (the one SELECT uses, with its `enum` and
/// `minimum` checks) answers every filter, and each request it would make names the key —
/// every column of the delete method's parameters (`key = N`, `key IN (...)`; a composite key
/// such as LakeSail's `job_id` + `job_run_id` too) — and at most the server variable besides:
/// one target per request. Else `None`: the DELETE's query is read first. A WHERE no row can
/// satisfy (a value the API refuses) is no target at all, as its SELECT returns no row.
fn direct_targets(resource: &Resource, spec: &DeleteSpec, filters: &[Expr]) -> Option<Vec<Target>> {
    let method = resource.spec.methods.get(&spec.method)?;
    // (delete parameter, its column, the pushed parameter naming the column, its spec)
    let mut keys = Vec::new();
    for (param, column) in &spec.params {
        let pushed = pushdown::eq_param(resource, column)?;
        keys.push((param, column, pushed, method.params.get(param)?));
    }
    if keys.is_empty() {
        return None;
    }
    let filters: Vec<&Expr> = filters.iter().collect();
    let translation = pushdown::translate(resource, &filters).ok()?;
    if translation.answers.iter().any(|a| *a != Answer::Pushed) {
        return None;
    }
    let server = &resource.server.variable;
    let mut targets = Vec::new();
    for template in translation.templates() {
        let named = |p: &String| p == server || keys.iter().any(|k| k.2 == p);
        if !template.params.keys().all(named) {
            return None;
        }
        let mut values = BTreeMap::new();
        for (param, column, pushed, param_spec) in &keys {
            let value = SqlValue::Text(template.params.get(*pushed)?.clone());
            values.insert(
                (*param).clone(),
                typed_value(column, param_spec, &value).ok()??,
            );
        }
        targets.push(Target {
            workspace: template.params.get(server).cloned(),
            values,
        });
    }
    Some(targets)
}

impl DeleteExec {
    fn new(
        resource: Arc<Resource>,
        runtime: Arc<ApiRuntime>,
        source: Source,
        cascades: Vec<cascade::Cascade>,
    ) -> Self {
        let (schema, properties) = count_output();
        Self {
            resource,
            runtime,
            source,
            cascades,
            schema,
            properties,
        }
    }
}

impl DisplayAs for DeleteExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "DeleteExec: {}", self.resource.qualified_name())?;
        if let (Source::Direct(targets), Some(spec)) = (&self.source, &self.resource.spec.delete) {
            let labels: Vec<String> = targets.iter().map(|t| t.label(spec)).collect();
            write!(f, ", direct=[{}]", labels.join(", "))?;
        }
        Ok(())
    }
}

impl ExecutionPlan for DeleteExec {
    fn name(&self) -> &str {
        "DeleteExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        match &self.source {
            Source::Scan(plan) => vec![plan],
            Source::Direct(_) => vec![],
        }
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
        match (&self.source, children.as_slice()) {
            (Source::Direct(_), []) => Ok(self),
            (Source::Scan(_), [child]) => Ok(Arc::new(DeleteExec::new(
                self.resource.clone(),
                self.runtime.clone(),
                Source::Scan(child.clone()),
                self.cascades.clone(),
            ))),
            _ => Err(DataFusionError::Internal(
                "DeleteExec: wrong number of children".into(),
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let (resource, runtime, source, cascades) = (
            self.resource.clone(),
            self.runtime.clone(),
            self.source.clone(),
            self.cascades.clone(),
        );
        count_stream(self.name(), partition, self.schema.clone(), async move {
            run(&resource, &runtime, source, &cascades, context).await
        })
    }
}

/// Gather the targets and what they take with them, delete them, and count the deleted.
async fn run(
    resource: &Resource,
    runtime: &ApiRuntime,
    source: Source,
    cascades: &[cascade::Cascade],
    context: Arc<TaskContext>,
) -> Result<u64> {
    let (Some(spec), name) = (&resource.spec.delete, resource.qualified_name()) else {
        return Ok(0);
    };
    let Some(method) = resource.spec.methods.get(&spec.method) else {
        return Ok(0);
    };
    let mut targets = match source {
        Source::Direct(targets) => targets,
        Source::Scan(plan) => scanned_targets(
            resource,
            spec,
            method,
            collect(plan, context.clone()).await?,
        )?,
    };
    // An object named twice (`run_id IN (5, 5)`) is deleted once.
    let mut seen = std::collections::HashSet::new();
    targets.retain(|t| seen.insert(format!("{:?} {:?}", t.workspace, t.values)));
    let max = runtime.max_deletes;
    if targets.len() > max {
        return Err(too_many(&name, targets.len(), None, max));
    }
    let taken = cascade::taken(cascades, &targets, max - targets.len(), context).await?;
    if targets.len() + taken.total() > max {
        return Err(too_many(&name, targets.len(), Some(&taken), max));
    }
    let pairs = targets
        .iter()
        .cloned()
        .zip(taken.per_target.iter().cloned());
    let sends = pairs.map(|(target, with_it)| {
        let request = build_call(method, &target.values, Unlisted::Body);
        async move {
            send_mutation_taking(
                runtime,
                resource,
                target.workspace.as_deref(),
                &request,
                &with_it,
            )
            .await
            .map(|_| ())
        }
    });
    let outcomes: Vec<Result<(), SendError>> = stream::iter(sends)
        .buffered(runtime.max_concurrency)
        .collect()
        .await;
    let gone = |e: &SendError| matches!(e, SendError::Api(api) if is_not_found(method, api));
    // "Does not exist" on a retry: the first attempt deleted it and its answer was lost.
    let retried_gone = |e: &SendError| matches!(e, SendError::Api(api) if is_not_found(method, api) && api.attempts() > 1);
    let deleted = outcomes
        .iter()
        .filter(|o| match o {
            Ok(()) => true,
            Err(e) => retried_gone(e),
        })
        .count() as u64;
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o, Err(e) if !gone(e)))
        .count();
    if taken.total() > 0 && runtime.dry_run.is_none() {
        let with: Vec<String> = taken
            .per_target
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| o.is_ok())
            .flat_map(|(rows, _)| rows)
            .cloned()
            .collect();
        if !with.is_empty() {
            let tables: Vec<&str> = taken.by_table.keys().map(String::as_str).collect();
            runtime.warnings.push(format!(
                "DELETE FROM {name}: the API deleted {} rows of {} with them",
                with.len(),
                tables.join(" and ")
            ));
        }
    }
    if failed == 0 {
        return Ok(deleted);
    }
    let unknown = outcomes
        .iter()
        .filter(|o| matches!(o, Err(e) if e.outcome_unknown()))
        .count();
    let mut report = if unknown == 0 {
        format!(
            "DELETE FROM {name}: {failed} of {} could not be deleted ({deleted} deleted):",
            targets.len()
        )
    } else {
        format!(
            "DELETE FROM {name}: {failed} of {} not confirmed ({deleted} deleted, {unknown} unknown):",
            targets.len()
        )
    };
    for (target, outcome) in targets.iter().zip(&outcomes) {
        let line = match outcome {
            Ok(()) => "deleted".to_string(),
            Err(e) if retried_gone(e) => "deleted (confirmed on retry)".to_string(),
            Err(e) if gone(e) => "already gone".to_string(),
            Err(e) if e.outcome_unknown() => {
                format!("UNKNOWN, may have been deleted: re-running the DELETE is safe; {e}")
            }
            Err(e) => format!("FAILED: {e}"),
        };
        report.push_str(&format!("\n  {}: {line}", target.label(spec)));
    }
    if unknown > 0 {
        return Err(DeleteError::Unknown(report).into());
    }
    Err(DeleteError::Partial(report).into())
}

/// The refusal of `count` targets (and what they take with them), more than `max`.
fn too_many(
    table: &str,
    count: usize,
    taken: Option<&cascade::Taken>,
    max: usize,
) -> DataFusionError {
    let (with, needed) = match taken {
        Some(t) if t.stopped => (
            format!(" and with them at least {}", counted(&t.by_table)),
            format!("more than {max}"),
        ),
        Some(t) => {
            let all = count + t.total();
            (
                format!(" and with them {} ({all} in all)", counted(&t.by_table)),
                format!("at least {all}"),
            )
        }
        None => (String::new(), format!("at least {count}")),
    };
    DeleteError::TooManyDeletes {
        table: table.to_string(),
        count,
        with,
        needed,
        max,
    }
    .into()
}

/// `1902 rows of databricks_workspace.jobs.job_runs` (and the other tables', joined).
fn counted(by_table: &BTreeMap<String, usize>) -> String {
    by_table
        .iter()
        .map(|(table, n)| format!("{n} rows of {table}"))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Targets from the scanned rows: the delete parameters' columns, then the server variable.
fn scanned_targets(
    resource: &Resource,
    spec: &DeleteSpec,
    method: &MethodSpec,
    batches: Vec<RecordBatch>,
) -> Result<Vec<Target>> {
    let mut targets = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            let mut target = Target {
                workspace: None,
                values: BTreeMap::new(),
            };
            for (i, param) in spec.params.keys().enumerate() {
                let value =
                    SqlValue::from_scalar(&ScalarValue::try_from_array(batch.column(i), row)?);
                let Some(param_spec) = method.params.get(param) else {
                    continue;
                };
                let typed = typed_value(param, param_spec, &value).map_err(|m| {
                    DataFusionError::Execution(format!("{}: {m}", resource.qualified_name()))
                })?;
                if let Some(v) = typed {
                    target.values.insert(param.clone(), v);
                }
            }
            let ws_column = batch.column(spec.params.len());
            if let SqlValue::Text(ws) =
                SqlValue::from_scalar(&ScalarValue::try_from_array(ws_column, row)?)
            {
                target.workspace = Some(ws);
            }
            targets.push(target);
        }
    }
    Ok(targets)
}
