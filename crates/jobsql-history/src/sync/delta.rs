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
use deltalake_core::kernel::{Action, DataType, StructType};
use deltalake_core::operations::create::CreateBuilder;
use deltalake_core::protocol::{DeltaOperation, SaveMode};
use deltalake_core::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use url::Url;

use crate::table::DeltaFile;
use crate::{HistoryTable, PARTITION_COLUMN};

/// Why an existing table is not the one the spec describes. Names and types read from a
/// table someone else wrote are shown cut to [`SHOWN_CHARS`].
#[derive(Debug, thiserror::Error)]
pub enum Mismatch {
    /// Other column names (or another order).
    #[error("it has the columns [{have}], not [{want}] as the spec says")]
    Columns {
        /// The table's.
        have: String,
        /// The spec's.
        want: String,
    },
    /// A column of another type (nested fields compared by name and type, in order;
    /// nullability aside).
    #[error("its column {column} is {found}, not {expected} as the spec says")]
    Type {
        /// The column.
        column: String,
        /// Its type in the table (Delta's name of it).
        found: String,
        /// The type the spec's column maps to.
        expected: String,
    },
    /// Other partition columns.
    #[error("it is partitioned by [{have}], not [{PARTITION_COLUMN}]")]
    Partitions {
        /// The table's partition columns.
        have: String,
    },
}

/// Opening or creating a history table failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// delta-rs failed (reading the log, creating the table).
    #[error(transparent)]
    Delta(#[from] DeltaTableError),
    /// The table there is not the spec's.
    #[error(transparent)]
    Mismatch(#[from] Mismatch),
}

/// How many characters of a name or type read from a table a message shows.
pub const SHOWN_CHARS: usize = 200;

/// Open the table at `url`, or create it with `schema` partitioned by `start_date`. An existing
/// table must have the same columns (names, in order, and types: [`check`]) and partitioning:
/// a table someone else wrote, or an older spec's, is refused by name before anything reads
/// it. When another sync creates it first (its version 0 wins), that table is opened instead.
pub async fn open_or_create(url: &Url, schema: &SchemaRef) -> Result<DeltaTable, OpenError> {
    crate::stores::register();
    let kernel: StructType = schema
        .as_ref()
        .try_into_kernel()
        .map_err(DeltaTableError::from)?;
    if let Some(table) = open_existing(url, &kernel).await? {
        return Ok(table);
    }
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
        Err(e) => match open_existing(url, &kernel).await? {
            Some(table) => Ok(table),
            None => Err(e.into()),
        },
    }
}

/// The table at `url`, loaded, if there is one; an error if it is not `want`'s ([`check`]).
async fn open_existing(url: &Url, want: &StructType) -> Result<Option<DeltaTable>, OpenError> {
    let mut table = DeltaTableBuilder::from_url(url.clone())?.build()?;
    if !table.verify_deltatable_existence().await? {
        return Ok(None);
    }
    table.load().await?;
    let snapshot = table.snapshot()?.snapshot();
    check(
        &snapshot.schema(),
        snapshot.metadata().partition_columns(),
        want,
    )?;
    Ok(Some(table))
}

/// Whether a table of schema `have` partitioned by `partitions` is the history table of schema
/// `want`: the same column names in the same order, each of the same type (compared in Delta's
/// types, nested fields by name and type; nullability aside), partitioned by `start_date`.
pub fn check(have: &StructType, partitions: &[String], want: &StructType) -> Result<(), Mismatch> {
    let names = |s: &StructType| -> Vec<String> { s.fields().map(|f| f.name().clone()).collect() };
    if names(have) != names(want) {
        return Err(Mismatch::Columns {
            have: shown(&names(have).join(", ")),
            want: names(want).join(", "),
        });
    }
    for (found, expected) in have.fields().zip(want.fields()) {
        if !same_type(found.data_type(), expected.data_type()) {
            return Err(Mismatch::Type {
                column: shown(found.name()),
                found: shown(&found.data_type().to_string()),
                expected: shown(&expected.data_type().to_string()),
            });
        }
    }
    if partitions != [PARTITION_COLUMN] {
        return Err(Mismatch::Partitions {
            have: shown(&partitions.join(", ")),
        });
    }
    Ok(())
}

/// Whether two Delta types are the same, nested fields by name and type (nullability and
/// metadata aside).
fn same_type(a: &DataType, b: &DataType) -> bool {
    match (a, b) {
        (DataType::Primitive(a), DataType::Primitive(b)) => a == b,
        (DataType::Array(a), DataType::Array(b)) => same_type(a.element_type(), b.element_type()),
        (DataType::Map(a), DataType::Map(b)) => {
            same_type(a.key_type(), b.key_type()) && same_type(a.value_type(), b.value_type())
        }
        (DataType::Struct(a), DataType::Struct(b)) => {
            a.fields().count() == b.fields().count()
                && a.fields()
                    .zip(b.fields())
                    .all(|(a, b)| a.name() == b.name() && same_type(a.data_type(), b.data_type()))
        }
        _ => false,
    }
}

/// `text` cut to [`SHOWN_CHARS`] characters (`…` marks a cut).
fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
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
/// [`crate::log::list`] gives (the lister the reader uses).
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{DataType as Arrow, Field, Schema, TimeUnit};

    use super::*;

    fn kernel(fields: Vec<Field>) -> StructType {
        (&Schema::new(fields)).try_into_kernel().unwrap()
    }

    fn history(run_id: Arrow, tasks_item: Arrow) -> StructType {
        let task = Arrow::Struct(vec![Field::new("task_key", tasks_item, true)].into());
        kernel(vec![
            Field::new("run_id", run_id, true),
            Field::new(
                "tasks",
                Arrow::List(Arc::new(Field::new("element", task, true))),
                true,
            ),
            Field::new(
                "start_time",
                Arrow::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new(PARTITION_COLUMN, Arrow::Date32, true),
        ])
    }

    #[test]
    fn a_table_of_other_types_is_refused_naming_the_column_and_both_types() {
        let want = history(Arrow::Int64, Arrow::Utf8);
        let start = [PARTITION_COLUMN.to_string()];
        assert!(check(&want, &start, &want).is_ok());
        let e = check(&history(Arrow::Binary, Arrow::Utf8), &start, &want).unwrap_err();
        assert_eq!(
            e.to_string(),
            "its column run_id is binary, not long as the spec says"
        );
        let e = check(&history(Arrow::Int64, Arrow::Int64), &start, &want).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("its column tasks is array<struct<task_key: long>>"),
            "{e}"
        );
        let e = check(&want, &["run_id".to_string()], &want).unwrap_err();
        assert_eq!(
            e.to_string(),
            "it is partitioned by [run_id], not [start_date]"
        );
        let other = kernel(vec![Field::new("x".repeat(1000), Arrow::Int64, true)]);
        let e = check(&other, &start, &want).unwrap_err().to_string();
        assert!(e.len() < 400 && e.contains('…'), "{e}");
    }
}
