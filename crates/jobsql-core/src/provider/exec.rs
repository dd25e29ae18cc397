//! `ApiExec`: the `ExecutionPlan` that makes the planned API requests and streams the pages.
//!
//! It holds the request templates decided by the pushdown translator (one per combination of
//! `IN` values and workspaces), runs them concurrently (at most the runtime's
//! `max_concurrency` at once; a long listing is also cut into concurrent time slices, see
//! [`super::fetch::Slicing`]) and emits one `RecordBatch` per page as pages arrive, fetched
//! ahead by a task of their own: nothing is materialised. EXPLAIN shows the requests, and those
//! made per listed row (a listed run fetched again with runs/get for `repair_history`). All
//! HTTP happens in `execute()`'s stream, which starts the scan's deadline (`--timeout`).

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::StreamExt;

use crate::client::Deadline;
use crate::spec::{MethodSpec, Resource};

use super::decode::PageDecoder;
use super::fetch::{describe_template, scan_stream, Completion, Fetch, Slicing};
use super::order::ScanOrder;
use super::pushdown::{RequestTemplate, Translation};
use super::ApiRuntime;

/// Batches buffered ahead of the consumer: the next pages are fetched while one is consumed.
const PREFETCH: usize = 4;

/// The scan of one resource.
#[derive(Debug)]
pub struct ApiExec {
    fetch: Arc<Fetch>,
    templates: Vec<RequestTemplate>,
    slicing: Option<Slicing>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    /// The order each partition's rows come in (the method's `order:`), when declared.
    order: Option<ScanOrder>,
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
        // The columns read; a flattened resource reads its array in every query (each row is
        // one of its elements), so the rules naming it always apply.
        let flatten = method.response.flatten.as_ref();
        let reads = |names: &[String]| {
            projection
                .iter()
                .any(|&i| names.contains(&resource.columns[i].name))
                || flatten.is_some_and(|f| names.contains(&f.array))
        };
        // Parameters some columns need (e.g. expand_tasks for tasks), unless set explicitly.
        for rule in &resource.spec.expand {
            let read = reads(&rule.when_reading);
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
            method.response.objects.as_deref(),
            method.pagination.as_ref(),
        )
        .flattening(&resource, &projection, flatten);
        let rules: Vec<_> = method
            .complete
            .iter()
            .filter(|rule| reads(&rule.when_reading))
            .cloned()
            .collect();
        let complete = rules.first().and_then(|rule| {
            let method = resource.spec.methods.get(&rule.method)?.clone();
            // A flattening method's rules name the listed object's own fields.
            let fields = match flatten {
                Some(_) => Default::default(),
                None => resource
                    .columns
                    .iter()
                    .filter_map(|c| Some((c.name.clone(), c.field.clone()?)))
                    .collect(),
            };
            Some(Completion {
                rules: rules.clone(),
                method,
                fields,
            })
        });
        // A paged array is read when a column reads it, or the value it is in (`settings`),
        // or a value inside it (`tasks` at `settings.tasks`); a flattened array always.
        let merge_pages = method.pagination.as_ref().is_some_and(|p| {
            p.merge_arrays.iter().any(|path| {
                if flatten.is_some_and(|f| &f.array == path) {
                    return true;
                }
                let paged: Vec<&str> = path.split('.').collect();
                projection.iter().any(|&i| {
                    let c = &resource.columns[i];
                    let at: Vec<&str> = match &c.path {
                        Some(p) => p.iter().map(String::as_str).collect(),
                        None => vec![c.json_name()],
                    };
                    !c.is_parameter && (paged.starts_with(&at) || at.starts_with(&paged))
                })
            })
        });
        let templates = translation.templates();
        let order = ScanOrder::of(&method, &schema);
        let mut slicing = slicing(&resource, &method, &runtime, limit, templates.len());
        if let Some(s) = slicing.as_mut() {
            s.ordered = order.is_some();
        }
        let properties = properties(&schema, order, templates.len());
        Ok(Self {
            fetch: Arc::new(Fetch {
                resource,
                runtime,
                method,
                decoder,
                limit,
                complete,
                deadline: None,
                merge_pages,
                ties: None,
            }),
            templates,
            slicing,
            schema,
            properties,
            order,
        })
    }

    /// This scan reading only the first `n` rows of each listing and those tied with the n-th
    /// on the order's column (see [`super::top_n`]); `None` without a declared order, or when
    /// a partition holds several listings.
    pub fn with_top_n(&self, n: usize) -> Option<Arc<dyn ExecutionPlan>> {
        let order = self.order?;
        if self.templates.len() > 1 && !self.partitioned() {
            return None;
        }
        let limit = self.fetch.limit.map_or(n, |l| l.min(n));
        Some(Arc::new(ApiExec {
            fetch: Arc::new(Fetch {
                limit: Some(limit),
                ties: Some(order.index),
                ..(*self.fetch).clone()
            }),
            templates: self.templates.clone(),
            slicing: None,
            schema: self.schema.clone(),
            properties: self.properties.clone(),
            order: self.order,
        }))
    }

    /// Rows are read in the declared order, one partition per template: each partition's
    /// limit is exact.
    fn partitioned(&self) -> bool {
        self.order.is_some() && self.templates.len() > 1
    }

    /// The requests a scan makes per listed row (its `complete:` rules for the columns read),
    /// as text: `one GET /api/2.2/jobs/runs/get?run_id={run_id}&include_history=true per
    /// listed row (for repair_history)`.
    pub fn fan_outs(&self) -> Vec<String> {
        let Some(completion) = &self.fetch.complete else {
            return Vec::new();
        };
        let method = &completion.method;
        completion
            .rules
            .iter()
            .map(|rule| {
                let query: Vec<String> = rule
                    .params
                    .iter()
                    .map(|(param, field)| format!("{param}={{{field}}}"))
                    .chain(rule.set.iter().map(|(k, v)| format!("{k}={v}")))
                    .collect();
                let flattened = self.fetch.method.response.flatten.as_ref();
                let read: Vec<&str> = rule
                    .when_reading
                    .iter()
                    .filter(|c| {
                        self.schema.field_with_name(c).is_ok()
                            || flattened.is_some_and(|f| &f.array == *c)
                    })
                    .map(String::as_str)
                    .collect();
                let which = match &rule.when {
                    Some(flag) => format!("per listed row with {flag} = true"),
                    None => "per listed row".to_string(),
                };
                format!(
                    "one {} {}?{} {which} (for {})",
                    method.verb.as_str(),
                    method.path,
                    query.join("&"),
                    read.join(", ")
                )
            })
            .collect()
    }

    /// The requests this scan will start with (before pagination), as text.
    pub fn planned_requests(&self) -> Vec<String> {
        self.templates
            .iter()
            .map(|t| describe_template(&self.fetch, t))
            .collect()
    }
}

/// Whether (and how wide) each listing is split into concurrent slices: the method has a
/// `parallel:` rule with a range rule on its column, there is no LIMIT, and the runtime's
/// concurrency, shared among the templates, leaves more than one request per listing.
fn slicing(
    resource: &Resource,
    method: &MethodSpec,
    runtime: &ApiRuntime,
    limit: Option<usize>,
    templates: usize,
) -> Option<Slicing> {
    let rule = method.parallel.as_ref()?;
    let concurrency = runtime.max_concurrency / templates.max(1);
    if limit.is_some() || concurrency < 2 {
        return None;
    }
    let range = resource
        .spec
        .pushdown
        .iter()
        .find(|r| r.column == rule.column)?;
    let (lower, upper) = (range.lower.clone()?, range.upper.clone()?);
    (method.params.contains_key(&lower) && method.params.contains_key(&upper)).then(|| Slicing {
        rule: rule.clone(),
        lower,
        upper,
        concurrency,
        ordered: false,
    })
}

/// The plan's properties: with a declared order and several templates, one partition per
/// template (each in the order, merged by DataFusion); else one partition.
fn properties(
    schema: &SchemaRef,
    order: Option<ScanOrder>,
    templates: usize,
) -> Arc<PlanProperties> {
    let partitions = if order.is_some() { templates.max(1) } else { 1 };
    Arc::new(PlanProperties::new(
        ScanOrder::properties(order, schema),
        Partitioning::UnknownPartitioning(partitions),
        EmissionType::Incremental,
        Boundedness::Bounded,
    ))
}

impl DisplayAs for ApiExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "ApiExec: {}", self.fetch.resource.qualified_name())?;
        match (self.fetch.limit, self.fetch.ties) {
            (Some(limit), Some(column)) => {
                let name = self.schema.field(column).name();
                write!(f, ", limit={limit} with ties on {name}")?
            }
            (Some(limit), None) => write!(f, ", limit={limit}")?,
            (None, _) => {}
        }
        if let Some(order) = self.order {
            let direction = if order.descending { "DESC" } else { "ASC" };
            write!(
                f,
                ", order={} {direction} (the API's)",
                self.schema.field(order.index).name()
            )?;
        }
        if self.templates.is_empty() {
            // The WHERE clause matches no row (e.g. a value outside a parameter's enum).
            return write!(f, ", requests=none (no row can match)");
        }
        write!(f, ", requests=[{}]", self.planned_requests().join(", "))?;
        for fan_out in self.fan_outs() {
            write!(f, ", then {fan_out}")?;
        }
        if let Some(slicing) = &self.slicing {
            write!(
                f,
                ", then {} {} slices, {} at a time",
                slicing.concurrency * 2,
                slicing.rule.column,
                slicing.concurrency
            )?;
        }
        Ok(())
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

    /// A LIMIT DataFusion pushes into the scan (`ORDER BY start_time DESC LIMIT n` once the
    /// declared order made the sort unnecessary): each listing stops after `limit` rows, page
    /// by page from the newest. Only when each partition holds one listing, so that the limit
    /// is exactly the partition's.
    fn with_fetch(&self, limit: Option<usize>) -> Option<Arc<dyn ExecutionPlan>> {
        if self.templates.len() > 1 && !self.partitioned() {
            return None;
        }
        let limit = match (limit, self.fetch.limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Some(Arc::new(ApiExec {
            fetch: Arc::new(Fetch {
                limit,
                ..(*self.fetch).clone()
            }),
            templates: self.templates.clone(),
            slicing: if limit.is_some() {
                None
            } else {
                self.slicing.clone()
            },
            schema: self.schema.clone(),
            properties: self.properties.clone(),
            order: self.order,
        }))
    }

    fn fetch(&self) -> Option<usize> {
        if (self.templates.len() > 1 && !self.partitioned()) || self.fetch.ties.is_some() {
            return None;
        }
        self.fetch.limit
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
        let partitions = self.properties.partitioning.partition_count();
        if partition >= partitions {
            return Err(DataFusionError::Internal(format!(
                "ApiExec has {partitions} partition(s), not {partition}"
            )));
        }
        let templates = if self.partitioned() {
            vec![self.templates[partition].clone()]
        } else {
            self.templates.clone()
        };
        // The deadline (--timeout) runs from now, for this execution of the plan.
        let fetch = match self.fetch.runtime.timeout {
            None => self.fetch.clone(),
            Some(limit) => Arc::new(Fetch {
                deadline: Some(Deadline::after(limit)),
                ..(*self.fetch).clone()
            }),
        };
        let slicing = self.slicing.clone();
        let width = fetch.runtime.max_concurrency;
        let mut batches = futures::stream::iter(templates)
            .map(move |t| scan_stream(fetch.clone(), t, slicing.clone()))
            .flatten_unordered(width)
            .map(|r| r.map_err(DataFusionError::from));
        // A task of its own fetches ahead while the consumer works on a batch; dropping the
        // stream (LIMIT reached, query cancelled) aborts it and its requests.
        let mut builder = RecordBatchReceiverStream::builder(self.schema.clone(), PREFETCH);
        let tx = builder.tx();
        builder.spawn(async move {
            while let Some(batch) = batches.next().await {
                let failed = batch.is_err();
                if tx.send(batch).await.is_err() || failed {
                    break;
                }
            }
            Ok(())
        });
        Ok(builder.build())
    }
}
