//! The catalogs and schemas that hold the API tables, guarded against DDL.
//!
//! An API table stands for a workspace's data: `DROP TABLE`, `CREATE OR REPLACE TABLE`/`VIEW`
//! over its name, or `DROP SCHEMA ... CASCADE` of its schema would silently take it out of the
//! session (and, for a replace, put a local table under the API's name). [`GuardedSchema`] and
//! [`GuardedCatalog`] wrap DataFusion's in-memory providers and refuse those changes with an
//! error naming the table, in every session the tables are registered in. Other tables (a
//! `CREATE TABLE t AS ...` beside them) are untouched.

use std::any::Any;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use datafusion::catalog::{
    CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider, SchemaProvider,
};
use datafusion::datasource::TableProvider;
use datafusion::error::{DataFusionError, Result};

use super::{ApiTable, ProviderError};

/// Whether `table` is one of jobsql's API tables.
fn is_api_table(table: &Arc<dyn TableProvider>) -> bool {
    let any: &dyn Any = table.as_ref();
    any.is::<ApiTable>()
}

fn refused(name: &str) -> DataFusionError {
    ProviderError::ApiTableDdl {
        name: name.to_string(),
        action: "dropped",
    }
    .into()
}

/// A schema whose API tables cannot be dropped or replaced.
///
/// It may also answer for the tables of one more, read-only schema set once (the run
/// history's `<resource>_history` tables): looked up after its own, never dropped or replaced
/// through it.
#[derive(Debug)]
pub struct GuardedSchema {
    name: String,
    inner: MemorySchemaProvider,
    also: OnceLock<Arc<dyn SchemaProvider>>,
}

impl GuardedSchema {
    /// An empty schema; `name` is `catalog.schema`, for messages.
    pub fn new(name: String) -> Self {
        Self {
            name,
            inner: MemorySchemaProvider::new(),
            also: OnceLock::new(),
        }
    }

    /// Answer for `also`'s tables too, after this schema's own; `false` if one is set already.
    pub fn also_answer_for(&self, also: Arc<dyn SchemaProvider>) -> bool {
        self.also.set(also).is_ok()
    }

    fn api_table(&self, name: &str) -> bool {
        futures::executor::block_on(self.inner.table(name))
            .ok()
            .flatten()
            .is_some_and(|t| is_api_table(&t))
    }

    fn has_api_tables(&self) -> bool {
        self.inner.table_names().iter().any(|t| self.api_table(t))
    }
}

#[async_trait]
impl SchemaProvider for GuardedSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        if let Some(also) = self.also.get() {
            for name in also.table_names() {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        match (self.inner.table(name).await?, self.also.get()) {
            (Some(own), _) => Ok(Some(own)),
            (None, Some(also)) => also.table(name).await,
            (None, None) => Ok(None),
        }
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        if self.api_table(&name) {
            return Err(ProviderError::ApiTableExists(format!("{}.{name}", self.name)).into());
        }
        self.inner.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if self.api_table(name) {
            return Err(refused(&format!("{}.{name}", self.name)));
        }
        self.inner.deregister_table(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.inner.table_exist(name) || self.also.get().is_some_and(|a| a.table_exist(name))
    }
}

/// A catalog whose schemas holding API tables cannot be dropped or replaced.
#[derive(Debug)]
pub struct GuardedCatalog {
    inner: MemoryCatalogProvider,
}

impl GuardedCatalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self {
            inner: MemoryCatalogProvider::new(),
        }
    }

    fn guarded(&self, name: &str) -> bool {
        self.inner.schema(name).is_some_and(|s| {
            let any: &dyn Any = s.as_ref();
            any.downcast_ref::<GuardedSchema>()
                .is_some_and(GuardedSchema::has_api_tables)
        })
    }
}

impl Default for GuardedCatalog {
    fn default() -> Self {
        Self::new()
    }
}

impl CatalogProvider for GuardedCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.inner.schema_names()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        self.inner.schema(name)
    }

    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> Result<Option<Arc<dyn SchemaProvider>>> {
        if self.guarded(name) {
            return Err(DataFusionError::Plan(format!(
                "schema {name} holds API tables: it cannot be replaced"
            )));
        }
        self.inner.register_schema(name, schema)
    }

    fn deregister_schema(
        &self,
        name: &str,
        cascade: bool,
    ) -> Result<Option<Arc<dyn SchemaProvider>>> {
        if self.guarded(name) {
            return Err(DataFusionError::Plan(format!(
                "schema {name} holds API tables: it cannot be dropped"
            )));
        }
        self.inner.deregister_schema(name, cascade)
    }
}
