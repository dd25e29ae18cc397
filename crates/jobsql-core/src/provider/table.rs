//! `ApiTable`: the `TableProvider` of one spec resource.
//!
//! It answers the schema (from the spec) and the pushdown question (through
//! [`super::pushdown::translate`]), and `scan` builds an [`ApiExec`] with the planned requests.
//! No I/O happens here: DataFusion also calls `scan` to plan EXPLAIN and DML.
//!
//! DataFusion asks about filters in several optimizer passes, each time with only the new
//! ones, so a filter judged Exact in one pass (a `start_time` range, on runs/list) can reach
//! `scan` beside one that changes the method (`run_id =`, which picks runs/get, where the range
//! cannot be pushed). `scan` therefore re-translates all its filters and evaluates any it cannot
//! push itself (a `FilterExec` over the API scan): every filter handed to the table is honoured.
//!
//! A resource with an `insert` method also has the columns an INSERT names
//! ([`super::insert::insert_fields`], after the read columns): DataFusion resolves INSERT
//! columns against the table's schema. They read as NULL (a projection over the API scan) and
//! no filter on them is pushed. `insert_into` plans DataFusion's `DataSinkExec` over an
//! [`InsertSink`]: a `DataSink` is what DataFusion's own tables insert with, and its plan node
//! brings the single-partition input, the `count` result and EXPLAIN's display with it.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::sink::DataSinkExec;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::expr_rewriter::unnormalize_col;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::filter::FilterExecBuilder;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::ExecutionPlan;

use crate::spec::Resource;

use super::exec::ApiExec;
use super::insert::{insert_fields, InsertSink};
use super::pushdown::{decisions, derived_expr, translate, Answer};
use super::ApiRuntime;

/// The field metadata key of a column's spec description (DESCRIBE shows it).
pub const DESCRIPTION_KEY: &str = "description";
/// The field metadata key of what a column is: [`KIND_FIELD`], [`KIND_PARAMETER`] or
/// [`KIND_INSERT`] (DESCRIBE shows it).
pub const KIND_KEY: &str = "jobsql.kind";
/// A column read from the API's answer.
pub const KIND_FIELD: &str = "field";
/// A request parameter: set it in WHERE; it shows the value sent.
pub const KIND_PARAMETER: &str = "parameter";
/// A column only INSERT sets (a parameter of the insert call).
pub const KIND_INSERT: &str = "insert only";

/// A spec resource as a table.
#[derive(Debug)]
pub struct ApiTable {
    resource: Arc<Resource>,
    runtime: Arc<ApiRuntime>,
    /// The read columns, then the INSERT-only ones.
    schema: SchemaRef,
    /// The read columns: what the API scan returns.
    read_schema: SchemaRef,
}

impl ApiTable {
    /// The table of `resource`, sharing `runtime`'s client and workspaces.
    pub fn new(resource: Arc<Resource>, runtime: Arc<ApiRuntime>) -> Self {
        let fields: Vec<Field> = resource
            .columns
            .iter()
            .map(|c| {
                let mut metadata = std::collections::HashMap::new();
                if !c.description.is_empty() {
                    metadata.insert(DESCRIPTION_KEY.to_string(), c.description.clone());
                }
                let kind = if c.is_parameter {
                    KIND_PARAMETER
                } else {
                    KIND_FIELD
                };
                metadata.insert(KIND_KEY.to_string(), kind.to_string());
                Field::new(&c.name, c.ty.to_arrow(), true).with_metadata(metadata)
            })
            .collect();
        let read_schema = Arc::new(Schema::new(fields.clone()));
        let mut fields = fields;
        fields.extend(insert_fields(&resource));
        Self {
            resource,
            runtime,
            schema: Arc::new(Schema::new(fields)),
            read_schema,
        }
    }

    /// The spec resource.
    pub fn resource(&self) -> &Arc<Resource> {
        &self.resource
    }

    /// The runtime (client, workspaces, dry-run log) the table calls the API with.
    pub fn runtime(&self) -> &Arc<ApiRuntime> {
        &self.runtime
    }
}

#[async_trait]
impl TableProvider for ApiTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(decisions(&self.resource, filters))
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let projection: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let read_columns = self.read_schema.fields().len();
        if projection.iter().all(|&i| i < read_columns) {
            return self.scan_read(state, projection, filters, limit);
        }
        // INSERT-only columns read as NULL, beside the read columns the API scan returns.
        let mut read: Vec<usize> = Vec::new();
        for &i in &projection {
            if i < read_columns && !read.contains(&i) {
                read.push(i);
            }
        }
        let scan = self.scan_read(state, read.clone(), filters, limit)?;
        let mut exprs: Vec<(Arc<dyn PhysicalExpr>, String)> = Vec::new();
        for &i in &projection {
            let field = self.schema.field(i);
            let expr: Arc<dyn PhysicalExpr> = match read.iter().position(|&r| r == i) {
                Some(at) => Arc::new(Column::new(field.name(), at)),
                None => Arc::new(Literal::new(ScalarValue::try_from(field.data_type())?)),
            };
            exprs.push((expr, field.name().clone()));
        }
        Ok(Arc::new(ProjectionExec::try_new(exprs, scan)?))
    }

    /// `INSERT INTO`: DataFusion's `DataSinkExec` over an [`InsertSink`] (refused at planning
    /// when the resource has no insert method).
    async fn insert_into(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if insert_op != InsertOp::Append {
            return Err(DataFusionError::Plan(format!(
                "{insert_op} INTO {} is not supported: API rows are only appended (INSERT INTO)",
                self.resource.qualified_name()
            )));
        }
        let sink = InsertSink::new(
            self.resource.clone(),
            self.runtime.clone(),
            self.schema.clone(),
        )?;
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(sink), None)))
    }

    /// `DELETE FROM` reaches here only without jobsql's DELETE rule (see
    /// [`crate::provider::delete::rule`]), from filters that may not be the whole WHERE: refused.
    async fn delete_from(
        &self,
        _state: &dyn Session,
        _filters: Vec<Expr>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Err(DataFusionError::Plan(format!(
            "DELETE FROM {}: register the tables with jobsql_core::plugin::register, which installs \
             the rule that makes a DELETE act on exactly the rows its WHERE selects",
            self.resource.qualified_name()
        )))
    }
}

impl ApiTable {
    /// The API scan of the read columns at `projection`, with `filters` pushed into its
    /// requests or evaluated over it.
    fn scan_read(
        &self,
        state: &dyn Session,
        projection: Vec<usize>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let refs: Vec<&Expr> = filters.iter().collect();
        let translation = translate(&self.resource, &refs)?;
        let table_schema = DFSchema::try_from(self.read_schema.as_ref().clone())?;
        let mut residual: Vec<Expr> = Vec::new();
        for (filter, answer) in filters.iter().zip(&translation.answers) {
            match answer {
                Answer::Pushed => {}
                Answer::Kept | Answer::Sent => residual.push(unnormalize_col(filter.clone())),
                Answer::Derived(predicate) => {
                    residual.push(derived_expr(state, &table_schema, predicate)?)
                }
            }
        }
        let Some(predicate) = conjunction(residual) else {
            return Ok(Arc::new(ApiExec::new(
                self.resource.clone(),
                self.runtime.clone(),
                &self.read_schema,
                translation,
                projection,
                limit,
            )?));
        };
        // Read the columns the residual filter needs too, filter, then project them away.
        let mut columns = projection.clone();
        for column in predicate.column_refs() {
            let i = self.read_schema.index_of(&column.name)?;
            if !columns.contains(&i) {
                columns.push(i);
            }
        }
        let scan = Arc::new(ApiExec::new(
            self.resource.clone(),
            self.runtime.clone(),
            &self.read_schema,
            translation,
            columns,
            None,
        )?);
        let df_schema = DFSchema::try_from(scan.schema().as_ref().clone())?;
        let predicate = state.create_physical_expr(predicate, &df_schema)?;
        let filter = FilterExecBuilder::new(predicate, scan)
            .apply_projection(Some((0..projection.len()).collect()))?
            .with_fetch(limit)
            .build()?;
        Ok(Arc::new(filter))
    }
}
