//! The scan of a history table, reading its files through a store of its own.
//!
//! A `serve` or `mcp` session opens no file through its object-store registry (the sandbox:
//! SQL from a client names no path on the machine). The history is not such a path: it is
//! jobsql's own archive, at the location the operator configured, read-only. So the history
//! scan gets its files from a registry of its own, set on the task context of the plan below
//! it only, holding one store: the root store delta-rs built for the table (local, S3, Azure,
//! GCS), under the table's store URL. The session's registry, and every path SQL can name,
//! stay as they were.

use std::fmt;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result;
use datafusion::execution::object_store::{
    DefaultObjectStoreRegistry, ObjectStoreRegistry, ObjectStoreUrl,
};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};

/// Runs the Parquet scan of one history table with a registry that has the table's store.
#[derive(Debug)]
pub struct HistoryExec {
    table: String,
    inner: Arc<dyn ExecutionPlan>,
    registry: Arc<DefaultObjectStoreRegistry>,
}

impl HistoryExec {
    /// The scan `inner` of the history table `table`, whose files are in `store` (at `url`).
    pub fn new(
        table: &str,
        inner: Arc<dyn ExecutionPlan>,
        url: &ObjectStoreUrl,
        store: Arc<dyn object_store::ObjectStore>,
    ) -> Self {
        let registry = DefaultObjectStoreRegistry::new();
        registry.register_store(url.as_ref(), store);
        HistoryExec {
            table: table.to_string(),
            inner,
            registry: Arc::new(registry),
        }
    }
}

impl DisplayAs for HistoryExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HistoryExec: {}", self.table)
    }
}

impl ExecutionPlan for HistoryExec {
    fn name(&self) -> &str {
        "HistoryExec"
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.inner]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match (children.pop(), children.is_empty()) {
            (Some(inner), true) => Ok(Arc::new(HistoryExec {
                table: self.table.clone(),
                inner,
                registry: self.registry.clone(),
            })),
            _ => datafusion::common::internal_err!("HistoryExec has exactly one child"),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let runtime = RuntimeEnvBuilder::from_runtime_env(&context.runtime_env())
            .with_object_store_registry(self.registry.clone())
            .build_arc()?;
        let context = TaskContext::new(
            context.task_id(),
            context.session_id(),
            context.session_config().clone(),
            context.scalar_functions().clone(),
            context.higher_order_functions().clone(),
            context.aggregate_functions().clone(),
            context.window_functions().clone(),
            runtime,
        );
        self.inner.execute(partition, Arc::new(context))
    }
}
