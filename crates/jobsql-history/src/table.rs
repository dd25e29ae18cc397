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
//! - The files are those [`super::log::list`] gives (the lister `jobsql sync` uses too), read
//!   through the object store delta-rs built for the table ([`super::exec`]): local or cloud.
//! - What jobsql's reader does not apply is refused by name rather than read wrong: deletion
//!   vectors and column mapping (features other writers, e.g. Spark, may turn on).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::DFSchema;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::expr_rewriter::unnormalize_col;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::ExecutionPlan;
use url::Url;

use super::exec::HistoryExec;
pub use super::log::{DeltaFile, Listing};
use super::HistoryError;

/// A Delta table of the history, as a DataFusion table.
#[derive(Debug, Clone)]
pub struct HistoryTable {
    name: String,
    schema: SchemaRef,
    listing: Listing,
}

impl HistoryTable {
    /// The newest version of the Delta table at `url` (any location delta-rs has a store for),
    /// `name` being how errors call it.
    pub async fn load(name: &str, url: &Url) -> Result<Self, HistoryError> {
        let table = super::log::open(name, url).await?;
        Ok(Self::new(name, super::log::list(name, &table).await?))
    }

    /// The table `listing` shows.
    pub fn new(name: &str, listing: Listing) -> Self {
        let mut all = listing.file_schema.fields().to_vec();
        all.extend(listing.partition_fields.iter().cloned());
        HistoryTable {
            name: name.to_string(),
            schema: Arc::new(Schema::new(all)),
            listing,
        }
    }

    /// The same table (version, schema, store) with only `files` (e.g. one partition's).
    pub fn with_files(&self, files: Vec<DeltaFile>) -> Self {
        let l = &self.listing;
        Self::new(
            &self.name,
            Listing {
                version: l.version,
                file_schema: l.file_schema.clone(),
                partition_fields: l.partition_fields.clone(),
                files,
                store: l.store.clone(),
                store_url: l.store_url.clone(),
            },
        )
    }

    /// The Delta version loaded.
    pub fn version(&self) -> u64 {
        self.listing.version
    }

    /// The data files of that version.
    pub fn files(&self) -> &[DeltaFile] {
        &self.listing.files
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
        let listing = &self.listing;
        let kept = super::prune::files(&listing.files, &listing.partition_fields, &filters, state)?;
        if kept.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        let table_schema = TableSchema::builder(listing.file_schema.clone())
            .with_table_partition_cols(listing.partition_fields.clone())
            .build();
        let mut source = ParquetSource::new(table_schema);
        if let Some(predicate) = conjunction(filters) {
            let df_schema = DFSchema::try_from(self.schema.as_ref().clone())?;
            let predicate = state.create_physical_expr(predicate, &df_schema)?;
            source = source.with_predicate(predicate);
        }
        let groups = file_groups(&kept, state.config().target_partitions());
        let config = FileScanConfigBuilder::new(listing.store_url.clone(), Arc::new(source))
            .with_file_groups(groups)
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        Ok(Arc::new(HistoryExec::new(
            &self.name,
            DataSourceExec::from_data_source(config),
            &listing.store_url,
            listing.store.clone(),
        )))
    }
}

/// `files` dealt round-robin into at most `partitions` groups, each read by one partition.
fn file_groups(files: &[&DeltaFile], partitions: usize) -> Vec<FileGroup> {
    let n = partitions.clamp(1, files.len().max(1));
    let mut groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); n];
    for (i, file) in files.iter().enumerate() {
        groups[i % n].push(
            PartitionedFile::new(file.location.to_string(), file.size)
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
