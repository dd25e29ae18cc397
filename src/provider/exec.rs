//! `ApiExec`: the `ExecutionPlan` that makes the planned API requests and streams the pages.
//!
//! It holds the request templates decided by the pushdown translator (one per combination of
//! `IN` values and workspaces), runs them concurrently (at most [`MAX_CONCURRENT`] at once)
//! and emits one `RecordBatch` per page as pages arrive: nothing is materialised. EXPLAIN shows
//! the requests. All HTTP happens in `execute()`'s stream.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::StreamExt;

use crate::spec::Resource;

use super::decode::PageDecoder;
use super::fetch::{describe_template, template_stream, Completion, Fetch};
use super::pushdown::{RequestTemplate, Translation};
use super::ApiRuntime;

/// Request templates run at once, at most.
pub const MAX_CONCURRENT: usize = 8;

/// The scan of one resource.
#[derive(Debug)]
pub struct ApiExec {
    fetch: Arc<Fetch>,
    templates: Vec<RequestTemplate>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl ApiExec {
    /// Plan the requests for `translation`, reading the columns at `projection`.
    pub fn new(
        resource: Arc<Resource>,
        runtime: Arc<ApiRuntime>,
        table_schema: &SchemaRef,
        translation: Translation,
        projection: Vec<usize>,
        limit: Option<usize>,
    ) -> Result<Self> {
        let schema = Arc::new(table_schema.project(&projection)?);
        let method = resource.spec.methods[&translation.method].clone();
        let mut translation = translation;
        // Parameters some columns need (e.g. expand_tasks for tasks), unless set explicitly.
        for rule in &resource.spec.expand {
            let read = projection
                .iter()
                .any(|&i| rule.when_reading.contains(&resource.columns[i].name));
            if read
                && method.params.contains_key(&rule.param)
                && !translation.params.contains_key(&rule.param)
            {
                translation
                    .params
                    .insert(rule.param.clone(), rule.value.clone());
            }
        }
        let decoder = PageDecoder::new(
            &resource,
            Arc::new(Schema::new(schema.fields().clone())),
            &projection,
            method.response.objects.clone(),
            method.pagination.as_ref().map(|p| p.next_token.clone()),
        );
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        let rules: Vec<_> = method
            .complete
            .iter()
            .filter(|rule| {
                projection
                    .iter()
                    .any(|&i| rule.when_reading.contains(&resource.columns[i].name))
            })
            .cloned()
            .collect();
        let complete = rules.first().and_then(|rule| {
            let method = resource.spec.methods.get(&rule.method)?.clone();
            Some(Completion {
                rules: rules.clone(),
                method,
            })
        });
        Ok(Self {
            fetch: Arc::new(Fetch {
                resource,
                runtime,
                method,
                decoder,
                limit,
                complete,
            }),
            templates: translation.templates(),
            schema,
            properties,
        })
    }

    /// The requests this scan will start with (before pagination), as text.
    pub fn planned_requests(&self) -> Vec<String> {
        self.templates
            .iter()
            .map(|t| describe_template(&self.fetch, t))
            .collect()
    }
}

impl DisplayAs for ApiExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "ApiExec: {}", self.fetch.resource.qualified_name())?;
        if let Some(limit) = self.fetch.limit {
            write!(f, ", limit={limit}")?;
        }
        if self.templates.is_empty() {
            // The WHERE clause matches no row (e.g. a value outside a parameter's enum).
            return write!(f, ", requests=none (no row can match)");
        }
        write!(f, ", requests=[{}]", self.planned_requests().join(", "))
    }
}

impl ExecutionPlan for ApiExec {
    fn name(&self) -> &str {
        "ApiExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
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
        if children.is_empty() {
            Ok(self)
        } else {
            Err(DataFusionError::Internal("ApiExec has no children".into()))
        }
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "ApiExec has one partition, not {partition}"
            )));
        }
        let fetch = self.fetch.clone();
        let streams = futures::stream::iter(self.templates.clone())
            .map(move |t| Box::pin(template_stream(fetch.clone(), t)));
        let batches = streams
            .flatten_unordered(MAX_CONCURRENT)
            .map(|r| r.map_err(DataFusionError::from));
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            batches,
        )))
    }
}
