//! Keys from subqueries: `WHERE job_id IN (SELECT job_id FROM … WHERE …)` over an API table
//! whose `job_id` is pushed with `IN` lists the matching keys only, instead of the whole
//! history.
//!
//! Before a query runs, each uncorrelated `column IN (subquery)` that is a conjunct of a filter
//! directly over an API table's scan (aliased or not), on a column whose pushdown rule takes
//! `in`, has its subquery run first; when it answers at most [`MAX_KEYS`] distinct keys, the
//! predicate becomes `column IN (those keys)` (no keys: `false`), which the table pushes down
//! as one listing per key. More keys, or anything else (`NOT IN`, under `OR`, a correlated
//! subquery), is left to DataFusion's semi-join over the full listing. Either way the rows
//! are exactly SQL's: in a filter, `x IN (subquery)` keeps the rows whose `x` is one of the
//! subquery's non-NULL values, as the list does. `EXPLAIN`, DDL and writes are not rewritten
//! (EXPLAIN sends no request).

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::ScalarValue;
use datafusion::datasource::source_as_provider;
use datafusion::error::Result;
use datafusion::logical_expr::utils::{conjunction, split_conjunction};
use datafusion::logical_expr::{lit, Expr, Filter, LogicalPlan, LogicalPlanBuilder, TableScan};
use datafusion::prelude::SessionContext;

use crate::provider::table::ApiTable;
use crate::spec::PushdownOp;

/// The most keys a subquery may answer to be listed key by key (each key is a listing): the
/// provider's cap on a scan's fan-out, the same for a literal `IN` list.
pub use crate::provider::pushdown::MAX_KEYS;

/// `plan` with its key subqueries answered (see the module doc); the plan unchanged when it
/// has none, or is not a query.
pub async fn inline_key_subqueries(ctx: &SessionContext, plan: LogicalPlan) -> Result<LogicalPlan> {
    if !is_query(&plan) {
        return Ok(plan);
    }
    let mut subqueries: Vec<LogicalPlan> = Vec::new();
    plan.apply(|node| {
        if let Some(filter) = keyed_filter(node) {
            for (_, subquery) in key_subqueries(filter) {
                subqueries.push(subquery);
            }
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    })?;
    if subqueries.is_empty() {
        return Ok(plan);
    }
    // Each distinct subquery once, in order; its keys, or `None` past the bound.
    let mut answered: Vec<(LogicalPlan, Option<Vec<ScalarValue>>)> = Vec::new();
    for subquery in subqueries {
        if answered.iter().any(|(s, _)| *s == subquery) {
            continue;
        }
        let keys = keys_of(ctx, subquery.clone()).await?;
        answered.push((subquery, keys));
    }
    let rewritten = plan.transform_up(|node| {
        // `key_subquery` answers only for a filter over an API table's scan.
        let LogicalPlan::Filter(filter) = &node else {
            return Ok(Transformed::no(node));
        };
        let mut changed = false;
        let conjuncts: Vec<Expr> = split_conjunction(&filter.predicate)
            .into_iter()
            .map(|e| match key_subquery(filter, e) {
                Some((column, subquery)) => match answered.iter().find(|(s, _)| *s == subquery) {
                    Some((_, Some(keys))) => {
                        changed = true;
                        in_keys(column, keys)
                    }
                    _ => e.clone(),
                },
                None => e.clone(),
            })
            .collect();
        if !changed {
            return Ok(Transformed::no(node));
        }
        let predicate = conjunction(conjuncts).unwrap_or_else(|| lit(true));
        let filter = Filter::try_new(predicate, filter.input.clone())?;
        Ok(Transformed::yes(LogicalPlan::Filter(filter)))
    })?;
    Ok(rewritten.data)
}

/// Whether `plan` is a query (not EXPLAIN, DDL or a write): only queries are rewritten.
pub(super) fn is_query(plan: &LogicalPlan) -> bool {
    matches!(
        plan,
        LogicalPlan::Projection(_)
            | LogicalPlan::Filter(_)
            | LogicalPlan::Aggregate(_)
            | LogicalPlan::Sort(_)
            | LogicalPlan::Limit(_)
            | LogicalPlan::Distinct(_)
            | LogicalPlan::Window(_)
            | LogicalPlan::Join(_)
            | LogicalPlan::Union(_)
            | LogicalPlan::SubqueryAlias(_)
    )
}

/// `column IN (keys)`, or `false` for no keys.
pub(super) fn in_keys(column: Expr, keys: &[ScalarValue]) -> Expr {
    if keys.is_empty() {
        return lit(false);
    }
    column.in_list(keys.iter().cloned().map(lit).collect(), false)
}

/// Whether `resource` pushes `column` down with `in` (one listing or get per key).
pub(super) fn pushed_with_in(resource: &crate::spec::Resource, column: &str) -> bool {
    resource
        .spec
        .pushdown
        .iter()
        .any(|r| r.column == column && r.ops.contains(&PushdownOp::In))
}

/// The non-NULL values of `array`.
pub(super) fn non_null_values(
    array: &dyn datafusion::arrow::array::Array,
) -> Result<Vec<ScalarValue>> {
    let mut values = Vec::new();
    for i in 0..array.len() {
        if array.is_valid(i) {
            values.push(ScalarValue::try_from_array(array, i)?);
        }
    }
    Ok(values)
}

/// The filter of `node` when it is a filter directly over an API table's scan (or an alias
/// of one).
fn keyed_filter(node: &LogicalPlan) -> Option<&Filter> {
    let LogicalPlan::Filter(filter) = node else {
        return None;
    };
    api_table(&filter.input)?;
    Some(filter)
}

/// The API table under `plan` (a scan, or an aliased scan).
fn api_table(plan: &LogicalPlan) -> Option<std::sync::Arc<crate::spec::Resource>> {
    match plan {
        LogicalPlan::TableScan(scan) => scanned_api_table(scan),
        LogicalPlan::SubqueryAlias(alias) => api_table(&alias.input),
        _ => None,
    }
}

/// The API table `scan` reads, if it reads one.
pub(super) fn scanned_api_table(scan: &TableScan) -> Option<std::sync::Arc<crate::spec::Resource>> {
    let provider = source_as_provider(&scan.source).ok()?;
    let any: &dyn std::any::Any = provider.as_ref();
    let table = any.downcast_ref::<ApiTable>()?;
    Some(table.resource().clone())
}

/// The filter's conjuncts that are key subqueries: the column and the subquery's plan.
fn key_subqueries(filter: &Filter) -> Vec<(Expr, LogicalPlan)> {
    split_conjunction(&filter.predicate)
        .into_iter()
        .filter_map(|e| key_subquery(filter, e))
        .collect()
}

/// `column IN (uncorrelated subquery)` on a column the table pushes with `in`.
fn key_subquery(filter: &Filter, e: &Expr) -> Option<(Expr, LogicalPlan)> {
    let Expr::InSubquery(in_subquery) = e else {
        return None;
    };
    if in_subquery.negated || !in_subquery.subquery.outer_ref_columns.is_empty() {
        return None;
    }
    let Expr::Column(column) = in_subquery.expr.as_ref() else {
        return None;
    };
    let resource = api_table(&filter.input)?;
    pushed_with_in(&resource, &column.name).then(|| {
        (
            in_subquery.expr.as_ref().clone(),
            in_subquery.subquery.subquery.as_ref().clone(),
        )
    })
}

/// The distinct non-NULL values the subquery answers, or `None` past [`MAX_KEYS`]. It is read
/// as `DISTINCT … LIMIT MAX_KEYS + 1`, so a large one costs only the pages that show it is
/// large (a LIMIT stops an API listing's paging).
async fn keys_of(ctx: &SessionContext, subquery: LogicalPlan) -> Result<Option<Vec<ScalarValue>>> {
    if subquery.schema().fields().len() != 1 {
        return Ok(None);
    }
    let bounded = LogicalPlanBuilder::from(subquery)
        .distinct()?
        .limit(0, Some(MAX_KEYS + 1))?
        .build()?;
    let batches = ctx.execute_logical_plan(bounded).await?.collect().await?;
    if batches.iter().map(|b| b.num_rows()).sum::<usize>() > MAX_KEYS {
        return Ok(None);
    }
    let mut values = Vec::new();
    for batch in &batches {
        values.extend(non_null_values(batch.column(0))?);
    }
    Ok(Some(values))
}
