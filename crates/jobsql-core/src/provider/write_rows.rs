//! Which rows a write statement acts on, read off the plan of its query: DELETE and UPDATE /
//! REPLACE act on exactly the rows `SELECT ... WHERE <same>` returns, so both refuse the same
//! shapes before anything is sent — a WHERE that selects every row (none, one naming only the
//! workspace, one naming no column), and a LIMIT without ORDER BY anywhere in the query (which
//! rows it keeps depends on the order they arrive in, so a dry run could show other rows).

use std::sync::Arc;

use datafusion::arrow::array::UInt64Array;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{Partitioning, PlanProperties};

/// What a write's plan answers — one row, `count` (UInt64, the rows changed), from one
/// partition, once every call is done — and its plan properties.
pub fn count_output() -> (SchemaRef, Arc<PlanProperties>) {
    let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new(
        "count",
        DataType::UInt64,
        false,
    )]));
    let properties = Arc::new(PlanProperties::new(
        EquivalenceProperties::new(schema.clone()),
        Partitioning::UnknownPartitioning(1),
        EmissionType::Final,
        Boundedness::Bounded,
    ));
    (schema, properties)
}

/// Why a write's WHERE selects every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Everything {
    /// There is no WHERE.
    NoWhere,
    /// The WHERE names only the workspace (`deployment_name = 'x'`).
    WorkspaceOnly,
    /// The WHERE names no column of the table (`true`, an uncorrelated `EXISTS (...)`).
    NoColumn,
}

impl Everything {
    /// How the statement reads, for `verb` (`delete`, `update`): `without WHERE would delete
    /// every row`.
    pub fn wording(self, verb: &str) -> String {
        match self {
            Everything::NoWhere => format!("without WHERE would {verb} every row"),
            Everything::WorkspaceOnly => {
                format!("with a WHERE that names only the workspace would {verb} every row")
            }
            Everything::NoColumn => {
                format!(
                    "with a WHERE that names none of its columns would {verb} every row or none"
                )
            }
        }
    }
}

/// The stream of a write's plan: `count`, the one row `run` answers once every call is done;
/// `name` (the plan's) words the error of a partition other than the one there is.
pub fn count_stream(
    name: &str,
    partition: usize,
    schema: SchemaRef,
    run: impl std::future::Future<Output = Result<u64>> + Send + 'static,
) -> Result<SendableRecordBatchStream> {
    if partition != 0 {
        return Err(DataFusionError::Internal(format!(
            "{name} has one partition, not {partition}"
        )));
    }
    let out = schema.clone();
    let batch = futures::stream::once(async move {
        let count = run.await?;
        RecordBatch::try_new(out, vec![Arc::new(UInt64Array::from(vec![count]))])
            .map_err(DataFusionError::from)
    });
    Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batch)))
}

/// `Some` when the query `input` of a write selects every row of its table (`server` is the
/// workspace column): no WHERE, or one naming no column but the workspace, and no ordered
/// LIMIT bounding the rows.
pub fn selects_everything(input: &LogicalPlan, server: &str) -> Option<Everything> {
    let predicates = where_predicates(input);
    let names_rows = predicates
        .iter()
        .any(|p| names_a_column(p, |c| c != server));
    if names_rows || is_limited(input) {
        return None;
    }
    Some(if predicates.is_empty() {
        Everything::NoWhere
    } else if predicates.iter().any(|p| names_a_column(p, |_| true)) {
        Everything::WorkspaceOnly
    } else {
        Everything::NoColumn
    })
}

/// The conjuncts of the WHERE clause of a write's query (`Filter` over the scan, under any
/// `Limit`, `Sort`, projection or alias); none when there is no WHERE.
pub fn where_predicates(input: &LogicalPlan) -> Vec<&Expr> {
    match input {
        LogicalPlan::Filter(filter) => split_conjunction(&filter.predicate),
        LogicalPlan::Limit(limit) => where_predicates(&limit.input),
        LogicalPlan::Sort(sort) => where_predicates(&sort.input),
        LogicalPlan::Projection(projection) => where_predicates(&projection.input),
        LogicalPlan::SubqueryAlias(alias) => where_predicates(&alias.input),
        _ => Vec::new(),
    }
}

/// Whether `predicate` names a column of the table that `wanted` accepts: directly, or as an
/// outer reference of a subquery (`EXISTS (SELECT ... WHERE j.job_id = job_runs.job_id)`). A
/// predicate naming none (`true`, an uncorrelated `EXISTS`) is the same for every row.
fn names_a_column(predicate: &Expr, wanted: impl Fn(&str) -> bool) -> bool {
    let mut found = false;
    let _ = predicate.apply(|e| {
        let outer = match e {
            Expr::Exists(x) => &x.subquery.outer_ref_columns[..],
            Expr::InSubquery(x) => &x.subquery.outer_ref_columns[..],
            Expr::ScalarSubquery(x) => &x.outer_ref_columns[..],
            Expr::SetComparison(x) => &x.subquery.outer_ref_columns[..],
            _ => &[],
        };
        found |= match e {
            Expr::Column(c) => wanted(&c.name),
            _ => outer.iter().any(|o| match o {
                Expr::OuterReferenceColumn(_, c) => wanted(&c.name),
                _ => o.column_refs().iter().any(|c| wanted(&c.name)),
            }),
        };
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}

/// Whether the query is cut by a LIMIT (an ordered one: others are refused), seen through
/// projections.
fn is_limited(input: &LogicalPlan) -> bool {
    match input {
        LogicalPlan::Limit(limit) => limit.fetch.is_some(),
        LogicalPlan::Projection(p) => is_limited(&p.input),
        _ => false,
    }
}

/// Whether a `Limit` (LIMIT, OFFSET, FETCH) that is not directly over a `Sort` is anywhere in
/// the query, its subqueries included.
pub fn has_unordered_limit(input: &LogicalPlan) -> Result<bool> {
    let mut unordered = false;
    input.apply_with_subqueries(|node| {
        if let LogicalPlan::Limit(limit) = node {
            unordered |= !is_sorted(&limit.input);
        }
        Ok(match unordered {
            true => TreeNodeRecursion::Stop,
            false => TreeNodeRecursion::Continue,
        })
    })?;
    Ok(unordered)
}

/// Whether `plan` is a sort, seen through projections and aliases.
fn is_sorted(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Sort(_) => true,
        LogicalPlan::Projection(p) => is_sorted(&p.input),
        LogicalPlan::SubqueryAlias(a) => is_sorted(&a.input),
        _ => false,
    }
}
