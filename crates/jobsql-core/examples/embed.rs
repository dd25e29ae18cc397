//! Embedding jobsql in your own DataFusion engine: your `SessionContext`, plus the job-run tables
//! and the JSON functions, with one call to `jobsql_core::register`. A query reads runs; a plain
//! `ctx.sql("INSERT ...")` submits one (DataFusion plans it; the table's `insert_into` sends
//! `POST runs/submit` per row and answers with the `count`).
//!
//! `cargo run --example embed` (it starts the built-in emulator in-process as the workspace; point
//! `with_workspace` at a real one, or use `JobsqlOptions::default()` to resolve workspaces the
//! way the Databricks CLI does). The tests run [`run`] too (tests/suite/interfaces/embed.rs).

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use jobsql_core::JobsqlOptions;
use jobsql_emulator::{start_local, EmulatorConfig};

/// The query the example runs: a job's five latest runs, a struct field and a JSON function.
pub const QUERY: &str = "SELECT run_id, job_id, state['result_state'] AS result, \
     json_get_str(cluster_spec, 'existing_cluster_id') AS cluster \
     FROM databricks_workspace.jobs.job_runs WHERE job_id = $JOB \
     ORDER BY run_id DESC LIMIT 5";

/// Your engine's context, with jobsql registered against the workspace at `host`; runs
/// [`QUERY`] for `job_id`.
pub async fn run(
    host: &str,
    token: &str,
    job_id: i64,
) -> Result<Vec<RecordBatch>, Box<dyn std::error::Error>> {
    // Whatever your engine already has: its own context, tables and functions.
    let mut ctx = SessionContext::new();
    let options = JobsqlOptions::default()
        .with_workspace("emulator", host, token)
        .with_max_concurrency(4);
    let registration = jobsql_core::register(&mut ctx, options)?;
    eprintln!("registered: {}", registration.table_names().join(", "));
    let sql = QUERY.replace("$JOB", &job_id.to_string());
    Ok(ctx.sql(&sql).await?.collect().await?)
}

/// The INSERT the example runs: one run named `$NAME`, one notebook task.
pub const INSERT: &str = "INSERT INTO databricks_workspace.jobs.job_runs \
     (data__run_name, data__tasks, data__timeout_seconds) \
     VALUES ('$NAME', '[{\"task_key\": \"main\", \"notebook_task\": {\"notebook_path\": \"/Repos/etl/main\"}}]', 3600)";

/// Your engine's context, with jobsql registered against `host`; submits one run named
/// `run_name` with [`INSERT`] and returns the `count` DataFusion answers (1).
pub async fn submit(
    host: &str,
    token: &str,
    run_name: &str,
) -> Result<u64, Box<dyn std::error::Error>> {
    let mut ctx = SessionContext::new();
    jobsql_core::register(
        &mut ctx,
        JobsqlOptions::default().with_workspace("emulator", host, token),
    )?;
    let sql = INSERT.replace("$NAME", &run_name.replace('\'', "''"));
    let batches = ctx.sql(&sql).await?.collect().await?;
    let count = batches
        .first()
        .and_then(|b| b.column(0).as_primitive_opt::<UInt64Type>())
        .filter(|c| !c.is_empty())
        .map(|c| c.value(0))
        .ok_or("INSERT answered no count")?;
    Ok(count)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = start_local(EmulatorConfig::default()).await?;
    let job_id = emulator.notable().job_ids.first().copied().unwrap_or(1);
    let batches = run(&emulator.base_url(), emulator.token(), job_id).await?;
    println!("{}", pretty_format_batches(&batches)?);
    let inserted = submit(&emulator.base_url(), emulator.token(), "from-embed").await?;
    println!("inserted {inserted} run");
    emulator.shutdown().await;
    Ok(())
}
