//! One client connection: its own `SessionContext`, the simple and the extended query protocol.
//!
//! - Simple protocol (psql, scripts): see [`super::simple`] — SELECT, SHOW, DESCRIBE, EXPLAIN,
//!   INSERT, DELETE, EXEC, several `;`-separated statements, each statement's rows streamed.
//!   Session commands drivers send (`SET`, `BEGIN`, `SHOW search_path`, ...) are answered by
//!   [`super::compat`].
//! - Extended protocol (tokio-postgres, psycopg with parameters, JDBC): `Parse` plans one
//!   statement with DataFusion (placeholders `$1`, `$2`, ... get the types DataFusion infers,
//!   announced as Postgres types); `Bind` decodes the values; `Execute` runs the plan with
//!   `with_param_values` and streams the rows (jobsql's own `on_execute`: pgwire's would gather
//!   them first, unless the client asks for a row limit). `EXEC` is not DataFusion SQL and
//!   needs the simple protocol.
//!
//! Every plan is checked by [`jobsql_core::frontend::settings::check_plan`] before it runs; both protocols start
//! their statements through [`jobsql_core::session`] (`stream_statement_checked`, `stream_plan`) and
//! answer them with `Connection::respond` ([`super::respond`]): every statement runs under a
//! [`Guard`] (cancel, statement timeout) and its rows are streamed as they are produced.
//! Every failure is a Postgres `ErrorResponse` carrying [`jobsql_core::session::user_message`]; the
//! connection stays usable and the server is not affected.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use super::rewrite_any::Untyped;
use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan};
use datafusion::prelude::SessionContext;
use futures::Sink;
use pgwire::api::portal::PortalExecutionState;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::send_describe_response;
use pgwire::api::query::{send_execution_response, send_query_response, ExtendedQueryHandler};
use pgwire::api::results::{DescribePortalResponse, FieldInfo, Response};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState, Type, DEFAULT_NAME};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::extendedquery::{Describe, Execute, TARGET_TYPE_BYTE_PORTAL};
use pgwire::messages::PgWireBackendMessage;

use super::cancel::{CancelFlag, Guard};
use super::compat::{self, Compat};
use super::cursor::{self, Command, Declare};
use super::cursors::Cursors;
use super::encode::{fields, param_type, param_value};
use super::limits::Limits;
use super::respond::compat_response;
use jobsql_core::frontend::sandbox::SandboxError;
use jobsql_core::frontend::settings::{check_plan, SettingError};
use jobsql_core::session::{stream_plan, user_message};

/// A DataFusion error as a Postgres error: SQLSTATE by kind, the message users read.
pub fn pg_error(e: &DataFusionError) -> PgWireError {
    let code = match e.find_root() {
        DataFusionError::SQL(..) => "42601",
        DataFusionError::Plan(_) | DataFusionError::SchemaError(..) => "42000",
        DataFusionError::NotImplemented(_) => "0A000",
        DataFusionError::ResourcesExhausted(_) => "53200",
        // statement_too_complex, as Postgres answers a statement past its stack depth.
        DataFusionError::External(inner) if inner.is::<jobsql_core::sql::bounds::BoundsError>() => {
            "54001"
        }
        DataFusionError::External(inner)
            if inner.is::<SettingError>() || inner.is::<SandboxError>() =>
        {
            "42501"
        }
        DataFusionError::ObjectStore(inner)
            if matches!(
                inner.as_ref(),
                datafusion::object_store::Error::PermissionDenied { .. }
            ) =>
        {
            "42501"
        }
        _ => "XX000",
    };
    user_error(code, user_message(e))
}

pub(super) fn user_error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        code.to_string(),
        message,
    )))
}

/// A statement prepared by `Parse`.
#[derive(Debug, Clone)]
pub enum Prepared {
    /// Answered by the server itself.
    Compat(Compat),
    /// `FETCH`, `MOVE` or `CLOSE` of a cursor ([`super::cursors`]).
    Cursor(Command),
    /// `DECLARE ... CURSOR FOR query`: the cursor, and its query planned as [`Prepared::Plan`].
    Declare {
        /// The cursor.
        cursor: Declare,
        /// The query's plan, placeholders unbound.
        plan: Box<LogicalPlan>,
        /// The placeholders' types, in order.
        params: Vec<Option<DataType>>,
    },
    /// A DataFusion plan, with the types inferred for `$1`, `$2`, ... (`None`: unknown).
    Plan {
        /// The plan, placeholders unbound.
        plan: Box<LogicalPlan>,
        /// The placeholders' types, in order.
        params: Vec<Option<DataType>>,
    },
}

impl Prepared {
    fn schema(&self) -> Arc<Schema> {
        match self {
            Prepared::Compat(c) => c.schema(),
            Prepared::Plan { plan, .. } => jobsql_core::session::result_schema(plan),
            Prepared::Cursor(_) | Prepared::Declare { .. } => Arc::new(Schema::empty()),
        }
    }
}

/// Plans statements for the extended protocol.
pub struct Parser {
    ctx: SessionContext,
    files: Option<std::path::PathBuf>,
    cursors: Arc<Cursors>,
}

impl Parser {
    /// `sql`, one statement, planned and checked as in the simple protocol; its placeholders'
    /// types.
    async fn plan(
        &self,
        sql: &str,
        declared: &[Option<Type>],
    ) -> PgWireResult<(LogicalPlan, Vec<Option<DataType>>)> {
        let state = self.ctx.state();
        // One statement, rewritten as in the simple protocol; anything else DataFusion's error.
        // A script past the bounds of `sql::bounds` is refused here, before any other parse.
        let mut statements = jobsql_core::sql::parse_script(sql).map_err(|e| pg_error(&e))?;
        if statements
            .iter()
            .any(|s| matches!(s, jobsql_core::sql::Statement::Exec(_)))
        {
            return Err(user_error(
                "0A000",
                "EXEC needs the simple query protocol (psql, or a driver's non-prepared \
                 execution such as tokio-postgres simple_query); it cannot be prepared"
                    .to_string(),
            ));
        }
        let plan = match (statements.len(), statements.pop()) {
            (1, Some(jobsql_core::sql::Statement::Sql(s))) => {
                let rewritten = |untyped| {
                    super::rewrite::rewrite_with_parameters(s.as_ref().clone(), declared, untyped)
                };
                match state.statement_to_plan(rewritten(Untyped::Leave)).await {
                    Ok(plan) => Ok(plan),
                    // An untyped `ANY($n)` DataFusion could not type: a list of text.
                    Err(first) => {
                        let again = rewritten(Untyped::Text);
                        match again.to_string() == rewritten(Untyped::Leave).to_string() {
                            true => Err(first),
                            false => state.statement_to_plan(again).await.map_err(|_| first),
                        }
                    }
                }
            }
            _ => state.create_logical_plan(sql).await,
        }
        .map_err(|e| pg_error(&e))?;
        check_plan(&plan, self.files.as_deref()).map_err(|e| pg_error(&e))?;
        let params = placeholder_types(&plan).map_err(|e| pg_error(&e))?;
        Ok((plan, params))
    }
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = Prepared;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        match cursor::parse(sql).transpose()? {
            Some(Command::Declare(cursor)) => {
                super::cursors::check_query(&cursor.query)?;
                let (plan, params) = self.plan(&cursor.query, types).await?;
                return Ok(Some(Prepared::Declare {
                    cursor,
                    plan: Box::new(plan),
                    params,
                }));
            }
            Some(command) => return Ok(Some(Prepared::Cursor(command))),
            None => {}
        }
        if let Some(c) = compat::intercept(sql) {
            return Ok(Some(Prepared::Compat(c)));
        }
        let (plan, params) = self.plan(sql, types).await?;
        Ok(Some(Prepared::Plan {
            plan: Box::new(plan),
            params,
        }))
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        Ok(match stmt {
            Prepared::Compat(_) | Prepared::Cursor(_) => Vec::new(),
            Prepared::Plan { params, .. } | Prepared::Declare { params, .. } => {
                params.iter().map(|t| param_type(t.as_ref())).collect()
            }
        })
    }

    fn get_result_schema(
        &self,
        stmt: &Prepared,
        format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        if let Prepared::Cursor(Command::Fetch(fetch)) = stmt {
            let format = format.unwrap_or(&Format::UnifiedText);
            let schema = self.cursors.schema(&fetch.name)?;
            return Ok(fields(&schema, format));
        }
        Ok(fields(
            &stmt.schema(),
            format.unwrap_or(&Format::UnifiedText),
        ))
    }
}

/// `$1`, `$2`, ... of `plan` with their inferred types, in order (gaps are unknown).
fn placeholder_types(plan: &LogicalPlan) -> Result<Vec<Option<DataType>>, DataFusionError> {
    let found: HashMap<String, Option<DataType>> = plan.get_parameter_types()?;
    let mut indexed: Vec<(usize, Option<DataType>)> = Vec::new();
    for (name, ty) in found {
        match name.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
            Some(i) if i >= 1 => indexed.push((i, ty)),
            _ => {
                return Err(DataFusionError::Plan(format!(
                    "parameter {name}: only positional parameters ($1, $2, ...) are supported"
                )))
            }
        }
    }
    let count = indexed.iter().map(|(i, _)| *i).max().unwrap_or(0);
    let mut types = vec![None; count];
    for (i, ty) in indexed {
        types[i - 1] = ty;
    }
    // `CAST($n AS T[])` (`= ANY($n)`, [`super::rewrite_any`]): DataFusion leaves `$n` untyped;
    // it is the list, so that its text (`{a,b}`) is decoded as an array, not cast as one item.
    plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                // `x = ANY($n)` left untyped: `$n` is a list of `x`'s type.
                if let Expr::ScalarFunction(f) = e {
                    if let ([Expr::Placeholder(p), needle], "array_has") =
                        (f.args.as_slice(), f.func.name())
                    {
                        let schema = node.inputs().first().map_or(node.schema(), |i| i.schema());
                        let index = p.id.strip_prefix('$').and_then(|n| n.parse::<usize>().ok());
                        if let (Some(slot), Ok(item)) = (
                            index.and_then(|i| types.get_mut(i.wrapping_sub(1))),
                            needle.get_type(schema),
                        ) {
                            if slot.is_none() && p.field.is_none() {
                                *slot = Some(DataType::new_list(item, true));
                            }
                        }
                    }
                }
                if let Expr::Cast(cast) = e {
                    if let (Expr::Placeholder(p), true) =
                        (cast.expr.as_ref(), cast.field.data_type().is_nested())
                    {
                        let index = p.id.strip_prefix('$').and_then(|n| n.parse::<usize>().ok());
                        if let Some(slot) = index.and_then(|i| types.get_mut(i.wrapping_sub(1))) {
                            slot.get_or_insert(cast.field.data_type().clone());
                        }
                    }
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    })?;
    // `LIMIT $n` / `OFFSET $n`: DataFusion leaves them untyped; they are row counts.
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::Limit(limit) = node {
            for expr in [&limit.skip, &limit.fetch].into_iter().flatten() {
                if let Expr::Placeholder(p) = expr.as_ref() {
                    let index = p.id.strip_prefix('$').and_then(|n| n.parse::<usize>().ok());
                    if let Some(slot) = index.and_then(|i| types.get_mut(i.wrapping_sub(1))) {
                        slot.get_or_insert(DataType::Int64);
                    }
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(types)
}

/// The handlers of one connection.
pub struct Connection {
    pub(super) ctx: SessionContext,
    parser: Arc<Parser>,
    cancel: Arc<CancelFlag>,
    pub(super) limits: Limits,
    pub(super) cursors: Arc<Cursors>,
}

impl Connection {
    /// A connection running its statements in `ctx`, stopped by `cancel` and `limits`'
    /// statement timeout.
    pub fn new(ctx: SessionContext, cancel: Arc<CancelFlag>, limits: Limits) -> Self {
        let cursors = Arc::new(Cursors::default());
        let parser = Arc::new(Parser {
            ctx: ctx.clone(),
            files: limits.allow_files.clone(),
            cursors: cursors.clone(),
        });
        Connection {
            ctx,
            parser,
            cancel,
            limits,
            cursors,
        }
    }

    /// A guard for a query starting now.
    pub(super) fn guard(&self) -> Guard {
        self.cancel.guard(self.limits.statement_timeout)
    }

    /// `e` as a Postgres error (running out of memory is `53200`, its message naming the limit
    /// and its flag: [`jobsql_core::memory::pool`]).
    pub(super) fn error(&self, e: &DataFusionError) -> PgWireError {
        Self::error_within(e, &self.limits)
    }

    /// [`Connection::error`], where only the connection's `limits` are at hand. An operator
    /// that could spill (a grouping, a sort) answers the pool's refusal by trying to spill, and
    /// with no disk its error replaces the pool's, which named the limit: it is named again
    /// here, both limits, as which one refused is no longer known.
    pub(super) fn error_within(e: &DataFusionError, limits: &Limits) -> PgWireError {
        match e.find_root() {
            DataFusionError::ResourcesExhausted(message)
                if message.contains("(DiskManager is disabled)") =>
            {
                pg_error(&DataFusionError::ResourcesExhausted(format!(
                    "{message}: the statement is past the {} MB a statement may use \
                     (--memory-limit-mb) or the {} MB of all statements \
                     (--total-memory-limit-mb), and nothing spills to disk",
                    limits.memory_limit_bytes >> 20,
                    limits.total_memory_limit_bytes >> 20,
                )))
            }
            _ => pg_error(e),
        }
    }
}

#[async_trait]
impl ExtendedQueryHandler for Connection {
    type Statement = Prepared;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    /// `Execute` of a prepared plan without a row limit: its rows are sent as they are
    /// produced. (pgwire's default gathers all of a portal's rows before sending the first:
    /// a whole result in memory.) A row limit (a driver's fetch size: at most that many rows
    /// are held), a session command or a portal already started keep pgwire's default.
    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
        let portal = match client.portal_store().get_portal(name) {
            Some(Entry::Value(portal))
                if message.max_rows <= 0
                    && matches!(portal.statement.statement, Prepared::Plan { .. }) =>
            {
                portal
            }
            _ => return self._on_execute(client, message).await,
        };
        if !matches!(*portal.state().lock().await, PortalExecutionState::Initial) {
            return self._on_execute(client, message).await;
        }
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        client.set_state(PgWireConnectionState::QueryInProgress);
        let response = self.do_query(client, portal.as_ref(), 0).await;
        // Run once: a second Execute of this portal gets no rows, as with pgwire's default.
        *portal.state().lock().await = PortalExecutionState::Finished;
        match response? {
            Response::Query(rows) => send_query_response(client, rows, false).await?,
            Response::Execution(tag) => send_execution_response(client, tag).await?,
            // A plan is answered with rows or a tag only.
            _ => {}
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        Ok(())
    }

    /// A `Describe` of a portal named after an open cursor (psycopg 3 describes its named
    /// cursor so): the cursor's columns. Anything else as pgwire does.
    async fn on_describe<C>(&self, client: &mut C, message: Describe) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let (TARGET_TYPE_BYTE_PORTAL, Some(name)) = (message.target_type, &message.name) {
            if client.portal_store().get_portal(name).is_none() {
                if let Some(fields) = self.cursors.fields(name, None) {
                    let response = DescribePortalResponse::new(fields);
                    return send_describe_response(client, &response).await;
                }
            }
        }
        self._on_describe(client, message).await
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (plan, params) = match &portal.statement.statement {
            Prepared::Compat(c) => {
                self.cursors.after(c);
                return compat_response(c, &portal.result_column_format);
            }
            Prepared::Cursor(command) => {
                return self
                    .cursor_command(command, Some(&portal.result_column_format))
                    .await
            }
            Prepared::Declare {
                cursor,
                plan,
                params,
            } => {
                let plan = self.bound(portal, plan, params)?;
                let guard = self.guard();
                let start = self.start_plan(plan);
                return self
                    .declare(cursor, client.transaction_status(), &guard, start)
                    .await;
            }
            Prepared::Plan { plan, params } => (plan, params),
        };
        let plan = self.bound(portal, plan, params)?;
        let guard = self.guard();
        let (schema, stream) = guard.run(self.start_plan(plan)).await?;
        self.respond(&guard, schema, stream, &portal.result_column_format, None)
            .await
    }
}

impl Connection {
    /// `plan` with the values `portal` binds to its placeholders (typed as `params`).
    fn bound(
        &self,
        portal: &Portal<Prepared>,
        plan: &LogicalPlan,
        params: &[Option<DataType>],
    ) -> PgWireResult<LogicalPlan> {
        let client_types = &portal.statement.parameter_types;
        let mut values = Vec::with_capacity(portal.parameter_len());
        for i in 0..portal.parameter_len() {
            let inferred = params.get(i).and_then(|t| t.as_ref());
            let ty = client_types
                .get(i)
                .cloned()
                .flatten()
                .filter(|t| *t != Type::UNKNOWN)
                .unwrap_or_else(|| param_type(inferred));
            values.push(param_value(portal, i, &ty, inferred)?);
        }
        if values.is_empty() {
            return Ok(plan.clone());
        }
        plan.clone()
            .with_param_values(values)
            .map_err(|e| pg_error(&e))
    }

    /// Start a bound plan: checked, its rows not yet read.
    async fn start_plan(
        &self,
        plan: LogicalPlan,
    ) -> PgWireResult<(SchemaRef, SendableRecordBatchStream)> {
        let files = self.limits.allow_files.clone();
        let check = move |plan: &LogicalPlan| check_plan(plan, files.as_deref());
        stream_plan(&self.ctx, plan, &check)
            .await
            .map_err(|e| self.error(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grouping that tried to spill past the pool (no disk) is still a `53200` naming the
    /// limits and their flags, however DataFusion wrapped it.
    #[test]
    fn a_spill_with_no_disk_names_the_memory_limits() {
        let limits = Limits {
            memory_limit_bytes: 16 << 20,
            total_memory_limit_bytes: 128 << 20,
            ..Limits::default()
        };
        let spill = DataFusionError::Context(
            "aggregate".into(),
            Box::new(DataFusionError::ResourcesExhausted(
                "Memory Exhausted while SpillPool (DiskManager is disabled)".into(),
            )),
        );
        let PgWireError::UserError(info) = Connection::error_within(&spill, &limits) else {
            panic!("a user error");
        };
        assert_eq!(info.code, "53200");
        for part in [
            "16 MB",
            "--memory-limit-mb",
            "128 MB",
            "--total-memory-limit-mb",
        ] {
            assert!(info.message.contains(part), "{}", info.message);
        }
        // The pool's own refusal is passed on as it was.
        let pool = DataFusionError::ResourcesExhausted("x needs 1 MB more".into());
        let PgWireError::UserError(info) = Connection::error_within(&pool, &limits) else {
            panic!("a user error");
        };
        assert!(
            info.message.ends_with("x needs 1 MB more"),
            "{}",
            info.message
        );
        assert!(
            !info.message.contains("--total-memory-limit-mb"),
            "{}",
            info.message
        );
    }
}
