//! Short table names: `job_runs` and `jobs.job_runs` for `databricks_workspace.jobs.job_runs`,
//! when only one loaded resource has that name (or only one catalog that schema), among the
//! providers whose profile allows short names (LakeSail's, whose names repeat Databricks',
//! does not: its tables answer to their full names).
//!
//! The session's default catalog (`datafusion`) is wrapped by [`ShortNames`]: a schema it does
//! not have (`jobs`) is the one API schema of that name, and its default schema (`public`) is
//! wrapped by [`ShortTables`]: a table it does not have (`job_runs`) is the one API table of
//! that name. The session's own tables and schemas come first (a `CREATE TABLE job_runs` of
//! yours is what `job_runs` then means), and the short names are not listed: `SHOW TABLES`,
//! `information_schema` and psql's catalog show each API table once, by its full name. A name
//! two resources share (`task_runs` in two services) stays unresolved, and the error's hint
//! names the full names.
//!
//! A resource's history table (`job_runs_history`, when the history is on) has a short name
//! the same way.
//!
//! A schema may also be named as one identifier holding its catalog, `"databricks_workspace.jobs"`
//! (`"databricks_workspace.jobs".job_runs`), as tools that quote each part of a name write what
//! `pg_namespace` lists as `catalog.schema`: every API schema answers to that name too.
//!
//! The wrappers hold the API schemas themselves (not the session's catalog list, which holds
//! them: no cycle), taken once the tables are registered.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::spec::SpecSet;

/// The API table each short name stands for: its schema and its name there.
type Targets = BTreeMap<String, (Arc<dyn SchemaProvider>, String)>;

/// The default catalog, with the API schemas of a unique name besides its own.
#[derive(Debug)]
pub struct ShortNames {
    inner: Arc<dyn CatalogProvider>,
    default_schema: String,
    schemas: BTreeMap<String, Arc<dyn SchemaProvider>>,
    /// Every API schema by its dotted full name (`databricks_workspace.jobs`).
    dotted: BTreeMap<String, Arc<dyn SchemaProvider>>,
    tables: Arc<Targets>,
}

/// The default schema, with the API tables of a unique name besides its own.
#[derive(Debug)]
pub struct ShortTables {
    inner: Arc<dyn SchemaProvider>,
    tables: Arc<Targets>,
}

/// Let `ctx` resolve the unambiguous short names of `specs`' tables (after they are
/// registered in it).
pub fn add_short_names(ctx: &SessionContext, specs: &SpecSet) {
    let options = ctx.state().config_options().catalog.clone();
    let Some(inner) = ctx.catalog(&options.default_catalog) else {
        return;
    };
    let schema_of = |catalog: &str, schema: &str| ctx.catalog(catalog)?.schema(schema);
    let mut schemas: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut tables: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let dotted = specs
        .resources
        .iter()
        .filter_map(|r| {
            let schema = schema_of(&r.provider, &r.service)?;
            Some((format!("{}.{}", r.provider, r.service), schema))
        })
        .collect();
    for r in specs.resources.iter().filter(|r| r.profile.short_names) {
        let at = (r.provider.clone(), r.service.clone());
        let entry = schemas.entry(r.service.clone()).or_default();
        if !entry.contains(&at) {
            entry.push(at.clone());
        }
        // Its history (`job_runs_history`), answered by the schema when a sync wrote it.
        tables
            .entry(format!("{}_history", r.name))
            .or_default()
            .push(at.clone());
        tables.entry(r.name.clone()).or_default().push(at);
    }
    let unique_schemas = schemas
        .into_iter()
        .filter_map(|(name, at)| match &at[..] {
            [(catalog, schema)] => Some((name, schema_of(catalog, schema)?)),
            _ => None,
        })
        .collect();
    let unique_tables = tables
        .into_iter()
        .filter_map(|(name, at)| match &at[..] {
            [(catalog, schema)] => Some((name.clone(), (schema_of(catalog, schema)?, name))),
            _ => None,
        })
        .collect();
    let wrapped = ShortNames {
        inner,
        default_schema: options.default_schema,
        schemas: unique_schemas,
        dotted,
        tables: Arc::new(unique_tables),
    };
    ctx.register_catalog(options.default_catalog, Arc::new(wrapped));
}

impl CatalogProvider for ShortNames {
    fn schema_names(&self) -> Vec<String> {
        self.inner.schema_names()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        match self.inner.schema(name) {
            Some(own) if name == self.default_schema => Some(Arc::new(ShortTables {
                inner: own,
                tables: self.tables.clone(),
            })),
            Some(own) => Some(own),
            None => self
                .schemas
                .get(name)
                .or_else(|| self.dotted.get(name))
                .cloned(),
        }
    }

    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> Result<Option<Arc<dyn SchemaProvider>>> {
        self.inner.register_schema(name, schema)
    }

    fn deregister_schema(
        &self,
        name: &str,
        cascade: bool,
    ) -> Result<Option<Arc<dyn SchemaProvider>>> {
        self.inner.deregister_schema(name, cascade)
    }
}

#[async_trait]
impl SchemaProvider for ShortTables {
    fn owner_name(&self) -> Option<&str> {
        self.inner.owner_name()
    }

    fn table_names(&self) -> Vec<String> {
        self.inner.table_names()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if let Some(own) = self.inner.table(name).await? {
            return Ok(Some(own));
        }
        match self.tables.get(name) {
            Some((schema, table)) => schema.table(table).await,
            None => Ok(None),
        }
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        self.inner.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        self.inner.deregister_table(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.inner.table_exist(name)
    }
}
