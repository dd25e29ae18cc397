//! One history table read back: a Delta table's active files, as the Delta log lists them at
//! the version loaded, scanned by jobsql's own DataFusion (its Parquet reader, no delta-rs
//! DataFusion integration).
//!
//! - The table is loaded each time a statement names it (`HistorySchema::table`), so a session
//!   that outlives a sync (`serve`, the shell) reads the newest version.
//! - Its columns are the data files' columns followed by the partition columns (`start_date`),
//!   with the Delta log's types (timestamps in microseconds, UTC).
//! - Pruning is DataFusion's: filters on partition columns drop whole files before the scan
//!   (evaluated on each file's partition values, [`super::prune`]), and every filter is handed
//!   to the Parquet reader for row-group pruning by the files' statistics. All filters stay
//!   inexact: DataFusion applies them again to the rows.
//! - What jobsql's reader does not apply is refused by name rather than read wrong: deletion
//!   vectors and column mapping (features other writers, e.g. Spark, may turn on).

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{FieldRef, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::expr_rewriter::unnormalize_col;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::ExecutionPlan;
use deltalake_core::kernel::engine::arrow_conversion::TryIntoArrow;
use futures::TryStreamExt;
use url::Url;

use super::exec::HistoryExec;
use super::HistoryError;

/// A data file of the table at the loaded version.
#[derive(Debug, Clone)]
pub struct DeltaFile {
    /// Where it is on the local filesystem.
    pub path: PathBuf,
    /// Its size in bytes, as the log records it.
    pub size: u64,
    /// Its partition values, in the order of the table's partition columns.
    pub partition_values: Vec<ScalarValue>,
}

/// A Delta table of the history, as a DataFusion table.
#[derive(Debug)]
pub struct HistoryTable {
    name: String,
    version: u64,
    schema: SchemaRef,
    file_schema: SchemaRef,
    partition_fields: Vec<FieldRef>,
    files: Vec<DeltaFile>,
}

impl HistoryTable {
    /// The newest version of the Delta table at `url` (a local directory), `name` being how
    /// errors call it.
    pub async fn load(name: &str, url: &Url) -> Result<Self, HistoryError> {
        let bad = |why: String| HistoryError::Table {
            table: name.to_string(),
            why,
        };
        let dir = url
            .to_file_path()
            .map_err(|_| bad(format!("{url} is not a local directory")))?;
        let table = deltalake_core::open_table(url.clone())
            .await
            .map_err(|e| bad(e.to_string()))?;
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
        // The table's partition columns in their declared order (the order of the values).
        let mut partition_fields_ordered = Vec::with_capacity(partition_columns.len());
        for column in &partition_columns {
            let field = partition_fields
                .iter()
                .find(|f| f.name() == column)
                .ok_or_else(|| bad(format!("partition column {column} is not in its schema")))?;
            partition_fields_ordered.push(field.clone());
        }
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
            let mut partition_values = Vec::with_capacity(partition_fields_ordered.len());
            for field in &partition_fields_ordered {
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
                    None => {
                        ScalarValue::try_from(field.data_type()).map_err(|e| bad(e.to_string()))?
                    }
                };
                partition_values.push(value);
            }
            files.push(DeltaFile {
                path: file_path(&dir, &view.path()),
                size: u64::try_from(view.size()).unwrap_or(0),
                partition_values,
            });
        }
        let file_schema = Arc::new(Schema::new(file_fields));
        let mut all = file_schema.fields().to_vec();
        all.extend(partition_fields_ordered.iter().cloned());
        Ok(HistoryTable {
            name: name.to_string(),
            version: table.version().unwrap_or(0),
            schema: Arc::new(Schema::new(all)),
            file_schema,
            partition_fields: partition_fields_ordered,
            files,
        })
    }

    /// The Delta version loaded.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The data files of that version.
    pub fn files(&self) -> &[DeltaFile] {
        &self.files
    }
}

/// A file's path from the log: relative to the table's directory, or an absolute `file://` URL.
fn file_path(dir: &std::path::Path, logged: &str) -> PathBuf {
    match Url::parse(logged) {
        Ok(url) if url.scheme() == "file" => {
            url.to_file_path().unwrap_or_else(|_| dir.join(logged))
        }
        _ => dir.join(logged),
    }
}

#[async_trait]
impl TableProvider for HistoryTable {
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
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let filters: Vec<Expr> = filters.iter().cloned().map(unnormalize_col).collect();
        let kept = super::prune::files(&self.files, &self.partition_fields, &filters, state)?;
        if kept.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        let table_schema = TableSchema::builder(self.file_schema.clone())
            .with_table_partition_cols(self.partition_fields.clone())
            .build();
        let mut source = ParquetSource::new(table_schema);
        if let Some(predicate) = conjunction(filters) {
            let df_schema = DFSchema::try_from(self.schema.as_ref().clone())?;
            let predicate = state.create_physical_expr(predicate, &df_schema)?;
            source = source.with_predicate(predicate);
        }
        let groups = file_groups(&kept, state.config().target_partitions());
        let config =
            FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
                .with_file_groups(groups)
                .with_projection_indices(projection.cloned())?
                .with_limit(limit)
                .build();
        Ok(Arc::new(HistoryExec::new(
            &self.name,
            DataSourceExec::from_data_source(config),
        )))
    }
}

/// `files` dealt round-robin into at most `partitions` groups, each read by one partition.
fn file_groups(files: &[&DeltaFile], partitions: usize) -> Vec<FileGroup> {
    let n = partitions.clamp(1, files.len().max(1));
    let mut groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); n];
    for (i, file) in files.iter().enumerate() {
        let location = file.path.to_string_lossy().into_owned();
        groups[i % n].push(
            PartitionedFile::new(location, file.size)
                .with_partition_values(file.partition_values.clone()),
        );
    }
    groups.into_iter().map(FileGroup::new).collect()
}

impl From<HistoryError> for DataFusionError {
    fn from(e: HistoryError) -> Self {
        DataFusionError::External(Box::new(e))
    }
}
