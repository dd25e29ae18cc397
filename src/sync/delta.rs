//! The Delta side of a sync: the table opened, or created with the history schema and
//! partitioned by `start_date`; its active files by partition (from the history's one lister,
//! the files the reader shows); and the one commit of a sync
//! (Add and Remove actions together, through `deltalake-core`'s `CommitBuilder`), which
//! [`is_conflict`] tells apart when another writer committed first.
//!
//! Files written but not committed (a sync killed midway) are in no commit, so every reader
//! ignores them; the next sync starts again from the last commit.

use std::collections::{BTreeMap, HashMap};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use deltalake_core::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake_core::kernel::transaction::{
    CommitBuilder, CommitProperties, TableReference, TransactionError,
};
use deltalake_core::kernel::{Action, StructType};
use deltalake_core::operations::create::CreateBuilder;
use deltalake_core::protocol::{DeltaOperation, SaveMode};
use deltalake_core::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use url::Url;

use crate::history::table::DeltaFile;
use crate::history::{HistoryTable, PARTITION_COLUMN};

/// Open the table at `url`, or create it with `schema` partitioned by `start_date`. An existing
/// table must have the same column names. When another sync creates it first (its version 0
/// wins), that table is opened instead.
pub async fn open_or_create(url: &Url, schema: &SchemaRef) -> Result<DeltaTable, DeltaTableError> {
    crate::history::stores::register();
    if let Some(table) = open_existing(url, schema).await? {
        return Ok(table);
    }
    let kernel: StructType = schema.as_ref().try_into_kernel()?;
    let created = CreateBuilder::new()
        .with_location(url.as_str())
        .with_columns(kernel.fields().cloned())
        .with_partition_columns([PARTITION_COLUMN])
        .with_save_mode(SaveMode::ErrorIfExists)
        .with_comment("jobsql sync: runs kept beyond the API's retention")
        // Lost the race for version 0: no second CREATE on top of the winner's.
        .with_commit_properties(CommitProperties::default().with_max_retries(0))
        .await;
    match created {
        Ok(table) => Ok(table),
        Err(e) => match open_existing(url, schema).await? {
            Some(table) => Ok(table),
            None => Err(e),
        },
    }
}

/// The table at `url`, loaded, if there is one; an error if its columns are not `schema`'s.
async fn open_existing(
    url: &Url,
    schema: &SchemaRef,
) -> Result<Option<DeltaTable>, DeltaTableError> {
    let mut table = DeltaTableBuilder::from_url(url.clone())?.build()?;
    if !table.verify_deltatable_existence().await? {
        return Ok(None);
    }
    table.load().await?;
    let have: Vec<String> = table
        .snapshot()?
        .schema()
        .fields()
        .map(|f| f.name().clone())
        .collect();
    let want: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    if have != want {
        return Err(DeltaTableError::Generic(format!(
            "it has the columns [{}], not [{}] as the spec now says: sync into a new location (--to)",
            have.join(", "),
            want.join(", ")
        )));
    }
    Ok(Some(table))
}

/// Whether `e` says another writer committed first: a version taken, or a conflict with what
/// it committed (the sync can run again over it).
pub fn is_conflict(e: &DeltaTableError) -> bool {
    matches!(
        e,
        DeltaTableError::VersionAlreadyExists(_)
            | DeltaTableError::Transaction {
                source: TransactionError::CommitConflict(_)
                    | TransactionError::MaxCommitAttempts(_)
                    | TransactionError::VersionAlreadyExists(_)
            }
    )
}

/// The table's files by partition (a UTC date, as days since 1970; `None` for rows without a
/// start), each partition as the table restricted to its files: to read, and to retire (each
/// file's Remove action), when a merge rewrites it. The files are those
/// [`crate::history::log::list`] gives (the lister the reader uses).
pub fn files_by_partition(table: &HistoryTable) -> BTreeMap<Option<i32>, HistoryTable> {
    let mut days: BTreeMap<Option<i32>, Vec<DeltaFile>> = BTreeMap::new();
    for file in table.files() {
        days.entry(day_of(file)).or_default().push(file.clone());
    }
    days.into_iter()
        .map(|(day, files)| (day, table.with_files(files)))
        .collect()
}

/// The `start_date` of a file (the table's one partition column), as days since 1970.
fn day_of(file: &DeltaFile) -> Option<i32> {
    match file.partition_values.first() {
        Some(ScalarValue::Date32(day)) => *day,
        _ => None,
    }
}

/// Commit `actions` (the new files' Adds, the rewritten files' Removes) as one version, with
/// what the sync did in the commit's metadata. Returns the new version.
pub async fn commit(
    table: &DeltaTable,
    actions: Vec<Action>,
    merge_key: &[String],
    metadata: HashMap<String, serde_json::Value>,
) -> Result<i64, DeltaTableError> {
    let operation = DeltaOperation::Merge {
        predicate: None,
        merge_predicate: Some(format!("key ({})", merge_key.join(", "))),
        matched_predicates: vec![],
        not_matched_predicates: vec![],
        not_matched_by_source_predicates: vec![],
    };
    let finalized = CommitBuilder::default()
        .with_actions(actions)
        .with_app_metadata(metadata)
        .build(
            Some(table.snapshot()? as &dyn TableReference),
            table.log_store(),
            operation,
        )
        .await?;
    Ok(finalized.version() as i64)
}
