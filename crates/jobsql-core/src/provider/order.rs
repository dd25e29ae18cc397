//! The order a scan returns its rows in, declared to DataFusion.
//!
//! A method's `order:` (runs/list: `start_time` descending) is what the API guarantees for one
//! listing. [`ApiExec`](super::exec::ApiExec) declares it as the output ordering of each of its
//! partitions (one per request template when there are several, e.g. `job_id IN (...)`), so
//! DataFusion drops the sort of an `ORDER BY` the order satisfies, merges the partitions with a
//! sort-preserving merge, and pushes a `LIMIT` into the scan (`with_fetch`): the newest n rows
//! are read from the first pages of each listing. An `ORDER BY` the order does not satisfy
//! (ascending, another column) is sorted by DataFusion over the full listing, as before.

use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalSortExpr};

use crate::spec::{MethodSpec, OrderDirection};

/// The declared order of a scan: the column's index in the scan's schema and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOrder {
    /// Index of the column in the scan's (projected) schema.
    pub index: usize,
    /// Whether largest values come first.
    pub descending: bool,
}

impl ScanOrder {
    /// The order `method` declares, when its column is among those the scan reads (an order
    /// on a column not read is of no use to DataFusion).
    pub fn of(method: &MethodSpec, schema: &SchemaRef) -> Option<Self> {
        let order = method.order.as_ref()?;
        let index = schema.index_of(&order.column).ok()?;
        Some(ScanOrder {
            index,
            descending: order.direction == OrderDirection::Desc,
        })
    }

    /// The equivalence properties of a scan with this order (or none).
    pub fn properties(order: Option<Self>, schema: &SchemaRef) -> EquivalenceProperties {
        let Some(order) = order else {
            return EquivalenceProperties::new(schema.clone());
        };
        let name = schema.field(order.index).name();
        let expr = PhysicalSortExpr::new(
            std::sync::Arc::new(Column::new(name, order.index)),
            SortOptions {
                descending: order.descending,
                // SQL's default for the direction (NULLS FIRST for DESC): the column is never
                // null in the listings that declare an order, so either holds.
                nulls_first: order.descending,
            },
        );
        EquivalenceProperties::new_with_orderings(schema.clone(), [vec![expr]])
    }
}
