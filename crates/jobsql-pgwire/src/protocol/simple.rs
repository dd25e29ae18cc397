//! The simple query protocol (psql, scripts, `simple_query`), streamed statement by statement.
//!
//! pgwire's default `on_query` collects every statement's response before sending the first,
//! so jobsql answers `Query` itself: the statements of the query string run in order, each one
//! through [`jobsql_core::session::stream_statement_checked`] (its plan checked by
//! [`jobsql_core::frontend::settings::check_plan`]), and its rows go to the client as the batches come — a
//! large result is never held whole, and a slow client slows the scan instead of filling the
//! server's memory. The first error ends the query string (later statements do not run), as in
//! Postgres. One [`Guard`] covers the whole query string: a `CancelRequest` or
//! the statement timeout stops it, rows included. A query string that is one session command
//! (`SET application_name`, `BEGIN`, `SHOW search_path`, ...) is answered by
//! [`super::session_commands`]. Each statement is first rewritten by [`crate::catalog::rewrite`]. A query string
//! that is one `COPY (query) TO STDOUT` is answered with the copy-out protocol
//! ([`super::copy_out`]).

use std::fmt::Debug;

use async_trait::async_trait;
use bytes::Bytes;
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

use crate::encode::text_forms::row_fields;
use crate::protocol::classify::{classify, Classified};
use crate::protocol::command_tag::command_tag;
use crate::protocol::connection::Connection;
use crate::protocol::copy_out::CopyOut;
use crate::protocol::cursor_statements::CursorCommand;
use crate::protocol::errors::{pg_error, user_error};
use crate::protocol::query_statement::query_statement;
use crate::server::cancel::Guard;
use jobsql_core::sql::Statement;

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

/// Run `statements` in order on `conn`, sending each result as it is produced.
async fn run_script<C>(
    conn: &Connection,
    client: &mut C,
    statements: Vec<Statement>,
    guard: &Guard,
) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    if statements.is_empty() {
        return send_execution_or_empty(client).await;
    }
    jobsql_core::write::guard::check_script(conn.ctx(), &statements)
        .await
        .map_err(|e| conn.error(&e))?;
    let mut status = TransactionStatus::Idle;
    for statement in statements {
        let verb = command_tag(&statement);
        let (schema, stream) = conn.start(guard, statement).await?;
        let response = conn
            .respond(guard, schema, stream, &Format::UnifiedText, Some(&verb))
            .await?;
        send_response(client, response, &mut status).await?;
    }
    Ok(())
}

/// Answer `COPY (query) TO STDOUT` (see [`crate::protocol::copy_out`]) on `conn`: the query's
/// rows as copy data, streamed under `guard`.
async fn copy_out<C>(
    conn: &Connection,
    client: &mut C,
    copy: &CopyOut,
    guard: &Guard,
) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let query = query_statement(&copy.query).map_err(|e| pg_error(&e))?;
    let (schema, stream) = conn.start(guard, query).await?;
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let response = conn
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

/// Answer a cursor statement of the simple protocol on `conn` (see
/// [`crate::protocol::cursors`]).
async fn simple_cursor(
    conn: &Connection,
    command: CursorCommand,
    status: TransactionStatus,
) -> PgWireResult<Response> {
    let CursorCommand::Declare(declare) = &command else {
        return conn.cursor_command(&command, None).await;
    };
    let guard = conn.guard();
    let start = conn.start(&guard, declare.query.clone());
    conn.declare(declare, status, &guard, start).await
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
        match classify(&query.query) {
            Classified::Cursor(command) => {
                let response = simple_cursor(self, command?, status).await?;
                send_response(client, response, &mut status).await?;
            }
            Classified::CopyOut(copy) => {
                let copy = copy.map_err(|message| user_error("0A000", message))?;
                let guard = self.guard();
                copy_out(self, client, &copy, &guard).await?;
            }
            Classified::Session(c) => {
                let response = self.session_command(&c, &Format::UnifiedText)?;
                send_response(client, response, &mut status).await?;
            }
            Classified::Script(statements) => {
                let statements = statements.map_err(|e| pg_error(&e))?;
                let guard = self.guard();
                run_script(self, client, statements, &guard).await?;
            }
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
        match classify(query) {
            Classified::Session(c) => Ok(vec![c.answer(&Format::UnifiedText)?]),
            _ => Err(PgWireError::NotReadyForQuery),
        }
    }
}
