//! `Parse` of the extended protocol (tokio-postgres, psycopg with parameters, JDBC): a
//! statement prepared once, executed per `Bind` / `Execute`.
//!
//! The query string is classified ([`crate::protocol::classify`]): a session command or a
//! cursor's `FETCH` / `MOVE` / `CLOSE` is kept to answer at `Execute`; a `DECLARE`'s query and
//! any other statement are planned with DataFusion (rewritten first as in the simple protocol,
//! [`crate::catalog::rewrite`]; placeholders `$1`, `$2`, ... get the types DataFusion infers,
//! [`crate::protocol::placeholders`], announced as Postgres types). `EXEC` is not DataFusion SQL
//! and needs the simple protocol. Every plan is checked by
//! [`jobsql_core::frontend::settings::check_plan`].

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use pgwire::api::portal::Format;
use pgwire::api::results::FieldInfo;
use pgwire::api::stmt::QueryParser;
use pgwire::api::{ClientInfo, Type};
use pgwire::error::PgWireResult;

use crate::catalog::rewrite::any::Untyped;
use crate::catalog::rewrite::rewrite_with_parameters;
use crate::encode::params::param_type;
use crate::encode::rows::fields;
use crate::protocol::classify::{classify, engine_script, Classified};
use crate::protocol::cursor_statements::{CursorCommand, Declare};
use crate::protocol::cursors::Cursors;
use crate::protocol::errors::{pg_error, user_error};
use crate::protocol::placeholders::placeholder_types;
use crate::protocol::session_commands::SessionCommand;
use jobsql_core::frontend::settings::check_plan;
use jobsql_core::sql::Statement;

/// A statement prepared by `Parse`.
#[derive(Debug, Clone)]
pub enum Prepared {
    /// Answered by the server itself.
    Session(SessionCommand),
    /// `FETCH`, `MOVE` or `CLOSE` of a cursor ([`crate::protocol::cursors`]).
    Cursor(CursorCommand),
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
            Prepared::Session(c) => c.schema(),
            Prepared::Plan { plan, .. } => jobsql_core::session::result_schema(plan),
            Prepared::Cursor(_) | Prepared::Declare { .. } => Arc::new(Schema::empty()),
        }
    }
}

/// Plans statements for the extended protocol.
pub struct Parser {
    ctx: SessionContext,
    files: Option<PathBuf>,
    cursors: Arc<Cursors>,
}

impl Parser {
    /// A parser planning in `ctx`, files allowed under `files`, cursors described from
    /// `cursors`.
    pub fn new(ctx: SessionContext, files: Option<PathBuf>, cursors: Arc<Cursors>) -> Self {
        Parser {
            ctx,
            files,
            cursors,
        }
    }

    /// `statements` (one, else DataFusion's error), planned and checked as in the simple
    /// protocol; its placeholders' types. `declared`: the types the client gave them.
    async fn plan(
        &self,
        mut statements: Vec<Statement>,
        declared: &[Option<Type>],
    ) -> PgWireResult<(LogicalPlan, Vec<Option<DataType>>)> {
        if statements.iter().any(|s| matches!(s, Statement::Exec(_))) {
            return Err(user_error(
                "0A000",
                "EXEC needs the simple query protocol (psql, or a driver's non-prepared \
                 execution such as tokio-postgres simple_query); it cannot be prepared"
                    .to_string(),
            ));
        }
        let statement = match (statements.pop(), statements.is_empty()) {
            (Some(Statement::Sql(s)), true) => *s,
            // As DataFusion answers a query string of no statement or of several.
            (None, _) => {
                return Err(pg_error(&DataFusionError::Plan(
                    "No SQL statements were provided in the query string".into(),
                )))
            }
            _ => {
                return Err(pg_error(&DataFusionError::NotImplemented(
                    "The context currently only supports a single SQL statement".into(),
                )))
            }
        };
        let state = self.ctx.state();
        let rewritten = |untyped| rewrite_with_parameters(statement.clone(), declared, untyped);
        let plan = match state.statement_to_plan(rewritten(Untyped::Leave)).await {
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
        let statements = match classify(sql) {
            Classified::Cursor(command) => {
                return Ok(Some(match command? {
                    CursorCommand::Declare(cursor) => {
                        let (plan, params) = self.plan(vec![cursor.query.clone()], types).await?;
                        Prepared::Declare {
                            cursor,
                            plan: Box::new(plan),
                            params,
                        }
                    }
                    command => Prepared::Cursor(command),
                }))
            }
            Classified::Session(c) => return Ok(Some(Prepared::Session(c))),
            // `COPY ... TO STDOUT` is the simple protocol's; here it is DataFusion's statement.
            Classified::CopyOut(_) => engine_script(sql),
            Classified::Script(statements) => statements,
        };
        let statements = statements.map_err(|e| pg_error(&e))?;
        let (plan, params) = self.plan(statements, types).await?;
        Ok(Some(Prepared::Plan {
            plan: Box::new(plan),
            params,
        }))
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        Ok(match stmt {
            Prepared::Session(_) | Prepared::Cursor(_) => Vec::new(),
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
        if let Prepared::Cursor(CursorCommand::Fetch(fetch)) = stmt {
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
