//! Keys from joins: `job_runs r JOIN jobs j ON r.job_id = j.job_id WHERE j.name = 'x'` lists
//! only the matching jobs' runs (one listing per key), instead of the whole history.
//!
//! The rewrite works on DataFusion's optimized logical plan, where `ON`, `USING`, an equality
//! in `WHERE` and a decorrelated `EXISTS` all read as a join's equi-keys. For each join whose
//! key on one side (the *API side*) is a column of an API table pushed with `in` (`job_id`,
//! `run_id`), reached through projections, filters and aliases only, and whose *other side* is
//! small by its shape (it reads no API table without a filter: a filtered listing, `VALUES`,
//! `generate_series`, a file) — or whose API side cannot be read without a parameter anyway
//! (`jobs JOIN job_permissions`: every select method of `job_permissions` needs `job_id`) —
//! the other side runs first. When it answers at most
//! [`MAX_KEYS`] distinct non-NULL keys, the API side gets the filter `key IN (those keys)`
//! (no keys: `false`), which the table pushes down as one listing or get per key. The join
//! types where that filter keeps SQL's rows: inner and semi joins (either side), and the
//! nullable side of a `LEFT` / `RIGHT` join. Anti, mark and full joins, a join matching
//! NULLs, more keys, and an other side that reads a whole listing are left to DataFusion.
//!
//! The other side is read once: its rows, as they stream in, are kept (a `MemTable`, put in
//! the plan in its place, its columns renamed back) while they number at most [`MAX_ROWS`],
//! so the join does not send its requests again. Past [`MAX_KEYS`] keys the read stops
//! (dropping the stream stops the paging) and the plan is left as it was, the other side then
//! read again by DataFusion: the price of the bound is the pages that showed it. Past
//! [`MAX_ROWS`] rows only the keys are kept and the other side is re-run in the join.
//! `EXPLAIN`, DDL and writes are not rewritten (EXPLAIN sends no request).

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, NullEquality, ScalarValue};
use datafusion::datasource::{provider_as_source, MemTable};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, Filter, Join, JoinType, LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;

use crate::spec::Resource;

use super::keys::{
    in_keys, is_query, non_null_values, pushed_with_in, scanned_api_table, MAX_KEYS,
};

/// The most rows of the other side kept in memory for the join (past it, it is read again).
pub const MAX_ROWS: usize = 100_000;

/// The most joins of one query answered this way.
const MAX_JOINS: usize = 8;

/// The name of the key column added to the other side while it is read.
const KEY: &str = "__jobsql_join_key";

/// `plan` with its keyed joins answered (see the module doc); the plan unchanged when it has
/// none, or is not a query.
pub async fn inline_join_keys(ctx: &SessionContext, plan: LogicalPlan) -> Result<LogicalPlan> {
    if !is_query(&plan) || !has_join(&plan)? {
        return Ok(plan);
    }
    let mut optimized = ctx.state().optimize(&plan)?;
    let mut tried: Vec<LogicalPlan> = Vec::new();
    let mut changed = false;
    for _ in 0..MAX_JOINS {
        let Some((join, keyed)) = next_keyed_join(&optimized, &tried)? else {
            break;
        };
        tried.push(LogicalPlan::Join(join.clone()));
        let Some(rewritten) = answer(ctx, &join, &keyed).await? else {
            continue;
        };
        tried.push(rewritten.clone());
        let original = LogicalPlan::Join(join);
        optimized = optimized
            .transform_up(|node| match node == original {
                true => Ok(Transformed::yes(rewritten.clone())),
                false => Ok(Transformed::no(node)),
            })?
            .data;
        changed = true;
    }
    Ok(if changed { optimized } else { plan })
}

/// Whether `plan` has a join, or a subquery that may become one.
fn has_join(plan: &LogicalPlan) -> Result<bool> {
    let mut found = false;
    plan.apply_with_subqueries(|node| {
        found = matches!(node, LogicalPlan::Join(_) | LogicalPlan::Subquery(_))
            || has_subquery_expr(node);
        Ok(match found {
            true => TreeNodeRecursion::Stop,
            false => TreeNodeRecursion::Continue,
        })
    })?;
    Ok(found)
}

/// Whether one of `node`'s expressions holds a subquery (`EXISTS`, `IN (SELECT …)`).
fn has_subquery_expr(node: &LogicalPlan) -> bool {
    node.expressions().iter().any(|e| {
        e.exists(|e| {
            Ok(matches!(
                e,
                Expr::Exists(_) | Expr::InSubquery(_) | Expr::ScalarSubquery(_)
            ))
        })
        .unwrap_or(false)
    })
}

/// Which side of a join gets the keys, and from which expression of the other.
#[derive(Debug, Clone)]
struct Keyed {
    /// Whether the API side is the join's left input.
    api_left: bool,
    /// The API side's key column.
    api_key: Expr,
    /// The other side's key expression.
    other_key: Expr,
}

/// The first join (bottom up) not in `tried` whose keys can be answered first.
fn next_keyed_join(plan: &LogicalPlan, tried: &[LogicalPlan]) -> Result<Option<(Join, Keyed)>> {
    let mut found = None;
    plan.apply(|node| {
        if let LogicalPlan::Join(join) = node {
            if !tried.contains(node) {
                if let Some(keyed) = keyed(join) {
                    found = Some((join.clone(), keyed));
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    // `apply` visits a parent before its children: the last found has no candidate below it
    // (its answer may make a parent's other side small).
    Ok(found)
}

/// How `join` is keyed, if it can be (see the module doc).
fn keyed(join: &Join) -> Option<Keyed> {
    if join.null_equality != NullEquality::NullEqualsNothing || join.null_aware {
        return None;
    }
    let (left_ok, right_ok) = match join.join_type {
        JoinType::Inner | JoinType::LeftSemi | JoinType::RightSemi => (true, true),
        // The nullable side's unmatched rows are not in the answer: keys may filter it.
        JoinType::Left => (false, true),
        JoinType::Right => (true, false),
        _ => return None,
    };
    let mut options = Vec::new();
    // The other side runs first when it is small, or when the API side could not be read
    // without the key anyway (every select method needs a parameter: job_permissions).
    let first = |api: &LogicalPlan, key: &Expr, other: &LogicalPlan| {
        api_resource(api, key).is_some_and(|r| small(other) || needs_parameter(&r))
    };
    for (l, r) in &join.on {
        if left_ok && first(&join.left, l, &join.right) {
            options.push(Keyed {
                api_left: true,
                api_key: l.clone(),
                other_key: r.clone(),
            });
        }
        if right_ok && first(&join.right, r, &join.left) {
            options.push(Keyed {
                api_left: false,
                api_key: r.clone(),
                other_key: l.clone(),
            });
        }
    }
    // An other side that reads no API table at all first; else the first found.
    let best = options
        .iter()
        .position(|k| api_scans(other(join, k)) == 0)
        .unwrap_or(0);
    options.into_iter().nth(best)
}

/// The side of `join` that is not the API side.
fn other<'a>(join: &'a Join, keyed: &Keyed) -> &'a LogicalPlan {
    match keyed.api_left {
        true => &join.right,
        false => &join.left,
    }
}

/// The API table `key` comes from when it is a column of `side` that comes unchanged from
/// an API table's scan pushing it with `in` (through projections, filters and aliases: where
/// a filter above `side` is pushed down to the scan).
fn api_resource(side: &LogicalPlan, key: &Expr) -> Option<Arc<Resource>> {
    let Expr::Column(column) = key else {
        return None;
    };
    traced(side, column)
}

/// Whether every select method of `resource` needs a parameter (it cannot be listed whole):
/// a query reading it without one fails, so reading a join's other side first costs nothing
/// that query would not have failed for.
fn needs_parameter(resource: &Resource) -> bool {
    resource.spec.select.iter().all(|m| {
        resource
            .spec
            .methods
            .get(m)
            .is_some_and(|method| method.params.values().any(|p| p.required))
    })
}

fn traced(plan: &LogicalPlan, column: &Column) -> Option<Arc<Resource>> {
    match plan {
        LogicalPlan::TableScan(scan) => scanned_api_table(scan)
            .filter(|r| scan.fetch.is_none() && pushed_with_in(r, &column.name)),
        LogicalPlan::Filter(filter) => traced(&filter.input, column),
        LogicalPlan::SubqueryAlias(alias) => traced(&alias.input, &Column::from_name(&column.name)),
        LogicalPlan::Projection(projection) => {
            let Ok(i) = projection.schema.index_of_column(column) else {
                return None;
            };
            let mut expr = &projection.expr[i];
            if let Expr::Alias(alias) = expr {
                expr = alias.expr.as_ref();
            }
            match expr {
                Expr::Column(inner) if inner.name == column.name => {
                    traced(&projection.input, inner)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// How many API table scans `plan` has.
fn api_scans(plan: &LogicalPlan) -> usize {
    let mut n = 0;
    let _ = plan.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            n += usize::from(scanned_api_table(scan).is_some());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    n
}

/// Whether `plan` is small by its shape: every API table it reads is filtered or limited
/// (pushed into the scan, or by a filter or limit above it), so no whole listing is answered.
fn small(plan: &LogicalPlan) -> bool {
    !answers_whole_listing(plan, false)
}

/// Whether `plan` answers an API table's whole listing; `restricted`: a filter or limit is
/// above it (through projections and aliases).
fn answers_whole_listing(plan: &LogicalPlan, restricted: bool) -> bool {
    match plan {
        LogicalPlan::TableScan(scan) => {
            !restricted
                && scan.filters.is_empty()
                && scan.fetch.is_none()
                && scanned_api_table(scan).is_some()
        }
        LogicalPlan::Filter(_) | LogicalPlan::Limit(_) => {
            plan.inputs().iter().any(|i| answers_whole_listing(i, true))
        }
        LogicalPlan::Projection(_) | LogicalPlan::SubqueryAlias(_) => plan
            .inputs()
            .iter()
            .any(|i| answers_whole_listing(i, restricted)),
        _ => plan
            .inputs()
            .iter()
            .any(|i| answers_whole_listing(i, false)),
    }
}

/// `join` with the other side's keys on its API side (and the other side's rows in its
/// place), or `None` past [`MAX_KEYS`].
async fn answer(ctx: &SessionContext, join: &Join, keyed: &Keyed) -> Result<Option<LogicalPlan>> {
    let side = other(join, keyed).clone();
    let Some((keys, rows)) = read_side(ctx, &side, &keyed.other_key).await? else {
        return Ok(None);
    };
    let other_side = match rows {
        Some(batches) => Arc::new(materialised(&side, batches)?),
        None => Arc::new(side),
    };
    let api_side = match keyed.api_left {
        true => &join.left,
        false => &join.right,
    };
    let filtered = Arc::new(LogicalPlan::Filter(Filter::try_new(
        in_keys(keyed.api_key.clone(), &keys),
        api_side.clone(),
    )?));
    let mut rewritten = join.clone();
    match keyed.api_left {
        true => (rewritten.left, rewritten.right) = (filtered, other_side),
        false => (rewritten.left, rewritten.right) = (other_side, filtered),
    }
    Ok(Some(LogicalPlan::Join(rewritten).recompute_schema()?))
}

/// The distinct non-NULL keys `side` answers for `key`, with its rows while they number at
/// most [`MAX_ROWS`]; `None` as soon as there are more than [`MAX_KEYS`] keys.
async fn read_side(
    ctx: &SessionContext,
    side: &LogicalPlan,
    key: &Expr,
) -> Result<Option<(Vec<ScalarValue>, Option<Vec<RecordBatch>>)>> {
    let width = side.schema().fields().len();
    let mut columns: Vec<Expr> = side
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    columns.push(key.clone().alias(KEY));
    let plan = LogicalPlanBuilder::from(side.clone())
        .project(columns)?
        .build()?;
    let mut stream = ctx
        .execute_logical_plan(plan)
        .await?
        .execute_stream()
        .await?;
    let mut seen: HashSet<ScalarValue> = HashSet::new();
    let mut keys = Vec::new();
    let mut rows: Option<Vec<RecordBatch>> = Some(Vec::new());
    let mut count = 0usize;
    while let Some(batch) = stream.try_next().await? {
        for value in non_null_values(batch.column(width))? {
            if seen.insert(value.clone()) {
                keys.push(value);
            }
        }
        if keys.len() > MAX_KEYS {
            return Ok(None);
        }
        count += batch.num_rows();
        rows = match rows {
            Some(mut kept) if count <= MAX_ROWS => {
                kept.push(batch.project(&(0..width).collect::<Vec<_>>())?);
                Some(kept)
            }
            _ => None,
        };
    }
    Ok(Some((keys, rows)))
}

/// A plan reading `batches` (the rows `side` answered) with `side`'s schema: a `MemTable` of
/// columns `c0, c1, …` (the side's names may repeat under different qualifiers) projected back
/// to the side's qualified names.
fn materialised(side: &LogicalPlan, batches: Vec<RecordBatch>) -> Result<LogicalPlan> {
    let fields: Vec<Field> = side
        .schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| f.as_ref().clone().with_name(format!("c{i}")))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batches = batches
        .into_iter()
        .map(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let table = MemTable::try_new(schema, vec![batches])?;
    let names: Vec<Expr> = side
        .schema()
        .iter()
        .enumerate()
        .map(|(i, (qualifier, field))| {
            Expr::Column(Column::from_name(format!("c{i}")))
                .alias_qualified(qualifier.cloned(), field.name())
        })
        .collect();
    LogicalPlanBuilder::scan(
        "jobsql_join_side",
        provider_as_source(Arc::new(table)),
        None,
    )?
    .project(names)?
    .build()
}
