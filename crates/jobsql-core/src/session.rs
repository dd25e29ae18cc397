//! A ready `SessionContext`: the spec tables registered, the JSON functions, information_schema
//! (for `SHOW TABLES` / `DESCRIBE`), files as tables (`FROM 'runs.parquet'`), and the one way a
//! statement runs: [`stream_statement`] (its schema, and its batches as they are fetched), used
//! by `jobsql query` and the shell ([`crate::output::run`]) and by `serve` (simple protocol; its
//! prepared statements through [`stream_plan`]). [`run_sql`] and [`run_statement`] are the same,
//! collected, for tests and embedders. `DESCRIBE` adds each column's kind and spec description
//! to DataFusion's answer ([`describe`]). A table resolves by its short name too (`job_runs`,
//! `jobs.job_runs`) when only one resource has it ([`names`]). A key restricted by a subquery
//! ([`keys`]) or a join with a small side ([`join_keys`]) is answered first and listed per key.

pub mod describe;
pub mod join_keys;
pub mod keys;
pub mod names;

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionConfig;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{DdlStatement, LogicalPlan};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Insert, Statement as SqlStatement};
use futures::TryStreamExt;

use crate::provider::{ApiRuntime, ProviderError};
use crate::spec::SpecSet;
use crate::sql::{parse_script, Statement};
use crate::write::{exec::run_exec, find_api_table, insert};

/// The configuration of every jobsql session (`query`, the shell, `serve`, `mcp`):
/// `information_schema` on (`SHOW TABLES`, `DESCRIBE`, client catalogs) and two partitions a
/// scan (the work is waiting on the API, not CPU; slices run concurrently within one).
pub fn config() -> SessionConfig {
    SessionConfig::new()
        .with_information_schema(true)
        .with_target_partitions(2)
}

/// A session over the given specs and runtime, with DataFusion's default memory pool (no limit:
/// for embedders and `jobsql sync`, whose statements are its own).
pub fn new_context(specs: &SpecSet, runtime: Arc<ApiRuntime>) -> Result<SessionContext> {
    context_in(specs, runtime, RuntimeEnvBuilder::new().build_arc()?)
}

/// A session whose statements may each use `limit` bytes of memory (`--memory-limit-mb` of
/// `jobsql query` and the shell, [`crate::memory::pool`]): past it, sorts and aggregations spill
/// to disk (the system's temporary directory), anything else that cannot (a function's result,
/// a join's build side) fails naming the limit and the flag.
pub fn bounded_context(
    specs: &SpecSet,
    runtime: Arc<ApiRuntime>,
    limit: usize,
) -> Result<SessionContext> {
    let env = RuntimeEnvBuilder::new()
        .with_memory_pool(crate::memory::StatementPool::alone(limit))
        .build_arc()?;
    context_in(specs, runtime, env)
}

fn context_in(
    specs: &SpecSet,
    runtime: Arc<ApiRuntime>,
    env: Arc<RuntimeEnv>,
) -> Result<SessionContext> {
    // enable_url_table: `SELECT ... FROM 'runs.parquet'` reads back what COPY kept.
    let mut ctx = SessionContext::new_with_config_rt(config(), env).enable_url_table();
    crate::plugin::register_with_runtime(&mut ctx, specs, runtime)?;
    names::add_short_names(&ctx, specs);
    Ok(ctx)
}

pub use crate::hints::user_message;
pub use crate::write::StatementResult;

/// Run one parsed statement to completion: [`stream_statement`], collected (for tests and
/// embedders that want the rows in memory; the CLI, the shell and `serve` stream).
pub async fn run_statement(ctx: &SessionContext, statement: Statement) -> Result<StatementResult> {
    let (schema, stream) = stream_statement(ctx, statement).await?;
    let batches = stream.try_collect().await?;
    Ok(StatementResult { schema, batches })
}

/// `error` of `statement` with a pointed message where [`crate::hints::improve`] has one.
async fn hinted(
    ctx: &SessionContext,
    statement: &Statement,
    error: DataFusionError,
) -> DataFusionError {
    match statement {
        Statement::Sql(sql) => {
            let error = match as_insert(sql) {
                Some(i) => insert::planning_error(ctx, i, error).await,
                None => error,
            };
            crate::hints::improve(ctx, sql, error).await
        }
        Statement::Exec(_) => error,
    }
}

/// A result already in memory (EXEC's, RETURNING's), as a stream.
fn into_stream(result: StatementResult) -> (SchemaRef, SendableRecordBatchStream) {
    let batches = futures::stream::iter(result.batches.into_iter().map(Ok));
    let stream = RecordBatchStreamAdapter::new(result.schema.clone(), batches);
    (result.schema, Box::pin(stream))
}

/// Start one parsed statement: its schema and a stream of its batches, produced as they are
/// fetched (the CLI prints them as they come, so a large result is never held whole).
pub async fn stream_statement(
    ctx: &SessionContext,
    statement: Statement,
) -> Result<(SchemaRef, SendableRecordBatchStream)> {
    stream_statement_checked(ctx, statement, &|_| Ok(())).await
}

/// [`stream_statement`], with DataFusion's plan of the statement first given to `check`, which
/// may refuse it (`jobsql serve` refuses settings that affect the whole server).
pub async fn stream_statement_checked(
    ctx: &SessionContext,
    statement: Statement,
    check: &(dyn Fn(&LogicalPlan) -> Result<()> + Send + Sync),
) -> Result<(SchemaRef, SendableRecordBatchStream)> {
    let original = statement.clone();
    match stream_statement_inner(ctx, statement, check).await {
        Err(e) => Err(hinted(ctx, &original, e).await),
        ok => ok,
    }
}

async fn stream_statement_inner(
    ctx: &SessionContext,
    statement: Statement,
    check: &(dyn Fn(&LogicalPlan) -> Result<()> + Send + Sync),
) -> Result<(SchemaRef, SendableRecordBatchStream)> {
    // EXEC, and `INSERT ... RETURNING` into an API table, are the write path's, run whole
    // (their results are small); everything else is DataFusion's (a plain INSERT through the
    // table's `insert_into`, DELETE planned by [`crate::provider::delete::rule`]).
    let df_statement = match statement {
        Statement::Exec(exec) => return Ok(into_stream(run_exec(ctx, &exec).await?)),
        Statement::Sql(s) => *s,
    };
    if let Some(i) = as_insert(&df_statement) {
        if let Some(result) = insert::run_returning(ctx, i).await? {
            return Ok(into_stream(result));
        }
    }
    let plan = plan_statement(ctx, df_statement).await?;
    stream_plan(ctx, plan, check).await
}

/// Start a statement already planned (`jobsql serve`'s prepared statements, once their
/// parameters are bound): API tables are refused to `DROP TABLE`, `check` may refuse the plan,
/// then its schema and a stream of its batches, as [`stream_statement_checked`].
pub async fn stream_plan(
    ctx: &SessionContext,
    plan: LogicalPlan,
    check: &(dyn Fn(&LogicalPlan) -> Result<()> + Send + Sync),
) -> Result<(SchemaRef, SendableRecordBatchStream)> {
    refuse_api_drop(ctx, &plan).await?;
    check(&plan)?;
    if let LogicalPlan::DescribeTable(d) = &plan {
        return describe::describe(d);
    }
    let plan = keys::inline_key_subqueries(ctx, plan).await?;
    let plan = join_keys::inline_join_keys(ctx, plan).await?;
    let df = ctx.execute_logical_plan(plan).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    Ok((schema, df.execute_stream().await?))
}

/// The schema of the rows [`stream_plan`] answers for `plan`: its own, but for `DESCRIBE`
/// ([`describe::describe_schema`]).
pub fn result_schema(plan: &LogicalPlan) -> SchemaRef {
    match plan {
        LogicalPlan::DescribeTable(_) => describe::describe_schema(),
        _ => Arc::new(plan.schema().as_arrow().clone()),
    }
}

/// DataFusion's plan of `statement` (an `INSERT ... SELECT` into an API table with its source
/// planned on its own: [`insert::plan_insert`]; `DELETE ... ORDER BY ... LIMIT` from an API
/// table as the read it is: [`crate::write::delete`]).
async fn plan_statement(ctx: &SessionContext, statement: DfStatement) -> Result<LogicalPlan> {
    if let Some(plan) = crate::write::delete::plan_ordered_delete(ctx, &statement).await? {
        return Ok(plan);
    }
    if let Some(plan) = crate::write::update::plan_update(ctx, &statement).await? {
        return Ok(plan);
    }
    if let Some(plan) = match as_insert(&statement) {
        Some(i) => insert::plan_insert(ctx, i).await?,
        None => None,
    } {
        return Ok(plan);
    }
    ctx.state().statement_to_plan(statement).await
}

/// `DROP TABLE [IF EXISTS]` of an API table: refused. (The tables' schemas refuse it too, see
/// [`crate::provider::guarded`], but DataFusion answers `IF EXISTS` with success whatever the
/// schema says.)
async fn refuse_api_drop(ctx: &SessionContext, plan: &LogicalPlan) -> Result<()> {
    let LogicalPlan::Ddl(DdlStatement::DropTable(drop)) = plan else {
        return Ok(());
    };
    if find_api_table(ctx, drop.name.clone()).await.is_some() {
        return Err(ProviderError::ApiTableDdl {
            name: drop.name.to_string(),
            action: "dropped",
        }
        .into());
    }
    Ok(())
}

/// The statement as an INSERT, if it is one (`INSERT ... RETURNING` is run whole, by the
/// write path; the wording of any INSERT's planning errors is its too).
fn as_insert(statement: &DfStatement) -> Option<&Insert> {
    match statement {
        DfStatement::Statement(s) => match s.as_ref() {
            SqlStatement::Insert(i) => Some(i),
            _ => None,
        },
        _ => None,
    }
}

/// Run every statement of `sql` (parsed once) in order with [`run_statement`]; stops at the
/// first error. A script writing more than `--max-writes` is refused before it starts
/// ([`crate::write::guard`]).
pub async fn run_sql(ctx: &SessionContext, sql: &str) -> Result<Vec<StatementResult>> {
    let mut results = Vec::new();
    let statements = parse_script(sql)?;
    crate::write::guard::check_script(ctx, &statements).await?;
    for statement in statements {
        results.push(run_statement(ctx, statement).await?);
    }
    Ok(results)
}
