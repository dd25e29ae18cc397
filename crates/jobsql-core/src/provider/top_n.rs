//! `ORDER BY start_time DESC, run_id LIMIT n`: a sort whose first key is the listing's order.
//!
//! DataFusion keeps a `SortExec` (TopK) for it — the API's order says nothing about the later
//! keys — and pushes no LIMIT into the scan, which would then list everything. Its top n rows
//! are among the listing's first n rows *and every row tied with the n-th on the first key*
//! (rows with the same `start_time` may be in any order). This physical optimizer rule finds
//! such a sort over an [`ApiExec`] (through nodes that keep rows and order: projections,
//! cooperative wrappers) and lets the scan stop there
//! ([`ApiExec::with_top_n`]): each listing reads pages until it has n rows and the last one
//! read is past the n-th's key. The sort stays and gives SQL's exact answer.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::ExecutionPlan;

use super::exec::ApiExec;

/// The rule (see the module documentation). Registered by [`crate::plugin`].
#[derive(Debug, Default)]
pub struct TopNInListingOrder;

impl PhysicalOptimizerRule for TopNInListingOrder {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_down(|node| {
            let Some(sort) = node.downcast_ref::<SortExec>() else {
                return Ok(Transformed::no(node));
            };
            let Some(n) = sort.fetch() else {
                return Ok(Transformed::no(node));
            };
            let first = sort.expr().first();
            // The sort's input is already in its first key's order: the scan's order.
            if !sort
                .input()
                .properties()
                .equivalence_properties()
                .ordering_satisfy([first.clone()])?
            {
                return Ok(Transformed::no(node));
            }
            match limit_scan(sort.input(), n)? {
                Some(input) => {
                    let new = replace_children_if_necessary(node.clone(), vec![input])?;
                    Ok(Transformed::yes(new))
                }
                None => Ok(Transformed::no(node)),
            }
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "jobsql_top_n_in_listing_order"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `plan` with its `ApiExec` reading only the top `n` (with ties), when only row- and
/// order-keeping nodes lie between.
fn limit_scan(plan: &Arc<dyn ExecutionPlan>, n: usize) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    if let Some(scan) = plan.downcast_ref::<ApiExec>() {
        return Ok(scan.with_top_n(n));
    }
    let keeps_rows = plan.is::<ProjectionExec>() || plan.is::<CooperativeExec>();
    let children = plan.children();
    if !keeps_rows || children.len() != 1 {
        return Ok(None);
    }
    match limit_scan(children[0], n)? {
        Some(child) => Ok(Some(replace_children_if_necessary(
            plan.clone(),
            vec![child],
        )?)),
        None => Ok(None),
    }
}
