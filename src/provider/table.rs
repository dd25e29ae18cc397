//! `ApiTable`: the `TableProvider` of one spec resource.
//!
//! It answers the schema (from the spec) and the pushdown question (through
//! [`super::pushdown::translate`]), and `scan` builds an [`ApiExec`] with the planned requests.
//! No I/O happens here: DataFusion also calls `scan` to plan EXPLAIN and DML.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use crate::spec::Resource;

use super::exec::ApiExec;
use super::pushdown::translate;
use super::ApiRuntime;

/// A spec resource as a table.
#[derive(Debug)]
pub struct ApiTable {
    resource: Arc<Resource>,
    runtime: Arc<ApiRuntime>,
    schema: SchemaRef,
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
                    metadata.insert("description".to_string(), c.description.clone());
                }
                Field::new(&c.name, c.ty.to_arrow(), true).with_metadata(metadata)
            })
            .collect();
        Self {
            resource,
            runtime,
            schema: Arc::new(Schema::new(fields)),
        }
    }

    /// The spec resource.
    pub fn resource(&self) -> &Arc<Resource> {
        &self.resource
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

    fn get_column_default(&self, _column: &str) -> Option<&Expr> {
        None
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(translate(&self.resource, filters)?.decisions)
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let refs: Vec<&Expr> = filters.iter().collect();
        let translation = translate(&self.resource, &refs)?;
        let projection: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        // Only what DataFusion could not filter itself would make `limit` wrong; it passes
        // `limit` only when every filter was Exact.
        Ok(Arc::new(ApiExec::new(
            self.resource.clone(),
            self.runtime.clone(),
            &self.schema,
            translation,
            projection,
            limit,
        )?))
    }
}
