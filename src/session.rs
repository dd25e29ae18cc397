//! A ready `SessionContext`: the spec tables registered, the JSON functions, information_schema
//! (for `SHOW TABLES` / `DESCRIBE`), files as tables (`FROM 'runs.parquet'`), and one "run this SQL text" entry point used by the CLI and
//! the tests alike.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionConfig;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{DdlStatement, LogicalPlan};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Insert, Statement as SqlStatement};

use crate::provider::{ApiRuntime, ProviderError};
use crate::spec::SpecSet;
use crate::sql::{parse_script, Statement};
use crate::write::{exec::run_exec, find_api_table, insert};

/// A session over the given specs and runtime.
pub fn new_context(specs: &SpecSet, runtime: Arc<ApiRuntime>) -> Result<SessionContext> {
    let config = SessionConfig::new()
        .with_information_schema(true)
        .with_target_partitions(2);
    // enable_url_table: `SELECT ... FROM 'runs.parquet'` reads back what COPY kept.
    let mut ctx = SessionContext::new_with_config(config).enable_url_table();
    crate::plugin::register_with_runtime(&mut ctx, specs, runtime)?;
    Ok(ctx)
}

pub use crate::hints::user_message;
pub use crate::write::StatementResult;

/// Split SQL text into statements (`;`-separated, comments allowed, `EXEC` understood).
pub fn split_statements(sql: &str) -> Result<Vec<Statement>> {
    parse_script(sql)
}

/// Run one parsed statement to completion. `EXEC`, and `INSERT ... RETURNING` into an API
/// table, are the write path's; everything else is DataFusion's (a plain INSERT through the
/// table's `insert_into`, DELETE planned by [`crate::write::delete_rule`]).
pub async fn run_statement(ctx: &SessionContext, statement: Statement) -> Result<StatementResult> {
    let original = statement.clone();
    match run_statement_inner(ctx, statement).await {
        Err(e) => Err(hinted(ctx, &original, e).await),
        ok => ok,
    }
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

async fn run_statement_inner(
    ctx: &SessionContext,
    statement: Statement,
) -> Result<StatementResult> {
    let statement = match statement {
        Statement::Exec(exec) => return run_exec(ctx, &exec).await,
        Statement::Sql(statement) => *statement,
    };
    if let Some(i) = as_insert(&statement) {
        if let Some(result) = insert::run_returning(ctx, i).await? {
            return Ok(result);
        }
    }
    let plan = plan_statement(ctx, statement).await?;
    refuse_api_drop(ctx, &plan).await?;
    let df = ctx.execute_logical_plan(plan).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    Ok(StatementResult { schema, batches })
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
    let df_statement = match statement {
        Statement::Sql(s) if as_insert(&s).is_none_or(|i| i.returning.is_none()) => *s,
        other => {
            let result = run_statement_inner(ctx, other).await?;
            let batches = futures::stream::iter(result.batches.into_iter().map(Ok));
            let stream = RecordBatchStreamAdapter::new(result.schema.clone(), batches);
            return Ok((result.schema, Box::pin(stream)));
        }
    };
    let plan = plan_statement(ctx, df_statement).await?;
    refuse_api_drop(ctx, &plan).await?;
    check(&plan)?;
    let df = ctx.execute_logical_plan(plan).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    Ok((schema, df.execute_stream().await?))
}

/// DataFusion's plan of `statement` (an `INSERT ... SELECT` into an API table with its source
/// planned on its own: [`insert::plan_insert`]).
async fn plan_statement(ctx: &SessionContext, statement: DfStatement) -> Result<LogicalPlan> {
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

/// Run every statement of `sql`, in order; stops at the first error.
pub async fn run_sql(ctx: &SessionContext, sql: &str) -> Result<Vec<StatementResult>> {
    let mut results = Vec::new();
    for statement in split_statements(sql)? {
        results.push(run_statement(ctx, statement).await?);
    }
    Ok(results)
}
