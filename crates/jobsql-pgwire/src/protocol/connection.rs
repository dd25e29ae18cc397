//! One client connection's state and what both query protocols do with it: its own
//! `SessionContext`, its limits, its cancel flag, its open cursors and its `Parse` planner.
//!
//! Every `impl Connection` block is here. The protocols are trait implementations on it, each in
//! its file ([`crate::protocol::simple`], [`crate::protocol::extended`]), using what this file
//! offers and imported by nothing here: starting a statement (rewritten, its plan checked by
//! [`check_plan`], under a [`Guard`]: cancel, statement timeout), binding a prepared plan,
//! answering rows ([`crate::protocol::respond`]), session commands and cursor statements.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::results::Response;
use pgwire::api::Type;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::response::TransactionStatus;

use crate::catalog::rewrite::rewrite;
use crate::encode::params::{param_type, param_value};
use crate::protocol::cursor_statements::{CursorCommand, CursorError, Declare};
use crate::protocol::cursors::Cursors;
use crate::protocol::errors::{error_within, pg_error};
use crate::protocol::prepare::{Parser, Prepared};
use crate::protocol::respond::respond;
use crate::protocol::session_commands::SessionCommand;
use crate::server::cancel::{CancelFlag, Guard};
use crate::server::limits::Limits;
use jobsql_core::frontend::settings::check_plan;
use jobsql_core::session::{stream_plan, stream_statement_checked};
use jobsql_core::sql::Statement;

/// The handlers of one connection.
pub struct Connection {
    ctx: SessionContext,
    parser: Arc<Parser>,
    cancel: Arc<CancelFlag>,
    limits: Limits,
    cursors: Arc<Cursors>,
}

impl Connection {
    /// A connection running its statements in `ctx`, stopped by `cancel` and `limits`'
    /// statement timeout.
    pub fn new(ctx: SessionContext, cancel: Arc<CancelFlag>, limits: Limits) -> Self {
        let cursors = Arc::new(Cursors::default());
        let parser = Arc::new(Parser::new(
            ctx.clone(),
            limits.allow_files.clone(),
            cursors.clone(),
        ));
        Connection {
            ctx,
            parser,
            cancel,
            limits,
            cursors,
        }
    }

    /// The session statements run in.
    pub fn ctx(&self) -> &SessionContext {
        &self.ctx
    }

    /// The planner of `Parse`.
    pub fn parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    /// The open cursors.
    pub fn cursors(&self) -> &Cursors {
        &self.cursors
    }

    /// A guard for a query starting now.
    pub fn guard(&self) -> Guard {
        self.cancel.guard(self.limits.statement_timeout)
    }

    /// `e` as a Postgres error (running out of memory is `53200`, its message naming the limit
    /// and its flag: [`jobsql_core::memory::pool`]).
    pub fn error(&self, e: &DataFusionError) -> PgWireError {
        error_within(e, &self.limits)
    }

    /// Start one statement of a query string under `guard`: rewritten
    /// ([`crate::catalog::rewrite`]), its plan checked ([`check_plan`]), its rows not yet read.
    pub async fn start(
        &self,
        guard: &Guard,
        statement: Statement,
    ) -> PgWireResult<(SchemaRef, SendableRecordBatchStream)> {
        let statement = match statement {
            Statement::Sql(s) => Statement::Sql(Box::new(rewrite(*s))),
            exec => exec,
        };
        let ctx = self.ctx.clone();
        let files = self.limits.allow_files.clone();
        let check = move |plan: &_| check_plan(plan, files.as_deref());
        guard
            .run(async {
                stream_statement_checked(&ctx, statement, &check)
                    .await
                    .map_err(|e| self.error(&e))
            })
            .await
    }

    /// Start a bound plan: checked, its rows not yet read.
    pub async fn start_plan(
        &self,
        plan: LogicalPlan,
    ) -> PgWireResult<(SchemaRef, SendableRecordBatchStream)> {
        let files = self.limits.allow_files.clone();
        let check = move |plan: &LogicalPlan| check_plan(plan, files.as_deref());
        stream_plan(&self.ctx, plan, &check)
            .await
            .map_err(|e| self.error(&e))
    }

    /// `plan` with the values `portal` binds to its placeholders (typed as `params`).
    pub fn bound(
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

    /// Answer a started statement in `format`, under `guard` ([`respond`]).
    pub async fn respond(
        &self,
        guard: &Guard,
        schema: SchemaRef,
        stream: SendableRecordBatchStream,
        format: &Format,
        verb: Option<&str>,
    ) -> PgWireResult<Response> {
        respond(guard, schema, stream, format, verb, &self.limits).await
    }

    /// Answer session command `command` (`SHOW`'s row in `format`); `COMMIT` / `ROLLBACK` and
    /// `DISCARD` close cursors ([`Cursors::after`]).
    pub fn session_command(
        &self,
        command: &SessionCommand,
        format: &Format,
    ) -> PgWireResult<Response> {
        self.cursors.after(command);
        command.answer(format)
    }

    /// Open cursor `declare` over the statement `start` starts (under `guard`), in a session
    /// whose transaction is `status`.
    pub async fn declare(
        &self,
        declare: &Declare,
        status: TransactionStatus,
        guard: &Guard,
        start: impl std::future::Future<Output = PgWireResult<(SchemaRef, SendableRecordBatchStream)>>,
    ) -> PgWireResult<Response> {
        self.cursors.declare(declare, status, guard, start).await
    }

    /// Answer `FETCH` / `MOVE` / `CLOSE` (not `DECLARE`, which needs its statement started):
    /// rows in `format` (`None`: the cursor's own, text or binary), each `FETCH` under a guard
    /// of its own.
    pub async fn cursor_command(
        &self,
        command: &CursorCommand,
        format: Option<&Format>,
    ) -> PgWireResult<Response> {
        match command {
            CursorCommand::Declare(_) => {
                Err(CursorError::Unsupported("DECLARE needs its query started".into()).into())
            }
            CursorCommand::Close(name) => self.cursors.close_cursor(name.as_deref()),
            CursorCommand::Fetch(fetch) => {
                self.cursors
                    .fetch(fetch, format, self.guard(), &self.limits)
                    .await
            }
        }
    }
}
