//! The history tables in the session: each API schema that has resources (`jobs` of
//! `databricks_workspace`) also answers for a [`HistorySchema`], in which `<resource>_history`
//! names the Delta table at `<root>/<provider>/<service>/<resource>` beside the live
//! `<resource>` (the API schema stays guarded: the history tables cannot be dropped or
//! replaced through it either).
//!
//! - Listed (`SHOW TABLES`, `information_schema`, psql's catalog) when its Delta log exists,
//!   looked up at each listing, so a table a sync writes after the session began appears.
//! - Loaded when a statement names it: each statement reads the newest version.
//! - Named but not synced yet: an error that says where it was looked for and what writes it.
//!
//! The API schema's own tables (the live ones, and any a user created) come first.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::common::plan_err;
use datafusion::error::Result;
use url::Url;

use super::{HistoryRoot, HistoryTable};
use jobsql_core::provider::guarded::GuardedSchema;
use jobsql_core::spec::SpecSet;

/// The suffix that names a resource's history table.
pub const SUFFIX: &str = "_history";

/// The history tables of one API schema's resources.
#[derive(Debug)]
pub struct HistorySchema {
    /// `provider.service`, for messages.
    qualifier: String,
    /// Resource name → its history table's location.
    tables: BTreeMap<String, Url>,
}

impl HistorySchema {
    fn location(&self, name: &str) -> Option<(&str, &Url)> {
        let resource = name.strip_suffix(SUFFIX)?;
        self.tables
            .get_key_value(resource)
            .map(|(r, url)| (r.as_str(), url))
    }
}

/// Whether a Delta table is at `url` (its `_delta_log/` exists).
fn exists(url: &Url) -> bool {
    // A cloud table is not looked up here (no request while planning names): reading a
    // missing one fails with delta-rs' error naming the location.
    url.to_file_path()
        .map(|dir: PathBuf| dir.join("_delta_log").is_dir())
        .unwrap_or(true)
}

#[async_trait]
impl SchemaProvider for HistorySchema {
    fn table_names(&self) -> Vec<String> {
        self.tables
            .iter()
            .filter(|(_, url)| exists(url))
            .map(|(resource, _)| format!("{resource}{SUFFIX}"))
            .collect()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let Some((resource, url)) = self.location(name) else {
            return Ok(None);
        };
        let full = format!("{}.{name}", self.qualifier);
        if !exists(url) {
            let at = url
                .to_file_path()
                .map_or(url.to_string(), |p| p.display().to_string());
            return plan_err!(
                "{full}: no history at {at} yet (`jobsql sync --table {}.{resource}` writes it)",
                self.qualifier
            );
        }
        Ok(Some(Arc::new(HistoryTable::load(&full, url).await?)))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.location(name).is_some_and(|(_, url)| exists(url))
    }
}

/// Let the API schemas of `specs` (`schemas`, as [`jobsql_core::provider::register`] made them)
/// answer for each resource's history under `root` as a table beside it.
pub fn register(
    schemas: &BTreeMap<(String, String), Arc<GuardedSchema>>,
    specs: &SpecSet,
    root: &HistoryRoot,
) {
    let mut by_schema: BTreeMap<(String, String), BTreeMap<String, Url>> = BTreeMap::new();
    for r in &specs.resources {
        by_schema
            .entry((r.provider.clone(), r.service.clone()))
            .or_default()
            .insert(
                r.name.clone(),
                root.table_url(&r.provider, &r.service, &r.name),
            );
    }
    for (at, tables) in by_schema {
        let Some(guarded) = schemas.get(&at) else {
            continue; // a schema registered before: it keeps the history it has
        };
        guarded.also_answer_for(Arc::new(HistorySchema {
            qualifier: format!("{}.{}", at.0, at.1),
            tables,
        }));
    }
}
