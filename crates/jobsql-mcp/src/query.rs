//! The `query` and `explain` tools: one statement through the session's one path
//! ([`jobsql_core::session::stream_statement_checked`], as `jobsql query` runs it), read-only unless
//! the server allows writes ([`super::readonly`]), its rows read only up to the cap.
//!
//! The cap stops the reading, not just the printing. A query (`SELECT`, `WITH`, `VALUES`) is
//! planned with `LIMIT max_rows + 1` on top, which DataFusion pushes into the API scan where it
//! can (one `runs/list?limit=6` instead of a full listing in 33 requests); and for every
//! statement the stream is dropped once `max_rows + 1` rows have arrived, so later pages are
//! never requested.

use datafusion::arrow::array::StringArray;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::format::ExplainStatementOptions;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{ExplainStatement, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;
use futures::StreamExt;

use super::readonly::{check_plan, check_read_only};
use super::render::Rows;
use super::McpError;
use jobsql_core::session::{stream_plan, stream_statement_checked};
use jobsql_core::sql::{parse_script, Statement};

/// The one statement of `sql` (none, or several, is an error).
pub fn one_statement(sql: &str) -> Result<Statement, McpError> {
    let mut statements = parse_script(sql).map_err(McpError::Sql)?;
    match statements.len() {
        1 => Ok(statements.remove(0)),
        0 => Err(McpError::NoStatement),
        n => Err(McpError::SeveralStatements(n)),
    }
}

/// Run `sql` (one statement) and read at most `max_rows` of its rows (one more to know there
/// are more); with `allow_writes` false, anything but a read is refused before it runs.
pub async fn run_capped(
    ctx: &SessionContext,
    sql: &str,
    allow_writes: bool,
    max_rows: usize,
) -> Result<Rows, McpError> {
    let statement = one_statement(sql)?;
    if !allow_writes {
        check_read_only(&statement)?;
    }
    let read_only = |plan: &_| check_plan(plan);
    let any = |_: &_| Ok(());
    let check: &(dyn Fn(&_) -> datafusion::error::Result<()> + Send + Sync) =
        if allow_writes { &any } else { &read_only };
    let (schema, mut stream) = match as_query(&statement) {
        Some(query) => stream_query(ctx, query, max_rows + 1, check).await,
        None => stream_statement_checked(ctx, statement, check).await,
    }
    .map_err(McpError::Statement)?;
    let mut batches = Vec::new();
    let mut count = 0usize;
    let mut truncated = false;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(McpError::Statement)?;
        let room = max_rows - count;
        if batch.num_rows() > room {
            if room > 0 {
                batches.push(batch.slice(0, room));
            }
            count = max_rows;
            truncated = true;
            break;
        }
        count += batch.num_rows();
        if batch.num_rows() > 0 {
            batches.push(batch);
        }
    }
    // Dropping the stream here abandons whatever the plan would still fetch.
    drop(stream);
    Ok(Rows {
        schema,
        batches,
        count,
        truncated,
        max_rows,
    })
}

/// The statement as a query (SELECT, WITH, VALUES), if it is one.
fn as_query(statement: &Statement) -> Option<&DfStatement> {
    match statement {
        Statement::Sql(s) => match s.as_ref() {
            DfStatement::Statement(q) if matches!(q.as_ref(), SqlStatement::Query(_)) => Some(s),
            _ => None,
        },
        Statement::Exec(_) => None,
    }
}

/// A query planned with `LIMIT fetch` on top, then run as the session runs any plan
/// ([`stream_plan`]); its errors worded as the session words them ([`jobsql_core::hints::improve`]).
async fn stream_query(
    ctx: &SessionContext,
    query: &DfStatement,
    fetch: usize,
    check: &(dyn Fn(&LogicalPlan) -> datafusion::error::Result<()> + Send + Sync),
) -> datafusion::error::Result<(SchemaRef, SendableRecordBatchStream)> {
    let started = async {
        let plan = ctx.state().statement_to_plan(query.clone()).await?;
        let plan = LogicalPlanBuilder::from(plan)
            .limit(0, Some(fetch))?
            .build()?;
        stream_plan(ctx, plan, check).await
    };
    match started.await {
        Ok(ok) => Ok(ok),
        Err(e) => Err(jobsql_core::hints::improve(ctx, query, e).await),
    }
}

/// Whether `statement` is an `EXPLAIN` (DataFusion's, or sqlparser's `EXPLAIN`/`DESCRIBE`).
fn is_explain(statement: &DfStatement) -> bool {
    match statement {
        DfStatement::Explain(_) => true,
        DfStatement::Statement(s) => matches!(s.as_ref(), SqlStatement::Explain { .. }),
        _ => false,
    }
}

/// `EXPLAIN` of `sql` (one statement): the plan's rows, as `plan_type: plan` text. Nothing is
/// sent to the API (an `EXPLAIN ANALYZE` given here is refused: it would run the statement).
pub async fn explain(ctx: &SessionContext, sql: &str) -> Result<String, McpError> {
    let statement = match one_statement(sql)? {
        Statement::Exec(_) => return Err(McpError::ExplainExec),
        Statement::Sql(s) => s,
    };
    if is_explain(&statement) {
        return Err(McpError::ExplainExplain);
    }
    // The statement wrapped as parsed: printing it and parsing `EXPLAIN <text>` again fails
    // for statements whose printed form does not parse back (COPY's options).
    let explained = Statement::Sql(Box::new(DfStatement::Explain(ExplainStatement {
        options: ExplainStatementOptions::default(),
        statement,
    })));
    let (_, stream) = stream_statement_checked(ctx, explained, &|_| Ok(()))
        .await
        .map_err(McpError::Statement)?;
    let batches: Vec<_> = stream
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, DataFusionError>>()
        .map_err(McpError::Statement)?;
    let mut out = String::new();
    for batch in &batches {
        let (Some(kinds), Some(plans)) = (
            batch.column(0).as_any().downcast_ref::<StringArray>(),
            batch.column(1).as_any().downcast_ref::<StringArray>(),
        ) else {
            continue;
        };
        for i in 0..batch.num_rows() {
            out.push_str(&format!("{}:\n{}\n", kinds.value(i), plans.value(i)));
        }
    }
    Ok(out)
}
