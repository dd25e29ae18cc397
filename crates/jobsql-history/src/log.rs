//! The one lister of a Delta table's active files, for the reader ([`super::HistoryTable`])
//! and for `jobsql sync` alike, so the sync reads exactly what the table shows.
//!
//! [`list`] takes a table delta-rs opened (any URL it has a store for: local, and the cloud
//! schemes of [`super::stores`]) and gives its version, its schema split into the data files'
//! columns and the partition columns, and each active file: its path in the table's root
//! object store, its size, its typed partition values and the Remove action that retires it.
//! What jobsql's reader does not apply is refused by name rather than read wrong: deletion
//! vectors and column mapping (features other writers, e.g. Spark, may turn on).

use std::sync::Arc;

use datafusion::arrow::datatypes::{FieldRef, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::execution::object_store::ObjectStoreUrl;
use deltalake_core::kernel::engine::arrow_conversion::TryIntoArrow;
use deltalake_core::kernel::Remove;
use deltalake_core::logstore::object_store::path::Path;
use deltalake_core::logstore::object_store::ObjectStore;
use deltalake_core::DeltaTable;
use futures::TryStreamExt;
use url::Url;

use super::HistoryError;

/// A data file of the table at the loaded version.
#[derive(Debug, Clone)]
pub struct DeltaFile {
    /// Where it is in the table's root object store ([`Listing::store`]).
    pub location: Path,
    /// Its size in bytes, as the log records it.
    pub size: u64,
    /// Its partition values, in the order of the table's partition columns.
    pub partition_values: Vec<ScalarValue>,
    /// The action that retires it (a rewrite's commit).
    pub remove: Remove,
}

/// A Delta table's version, schema and active files, and the store they are read through.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The Delta version listed.
    pub version: u64,
    /// The data files' columns.
    pub file_schema: SchemaRef,
    /// The partition columns, in their declared order (the order of the values).
    pub partition_fields: Vec<FieldRef>,
    /// The active files.
    pub files: Vec<DeltaFile>,
    /// The root object store delta-rs built for the table (scheme and bucket/authority).
    pub store: Arc<dyn ObjectStore>,
    /// The store's URL: `file://` for local tables, else `scheme://authority`.
    pub store_url: ObjectStoreUrl,
}

/// Open the newest version of the Delta table at `url`, `name` being how errors call it.
pub async fn open(name: &str, url: &Url) -> Result<DeltaTable, HistoryError> {
    super::stores::register();
    deltalake_core::open_table(url.clone()).await.map_err(|e| {
        let why = super::stores::condensed(&e.to_string());
        table_error(name, jobsql_core::redact::outgoing(&why))
    })
}

fn table_error(name: &str, why: String) -> HistoryError {
    HistoryError::Table {
        table: name.to_string(),
        why,
    }
}

/// The version, schema and active files of `table` (loaded), `name` being how errors call it.
pub async fn list(name: &str, table: &DeltaTable) -> Result<Listing, HistoryError> {
    let bad = |why: String| table_error(name, why);
    let state = table.snapshot().map_err(|e| bad(e.to_string()))?;
    let snapshot = state.snapshot();
    let metadata = snapshot.metadata();
    if let Some(mode) = metadata.configuration().get("delta.columnMapping.mode") {
        if mode != "none" {
            return Err(bad(format!(
                "it uses column mapping ({mode}), which jobsql's reader does not apply"
            )));
        }
    }
    let logical: Schema = snapshot
        .schema()
        .as_ref()
        .try_into_arrow()
        .map_err(|e| bad(format!("its schema has no Arrow form: {e}")))?;
    let partition_columns: Vec<String> = metadata.partition_columns().to_vec();
    let (partition_fields, file_fields): (Vec<FieldRef>, Vec<FieldRef>) = logical
        .fields()
        .iter()
        .cloned()
        .partition(|f| partition_columns.contains(f.name()));
    let mut ordered = Vec::with_capacity(partition_columns.len());
    for column in &partition_columns {
        let field = partition_fields
            .iter()
            .find(|f| f.name() == column)
            .ok_or_else(|| bad(format!("partition column {column} is not in its schema")))?;
        ordered.push(field.clone());
    }
    let log_store = table.log_store();
    let root = log_store.root_url().clone();
    let store_url = store_url(&root).map_err(bad)?;
    let table_root = Path::from_url_path(root.path())
        .map_err(|e| bad(format!("its location {root} is not a store path: {e}")))?;
    let mut files = Vec::new();
    let mut views = table.get_active_add_actions_by_partitions(&[]);
    while let Some(view) = views.try_next().await.map_err(|e| bad(e.to_string()))? {
        if view.deletion_vector_descriptor().is_some() {
            return Err(bad(format!(
                "{} has a deletion vector, which jobsql's reader does not apply",
                view.path()
            )));
        }
        let values = view.partition_values_map();
        let mut partition_values = Vec::with_capacity(ordered.len());
        for field in &ordered {
            let value = match values.get(field.name()).cloned().flatten() {
                Some(text) => ScalarValue::try_from_string(text.clone(), field.data_type())
                    .map_err(|_| {
                        bad(format!(
                            "partition value {}={text:?} of {} is not a {}",
                            field.name(),
                            view.path(),
                            field.data_type()
                        ))
                    })?,
                None => ScalarValue::try_from(field.data_type()).map_err(|e| bad(e.to_string()))?,
            };
            partition_values.push(value);
        }
        let location = in_root(&table_root, &view.object_store_path()).ok_or_else(|| {
            bad(format!(
                "{} is not a path of the table's store",
                view.path()
            ))
        })?;
        files.push(DeltaFile {
            location,
            size: u64::try_from(view.size()).unwrap_or(0),
            partition_values,
            remove: view.remove_action(true),
        });
    }
    Ok(Listing {
        version: table.version().unwrap_or(0),
        file_schema: Arc::new(Schema::new(file_fields)),
        partition_fields: ordered,
        files,
        store: log_store.root_object_store(None),
        store_url,
    })
}

/// The object-store URL of a table's root: `file://` for a local one, else
/// `scheme://authority` (the bucket, container, account).
fn store_url(root: &Url) -> Result<ObjectStoreUrl, String> {
    let text = if root.scheme() == "file" {
        "file://".to_string()
    } else {
        root[..url::Position::BeforePath].to_string()
    };
    ObjectStoreUrl::parse(&text).map_err(|e| format!("its location has no store URL: {e}"))
}

/// A file's path relative to the table (as the log has it) as its path in the root store.
fn in_root(table_root: &Path, relative: &Path) -> Option<Path> {
    let joined = if table_root.as_ref().is_empty() {
        relative.as_ref().to_string()
    } else {
        format!("{}/{}", table_root.as_ref(), relative.as_ref())
    };
    Path::parse(joined).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_keep_scheme_and_authority() {
        let url = |s: &str| store_url(&Url::parse(s).unwrap()).unwrap().to_string();
        assert_eq!(url("file:///tmp/h/t/"), "file:///");
        assert_eq!(url("s3://bucket/h/t/"), "s3://bucket/");
        assert_eq!(
            url("abfss://c@acct.dfs.core.windows.net/h/t/"),
            "abfss://c@acct.dfs.core.windows.net/"
        );
        let root = Path::from_url_path("/h/t/").unwrap();
        let file = Path::from("start_date=2026-01-01/p q.parquet");
        assert_eq!(
            in_root(&root, &file).unwrap().as_ref(),
            "h/t/start_date=2026-01-01/p q.parquet"
        );
    }
}
