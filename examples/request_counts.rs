//! How many API requests typical queries make, against the emulator (2,000 runs over 60 days),
//! compared with the baseline of listing the whole history (what a tool that filters locally does).
//!
//! `cargo run --release --example request_counts`

use std::collections::HashMap;
use std::sync::Arc;

use jobsql_core::client::{ApiClient, RetryPolicy};
use jobsql_core::provider::ApiRuntime;
use jobsql_core::session::{new_context, run_sql, user_message};
use jobsql_core::spec::load_embedded;
use jobsql_core::workspace::{Workspace, WorkspaceResolver};
use jobsql_emulator::{start_local, EmulatorConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = start_local(EmulatorConfig::default()).await?;
    let resolver = WorkspaceResolver::from_parts(HashMap::new(), None, None).with_default(
        Workspace::new("emu", &emulator.base_url(), emulator.token())?,
    );
    let runtime = Arc::new(ApiRuntime::new(
        ApiClient::new(RetryPolicy::default())?,
        resolver,
    ));
    let ctx = new_context(&load_embedded()?, runtime)?;
    let notable = emulator.notable();
    let (job, run) = (notable.job_ids[0], notable.big_multi_task[0]);
    let t = "databricks_workspace.jobs.job_runs";
    let queries = [
        format!("SELECT count(*) FROM {t}"),
        format!("SELECT job_id, count(*) FROM {t} WHERE start_time >= now() - INTERVAL '7 days' GROUP BY job_id"),
        format!("SELECT run_id FROM {t} WHERE active_only = true"),
        format!("SELECT run_id FROM {t} WHERE job_id = {job}"),
        format!("SELECT run_id FROM {t} WHERE job_id = {job} AND start_time >= now() - INTERVAL '7 days'"),
        format!("SELECT run_id, cardinality(tasks) FROM {t} WHERE run_id = {run}"),
        format!("SELECT run_id FROM {t} ORDER BY start_time DESC LIMIT 10"),
        format!("SELECT run_id FROM {t} LIMIT 10"),
        format!("SELECT run_id FROM {t} WHERE state['result_state'] = 'FAILED'"),
    ];
    println!("| query | rows | requests | rows fetched |");
    println!("|---|---|---|---|");
    for sql in queries {
        emulator.clear_requests();
        let rows: usize = match run_sql(&ctx, &sql).await {
            Ok(results) => results
                .iter()
                .flat_map(|r| &r.batches)
                .map(|b| b.num_rows())
                .sum(),
            Err(e) => return Err(user_message(&e).into()),
        };
        let requests = emulator.requests();
        let fetched: usize = requests
            .iter()
            .map(|r| r.param("limit").and_then(|l| l.parse().ok()).unwrap_or(1))
            .sum();
        println!("| `{sql}` | {rows} | {} | ≤{fetched} |", requests.len());
    }
    emulator.shutdown().await;
    Ok(())
}
