//! The Delta side of a sync: the table opened, or created with the history schema and
//! partitioned by `start_date`; its active files by partition; and the one commit of a sync
//! (Add and Remove actions together, through `deltalake-core`'s `CommitBuilder`).
//!
//! Files written but not committed (a sync killed midway) are in no commit, so every reader
//! ignores them; the next sync starts again from the last commit.

use std::collections::{BTreeMap, HashMap};

use datafusion::arrow::datatypes::SchemaRef;
use deltalake_core::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake_core::kernel::transaction::{CommitBuilder, TableReference};
use deltalake_core::kernel::{Action, Remove, StructType};
use deltalake_core::operations::create::CreateBuilder;
use deltalake_core::protocol::{DeltaOperation, SaveMode};
use deltalake_core::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use futures::TryStreamExt;
use url::Url;

use crate::history::PARTITION_COLUMN;

/// The active files of one partition (a UTC date, as days since 1970; `None` for rows without a
/// start), as URIs to read and the Remove actions that retire them.
#[derive(Debug, Default)]
pub struct PartitionFiles {
    /// The files' URIs.
    pub uris: Vec<String>,
    /// One Remove action per file.
    pub removes: Vec<Remove>,
}

/// Open the table at `url`, or create it with `schema` partitioned by `start_date`. An existing
/// table must have the same column names.
pub async fn open_or_create(url: &Url, schema: &SchemaRef) -> Result<DeltaTable, DeltaTableError> {
    let mut table = DeltaTableBuilder::from_url(url.clone())?.build()?;
    if table.verify_deltatable_existence().await? {
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
        return Ok(table);
    }
    let kernel: StructType = schema.as_ref().try_into_kernel()?;
    CreateBuilder::new()
        .with_location(url.as_str())
        .with_columns(kernel.fields().cloned())
        .with_partition_columns([PARTITION_COLUMN])
        .with_save_mode(SaveMode::ErrorIfExists)
        .with_comment("jobsql sync: runs kept beyond the API's retention")
        .await
}

/// The table's active files, by partition.
pub async fn files_by_partition(
    table: &DeltaTable,
) -> Result<BTreeMap<Option<i32>, PartitionFiles>, DeltaTableError> {
    let views: Vec<_> = table
        .get_active_add_actions_by_partitions(&[])
        .try_collect()
        .await?;
    let log_store = table.log_store();
    let mut out: BTreeMap<Option<i32>, PartitionFiles> = BTreeMap::new();
    for view in views {
        let day = view
            .partition_values_map()
            .get(PARTITION_COLUMN)
            .cloned()
            .flatten()
            .and_then(|date| parse_day(&date));
        let files = out.entry(day).or_default();
        files.uris.push(log_store.to_uri(&view.object_store_path()));
        files.removes.push(view.remove_action(true));
    }
    Ok(out)
}

/// `2026-11-30` as days since 1970-01-01.
fn parse_day(date: &str) -> Option<i32> {
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((day - epoch).num_days()).ok()
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

#[cfg(test)]
mod tests {
    #[test]
    fn partition_dates_are_days_since_1970() {
        assert_eq!(super::parse_day("1970-01-02"), Some(1));
        assert_eq!(super::parse_day("2026-12-01"), Some(20_788));
        assert_eq!(super::parse_day("soon"), None);
    }
}
