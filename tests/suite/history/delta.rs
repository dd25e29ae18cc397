//! A small history table written with delta-rs (`deltalake-core`): job runs in three
//! partitions by start date, in two commits, as any Delta writer would leave them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use deltalake_core::kernel::{DataType as DeltaType, PrimitiveType, StructField};
use deltalake_core::writer::{DeltaWriter, RecordBatchWriter};
use deltalake_core::DeltaTable;
use url::Url;

/// One run of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub deployment_name: String,
    pub run_id: i64,
    /// Microseconds since the epoch, UTC.
    pub start_time: i64,
    pub result_state: Option<String>,
}

/// Days since the epoch of a start time in microseconds.
pub fn day(start_time: i64) -> i32 {
    i32::try_from(start_time.div_euclid(86_400_000_000)).expect("day")
}

/// `n` runs a day apart over three days (2026-11-01 to 2026-11-03), ids from `first`.
pub fn runs(first: i64, n: i64) -> Vec<Run> {
    let nov_1 = 1_793_491_200_000_000_i64; // 2026-11-01T00:00:00Z
    (0..n)
        .map(|i| Run {
            deployment_name: "emu".to_string(),
            run_id: first + i,
            start_time: nov_1 + (i % 3) * 86_400_000_000 + i * 1_000_000,
            result_state: (i % 4 != 0).then(|| ["SUCCESS", "FAILED"][(i % 2) as usize].to_string()),
        })
        .collect()
}

fn arrow_schema() -> Arc<Schema> {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("deployment_name", DataType::Utf8, false),
        Field::new("run_id", DataType::Int64, false),
        Field::new("start_time", ts.clone(), true),
        Field::new("result_state", DataType::Utf8, true),
        Field::new("synced_at", ts, true),
        Field::new("start_date", DataType::Date32, true),
    ]))
}

fn batch(runs: &[Run]) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            runs.iter().map(|r| r.deployment_name.clone()),
        )),
        Arc::new(Int64Array::from_iter_values(runs.iter().map(|r| r.run_id))),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(runs.iter().map(|r| r.start_time))
                .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from_iter(
            runs.iter().map(|r| r.result_state.clone()),
        )),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(runs.iter().map(|_| 1_795_000_000_000_000))
                .with_timezone("UTC"),
        ),
        Arc::new(Date32Array::from_iter_values(
            runs.iter().map(|r| day(r.start_time)),
        )),
    ];
    RecordBatch::try_new(arrow_schema(), columns).expect("batch")
}

/// The job-runs history table under `root`, where jobsql looks for it.
pub fn table_dir(root: &Path) -> PathBuf {
    root.join("databricks_workspace")
        .join("jobs")
        .join("job_runs")
}

/// Create the table under `root` with `runs` as its first commit.
pub async fn create(root: &Path, runs: &[Run]) -> DeltaTable {
    let dir = table_dir(root);
    std::fs::create_dir_all(&dir).expect("table dir");
    let url = Url::from_directory_path(&dir).expect("url");
    let long = DeltaType::Primitive(PrimitiveType::Long);
    let text = DeltaType::Primitive(PrimitiveType::String);
    let ts = DeltaType::Primitive(PrimitiveType::Timestamp);
    let date = DeltaType::Primitive(PrimitiveType::Date);
    let mut table = DeltaTable::try_from_url(url)
        .await
        .expect("table")
        .create()
        .with_columns([
            StructField::new("deployment_name", text.clone(), false),
            StructField::new("run_id", long, false),
            StructField::new("start_time", ts.clone(), true),
            StructField::new("result_state", text, true),
            StructField::new("synced_at", ts, true),
            StructField::new("start_date", date, true),
        ])
        .with_partition_columns(["start_date"])
        .await
        .expect("created");
    append(&mut table, runs).await;
    table
}

/// Commit `runs` to `table`.
pub async fn append(table: &mut DeltaTable, runs: &[Run]) {
    let mut writer = RecordBatchWriter::for_table(table).expect("writer");
    writer.write(batch(runs)).await.expect("write");
    writer.flush_and_commit(table).await.expect("commit");
}

/// The data files under the table's partition directory of `date` (`YYYY-MM-DD`).
pub fn files_of(root: &Path, date: &str) -> Vec<PathBuf> {
    let dir = table_dir(root).join(format!("start_date={date}"));
    std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
                .collect()
        })
        .unwrap_or_default()
}
