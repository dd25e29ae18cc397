//! Embedding jobsql in your own DataFusion engine: your `SessionContext`, plus the job-run tables
//! and the JSON functions, with one call to `jobsql::register`.
//!
//! `cargo run --example embed` (it starts the built-in emulator in-process as the workspace; point
//! `with_workspace` at a real one, or use `JobsqlOptions::default()` to resolve workspaces the
//! way the Databricks CLI does). The tests run [`run`] too (tests/interfaces/embed.rs).

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use jobsql::emulator::{start_local, EmulatorConfig};
use jobsql::JobsqlOptions;

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
    let registration = jobsql::register(&mut ctx, options)?;
    eprintln!("registered: {}", registration.table_names().join(", "));
    let sql = QUERY.replace("$JOB", &job_id.to_string());
    Ok(ctx.sql(&sql).await?.collect().await?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = start_local(EmulatorConfig::default()).await?;
    let job_id = emulator.notable().job_ids.first().copied().unwrap_or(1);
    let batches = run(&emulator.base_url(), emulator.token(), job_id).await?;
    println!("{}", pretty_format_batches(&batches)?);
    emulator.shutdown().await;
    Ok(())
}
