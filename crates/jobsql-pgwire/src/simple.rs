//! The simple query protocol (psql, scripts, `simple_query`), streamed statement by statement.
//!
//! pgwire's default `on_query` collects every statement's response before sending the first,
//! so jobsql answers `Query` itself: the statements of the query string run in order, each one
//! through [`jobsql_core::session::stream_statement_checked`] (its plan checked by
//! [`jobsql_core::frontend::settings::check_plan`]), and its rows go to the client as the batches come — a
//! large result is never held whole, and a slow client slows the scan instead of filling the
//! server's memory. The first error ends the query string (later statements do not run), as in
//! Postgres. One [`super::cancel::Guard`] covers the whole query string: a `CancelRequest` or
//! the statement timeout stops it, rows included. A query string that is one session command
//! (`SET application_name`, `BEGIN`, `SHOW search_path`, ...) is answered by
//! [`super::compat`]. Each statement is first rewritten by [`super::rewrite`]. A query string
//! that is one `COPY (query) TO STDOUT` is answered with the copy-out protocol
//! ([`super::copy_out`]).

use std::fmt::Debug;

use async_trait::async_trait;
use bytes::Bytes;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;
use futures::{Sink, SinkExt, StreamExt};
use pgwire::api::portal::Format;
use pgwire::api::query::{
    send_execution_response, send_query_response, send_ready_for_query, SimpleQueryHandler,
};
use pgwire::api::results::{Response, Tag};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::copy::{CopyData, CopyDone, CopyOutResponse};
use pgwire::messages::response::{EmptyQueryResponse, TransactionStatus};
use pgwire::messages::simplequery::Query;
use pgwire::messages::PgWireBackendMessage;

use super::cancel::Guard;
use super::command_tag::command_tag;
use super::compat;
use super::copy_out::{parse_copy_out, row_fields, CopyOut};
use super::cursor::{self, Command};
use super::handler::{pg_error, user_error, Connection};
use super::respond::compat_response;
use super::rewrite::rewrite;
use jobsql_core::frontend::settings::check_plan;
use jobsql_core::session::stream_statement_checked;
use jobsql_core::sql::{parse_script, Statement};

/// Send one response the way pgwire does, tracking the transaction status.
async fn send_response<C>(
    client: &mut C,
    response: Response,
    status: &mut TransactionStatus,
) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    match response {
        Response::EmptyQuery => {
            client
                .feed(PgWireBackendMessage::EmptyQueryResponse(
                    EmptyQueryResponse::new(),
                ))
                .await?
        }
        Response::Query(rows) => send_query_response(client, rows, true).await?,
        Response::Execution(tag) => send_execution_response(client, tag).await?,
        Response::TransactionStart(tag) => {
            send_execution_response(client, tag).await?;
            *status = status.to_in_transaction_state();
        }
        Response::TransactionEnd(tag) => {
            send_execution_response(client, tag).await?;
            *status = status.to_idle_state();
        }
        Response::Error(e) => {
            client
                .feed(PgWireBackendMessage::ErrorResponse((*e).into()))
                .await?
        }
        // Not produced by jobsql.
        Response::CopyIn(_) | Response::CopyOut(_) | Response::CopyBoth(_) => {}
    }
    Ok(())
}

impl Connection {
    /// Start one statement of a query string under `guard`: rewritten ([`super::rewrite`]),
    /// its plan checked ([`check_plan`]), its rows not yet read.
    pub(super) async fn start(
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

    /// Run the statements of `sql` in order, sending each result as it is produced.
    async fn run_script<C>(&self, client: &mut C, sql: &str, guard: &Guard) -> PgWireResult<()>
    where
        C: Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statements = parse_script(sql).map_err(|e| pg_error(&e))?;
        if statements.is_empty() {
            return send_execution_or_empty(client).await;
        }
        jobsql_core::write::guard::check_script(&self.ctx, &statements)
            .await
            .map_err(|e| self.error(&e))?;
        let mut status = TransactionStatus::Idle;
        for statement in statements {
            let verb = command_tag(&statement);
            let (schema, stream) = self.start(guard, statement).await?;
            let response = self
                .respond(guard, schema, stream, &Format::UnifiedText, Some(&verb))
                .await?;
            send_response(client, response, &mut status).await?;
        }
        Ok(())
    }
}

impl Connection {
    /// Answer `COPY (query) TO STDOUT` (see [`super::copy_out`]): the query's rows as copy data,
    /// streamed under `guard`.
    async fn copy_out<C>(&self, client: &mut C, copy: &CopyOut, guard: &Guard) -> PgWireResult<()>
    where
        C: Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut statements = parse_script(&copy.query).map_err(|e| pg_error(&e))?;
        let (Some(Statement::Sql(query)), None) = (statements.pop(), statements.pop()) else {
            return Err(user_error("42601", "COPY copies one query".to_string()));
        };
        let (schema, stream) = self.start(guard, Statement::Sql(query)).await?;
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let response = self
            .respond(guard, schema, stream, &Format::UnifiedText, None)
            .await?;
        let Response::Query(rows) = response else {
            return Err(user_error(
                "0A000",
                "COPY copies a query's rows".to_string(),
            ));
        };
        // pgwire's `send_copy_out_response` would count a header line as a row: the messages
        // are sent here, the tag counting rows only (`COPY 40`, as Postgres says).
        let formats = vec![0; names.len()];
        let start = CopyOutResponse::new(0, names.len() as i16, formats);
        client
            .send(PgWireBackendMessage::CopyOutResponse(start))
            .await?;
        if copy.header {
            let names: Vec<Option<&str>> = names.iter().map(|n| Some(n.as_str())).collect();
            let data = CopyData::new(Bytes::from(copy.line(&names)));
            client.feed(PgWireBackendMessage::CopyData(data)).await?;
        }
        let mut rows = rows.data_rows;
        let mut count = 0;
        while let Some(row) = rows.next().await {
            let fields = row_fields(&row?);
            let fields: Vec<Option<&str>> = fields.iter().map(|f| f.as_deref()).collect();
            let data = CopyData::new(Bytes::from(copy.line(&fields)));
            client.feed(PgWireBackendMessage::CopyData(data)).await?;
            count += 1;
        }
        client
            .send(PgWireBackendMessage::CopyDone(CopyDone::new()))
            .await?;
        let tag = Tag::new("COPY").with_rows(count);
        client
            .send(PgWireBackendMessage::CommandComplete(tag.into()))
            .await?;
        Ok(())
    }
}

impl Connection {
    /// Answer a cursor statement of the simple protocol (see [`super::cursors`]).
    async fn simple_cursor(
        &self,
        command: Command,
        status: TransactionStatus,
    ) -> PgWireResult<Response> {
        let Command::Declare(declare) = &command else {
            return self.cursor_command(&command, None).await;
        };
        let statement = super::cursors::check_query(&declare.query)?;
        let guard = self.guard();
        let start = self.start(&guard, statement);
        self.declare(declare, status, &guard, start).await
    }
}

async fn send_execution_or_empty<C>(client: &mut C) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    client
        .feed(PgWireBackendMessage::EmptyQueryResponse(
            EmptyQueryResponse::new(),
        ))
        .await?;
    Ok(())
}

#[async_trait]
impl SimpleQueryHandler for Connection {
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        client.set_state(PgWireConnectionState::QueryInProgress);
        let mut status = client.transaction_status();
        let sql = query.query;
        if let Some(command) = cursor::parse(&sql) {
            let response = self.simple_cursor(command?, status).await?;
            send_response(client, response, &mut status).await?;
        } else if let Some(copy) = parse_copy_out(&sql) {
            let copy = copy.map_err(|message| user_error("0A000", message))?;
            let guard = self.guard();
            self.copy_out(client, &copy, &guard).await?;
        } else if let Some(c) = compat::intercept(&sql) {
            self.cursors.after(&c);
            let response = compat_response(&c, &Format::UnifiedText)?;
            send_response(client, response, &mut status).await?;
        } else {
            let guard = self.guard();
            self.run_script(client, &sql, &guard).await?;
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        client.set_transaction_status(status);
        send_ready_for_query(client, status).await
    }

    async fn do_query<C>(&self, _client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // `on_query` does the work; this answers only what needs no statement.
        match compat::intercept(query) {
            Some(c) => Ok(vec![compat_response(&c, &Format::UnifiedText)?]),
            None => Err(PgWireError::NotReadyForQuery),
        }
    }
}
