//! The run history in tests: `jobsql sync` of job_runs run in-process on a session (with a
//! page counter), a history table's committed rows read back from its Delta log and files,
//! and the live listing in the same shape, both sorted by key, for comparing column by column.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, Int64Array, RecordBatch};
use datafusion::arrow::compute::{concat_batches, sort_to_indices, take_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use jobsql_core::provider::progress::Progress;
use jobsql_core::spec::{load_embedded, Resource};
use jobsql_history::sync::{
    plan::SyncPlan, sync_workspace, types, SyncError, SyncOptions, SyncReport,
};
use jobsql_history::{HistoryRoot, SYNCED_AT_COLUMN};

/// The resource of the built-in specs that `jobsql sync --table table` names.
pub fn resource(table: &str) -> Arc<Resource> {
    let specs = load_embedded().expect("specs");
    jobsql_history::sync::names::resolve(&specs, &[table.to_string()]).expect("resolves")[0].clone()
}

/// The job_runs resource of the built-in specs.
pub fn job_runs() -> Arc<Resource> {
    resource("job_runs")
}

/// The job_runs table's directory under `root`.
pub fn table_dir(root: &Path) -> std::path::PathBuf {
    root.join("databricks_workspace/jobs/job_runs")
}

/// Sync job_runs of `workspace` on `ctx` into `root`.
pub async fn sync(ctx: &SessionContext, root: &Path, workspace: &str) -> SyncReport {
    sync_table(ctx, root, "job_runs", workspace).await
}

/// Sync `table` (as `--table` names it) of `workspace` on `ctx` into `root`.
pub async fn sync_table(
    ctx: &SessionContext,
    root: &Path,
    table: &str,
    workspace: &str,
) -> SyncReport {
    try_sync_table(ctx, root, table, workspace)
        .await
        .unwrap_or_else(|e| panic!("sync fails: {e}"))
}

/// [`sync_table`], its error returned.
pub async fn try_sync_table(
    ctx: &SessionContext,
    root: &Path,
    table: &str,
    workspace: &str,
) -> Result<SyncReport, SyncError> {
    let root = HistoryRoot::parse(&root.display().to_string()).expect("root");
    let options = SyncOptions {
        progress: Some(Arc::new(Progress::default())),
        ..SyncOptions::default()
    };
    sync_workspace(ctx, &resource(table), workspace, &root, &options).await
}

/// A session whose table `h` is the history table of `provider.service.resource` under
/// `root`, read back by jobsql's reader.
pub async fn history_session(
    root: &Path,
    provider: &str,
    service: &str,
    resource: &str,
) -> SessionContext {
    let url = HistoryRoot::parse(&root.display().to_string())
        .expect("root")
        .table_url(provider, service, resource);
    let table = jobsql_history::HistoryTable::load(&format!("{resource}_history"), &url)
        .await
        .expect("loads");
    let ctx = SessionContext::new();
    ctx.register_table("h", Arc::new(table))
        .expect("registered");
    ctx
}

/// `batch` sorted by its `run_id` column.
fn by_run_id(batch: &RecordBatch) -> RecordBatch {
    let ids = batch.column_by_name("run_id").expect("run_id");
    let order = sort_to_indices(ids, None, None).expect("sort");
    take_record_batch(batch, &order).expect("take")
}

fn one(schema: &SchemaRef, batches: &[RecordBatch]) -> RecordBatch {
    concat_batches(schema, batches).expect("concat")
}

/// The table's schema (the history schema of job_runs' live columns) on `ctx`.
pub async fn history_schema(ctx: &SessionContext) -> SchemaRef {
    let resource = job_runs();
    let plan = SyncPlan::new(&resource, resource.spec.history.as_ref().expect("history"));
    let live = plan
        .new_rows(ctx, "x", None)
        .await
        .expect("plans")
        .schema()
        .as_arrow()
        .clone();
    types::history_schema(&live)
}

/// The committed rows of the job_runs table under `root`, sorted by run_id, in the history
/// schema (read from the files the Delta log lists, `start_date` from the partition's start).
pub async fn history_rows(ctx: &SessionContext, root: &Path) -> RecordBatch {
    let url = HistoryRoot::parse(&root.display().to_string())
        .expect("root")
        .table_url("databricks_workspace", "jobs", "job_runs");
    let target = history_schema(ctx).await;
    let table = jobsql_history::sync::delta::open_or_create(&url, &target)
        .await
        .expect("the table opens");
    let listing = jobsql_history::log::list("job_runs", &table)
        .await
        .expect("files");
    if listing.files.is_empty() {
        return RecordBatch::new_empty(target);
    }
    let shown = jobsql_history::HistoryTable::new("job_runs", listing);
    let batches: Vec<RecordBatch> = jobsql_history::sync::read::read_files(ctx, &shown)
        .await
        .expect("read")
        .try_collect()
        .await
        .expect("rows");
    let rows: Vec<RecordBatch> = batches
        .iter()
        .map(|b| types::to_delta(b, &target, "start_time", 0).expect("history rows"))
        .collect();
    by_run_id(&one(&target, &rows))
}

/// What the live listing of `workspace` shows now, in the history schema (`synced_at` 0),
/// sorted by run_id.
pub async fn live_rows(ctx: &SessionContext, workspace: &str) -> RecordBatch {
    let resource = job_runs();
    let plan = SyncPlan::new(&resource, resource.spec.history.as_ref().expect("history"));
    let target = history_schema(ctx).await;
    let batches = plan
        .new_rows(ctx, workspace, None)
        .await
        .expect("plans")
        .collect()
        .await
        .expect("lists");
    let rows: Vec<RecordBatch> = batches
        .iter()
        .map(|b| types::to_delta(b, &target, "start_time", 0).expect("live rows"))
        .collect();
    by_run_id(&one(&target, &rows))
}

/// `batch` without `synced_at`.
pub fn without_synced_at(batch: &RecordBatch) -> RecordBatch {
    let keep: Vec<usize> = (0..batch.num_columns())
        .filter(|&i| batch.schema().field(i).name() != SYNCED_AT_COLUMN)
        .collect();
    batch.project(&keep).expect("project")
}

/// Assert two tables of the history schema are equal column by column (synced_at aside),
/// naming the first column that differs.
pub fn assert_same_rows(got: &RecordBatch, want: &RecordBatch) {
    let (got, want) = (without_synced_at(got), without_synced_at(want));
    assert_eq!(got.num_rows(), want.num_rows(), "row counts");
    for (i, field) in want.schema().fields().iter().enumerate() {
        assert!(
            got.column(i).to_data() == want.column(i).to_data(),
            "column {} differs",
            field.name()
        );
    }
}

/// The run ids of a table of the history schema.
pub fn run_ids(batch: &RecordBatch) -> Vec<i64> {
    let ids = batch.column_by_name("run_id").expect("run_id");
    let ids = ids.as_any().downcast_ref::<Int64Array>().expect("ints");
    (0..ids.len()).map(|i| ids.value(i)).collect()
}
