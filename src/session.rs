//! A ready `SessionContext`: the spec tables registered, the JSON functions, information_schema
//! (for `SHOW TABLES` / `DESCRIBE`), files as tables (`FROM 'runs.parquet'`), and the one way a
//! statement runs: [`stream_statement`] (its schema, and its batches as they are fetched), used
//! by `jobsql query` and the shell ([`crate::output::run`]) and by `serve` (simple protocol; its
//! prepared statements through [`stream_plan`]). [`run_sql`] and [`run_statement`] are the same,
//! collected, for tests and embedders.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::SchemaError;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionConfig;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{DdlStatement, LogicalPlan};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;
use futures::TryStreamExt;

use crate::provider::{ApiRuntime, ProviderError};
use crate::spec::SpecSet;
use crate::sql::{parse_script, Statement};
use crate::write::{exec::run_exec, find_api_table, insert::run_insert};

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

/// The result of one statement.
#[derive(Debug)]
pub struct StatementResult {
    /// The result's schema (also for zero rows).
    pub schema: SchemaRef,
    /// The rows.
    pub batches: Vec<RecordBatch>,
}

/// Split SQL text into statements (`;`-separated, comments allowed, `EXEC` understood).
pub fn split_statements(sql: &str) -> Result<Vec<Statement>> {
    parse_script(sql)
}

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
        Statement::Sql(sql) => crate::hints::improve(ctx, sql, error).await,
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
    if let DfStatement::Statement(inner) = &statement {
        if let SqlStatement::Insert(insert) = inner.as_ref() {
            if let Some(result) = run_insert(ctx, insert).await? {
                return Ok(result);
            }
        }
    }
    let state = ctx.state();
    let plan = state.statement_to_plan(statement).await?;
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
        Statement::Sql(s) if !is_api_insert(&s) => *s,
        other => {
            let result = run_statement_inner(ctx, other).await?;
            let batches = futures::stream::iter(result.batches.into_iter().map(Ok));
            let stream = RecordBatchStreamAdapter::new(result.schema.clone(), batches);
            return Ok((result.schema, Box::pin(stream)));
        }
    };
    let plan = ctx.state().statement_to_plan(df_statement).await?;
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
    let df = ctx.execute_logical_plan(plan).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    Ok((schema, df.execute_stream().await?))
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

/// Whether a statement is an INSERT (which the write path may take: it is run whole).
fn is_api_insert(statement: &DfStatement) -> bool {
    matches!(statement, DfStatement::Statement(s) if matches!(s.as_ref(), SqlStatement::Insert(_)))
}

/// Run every statement of `sql` (parsed once) in order with [`run_statement`]; stops at the
/// first error.
pub async fn run_sql(ctx: &SessionContext, sql: &str) -> Result<Vec<StatementResult>> {
    let mut results = Vec::new();
    for statement in parse_script(sql)? {
        results.push(run_statement(ctx, statement).await?);
    }
    Ok(results)
}

/// A DataFusion error as a user reads it: the root cause, without DataFusion's prefixes, an
/// unknown column with the closest valid names only ([`crate::hints::unknown_column`]), and
/// passed through [`crate::redact::outgoing`] (secrets masked, control characters escaped).
pub fn user_message(error: &DataFusionError) -> String {
    crate::redact::outgoing(&root_message(error))
}

fn root_message(error: &DataFusionError) -> String {
    match error.find_root() {
        DataFusionError::External(e) => e.to_string(),
        DataFusionError::Context(_, e) => root_message(e),
        DataFusionError::SchemaError(schema_error, _) => match schema_error.as_ref() {
            SchemaError::FieldNotFound {
                field,
                valid_fields,
            } => crate::hints::unknown_column(field, valid_fields),
            _ => error.find_root().to_string(),
        },
        other => other.to_string(),
    }
}
